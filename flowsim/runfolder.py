"""The run folder: what :meth:`Results.save` writes and :meth:`Results.load` reads back.

A run folder holds Parquet tables, ``summary.json`` (the contract that CI
pipelines read, documented in ``docs/summary.md``), an optional
``report.html`` and ``manifest.json``: the run's metadata and flowsim's
signature, the list of files it wrote with their checksums
(:mod:`flowsim.folders`). Reading verifies every file it uses against that
list, then the metadata's keys and types and each table's columns, so that a
folder that was changed, truncated or never written by flowsim is reported,
naming the file and the problem, rather than read.
"""

from __future__ import annotations

import glob
import io
import json
import math
import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from flowsim.errors import FlowsimError
from flowsim.folders import (
    MANIFEST,
    RUN_FORMAT,
    RUN_FORMAT_VERSION,
    check_path,
    read_verified,
    run_files,
    write_folder,
)
from flowsim.ledger import EVENTS
from flowsim.network import KINDS
from flowsim.parquet import column_unit, metadata, table_bytes
from flowsim.runmeta import RunMeta

if TYPE_CHECKING:
    from flowsim.results import Results

__all__ = [
    "BASE_TABLES",
    "DERIVED_TABLES",
    "load_run",
    "read_summary",
    "save_run",
]

SUMMARY = "summary.json"
REPORT = "report.html"

# The tables a run folder holds, and the kind of each column that loading checks.
# "text" is a string, categorical or object column of strings (or missing values).
BASE_TABLES: dict[str, dict[str, str]] = {
    "ledger": {
        "replication": "int",
        "day": "float",
        "event": "text",
        "lot": "int",
        "node": "text",
        "route": "text",
        "kg": "float",
        "usd": "float",
    },
    "receipts": {
        "replication": "int",
        "day": "float",
        "node": "text",
        "lot": "int",
        "category": "int",
        "touched_designated_entity": "bool",
        "kg": "float",
        "usd": "float",
        "sanctioned_jurisdiction": "bool",
        "first_destination": "text",
        "papers_clean": "bool",
    },
    "melts": {
        "replication": "int",
        "day": "float",
        "node": "text",
        "batch": "int",
        "lot": "int",
        "kg": "float",
    },
    "nodes": {
        "node": "text",
        "kind": "text",
        "name": "text",
        "jurisdiction": "text",
        "entity": "text",
        "legal_status": "text",
        "region": "text",
        "laundering_share": "float",
        "lat": "float",
        "lon": "float",
    },
    "routes": {
        "route": "text",
        "from_node": "text",
        "to_node": "text",
        "mean_transit_days": "float",
        "cost_usd_per_kg": "float",
        "capacity_kg_per_day": "float",
        "seizure_probability": "float",
        "weight": "float",
        "release_share": "float",
        "declared": "text",
    },
    "categories": {"category": "int", "jurisdiction": "text", "legal_status": "text"},
    "end_state": {"replication": "int", "node": "text", "kg": "float"},
    "reserves": {"replication": "int", "month": "date", "node": "text", "kg": "float"},
    "schedules": {"quantity": "text", "id": "text", "day": "float", "value": "float"},
    "appetite_monthly": {
        "replication": "int",
        "month": "date",
        "partner": "text",
        "sent_kg": "float",
        "appetite_kg": "float",
    },
    "rents_monthly": {"replication": "int", "month": "date", "node": "text", "usd": "float"},
    "trade_statistics": {
        "replication": "int",
        "month": "date",
        "period": "int",
        "reporterISO": "text",
        "partnerISO": "text",
        "flowCode": "text",
        "flowDesc": "text",
        "cmdCode": "text",
        "declaredOriginISO": "text",
        "netWgt": "float",
        "primaryValue": "float",
    },
    "diligence_monthly": {
        "replication": "int",
        "month": "date",
        "partner": "text",
        "outcome": "text",
        "kg": "float",
        "usd": "float",
    },
    "prices_monthly": {
        "replication": "int",
        "month": "date",
        "node": "text",
        "usd_per_kg": "float",
        "margin_usd_per_kg": "float",
        "output_factor": "float",
    },
    "runs": {
        "replication": "int",
        "lots": "int",
        "ledger_rows": "int",
        "in_transit_kg": "float",
        "fuel_premium_usd": "float",
        "wall_seconds": "float",
    },
}
_DTYPES = {
    "int": "int64",
    "float": "float64",
    "bool": "bool",
    "text": "object",
    "date": "datetime64[ns]",
}


