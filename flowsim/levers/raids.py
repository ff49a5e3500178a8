"""Raids: dated or random operations that cut capacity, seize stock, raise the risk on
nearby routes, and displace miners.

compile: ``[policies.raids]`` into :class:`RaidPlan` (targets as node indices, dates
or a rate over a window) and each mine's displacement. check: the nodes, regions and
dates they name, and where displaced miners may go. query: :class:`Lever` draws a
replication's raid days from its generator, and answers what share of its capacity a
node keeps, what displaced miners add to a mine, and how much riskier a route is. Its
state changes only when a raid happens (:meth:`Lever.happen`), never while it
answers. describe: the policy rows of summaries and reports.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flowsim.findings import Finding, check_date, check_window, hint, node_aliases
from flowsim.levers.base import Lever as BaseLever
from flowsim.levers.base import StockHolder
from flowsim.schedules import initial

if TYPE_CHECKING:
    import numpy as np

    from flowsim.network import Network
    from flowsim.schema import Scenario

__all__ = ["SECTION", "Lever", "RaidEvent", "RaidPlan", "check", "compile", "describe"]

SECTION = "raids"
DAYS_PER_YEAR = 365.25


@dataclass(frozen=True)
class RaidPlan:
    """One raid rule: where, when (a date, or a Poisson rate over a window), and what."""

    name: str
    targets: tuple[int, ...]
    day: float | None  # a single raid
    window: tuple[float, float] | None  # first day, days long
    rate_per_year: float
    pick_one: bool
    capacity_loss: float
    hold_days: float
    recovery_days: float
    stock_seized: float
    route_seizure_increase: float
    route_seizure_days: float


@dataclass(frozen=True)
class Displacement:
    """Where a raided mine's miners go: each neighbour's index and share of the move."""

    kg_per_day: float  # the mine's nominal production
    share: float
    delay_days: float
    to: tuple[tuple[int, float], ...]  # (mine, its own production)
    total_kg_per_day: float  # of the mines it goes to
    by_margin: bool = False  # split by what a kg earns at each, after enforcement


@dataclass(frozen=True)
class RaidTables:
    plans: tuple[RaidPlan, ...]
    displacement: tuple[Displacement | None, ...]  # by node


@dataclass(frozen=True)
class RaidEvent:
    day: float
    policy: str
    nodes: tuple[int, ...]
    plan: RaidPlan


def compile(scenario: Scenario, index: Mapping[str, int]) -> RaidTables:
    s = scenario
    nodes = list(s.nodes.values())
    plans = []
    for name, raid in s.policies.raids.items():
        if not raid.enabled:
            continue
        named = {index[n] for n in raid.nodes}
        in_region = {
            i
            for i, node in enumerate(nodes)
            if raid.region is not None
            and node.region == raid.region
            and node.kind in raid.node_kinds
        }
        window = None
        if raid.date is None:
            start = s.day_of(raid.window_start)
            window = (start, s.day_of(raid.window_end) + 1 - start)
        plans.append(
            RaidPlan(
                name=name,
                targets=tuple(sorted(named | in_region)),
                day=None if raid.date is None else s.day_of(raid.date),
                window=window,
                rate_per_year=raid.rate_per_year or 0.0,
                pick_one=raid.pick == "one",
                capacity_loss=raid.capacity_loss,
                hold_days=raid.hold_days,
                recovery_days=raid.recovery_days,
                stock_seized=raid.stock_seized,
                route_seizure_increase=raid.route_seizure_increase,
                route_seizure_days=raid.route_seizure_days,
            )
        )
    displacement: list[Displacement | None] = []
    for node in nodes:
        if node.kind != "mine" or node.displacement_share <= 0:
            displacement.append(None)
            continue
        # Split by the destinations' output on the first day, even where a schedule
        # changes it later (docs/behaviour.md).
        rates = {n: initial(s.nodes[n].production_kg_per_day) for n in node.displacement_to}
        total = sum(rates.values())
        displacement.append(
            Displacement(
                kg_per_day=initial(node.production_kg_per_day),
                share=node.displacement_share,
                delay_days=node.displacement_delay_days,
                to=tuple((index[n], rate) for n, rate in rates.items()),
                total_kg_per_day=total,
                by_margin=node.displacement_split == "margin",
            )
        )
    return RaidTables(tuple(plans), tuple(displacement))


def check(s: Scenario) -> Iterator[Finding]:
    aliases = node_aliases(s.nodes)
    for name, raid in s.policies.raids.items():
        prefix = ("policies", "raids", name)
        yield from check_date(s, (*prefix, "date"), raid.date)
        yield from check_window(
            s, prefix, "window_start", "window_end", raid.window_start, raid.window_end
        )
        for i, node_id in enumerate(raid.nodes):
            if node_id not in s.nodes:
                suggestion = hint(node_id, s.nodes, aliases)
                yield ((*prefix, "nodes", i), f"unknown node '{node_id}'{suggestion}")
            elif s.nodes[node_id].kind == "partner":
                yield (
                    (*prefix, "nodes", i),
                    f"'{node_id}' is a partner; raids hit mines, buyers and refiners",
                )
        if raid.region is not None:
            regions = sorted({n.region for n in s.nodes.values() if n.kind in raid.node_kinds})
            if raid.region not in regions:
                kinds = "/".join(raid.node_kinds)
                yield (
                    (*prefix, "region"),
                    f"no {kinds} node in region '{raid.region}'{hint(raid.region, regions)}",
                )
        if "partner" in raid.node_kinds:
            yield ((*prefix, "node_kinds"), "raids hit mines, buyers and refiners, not partners")
    yield from _check_displacement(s)


def _check_displacement(s: Scenario) -> Iterator[Finding]:
    mines = [n for n, node in s.nodes.items() if node.kind == "mine"]
    aliases = node_aliases(s.nodes)
    for node_id, node in s.nodes.items():
        if node.kind != "mine":
            continue
        for i, other in enumerate(node.displacement_to):
            path = ("nodes", node_id, "displacement_to", i)
            if other == node_id:
                yield (path, "a mine cannot displace its miners to itself")
            elif other not in mines:
                yield (path, f"'{other}' is not a mine{hint(other, mines, aliases)}")
        if node.displacement_share > 0 and not node.displacement_to:
            yield (
                ("nodes", node_id, "displacement_share"),
                "needs displacement_to: the mines where the miners go",
            )


def describe(scenario: Scenario) -> list[dict[str, Any]]:
    return [
        {
            "kind": "raid",
            "name": name,
            "enabled": rule.enabled,
            "from": str(rule.date or rule.window_start),
        }
        for name, rule in scenario.policies.raids.items()
    ]


def _loss_profile(elapsed: float, hold: float, recovery: float) -> float:
    """Share of a raid's loss still in effect ``elapsed`` days after it."""
    if elapsed < hold:
        return 1.0
    if elapsed < hold + recovery:
        return 1.0 - (elapsed - hold) / recovery
    return 0.0


