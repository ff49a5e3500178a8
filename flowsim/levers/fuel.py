"""Fuel restrictions: a cut in the diesel a region's mines get, part of it bought on the
black market at a premium.

compile: ``[policies.fuel_restrictions]`` into cuts per mine (dates, the share of
production lost, the premium paid per kg produced). check: the regions and dates.
query: :class:`Lever` gives a mine's production after the cut and the premium on a
day. describe: the policy rows of summaries and reports.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flowsim.findings import Finding, check_known, check_window
from flowsim.levers.base import Lever as BaseLever
from flowsim.schedules import daily_values

if TYPE_CHECKING:
    import numpy as np

    from flowsim.network import Network
    from flowsim.schema import Scenario

__all__ = ["SECTION", "FuelTables", "Lever", "check", "compile", "describe"]

SECTION = "fuel_restrictions"


@dataclass(frozen=True)
class FuelTables:
    # Per node: (from day, to day, production lost, premium USD per kg produced).
    cuts: tuple[tuple[tuple[float, float, float, float], ...], ...]


def compile(scenario: Scenario, index: Mapping[str, int]) -> FuelTables:
    s = scenario
    cuts: list[list[tuple[float, float, float, float]]] = [[] for _ in s.nodes]
    pump = s.prices.fuel_usd_per_gal
    pump_daily = daily_values(pump, s.calendar.start, s.days) if pump is not None else None
    for rule in s.policies.fuel_restrictions.values():
        if not rule.enabled:
            continue
        start, end = s.day_of(rule.start), s.day_of(rule.end) + 1
        # The pump price is the scenario's, on the day the cut starts, where it gives one.
        price = rule.fuel_price_usd_per_gal
        if pump is not None:
            price = pump_daily[int(start)] if pump_daily is not None else pump
        for i, node in enumerate(s.nodes.values()):
            if node.kind != "mine" or (node.fuel_region or node.region) != rule.region:
                continue
            lost = node.fuel_dependence * rule.supply_cut * (1 - rule.black_market_share)
            black_gal_per_kg = node.fuel_gal_per_kg * rule.supply_cut * rule.black_market_share
            premium = black_gal_per_kg * price * rule.black_market_premium
            cuts[i].append((start, end, lost, premium))
    return FuelTables(tuple(tuple(c) for c in cuts))


def check(s: Scenario) -> Iterator[Finding]:
    fuel_regions = sorted({n.fuel_region or n.region for n in s.nodes.values() if n.kind == "mine"})
    for name, rule in s.policies.fuel_restrictions.items():
        prefix = ("policies", "fuel_restrictions", name)
        yield from check_window(s, prefix, "start", "end", rule.start, rule.end)
        yield from check_known(
            (*prefix, "region"), rule.region, fuel_regions, "no mine draws fuel from region '{}'"
        )


def describe(scenario: Scenario) -> list[dict[str, Any]]:
    return [
        {"kind": "fuel_restriction", "name": name, "enabled": rule.enabled, "from": str(rule.start)}
        for name, rule in scenario.policies.fuel_restrictions.items()
    ]


class Lever(BaseLever):
    def __init__(self, tables: FuelTables, network: Network, rng: np.random.Generator):
        self.cuts = tables.cuts

    def may_touch_production(self, mine: int) -> bool:
        return bool(self.cuts[mine])

    def touches_production(self, mine: int) -> bool:
        return bool(self.cuts[mine])

    def costs_production(self, mine: int) -> bool:
        return bool(self.cuts[mine])

    def factor(self, mine: int, day: float) -> float:
        factor = 1.0
        for start, end, lost, _ in self.cuts[mine]:
            if start <= day < end:
                factor *= 1.0 - lost
        return factor

    def production(self, mine: int, kg_per_day: float, rate: float, day: float) -> float:
        """The output the fuel a mine gets allows."""
        return kg_per_day * self.factor(mine, day)

    def fuel_premium_usd(self, mine: int, day: float, kg: float) -> float:
        """Extra spent on black-market fuel to produce ``kg`` on ``day``."""
        usd = 0.0
        for start, end, _, premium in self.cuts[mine]:
            if start <= day < end:
                usd += premium * kg
        return usd
