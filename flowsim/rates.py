"""The rates of one replication that schedules change, as the run reads them.

:class:`Rates` holds one list per quantity, by node or route index: what each mine
produces a day, each buyer's and refiner's capacity, each partner's price factor,
and each route's seizure probability and weight. It starts from the network's
values on the first day; the engine calls :meth:`Rates.set_day` at the start of
each day on which a schedule changes one (``Network.change_days``). Whatever reads
a rate during the run reads it from here, so a run without schedules reads the
network's values all along.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flowsim.network import Network

__all__ = ["QUANTITIES", "Rates"]

# The quantities a schedule may change: the names of the lists of Rates and the keys
# of Network.schedules.
QUANTITIES = (
    "kg_per_day",
    "capacity",
    "price_factor",
    "route_seizure",
    "route_weight",
    "route_cost",
    "route_transit_factor",
    "margin",
)


class Rates:
    """Each scheduled quantity's value now, by node or route index."""

    def __init__(self, network: Network):
        nodes = len(network.node_ids)
        self.kg_per_day = [0.0] * nodes
        for mine in network.mines:
            self.kg_per_day[mine.node] = mine.kg_per_day
        self.capacity = [0.0] * nodes
        for processor in network.processors:
            self.capacity[processor.node] = processor.capacity_kg_per_day
        self.price_factor = list(network.price_factor)
        self.route_seizure = list(network.route_seizure)
        self.route_weight = list(network.route_weight)
        self.route_cost = list(network.route_cost)
        self.route_transit_factor = list(network.route_transit_factor)
        # The share of what a kg is worth downstream that a buyer or refiner keeps.
        economics = network.economics
        self.margin = list(economics.margin) if economics else [0.0] * nodes
        # The share of its price a partner pays for the next kg: below 1 once its
        # appetite for the month is used up (flowsim.engine.outlets).
        self.outlet = [1.0] * nodes
        # What a mine's margin makes of its output (flowsim.economics): kg_per_day holds
        # the output with it; shipment mode's mean of a schedule is multiplied by it.
        self.output_factor = [1.0] * nodes
        self.tables = network.schedules
        self.change_days = network.change_days()

    def scale_transit(self, draws: list[Callable[[], float]]) -> list[Callable[[], float]]:
        """Each route's draw of transit days, times its transit factor of the day where
        it has one other than 1 (the others as they are)."""
        factors = self.route_transit_factor
        return [
            draw
            if not self.varies("route_transit_factor", r)
            else partial(_scaled, draw, r, factors)
            for r, draw in enumerate(draws)
        ]

    def varies(self, quantity: str, index: int) -> bool:
        """Whether ``quantity`` of ``index`` is ever other than 1 (a factor)."""
        table = self.tables.get(quantity, {}).get(index)
        if table is not None:
            return any(v != 1.0 for v in table)
        return getattr(self, quantity)[index] != 1.0

    def scheduled(self, quantity: str, index: int) -> bool:
        """Whether a schedule sets ``quantity`` of node or route ``index``."""
        return index in self.tables.get(quantity, {})

    def peak(self, quantity: str, index: int) -> float:
        """The highest value the quantity takes in the run."""
        table = self.tables.get(quantity, {}).get(index)
        return max(table) if table is not None else getattr(self, quantity)[index]

    def mean(self, quantity: str, index: int, start: float, days: float) -> float:
        """The mean of a scheduled quantity over ``days`` days from ``start``, each day
        at its own value."""
        table = self.tables[quantity][index]
        end = start + days
        if days <= 0.0:
            return table[min(int(start), len(table) - 1)]
        total, at = 0.0, start
        while at < end:
            day = int(at)
            step = min(day + 1.0, end) - at
            total += table[min(day, len(table) - 1)] * step
            at += step
        return total / days

    def set_day(self, day: int) -> set[str]:
        """Set every scheduled rate to its value on ``day``; return the quantities
        whose values changed."""
        changed = set()
        for quantity, tables in self.tables.items():
            values = getattr(self, quantity)
            for index, table in tables.items():
                value = table[min(day, len(table) - 1)]
                if values[index] != value:
                    values[index] = value
                    changed.add(quantity)
        return changed


def _scaled(draw: Callable[[], float], route: int, factors: list[float]) -> float:
    return draw() * factors[route]
