"""The compiled network: every number a run needs, as plain integer-indexed tables.

``Network.build(scenario)`` is the one place where the scenario's typed models
are read for a run: nodes and routes become indices, distributions become
:class:`Duration`, mines and processors become small specs, prices a table by
day, and each lever's dated rules its compiled tables (:mod:`flowsim.levers`).
The engine, the levers and the route choosers read only this; none of them
imports the scenario schema.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date as Date
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from flowsim.levers import compile_levers
from flowsim.papers import PapersSpec, compile_papers
from flowsim.schedules import calendar_months, initial
from flowsim.world import (
    KG_TO_TROY_OZ,
    EconomicsSpec,
    ReserveSpec,
    compile_economics,
    compile_reserve,
    compile_schedules,
    monthly_appetite,
)

if TYPE_CHECKING:
    from flowsim.schema import Scenario

__all__ = [
    "BUYER",
    "KG_TO_TROY_OZ",
    "KINDS",
    "MINE",
    "PARTNER",
    "REFINER",
    "Duration",
    "EconomicsSpec",
    "MineSpec",
    "Network",
    "ProcessorSpec",
    "ReserveSpec",
    "StockSpec",
]

MINE, BUYER, REFINER, PARTNER = 0, 1, 2, 3
KINDS = ("mine", "buyer", "refiner", "partner")
# Purity of what a refiner ships when the scenario does not say (four nines gold).
DEFAULT_REFINED_PURITY = 0.9999


@dataclass(frozen=True)
class Duration:
    """A distribution of days: ``kind`` is fixed, exponential, lognormal, triangular or
    uniform; ``params`` are, in order, (value), (mean), (mean, cv), (low, mode, high)
    or (low, high)."""

    kind: str
    params: tuple[float, ...]

    @property
    def mean(self) -> float:
        p = self.params
        if self.kind in ("fixed", "exponential", "lognormal"):
            return p[0]
        return sum(p) / len(p)

    @property
    def constant(self) -> bool:
        """Whether every draw gives the same value."""
        p = self.params
        if self.kind == "fixed":
            return True
        if self.kind == "lognormal":
            return p[1] == 0
        if self.kind in ("triangular", "uniform"):
            return p[0] == p[-1]
        return False

    @classmethod
    def of(cls, dist: Any) -> Duration:
        kind = dist.dist
        names = {
            "fixed": ("value",),
            "exponential": ("mean",),
            "lognormal": ("mean", "cv"),
            "triangular": ("low", "mode", "high"),
            "uniform": ("low", "high"),
        }[kind]
        return cls(kind, tuple(float(getattr(dist, name)) for name in names))


@dataclass(frozen=True)
class MineSpec:
    node: int
    kg_per_day: float
    cv: float
    purity: float
    interval: Duration  # the mine's own, or the scenario's fixed default
    own_interval: bool  # whether the mine set its interval


@dataclass(frozen=True)
class StockSpec:
    origin: int
    kg: float
    lot_kg: float
    purity: float


@dataclass(frozen=True)
class ProcessorSpec:
    node: int
    capacity_kg_per_day: float
    servers: int
    processing: Duration
    loss_fraction: float
    refines_to: float | None  # a refiner's output purity; None for a buyer
    batch_kg: float | None
    stock: tuple[StockSpec, ...]
    reserve: ReserveSpec | None = None


@dataclass(frozen=True)
class Network:
    node_ids: tuple[str, ...]
    kinds: tuple[int, ...]
    out_routes: tuple[tuple[int, ...], ...]
    route_ids: tuple[str, ...]
    route_source: tuple[int, ...]
    route_target: tuple[int, ...]
    price_change_days: tuple[float, ...]
    usd_per_kg: tuple[float, ...]
    # Origin categories (jurisdiction x legal status) of the mines, and each node's.
    categories: tuple[tuple[str, str], ...]
    category_of: tuple[int, ...]
    # Nodes, for the tables of a run and for the levers.
    names: tuple[str, ...]
    jurisdictions: tuple[str, ...]
    entities: tuple[str, ...]
    legal_statuses: tuple[str, ...]
    regions: tuple[str, ...]
    places: tuple[tuple[float, float] | None, ...]  # (lat, lon), for the map only
    price_factor: tuple[float, ...]  # partners'; 0 for other nodes
    mines: tuple[MineSpec, ...]
    processors: tuple[ProcessorSpec, ...]
    # Routes.
    route_transit: tuple[Duration, ...]
    route_transit_factor: tuple[float, ...]  # on the first day; a schedule may change it
    route_cost: tuple[float, ...]
    route_capacity: tuple[float | None, ...]
    route_seizure: tuple[float, ...]
    route_weight: tuple[float, ...]
    route_release: tuple[float, ...]
    # The calendar and how a run moves.
    days: int
    granularity: str
    rents: bool  # keep the books of what each node pays and earns
    collection_days: float
    batch_days: float
    # Route choice.
    route_choice: str
    logit_sensitivity: float
    risk_learning_rate: float
    risk_memory_days: float
    levers: Mapping[str, Any]  # each lever's compiled tables, by its section
    # The rates that schedules change: by quantity (a list of flowsim.rates.Rates), the
    # value on each day of the run of each scheduled node or route, by its index.
    schedules: Mapping[str, Mapping[int, tuple[float, ...]]] = field(default_factory=dict)
    # The day each month of the calendar starts (the first may be before day 0).
    month_start_days: tuple[float, ...] = ()
    # Partners' appetites: kg each month of the calendar (None: no limit), and the share
    # of their price they pay beyond it.
    appetite: tuple[tuple[float, ...] | None, ...] = ()
    beyond_appetite: tuple[float, ...] = ()
    economics: EconomicsSpec | None = None
    # Papers and customs (flowsim.papers); None: lots carry no papers.
    papers: PapersSpec | None = None
    re_export_share: tuple[float, ...] = ()  # by node: a partner's share sold on

    @classmethod
    def build(cls, scenario: Scenario) -> Network:
        nodes = list(scenario.nodes.values())
        node_ids = tuple(scenario.nodes)
        index = {node_id: i for i, node_id in enumerate(node_ids)}
        routes = list(scenario.routes.values())
        sources = tuple(index[r.source] for r in routes)
        targets = tuple(index[r.target] for r in routes)
        out: list[list[int]] = [[] for _ in node_ids]
        for r, s in enumerate(sources):
            out[s].append(r)
        # The price changes at the start of each month: a month's own, else its year's.
        prices = scenario.prices.usd_per_oz
        months = calendar_months(scenario.calendar.start, scenario.calendar.end)
        month_price = [prices.get(f"{y}-{m:02d}", prices.get(y)) for y, m in months]
        origins = [(n.jurisdiction, n.legal_status) for n in nodes]
        categories = tuple(
            sorted({o for o, n in zip(origins, nodes, strict=True) if n.kind == "mine"})
        )
        dore = scenario.prices.dore_purity
        settings = scenario.simulation
        mines, processors = [], []
        for i, node in enumerate(nodes):
            if node.kind == "mine":
                own = node.lot_interval_days is not None
                mines.append(
                    MineSpec(
                        node=i,
                        kg_per_day=initial(node.production_kg_per_day),
                        cv=node.production_cv,
                        purity=node.purity or dore,
                        interval=(
                            Duration.of(node.lot_interval_days)
                            if own
                            else Duration("fixed", (settings.lot_interval_days,))
                        ),
                        own_interval=own,
                    )
                )
            elif node.kind in ("buyer", "refiner"):
                refines_to = None
                if node.kind == "refiner":
                    refines_to = (
                        node.output_purity
                        if node.output_purity is not None
                        else DEFAULT_REFINED_PURITY
                    )
                stock = tuple(
                    StockSpec(
                        origin=index[lot.origin],
                        kg=lot.kg,
                        lot_kg=lot.lot_kg,
                        purity=lot.purity or scenario.nodes[lot.origin].purity or dore,
                    )
                    for lot in node.initial_stock
                )
                processors.append(
                    ProcessorSpec(
                        node=i,
                        capacity_kg_per_day=initial(node.capacity_kg_per_day),
                        servers=node.servers,
                        processing=Duration.of(node.processing_days),
                        loss_fraction=node.loss_fraction,
                        refines_to=refines_to,
                        batch_kg=node.batch_kg,
                        stock=stock,
                        reserve=compile_reserve(scenario, i, node, index, sources, targets),
                    )
                )
        behaviour = scenario.behaviour
        month_start_days = tuple(scenario.day_of(Date(y, m, 1)) for y, m in months)
        return cls(
            node_ids=node_ids,
            kinds=tuple(KINDS.index(n.kind) for n in nodes),
            out_routes=tuple(tuple(rs) for rs in out),
            route_ids=tuple(scenario.routes),
            route_source=sources,
            route_target=targets,
            price_change_days=tuple(scenario.day_of(Date(y, m, 1)) for y, m in months),
            usd_per_kg=tuple(usd * KG_TO_TROY_OZ for usd in month_price),
            categories=categories,
            category_of=tuple(categories.index(o) if o in categories else -1 for o in origins),
            names=tuple(n.name or node_id for node_id, n in zip(node_ids, nodes, strict=True)),
            jurisdictions=tuple(n.jurisdiction for n in nodes),
            entities=tuple(n.entity for n in nodes),
            legal_statuses=tuple(n.legal_status for n in nodes),
            regions=tuple(n.region for n in nodes),
            places=tuple((n.lat, n.lon) if n.lat is not None else None for n in nodes),
            price_factor=tuple(
                initial(n.price_factor) if n.kind == "partner" else 0.0 for n in nodes
            ),
            mines=tuple(mines),
            processors=tuple(processors),
            route_transit=tuple(Duration.of(r.transit_days) for r in routes),
            route_transit_factor=tuple(initial(r.transit_factor) for r in routes),
            route_cost=tuple(initial(r.cost_usd_per_kg) for r in routes),
            route_capacity=tuple(r.capacity_kg_per_day for r in routes),
            route_seizure=tuple(initial(r.seizure_probability) for r in routes),
            route_weight=tuple(initial(r.weight) for r in routes),
            route_release=tuple(r.release_share for r in routes),
            days=scenario.days,
            granularity=settings.granularity,
            rents=settings.rents,
            collection_days=settings.collection_days,
            batch_days=settings.batch_days,
            route_choice=behaviour.route_choice,
            logit_sensitivity=behaviour.logit_sensitivity,
            risk_learning_rate=behaviour.risk_learning_rate,
            risk_memory_days=behaviour.risk_memory_days,
            levers=compile_levers(scenario, index),
            schedules=compile_schedules(scenario, nodes, routes),
            month_start_days=month_start_days,
            appetite=tuple(monthly_appetite(scenario, n, months) for n in nodes),
            beyond_appetite=tuple(
                n.beyond_appetite_price_factor if n.kind == "partner" else 0.0 for n in nodes
            ),
            economics=compile_economics(scenario, nodes),
            papers=compile_papers(scenario, nodes, routes, sources, targets, month_start_days),
            re_export_share=tuple(getattr(n, "re_export_share", 0.0) for n in nodes),
        )

    def change_days(self) -> tuple[int, ...]:
        """The days (after the first) on which a schedule changes a rate, in order."""
        days = {
            day
            for tables in self.schedules.values()
            for table in tables.values()
            for day, _ in _changes(table)
            if day > 0
        }
        return tuple(sorted(days))

    def schedule_table(self) -> pd.DataFrame:
        """Every scheduled rate where it changes: ``quantity`` (a list of
        :class:`flowsim.rates.Rates`), ``id`` (a node or a route), ``day`` from which it
        holds, ``value``; one row on day 0 for each, and one a day it changes."""
        rows = []
        for quantity, tables in self.schedules.items():
            ids = self.route_ids if quantity.startswith("route_") else self.node_ids
            for k, table in tables.items():
                rows.extend((quantity, ids[k], float(d), float(v)) for d, v in _changes(table))
        return pd.DataFrame(
            {
                "quantity": pd.Series([r[0] for r in rows], dtype=object),
                "id": pd.Series([r[1] for r in rows], dtype=object),
                "day": np.asarray([r[2] for r in rows], dtype=float),
                "value": np.asarray([r[3] for r in rows], dtype=float),
            }
        )

    def index(self, node_id: str) -> int:
        return self.node_ids.index(node_id)

    def price_usd_per_kg(self, day: float) -> float:
        """World price of a kg of fine gold on a simulation day."""
        k = bisect_right(self.price_change_days, day) - 1
        return self.usd_per_kg[max(k, 0)]

    def node_table(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "node": list(self.node_ids),
                "kind": [KINDS[k] for k in self.kinds],
                "name": list(self.names),
                "jurisdiction": list(self.jurisdictions),
                "entity": list(self.entities),
                "legal_status": list(self.legal_statuses),
                "region": list(self.regions),
                "laundering_share": (
                    list(self.papers.launder_share) if self.papers else [0.0] * len(self.kinds)
                ),
                "lat": [p[0] if p else float("nan") for p in self.places],
                "lon": [p[1] if p else float("nan") for p in self.places],
            }
        )

    def category_table(self) -> pd.DataFrame:
        """Origin categories: jurisdiction x legal status of the mines."""
        return pd.DataFrame(
            {
                "category": range(len(self.categories)),
                "jurisdiction": [c[0] for c in self.categories],
                "legal_status": [c[1] for c in self.categories],
            }
        )

    def _declared(self) -> list[str | None]:
        papers = self.papers
        if papers is None:
            return [None] * len(self.route_ids)
        where = papers.node_jurisdiction
        names = {(True, True): "both", (True, False): "export", (False, True): "import"}
        return [
            None
            if where[s] == where[t]
            else names.get((papers.declared_export[r], papers.declared_import[r]), "neither")
            for r, (s, t) in enumerate(zip(self.route_source, self.route_target, strict=True))
        ]

    def route_table(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "route": list(self.route_ids),
                "from_node": [self.node_ids[s] for s in self.route_source],
                "to_node": [self.node_ids[t] for t in self.route_target],
                "mean_transit_days": [float(d.mean) for d in self.route_transit],
                "cost_usd_per_kg": list(self.route_cost),
                # NaN, not None, for no limit: the column stays a float column.
                "capacity_kg_per_day": [
                    math.nan if c is None else float(c) for c in self.route_capacity
                ],
                "seizure_probability": list(self.route_seizure),
                "weight": list(self.route_weight),
                "release_share": list(self.route_release),
                # Where customs record a crossing; missing inside a jurisdiction, or
                # without papers on lots.
                "declared": self._declared(),
            }
        )


def _changes(table: tuple[float, ...]) -> list[tuple[int, float]]:
    """(day, value) of the first day and of each day a daily table changes value."""
    return [(d, v) for d, v in enumerate(table) if d == 0 or v != table[d - 1]]
