"""The compiled network: nodes and routes as integer-indexed tables.

The engine works on integer indices and plain lists, so that the hot path
does no dictionary look-ups by name and no pydantic attribute access.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import date as Date

import pandas as pd

from flowsim.schema import Mine, Partner, Processor, Scenario

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
    topological_order: tuple[int, ...]
    price_change_days: tuple[float, ...]
    usd_per_kg: tuple[float, ...]

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
        return cls(
            scenario=scenario,
            node_ids=node_ids,
            kinds=tuple(KINDS.index(n.kind) for n in scenario.nodes.values()),
            out_routes=tuple(tuple(rs) for rs in out),
            route_ids=route_ids,
            route_source=sources,
            route_target=targets,
            topological_order=_topological_order(len(node_ids), sources, targets),
            price_change_days=tuple(scenario.day_of(Date(y, 1, 1)) for y in years),
            usd_per_kg=tuple(scenario.prices.usd_per_oz[y] * KG_TO_TROY_OZ for y in years),
        )

    def index(self, node_id: str) -> int:
        return self.node_ids.index(node_id)

    def node(self, i: int) -> Mine | Processor | Partner:
        return self.scenario.nodes[self.node_ids[i]]

    def route(self, r: int):
        return self.scenario.routes[self.route_ids[r]]

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

    def route_table(self) -> pd.DataFrame:
        rows = []
        for route_id, route in self.scenario.routes.items():
            rows.append(
                {
                    "route": route_id,
                    "from": route.source,
                    "to": route.target,
                    "mean_transit_days": _mean_days(route.transit_days),
                    "cost_usd_per_kg": route.cost_usd_per_kg,
                    "capacity_kg_per_day": route.capacity_kg_per_day,
                    "seizure_probability": route.seizure_probability,
                    "weight": route.weight,
                }
            )
        return pd.DataFrame(rows)


def _mean_days(dist) -> float:
    return float(dist.mean) if hasattr(dist, "mean") else float("nan")


def _topological_order(
    n: int, sources: tuple[int, ...], targets: tuple[int, ...]
) -> tuple[int, ...]:
    indegree = [0] * n
    out: list[list[int]] = [[] for _ in range(n)]
    for s, t in zip(sources, targets, strict=True):
        out[s].append(t)
        indegree[t] += 1
    ready = [i for i in range(n) if indegree[i] == 0]
    order = []
    while ready:
        i = ready.pop()
        order.append(i)
        for t in out[i]:
            indegree[t] -= 1
            if indegree[t] == 0:
                ready.append(t)
    return tuple(order)
