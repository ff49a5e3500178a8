"""The sweep folder as it is written: one Parquet part a run, then ``sweep.parquet``.

Each finished run is written as ``parts/run-NNNNNNN.parquet`` (through a temporary
file, synced, then renamed) and only then recorded as one line of
``manifest.jsonl`` (:mod:`flowsim.sweeplog`) with the part's size, SHA-256 and
row count. Each part also carries the sweep's fingerprint and its run number in its
Parquet metadata, beside the units of its columns (:mod:`flowsim.parquet`), and
has the one schema the design gives: a parameter keeps its type in every part, the
baseline's included, under a name SQL takes unquoted.

Once every run is finished, the parts are compacted into ``sweep.parquet``: it is
written, read back and compared with the parts, recorded as the last line of the
log, and only then are the parts removed. A kill at any step leaves either the
parts or a verified ``sweep.parquet``, and ``--resume`` trusts only those.

Nothing is read back unverified: a line that is not a valid record, or a part
that is missing, truncated or changed, means that run is not finished (with a
warning on ``--resume``, which runs it again; an error in ``load_sweep``).
Starting a sweep again (``--overwrite``) removes only what the sweep wrote.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import stat
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flowsim._version import __version__
from flowsim.errors import FlowsimError, FlowsimWarning
from flowsim.folders import (
    FileRecord,
    atomic_write_bytes,
    bytes_record,
    check_path,
)
from flowsim.parquet import metadata, read_metadata, table_bytes
from flowsim.sweeplog import (
    COMPACT,
    DESIGN,
    HIDDEN_TMP,
    LOG,
    PART_FILE,
    PART_TMP,
    PARTS,
    SWEEP_FORMAT,
    SWEEP_FORMAT_VERSION,
    CompactLine,
    LogLine,
    column_notes,
    folder_entries,
    part_name,
    part_schema,
    read_design,
    read_log,
    reopen_log,
)

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["SweepFolder", "SweepWarning"]


class SweepFolder:
    """An open sweep folder: where parts go and what is finished."""

    def __init__(self, out: Path, design: Mapping[str, Any]):
        self.out = out
        self.parts = out / PARTS
        self.design = design
        self.fingerprint = str(design["fingerprint"])
        self.runs = len(design["runs"])
        self.schema = part_schema(design)

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
        entries = folder_entries(out)
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
        """Remove the half-written files a killed sweep left; none is taken for a part."""
        with contextlib.suppress(OSError):
            for path in self.parts.iterdir():
                if PART_TMP.match(path.name):
                    with contextlib.suppress(OSError):
                        path.unlink()
        with contextlib.suppress(OSError):
            for path in self.out.glob(f".{COMPACT}.tmp-*"):
                path.unlink()

    # --- what is finished --------------------------------------------------------------

    def finished(self, *, check_parts: bool = True) -> dict[int, LogLine]:
        """Runs recorded by a valid line whose part is whole, or whose rows a verified
        ``sweep.parquet`` holds (the last line of a run counts). Lines and parts that
        fail are reported as a warning, once."""
        log = read_log(self.out, self.runs)
        if not check_parts:
            return log.lines
        problems = list(log.problems)
        if log.compacted is not None:
            problem = self.compact_problem(log.compacted)
            if problem is None:
                return log.lines
            problems.append(problem)
        done = {}
        for run, line in log.lines.items():
            problem = self.part_problem(line)
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

    def part_problem(self, line: LogLine) -> str | None:
        path = self.parts / part_name(line.run)
        if not (path.is_symlink() or path.exists()):
            return f"its part {path.name} is missing"
        if path.is_symlink() or not path.is_file():
            raise FlowsimError(
                f"{path}: not a part flowsim wrote (a folder, a link or a device stands in its "
                "place); move it away, then --resume"
            )
        return _data_problem(path, line.record, line.rows)

    def compact_problem(self, compacted: CompactLine) -> str | None:
        """Why ``sweep.parquet`` cannot stand for the runs' parts; None if it can."""
        path = self.out / COMPACT
        if path.is_symlink() or (path.exists() and not path.is_file()):
            raise FlowsimError(
                f"{path}: not the file flowsim wrote (a folder, a link or a device stands in "
                "its place); move it away, then --resume"
            )
        if not path.exists():
            return f"{COMPACT} is missing"
        if compacted.runs != self.runs:
            return f"{COMPACT} records {compacted.runs} runs, not the sweep's {self.runs}"
        return _data_problem(path, compacted.record, compacted.rows)

    # --- writing --------------------------------------------------------------------

    def write_part(self, run: int, table: pa.Table, scenario_hash: str | None = None) -> LogLine:
        """Write one run's rows as its part; return what its log line records."""
        scenario = self.design["runs"][run]["scenario"]
        data = table_bytes(
            table.select(self.schema.names).cast(self.schema),
            metadata(
                SWEEP_FORMAT,
                SWEEP_FORMAT_VERSION,
                column_notes(self.design),
                fingerprint=self.fingerprint,
                run=run,
                scenario=scenario,
                scenario_hash=scenario_hash,
            ),
        )
        self.parts.mkdir(exist_ok=True)  # a compacted sweep whose file was lost has none
        atomic_write_bytes(self.parts / part_name(run), data)
        return LogLine(run, bytes_record(data), table.num_rows)

    def compact(self, manifest: io.TextIOBase | None = None) -> Path | None:
        """Gather every run's rows into ``sweep.parquet``, then remove the parts.

        Only a sweep whose runs are all finished is compacted; ``sweep.parquet`` is
        written, read back and compared with the parts, and recorded in the log
        before any part is removed. Returns its path, or None if runs are missing."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        log = read_log(self.out, self.runs)
        if log.compacted is not None and self.compact_problem(log.compacted) is None:
            self._remove_parts(log.lines)  # a kill may have fallen among the removals
            return self.out / COMPACT
        if len(log.lines) < self.runs:
            return None
        tables = []
        for run in range(self.runs):
            line = log.lines[run]
            path = self.parts / part_name(run)
            try:
                data = path.read_bytes()  # once: checked, then read from these bytes
            except OSError:
                return None
            if _bytes_problem(path.name, data, line.record, line.rows) is not None:
                return None
            tables.append(pq.read_table(pa.BufferReader(data), schema=self.schema))
        table = pa.concat_tables(tables).replace_schema_metadata(None)
        data = table_bytes(
            table,
            metadata(
                SWEEP_FORMAT,
                SWEEP_FORMAT_VERSION,
                column_notes(self.design),
                fingerprint=self.fingerprint,
                runs=self.runs,
                scenario_hashes=self.design.get("scenario_hashes", {}),
            ),
        )
        path = self.out / COMPACT
        # One its log records is the sweep's own, damaged or not: a run again replaces it.
        if log.compacted is None:
            _check_compact_target(path, self.fingerprint)
        try:
            atomic_write_bytes(path, data)
            written = path.read_bytes()
        except OSError as exc:
            raise FlowsimError(
                f"cannot write {path}: {exc.strerror or exc}; the parts are kept, and "
                "load_sweep reads them"
            ) from None
        back = pq.read_table(pa.BufferReader(written))
        if written != data or not back.equals(table):
            raise FlowsimError(f"{path}: reads back other than written; the parts are kept")
        record = CompactLine(bytes_record(data), table.num_rows, self.runs)
        text = json.dumps(
            {
                "compacted": COMPACT,
                **record.record.as_json(),
                "rows": record.rows,
                "runs": record.runs,
                "flowsim_version": __version__,
            }
        )
        _append_line(self.out, text, manifest)
        self._remove_parts(log.lines)
        return path

    def _remove_parts(self, lines: Mapping[int, LogLine]) -> None:
        """Remove the parts that their log lines vouch for; leave anything else."""
        for run, line in lines.items():
            path = self.parts / part_name(run)
            if path.is_symlink() or not path.is_file():
                continue
            if _data_problem(path, line.record, line.rows) is None:
                with contextlib.suppress(OSError):
                    path.unlink()
        with contextlib.suppress(OSError):
            self.parts.rmdir()  # only if empty: what else lies there stays


class SweepWarning(FlowsimWarning):
    """A sweep folder held a run that cannot be trusted; it is run again."""


def part_rows(data: bytes) -> int | None:
    """The number of rows a part's Parquet footer records; None if it has none."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        return pq.read_metadata(pa.BufferReader(data)).num_rows
    except Exception:  # pyarrow raises several kinds for bytes that are not Parquet
        return None


