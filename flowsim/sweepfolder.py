"""The sweep folder: a design, one Parquet part a run, and a log that lists them.

``design.json`` is the folder's signature: flowsim's format marker, the
flowsim version, the sweep's fingerprint and its runs. Each finished run is
written as ``parts/run-NNNNNNN.parquet`` (through a temporary file, synced,
then renamed) and only then recorded as one line of ``manifest.jsonl`` with
the part's size, SHA-256 and row count. Each part also carries the sweep's
fingerprint and its run number in its Parquet metadata.

Nothing is read back unverified: a line that is not a valid record, or a part
that is missing, truncated or changed, means that run is not finished (with a
warning on ``--resume``, which runs it again; an error in :func:`load_sweep`).
Starting a sweep again (``--overwrite``) removes only what the sweep wrote.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import stat
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from flowsim._version import __version__
from flowsim.errors import FlowsimError, FlowsimWarning
from flowsim.folders import (
    FileRecord,
    atomic_write_bytes,
    bytes_record,
    check_path,
    parse_record,
)

__all__ = ["SweepFolder", "load_sweep", "part_name"]

SWEEP_FORMAT = "flowsim-sweep"
SWEEP_FORMAT_VERSION = 2
DESIGN = "design.json"
LOG = "manifest.jsonl"
PARTS = "parts"
PART_KEY = b"flowsim"  # the key of a part's own Parquet metadata
# Columns of every part; the swept parameters follow ``seed``.
PART_COLUMNS = {"run": "int", "scenario": "text", "point": "int", "replication": "int"}
_PART = re.compile(r"^run-(?P<run>\d{7})\.parquet$")
_PART_TMP = re.compile(r"^\.run-\d{7}\.parquet\.tmp-\d+$")
_HIDDEN_TMP = re.compile(rf"^\.({re.escape(DESIGN)}|{re.escape(LOG)})\.tmp-\d+$")


def part_name(run: int) -> str:
    return f"run-{run:07d}.parquet"


@dataclass(frozen=True)
class LogLine:
    """One verified line of ``manifest.jsonl``."""

    run: int
    record: FileRecord
    rows: int


class SweepFolder:
    """An open sweep folder: where parts go and what is finished."""

    def __init__(self, out: Path, design: Mapping[str, Any]):
        self.out = out
        self.parts = out / PARTS
        self.design = design
        self.fingerprint = str(design["fingerprint"])
        self.runs = len(design["runs"])

    # --- opening ------------------------------------------------------------------

    @classmethod
    def open(
        cls, out: Path, design: dict[str, Any], *, resume: bool, overwrite: bool
    ) -> SweepFolder:
        """Create the folder, continue it (``resume``), or start it again
        (``overwrite``), after the checks that keep what flowsim did not write."""
        if overwrite and resume:
            raise FlowsimError("--overwrite and --resume contradict each other; choose one")
        check_path(out, "cannot write the sweep to")
        if out.is_symlink():
            raise FlowsimError(f"cannot write the sweep to {out}: it is a symbolic link")
        if out.exists() and not out.is_dir():
            raise FlowsimError(f"cannot write the sweep to {out}: it exists and is not a folder")
        design = {
            "format": SWEEP_FORMAT,
            "format_version": SWEEP_FORMAT_VERSION,
            "flowsim_version": __version__,
            **design,
        }
        entries = _entries(out)
        if entries and overwrite:
            _remove_sweep(out, read_design(out, legacy_ok=True))
            entries = []
        if entries:
            if not resume:
                raise FlowsimError(
                    f"{out} is not empty: pass --resume to continue that sweep, or --overwrite "
                    "to start it again"
                )
            stored = read_design(out)
            if stored.get("flowsim_version") != __version__:
                raise FlowsimError(
                    f"{out} was started by flowsim {stored.get('flowsim_version')}, and this is "
                    f"flowsim {__version__}, whose results may differ: finish it with flowsim "
                    f"{stored.get('flowsim_version')}, or start it again with --overwrite"
                )
            if stored.get("fingerprint") != design["fingerprint"]:
                raise FlowsimError(
                    f"{out} holds a different sweep (its runs or its scenario files changed): "
                    "choose another --out, or start it again with --overwrite"
                )
            _check_own_entries(out)
            folder = cls(out, stored)
            folder._clean_temporary()
            return folder
        try:
            (out / PARTS).mkdir(parents=True, exist_ok=True)
            text = json.dumps(design, sort_keys=True, default=str, allow_nan=False)
            atomic_write_bytes(out / DESIGN, text.encode())
        except OSError as exc:
            raise FlowsimError(f"cannot write the sweep to {out}: {exc.strerror or exc}") from None
        return cls(out, design)

    def _clean_temporary(self) -> None:
        """Remove the half-written parts a killed sweep left; none is taken for a part."""
        with contextlib.suppress(OSError):
            for path in self.parts.iterdir():
                if _PART_TMP.match(path.name):
                    with contextlib.suppress(OSError):
                        path.unlink()

    # --- what is finished --------------------------------------------------------------

    def finished(self, *, check_parts: bool = True) -> dict[int, LogLine]:
        """Runs recorded by a valid line whose part is whole (the last line of a run
        counts). Lines and parts that fail are reported as a warning, once."""
        lines, problems = read_log(self.out, self.runs)
        if not check_parts:
            return lines
        done = {}
        for run, line in lines.items():
            problem = self._part_problem(line)
            if problem is None:
                done[run] = line
            else:
                problems.append(f"run {run}: {problem}")
        if problems:
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            warnings.warn(
                f"{self.out}: {problems[0]}{more}; those runs will be run again",
                SweepWarning,
                stacklevel=2,
            )
        return done

    def _part_problem(self, line: LogLine) -> str | None:
        path = self.parts / part_name(line.run)
        if not (path.is_symlink() or path.exists()):
            return f"its part {path.name} is missing"
        if path.is_symlink() or not path.is_file():
            raise FlowsimError(
                f"{path}: not a part flowsim wrote (a folder, a link or a device stands in its "
                "place); move it away, then --resume"
            )
        size = path.stat().st_size
        if size != line.record.bytes:
            return f"its part {path.name} has {size} bytes, not the {line.record.bytes} written"
        try:
            data = path.read_bytes()
        except OSError as exc:
            return f"its part {path.name} cannot be read ({exc.strerror})"
        if bytes_record(data).sha256 != line.record.sha256:
            return f"its part {path.name} changed since it was written (checksum)"
        if part_rows(data) != line.rows:
            return f"its line records {line.rows} rows, but its part holds {part_rows(data)}"
        return None

    # --- writing --------------------------------------------------------------------

    def write_part(self, run: int, table: pd.DataFrame) -> LogLine:
        """Write one run's rows as its part; return what its log line records."""
        data = part_bytes(table, {"fingerprint": self.fingerprint, "run": run})
        atomic_write_bytes(self.parts / part_name(run), data)
        return LogLine(run, bytes_record(data), len(table))


