"""Reading a sweep folder back: its tidy table, from ``sweep.parquet`` or its parts.

Every file is checked against the size and SHA-256 its log line records before a
row of it is read; the files are then read as one ``pyarrow.dataset`` with the
sweep's schema, so that a ``metrics`` choice is a filter applied while reading, not
after. Parameter columns come back under the names the sweep file gave them
(``policies.fuel.cut``), not the SQL-safe names they are stored under.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from flowsim.errors import FlowsimError
from flowsim.sweepfolder import SweepFolder
from flowsim.sweeplog import COMPACT, LOG, Log, part_name, read_design, read_log

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["load_sweep", "sweep_arrow"]


def load_sweep(directory: str | Path, metrics: str | Iterable[str] | None = None) -> pd.DataFrame:
    """The tidy table of a sweep folder: one row per run and metric, with the
    swept parameters as columns. Only runs recorded as finished are read, each
    verified against its record; ``metrics`` keeps only those metrics, or those
    starting with a name + ".", which keeps memory small on large sweeps."""
    return sweep_arrow(directory, metrics).to_pandas()


def sweep_arrow(directory: str | Path, metrics: str | Iterable[str] | None = None) -> pa.Table:
    """:func:`load_sweep`'s table as Arrow, before pandas: for readers that keep it so."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.dataset as ds

    directory = Path(directory)
    design = read_design(directory)
    folder = SweepFolder(directory, design)
    log = read_log(directory, folder.runs)
    problem = folder.compact_problem(log.compacted) if log.compacted is not None else None
    if log.compacted is not None and problem is None:
        files, runs = [directory / COMPACT], set(range(folder.runs))
    else:
        try:
            files, runs = _verified_parts(folder, log)
        except FlowsimError:
            if problem is None:
                raise
            raise FlowsimError(
                f"{directory / COMPACT}: {problem}, and the parts it gathered are gone; "
                "`flowsim sweep --resume` runs the sweep again"
            ) from None
    schema = folder.schema
    if isinstance(metrics, str):  # one metric, not its letters
        metrics = [metrics]
    where = None
    if metrics is not None:
        wanted = sorted(set(metrics))
        where = pc.field("metric").isin(wanted)
        for prefix in wanted:
            where = where | pc.starts_with(pc.field("metric"), prefix + ".")
    if files:
        try:
            table = ds.dataset([str(f) for f in files], schema=schema, format="parquet").to_table(
                filter=where
            )
        except (pa.ArrowInvalid, pa.ArrowTypeError, OSError) as exc:
            raise FlowsimError(f"{directory}: a file of the sweep cannot be read ({exc})") from None
    else:
        table = schema.empty_table()
    found = set(pc.unique(table["run"]).to_pylist())
    if not found <= runs:
        raise FlowsimError(f"{directory}: holds rows of runs its log does not record as finished")
    names = {spec["column"]: name for name, spec in design.get("columns", {}).items()}
    return table.rename_columns([names.get(c, c) for c in table.column_names])


def _verified_parts(folder: SweepFolder, log: Log) -> tuple[list[Path], set[int]]:
    files = []
    for run in sorted(log.lines):
        line = log.lines[run]
        path = folder.parts / part_name(run)
        if not path.is_file() or path.is_symlink():
            raise FlowsimError(
                f"{path}: missing; `flowsim sweep --resume` runs it again"
                if not path.exists()
                else f"{path}: not a part flowsim wrote"
            )
        try:
            problem = folder.part_problem(line)
        except OSError as exc:
            problem = f"cannot be read ({exc.strerror or exc})"
        if problem is not None:
            raise FlowsimError(
                f"{path}: truncated or changed since it was written ({problem}; it differs "
                f"from {LOG}); `flowsim sweep --resume` runs it again"
            )
        files.append(path)
    return files, set(log.lines)
