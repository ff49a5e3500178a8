"""Synthetic networks of any size, as ordinary flowsim scenarios.

A four-stage chain: mines produce lots (Poisson arrivals, one lot per mine
per day on average), buyers and refiners each serve their queue with
exponential service times, and partners receive. Every mine sells to one
buyer, every buyer to two refiners, every refiner to two partners. Transit
times are exponential. The same schedule drives the bare-SimPy reference.

`chain_scenario` builds the simplest such network, one node per stage, which
a general queueing library can express too (see benchmarks/peers.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
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
        """Days of the calendar the scenario runs, leap days included."""
        return (date(START_YEAR + self.years, 1, 1) - date(START_YEAR, 1, 1)).days

    @property
    def expected_lots(self) -> int:
        return self.mines * self.days


SIZES = {
    "S": Size("S", mines=20, buyers=4, refiners=2, partners=4, years=1),
    # M's network over one year: M1 against M shows how the cost grows with years
    # alone, M against L with the size of the network.
    "M1": Size("M1", mines=200, buyers=20, refiners=6, partners=8, years=1),
    "M": Size("M", mines=200, buyers=20, refiners=6, partners=8, years=5),
    "L": Size("L", mines=400, buyers=40, refiners=10, partners=10, years=5),
}
QUICK = ("S",)
START_YEAR = 2020  # the first year of every synthetic calendar

LOT_KG = 1.0  # a mine's lot, on average
TRANSIT_DAYS = 1.0  # mean transit time on every route
# Mean service time per lot at a buyer or refiner (days), chosen so that the
# busiest server runs at about 80% utilisation: queues form but stay stable.
BUYER_SERVICE = 0.8
REFINER_SERVICE = 0.8
UTILISATION = 0.8


@dataclass(frozen=True)
class Chain:
    """One mine, one buyer, one refiner, one partner in a line: the network that
    flowsim and a general queueing library can both express exactly."""

    name: str
    lots_per_day: float  # the mine's Poisson rate
    years: int

    @property
    def servers(self) -> int:
        """Servers at the buyer and at the refiner, for about 80% utilisation."""
        return max(1, round(self.lots_per_day * BUYER_SERVICE / UTILISATION))

    @property
    def mean_days_in_chain(self) -> float:
        """Queueing theory's mean time from a lot's arrival to its export: three
        transits, and at buyer and refiner an M/M/c queue's wait (Erlang C) and
        service. Both models of the chain should come close to it."""
        days = 3 * TRANSIT_DAYS
        for service in (BUYER_SERVICE, REFINER_SERVICE):
            c, load = self.servers, self.lots_per_day * service
            waiting = load**c / math.factorial(c) * c / (c - load)
            erlang_c = waiting / (sum(load**k / math.factorial(k) for k in range(c)) + waiting)
            days += erlang_c / (c / service - self.lots_per_day) + service
        return days


# Ten servers a stage, as at size S's refiners: a general library's cost per server
# (Ciw looks through its servers) would weigh more on wider stages.
CHAINS = {
    "full": Chain("full", lots_per_day=10.0, years=15),  # about 55,000 lots
    "quick": Chain("quick", lots_per_day=10.0, years=5),  # about 18,000 lots
}


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
    start = START_YEAR
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


def chain_scenario(chain: Chain) -> Scenario:
    return flowsim.scenario_from_dict(chain_scenario_dict(chain), file=f"<chain {chain.name}>")


def chain_scenario_dict(chain: Chain) -> dict[str, Any]:
    """mine -> buyer -> refiner -> partner: Poisson lots of LOT_KG, exponential
    transits and services, as in `scenario_dict`."""
    start = 2021

    def base(kind: str) -> dict[str, Any]:
        return {
            "kind": kind,
            "jurisdiction": "AAA" if kind != "partner" else "BBB",
            "entity": kind,
            "legal_status": "licensed",
            "region": "region0",
        }

    processor = {"capacity_kg_per_day": 1e9, "servers": chain.servers}
    nodes = {
        "mine": {
            **base("mine"),
            "production_kg_per_day": LOT_KG * chain.lots_per_day,
            "lot_interval_days": {"dist": "exponential", "mean": 1.0 / chain.lots_per_day},
        },
        "buyer": {
            **base("buyer"),
            **processor,
            "processing_days": {"dist": "exponential", "mean": BUYER_SERVICE},
        },
        "refiner": {
            **base("refiner"),
            **processor,
            "processing_days": {"dist": "exponential", "mean": REFINER_SERVICE},
            "output_purity": 0.9,  # equal to the dore's: no mass removed
        },
        "partner": base("partner"),
    }
    return {
        "meta": {"name": f"chain_{chain.name}"},
        "calendar": {"start": f"{start}-01-01", "end": f"{start + chain.years - 1}-12-31"},
        "prices": {"usd_per_oz": {str(y): 1800.0 for y in range(start, start + chain.years)}},
        "nodes": nodes,
        "routes": {
            "mine_buyer": _route("mine", "buyer"),
            "buyer_refiner": _route("buyer", "refiner"),
            "refiner_partner": _route("refiner", "partner"),
        },
    }


def held_scenario_dict(years: int, refused: bool) -> dict[str, Any]:
    """A mine, a buyer and two partners, 100 lots a day. With ``refused``, a sanction
    that both partners comply with in full from the first day: no lot ever leaves the
    mine, and every one is held to the end. Without it, the same lots flow."""
    end = date(START_YEAR + years, 1, 1).toordinal() - 1

    def party(kind: str, jurisdiction: str, **fields: Any) -> dict[str, Any]:
        return {
            "kind": kind,
            "jurisdiction": jurisdiction,
            "entity": f"{kind} {jurisdiction}",
            "legal_status": "licensed",
            "region": "r",
            **fields,
        }

    return {
        "meta": {"name": f"held_{years}y" if refused else f"flowing_{years}y"},
        "calendar": {"start": f"{START_YEAR}-01-01", "end": str(date.fromordinal(end))},
        "prices": {"usd_per_oz": {str(START_YEAR + y): 1500.0 for y in range(years)}},
        "simulation": {"lot_interval_days": 0.01},
        "nodes": {
            "mine": party("mine", "VEN", production_kg_per_day=100.0),
            "buyer": party("buyer", "VEN", capacity_kg_per_day=1e6),
            "tur": party("partner", "TUR"),
            "usa": party("partner", "USA"),
        },
        "routes": {
            "mine_buyer": {"from": "mine", "to": "buyer", "transit_days": 1.0},
            "buyer_tur": {"from": "buyer", "to": "tur", "transit_days": 1.0},
            "buyer_usa": {"from": "buyer", "to": "usa", "transit_days": 1.0},
        },
        "policies": {
            "sanctions": {
                "all": {
                    "enabled": refused,
                    "issuer": "USA",
                    "effective": f"{START_YEAR}-01-01",
                    "target_jurisdictions": ["VEN"],
                    "default_compliance": 1.0,
                }
            }
        },
    }


def held_scenario(years: int, refused: bool) -> Scenario:
    return flowsim.scenario_from_dict(held_scenario_dict(years, refused))