class SweepWarning(FlowsimWarning):
    """A sweep folder held a run that cannot be trusted; it is run again."""


def part_bytes(table: pd.DataFrame, identity: Mapping[str, Any]) -> bytes:
    """A part as Parquet bytes, with flowsim's identity in its metadata."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    arrow = pa.Table.from_pandas(table, preserve_index=False)
    metadata = dict(arrow.schema.metadata or {})
    metadata[PART_KEY] = json.dumps(
        {"format": SWEEP_FORMAT, "flowsim_version": __version__, **identity}
    ).encode()
    arrow = arrow.replace_schema_metadata(metadata)
    buffer = io.BytesIO()
    pq.write_table(arrow, buffer)
    return buffer.getvalue()


def part_rows(data: bytes) -> int | None:
    """The number of rows a part's Parquet footer records; None if it has none."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        return pq.read_metadata(pa.BufferReader(data)).num_rows
    except Exception:  # pyarrow raises several kinds for bytes that are not Parquet
        return None


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


def _entries(out: Path) -> list[str]:
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


def _check_own_entries(out: Path) -> None:
    """What --resume writes to must be the sweep's own: no link or special file stands in
    for its log or its parts folder (it would write through it, to someone else's file)."""
    for name, want in ((LOG, "file"), (PARTS, "folder"), (DESIGN, "file")):
        path = out / name
        if not (path.is_symlink() or path.exists()):
            continue
        info = path.lstat()
        kind_ok = stat.S_ISDIR(info.st_mode) if want == "folder" else stat.S_ISREG(info.st_mode)
        if path.is_symlink() or not kind_ok:
            raise FlowsimError(
                f"{path}: not the {want} flowsim wrote (a link or another kind of file stands "
                "in its place); flowsim does not write through it"
            )
        if want == "file" and info.st_nlink > 1:
            raise FlowsimError(
                f"{path}: has other names (hard links) outside the sweep; flowsim does not "
                "write to a file that is also someone else's"
            )


