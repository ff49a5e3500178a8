"""What a run's partners received, or its buyers bought, between two days, by replication;
and the change from one run to another against what chance alone gives.

The story tests judge each period between two of the orders on its own: over a whole run
a partner may lose overall and still gain while only the first order is in force."""

from __future__ import annotations

import pandas as pd

import flowsim
from flowsim.stats import confidence_interval
from flowsim.tables import purchases


def kg_between(
    results: flowsim.Results, first: pd.Timestamp, last: pd.Timestamp, bought: bool = False
) -> pd.DataFrame:
    """Exports in kg from ``first`` up to (not including) ``last``, replications as rows,
    partners as columns, with a total; with ``bought``, what each buyer and refiner
    bought down a route into it in those days."""
    if bought:
        rows = purchases(results)
        columns = sorted(set(results.routes["to_node"].astype(str)) - set(results.partners))
    else:
        ledger = results.ledger
        rows = ledger[(ledger["event"] == "exported") & ledger["node"].isin(results.partners)]
        columns = list(results.partners)
    start, end = ((day - results.start).days for day in (first, last))
    rows = rows[(rows["day"] >= start) & (rows["day"] < end)]
    kg = rows.groupby(["replication", "node"])["kg"].sum().unstack("node")
    kg = kg.reindex(index=range(results.replications), columns=columns).fillna(0.0)
    kg["total"] = kg.sum(axis=1)
    return kg


def paired(base: pd.DataFrame, other: pd.DataFrame) -> pd.DataFrame:
    """Each column's change from ``base`` to ``other``, with the 95% interval of the
    paired difference over replications (the two runs share their seeds)."""
    rows = {}
    for column in base.columns:
        low, high = confidence_interval((other[column] - base[column]).to_numpy())
        rows[column] = {"baseline_kg": base[column].mean(), "low": low, "high": high}
    return pd.DataFrame.from_dict(rows, orient="index")


def rising(table: pd.DataFrame) -> set[str]:
    """Columns, the total aside, that rise beyond what chance alone gives."""
    table = table.drop("total", errors="ignore")
    return set(table.index[table["low"] > 0])
