"""The levers, compiled to the simulation's day clock.

:class:`PolicyState` answers the engine's questions at a given time (how much
a mine can produce, how fast a refiner works, how likely a shipment is to be
seized or released, whether a partner refuses a lot) and changes that state
when a raid happens. Sanctions, raids, fuel restrictions and interdictions do
not know about each other.
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
    """One sanctions regime: who it targets, from when, and who complies when."""

    name: str
    start: float
    end: float  # first day on which it no longer applies
    targets: frozenset[int]  # nodes operated by a target entity or in a target jurisdiction
    entity_targets: frozenset[int]  # nodes operated by a target entity
    jurisdictions: frozenset[str]
    # By node index: the days on which compliance changes and the level from each on.
    compliance_days: tuple[tuple[float, ...], ...]
    compliance_levels: tuple[tuple[float, ...], ...]
    discount: float

    def in_force(self, day: float) -> bool:
        return self.start <= day < self.end

    def compliance(self, partner: int, day: float) -> float:
        days = self.compliance_days[partner]
        return self.compliance_levels[partner][bisect_right(days, day) - 1]


@dataclass(frozen=True)
class RaidEvent:
    day: float
    policy: str
    nodes: tuple[int, ...]
    raid: Raid


def _loss_profile(elapsed: float, hold: float, recovery: float) -> float:
    """Share of a raid's loss still in effect ``elapsed`` days after it."""
    if elapsed < hold:
        return 1.0
    if elapsed < hold + recovery:
        return 1.0 - (elapsed - hold) / recovery
    return 0.0