def read_log(out: Path, runs: int) -> tuple[dict[int, LogLine], list[str]]:
    """The valid lines of ``manifest.jsonl`` by run (the last wins), and the problems."""
    path = out / LOG
    if path.is_symlink() or not path.is_file():
        return {}, []
    try:
        text = path.read_bytes()
    except OSError as exc:
        raise FlowsimError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    lines: dict[int, LogLine] = {}
    problems = []
    raw_lines = text.split(b"\n")
    for number, raw in enumerate(raw_lines, start=1):
        if not raw.strip():
            continue
        line = _parse_line(raw, runs)
        if line is None:
            if number == len(raw_lines):  # a kill cut the last line short: it never counted
                continue
            problems.append(f"line {number} of {LOG} is not a valid record")
            continue
        lines[line.run] = line
    return lines, problems


def _parse_line(raw: bytes, runs: int) -> LogLine | None:
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict):
        return None
    run, rows = data.get("run"), data.get("rows")
    if isinstance(run, bool) or not isinstance(run, int) or not 0 <= run < runs:
        return None
    if isinstance(rows, bool) or not isinstance(rows, int) or rows < 0:
        return None
    if data.get("part") != part_name(run) or data.get("flowsim_version") != __version__:
        return None
    record = parse_record(data)
    return None if record is None else LogLine(run, record, rows)


