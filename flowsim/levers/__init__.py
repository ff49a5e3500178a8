"""The levers: sanctions, raids, interdictions and fuel restrictions.

Each lever is one module with three parts: ``compile_*`` turns its section of the
scenario into plain tables on node and route indices (done once, by
:meth:`flowsim.network.Network.build`); a query class answers what it says on a
day; ``describe_*`` gives its rows of the policy list of summaries and reports.
:class:`Levers` puts one replication's queries behind the small interface that
the engine and the route choosers use. Levers do not know about each other: where
two act on one thing (a route's seizure risk), this facade combines them.

Adding a lever: docs/levers.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from flowsim.levers.fuel import Fuel, FuelTables, compile_fuel, describe_fuel
from flowsim.levers.interdictions import (
    Interdictions,
    InterdictionTables,
    compile_interdictions,
    describe_interdictions,
)
from flowsim.levers.raids import RaidEvent, Raids, RaidTables, compile_raids, describe_raids
from flowsim.levers.sanctions import Regime, Sanctions, compile_sanctions, describe_sanctions

if TYPE_CHECKING:
    from flowsim.levers.raids import StockHolder
    from flowsim.network import Network
    from flowsim.schema import Scenario

__all__ = ["LeverTables", "Levers", "RaidEvent", "compile_levers", "describe_levers"]


@dataclass(frozen=True)
class LeverTables:
    """Every lever's compiled tables."""

    sanctions: tuple[Regime, ...]
    raids: RaidTables
    interdictions: InterdictionTables
    fuel: FuelTables


def compile_levers(scenario: Scenario, index: Mapping[str, int]) -> LeverTables:
    return LeverTables(
        sanctions=compile_sanctions(scenario, index),
        raids=compile_raids(scenario, index),
        interdictions=compile_interdictions(scenario, index),
        fuel=compile_fuel(scenario, index),
    )


def describe_levers(scenario: Scenario) -> list[dict[str, Any]]:
    """Each policy's kind, name, switch and first date, for summaries and reports."""
    return [
        *describe_sanctions(scenario),
        *describe_raids(scenario),
        *describe_fuel(scenario),
        *describe_interdictions(scenario),
    ]


class Levers:
    """What the levers say during one replication.

    Raids are drawn from ``rng`` when this is made, so that a lever that changes
    how often lots are refused or seized does not change when raids fall.
    """

    def __init__(self, network: Network, rng: np.random.Generator):
        tables = network.levers
        self.sanctions = Sanctions(tables.sanctions, len(network.node_ids))
        self.raids = Raids(tables.raids, network.route_source, network.route_target, rng)
        self.interdictions = Interdictions(tables.interdictions)
        self.fuel = Fuel(tables.fuel)
        self.base_seizure = network.route_seizure
        self.base_release = network.route_release
        self.has_sanctions = self.sanctions.any
        # Whether anything may ever change a route's seizure risk from its base.
        self.seizure_varies = tuple(
            self.interdictions.touches_route(r) or self.raids.touches_route(r)
            for r in range(len(network.route_ids))
        )
        # What sanctions answer, as the engine and the choosers ask it.
        self.taint_on_leave = self.sanctions.taint_on_leave
        self.designated_entity_on_leave = self.sanctions.designated_entity_on_leave
        self.node_taint_now = self.sanctions.node_taint_now
        self.refusal = self.sanctions.refusal
        self.sanctioned_jurisdictions = self.sanctions.sanctioned_jurisdictions
        self.sanctions_epoch = self.sanctions.epoch

    # --- production -----------------------------------------------------------------

    def production_kg_per_day(self, mine: int, rate: float, day: float) -> float:
        """What a mine of nominal ``rate`` produces on ``day``: its own output after
        raids, plus displaced miners' output, both limited by the fuel it gets."""
        raids = self.raids
        if not (raids.damage[mine] or raids.displaced[mine] or self.fuel.cuts[mine]):
            return rate  # no lever touches this mine (yet): asked once a lot
        own = rate * raids.capacity_factor(mine, day)
        return (own + raids.displaced_kg_per_day(mine, day)) * self.fuel.factor(mine, day)

    def cuts_fuel(self, mine: int) -> bool:
        return self.fuel.cuts_mine(mine)

    def fuel_premium_usd(self, mine: int, day: float, kg: float) -> float:
        return self.fuel.premium_usd(mine, day, kg)

    # --- capacity ------------------------------------------------------------------

    def capacity_changed(self, node: int) -> bool:
        """Whether a raid has (so far) touched ``node``'s capacity."""
        return bool(self.raids.damage[node])

    def capacity_factor(self, node: int, day: float) -> float:
        return self.raids.capacity_factor(node, day)

    # --- raids as events ------------------------------------------------------------

    @property
    def raid_events(self) -> list[RaidEvent]:
        return self.raids.events

    def apply_raid(self, event: RaidEvent, stock: StockHolder) -> None:
        self.raids.apply(event, stock)

    # --- routes --------------------------------------------------------------------

    def seizure_probability(self, route: int, day: float) -> float:
        """The route's base risk, raised by interdictions then raids under way."""
        p = self.base_seizure[route]
        boosts = (*self.interdictions.boosts[route], *self.raids.route_boosts[route])
        if boosts:
            for start, end, increase in boosts:
                if start <= day < end:
                    p += increase
            p = min(p, 1.0)
        return p

    def release_share(self, route: int, day: float) -> float:
        return self.interdictions.release_share(route, day, self.base_release[route])

    def reopen_days(self) -> list[float]:
        """The days on which a route that a lever closed may open again, in order: a
        sanction starting, lapsing or changing its compliance, and the end of the hold
        of a raid that closed a node outright."""
        return sorted({*self.sanctions.change_days(), *self.raids.reopen_days()})