def empty_table(name: str) -> pd.DataFrame:
    """Base table ``name`` with no rows: its columns in their types."""
    columns = BASE_TABLES[name]
    return pd.DataFrame({c: pd.Series([], dtype=_DTYPES[kind]) for c, kind in columns.items()})


# Base tables that folders written before them lack, read as empty.
OPTIONAL_TABLES = frozenset(
    {
        "reserves",
        "prices_monthly",
        "rents_monthly",
        "schedules",
        "appetite_monthly",
        "trade_statistics",
        "diligence_monthly",
    }
)
# Columns that tables written before them lack, and what such a table reads them as.
OPTIONAL_COLUMNS: dict[str, dict[str, object]] = {
    "receipts": {"first_destination": None, "papers_clean": False},
    "nodes": {"laundering_share": 0.0, "lat": float("nan"), "lon": float("nan")},
    "routes": {"declared": None},
}
DERIVED_TABLES = (
    "exports_monthly",
    "exposure_by_destination",
    "exposure_monthly",
    "mirror_gaps",
    "production_monthly",
    "purchases_monthly",
    "seizures",
    "stocks_monthly",
)
_FILE_NAMES = frozenset(
    {f"{t}.parquet" for t in (*BASE_TABLES, *DERIVED_TABLES)} | {SUMMARY, REPORT}
)
_TEMPORARY = re.compile(r"^\.(?P<name>.+)\.tmp-\d+$")
# The report's figures as files (flowsim.report): SVG, and PNG when asked for.
FIGURES = "figures"
_FIGURE = re.compile(r"^figures/[a-z0-9_]{1,80}\.(png|svg)$")


def own_name(name: str) -> bool:
    """Whether flowsim writes a file of this name in a run folder (or its temporary):
    a table, the summary, the report, or a figure (``figures/<name>.svg``, ``.png``); and
    ``figures/``, the folder of the figures."""
    if name == f"{FIGURES}/":
        return True
    if name.startswith(f"{FIGURES}/"):
        return bool(_FIGURE.match(name))
    match = _TEMPORARY.match(name)
    return (match.group("name") if match else name) in _FILE_NAMES


def save_run(
    results: Results, directory: str | Path, extras: Callable[[Path], None] | None = None
) -> Path:
    """Write the run folder of ``results`` atomically; ``extras(folder)`` may add a report."""

    def fill(folder: Path) -> Mapping[str, Any]:
        for name in (*BASE_TABLES, *DERIVED_TABLES):
            # Through memory, then a Python file: pyarrow cannot take every name the system
            # can, and pandas hands it the name of an open file.
            data = table_file(name, getattr(results, name), results.meta.scenario_hash)
            (folder / f"{name}.parquet").write_bytes(data)
        text = json.dumps(results.summary(), indent=2, default=str, allow_nan=False) + "\n"
        (folder / SUMMARY).write_text(text)
        if extras is not None:
            extras(folder)
        return {**results.meta.as_json(), "tables": sorted([*BASE_TABLES, *DERIVED_TABLES])}

    return write_folder(Path(directory), fill, own_names=own_name)


def table_file(name: str, table: pd.DataFrame, scenario_hash: str | None) -> bytes:
    """A run folder's table as Parquet, with flowsim's metadata beside pandas' (which
    keeps a category a category when flowsim reads it back): the format, the versions,
    the scenario's hash, and each column's unit (:mod:`flowsim.parquet`)."""
    import pyarrow as pa

    arrow = pa.Table.from_pandas(table, preserve_index=False)
    for i, field in enumerate(arrow.schema):
        if pa.types.is_null(field.type):  # no rows, or none with a value: a label column
            arrow = arrow.set_column(
                i, field.with_type(pa.string()), arrow.column(i).cast(pa.string())
            )
    units = {c: {"unit": _unit(name, c)} for c in arrow.column_names}
    own = metadata(RUN_FORMAT, RUN_FORMAT_VERSION, units, table=name, scenario_hash=scenario_hash)
    return table_bytes(arrow, own)


def _unit(table: str, column: str) -> str | None:
    if table == "schedules" and column == "value":
        return "the unit of its quantity (docs/summary.md, schedules)"
    return column_unit(column)


# Columns renamed so that SQL takes them unquoted, by the name a run folder written
# before the change has (docs/summary.md, "Column names").
RENAMED_COLUMNS = {
    "routes": {"from": "from_node", "to": "to_node"},
    "seizures": {"where": "seized_in"},
}


