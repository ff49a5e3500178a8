"""The levers: sanctions, interdictions, raids and fuel restrictions.

Each lever is one module with ``SECTION`` (its key under ``[policies]``) and four
parts: ``compile`` turns its section of the scenario into plain tables on node and
route indices (once, in :meth:`flowsim.network.Network.build`); ``check`` yields
what is wrong with the section as a whole (names, dates); ``describe`` gives its
rows of the policy list of summaries and reports; its ``Lever`` class answers, in
one replication, what it does (the effects of :class:`~flowsim.levers.base.Lever`).
:class:`Levers` is the small interface the engine and the route choosers ask, and
the one place where two levers that act on one thing are combined, in the order of
:data:`LEVERS`.

Adding a lever: docs/levers.md.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from flowsim.levers import fuel, interdictions, raids, sanctions
from flowsim.levers.base import Lever, LeverEvent, StockHolder, overrides

if TYPE_CHECKING:
    import numpy as np

    from flowsim.findings import Finding
    from flowsim.network import Network
    from flowsim.rates import Rates
    from flowsim.schema import Scenario

__all__ = ["LEVERS", "Levers", "check_levers", "compile_levers", "describe_levers"]

# Every lever, in the order in which their effects combine where two act on one thing
# (a route's risk: interdictions' increases, then raids'; a mine's output: raids, then
# fuel) and in which the policy list shows them.
LEVERS = (sanctions, interdictions, raids, fuel)


def compile_levers(scenario: Scenario, index: Mapping[str, int]) -> dict[str, Any]:
    """Every lever's compiled tables, by section."""
    return {lever.SECTION: lever.compile(scenario, index) for lever in LEVERS}


def check_levers(scenario: Scenario) -> Iterator[Finding]:
    for lever in LEVERS:
        yield from lever.check(scenario)


def describe_levers(scenario: Scenario) -> list[dict[str, Any]]:
    """Each policy's kind, name, switch and first date, for summaries and reports."""
    return [row for lever in LEVERS for row in lever.describe(scenario)]


class Levers:
    """What the levers say during one replication.

    Raids are drawn from ``rng`` when this is made, so that a lever that changes
    how often lots are refused or seized does not change when raids fall.
    """

    def __init__(self, network: Network, rng: np.random.Generator, rates: Rates | None = None):
        self.levers: tuple[Lever, ...] = tuple(
            module.Lever(network.levers[module.SECTION], network, rng) for module in LEVERS
        )
        by_section = dict(zip((m.SECTION for m in LEVERS), self.levers, strict=True))
        self.sanctions: sanctions.Lever = by_section[sanctions.SECTION]
        # A route's own risk as its schedule sets it today (the network's, without one).
        self.base_seizure = rates.route_seizure if rates is not None else network.route_seizure
        self.base_release = network.route_release
        self.has_sanctions = self.sanctions.any
        nodes, routes = range(len(network.node_ids)), range(len(network.route_ids))
        # Per mine, the levers that may change its output (the rest are never asked).
        self._production = tuple(
            tuple(lv for lv in self.levers if lv.may_touch_production(mine)) for mine in nodes
        )
        self._costs = tuple(
            tuple(lv for lv in self.levers if lv.costs_production(mine)) for mine in nodes
        )
        self._capacity = tuple(lv for lv in self.levers if overrides(lv, "capacity_factor"))
        # Per node, whether any lever may ever change its capacity (if not, none is asked).
        self.capacity_may_change = tuple(
            any(lv.may_change_capacity(node) for lv in self._capacity) for node in nodes
        )
        self._seizure = tuple(lv for lv in self.levers if overrides(lv, "seizure_boosts"))
        self._release = tuple(lv for lv in self.levers if overrides(lv, "release_share"))
        self.seizure_varies = tuple(
            any(lv.may_change_seizure(r) for lv in self.levers) for r in routes
        )
        self.closes_routes = any(lv.closes_routes() for lv in self.levers)
        # Every lever's events, in order of day (a tie keeps the order of LEVERS).
        happenings = [(event, lever) for lever in self.levers for event in lever.events()]
        self.events: list[tuple[LeverEvent, Lever]] = sorted(
            happenings, key=lambda pair: pair[0].day
        )
        # What sanctions answer, as the engine and the choosers ask it.
        self.taint_on_leave = self.sanctions.taint_on_leave
        self.designated_entity_on_leave = self.sanctions.designated_entity_on_leave
        self.node_taint_now = self.sanctions.node_taint_now
        self.refusal = self.sanctions.refusal
        self.sanctioned_jurisdictions = self.sanctions.sanctioned_jurisdictions
        self.announcements = self.sanctions.announcements
        self.sanctions_epoch = self.sanctions.epoch

    # --- production -----------------------------------------------------------------

    def production_may_change(self, mine: int) -> bool:
        """Whether any lever may ever change ``mine``'s output (if not, none is asked)."""
        return bool(self._production[mine])

    def production_kg_per_day(self, mine: int, rate: float, day: float) -> float:
        """What a mine of nominal ``rate`` produces on ``day``: each lever that acts on
        its output, in turn (raids: its own output after them, plus displaced miners';
        fuel: what the fuel it gets allows)."""
        levers = self._production[mine]
        if not levers or not any(lever.touches_production(mine) for lever in levers):
            return rate  # no lever touches this mine (yet): asked once a lot
        kg = rate
        for lever in levers:
            kg = lever.production(mine, kg, rate, day)
        return kg

    def cuts_fuel(self, mine: int) -> bool:
        return bool(self._costs[mine])

    def fuel_premium_usd(self, mine: int, day: float, kg: float) -> float:
        usd = 0.0
        for lever in self._costs[mine]:
            usd += lever.fuel_premium_usd(mine, day, kg)
        return usd

    # --- capacity ------------------------------------------------------------------

    def capacity_changed(self, node: int) -> bool:
        """Whether a lever has (so far) touched ``node``'s capacity."""
        if not self.capacity_may_change[node]:
            return False
        return any(lever.capacity_changed(node) for lever in self._capacity)

    def capacity_factor(self, node: int, day: float) -> float:
        factor = 1.0
        for lever in self._capacity:
            if lever.capacity_changed(node):
                factor *= lever.capacity_factor(node, day)
        return factor

    # --- events --------------------------------------------------------------------

    def happen(self, happening: tuple[LeverEvent, Lever], stock: StockHolder) -> None:
        """Let one of :attr:`events` happen, now."""
        event, lever = happening
        lever.happen(event, stock)

    # --- routes --------------------------------------------------------------------

    def seizure_probability(self, route: int, day: float) -> float:
        """The route's base risk, raised by each lever's increases under way."""
        p = self.base_seizure[route]
        boosted = False
        for lever in self._seizure:
            boosts = lever.seizure_boosts(route)
            if boosts:
                boosted = True
                for start, end, increase in boosts:
                    if start <= day < end:
                        p += increase
        return min(p, 1.0) if boosted else p

    def release_share(self, route: int, day: float) -> float:
        """The share of seizures corruption undoes: the largest a lever sets on ``day``,
        else the route's own."""
        shares = [
            share
            for lever in self._release
            if (share := lever.release_share(route, day)) is not None
        ]
        return max(shares) if shares else self.base_release[route]

    def reopen_days(self) -> list[float]:
        """The days on which a route that a lever closed may open again, in order."""
        return sorted({day for lever in self.levers for day in lever.change_days()})
