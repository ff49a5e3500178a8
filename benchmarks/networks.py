"""Synthetic networks of any size, as ordinary flowsim scenarios.

A four-stage chain: mines produce lots (Poisson arrivals, one lot per mine
per day on average), buyers and refiners each serve their queue with
exponential service times, and partners receive. Every mine sells to one
buyer, every buyer to two refiners, every refiner to two partners. Transit
times are exponential. The same schedule drives the bare-SimPy reference.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import flowsim
from flowsim.schema import Scenario


@dataclass(frozen=True)
class Size:
    name: str
    mines: int
    buyers: int
    refiners: int
    partners: int
    years: int

    @property
    def days(self) -> int:
        return 365 * self.years

    @property
    def expected_lots(self) -> int:
        return self.mines * self.days


SIZES = {
    "S": Size("S", mines=20, buyers=4, refiners=2, partners=4, years=1),
    "M": Size("M", mines=200, buyers=20, refiners=6, partners=8, years=5),
    "L": Size("L", mines=400, buyers=40, refiners=10, partners=10, years=5),
}
QUICK = ("S",)

LOT_KG = 1.0  # a mine's lot, on average
TRANSIT_DAYS = 1.0  # mean transit time on every route
# Mean service time per lot at a buyer or refiner (days), chosen so that the
# busiest server runs at about 80% utilisation: queues form but stay stable.
BUYER_SERVICE = 0.8
REFINER_SERVICE = 0.8


def scenario(size: Size, granularity: str = "lot") -> Scenario:
    return flowsim.scenario_from_dict(scenario_dict(size, granularity), file=f"<bench {size.name}>")


def scenario_dict(size: Size, granularity: str = "lot") -> dict[str, Any]:
    mines_per_buyer = size.mines / size.buyers
    buyers_per_refiner = size.buyers / size.refiners
    nodes: dict[str, Any] = {}
    routes: dict[str, Any] = {}

    def base(kind: str, i: int) -> dict[str, Any]:
        return {
            "kind": kind,
            "jurisdiction": "AAA" if kind != "partner" else "BBB",
            "entity": f"{kind} {i}",
            "legal_status": "illegal" if kind == "mine" and i % 2 else "licensed",
            "region": f"region{i % 5}",
        }

    for i in range(size.mines):
        nodes[f"m{i}"] = {
            **base("mine", i),
            "production_kg_per_day": LOT_KG,
            "lot_interval_days": {"dist": "exponential", "mean": 1.0},
        }
        routes[f"m{i}_b"] = _route(f"m{i}", f"b{i % size.buyers}")
    # One server per buyer can take mines_per_buyer lots a day at most; give
    # each buyer enough servers to run at about 80%.
    for i in range(size.buyers):
        nodes[f"b{i}"] = {
            **base("buyer", i),
            "capacity_kg_per_day": 1e9,
            "processing_days": {"dist": "exponential", "mean": BUYER_SERVICE},
            "servers": max(1, round(mines_per_buyer)),
        }
        for k in range(2):
            routes[f"b{i}_r{k}"] = _route(f"b{i}", f"r{(i + k) % size.refiners}")
    for i in range(size.refiners):
        nodes[f"r{i}"] = {
            **base("refiner", i),
            "capacity_kg_per_day": 1e9,
            "processing_days": {"dist": "exponential", "mean": REFINER_SERVICE},
            "servers": max(1, round(mines_per_buyer * buyers_per_refiner)),
            "output_purity": 0.9,  # equal to the dore's: no mass removed
        }
        for k in range(2):
            routes[f"r{i}_p{k}"] = _route(f"r{i}", f"p{(2 * i + k) % size.partners}")
    for i in range(size.partners):
        nodes[f"p{i}"] = base("partner", i)
    start = 2020
    data = {
        "meta": {"name": f"bench_{size.name}"},
        "calendar": {"start": f"{start}-01-01", "end": f"{start + size.years - 1}-12-31"},
        "prices": {"usd_per_oz": {str(y): 1800.0 for y in range(start, start + size.years)}},
        "nodes": nodes,
        "routes": routes,
    }
    if granularity != "lot":
        data["simulation"] = {"granularity": granularity}
    return data


def _route(source: str, target: str) -> dict[str, Any]:
    return {
        "from": source,
        "to": target,
        "transit_days": {"dist": "exponential", "mean": TRANSIT_DAYS},
    }
