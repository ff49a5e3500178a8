"""The tidy tables of a run, derived from its ledger and receipts.

Each function takes a :class:`~flowsim.results.Results` and returns a long
("tidy") DataFrame with a ``replication`` column and, for monthly tables, a row
for every month of the calendar and every node, zeros included.
``Results`` caches them as attributes (``results.exports_monthly``, ...).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from flowsim.provenance import exposure_table

if TYPE_CHECKING:
    from flowsim.results import Results

__all__ = [
    "STOCK_SIGNS",
    "exports_monthly",
    "exposure",
    "exposure_by_destination",
    "exposure_monthly",
    "months",
    "production_monthly",
    "seizures",
    "stocks_monthly",
    "with_month",
]

# How each event changes the stock of the node it names.
STOCK_SIGNS = {
    "opening_stock": 1.0,
    "produced": 1.0,
    "delivered": 1.0,
    "shipped": -1.0,
    "lost": -1.0,
    "seized": -1.0,
}


def months(results: Results) -> pd.DatetimeIndex:
    """The first day of every month of the calendar."""
    first = results.start.to_period("M").to_timestamp()
    return pd.date_range(first, results.end, freq="MS").as_unit("ns")


def with_month(results: Results, rows: pd.DataFrame) -> pd.DataFrame:
    """Add the calendar ``date`` of each row's day and the first day of its ``month``."""
    start = np.datetime64(results.start.date(), "D")
    dates = start + np.floor(rows["day"].to_numpy()).astype("timedelta64[D]")
    # One time unit everywhere, so that tables from different runs compare equal.
    return rows.assign(
        date=dates.astype("datetime64[ns]"),
        month=dates.astype("datetime64[M]").astype("datetime64[ns]"),
    )


def _rows(results: Results, event: str) -> pd.DataFrame:
    return results.ledger[results.ledger["event"] == event]


def _monthly(results: Results, event: str, ids: list[str], value_cols: list[str]) -> pd.DataFrame:
    """Sum ``value_cols`` of one event kind by replication, month and node, with a row
    (of zeros) for every combination."""
    return _monthly_of(results, _rows(results, event), ids, value_cols)


def _monthly_of(
    results: Results, rows: pd.DataFrame, ids: list[str], value_cols: list[str]
) -> pd.DataFrame:
    rows = with_month(results, rows)
    sums = rows.groupby(["replication", "month", "node"], observed=True)[value_cols].sum()
    grid = pd.MultiIndex.from_product(
        [range(results.replications), months(results), ids],
        names=["replication", "month", "node"],
    )
    sums.index = sums.index.set_levels(sums.index.levels[2].astype(str), level=2)
    return _replication_int64(sums.reindex(grid, fill_value=0.0).reset_index())


def exports_monthly(results: Results) -> pd.DataFrame:
    """Exports by replication, month and partner, in kg and USD."""
    table = _monthly(results, "exported", results.partners, ["kg", "usd"])
    return table.rename(columns={"node": "partner"})


def purchases(results: Results) -> pd.DataFrame:
    """The ledger rows of lots bought: each delivered to a node down a route into it. A
    lot coming back to its sender after a refusal is delivered there too, but not
    bought."""
    rows = _rows(results, "delivered")
    into = results.routes.set_index("route")["to_node"].astype(str)
    bought = rows["route"].astype(str).map(into).to_numpy() == rows["node"].astype(str).to_numpy()
    return rows[bought]


def purchases_monthly(results: Results) -> pd.DataFrame:
    """What each buyer and refiner bought, by replication and month, in kg
    (:func:`purchases`)."""
    kinds = results.nodes.set_index("node")["kind"]
    ids = [str(n) for n in results.nodes["node"] if kinds[n] in ("buyer", "refiner")]
    table = _monthly_of(results, purchases(results), ids, ["kg"])
    return table.rename(columns={"node": "buyer"})


