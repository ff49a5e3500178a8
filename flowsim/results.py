"""Results of a run: the ledger, tidy tables, the mass balance and the summary.

The run folder that :meth:`Results.save` writes and :meth:`Results.load`
reads is described in :mod:`flowsim.runfolder`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from flowsim.errors import MassBalanceError
from flowsim.provenance import EXPOSURES, exposure_table
from flowsim.runfolder import load_run, save_run
from flowsim.stats import aggregate

__all__ = ["FORMAT_VERSION", "SUMMARY_TOTALS", "Results"]

FORMAT_VERSION = 1
SUMMARY_TOTALS = (
    "opening_stock",
    "produced",
    "exported",
    "seized",
    "lost",
    "in_stock",
    "in_transit",
)
# Relative tolerance of the mass balance: float sums over a run's rows.
BALANCE_RTOL = 1e-9
SUM_CHUNK = 1 << 18  # ledger rows summed at a time by the balance checks
# How each event changes the stock of the node it names.
STOCK_SIGNS = {
    "opening_stock": 1.0,
    "produced": 1.0,
    "delivered": 1.0,
    "shipped": -1.0,
    "lost": -1.0,
    "seized": -1.0,
}


class Results:
    """Everything one call of :func:`flowsim.simulate` produced.

    Tables are pandas DataFrames in long ("tidy") form with a ``replication``
    column. ``meta`` holds the scenario's name, calendar, seed and version.
    """

    def __init__(
        self,
        *,
        ledger: pd.DataFrame,
        receipts: pd.DataFrame,
        melts: pd.DataFrame,
        nodes: pd.DataFrame,
        routes: pd.DataFrame,
        categories: pd.DataFrame,
        end_state: pd.DataFrame,
        runs: pd.DataFrame,
        meta: Mapping[str, Any],
    ):
        self.ledger = ledger
        self.receipts = receipts
        self.melts = melts
        self.categories = categories
        self.nodes = nodes
        self.routes = routes
        self.end_state = end_state
        self.runs = runs
        self.meta = dict(meta)

    def __repr__(self) -> str:
        return (
            f"<Results {self.meta.get('scenario')!r} seed={self.meta.get('seed')} "
            f"replications={self.replications} rows={len(self.ledger)}>"
        )

    # --- basics -------------------------------------------------------------------

    @property
    def replications(self) -> int:
        return int(self.meta["replications"])

    @property
    def start(self) -> pd.Timestamp:
        return pd.Timestamp(self.meta["start"])

    @property
    def end(self) -> pd.Timestamp:
        return pd.Timestamp(self.meta["end"])

    def _ids(self, kind: str) -> list[str]:
        return self.nodes.loc[self.nodes["kind"] == kind, "node"].tolist()

    @property
    def partners(self) -> list[str]:
        return self._ids("partner")

    @property
    def mines(self) -> list[str]:
        return self._ids("mine")

    @property
    def refiners(self) -> list[str]:
        return self._ids("refiner")

    def _months(self) -> pd.DatetimeIndex:
        first = self.start.to_period("M").to_timestamp()
        return pd.date_range(first, self.end, freq="MS").as_unit("ns")

    def _with_month(self, rows: pd.DataFrame) -> pd.DataFrame:
        """Add the calendar ``date`` of each row's day and the first day of its ``month``."""
        start = np.datetime64(self.start.date(), "D")
        dates = start + np.floor(rows["day"].to_numpy()).astype("timedelta64[D]")
        # One time unit everywhere, so that tables from different runs compare equal.
        return rows.assign(
            date=dates.astype("datetime64[ns]"),
            month=dates.astype("datetime64[M]").astype("datetime64[ns]"),
        )

    def _rows(self, event: str) -> pd.DataFrame:
        return self.ledger[self.ledger["event"] == event]

    def _monthly(self, event: str, ids: list[str], value_cols: list[str]) -> pd.DataFrame:
        """Sum ``value_cols`` of one event kind by replication, month and node,
        with a row (of zeros) for every combination."""
        rows = self._with_month(self._rows(event))
        sums = rows.groupby(["replication", "month", "node"], observed=True)[value_cols].sum()
        grid = pd.MultiIndex.from_product(
            [range(self.replications), self._months(), ids], names=["replication", "month", "node"]
        )
        sums.index = sums.index.set_levels(sums.index.levels[2].astype(str), level=2)
        return sums.reindex(grid, fill_value=0.0).reset_index()

    # --- tidy tables -------------------------------------------------------------

    @cached_property
    def exports_monthly(self) -> pd.DataFrame:
        """Exports by replication, month and partner, in kg and USD."""
        table = self._monthly("exported", self.partners, ["kg", "usd"])
        return table.rename(columns={"node": "partner"})

    @cached_property
    def production_monthly(self) -> pd.DataFrame:
        """Production by replication, month and mine, in kg."""
        table = self._monthly("produced", self.mines, ["kg"])
        return table.rename(columns={"node": "mine"})

    @cached_property
    def seizures(self) -> pd.DataFrame:
        """Every seizure: in transit (``route`` set) or from a node's stock (``node`` set)."""
        rows = self._with_month(self._rows("seized"))
        rows = rows.assign(where=np.where(rows["node"].isna(), "transit", "stock"))
        return rows[
            ["replication", "day", "date", "month", "where", "node", "route", "lot", "kg"]
        ].reset_index(drop=True)

    @cached_property
    def exposure_monthly(self) -> pd.DataFrame:
        """Per replication, month and receiving node (partners and refiners): mass and
        USD received, and the mass, USD and share of it exposed (see
        :mod:`flowsim.provenance`)."""
        receivers = self.partners + self.refiners
        grid = pd.MultiIndex.from_product(
            [range(self.replications), self._months(), receivers],
            names=["replication", "month", "node"],
        )
        receipts = self._with_month(self.receipts)
        return exposure_table(receipts, self.categories, ["replication", "month", "node"], grid)

    @cached_property
    def exposure(self) -> pd.DataFrame:
        """Per replication and receiving node, over the whole run."""
        receivers = self.partners + self.refiners
        grid = pd.MultiIndex.from_product(
            [range(self.replications), receivers], names=["replication", "node"]
        )
        return exposure_table(self.receipts, self.categories, ["replication", "node"], grid)

    @cached_property
    def stocks_monthly(self) -> pd.DataFrame:
        """Stock held at each mine, buyer and refiner at the end of each month, in kg."""
        signs = STOCK_SIGNS
        rows = self.ledger[self.ledger["event"].isin(list(signs)) & self.ledger["node"].notna()]
        rows = self._with_month(rows)
        signed = rows["kg"] * rows["event"].map(signs).astype(float)
        flows = (
            rows.assign(kg=signed)
            .groupby(["replication", "node", "month"], observed=True)["kg"]
            .sum()
        )
        holders = self.nodes.loc[self.nodes["kind"] != "partner", "node"].tolist()
        flows.index = flows.index.set_levels(flows.index.levels[1].astype(str), level=1)
        grid = pd.MultiIndex.from_product(
            [range(self.replications), holders, self._months()],
            names=["replication", "node", "month"],
        )
        table = flows.reindex(grid, fill_value=0.0).groupby(level=["replication", "node"]).cumsum()
        return table.reset_index()[["replication", "month", "node", "kg"]]

    # --- mass balance ------------------------------------------------------------

    def balance(self) -> pd.DataFrame:
        """The mass balance of each replication, in kg.

        ``opening_stock + produced = exported + seized + lost + in_stock + in_transit``,
        where the left side and the outflows come from the ledger and
        ``in_stock`` and ``in_transit`` from the lots the engine still held
        when the run ended. ``residual`` is left minus right; ``ok`` says
        whether it is within floating-point tolerance.
        """
        flows = self._kg_sums(by_node=False).unstack("event")
        table = pd.DataFrame(index=pd.RangeIndex(self.replications, name="replication"))
        for name in ("opening_stock", "produced", "exported", "seized", "lost"):
            table[name] = flows.get(name, 0.0)
        stock = self.end_state.groupby("replication")["kg"].sum()
        table["in_stock"] = stock.reindex(table.index, fill_value=0.0)
        table["in_transit"] = self.runs.set_index("replication")["in_transit_kg"].reindex(
            table.index
        )
        inflow = table["opening_stock"] + table["produced"]
        outflow = table[["exported", "seized", "lost", "in_stock", "in_transit"]].sum(axis=1)
        table["residual"] = inflow - outflow
        table["ok"] = table["residual"].abs() <= BALANCE_RTOL * inflow.clip(lower=1.0)
        return table.reset_index()

    def _kg_sums(self, by_node: bool) -> pd.Series:
        """kg of the ledger summed by replication, node (if ``by_node``; "" for rows
        with none) and event, every combination present.

        With ``np.bincount`` over the category codes: a pandas groupby over a ledger
        of millions of rows needs several times the ledger's memory.
        """
        ledger = self.ledger
        event_codes, events = _codes(ledger["event"])
        replications = ledger["replication"].to_numpy()
        levels: list[Any] = [range(self.replications)]
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

    def check_balance(self) -> None:
        """Raise :class:`MassBalanceError` if any replication's balance breaks."""
        table = self.balance()
        bad = table[~table["ok"]]
        if not bad.empty:
            row = bad.iloc[0]
            raise MassBalanceError(
                f"mass balance broken in replication {int(row['replication'])} of "
                f"{self.meta.get('scenario')}: residual {row['residual']:.6g} kg\n{bad.to_string()}"
            )
        # Node by node, the stock the ledger implies must be the stock the engine held.
        # Sums by (replication, node, event) keep this small on a large ledger.
        sums = self._kg_sums(by_node=True).reset_index()
        signs = sums["event"].astype(str).map(STOCK_SIGNS).astype(float).fillna(0.0)
        signed = sums["kg"].astype(float) * signs
        last = signed.groupby([sums["replication"], sums["node"].astype(str)]).sum()
        last.index.names = ["replication", "node"]
        held = self.end_state.set_index(["replication", "node"])["kg"]
        holders = self.nodes.loc[self.nodes["kind"] != "partner", "node"]
        held = held[held.index.get_level_values("node").isin(holders)]
        last = last.reindex(held.index, fill_value=0.0)
        gap = (last - held).abs()
        scale = BALANCE_RTOL * max(
            1.0, float(table["produced"].max() + table["opening_stock"].max())
        )
        if (gap > scale).any():
            where = gap.idxmax()
            raise MassBalanceError(
                f"stock at node {where[1]!r} (replication {where[0]}) is {held[where]:.6g} kg "
                f"but the ledger says {last[where]:.6g} kg"
            )

    # --- summary -----------------------------------------------------------------

    def totals_kg(self) -> pd.DataFrame:
        """Per replication: the terms of the balance, in kg."""
        return self.balance()[["replication", *SUMMARY_TOTALS]]

    def exports_by_partner(self) -> pd.DataFrame:
        """Per replication and partner: kg and USD exported over the whole run."""
        return (
            self.exports_monthly.groupby(["replication", "partner"], sort=False)[["kg", "usd"]]
            .sum()
            .reset_index()
        )

    def figures_by_replication(self) -> list[dict[str, Any]]:
        """The summary figures of each replication, in the shape of ``summary.json``."""
        totals = self.totals_kg().set_index("replication")
        exports = self.exports_by_partner().set_index(["replication", "partner"])
        seized = self.seizures.groupby(["replication", "where"])["kg"].sum()
        by_route = self.ledger.groupby(["replication", "event", "route"], observed=True)["kg"].sum()
        by_route = by_route.reset_index()
        shipped = by_route[by_route["event"] == "shipped"]
        cost = self.routes.set_index("route")["cost_usd_per_kg"]
        transport = (
            (shipped["kg"] * cost.reindex(shipped["route"].astype(str)).to_numpy())
            .groupby(shipped["replication"])
            .sum()
        )
        fuel = self.runs.set_index("replication")["fuel_premium_usd"]
        keep = ["received_kg", "received_usd"] + [
            f"{name}_{part}" for name in EXPOSURES for part in ("share", "kg", "usd")
        ]
        # Plain dictionaries first: looking up thousands of cells in DataFrames is slow.
        exposure = {
            (k, node): values
            for (k, node), values in self.exposure.set_index(["replication", "node"])[keep]
            .to_dict(orient="index")
            .items()
        }
        kg = exports["kg"].to_dict()
        usd = exports["usd"].to_dict()
        totals_by = totals[list(SUMMARY_TOTALS)].to_dict(orient="index")

        figures = []
        for k in range(self.replications):
            usd_k = {p: float(usd[(k, p)]) for p in self.partners}
            figures.append(
                {
                    "totals_kg": {t: float(v) for t, v in totals_by[k].items()},
                    "exports_kg_by_partner": {p: float(kg[(k, p)]) for p in self.partners},
                    "exports_usd_by_partner": usd_k,
                    "exports_usd_total": sum(usd_k.values()),
                    "exposure_by_partner": {p: exposure[(k, p)] for p in self.partners},
                    "exposure_by_refiner": {r: exposure[(k, r)] for r in self.refiners},
                    "seized_kg_by_place": {
                        place: float(seized.get((k, place), 0.0)) for place in ("transit", "stock")
                    },
                    "transport_cost_usd": float(transport.get(k, 0.0)),
                    "black_market_fuel_premium_usd": float(fuel.get(k, 0.0)),
                }
            )
        return figures

    def metrics(self) -> pd.DataFrame:
        """Every figure of every replication as a long table: ``replication``,
        ``metric`` (the key path in ``summary.json``, dotted, e.g.
        ``exports_kg_by_partner.turkey``) and ``value``; plus monthly exports as
        ``exports_kg_monthly.<partner>.<YYYY-MM>`` and ``exports_usd_monthly...``."""
        rows: list[tuple[int, str, float]] = []
        for k, figures in enumerate(self.figures_by_replication()):
            rows.extend((k, name, value) for name, value in _flatten(figures))
        monthly = self.exports_monthly
        months = monthly["month"].dt.strftime("%Y-%m")
        for unit in ("kg", "usd"):
            names = f"exports_{unit}_monthly." + monthly["partner"].astype(str) + "." + months
            rows.extend(
                zip(monthly["replication"], names, monthly[unit].astype(float), strict=True)
            )
        return pd.DataFrame(rows, columns=["replication", "metric", "value"])

    def summary(self) -> dict[str, Any]:
        """The content of ``summary.json`` (docs/summary.md): every figure is the mean
        over replications, with its standard deviation under ``sd`` and its 95%
        confidence interval under ``ci95``, at the same key path."""
        means, sds, intervals = aggregate(self.figures_by_replication())
        return {
            "format_version": FORMAT_VERSION,
            "scenario": self.meta["scenario"],
            "description": self.meta.get("description", ""),
            "seed": self.meta["seed"],
            "replications": self.replications,
            "start": str(self.start.date()),
            "end": str(self.end.date()),
            "flowsim_version": self.meta["flowsim_version"],
            "scenario_hash": self.meta.get("scenario_hash"),
            **means,
            "policies": self.meta.get("policies", []),
            "sd": sds,
            "ci95": intervals,
        }

    # --- on disk -----------------------------------------------------------------

    def save(self, directory: str | Path, *, extras: Callable[[Path], None] | None = None) -> Path:
        """Write the run folder atomically and return its path. ``extras(folder)``
        may add files (a report) to the folder before it appears. An earlier run
        folder at ``directory`` is replaced; anything else there is refused
        (:mod:`flowsim.runfolder`)."""
        return save_run(self, directory, extras)

    @classmethod
    def load(cls, directory: str | Path) -> Results:
        """Read a run folder written by :meth:`save`, verifying every file it reads."""
        tables, meta = load_run(directory)
        return cls(**tables, meta=meta)


def _flatten(tree: Mapping[str, Any], prefix: str = ""):
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            yield from _flatten(value, f"{name}.")
        else:
            yield name, float(value)


def _codes(column: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Category codes (-1 for missing) and categories of a column."""
    if not isinstance(column.dtype, pd.CategoricalDtype):
        column = column.astype("category")
    return column.cat.codes.to_numpy(), column.cat.categories