def load_run(directory: str | Path) -> tuple[dict[str, pd.DataFrame], RunMeta]:
    """The base tables and the metadata of a run folder, each verified."""
    if not isinstance(directory, (str, os.PathLike)):
        raise TypeError(
            f"Results.load takes the path of a run folder, not {type(directory).__name__}"
        )
    directory = Path(directory)
    check_path(directory, "cannot read the run folder")
    if not directory.is_dir():
        what = "does not exist" if not directory.exists() else "is not a folder"
        aside = sorted(directory.parent.glob(f"{glob.escape('.' + directory.name)}.old-*"))
        if aside and not directory.exists():
            raise FlowsimError(
                f"{directory}: does not exist: a replace that was interrupted left the earlier "
                f"run in {aside[0].name}; the next flowsim run with this --out puts it back"
            )
        raise FlowsimError(f"{directory}: {what}; give a run folder written by flowsim run")
    owned = run_files(directory, own_name)
    if owned.manifest.get("format") != RUN_FORMAT:
        raise FlowsimError(
            f"{directory}: written by flowsim {owned.manifest.get('flowsim_version')} in an "
            "older format that this flowsim does not read; run the scenario again"
        )
    meta = _meta(directory, owned.manifest)
    tables = {}
    written = set(owned.manifest.get("tables", ()))
    for name, columns in BASE_TABLES.items():
        if name in OPTIONAL_TABLES and name not in written:
            continue  # a folder of a flowsim before the table: the run had none
        path = directory / f"{name}.parquet"
        data = read_verified(directory, owned, path.name)
        try:
            table = pd.read_parquet(io.BytesIO(data))
        except Exception as exc:  # pyarrow raises several kinds for a file that is not Parquet
            raise FlowsimError(f"{path}: not a readable Parquet table ({exc})") from None
        table = table.rename(columns=RENAMED_COLUMNS.get(name, {}))
        for column, value in OPTIONAL_COLUMNS.get(name, {}).items():
            if column not in table.columns:  # a table of a flowsim before the column
                table[column] = pd.Series([value] * len(table), dtype=_DTYPES[columns[column]])
        _check_columns(path, table, columns)
        tables[name] = table
    _check_consistent(directory, tables, meta)
    return tables, meta


def _meta(directory: Path, manifest: dict[str, Any]) -> RunMeta:
    try:
        return RunMeta.from_json(manifest)
    except ValueError as exc:
        raise FlowsimError(f"{directory / MANIFEST}: {exc}") from None


_KIND_CHECKS: dict[str, Callable[[pd.Series], bool]] = {
    "int": pd.api.types.is_integer_dtype,
    "float": lambda s: pd.api.types.is_float_dtype(s) or s.isna().all(),
    "bool": pd.api.types.is_bool_dtype,
    "date": pd.api.types.is_datetime64_any_dtype,
    "text": lambda s: (
        isinstance(s.dtype, pd.CategoricalDtype)
        or pd.api.types.is_string_dtype(s)
        or (s.dtype == object and s.map(lambda v: v is None or isinstance(v, str)).all())
    ),
}


def _check_columns(path: Path, table: pd.DataFrame, columns: Mapping[str, str]) -> None:
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise FlowsimError(
            f"{path}: no column {missing[0]!r}: not the table flowsim writes under this name"
        )
    for column, kind in columns.items():
        if not _KIND_CHECKS[kind](table[column]):
            raise FlowsimError(
                f"{path}: column {column!r} holds {table[column].dtype}, not {kind} values"
            )


