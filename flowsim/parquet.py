"""What flowsim puts in a Parquet file besides its rows, so that any reader can use it.

Three things, the same in a run folder's tables and a sweep's parts:

- **An explicit schema.** A column has one Arrow type whatever its rows hold: a
  sweep parameter that is text in one run is text in every run, the baseline's
  (whose value is null) included, and a column with no value is still ``double``.
- **Column names that SQL takes unquoted.** Lower case letters, digits and ``_``,
  not starting with a digit and not a reserved word: a sweep parameter named by
  its key path, ``policies.fuel.cut``, is stored as ``policies__fuel__cut``.
  :func:`sql_name` makes the name; the file's metadata maps it back.
- **Key-value metadata** under the key ``flowsim``: the format and its version,
  the flowsim version, the scenario's hash and, for each column, its unit.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from flowsim._version import __version__

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = [
    "METADATA_KEY",
    "SQL_RESERVED",
    "column_unit",
    "metadata",
    "metric_unit",
    "read_metadata",
    "sql_name",
    "table_bytes",
]

METADATA_KEY = b"flowsim"

# DuckDB's reserved keywords (``duckdb_keywords()`` of DuckDB 2.0, category
# 'reserved'); tests/test_readers.py checks the list against the DuckDB installed.
# A name among them needs quoting, in DuckDB and in most other SQL engines.
_RESERVED_WORDS = """
    all analyse analyze and any array as asc asymmetric both case cast check collate
    column constraint create default deferrable desc describe distinct do else end
    except false fetch for foreign from group having in initially intersect into lambda
    lateral leading limit not null offset on only or order pivot pivot_longer
    pivot_wider placing primary qualify references returning select show some summarize
    symmetric table then to trailing true union unique unpivot using variadic when where
    window with
"""
SQL_RESERVED = frozenset(_RESERVED_WORDS.split())
_UNSAFE = re.compile(r"[^a-z0-9_]")


def sql_name(name: str) -> str:
    """A column name SQL takes unquoted: ``.`` becomes ``__``, any other character
    outside ``[a-z0-9_]`` becomes ``_`` (after lower-casing); a leading digit or a
    reserved word gains a ``p_`` in front."""
    safe = _UNSAFE.sub("_", name.lower().replace(".", "__"))
    if not safe or safe[0].isdigit() or safe in SQL_RESERVED:
        safe = "p_" + safe
    return safe


def metric_unit(metric: str) -> str:
    """The unit of a figure of ``summary.json`` by its dotted name: ``1`` for a share
    (0 to 1), ``USD``, or ``kg``; a calibrated parameter a run drew has its key's unit."""
    leaf = metric.rsplit(".", 1)[-1]
    if metric.startswith("posterior."):
        return "as its scenario key"
    if leaf.endswith("_share"):
        return "1"
    words = metric.split(".", 1)[0].split("_") + leaf.split("_")
    if "usd" in words:
        return "USD"
    return "kg"


# The unit of a run folder table's column by its name; a name not here, nor matched by
# the endings in column_unit, is a label (text, an id or a count) with no unit.
_UNITS = {
    "kg": "kg",
    "netWgt": "kg",
    "usd": "USD",
    "primaryValue": "USD",
    "usd_per_kg": "USD per kg",
    "day": "days since the start",
    "date": "date",
    "month": "first day of the month",
    "mean_transit_days": "days",
    "capacity_kg_per_day": "kg per day",
    "seizure_probability": "1",
    "weight": "1 (relative to the other routes out of its node)",
    "output_factor": "1",
    "lat": "degrees north",
    "lon": "degrees east",
    "wall_seconds": "s",
}


def column_unit(column: str) -> str | None:
    """The unit of a run folder table's column, or None for a label."""
    if column in _UNITS:
        return _UNITS[column]
    if column.endswith("_usd_per_kg"):
        return "USD per kg"
    if column.endswith("_kg"):
        return "kg"
    if column.endswith("_usd"):
        return "USD"
    if column.endswith("_share"):
        return "1"
    return None


def metadata(kind: str, version: int, columns: Mapping[str, Mapping[str, Any]], **fields) -> bytes:
    """The ``flowsim`` metadata of a file: what wrote it, and each column's unit."""
    return json.dumps(
        {
            "format": kind,
            "format_version": version,
            "flowsim_version": __version__,
            **fields,
            "columns": dict(columns),
        },
        sort_keys=True,
        allow_nan=False,
    ).encode()


def table_bytes(table: pa.Table, flowsim_metadata: bytes) -> bytes:
    """The table as Parquet bytes, flowsim's metadata beside what the table already
    carries (pandas' own, for a table made from a DataFrame)."""
    import pyarrow.parquet as pq

    existing = dict(table.schema.metadata or {})
    table = table.replace_schema_metadata({**existing, METADATA_KEY: flowsim_metadata})
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()


def read_metadata(schema: pa.Schema) -> dict[str, Any]:
    """The ``flowsim`` metadata of a file's schema; an empty dict if it has none."""
    raw = (schema.metadata or {}).get(METADATA_KEY)
    if raw is None:
        return {}
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        return {}
    return data if isinstance(data, dict) else {}


def clashes(names: Iterable[str]) -> tuple[str, str, str] | None:
    """Two names that share an SQL name, with that name; None if none do."""
    seen: dict[str, str] = {}
    for name in names:
        safe = sql_name(name)
        if safe in seen and seen[safe] != name:
            return seen[safe], name, safe
        seen[safe] = name
    return None