def _data_problem(path: Path, record: FileRecord, rows: int) -> str | None:
    """Why the file at ``path`` is not the one its record describes; None if it is."""
    size = path.stat().st_size
    if size != record.bytes:
        return f"{path.name} has {size} bytes, not the {record.bytes} written"
    try:
        data = path.read_bytes()
    except OSError as exc:
        return f"{path.name} cannot be read ({exc.strerror})"
    return _bytes_problem(path.name, data, record, rows)


def _bytes_problem(name: str, data: bytes, record: FileRecord, rows: int) -> str | None:
    """Why ``data``, read from the file ``name``, is not what its record describes."""
    if len(data) != record.bytes:
        return f"{name} has {len(data)} bytes, not the {record.bytes} written"
    if bytes_record(data).sha256 != record.sha256:
        return f"{name} changed since it was written (checksum)"
    if part_rows(data) != rows:
        return f"its line records {rows} rows, but {name} holds {part_rows(data)}"
    return None


def _check_compact_target(path: Path, fingerprint: str) -> None:
    """An unrecorded ``sweep.parquet`` may be replaced only if it is this sweep's own (a
    kill fell between writing it and recording it): never a file someone else put there."""
    if not (path.is_symlink() or path.exists()):
        return
    if path.is_symlink() or not path.is_file():
        raise FlowsimError(f"{path}: not a file flowsim wrote; move it away, then --resume")
    try:
        import pyarrow.parquet as pq

        with open(path, "rb") as f:
            identity = read_metadata(pq.read_schema(f))
    except Exception:  # not Parquet: not provably this sweep's
        identity = {}
    if identity.get("fingerprint") != fingerprint:
        raise FlowsimError(
            f"{path}: this sweep did not write it, and flowsim does not replace it; move it "
            "away, then --resume"
        )


