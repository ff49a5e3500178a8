"""The three levers, compiled to the simulation's day clock.

:class:`PolicyState` answers the engine's questions at a given time (how much
a mine can produce, how fast a refiner works, how likely a shipment is to be
seized, whether a partner refuses a lot) and changes that state when a raid
happens. Sanctions, raids and fuel restrictions do not know about each other.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Generator
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import simpy

from flowsim.network import PARTNER, Network
from flowsim.schema import Mine, Raid

__all__ = ["PolicyState", "RaidEvent", "Regime", "StockHolder"]

DAYS_PER_YEAR = 365.25


class StockHolder(Protocol):
    def seize_stock(self, node: int, fraction: float) -> None: ...


@dataclass(frozen=True)
class Regime:
    """One sanctions regime: who it targets, from when, and who complies."""

    name: str
    start: float
    end: float  # first day on which it no longer applies
    targets: frozenset[int]
    compliance: tuple[float, ...]  # by node index; 0 for nodes that are not partners
    discount: float


@dataclass(frozen=True)
class RaidEvent:
    day: float
    policy: str
    nodes: tuple[int, ...]
    raid: Raid


class PolicyState:
    def __init__(self, network: Network, rng: np.random.Generator):
        s = network.scenario
        self.network = network
        n_nodes, n_routes = len(network.node_ids), len(network.route_ids)
        self.base_seizure = [r.seizure_probability for r in s.routes.values()]

        self.regimes = self._compile_sanctions(network)
        self.has_sanctions = bool(self.regimes)
        node_regimes: list[list[int]] = [[] for _ in range(n_nodes)]
        for k, regime in enumerate(self.regimes):
            for i in regime.targets:
                node_regimes[i].append(k)
        self.node_regimes = tuple(tuple(ks) for ks in node_regimes)
        self.sanction_boundaries = sorted({d for g in self.regimes for d in (g.start, g.end)})

        # Raid damage per node: [day, loss, recovery days]; route boosts: (from, to, increase).
        self.damage: list[list[tuple[float, float, float]]] = [[] for _ in range(n_nodes)]
        self.route_boosts: list[list[tuple[float, float, float]]] = [[] for _ in range(n_routes)]
        self.raids = self._schedule_raids(network, rng)

        # Fuel cuts per mine: (from, to, production lost, premium USD per kg produced).
        self.fuel_cuts: list[list[tuple[float, float, float, float]]] = [[] for _ in range(n_nodes)]
        self._compile_fuel(network)

    # --- sanctions --------------------------------------------------------------

    @staticmethod
    def _compile_sanctions(network: Network) -> list[Regime]:
        s = network.scenario
        regimes = []
        for name, rule in s.policies.sanctions.items():
            if not rule.enabled:
                continue
            targets = frozenset(
                i
                for i, node in enumerate(s.nodes.values())
                if node.entity in rule.target_entities
                or node.jurisdiction in rule.target_jurisdictions
            )
            compliance = tuple(
                rule.compliance.get(node_id, rule.default_compliance)
                if network.kinds[i] == PARTNER
                else 0.0
                for i, node_id in enumerate(network.node_ids)
            )
            end = s.day_of(rule.until) + 1 if rule.until is not None else math.inf
            regimes.append(
                Regime(name, s.day_of(rule.effective), end, targets, compliance, rule.discount)
            )
        return regimes

    def taint_on_leave(self, node: int, arrived: float, leaving: float) -> int:
        """Regimes whose target the lot touched while it stayed at ``node``, as bits."""
        mask = 0
        for k in self.node_regimes[node]:
            regime = self.regimes[k]
            if arrived < regime.end and leaving >= regime.start:
                mask |= 1 << k
        return mask

    def node_taint_now(self, node: int, day: float) -> int:
        return self.taint_on_leave(node, day, day)

    def refusal(self, partner: int, taint: int, day: float) -> tuple[float, float]:
        """Probability that ``partner`` refuses a lot with this taint, and the
        price discount it applies if it takes the lot."""
        refuse = discount = 0.0
        k = 0
        while taint:
            if taint & 1:
                regime = self.regimes[k]
                if regime.start <= day < regime.end:
                    refuse = max(refuse, regime.compliance[partner])
                    discount = max(discount, regime.discount)
            taint >>= 1
            k += 1
        return refuse, discount

    def sanctions_epoch(self, day: float) -> int:
        """Changes value exactly when some regime starts or ends."""
        return bisect_right(self.sanction_boundaries, day)

    # --- raids ------------------------------------------------------------------

    @staticmethod
    def _schedule_raids(network: Network, rng: np.random.Generator) -> list[RaidEvent]:
        s = network.scenario
        events = []
        for name, raid in s.policies.raids.items():
            if not raid.enabled:
                continue
            named = {network.index(n) for n in raid.nodes}
            in_region = {
                i
                for i, node in enumerate(s.nodes.values())
                if raid.region is not None
                and node.region == raid.region
                and node.kind in raid.node_kinds
            }
            targets = tuple(sorted(named | in_region))
            if raid.date is not None:
                days = [s.day_of(raid.date)]
            else:
                start = s.day_of(raid.window_start)
                length = s.day_of(raid.window_end) + 1 - start
                count = rng.poisson(raid.rate_per_year * length / DAYS_PER_YEAR)
                days = sorted(start + rng.uniform(0, length, size=count))
            for day in days:
                hit = (targets[rng.integers(len(targets))],) if raid.pick == "one" else targets
                events.append(RaidEvent(float(day), name, hit, raid))
        events.sort(key=lambda e: e.day)
        return events

    def raid_process(self, env: simpy.Environment, stock: StockHolder) -> Generator:
        for event in self.raids:
            if event.day > env.now:
                yield env.timeout(event.day - env.now)
            self.apply_raid(event, stock)

    def apply_raid(self, event: RaidEvent, stock: StockHolder) -> None:
        raid, day = event.raid, event.day
        for i in event.nodes:
            if raid.capacity_loss > 0 and raid.recovery_days > 0:
                self.damage[i].append((day, raid.capacity_loss, raid.recovery_days))
            if raid.stock_seized > 0:
                stock.seize_stock(i, raid.stock_seized)
            if raid.route_seizure_increase > 0 and raid.route_seizure_days > 0:
                boost = (day, day + raid.route_seizure_days, raid.route_seizure_increase)
                for r, (a, b) in enumerate(
                    zip(self.network.route_source, self.network.route_target, strict=True)
                ):
                    if i in (a, b):
                        self.route_boosts[r].append(boost)

    def capacity_factor(self, node: int, day: float) -> float:
        """Share of its capacity a node has left after raids, recovering linearly."""
        records = self.damage[node]
        if not records:
            return 1.0
        factor = 1.0
        live = []
        for start, loss, recovery in records:
            elapsed = day - start
            if elapsed < recovery:
                factor *= 1.0 - loss * (1.0 - elapsed / recovery)
                live.append((start, loss, recovery))
        self.damage[node] = live
        return factor

    def seizure_probability(self, route: int, day: float) -> float:
        p = self.base_seizure[route]
        boosts = self.route_boosts[route]
        if boosts:
            for start, end, increase in boosts:
                if start <= day < end:
                    p += increase
            p = min(p, 1.0)
        return p

    # --- fuel -------------------------------------------------------------------

    def _compile_fuel(self, network: Network) -> None:
        s = network.scenario
        for rule in s.policies.fuel_restrictions.values():
            if not rule.enabled:
                continue
            start, end = s.day_of(rule.start), s.day_of(rule.end) + 1
            for i, node in enumerate(s.nodes.values()):
                if not isinstance(node, Mine) or (node.fuel_region or node.region) != rule.region:
                    continue
                lost = node.fuel_dependence * rule.supply_cut * (1 - rule.black_market_share)
                black_gal_per_kg = node.fuel_gal_per_kg * rule.supply_cut * rule.black_market_share
                premium = black_gal_per_kg * rule.fuel_price_usd_per_gal * rule.black_market_premium
                self.fuel_cuts[i].append((start, end, lost, premium))

    def production_factor(self, mine: int, day: float) -> float:
        factor = self.capacity_factor(mine, day)
        for start, end, lost, _ in self.fuel_cuts[mine]:
            if start <= day < end:
                factor *= 1.0 - lost
        return factor

    def fuel_premium_usd(self, mine: int, day: float, kg: float) -> float:
        """Extra spent on black-market fuel to produce ``kg`` on ``day``."""
        usd = 0.0
        for start, end, _, premium in self.fuel_cuts[mine]:
            if start <= day < end:
                usd += premium * kg
        return usd