class PolicyState:
    def __init__(self, network: Network, rng: np.random.Generator):
        s = network.scenario
        self.network = network
        n_nodes, n_routes = len(network.node_ids), len(network.route_ids)
        routes = list(s.routes.values())
        self.base_seizure = [r.seizure_probability for r in routes]
        self.base_release = [r.release_share for r in routes]

        self.regimes = self._compile_sanctions(network)
        self.has_sanctions = bool(self.regimes)
        node_regimes: list[list[int]] = [[] for _ in range(n_nodes)]
        entity_regimes: list[list[int]] = [[] for _ in range(n_nodes)]
        for k, regime in enumerate(self.regimes):
            for i in regime.targets:
                node_regimes[i].append(k)
            for i in regime.entity_targets:
                entity_regimes[i].append(k)
        self.node_regimes = tuple(tuple(ks) for ks in node_regimes)
        self.entity_regimes = tuple(tuple(ks) for ks in entity_regimes)
        boundaries = {d for g in self.regimes for d in (g.start, g.end)}
        for g in self.regimes:
            for days in g.compliance_days:
                boundaries.update(days[1:])
        self.sanction_boundaries = sorted(boundaries)

        # Raid damage per node: (day, loss, hold days, recovery days).
        self.damage: list[list[tuple[float, float, float, float]]] = [[] for _ in range(n_nodes)]
        # Production moved to a mine by displaced miners: (from day, kg/day, hold, recovery).
        self.displaced: list[list[tuple[float, float, float, float]]] = [[] for _ in range(n_nodes)]
        # Raised seizure probability per route: (from day, to day, increase).
        self.route_boosts: list[list[tuple[float, float, float]]] = [[] for _ in range(n_routes)]
        # Corruption during interdictions, per route: (from day, to day, release share).
        self.route_release: list[list[tuple[float, float, float]]] = [[] for _ in range(n_routes)]
        self._compile_interdictions(network)
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
            nodes = list(s.nodes.values())
            entity_targets = frozenset(
                i for i, node in enumerate(nodes) if node.entity in rule.target_entities
            )
            in_jurisdiction = frozenset(
                i for i, node in enumerate(nodes) if node.jurisdiction in rule.target_jurisdictions
            )
            days: list[tuple[float, ...]] = []
            levels: list[tuple[float, ...]] = []
            for i, node_id in enumerate(network.node_ids):
                level = rule.compliance.get(node_id, rule.default_compliance)
                if network.kinds[i] != PARTNER:
                    level = 0.0
                steps = sorted(
                    (s.day_of(c.date), c.level)
                    for c in rule.compliance_changes
                    if c.partner == node_id
                )
                days.append((-math.inf, *(d for d, _ in steps)))
                levels.append((level, *(v for _, v in steps)))
            end = s.day_of(rule.until) + 1 if rule.until is not None else math.inf
            regimes.append(
                Regime(
                    name=name,
                    start=s.day_of(rule.effective),
                    end=end,
                    targets=entity_targets | in_jurisdiction,
                    entity_targets=entity_targets,
                    jurisdictions=frozenset(rule.target_jurisdictions),
                    compliance_days=tuple(days),
                    compliance_levels=tuple(levels),
                    discount=rule.discount,
                )
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

    def designated_entity_on_leave(self, node: int, arrived: float, leaving: float) -> bool:
        """Whether ``node`` is run by an entity designated while the lot stayed there."""
        for k in self.entity_regimes[node]:
            regime = self.regimes[k]
            if arrived < regime.end and leaving >= regime.start:
                return True
        return False

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
                if regime.in_force(day):
                    refuse = max(refuse, regime.compliance(partner, day))
                    discount = max(discount, regime.discount)
            taint >>= 1
            k += 1
        return refuse, discount

    def sanctioned_jurisdictions(self, day: float) -> frozenset[str]:
        """Jurisdictions targeted by a regime in force on ``day``."""
        found: set[str] = set()
        for regime in self.regimes:
            if regime.jurisdictions and regime.in_force(day):
                found |= regime.jurisdictions
        return frozenset(found)

    def sanctions_epoch(self, day: float) -> int:
        """Changes value exactly when some regime, or some compliance, changes."""
        return bisect_right(self.sanction_boundaries, day)

    def reopen_days(self) -> list[float]:
        """The days on which a route that a lever closed may open again, in order: a
        sanction starting, lapsing or changing its compliance, and the end of the
        hold of a raid that closed a node outright."""
        days = {d for d in self.sanction_boundaries if math.isfinite(d)}
        for event in self.raids:
            if event.raid.capacity_loss >= 1.0:
                # Just after the hold: at its last instant the loss is still whole.
                days.add(math.nextafter(event.day + event.raid.hold_days, math.inf))
        return sorted(days)

    # --- raids and displacement ------------------------------------------------

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
        nodes = self.network.scenario.nodes
        for i in event.nodes:
            lasts = raid.hold_days + raid.recovery_days
            if raid.capacity_loss > 0 and lasts > 0:
                record = (day, raid.capacity_loss, raid.hold_days, raid.recovery_days)
                self.damage[i].append(record)
                mine = nodes[self.network.node_ids[i]]
                if isinstance(mine, Mine) and mine.displacement_share > 0:
                    self._displace(mine, day, raid)
            if raid.stock_seized > 0:
                stock.seize_stock(i, raid.stock_seized)
            if raid.route_seizure_increase > 0 and raid.route_seizure_days > 0:
                boost = (day, day + raid.route_seizure_days, raid.route_seizure_increase)
                for r, (a, b) in enumerate(
                    zip(self.network.route_source, self.network.route_target, strict=True)
                ):
                    if i in (a, b):
                        self.route_boosts[r].append(boost)

    def _displace(self, mine: Mine, day: float, raid: Raid) -> None:
        """Send a share of the production a raid takes from ``mine`` to its neighbours,
        in proportion to their own production, after the miners' travel time."""
        nodes = self.network.scenario.nodes
        rates = {n: nodes[n].production_kg_per_day for n in mine.displacement_to}
        total = sum(rates.values())
        moved = mine.production_kg_per_day * raid.capacity_loss * mine.displacement_share
        start = day + mine.displacement_delay_days
        for name, rate in rates.items():
            record = (start, moved * rate / total, raid.hold_days, raid.recovery_days)
            self.displaced[self.network.index(name)].append(record)

    def capacity_factor(self, node: int, day: float) -> float:
        """Share of its capacity a node has left after raids."""
        records = self.damage[node]
        if not records:
            return 1.0
        factor = 1.0
        live = []
        for record in records:
            start, loss, hold, recovery = record
            left = _loss_profile(day - start, hold, recovery)
            if left > 0.0:
                factor *= 1.0 - loss * left
                live.append(record)
        self.damage[node] = live
        return factor

    def displaced_kg_per_day(self, mine: int, day: float) -> float:
        """Extra production at ``mine`` from miners displaced from raided neighbours."""
        records = self.displaced[mine]
        if not records:
            return 0.0
        extra = 0.0
        for start, kg_per_day, hold, recovery in records:
            if day >= start:
                extra += kg_per_day * _loss_profile(day - start, hold, recovery)
        return extra

    # --- routes -----------------------------------------------------------------

    def _compile_interdictions(self, network: Network) -> None:
        s = network.scenario
        nodes = list(s.nodes.values())
        for rule in s.policies.interdictions.values():
            if not rule.enabled:
                continue
            window = (s.day_of(rule.start), s.day_of(rule.end) + 1)
            for r, route_id in enumerate(network.route_ids):
                source = nodes[network.route_source[r]]
                target = nodes[network.route_target[r]]
                if not (
                    route_id in rule.routes
                    or target.jurisdiction in rule.into_jurisdictions
                    or source.jurisdiction in rule.from_jurisdictions
                ):
                    continue
                if rule.seizure_increase > 0:
                    self.route_boosts[r].append((*window, rule.seizure_increase))
                if rule.release_share is not None:
                    self.route_release[r].append((*window, rule.release_share))

    def seizure_probability(self, route: int, day: float) -> float:
        p = self.base_seizure[route]
        boosts = self.route_boosts[route]
        if boosts:
            for start, end, increase in boosts:
                if start <= day < end:
                    p += increase
            p = min(p, 1.0)
        return p

    def release_share(self, route: int, day: float) -> float:
        """Share of seizures on ``route`` that corruption undoes on ``day``: the
        route's own, or the largest set by an interdiction under way."""
        active = [share for start, end, share in self.route_release[route] if start <= day < end]
        return max(active) if active else self.base_release[route]

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

    def fuel_factor(self, mine: int, day: float) -> float:
        factor = 1.0
        for start, end, lost, _ in self.fuel_cuts[mine]:
            if start <= day < end:
                factor *= 1.0 - lost
        return factor

    def production_kg_per_day(self, mine: int, rate: float, day: float) -> float:
        """What a mine of nominal ``rate`` produces on ``day``: its own output after
        raids, plus displaced miners' output, both limited by the fuel it gets."""
        if not (self.damage[mine] or self.displaced[mine] or self.fuel_cuts[mine]):
            return rate  # no lever touches this mine (yet): asked once a lot
        own = rate * self.capacity_factor(mine, day)
        return (own + self.displaced_kg_per_day(mine, day)) * self.fuel_factor(mine, day)

    def fuel_premium_usd(self, mine: int, day: float, kg: float) -> float:
        """Extra spent on black-market fuel to produce ``kg`` on ``day``."""
        usd = 0.0
        for start, end, _, premium in self.fuel_cuts[mine]:
            if start <= day < end:
                usd += premium * kg
        return usd