def production_monthly(results: Results) -> pd.DataFrame:
    """Production by replication, month and mine, in kg."""
    table = _monthly(results, "produced", results.mines, ["kg"])
    return table.rename(columns={"node": "mine"})


def seizures(results: Results) -> pd.DataFrame:
    """Every seizure: in transit (``route`` set) or from a node's stock (``node`` set)."""
    rows = with_month(results, _rows(results, "seized"))
    rows = rows.assign(seized_in=np.where(rows["node"].isna(), "transit", "stock"))
    columns = ["replication", "day", "date", "month", "seized_in", "node", "route", "lot", "kg"]
    return _replication_int64(rows[columns].reset_index(drop=True))


def exposure_monthly(results: Results) -> pd.DataFrame:
    """Per replication, month and receiving node (partners and refiners): mass and USD
    received, and the mass, USD and share of it exposed (see :mod:`flowsim.provenance`)."""
    receivers = results.partners + results.refiners
    grid = pd.MultiIndex.from_product(
        [range(results.replications), months(results), receivers],
        names=["replication", "month", "node"],
    )
    receipts = with_month(results, results.receipts)
    table = exposure_table(receipts, results.categories, ["replication", "month", "node"], grid)
    return _replication_int64(table)


def exposure(results: Results) -> pd.DataFrame:
    """Per replication and receiving node, over the whole run."""
    receivers = results.partners + results.refiners
    grid = pd.MultiIndex.from_product(
        [range(results.replications), receivers], names=["replication", "node"]
    )
    table = exposure_table(results.receipts, results.categories, ["replication", "node"], grid)
    return _replication_int64(table)


def exposure_by_destination(results: Results) -> pd.DataFrame:
    """Per replication, partner and ``first_destination`` (the partner that sold it on,
    or the partner itself for gold that came to it straight), over the whole run."""
    receipts = results.receipts
    receipts = receipts[receipts["node"].isin(results.partners)]
    first = receipts["first_destination"].astype(object)
    receipts = receipts.assign(
        node=receipts["node"].astype(str),
        first_destination=first.where(first.notna(), receipts["node"].astype(str)).astype(str),
    )
    seen = zip(receipts["node"], receipts["first_destination"], strict=True)
    pairs = sorted({*seen, *((p, p) for p in results.partners)})
    grid = pd.MultiIndex.from_tuples(
        [(k, n, f) for k in range(results.replications) for n, f in pairs],
        names=["replication", "node", "first_destination"],
    )
    keys = ["replication", "node", "first_destination"]
    table = exposure_table(receipts, results.categories, keys, grid)
    return _replication_int64(table)


def stocks_monthly(results: Results) -> pd.DataFrame:
    """Stock held at each mine, buyer and refiner at the end of each month, in kg."""
    ledger = results.ledger
    rows = ledger[ledger["event"].isin(list(STOCK_SIGNS)) & ledger["node"].notna()]
    rows = with_month(results, rows)
    signed = rows["kg"] * rows["event"].map(STOCK_SIGNS).astype(float)
    flows = rows.assign(kg=signed).groupby(["replication", "node", "month"], observed=True)["kg"]
    flows = flows.sum()
    nodes = results.nodes
    holders = nodes.loc[nodes["kind"] != "partner", "node"].tolist()
    flows.index = flows.index.set_levels(flows.index.levels[1].astype(str), level=1)
    grid = pd.MultiIndex.from_product(
        [range(results.replications), holders, months(results)],
        names=["replication", "node", "month"],
    )
    table = flows.reindex(grid, fill_value=0.0).groupby(level=["replication", "node"]).cumsum()
    return _replication_int64(table.reset_index()[["replication", "month", "node", "kg"]])


def _replication_int64(table: pd.DataFrame) -> pd.DataFrame:
    """The tidy tables number replications in int64 whatever the type of the rows they
    sum (int32 in a run's ledger and receipts, where every byte a row counts)."""
    return table.astype({"replication": np.int64})
