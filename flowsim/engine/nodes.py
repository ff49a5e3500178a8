"""The parts of a per-lot run that lots pass through: mines, buyers and refiners, and
the ends of the routes between them.

Each is an object with its callbacks bound once: a mine is a timeout that calls
:meth:`Mine.tick` at each lot; a buyer or a refiner (:class:`Processor`) is a deque of
waiting lots and a count of free servers, and a service is a timeout that carries its
lot and calls :meth:`Processor.served`; a transit is a timeout that carries its lot to
a route's end (:class:`IntoProcessor`, :class:`IntoPartner`, or the core's arrival
where something may happen on the way). What they share of the run they read from
their :class:`~flowsim.engine.per_lot.LotEngine`.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

import numpy as np
import simpy

from flowsim.draws import blocks
from flowsim.engine.state import MIN_CAPACITY_FACTOR
from flowsim.ledger import PRODUCED
from flowsim.lots import Lot
from flowsim.network import REFINER, Duration, MineSpec, ProcessorSpec

if TYPE_CHECKING:
    from flowsim.engine.per_lot import LotEngine

__all__ = ["IntoPartner", "IntoProcessor", "Mine", "Processor", "block_sampler"]


def block_sampler(dist: Duration, rng: np.random.Generator) -> Callable[[], float]:
    """A function that draws one duration in days, as :func:`~flowsim.engine.sampler`
    does, from draws that ``rng`` makes a block at a time."""
    p = dist.params
    if dist.kind == "fixed":
        value = p[0]
        return lambda: value
    if dist.kind == "exponential":
        return blocks(partial(rng.exponential, p[0]))
    if dist.kind == "lognormal":
        mean, cv = p
        if cv == 0:
            return lambda: mean
        sigma = math.sqrt(math.log1p(cv**2))
        return blocks(partial(rng.lognormal, math.log(mean) - sigma**2 / 2, sigma))
    if dist.kind == "triangular":
        low, mode, high = p
        if low == high:
            return lambda: low
        return blocks(partial(rng.triangular, low, mode, high))
    return blocks(partial(rng.uniform, p[0], p[1]))


class Mine:
    """One mine: at each lot's time, it makes the lot and sets the next one."""

    __slots__ = (
        "engine",
        "fixed",
        "fuel",
        "gamma",
        "horizon",
        "index",
        "interval",
        "levered",
        "next_interval",
        "only_route",
        "produced",
        "purity",
        "rates",
        "shape",
        "tick_bound",
    )

    def __init__(self, engine: LotEngine, i: int, mine: MineSpec, rng: np.random.Generator):
        self.engine, self.index = engine, i
        self.produced = engine.ledger.code_of(PRODUCED, i, -1)
        self.interval = mine.interval.mean
        self.fixed = mine.interval.kind == "fixed"
        self.next_interval = block_sampler(mine.interval, rng)
        self.rates, self.purity = engine.rates.kg_per_day, mine.purity
        variance = mine.cv**2  # may underflow to 0 for a tiny cv: then no noise
        self.shape = 1.0 / variance if variance > 0.0 else 0.0
        self.gamma = rng.gamma
        self.fuel = engine.policy.cuts_fuel(i)
        self.levered = engine.policy.production_may_change(i)
        self.horizon = engine.horizon
        self.tick_bound = self.tick
        # A mine with one route, nothing to check before it and no limit on it, ships
        # its lots itself: the plan of that route, or None to ask the engine.
        routes = engine._out[i]
        self.only_route = None
        if engine._plain[i] and len(routes) == 1 and not engine._plans[routes[0]][0]:
            self.only_route = engine._plans[routes[0]]

    def start(self) -> None:
        """A lot holds the output of the interval that starts at its time, so that every
        day of the calendar produces, the first one included. Drawn intervals make a
        renewal process that starts at a drawn time: then, as for a Poisson process,
        lots average one per mean interval."""
        first = 0.0 if self.fixed else self.next_interval()
        self.engine.env.timeout(first).callbacks.append(self.tick_bound)

    def tick(self, event: simpy.Event) -> None:
        engine = self.engine
        day = event.env.now
        interval = self.interval
        rate = self.rates[self.index]
        if self.levered:
            mass = engine.policy.production_kg_per_day(self.index, rate, day) * interval
        else:
            mass = rate * interval
        if self.fixed and day + interval > self.horizon:  # the last lot: the days left
            mass *= (self.horizon - day) / interval
        shape = self.shape
        if shape:
            mass *= self.gamma(shape, 1.0 / shape)
        if mass > 0.0:
            if self.fuel:
                engine.fuel_premium_usd += engine.policy.fuel_premium_usd(self.index, day, mass)
            lot = Lot(engine.next_lot, mass, self.index, self.purity, day)
            engine.next_lot += 1
            if engine._rents:
                engine.economics.produce(lot, self.index, day)
            engine._record(day, self.produced, lot.id, mass)
            if self.only_route is None:
                engine.dispatch(lot, self.index)
            else:  # the engine's dispatch down the one route, inline
                _, code, transit, arrive = self.only_route
                engine._record(day, code, lot.id, mass)
                engine._timeout(transit(), lot).callbacks.append(arrive)
        engine._timeout(self.next_interval()).callbacks.append(self.tick_bound)