class Lever(BaseLever):
    """One replication's raids: their days, drawn once, and what they have done."""

    def __init__(self, tables: RaidTables, network: Network, rng: np.random.Generator):
        self.tables = tables
        route_source, route_target = network.route_source, network.route_target
        self.route_ends = tuple(zip(route_source, route_target, strict=True))
        nodes = len(tables.displacement)
        # A mine's output by day where a schedule sets it: a raid displaces what it took.
        self.kg_per_day_on = network.schedules.get("kg_per_day", {})
        self.events_by_day = self._schedule(tables.plans, rng)
        # Raid damage per node: (day, loss, hold days, recovery days).
        self.damage: list[list[tuple[float, float, float, float]]] = [[] for _ in range(nodes)]
        # Production moved to a mine by displaced miners: (from day, kg/day, hold, recovery).
        self.displaced: list[list[tuple[float, float, float, float]]] = [[] for _ in range(nodes)]
        # Raised seizure probability per route: (from day, to day, increase).
        self.route_boosts: list[list[tuple[float, float, float]]] = [
            [] for _ in range(len(route_source))
        ]

    @staticmethod
    def _schedule(plans: tuple[RaidPlan, ...], rng: np.random.Generator) -> list[RaidEvent]:
        events = []
        for plan in plans:
            if plan.day is not None:
                days = [plan.day]
            else:
                start, length = plan.window
                count = rng.poisson(plan.rate_per_year * length / DAYS_PER_YEAR)
                days = sorted(start + rng.uniform(0, length, size=count))
            targets = plan.targets
            for day in days:
                hit = (targets[rng.integers(len(targets))],) if plan.pick_one else targets
                events.append(RaidEvent(float(day), plan.name, hit, plan))
        events.sort(key=lambda e: e.day)
        return events

    def may_change_seizure(self, route: int) -> bool:
        """Whether any raid of this replication may raise the risk on ``route``."""
        a, b = self.route_ends[route]
        return any(
            e.plan.route_seizure_increase > 0
            and e.plan.route_seizure_days > 0
            and (a in e.nodes or b in e.nodes)
            for e in self.events_by_day
        )

    def events(self) -> Sequence[RaidEvent]:
        return self.events_by_day

    def closes_routes(self) -> bool:
        return bool(self.events_by_day)

    def happen(self, event: RaidEvent, stock: StockHolder) -> None:
        """The raid happens: record its damage, displace miners, seize stock, raise risk."""
        plan, day = event.plan, event.day
        for i in event.nodes:
            lasts = plan.hold_days + plan.recovery_days
            if plan.capacity_loss > 0 and lasts > 0:
                record = (day, plan.capacity_loss, plan.hold_days, plan.recovery_days)
                self.damage[i] = [*self._live(self.damage[i], day), record]
                moved = self.tables.displacement[i]
                if moved is not None:
                    self._displace(i, moved, day, plan, stock)
            if plan.stock_seized > 0:
                stock.seize_stock(i, plan.stock_seized)
            if plan.route_seizure_increase > 0 and plan.route_seizure_days > 0:
                boost = (day, day + plan.route_seizure_days, plan.route_seizure_increase)
                for r, (a, b) in enumerate(self.route_ends):
                    if i in (a, b):
                        self.route_boosts[r].append(boost)

    @staticmethod
    def _live(records: list[tuple[float, float, float, float]], day: float) -> list:
        """The records whose loss still holds on ``day``: an expired one multiplies a
        factor by exactly 1, so dropping it changes no figure, only the time it costs."""
        return [r for r in records if _loss_profile(day - r[0], r[2], r[3]) > 0.0]

    def _displace(
        self, mine: int, moved: Displacement, day: float, plan: RaidPlan, stock: StockHolder
    ) -> None:
        """Send a share of the production a raid takes from a mine to its neighbours,
        after the miners' travel time: in proportion to their own production, or to
        what a kg earns at each times the share of it raids leave working."""
        scheduled = self.kg_per_day_on.get(mine)
        rate = (
            moved.kg_per_day if scheduled is None else scheduled[min(int(day), len(scheduled) - 1)]
        )
        kg = rate * plan.capacity_loss * moved.share
        start = day + moved.delay_days
        to_mines = moved.to
        total = moved.total_kg_per_day
        if moved.by_margin:
            to_mines = tuple(
                (k, max(stock.margin(k, day), 0.0) * self.capacity_factor(k, day))
                for k, _ in moved.to
            )
            total = sum(score for _, score in to_mines)
            if total <= 0.0:
                return  # it pays nowhere: the miners stay out of work
        for to, rate in to_mines:
            part = rate / total if total > 0 else 1.0 / len(moved.to)
            record = (start, kg * part, plan.hold_days, plan.recovery_days)
            self.displaced[to].append(record)

    def may_change_capacity(self, node: int) -> bool:
        return any(node in e.nodes and e.plan.capacity_loss > 0 for e in self.events_by_day)

    def capacity_changed(self, node: int) -> bool:
        return bool(self.damage[node])

    def may_touch_production(self, mine: int) -> bool:
        return bool(self.events_by_day)  # displaced miners may go to any mine

    def touches_production(self, mine: int) -> bool:
        return bool(self.damage[mine] or self.displaced[mine])

    def production(self, mine: int, kg_per_day: float, rate: float, day: float) -> float:
        """A raided mine's own output after the raid, plus displaced miners' output."""
        own = kg_per_day * self.capacity_factor(mine, day)
        return own + self.displaced_kg_per_day(mine, day)

    def seizure_boosts(self, route: int) -> Sequence[tuple[float, float, float]]:
        return self.route_boosts[route]

    def capacity_factor(self, node: int, day: float) -> float:
        """Share of its capacity a node has left after raids."""
        factor = 1.0
        for start, loss, hold, recovery in self.damage[node]:
            left = _loss_profile(day - start, hold, recovery)
            if left > 0.0:
                factor *= 1.0 - loss * left
        return factor

    def displaced_kg_per_day(self, mine: int, day: float) -> float:
        """Extra production at ``mine`` from miners displaced from raided neighbours."""
        extra = 0.0
        for start, kg_per_day, hold, recovery in self.displaced[mine]:
            if day >= start:
                extra += kg_per_day * _loss_profile(day - start, hold, recovery)
        return extra

    def change_days(self) -> Sequence[float]:
        """Just after the hold of each raid that closed a node outright (at the hold's
        last instant the loss is still whole)."""
        return [
            math.nextafter(e.day + e.plan.hold_days, math.inf)
            for e in self.events_by_day
            if e.plan.capacity_loss >= 1.0
        ]