def _check_consistent(directory: Path, tables: dict[str, pd.DataFrame], meta: RunMeta) -> None:
    """The tables agree with one another and with the manifest: what a report or a
    summary reads from them is then well defined (a forged folder can pass the
    checksums, not these)."""

    def fail(table: str, problem: str) -> FlowsimError:
        return FlowsimError(f"{directory / (table + '.parquet')}: {problem}")

    replications = meta.replications
    runs = tables["runs"]["replication"]
    if len(runs) != replications or sorted(runs.tolist()) != list(range(replications)):
        raise fail(
            "runs", f"not one row for each of the {replications} replications {MANIFEST} gives"
        )
    for name in (*("ledger", "receipts", "melts", "end_state"), *OPTIONAL_TABLES):
        if name not in tables or "replication" not in tables[name]:
            continue
        column = tables[name]["replication"]
        if len(column) and (column.min() < 0 or column.max() >= replications):
            raise fail(name, f"replication numbers outside 0 to {replications - 1}")
    nodes = tables["nodes"]
    if nodes["node"].duplicated().any():
        raise fail("nodes", f"node {nodes['node'][nodes['node'].duplicated()].iloc[0]!r} twice")
    if not nodes["kind"].isin(KINDS).all():
        raise fail("nodes", f"a kind that is not one of {', '.join(KINDS)}")
    known = set(nodes["node"])
    routes = tables["routes"]
    if routes["route"].duplicated().any():
        raise fail("routes", "a route twice")
    for end in ("from_node", "to_node"):
        unknown = set(routes[end]) - known
        if unknown:
            raise fail("routes", f"{end} {sorted(unknown)[0]!r} is not in nodes.parquet")
    categories = set(tables["categories"]["category"])
    checks = (
        ("ledger", "node", known),
        ("ledger", "route", set(routes["route"])),
        ("ledger", "event", set(EVENTS)),
        ("receipts", "node", known),
        ("receipts", "category", categories),
        ("melts", "node", known),
        ("end_state", "node", known),
        ("reserves", "node", known),
        ("prices_monthly", "node", known),
        ("rents_monthly", "node", known),
        ("appetite_monthly", "partner", known),
    )
    for name, column, allowed in checks:
        if name not in tables:
            continue
        values = tables[name][column].dropna()
        unknown = set(values.astype(object).unique()) - allowed
        if unknown:
            raise fail(name, f"{column} {sorted(map(str, unknown))[0]!r} is not one of the run's")
    days = (meta.end - meta.start).days + 1
    for name, columns in (
        ("ledger", ("day", "kg", "usd")),
        ("receipts", ("day", "kg", "usd")),
        ("melts", ("day", "kg")),
        ("end_state", ("kg",)),
        ("reserves", ("kg",)),
        ("runs", ("in_transit_kg", "fuel_premium_usd")),
    ):
        if name not in tables:
            continue
        table = tables[name]
        for column in columns:
            values = table[column].to_numpy(dtype=float)
            if not np.isfinite(values).all() or (values < 0).any():
                raise fail(name, f"column {column!r} holds a value that is negative or not finite")
        if "day" in columns and len(table) and table["day"].max() > days:
            raise fail(name, f"a day after the end of the calendar ({days} days)")


def read_summary(directory: Path) -> dict[str, Any]:
    """``summary.json`` of a run folder, verified against the manifest and checked
    for the keys that comparisons read."""
    owned = run_files(directory, own_name)
    if owned.manifest.get("format") != RUN_FORMAT:
        raise FlowsimError(
            f"{directory}: written by flowsim {owned.manifest.get('flowsim_version')} in an "
            "older format that this flowsim does not read; run the scenario again"
        )
    _meta(directory, owned.manifest)
    path = directory / SUMMARY
    data = read_verified(directory, owned, SUMMARY)
    try:
        summary = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise FlowsimError(f"{path}: cannot be read ({exc})") from None
    _check_summary(path, summary)
    return summary


def _check_summary(path: Path, summary: Any) -> None:
    if not isinstance(summary, dict):
        raise FlowsimError(f"{path}: not a JSON object")
    if not isinstance(summary.get("scenario"), str):
        raise FlowsimError(f"{path}: scenario: missing or not a string")
    for key in ("exports_kg_by_partner", "exports_usd_by_partner"):
        _numbers(path, key, summary.get(key))
    exposure = summary.get("exposure_by_partner")
    if not isinstance(exposure, dict):
        raise FlowsimError(f"{path}: exposure_by_partner: missing or not a table")
    for partner, figures in exposure.items():
        _numbers(path, f"exposure_by_partner.{partner}", figures)
    for key in ("sd", "ci95"):
        if not isinstance(summary.get(key), dict):
            raise FlowsimError(f"{path}: {key}: missing or not a table")


def _numbers(path: Path, key: str, value: Any) -> None:
    if not isinstance(value, dict):
        raise FlowsimError(f"{path}: {key}: missing or not a table")
    for name, number in value.items():
        if isinstance(number, bool) or not isinstance(number, (int, float)):
            raise FlowsimError(f"{path}: {key}.{name}: not a number (got {number!r})")
        try:
            finite = math.isfinite(float(number))
        except OverflowError:
            finite = False
        if not finite:
            raise FlowsimError(f"{path}: {key}.{name}: not a finite number")
