"""The figures of a scenario, sweep or calibration file, and the notes that support them.

Each figure (a number or a date) carries a note: a comment on its line, or in the comment
lines directly above it. The note cites a row of the sources table (docs/sources.md); or
marks the figure as an assumption and says why; or marks it as fitted and names the
calibration file that fits it. A note that points up ("assumption, as above") must find a
reason there. :func:`unsupported_figures` finds the figures with no such note;
``flowsim validate --require-sources`` reports them (docs/sources.md, "How a figure is
noted").
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from flowsim.errors import Issue
from flowsim.sources import SourceRow, ids_in, sources_table

__all__ = [
    "DRAWING_KEYS",
    "SETTING_TABLES",
    "UnsupportedFigure",
    "unsupported_figures",
    "unsupported_figures_in",
]

# Tables whose figures are settings of the run, not figures of the world: the window
# studied, the model's resolution, the file's own description, a sweep's or a
# calibration's replications, seeds and budget. A check of the output (an [[expect]]
# rule) is not a parameter either.
SETTING_TABLES = ("meta", "calendar", "simulation", "expect", "sweep", "calibration", "method")
# Keys that only draw: a node's place on the report's map changes no figure of a run.
DRAWING_KEYS = frozenset({"lat", "lon"})

UNSUPPORTED = (
    "cites no row of the sources table, and is not marked as an assumption with its "
    "reason or as fitted by a calibration the note names"
)

_ASSUMPTION = re.compile(r"\bassum\w*", re.IGNORECASE)
_FITTED = re.compile(r"\bfitted\b", re.IGNORECASE)
# "not an assumption", "not fitted": a mark denied is no mark.
_DENIED = re.compile(r"\bnot\s+(?:an?\s+|be\s+)?(?:assum\w*|fitted)\b", re.IGNORECASE)
_CALIBRATION_FILE = re.compile(r"[\w./-]*\.calibration\.toml\b")
_POINTER = re.compile(r"\babove\b", re.IGNORECASE)
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*")
# Words that give no reason: a note made of these and its mark is bare.
_NOT_A_REASON = frozenset(
    (  # noqa: SIM905 (one string of words reads better than a list of 36)
        "a an the this that these it its is are was be as see also same here so too and or "
        "of above below before earlier previous previously note notes noted said likewise "
        "ditto tbd todo"
    ).split()
)
_TABLE = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(?:#(?P<comment>.*))?$")
_ASSIGNMENT = re.compile(r"^\s*(?P<key>[A-Za-z0-9_\-.\"']+)\s*=\s*(?P<value>.*)$")
_STRING = re.compile(r"\"(?:[^\"\\]|\\.)*\"|'[^']*'")


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


def _reason_words(note: str) -> int:
    """How many words the note says beyond its mark and words that point elsewhere."""
    return sum(
        w.lower() not in _NOT_A_REASON and not _ASSUMPTION.fullmatch(w) and w.lower() != "fitted"
        for w in _WORD.findall(note)
    )


# A note that points above says why in its own words too only if it says that much: "as
# on the routes above" points, "the rest, to informal traders (above)" says.
REASON_BESIDE_A_POINTER = 3


def _reasoned_assumption(note: str) -> bool:
    """An assumption that says why, in its own words rather than only by pointing up."""
    if not _ASSUMPTION.search(note):
        return False
    least = REASON_BESIDE_A_POINTER if _POINTER.search(note) else 1
    return _reason_words(note) >= least


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


def _fitted_keys(name: str, folder: Path) -> frozenset[str]:
    """The scenario keys that the calibration file ``name`` fits, found from ``folder``
    or a folder above it, or by its own name in ``folder``; none if there is no such
    file or it cannot be read."""
    places = [base / name for base in (folder, *folder.parents[:3])]
    for path in [*places, folder / Path(name).name]:
        if path.is_file():
            try:
                data = tomllib.loads(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
                return frozenset()
            entries = data.get("parameters", [])
            if not isinstance(entries, list):
                return frozenset()
            return frozenset(str(p["key"]) for p in entries if isinstance(p, dict) and "key" in p)
    return frozenset()


@dataclass
class _Scan:
    """What the notes read so far can lend to a note that points above."""

    known: Mapping[str, SourceRow]
    folder: Path | None
    comments: list[str] = field(default_factory=list)  # each block of comment lines
    reasoned_keys: set[str] = field(default_factory=set)  # keys with an own reason
    table_note: str = ""  # the comment above the current table's header, and on it
    table_reasoned: bool = False  # a figure of the current table has an own reason
    fitted: dict[str, frozenset[str]] = field(default_factory=dict)  # by calibration name

    def fits(self, note: str, table: str, key: str) -> bool:
        """Whether a calibration file the note names fits this figure (without a folder
        to find it in, naming one is enough)."""
        names = _CALIBRATION_FILE.findall(note)
        if self.folder is None or not names:
            return bool(names)
        path = f"{table}.{key}" if table else key
        for name in names:
            if name not in self.fitted:  # each calibration file is read once a scan
                self.fitted[name] = _fitted_keys(name, self.folder)
        return any(
            k == path or k.startswith(path + ".") for name in names for k in self.fitted[name]
        )

    def supports(self, note: str, table: str, key: str) -> bool:
        note = _DENIED.sub(" ", note)
        name = key.split(".")[-1]
        if _reasoned_assumption(note):
            self.reasoned_keys.add(name)
            self.table_reasoned = True
            return True
        if ids_in(note, self.known):
            return True
        if _FITTED.search(note):
            if self.fits(note, table, key):
                return True
            if _POINTER.search(note) and any(self.fits(c, table, key) for c in self.comments):
                return True
        if not (_ASSUMPTION.search(note) and _POINTER.search(note)):
            return False
        named = re.compile(rf"\b{re.escape(name)}\b")
        return (
            name in self.reasoned_keys
            or self.table_reasoned
            or _reasoned_assumption(self.table_note)
            or any(named.search(c) and _reasoned_assumption(c) for c in self.comments)
        )

    def supports_entry(self, key: str, value: str) -> bool:
        """An array entry's own ``source`` or ``assumption`` key, which supports all of
        its figures: a row cited, or an assumption with its reason, never a pointer."""
        note = f"assumption: {value}" if key == "assumption" else value
        return bool(ids_in(note, self.known) or _reasoned_assumption(_DENIED.sub(" ", note)))


def unsupported_figures(
    text: str, known: Mapping[str, SourceRow], folder: str | Path | None = None
) -> list[UnsupportedFigure]:
    """The figures of a scenario file's text that nothing supports.

    A figure is a value with a number or a date in it (a string's digits do not count).
    Its note is its own comment with the comment lines directly above it. The figure is
    supported when the note:

    - cites a row of ``known`` by its id;
    - marks it as an assumption and gives a reason in its own words;
    - marks it as fitted and names a calibration file whose ``[[parameters]]`` fit its
      key (found from ``folder``, the file's own folder, or one above it; with no folder
      naming the file is enough); or "fitted (above)", with such a file named earlier;
    - marks it as an assumption and points above ("as above"), and a reason is there:
      an earlier figure of the same key, or of the same table, with an assumption of its
      own that gives a reason; the note above the table's header, or on it, that does;
      or an earlier block of comment lines that names the key and gives such a reason. A
      note that points above borrows no reason from another that points above.

    Each figure carries its own note: a comment above a table, or over a group of figures
    apart from the line before them, supports none by itself. Settings of the run
    (``SETTING_TABLES``) and a node's map place (``DRAWING_KEYS``) are skipped.
    """
    scan = _Scan(known, Path(folder) if folder is not None else None)
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
    # are supported by that line's note, or by the note of the value as a whole.
    open_brackets, open_key, open_supported = 0, "", False
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith("#"):
            above.append(stripped[1:])
            continue
        comment = ""
        if open_brackets > 0:
            code, comment = _code_and_comment(line)
            open_brackets += _depth(code)
            note = " ".join([*above, comment])
            if (
                re.search(r"\d", _STRING.sub("", code))
                and not open_supported
                and not scan.supports(note, table, open_key)
            ):
                unsupported = UnsupportedFigure(number, table, open_key, code.strip())
                (entry if in_array_entry else found).append(unsupported)
            scan.comments.extend([" ".join(above), comment])
            above = []
            continue
        header = _TABLE.match(line)
        assignment = None if header else _ASSIGNMENT.match(line)
        if header:
            end_entry()
            table = header.group(1).replace('"', "").replace(" ", "")
            in_array_entry = stripped.startswith("[[")
            entry_supported = False
            comment = header.group("comment") or ""
            scan.table_note, scan.table_reasoned = " ".join([*above, comment]), False
        elif assignment and table.split(".")[0] not in SETTING_TABLES:
            code, comment = _code_and_comment(assignment.group("value"))
            key = assignment.group("key").strip("\"'")
            if in_array_entry and key in ("source", "assumption"):
                entry_supported = entry_supported or scan.supports_entry(key, code)
            figure = re.search(r"\d", _STRING.sub("", code))
            drawing = key.split(".")[-1] in DRAWING_KEYS
            noted = not drawing and scan.supports(" ".join([*above, comment]), table, key)
            if figure and not drawing and not noted:
                unsupported = UnsupportedFigure(number, table, key, code.strip())
                (entry if in_array_entry else found).append(unsupported)
            open_brackets = _depth(code)
            open_key, open_supported = key, noted or drawing
        elif assignment:  # a setting; a value over several lines is one too
            open_brackets = _depth(_code_and_comment(assignment.group("value"))[0])
            open_key, open_supported = assignment.group("key"), True
        scan.comments.extend([" ".join(above), comment])
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
        for figure in unsupported_figures(text, table, Path(file).parent):
            where = f"{figure.table}.{figure.key}" if figure.table else figure.key
            issues.append(
                Issue(
                    str(file),
                    f"line {figure.line}: {where}",
                    f"the figure {figure.value} {UNSUPPORTED}",
                )
            )
    return issues
