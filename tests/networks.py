"""Tiny hand-built scenarios for tests, as plain dictionaries."""

from __future__ import annotations

import copy
from typing import Any

import flowsim


def node(kind: str, **fields: Any) -> dict[str, Any]:
    base = {
        "kind": kind,
        "jurisdiction": "VEN",
        "entity": f"{kind} operator",
        "legal_status": "licensed",
        "region": "north",
    }
    if kind == "mine":
        base.update(production_kg_per_day=10.0)
    elif kind in ("buyer", "refiner"):
        base.update(capacity_kg_per_day=1e6)
    elif kind == "partner":
        base.update(jurisdiction="TUR", region="abroad")
    base.update(fields)
    return base


def route(source: str, target: str, **fields: Any) -> dict[str, Any]:
    return {"from": source, "to": target, "transit_days": 1.0, **fields}


def chain(days: int = 30, **sections: Any) -> dict[str, Any]:
    """mine -> buyer -> partner, 10 kg a day, one day on each route."""
    data: dict[str, Any] = {
        "meta": {"name": "chain"},
        "calendar": {"start": "2018-01-01", "end": _end(days)},
        "prices": {"usd_per_oz": {"2018": 1000.0, "2019": 1000.0}, "dore_purity": 1.0},
        "nodes": {"mine": node("mine"), "buyer": node("buyer"), "partner": node("partner")},
        "routes": {
            "mine_buyer": route("mine", "buyer"),
            "buyer_partner": route("buyer", "partner"),
        },
    }
    data.update(copy.deepcopy(sections))
    return data


def _end(days: int) -> str:
    import datetime

    return str(datetime.date(2018, 1, 1) + datetime.timedelta(days=days - 1))


def run(data: dict[str, Any], seed: int = 0, replications: int = 1) -> flowsim.Results:
    return flowsim.simulate(flowsim.scenario_from_dict(data), seed=seed, replications=replications)


def totals(results: flowsim.Results) -> dict[str, float]:
    return results.summary()["totals_kg"]


def exported_by_partner(results: flowsim.Results) -> dict[str, float]:
    return results.summary()["exports_kg_by_partner"]


def rows(results: flowsim.Results, event: str):
    return results.ledger[results.ledger["event"] == event]
