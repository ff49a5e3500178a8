"""Reserves: gold a node holds from the start, outside its queue, that leaves only as
it is sold.

The engine's side of a reserve (:class:`Reserves`, a base of
:class:`~flowsim.engine.core.Engine`): the reserve is one lot at its node, recorded as
opening stock; each sale splits a lot off it at the start of its day (after the day's
change of rates) and sends it down the node's routes as its route choice splits them,
or, for a dated sale, down the route to its named buyer. The level of every reserve is
recorded at the end of each month.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

import simpy

from flowsim.ledger import OPENING, Ledger
from flowsim.lots import Lot

if TYPE_CHECKING:
    from flowsim.economics import Economics
    from flowsim.engine.outlets import Outlets
    from flowsim.engine.state import Site
    from flowsim.levers import Levers
    from flowsim.network import Network, ReserveSpec
    from flowsim.rates import Rates

__all__ = ["Reserves"]


class Reserves:
    """Opening, selling and recording the reserves of a run."""

    network: Network
    policy: Levers
    economics: Economics
    outlets: Outlets
    rates: Rates
    horizon: float
    env: simpy.Environment
    sites: list[Site]
    ledger: Ledger
    reserves: dict[int, Lot | None]  # by node; None once sold or seized whole
    reserve_levels: list[tuple[int, int, float]]  # (month, node, kg) at each month's end
    _sanctions: bool
    _new_lot: Callable[[float, int, float, float], Lot]
    _part_of: Callable[[Lot, float], Lot]
    dispatch: Callable[[Lot, int], None]
    _touch_on_leave: Callable[[Lot, int, float], None]
    _route_takes: Callable[[int, Lot, float], bool]
    _ship: Callable[[Lot, int, int, float], None]
    _hold: Callable[..., None]

    def _open_reserve(self, spec: ReserveSpec) -> None:
        """Put a reserve at its node, outside the queue, and set its sales going: each
        on the start of its day, after the day's change of rates."""
        node = spec.node
        lot = self._new_lot(spec.kg, spec.origin, spec.purity, 0.0)
        self.ledger.add(0.0, OPENING, lot.id, node, -1, spec.kg)
        self.sites[node].present[lot.id] = lot
        self.reserves[node] = lot
        timeout = self.env.timeout
        if len(self.reserves) == 1:  # the first reserve: record the levels monthly,
            # before any sale of the day that starts the next month
            for month, day in enumerate(self.network.month_start_days[1:]):
                timeout(day).callbacks.append(partial(self._record_reserve_levels, month))
        sell = self._sell if spec.min_usd_per_kg is None else partial(self._sell_at, spec)
        for day, kg in self._scheduled_sales(spec):
            timeout(day).callbacks.append(partial(sell, node, kg, None))
        for day, kg, route in spec.sales:
            timeout(day).callbacks.append(partial(self._sell, node, kg, route))
        if spec.demand_routes:
            for day in range(int(self.horizon)):
                timeout(float(day)).callbacks.append(partial(self._sell_to_demand, spec))
        if spec.sell_before_designation > 0.0:
            for announced, effective in self.policy.announcements(node):
                if effective > 0.0:
                    start = max(announced, 0.0)
                    act = partial(self._sell_ahead, node, spec.sell_before_designation, effective)
                    timeout(start).callbacks.append(act)

    def _scheduled_sales(self, spec: ReserveSpec) -> list[tuple[float, float]]:
        """The scheduled sales as (day, kg): one at the start of each day."""
        return [(float(day), kg) for day, kg in enumerate(spec.daily_sale_kg) if kg > 0.0]

    _launders: list[bool]
    _launder: Callable[[Lot, int, float], bool]

    def _sell(self, node: int, kg: float, route: int | None, event: simpy.Event) -> None:
        """Sell ``kg`` of node's reserve (what is left, if less): down ``route`` to its
        named buyer, or down the node's routes as its route choice splits them."""
        lot = self.reserves[node]
        if lot is None or lot.mass <= 0.0:
            return
        day = self.env.now
        if kg >= lot.mass:  # the rest of the reserve goes as it is
            part = lot
            del self.sites[node].present[lot.id]
            self.reserves[node] = None
        else:
            part = self._part_of(lot, kg)
            lot.mass -= kg
        if route is None:
            self.dispatch(part, node)
            return
        if self._launders[node] and self._launder(part, node, day):
            return
        if self._sanctions:
            self._touch_on_leave(part, node, day)
        if self._route_takes(route, part, day):
            self._ship(part, node, route, day)
        else:  # its buyer's route is closed or full: held, as any lot no route takes
            self._hold(part, node, day)

    def _sell_at(
        self, spec: ReserveSpec, node: int, kg: float, route: int | None, event: simpy.Event
    ) -> None:
        """A day's scheduled sale, made only if the gold fetches the reservation price:
        what the node's buyers pay for a kg of it, as the node's route choice sends it."""
        lot = self.reserves[node]
        if lot is None:
            return
        day = event.env.now
        fetches = self.economics.value_at(node, lot.seen, day) / (1.0 - self.rates.margin[node])
        if fetches >= spec.min_usd_per_kg[min(int(day), len(spec.min_usd_per_kg) - 1)]:
            self._sell(node, kg, route, event)

    def _sell_to_demand(self, spec: ReserveSpec, event: simpy.Event) -> None:
        """Sell each partner with an appetite its share of what is left of it this month:
        what is left over the days left, the day's share of it where it pays for more."""
        node, day = spec.node, event.env.now
        starts = self.network.month_start_days
        month = bisect_right(starts, day) - 1
        end = starts[month + 1] if month + 1 < len(starts) else self.horizon
        days_left = max(end - math.floor(day), 1.0)
        outlets = self.outlets
        sell = self._sell if spec.min_usd_per_kg is None else partial(self._sell_at, spec)
        for r in spec.demand_routes:
            partner = self.network.route_target[r]
            room = outlets.room(partner)
            if math.isinf(room):  # it pays for more than its appetite: the day's share
                room = outlets.appetite[partner][outlets.month] * days_left / (end - starts[month])
            if room > 0.0:
                sell(node, room / days_left, r, event)

    def _sell_ahead(self, node: int, share: float, effective: float, event: simpy.Event) -> None:
        """A designation of the node is announced: sell ``share`` of what is left,
        evenly over the days until it takes effect, starting today."""
        lot = self.reserves[node]
        if lot is None or lot.mass <= 0.0:
            return
        today = event.env.now
        days = list(range(math.ceil(today), math.ceil(effective)))
        if not days:
            return
        kg = share * lot.mass / len(days)
        self._sell(node, kg, None, event)
        for day in days[1:]:
            sell = partial(self._sell, node, kg, None)
            self.env.timeout(day - today).callbacks.append(sell)

    def _reserve_levels_now(self) -> list[tuple[int, int, float]]:
        month = len(self.network.month_start_days) - 1
        return [
            (month, node, lot.mass if lot is not None else 0.0)
            for node, lot in self.reserves.items()
        ]

    def _record_reserve_levels(self, month: int, event: simpy.Event) -> None:
        self.reserve_levels.extend(
            (month, node, level) for _, node, level in self._reserve_levels_now()
        )
