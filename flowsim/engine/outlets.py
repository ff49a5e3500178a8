"""Outlets that fill up: partners that take only so much gold a month at their price.

:class:`Outlets` counts, for each partner with an appetite, the kilograms sent to it in
the current calendar month (an order is counted when a lot is sent down the last route
to it), and answers the engine's two questions: whether a route into it takes one more
lot now, and what share of its price a lot that arrives there fetches. It keeps each
partner's price multiplier now (1 within the appetite, the beyond-appetite share past
it) in the run's :class:`~flowsim.rates.Rates`, where route choice reads it. A month
starts afresh on its first day.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import simpy

if TYPE_CHECKING:
    from flowsim.lots import Lot
    from flowsim.network import Network
    from flowsim.rates import Rates

__all__ = ["Outlets"]


class Outlets:
    """The partners with an appetite, in one replication."""

    def __init__(self, network: Network, rates: Rates, env: simpy.Environment):
        self.appetite = network.appetite or (None,) * len(network.node_ids)
        self.beyond = network.beyond_appetite or (0.0,) * len(network.node_ids)
        self.partners = [p for p, a in enumerate(self.appetite) if a is not None]
        self.rates = rates
        self.month = 0
        self.ordered = [0.0] * len(self.appetite)
        # Lots sent past an appetite that pays part of its price: the share they fetch.
        self.multiplier: dict[int, float] = {}
        # (month, partner, kg sent to it, its appetite) of each month that has ended.
        self.records: list[tuple[int, int, float, float]] = []
        if self.partners:
            for month, day in enumerate(network.month_start_days[1:], start=1):
                env.timeout(day).callbacks.append(self._new_month(month))

    def limits(self, partner: int) -> bool:
        """Whether ``partner`` has an appetite."""
        return self.appetite[partner] is not None

    def _new_month(self, month: int):
        def start(event: simpy.Event) -> None:
            self.records.extend(self.used())
            self.month = month
            for p in self.partners:
                self.ordered[p] = 0.0
                self.rates.outlet[p] = 1.0

        return start

    def used(self) -> list[tuple[int, int, float, float]]:
        """(month, partner, kg sent to it, its appetite) of the month under way."""
        month = self.month
        return [(month, p, self.ordered[p], self.appetite[p][month]) for p in self.partners]

    def room(self, partner: int) -> float:
        """Kg the partner takes now this month: what is left of its appetite, or no
        limit if it pays part of its price beyond it."""
        appetite = self.appetite[partner]
        if appetite is None or self.beyond[partner] > 0.0:
            return math.inf
        return max(appetite[self.month] - self.ordered[partner], 0.0)

    def takes(self, partner: int, kg: float) -> bool:
        """Whether a lot of ``kg`` may be sent to ``partner`` now: the first of the month
        always may (a big lot may go alone, as on a route with a capacity); the others
        while they fit in what is left."""
        ordered = self.ordered[partner]
        return ordered <= 0.0 or self.room(partner) >= kg

    def order(self, partner: int, lot: Lot) -> None:
        """Count ``lot`` against the partner's appetite of this month."""
        appetite = self.appetite[partner][self.month]
        before = self.ordered[partner]
        after = self.ordered[partner] = before + lot.mass
        beyond = self.beyond[partner]
        if beyond > 0.0 and after > appetite:
            past = min(after - appetite, lot.mass)
            self.multiplier[lot.id] = 1.0 - (1.0 - beyond) * past / lot.mass
        if after >= appetite:
            self.rates.outlet[partner] = beyond

    def price_share(self, lot: Lot) -> float:
        """The share of the partner's price that ``lot`` fetches on arrival."""
        return self.multiplier.pop(lot.id, 1.0)
