"""The records of a sweep folder: ``design.json``, ``manifest.jsonl``, and the one
schema of its Parquet files.

``design.json`` is the folder's signature: flowsim's format marker, the flowsim
version, the sweep's fingerprint, its parameters' columns and its runs.
``manifest.jsonl`` has one line per finished run (its part's size, SHA-256 and row
count) and, once the sweep is compacted, one for ``sweep.parquet``. Every part and
``sweep.parquet`` have the schema :func:`part_schema` makes from the design.
Reading them here verifies their shape; :mod:`flowsim.sweepfolder` writes them.
"""

from __future__ import annotations

import functools
import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from flowsim._version import __version__
from flowsim.errors import FlowsimError
from flowsim.folders import FileRecord, check_path, parse_record
from flowsim.parquet import METADATA_KEY, metric_unit, sql_name

if TYPE_CHECKING:
    import pyarrow as pa

    from flowsim.sweep import RunSpec

__all__ = [
    "Log",
    "LogLine",
    "parameter_columns",
    "part_name",
    "part_schema",
    "part_table",
    "read_design",
    "read_log",
]

SWEEP_FORMAT = "flowsim-sweep"
# 3: one schema for every part, SQL-safe parameter columns, a unit column, metadata in
# every file, and sweep.parquet.
SWEEP_FORMAT_VERSION = 3
DESIGN = "design.json"
LOG = "manifest.jsonl"
PARTS = "parts"
COMPACT = "sweep.parquet"
PART_KEY = METADATA_KEY  # the key of a part's own Parquet metadata
# The columns of every part around the parameters', with their types and units.
LEADING_COLUMNS = {
    "run": ("int64", None),
    "scenario": ("string", None),
    "point": ("int64", None),
    "replication": ("int64", None),
    "seed": ("int64", None),
}
TRAILING_COLUMNS = {
    "metric": ("string", None),
    "value": ("double", "the row's unit"),
    "unit": ("string", None),
}
# Every column of a sweep's table that is not a swept parameter.
TABLE_COLUMNS = frozenset({*LEADING_COLUMNS, *TRAILING_COLUMNS})
# What a parameter's values are stored as; "json" is text: the value as JSON.
PARAMETER_TYPES = ("double", "string", "bool", "json")
PART_FILE = re.compile(r"^run-(?P<run>\d{7})\.parquet$")
PART_TMP = re.compile(r"^\.run-\d{7}\.parquet\.tmp-\d+$")
HIDDEN_TMP = re.compile(
    rf"^\.({re.escape(DESIGN)}|{re.escape(LOG)}|{re.escape(COMPACT)})\.tmp-\d+$"
)


def part_name(run: int) -> str:
    return f"run-{run:07d}.parquet"


@dataclass(frozen=True)
class LogLine:
    """One verified line of ``manifest.jsonl``."""

    run: int
    record: FileRecord
    rows: int


@dataclass(frozen=True)
class CompactLine:
    """The verified record of ``sweep.parquet``: every run's rows in one file."""

    record: FileRecord
    rows: int
    runs: int


@dataclass
class Log:
    """What ``manifest.jsonl`` records: each run's last valid line, the compacted
    file's record if there is one, and the lines that are not valid records."""

    lines: dict[int, LogLine]
    compacted: CompactLine | None
    problems: list[str]


def part_schema(design: Mapping[str, Any]) -> pa.Schema:
    """The one schema of every part of a sweep, and of its ``sweep.parquet``."""
    import pyarrow as pa

    types = {
        "int64": pa.int64(),
        "double": pa.float64(),
        "string": pa.string(),
        "bool": pa.bool_(),
        "json": pa.string(),
    }
    fields = [pa.field(name, types[kind]) for name, (kind, _) in LEADING_COLUMNS.items()]
    columns = design.get("columns", {})
    for name in design.get("parameters", []):  # a list keeps its order in design.json
        fields.append(pa.field(columns[name]["column"], types[columns[name]["type"]]))
    fields += [pa.field(name, types[kind]) for name, (kind, _) in TRAILING_COLUMNS.items()]
    return pa.schema(fields)


