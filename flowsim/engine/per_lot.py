"""Per-lot mode: every lot a mine produces goes through every queue on its own.

Written as SimPy is leanest: no process on the hot path. Mines, buyers and refiners,
and the ends of the routes that nothing can seize on, are objects with bound callbacks
(:mod:`flowsim.engine.nodes`); transits are timeouts that carry their lot. This module
is the mode: what it sets up, how it sends a lot down a route, and how route capacity
counts. Draws come from the replication's generators a block at a time. A route's
capacity is kilograms a calendar day.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import simpy

from flowsim.draws import blocks
from flowsim.engine.core import Engine, Site
from flowsim.engine.nodes import IntoPartner, IntoProcessor, Mine, Processor, block_sampler
from flowsim.lots import Lot
from flowsim.network import PARTNER, MineSpec, ProcessorSpec

__all__ = ["LotEngine", "block_sampler"]


class LotEngine(Engine):
    """One replication, lot by lot."""

    def _prepare(self) -> None:
        # Every draw of the hot path from a block: one call to numpy every BLOCK draws.
        self._uniform = blocks(self.rng.random)
        transits = self.network.route_transit
        self.route_transit = self.rates.scale_transit(
            [block_sampler(d, self.service_rng) for d in transits]
        )
        self._timeout = self.env.timeout
        kinds = self.network.kinds
        # Per route, what a shipment down it needs, looked up once per lot. A route into
        # a buyer or refiner that nothing can seize on, with no one learning from it,
        # delivers straight to its node's queue.
        rates = self.rates
        plain = [
            rates.peak("route_seizure", r) == 0.0
            and not self._seizure_varies[r]
            and not self._learns
            and not self._rents
            and not self._documents
            and kinds[self._target[r]] != PARTNER
            for r in range(len(transits))
        ]
        # A route into a partner that nothing can seize on, with no one learning and no
        # sanctions to refuse gold for, ends in an export with nothing to draw or decide.
        exports = [
            rates.peak("route_seizure", r) == 0.0
            and not self._seizure_varies[r]
            and not self._learns
            and not self._sanctions
            and not self._into_outlet[r]
            and not self._rents
            and not self._documents
            and not self._hub[self._target[r]]
            and kinds[self._target[r]] == PARTNER
            for r in range(len(transits))
        ]
        self._ends_into: dict[int, list[IntoProcessor]] = {}
        arrivals: list[Callable[[simpy.Event], None]] = []
        for r in range(len(transits)):
            if plain[r]:
                end = IntoProcessor(self, r)
                self._ends_into.setdefault(end.node, []).append(end)
                arrivals.append(end.arrive)
            elif exports[r]:
                arrivals.append(IntoPartner(self, r).arrive)
            else:
                arrivals.append(self._arrive_on[r])
        self._plans = [
            (
                self._counted[r],
                self._shipped_code[r],
                self.route_transit[r],
                arrivals[r],
            )
            for r in range(len(transits))
        ]
        # A node whose lots no lever can taint, no route can refuse and that re-papers
        # nothing sends every lot down one of all its routes: nothing to check before the
        # chooser.
        self._plain = [
            not self._sanctions and not f and not launders
            for f, launders in zip(self._filter, self._launders, strict=True)
        ]
        self._choose = self.chooser.choose

    def _start_mine(self, i: int, mine: MineSpec, rng: np.random.Generator) -> None:
        Mine(self, i, mine, rng).start()

    def _start_processor(self, i: int, node: ProcessorSpec) -> None:
        processor = self.sites[i].processor = Processor(self, i, node)
        for end in self._ends_into.get(i, ()):
            end.processor = processor

    def _enqueue(self, site: Site, lot: Lot) -> None:
        site.processor.arrive(lot)

    def dispatch(self, lot: Lot, i: int) -> None:
        """Send a lot ready at node ``i`` down a route, or hold it there (the core's
        dispatch, with the sending of this mode written in, as it runs for every hop)."""
        day = self.env.now
        if self._plain[i]:
            candidates = self._out[i]
        else:
            if self._launders[i] and self._launder(lot, i, day):
                return
            candidates = self._routes_taking(lot, i, day)
            if not candidates:
                self._hold(lot, i, day)
                return
        r = candidates[0] if len(candidates) == 1 else self._choose(i, lot, candidates, day)
        limited, code, transit, arrive = self._plans[r]  # the core's _ship, inline
        if limited:
            self._count(r, lot, day)
        self._record(day, code, lot.id, lot.mass)
        self._timeout(transit(), lot).callbacks.append(arrive)

    def _use_capacity(self, r: int, kg: float, day: float) -> None:
        """Count ``kg`` against route ``r``'s capacity for the calendar day."""
        today = int(day)
        if self.route_day[r] != today:
            self.route_day[r], self.route_used[r] = today, 0.0
        self.route_used[r] += kg

    def _route_takes(self, r: int, lot: Lot, day: float) -> bool:
        """Whether route ``r`` has room for ``lot`` today and leads where it is taken:
        the first lot of a day always fits."""
        capacity = self.route_capacity[r]
        if (
            capacity is not None
            and self.route_day[r] == int(day)
            and self.route_used[r] > 0.0
            and self.route_used[r] + lot.mass > capacity
        ):
            return False
        return self._outlet_takes(r, lot) and self._route_open(r, lot, day)

    def in_transit(self) -> list[Lot]:
        """The lots on a route now. Services are timeouts that carry their lot too, and
        a lot in service is still at its node: those are not in transit."""
        at_nodes = {lot_id for site in self.sites for lot_id in site.present}
        return [lot for lot in super().in_transit() if lot.id not in at_nodes]
