"""What the whole-scenario checks share: a finding is a key path and a message.

:mod:`flowsim.checks` and each lever's ``check`` yield findings;
:mod:`flowsim.scenario` turns them into issues that name the file.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Iterable, Iterator
from datetime import date as Date
from typing import Any

__all__ = ["Finding", "check_date", "check_known", "check_window", "hint"]

Finding = tuple[tuple[str | int, ...], str]


def hint(word: str, options: Iterable[str]) -> str:
    """A suggestion for a misspelt name: the closest option, or the options if few."""
    options = sorted(options)
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    if close:
        return f"; did you mean '{close[0]}'?"
    if 0 < len(options) <= 25:
        return f" (known: {', '.join(options)})"
    return ""


def check_known(
    path: tuple[str | int, ...], name: str, known: Collection[str], message: str
) -> Iterator[Finding]:
    """``name`` one of ``known``; if not, ``message`` (``{}`` stands for the name), with
    a suggestion."""
    if name not in known:
        yield (path, message.format(name) + hint(name, known))


def check_date(s: Any, path: tuple[str | int, ...], when: Date | None) -> Iterator[Finding]:
    """A date inside the scenario's calendar."""
    if when is None:
        return
    if not s.calendar.start <= when <= s.calendar.end:
        yield (
            path,
            f"{when} is outside the calendar ({s.calendar.start} to {s.calendar.end})",
        )


def check_window(
    s: Any,
    prefix: tuple[str | int, ...],
    first: str,
    last: str,
    start: Date | None,
    end: Date | None,
) -> Iterator[Finding]:
    """Two dates inside the calendar, the second not before the first."""
    yield from check_date(s, (*prefix, first), start)
    yield from check_date(s, (*prefix, last), end)
    if start is not None and end is not None and end < start:
        yield ((*prefix, last), f"{end} is before {first} ({start})")
