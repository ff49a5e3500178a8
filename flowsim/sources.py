"""The sources table (docs/sources.md) as data, and the rows a scenario's files cite.

A scenario cites a published figure by the id of its row (``VEN-TUR-MAY``), in a
comment or a ``sources`` line. :func:`cited_ids` finds those ids in the text of
its files, in the order they first appear; the report then shows each cited row
(figure, value, when and where it was published), so that a reader can check the
figure without the repository. The table ships with flowsim (``flowsim examples
copy`` writes it too).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from flowsim.errors import FlowsimError

__all__ = ["SourceRow", "citations_in", "cited_ids", "ids_in", "sources_table"]

# A row of one of the table's sections: | Id | Figure | Value | Published | Where |
_ROW = re.compile(r"^\| (?P<id>[A-Z]{3,5}(?:-[A-Z0-9]+)+) \|(?P<rest>.*)\|\s*$", re.MULTILINE)


@dataclass(frozen=True)
class SourceRow:
    id: str
    figure: str
    value: str
    published: str
    where: str


def parse_sources(text: str) -> dict[str, SourceRow]:
    """The rows of a sources table, by id; a row of the wrong width is skipped."""
    rows = {}
    for match in _ROW.finditer(text):
        cells = [c.strip() for c in match.group("rest").split(" | ")]
        if len(cells) == 4:
            rows[match.group("id")] = SourceRow(match.group("id"), *cells)
    return rows


@functools.cache
def sources_table() -> dict[str, SourceRow]:
    """The sources table shipped with flowsim; empty where it is not installed."""
    from flowsim.examples import SOURCES, example_files

    try:
        return parse_sources(example_files()[SOURCES].read_text(encoding="utf-8"))
    except (FlowsimError, KeyError, OSError):
        return {}


def ids_in(text: str, known: Mapping[str, SourceRow]) -> list[str]:
    """The ids of ``known`` rows that ``text`` names, in order, repeats included."""
    if not known:
        return []
    prefixes = sorted({i.split("-")[0] for i in known})
    pattern = re.compile(rf"\b(?:{'|'.join(prefixes)})(?:-[A-Z0-9]+)*\b")
    return [m for m in pattern.findall(text) if m in known]


def cited_ids(texts: Iterable[str], known: Mapping[str, SourceRow]) -> list[str]:
    """The ids of ``known`` rows that ``texts`` cite, in order of first appearance."""
    return list(dict.fromkeys(i for text in texts for i in ids_in(text, known)))


def citations_in(files: Iterable[str]) -> tuple[str, ...]:
    """The rows of the shipped table that these files cite; a file that cannot be read
    cites none."""
    texts = []
    for file in files:
        try:
            texts.append(Path(file).read_text(encoding="utf-8"))
        except OSError:
            continue
    return tuple(cited_ids(texts, sources_table()))
