"""What the whole-scenario checks share: a finding is a key path and a message.

:mod:`flowsim.checks` and each lever's ``check`` yield findings;
:mod:`flowsim.scenario` turns them into issues that name the file.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Collection, Iterable, Iterator, Mapping
from datetime import date as Date
from typing import Any

__all__ = [
    "Aliases",
    "Finding",
    "check_date",
    "check_known",
    "check_window",
    "closest",
    "hint",
    "node_aliases",
]

Finding = tuple[tuple[str | int, ...], str]
# Other names an id goes by: a node's display name, its country's code.
Aliases = Mapping[str, Iterable[str]]


def hint(word: str, options: Iterable[str], aliases: Aliases | None = None) -> str:
    """A suggestion for a misspelt name: the closest option, or the options if few.
    An option is close if its id or one of its ``aliases`` is, whatever the case."""
    options = sorted(options)
    close = closest(word, options, aliases)
    if close is not None:
        return f"; did you mean '{close}'?"
    if 0 < len(options) <= 25:
        return f" (known: {', '.join(options)})"
    return ""


def closest(word: str, options: Iterable[str], aliases: Aliases | None = None) -> str | None:
    """The option whose id, or one of whose aliases, is closest to ``word``, or None."""
    spellings: dict[str, str] = {}  # a folded spelling -> the option it names
    options = sorted(options)
    for option in options:
        spellings.setdefault(_fold(option), option)
    for option in options:
        for alias in (aliases or {}).get(option, ()):
            spellings.setdefault(_fold(alias), option)
    close = difflib.get_close_matches(_fold(word), list(spellings), n=1, cutoff=0.6)
    return spellings[close[0]] if close else None


def _fold(text: str) -> str:
    """``United States``, ``united-states`` and ``UNITED_STATES`` alike."""
    return re.sub(r"[\s\-]+", "_", text.strip().casefold())


def node_aliases(nodes: Mapping[str, Any]) -> dict[str, list[str]]:
    """Each node's display name, and its jurisdiction where no other node has it: a
    user may write ``usa`` or ``United States`` for ``united_states``."""
    shared = Counter(_field(node, "jurisdiction") for node in nodes.values())
    aliases = {}
    for node_id, node in nodes.items():
        names = [_field(node, "name"), _field(node, "jurisdiction")]
        if shared[names[1]] > 1:
            names.pop()
        aliases[node_id] = [name for name in names if name]
    return aliases


def _field(node: Any, key: str) -> str:
    """A text field of a node, validated or still a table of a file."""
    value = node.get(key) if isinstance(node, Mapping) else getattr(node, key, None)
    return value if isinstance(value, str) else ""


def check_known(
    path: tuple[str | int, ...],
    name: str,
    known: Collection[str],
    message: str,
    aliases: Aliases | None = None,
) -> Iterator[Finding]:
    """``name`` one of ``known``; if not, ``message`` (``{}`` stands for the name), with
    a suggestion."""
    if name not in known:
        yield (path, message.format(name) + hint(name, known, aliases))


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