def column_notes(design: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Each column's entry in a file's metadata: the name it stands for, its unit."""
    notes = {name: {"unit": unit} for name, (_, unit) in LEADING_COLUMNS.items()}
    for name, spec in design.get("columns", {}).items():
        notes[spec["column"]] = {"parameter": name, "type": spec["type"], "unit": None}
    notes |= {name: {"unit": unit} for name, (_, unit) in TRAILING_COLUMNS.items()}
    return notes


def log_line(line: LogLine, extra: Mapping[str, Any]) -> str:
    return json.dumps(
        {
            "run": line.run,
            "part": part_name(line.run),
            **line.record.as_json(),
            "rows": line.rows,
            "flowsim_version": __version__,
            **extra,
        },
        allow_nan=False,
    )


# --- reading ----------------------------------------------------------------------------


def folder_entries(out: Path) -> list[str]:
    try:
        return sorted(p.name for p in out.iterdir()) if out.is_dir() else []
    except OSError as exc:
        raise FlowsimError(f"cannot read the sweep folder {out}: {exc.strerror or exc}") from None


def read_design(out: Path, *, legacy_ok: bool = False) -> dict[str, Any]:
    """The design of a sweep folder, once it shows flowsim's sweep signature."""
    check_path(out, "cannot read the sweep folder")
    path = out / DESIGN
    if path.is_symlink() or not path.is_file():
        raise FlowsimError(f"{out}: not a flowsim sweep folder (no {DESIGN})")
    try:
        design = json.loads(path.read_bytes())
    except (OSError, ValueError, RecursionError) as exc:
        raise FlowsimError(f"{path}: not a flowsim sweep design ({exc})") from None
    if not isinstance(design, dict):
        raise FlowsimError(f"{path}: not a flowsim sweep design (not a JSON object)")
    signed = design.get("format") == SWEEP_FORMAT
    legacy = (
        "format" not in design
        and isinstance(design.get("fingerprint"), str)
        and isinstance(design.get("runs"), list)
        and isinstance(design.get("sweep"), dict)
    )
    if not signed and not legacy:
        raise FlowsimError(
            f"{path}: this design.json was not written by flowsim (it has no flowsim sweep "
            "signature)"
        )
    if legacy and not legacy_ok:
        raise FlowsimError(
            f"{out}: written by an older flowsim in a format that this one does not read; "
            "start it again with --overwrite"
        )
    _check_design(path, design)
    if signed and design.get("format_version") != SWEEP_FORMAT_VERSION:
        raise FlowsimError(
            f"{path}: sweep format {design.get('format_version')!r} is not "
            f"{SWEEP_FORMAT_VERSION}, the format this flowsim reads"
        )
    return design


def _check_design(path: Path, design: dict[str, Any]) -> None:
    """The keys a sweep folder's readers use, with their types."""
    if not isinstance(design.get("fingerprint"), str):
        raise FlowsimError(f"{path}: fingerprint: missing or not a string")
    runs = design.get("runs")
    if not isinstance(runs, list):
        raise FlowsimError(f"{path}: runs: missing or not a list")
    for k, run in enumerate(runs):
        if not isinstance(run, dict) or run.get("run") != k:
            raise FlowsimError(f"{path}: runs[{k}]: not the record of run {k}")
        for key, kind in (("scenario", str), ("point", int), ("replication", int)):
            if not isinstance(run.get(key), kind) or isinstance(run.get(key), bool):
                raise FlowsimError(f"{path}: runs[{k}].{key}: missing or not a {kind.__name__}")
    parameters = design.get("parameters", [])
    if not isinstance(parameters, list) or not all(isinstance(p, str) for p in parameters):
        raise FlowsimError(f"{path}: parameters: not a list of parameter names")
    columns = design.get("columns")
    if not isinstance(columns, dict) or set(columns) != set(parameters):
        raise FlowsimError(f"{path}: columns: missing, or not one entry for each parameter")
    for name, spec in columns.items():
        if (
            not isinstance(spec, dict)
            or not isinstance(spec.get("column"), str)
            or spec.get("type") not in PARAMETER_TYPES
        ):
            raise FlowsimError(
                f"{path}: columns.{name}: not a column name with a type among "
                f"{', '.join(PARAMETER_TYPES)}"
            )


def read_log(out: Path, runs: int) -> Log:
    """The valid lines of ``manifest.jsonl`` by run (the last wins), the record of
    ``sweep.parquet`` (the last wins), and the problems."""
    path = out / LOG
    log = Log({}, None, [])
    if path.is_symlink() or not path.is_file():
        return log
    try:
        text = path.read_bytes()
    except OSError as exc:
        raise FlowsimError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    raw_lines = text.split(b"\n")
    for number, raw in enumerate(raw_lines, start=1):
        if not raw.strip():
            continue
        line = _parse_line(raw, runs)
        if line is None:
            if number == len(raw_lines):  # a kill cut the last line short: it never counted
                continue
            log.problems.append(f"line {number} of {LOG} is not a valid record")
        elif isinstance(line, CompactLine):
            log.compacted = line
        else:
            log.lines[line.run] = line
    return log


def _parse_line(raw: bytes, runs: int) -> LogLine | CompactLine | None:
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or data.get("flowsim_version") != __version__:
        return None
    rows = data.get("rows")
    if isinstance(rows, bool) or not isinstance(rows, int) or rows < 0:
        return None
    record = parse_record(data)
    if record is None:
        return None
    if "compacted" in data:
        count = data.get("runs")
        if data["compacted"] != COMPACT or isinstance(count, bool) or not isinstance(count, int):
            return None
        return CompactLine(record, rows, count)
    run = data.get("run")
    if isinstance(run, bool) or not isinstance(run, int) or not 0 <= run < runs:
        return None
    if data.get("part") != part_name(run):
        return None
    return LogLine(run, record, rows)


def reopen_log(out: Path) -> None:
    """Drop a last line that a kill cut short, so that the next line stands alone."""
    path = out / LOG
    if not path.is_file() or not path.stat().st_size:
        return
    data = path.read_bytes()
    if data.endswith(b"\n"):
        return
    end = data.rfind(b"\n") + 1
    with open(path, "r+b") as f:
        f.truncate(end)
        f.flush()
        os.fsync(f.fileno())


# --- the rows of a part -------------------------------------------------------------


def part_table(spec: RunSpec, result: dict[str, Any], columns: dict[str, Any]) -> pa.Table:
    """One run's rows as Arrow, each parameter in the type its column has in every part."""
    import pyarrow as pa

    types = {"double": pa.float64(), "string": pa.string(), "bool": pa.bool_()}
    n = len(result["metric"])
    data: dict[str, Any] = {
        "run": pa.array(np.full(n, spec.run, dtype=np.int64)),
        "scenario": pa.array([spec.scenario] * n, pa.string()),
        "point": pa.array(np.full(n, spec.point, dtype=np.int64)),
        "replication": pa.array(np.full(n, spec.replication, dtype=np.int64)),
        "seed": pa.array(np.full(n, spec.seed, dtype=np.int64)),
    }
    for name, column in columns.items():
        value = spec.params.get(name)
        if value is not None and column["type"] == "json":
            value = json.dumps(value, sort_keys=True, default=str)
        data[column["column"]] = pa.array([value] * n, types.get(column["type"], pa.string()))
    data["metric"] = pa.array(result["metric"], pa.string())
    data["value"] = pa.array(np.asarray(result["value"], dtype=float))
    data["unit"] = pa.array([_unit(m) for m in result["metric"]], pa.string())
    return pa.table(data)


@functools.lru_cache(maxsize=4096)
def _unit(metric: str) -> str:
    return metric_unit(metric)


def parameter_columns(parameters: Iterable[str], runs: list[RunSpec]) -> dict[str, dict[str, str]]:
    """Each swept parameter's column: its SQL-safe name and the one type its values
    take in the runs (``double`` for numbers, ``string``, ``bool``, or ``json`` for
    lists, tables and dates, stored as their JSON text); ``double`` if no run sets it."""
    columns = {}
    for name in parameters:
        kinds = {_kind(r.params[name]) for r in runs if name in r.params}
        if len(kinds) > 1:
            raise FlowsimError(
                f"parameter '{name}' takes {' and '.join(sorted(kinds))} values in the design: "
                "a parameter's values share one type (its column has one type in every reader)"
            )
        columns[name] = {"column": sql_name(name), "type": kinds.pop() if kinds else "double"}
    return columns


def check_one_kind(name: str, spec: Any) -> None:
    """A list of values of one kind: numbers, text, booleans, or JSON values."""
    choices = spec if isinstance(spec, list) else getattr(spec, "values", None)
    kinds = {_kind(v) for v in choices or ()}
    if len(kinds) > 1:
        raise ValueError(
            f"parameter '{name}' mixes {' and '.join(sorted(kinds))} values: a parameter's "
            "values share one type (its column has one type in every reader)"
        )


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "double"
    if isinstance(value, str):
        return "string"
    return "json"