def load_sweep(directory: str | Path, metrics: str | Iterable[str] | None = None) -> pd.DataFrame:
    """The tidy table of a sweep folder: one row per run and metric, with the
    swept parameters as columns. Only runs recorded as finished are read, each
    verified against its record; ``metrics`` keeps only those metrics, or those
    starting with a name + ".", which keeps memory small on large sweeps."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    directory = Path(directory)
    design = read_design(directory)
    lines, _ = read_log(directory, len(design["runs"]))
    columns = ["run", "scenario", "point", "replication", "seed"]
    columns += [str(p) for p in design.get("parameters", [])] + ["metric", "value"]
    if not lines:
        return pd.DataFrame(columns=columns)
    if isinstance(metrics, str):  # one metric, not its letters
        metrics = [metrics]
    wanted = list(metrics) if metrics is not None else None
    frames = []
    for run in sorted(lines):
        line = lines[run]
        path = directory / PARTS / part_name(run)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise FlowsimError(
                f"{path}: cannot be read ({exc.strerror or exc}); `flowsim sweep --resume` "
                "runs it again"
            ) from None
        if bytes_record(data) != line.record:
            raise FlowsimError(
                f"{path}: truncated or changed since it was written (size or checksum differ "
                f"from {LOG}); `flowsim sweep --resume` runs it again"
            )
        try:
            frame = pq.read_table(pa.BufferReader(data)).to_pandas()
        except Exception as exc:  # pyarrow raises several kinds for a file that is not Parquet
            raise FlowsimError(f"{path}: not a readable Parquet part ({exc})") from None
        _check_part(path, frame, run, columns, line.rows)
        if wanted is not None:
            names = frame["metric"]
            keep = names.isin(wanted)
            for prefix in wanted:
                keep |= names.str.startswith(prefix + ".")
            frame = frame[keep]
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def _check_part(path: Path, frame: pd.DataFrame, run: int, columns: list[str], rows: int) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise FlowsimError(f"{path}: no column {missing[0]!r}: not a part of this sweep")
    if len(frame) != rows:
        raise FlowsimError(f"{path}: {len(frame)} rows, but {LOG} records {rows}")
    if not pd.api.types.is_float_dtype(frame["value"]):
        raise FlowsimError(f"{path}: column 'value' holds {frame['value'].dtype}, not numbers")
    if len(frame) and (frame["run"] != run).any():
        raise FlowsimError(f"{path}: holds rows of another run than {run}")


# --- starting again -------------------------------------------------------------------


def _remove_sweep(out: Path, design: Mapping[str, Any]) -> None:
    """Remove what this sweep wrote, and refuse if the folder holds anything else."""
    runs = len(design["runs"])
    lines, _ = read_log(out, runs) if design.get("format") == SWEEP_FORMAT else ({}, [])
    parts = out / PARTS
    owned_parts = []
    foreign = []
    for name in _entries(out):
        if name in (DESIGN, LOG, PARTS) or _HIDDEN_TMP.match(name):
            continue
        foreign.append(name)
    if parts.is_dir() and not parts.is_symlink():
        for name in _entries(parts):
            if _PART_TMP.match(name) or _is_own_part(parts / name, design, lines):
                owned_parts.append(name)
            else:
                foreign.append(f"{PARTS}/{name}")
    elif parts.exists():
        foreign.append(PARTS)
    if foreign:
        raise FlowsimError(
            f"cannot start the sweep in {out} again: it holds {foreign[0]!r}, which this sweep "
            "did not write; move it elsewhere or choose another --out"
        )
    try:
        for name in owned_parts:
            (parts / name).unlink()
        if parts.is_dir():
            parts.rmdir()
        for name in _entries(out):
            if _HIDDEN_TMP.match(name):
                (out / name).unlink()
        (out / LOG).unlink(missing_ok=True)
        (out / DESIGN).unlink()  # last: until then, the folder is still known as a sweep
    except OSError as exc:
        reason = exc.strerror or exc
        raise FlowsimError(f"cannot start the sweep in {out} again: {reason}") from None


def _is_own_part(path: Path, design: Mapping[str, Any], lines: Mapping[int, LogLine]) -> bool:
    """A part named for one of the sweep's runs, recorded in its log or carrying the
    sweep's fingerprint (a kill can fall between the part and its line)."""
    match = _PART.match(path.name)
    if match is None or path.is_symlink() or not path.is_file():
        return False
    run = int(match.group("run"))
    if run >= len(design["runs"]):
        return False
    if run in lines:
        try:
            if bytes_record(path.read_bytes()) == lines[run].record:
                return True
        except OSError:
            return False
    if design.get("format") != SWEEP_FORMAT:  # flowsim 0.1 recorded no checksums
        try:
            with open(path, "rb") as f:
                return f.read(4) == b"PAR1"
        except OSError:
            return False
    try:
        import pyarrow.parquet as pq

        with open(path, "rb") as f:  # a Python file: pyarrow cannot take every name
            metadata = pq.read_schema(f).metadata or {}
        identity = json.loads(metadata.get(PART_KEY, b"{}"))
    except Exception:  # not Parquet, or no identity: not provably this sweep's
        return False
    return (
        isinstance(identity, dict)
        and identity.get("fingerprint") == design["fingerprint"]
        and identity.get("run") == run
    )


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