def _append_line(out: Path, text: str, manifest: io.TextIOBase | None) -> None:
    try:
        if manifest is not None:
            manifest.write(text + "\n")
            manifest.flush()
            os.fsync(manifest.fileno())
            return
        reopen_log(out)
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
        with os.fdopen(os.open(out / LOG, flags, 0o644), "a", encoding="utf-8") as f:
            f.write(text + "\n")
            f.flush()
            os.fsync(f.fileno())
    except OSError as exc:
        raise FlowsimError(
            f"cannot write the sweep manifest in {out}: {exc.strerror or exc}; free space, "
            "then --resume"
        ) from None


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


# --- starting again -------------------------------------------------------------------


def _remove_sweep(out: Path, design: Mapping[str, Any]) -> None:
    """Remove what this sweep wrote, and refuse if the folder holds anything else."""
    runs = len(design["runs"])
    signed = design.get("format") == SWEEP_FORMAT
    lines = read_log(out, runs).lines if signed else {}
    parts = out / PARTS
    owned_parts = []
    foreign = []
    for name in folder_entries(out):
        if name in (DESIGN, LOG, PARTS) or HIDDEN_TMP.match(name):
            continue
        if name == COMPACT and signed:
            try:
                _check_compact_target(out / COMPACT, design["fingerprint"])
                continue
            except FlowsimError:
                pass
        foreign.append(name)
    if parts.is_dir() and not parts.is_symlink():
        for name in folder_entries(parts):
            if PART_TMP.match(name) or _is_own_part(parts / name, design, lines):
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
        for name in folder_entries(out):
            if HIDDEN_TMP.match(name):
                (out / name).unlink()
        (out / COMPACT).unlink(missing_ok=True)  # checked above: the sweep's own, or none
        (out / LOG).unlink(missing_ok=True)
        (out / DESIGN).unlink()  # last: until then, the folder is still known as a sweep
    except OSError as exc:
        reason = exc.strerror or exc
        raise FlowsimError(f"cannot start the sweep in {out} again: {reason}") from None


def _is_own_part(path: Path, design: Mapping[str, Any], lines: Mapping[int, LogLine]) -> bool:
    """A part named for one of the sweep's runs, recorded in its log or carrying the
    sweep's fingerprint (a kill can fall between the part and its line)."""
    match = PART_FILE.match(path.name)
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
            identity = read_metadata(pq.read_schema(f))
    except Exception:  # not Parquet, or no identity: not provably this sweep's
        return False
    return (
        isinstance(identity, dict)
        and identity.get("fingerprint") == design["fingerprint"]
        and identity.get("run") == run
    )
