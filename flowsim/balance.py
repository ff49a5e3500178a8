"""The mass balance: no gold is made or lost but where the ledger says so.

``opening_stock + produced = exported + seized + lost + in_stock + in_transit``
for every replication, and, node by node, the stock the ledger implies equals the
stock the engine held at the end. A break is a bug in flowsim
(:class:`~flowsim.errors.MassBalanceError`, exit code 3).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from flowsim.errors import MassBalanceError
from flowsim.tables import STOCK_SIGNS

if TYPE_CHECKING:
    from flowsim.results import Results

__all__ = ["BALANCE_RTOL", "balance", "check_balance"]

# Relative tolerance of the mass balance: float sums over a run's rows.
BALANCE_RTOL = 1e-9
SUM_CHUNK = 1 << 16  # ledger rows summed at a time by the balance checks


def balance(results: Results) -> pd.DataFrame:
    """The mass balance of each replication, in kg.

    The left side and the outflows come from the ledger, ``in_stock`` and
    ``in_transit`` from the lots the engine still held when the run ended.
    ``residual`` is left minus right; ``ok`` says whether it is within
    floating-point tolerance.
    """
    flows = _kg_sums(results, by_node=False).unstack("event")
    table = pd.DataFrame(index=pd.RangeIndex(results.replications, name="replication"))
    for name in ("opening_stock", "produced", "exported", "seized", "lost"):
        table[name] = flows.get(name, 0.0)
    stock = results.end_state.groupby("replication")["kg"].sum()
    table["in_stock"] = stock.reindex(table.index, fill_value=0.0)
    table["in_transit"] = results.runs.set_index("replication")["in_transit_kg"].reindex(
        table.index
    )
    inflow = table["opening_stock"] + table["produced"]
    outflow = table[["exported", "seized", "lost", "in_stock", "in_transit"]].sum(axis=1)
    table["residual"] = inflow - outflow
    table["ok"] = table["residual"].abs() <= BALANCE_RTOL * inflow.clip(lower=1.0)
    return table.reset_index()


def _kg_sums(results: Results, by_node: bool) -> pd.Series:
    """kg of the ledger summed by replication, node (if ``by_node``; "" for rows with
    none) and event, every combination present.

    With ``np.bincount`` over the category codes: a pandas groupby over a ledger of
    millions of rows needs several times the ledger's memory.
    """
    ledger = results.ledger
    event_codes, events = _codes(ledger["event"])
    replications = ledger["replication"].to_numpy()
    levels: list[Any] = [range(results.replications)]
    names = ["replication"]
    if by_node:
        node_codes, nodes = _codes(ledger["node"])
        levels.append(["", *nodes])
        names.append("node")
    size = len(events) * int(np.prod([len(level) for level in levels]))
    kg = ledger["kg"].to_numpy()
    sums = np.zeros(size)
    for start in range(0, len(ledger), SUM_CHUNK):  # in chunks: the keys stay small
        rows = slice(start, start + SUM_CHUNK)
        key = replications[rows].astype(np.int64)
        if by_node:
            key *= len(nodes) + 1
            np.add(key, node_codes[rows], out=key)
            key += 1  # missing (-1) becomes 0
        key *= len(events)
        np.add(key, event_codes[rows], out=key)
        sums += np.bincount(key, weights=kg[rows], minlength=size)
    index = pd.MultiIndex.from_product([*levels, list(events)], names=[*names, "event"])
    return pd.Series(sums, index=index, name="kg")


def check_balance(results: Results) -> None:
    """Raise :class:`MassBalanceError` if any replication's balance breaks."""
    table = balance(results)
    bad = table[~table["ok"]]
    if not bad.empty:
        row = bad.iloc[0]
        raise MassBalanceError(
            f"mass balance broken in replication {int(row['replication'])} of "
            f"{results.meta.scenario}: residual {row['residual']:.6g} kg\n{bad.to_string()}"
        )
    # Node by node, the stock the ledger implies must be the stock the engine held.
    # Sums by (replication, node, event) keep this small on a large ledger.
    sums = _kg_sums(results, by_node=True).reset_index()
    signs = sums["event"].astype(str).map(STOCK_SIGNS).astype(float).fillna(0.0)
    signed = sums["kg"].astype(float) * signs
    last = signed.groupby([sums["replication"], sums["node"].astype(str)]).sum()
    last.index.names = ["replication", "node"]
    held = results.end_state.set_index(["replication", "node"])["kg"]
    nodes = results.nodes
    holders = nodes.loc[nodes["kind"] != "partner", "node"]
    held = held[held.index.get_level_values("node").isin(holders)]
    last = last.reindex(held.index, fill_value=0.0)
    gap = (last - held).abs()
    scale = BALANCE_RTOL * max(1.0, float(table["produced"].max() + table["opening_stock"].max()))
    if (gap > scale).any():
        where = gap.idxmax()
        raise MassBalanceError(
            f"stock at node {where[1]!r} (replication {where[0]}) is {held[where]:.6g} kg "
            f"but the ledger says {last[where]:.6g} kg"
        )


def _codes(column: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Category codes (-1 for missing) and categories of a column."""
    if not isinstance(column.dtype, pd.CategoricalDtype):
        column = column.astype("category")
    return column.array.codes, column.cat.categories  # the codes themselves, uncopied
