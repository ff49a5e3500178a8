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

from flowsim.errors import FlowsimError, Issue

__all__ = [
    "SourceRow",
    "UnsupportedFigure",
    "citations_in",
    "cited_ids",
    "sources_table",
    "unsupported_figures",
    "unsupported_figures_in",
]

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


def _ids_in(text: str, known: Mapping[str, SourceRow]) -> list[str]:
    """The ids of ``known`` rows that ``text`` names, in order, repeats included."""
    if not known:
        return []
    prefixes = sorted({i.split("-")[0] for i in known})
    pattern = re.compile(rf"\b(?:{'|'.join(prefixes)})(?:-[A-Z0-9]+)*\b")
    return [m for m in pattern.findall(text) if m in known]


def cited_ids(texts: Iterable[str], known: Mapping[str, SourceRow]) -> list[str]:
    """The ids of ``known`` rows that ``texts`` cite, in order of first appearance."""
    return list(dict.fromkeys(i for text in texts for i in _ids_in(text, known)))


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


# --- figures with no support ------------------------------------------------------------

# Tables whose figures are settings of the run, not figures of the world: the window
# studied, the model's resolution, the file's own description, a sweep's or a
# calibration's replications, seeds and budget. A check of the output (an [[expect]]
# rule) is not a parameter either.
SETTING_TABLES = ("meta", "calendar", "simulation", "expect", "sweep", "calibration", "method")
# Keys that only draw: a node's place on the report's map changes no figure of a run.
DRAWING_KEYS = frozenset({"lat", "lon"})
# What marks a figure as supported, besides the id of a row: an assumption with its
# reason, or a figure fitted by a calibration the note names. A bare "assumption", or
# "as above" with nothing above to point at, supports nothing.
_ASSUMPTION = re.compile(r"\bassum\w*", re.IGNORECASE)
_FITTED = re.compile(r"\bfitted\b", re.IGNORECASE)
_CALIBRATION_FILE = re.compile(r"[\w./-]*\.calibration\.toml\b")
_POINTER = re.compile(r"\babove\b", re.IGNORECASE)
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*")
# Words that give no reason: a note made only of these and its mark is bare.
_NOT_A_REASON = frozenset(
    [
        "a",
        "an",
        "the",
        "this",
        "that",
        "these",
        "it",
        "is",
        "are",
        "as",
        "see",
        "also",
        "same",
        "here",
        "so",
        "too",
        "and",
        "above",
        "assumption",
        "assumptions",
        "assumed",
        "assume",
        "fitted",
    ]
)
_TABLE = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$")
_ASSIGNMENT = re.compile(r"^\s*(?P<key>[A-Za-z0-9_\-.\"']+)\s*=\s*(?P<value>.*)$")
_STRING = re.compile(r"\"(?:[^\"\\]|\\.)*\"|'[^']*'")


UNSUPPORTED = (
    "cites no row of the sources table, and is not marked as an assumption with its "
    "reason or as fitted by a calibration the note names"
)


def _gives_a_reason(note: str) -> bool:
    return any(w.lower() not in _NOT_A_REASON for w in _WORD.findall(note))


@dataclass(frozen=True)
class UnsupportedFigure:
    """A figure in a file that neither cites a row of the sources table nor is marked."""

    line: int
    table: str
    key: str
    value: str

    def __str__(self) -> str:
        where = f"{self.table}.{self.key}" if self.table else self.key
        return f"line {self.line}: {where} = {self.value} {UNSUPPORTED}"


def _code_and_comment(line: str) -> tuple[str, str]:
    """A TOML line split at its first ``#`` that is outside a string."""
    position = 0
    while True:
        hash_at = line.find("#", position)
        if hash_at < 0:
            return line, ""
        match = next((m for m in _STRING.finditer(line) if m.start() < hash_at < m.end()), None)
        if match is None:
            return line[:hash_at], line[hash_at + 1 :]
        position = match.end()


def _depth(code: str) -> int:
    """How many brackets a line of TOML opens, less those it closes, outside strings."""
    bare = _STRING.sub("", code)
    return bare.count("[") + bare.count("{") - bare.count("]") - bare.count("}")


