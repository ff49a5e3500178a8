"""The compiled network: nodes and routes as integer-indexed tables.

The engine works on integer indices and plain lists, so that the hot path
does no dictionary look-ups by name and no pydantic attribute access.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass
from datetime import date as Date

import pandas as pd

from flowsim.schema import Scenario

__all__ = ["BUYER", "KG_TO_TROY_OZ", "KINDS", "MINE", "PARTNER", "REFINER", "Network"]

KG_TO_TROY_OZ = 32.150746568627976
MINE, BUYER, REFINER, PARTNER = 0, 1, 2, 3
KINDS = ("mine", "buyer", "refiner", "partner")


@dataclass(frozen=True)
class Network:
    scenario: Scenario
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

    @classmethod
    def build(cls, scenario: Scenario) -> Network:
        node_ids = tuple(scenario.nodes)
        index = {node_id: i for i, node_id in enumerate(node_ids)}
        route_ids = tuple(scenario.routes)
        sources = tuple(index[r.source] for r in scenario.routes.values())
        targets = tuple(index[r.target] for r in scenario.routes.values())
        out: list[list[int]] = [[] for _ in node_ids]
        for r, s in enumerate(sources):
            out[s].append(r)
        years = sorted(scenario.prices.usd_per_oz)
        origins = [(n.jurisdiction, n.legal_status) for n in scenario.nodes.values()]
        categories = tuple(
            sorted(
                {
                    o
                    for o, n in zip(origins, scenario.nodes.values(), strict=True)
                    if n.kind == "mine"
                }
            )
        )
        return cls(
            scenario=scenario,
            node_ids=node_ids,
            kinds=tuple(KINDS.index(n.kind) for n in scenario.nodes.values()),
            out_routes=tuple(tuple(rs) for rs in out),
            route_ids=route_ids,
            route_source=sources,
            route_target=targets,
            price_change_days=tuple(scenario.day_of(Date(y, 1, 1)) for y in years),
            usd_per_kg=tuple(scenario.prices.usd_per_oz[y] * KG_TO_TROY_OZ for y in years),
            categories=categories,
            category_of=tuple(categories.index(o) if o in categories else -1 for o in origins),
        )

    def index(self, node_id: str) -> int:
        return self.node_ids.index(node_id)

    def price_usd_per_kg(self, day: float) -> float:
        """World price of a kg of fine gold on a simulation day."""
        k = bisect_right(self.price_change_days, day) - 1
        return self.usd_per_kg[max(k, 0)]

    def node_table(self) -> pd.DataFrame:
        rows = []
        for node_id, node in self.scenario.nodes.items():
            rows.append(
                {
                    "node": node_id,
                    "kind": node.kind,
                    "name": node.name or node_id,
                    "jurisdiction": node.jurisdiction,
                    "entity": node.entity,
                    "legal_status": node.legal_status,
                    "region": node.region,
                }
            )
        return pd.DataFrame(rows)

    def category_table(self) -> pd.DataFrame:
        """Origin categories: jurisdiction x legal status of the mines."""
        return pd.DataFrame(
            {
                "category": range(len(self.categories)),
                "jurisdiction": [c[0] for c in self.categories],
                "legal_status": [c[1] for c in self.categories],
            }
        )

    def route_table(self) -> pd.DataFrame:
        rows = []
        for route_id, route in self.scenario.routes.items():
            rows.append(
                {
                    "route": route_id,
                    "from": route.source,
                    "to": route.target,
                    "mean_transit_days": float(route.transit_days.mean),
                    "cost_usd_per_kg": route.cost_usd_per_kg,
                    # NaN, not None, for no limit: the column stays a float column.
                    "capacity_kg_per_day": (
                        math.nan
                        if route.capacity_kg_per_day is None
                        else float(route.capacity_kg_per_day)
                    ),
                    "seizure_probability": route.seizure_probability,
                    "weight": route.weight,
                    "release_share": route.release_share,
                }
            )
        return pd.DataFrame(rows)