class Processor:
    """A buyer or a refiner: the lots waiting, its free servers, and how it serves."""

    __slots__ = (
        "batch_kg",
        "capacities",
        "capacity_may_change",
        "choose",
        "dispatch",
        "engine",
        "free",
        "index",
        "loss",
        "plans",
        "present",
        "process_time",
        "purity",
        "queue",
        "record",
        "routes",
        "served_bound",
        "timeout",
    )

    def __init__(self, engine: LotEngine, i: int, node: ProcessorSpec):
        self.engine, self.index = engine, i
        self.queue: deque[Lot] = deque()
        self.free = node.servers
        self.process_time = block_sampler(node.processing, engine.service_rng)
        self.capacities = engine.rates.capacity
        self.loss = node.loss_fraction
        self.purity = node.refines_to
        self.batch_kg = node.batch_kg
        self.present = engine.sites[i].present
        self.capacity_may_change = engine.policy.capacity_may_change[i]
        self.served_bound = self.served
        self.timeout = engine._timeout
        self.dispatch = engine.dispatch
        # A node with nothing to check before the chooser and no limit on its routes
        # ships its lots itself: the engine's plans of its routes, or None to ask it.
        self.routes = engine._out[i]
        self.plans = None
        if engine._plain[i] and not any(engine._plans[r][0] for r in self.routes):
            self.plans = engine._plans
        self.choose = engine._choose
        self.record = engine._record

    def arrive(self, lot: Lot) -> None:
        if self.free:
            self.free -= 1
            self.serve(lot)
        else:
            self.queue.append(lot)

    def serve(self, lot: Lot) -> None:
        """Start serving ``lot`` (melted first with what waits, up to the batch size)."""
        queue = self.queue
        if self.batch_kg is not None and queue:
            engine = self.engine
            batch = [lot]
            mass = lot.mass
            while queue and mass < self.batch_kg:
                more = queue.popleft()
                if more.mass > 0.0:  # not seized whole while it queued
                    batch.append(more)
                    mass += more.mass
            if len(batch) > 1:
                lot = engine._melt(self.index, batch, self.purity)
        if self.capacity_may_change and self.engine.policy.capacity_changed(self.index):
            engine = self.engine
            day = engine.env.now
            factor = max(engine.policy.capacity_factor(self.index, day), MIN_CAPACITY_FACTOR)
            busy = self.process_time() + lot.mass / (self.capacities[self.index] * factor)
        else:
            busy = self.process_time() + lot.mass / self.capacities[self.index]
        self.timeout(busy, lot).callbacks.append(self.served_bound)

    def served(self, event: simpy.Event) -> None:
        lot = event.value
        if lot.mass > 0.0:  # not seized whole while it was served
            purity = self.purity
            if self.loss or (purity is not None and purity > lot.purity):
                self.engine._leave(self.index, lot, self.loss, purity)
            else:  # it leaves as it came: nothing to record before it goes on
                del self.present[lot.id]
                if self.plans is None:
                    self.dispatch(lot, self.index)
                else:  # the engine's dispatch, inline
                    routes, day = self.routes, event.env.now
                    one = len(routes) == 1
                    r = routes[0] if one else self.choose(self.index, lot, routes, day)
                    _, code, transit, arrive = self.plans[r]
                    self.record(day, code, lot.id, lot.mass)
                    self.timeout(transit(), lot).callbacks.append(arrive)
        queue = self.queue
        while queue:
            nxt = queue.popleft()
            if nxt.mass > 0.0:
                self.serve(nxt)
                return
        self.free += 1


class IntoProcessor:
    """The end of a route into a buyer or refiner that nothing can seize on, with no
    one learning from it: the core's arrival, with nothing to draw or decide, and
    what it needs looked up once."""

    __slots__ = (
        "arrive",
        "category_of",
        "code",
        "engine",
        "node",
        "present",
        "price_on",
        "processor",
        "record",
        "refiner",
    )

    def __init__(self, engine: LotEngine, r: int):
        self.engine = engine
        self.node = engine._target[r]
        self.code = engine._delivered_code[r]
        site = engine.sites[self.node]
        self.present = site.present
        self.refiner = site.kind == REFINER
        self.processor: Processor | None = None  # set when the node's processor is made
        self.record = engine._record
        self.category_of = engine.category_of
        self.price_on = engine._price_on
        self.arrive = self._arrive

    def _arrive(self, event: simpy.Event) -> None:
        lot = event.value
        engine = self.engine
        day = engine.env.now
        self.record(day, self.code, lot.id, lot.mass)
        lot.arrived = day
        if self.refiner:
            usd = lot.mass * lot.purity * self.price_on[int(day)]
            if lot.mix is None and not engine._sanctions:  # the core's receipt, inline
                category = self.category_of[lot.origin]
                engine._add_receipt(
                    day, self.node, lot.id, category, lot.touched, lot.mass, usd, False
                )
            else:
                engine._receive(self.node, lot, day, usd)
        self.present[lot.id] = lot
        processor = self.processor
        if processor.free:
            processor.free -= 1
            processor.serve(lot)
        else:
            processor.queue.append(lot)


class IntoPartner:
    """The end of a route into a partner that nothing can seize on, with no one learning
    and no sanctions to refuse gold for: the core's export, with nothing to draw or
    refuse."""

    __slots__ = ("arrive", "category_of", "code", "engine", "price_factor", "price_on", "target")

    def __init__(self, engine: LotEngine, r: int):
        self.engine = engine
        self.target = engine._target[r]
        self.code = engine._exported_code[r]
        self.price_factor = engine.price_factor
        self.category_of = engine.category_of
        self.price_on = engine._price_on
        self.arrive = self._arrive

    def _arrive(self, event: simpy.Event) -> None:
        lot = event.value
        engine = self.engine
        day = engine.env.now
        mass = lot.mass
        usd = mass * lot.purity * self.price_on[int(day)] * self.price_factor[self.target]
        engine._record_valued(day, self.code, lot.id, mass, usd)
        if lot.mix is None:
            category = self.category_of[lot.origin]
            engine._add_receipt(
                day, self.target, lot.id, category, lot.touched, mass, usd, False, lot.via
            )
        else:
            engine._receive(self.target, lot, day, usd)