def unsupported_figures(text: str, known: Mapping[str, SourceRow]) -> list[UnsupportedFigure]:
    """The figures of a scenario file's text that nothing supports.

    A figure is a value with a number or a date in it (a string's digits do not count).
    It is supported when its note, its own comment with the comment lines directly above
    it, cites a row of ``known`` by its id; or marks it as an assumption and gives a
    reason; or marks it as fitted and names the calibration file that fits it. A note
    that points up ("assumption, as above") is supported when the reason is there: an
    earlier figure of the same key that was supported, an earlier comment that names
    the key, or the note above the figure's table (for "fitted", an earlier comment
    that names a calibration file). Each figure carries its own note: a
    comment above a table, or over a group of figures apart from the line before them,
    supports none. Settings of the run (``SETTING_TABLES``) and a node's map place
    (``DRAWING_KEYS``) are not figures of the world and are skipped.
    """
    comments: list[str] = []  # every comment so far, for notes that point above
    table_note = ""  # the comment lines directly above the current table's header
    reasoned_in_table = False  # whether a figure of the current table has a reason
    supported_keys: set[str] = set()

    def reasoned(note: str) -> bool:
        return bool(
            _ids_in(note, known)
            or (_ASSUMPTION.search(note) and _gives_a_reason(note))
            or (_FITTED.search(note) and _CALIBRATION_FILE.search(note))
        )

    def supports(note: str, key: str) -> bool:
        name = key.split(".")[-1]
        supported = reasoned(note)
        if not supported and _POINTER.search(note) and _ASSUMPTION.search(note):
            named = re.compile(rf"\b{re.escape(name)}\b")
            supported = (
                name in supported_keys
                or any(named.search(c) for c in comments)
                or reasoned(table_note)
                or reasoned_in_table
            )
        elif not supported and _POINTER.search(note) and _FITTED.search(note):
            supported = any(_CALIBRATION_FILE.search(c) for c in comments)
        if supported:
            supported_keys.add(name)
        return supported

    def note_of(note: str, key: str) -> bool:
        nonlocal reasoned_in_table
        supported = supports(note, key)
        reasoned_in_table = reasoned_in_table or (supported and reasoned(note))
        return supported

    found: list[UnsupportedFigure] = []
    # An entry of an array of tables (a calibration's [[parameters]] and [[targets]])
    # may carry its support as a key of its own, `source` or `assumption`, for all of
    # its figures.
    entry: list[UnsupportedFigure] = []
    entry_supported = False

    def end_entry() -> None:
        if not entry_supported:
            found.extend(entry)
        entry.clear()

    table = ""
    in_array_entry = False
    above: list[str] = []  # the comment lines directly above the current line
    # A value over several lines (an array, an inline table): each further line's figures
    # are supported by that line's comment, or by the note of the value as a whole.
    open_brackets, open_key, open_supported = 0, "", False
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith("#"):
            above.append(stripped[1:])
            continue
        if open_brackets > 0:
            code, comment = _code_and_comment(line)
            open_brackets += _depth(code)
            bare = _STRING.sub("", code)
            if re.search(r"\d", bare) and not open_supported and not note_of(comment, open_key):
                unsupported = UnsupportedFigure(number, table, open_key, code.strip())
                (entry if in_array_entry else found).append(unsupported)
            comments.extend([*above, comment])
            above = []
            continue
        header = _TABLE.match(line)
        assignment = None if header else _ASSIGNMENT.match(line)
        comment = ""
        if header:
            end_entry()
            table_note, reasoned_in_table = " ".join(above), False
            table = header.group(1).replace('"', "").replace(" ", "")
            in_array_entry = stripped.startswith("[[")
            entry_supported = False
        elif assignment and table.split(".")[0] not in SETTING_TABLES:
            code, comment = _code_and_comment(assignment.group("value"))
            key = assignment.group("key").strip("\"'")
            if in_array_entry and key in ("source", "assumption"):
                note = f"assumption: {code}" if key == "assumption" else code
                entry_supported = entry_supported or supports(note, key)
            figure = re.search(r"\d", _STRING.sub("", code))
            drawing = key.split(".")[-1] in DRAWING_KEYS
            noted = not drawing and note_of(" ".join([*above, comment]), key)
            if figure and not drawing and not noted:
                unsupported = UnsupportedFigure(number, table, key, code.strip())
                (entry if in_array_entry else found).append(unsupported)
            open_brackets = _depth(code)
            open_key, open_supported = key, noted or drawing
        elif assignment:  # a setting; a value over several lines is one too
            open_brackets = _depth(_code_and_comment(assignment.group("value"))[0])
            open_key, open_supported = assignment.group("key"), True
        comments.extend([*above, comment])
        above = []
    end_entry()
    return found


def unsupported_figures_in(files: Iterable[str]) -> list[Issue]:
    """Each figure of these files that nothing supports, as an issue naming its file,
    line and key (``flowsim validate --require-sources``)."""
    table = sources_table()
    issues = []
    for file in files:
        try:
            text = Path(file).read_text(encoding="utf-8")
        except OSError as exc:
            issues.append(Issue(str(file), "", f"cannot be read: {exc.strerror}"))
            continue
        for figure in unsupported_figures(text, table):
            where = f"{figure.table}.{figure.key}" if figure.table else figure.key
            issues.append(
                Issue(
                    str(file),
                    f"line {figure.line}: {where}",
                    f"the figure {figure.value} {UNSUPPORTED}",
                )
            )
    return issues
