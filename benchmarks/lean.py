"""The leanest plain-SimPy model of the benchmark's schedule (``lean_simpy``).

The same lots through the same stages as :mod:`benchmarks.bare` and flowsim's
per-lot mode, written as SimPy is fastest: every lot is carried by timeouts whose
callback is a method bound once (no process, no closure per lot), a stage's queue
is a deque and its servers a counter, and draws come from the standard library's
``random``. Six events a lot: its production, three transits and two services. It
records nothing and decides nothing but the next hop: it is the floor that
flowsim's per-lot cost is compared with (``ratio_to_lean``).
"""

from __future__ import annotations

import random
from collections import deque

import simpy

from benchmarks.networks import BUYER_SERVICE, REFINER_SERVICE, TRANSIT_DAYS, Size

TRANSIT_RATE = 1.0 / TRANSIT_DAYS


class Stage:
    """A buyer or a refiner: a queue, its free servers, and where lots go next."""

    __slots__ = ("arrive_bound", "done_bound", "free", "model", "onward", "queue", "rate")

    def __init__(self, model: Lean, servers: int, service_days: float):
        self.model = model
        self.queue: deque = deque()
        self.free = servers
        self.rate = 1.0 / service_days
        self.onward: tuple = ()
        self.arrive_bound = self.arrive
        self.done_bound = self.done

    def arrive(self, event: simpy.Event) -> None:
        if self.free:
            self.free -= 1
            model = self.model
            model.timeout(model.draw(self.rate), event.value).callbacks.append(self.done_bound)
        else:
            self.queue.append(event.value)

    def done(self, event: simpy.Event) -> None:
        model = self.model
        onward = self.onward
        if onward:
            target = onward[0] if model.uniform() < 0.5 else onward[1]
            callback = target.arrive_bound
        else:
            callback = model.count_bound
        model.timeout(model.draw(TRANSIT_RATE), event.value).callbacks.append(callback)
        if self.queue:
            lot = self.queue.popleft()
            model.timeout(model.draw(self.rate), lot).callbacks.append(self.done_bound)
        else:
            self.free += 1


class Mine:
    """A mine: a lot at Poisson times, sent to its buyer."""

    __slots__ = ("buyer", "model", "tick_bound")

    def __init__(self, model: Lean, buyer: Stage):
        self.model, self.buyer = model, buyer
        self.tick_bound = self.tick

    def tick(self, event: simpy.Event) -> None:
        model = self.model
        model.timeout(model.draw(TRANSIT_RATE), [1.0]).callbacks.append(self.buyer.arrive_bound)
        model.timeout(model.draw(1.0)).callbacks.append(self.tick_bound)


class Lean:
    def __init__(self, size: Size, seed: int):
        self.env = simpy.Environment()
        self.timeout = self.env.timeout
        generator = random.Random(seed)
        self.draw = generator.expovariate  # takes a rate
        self.uniform = generator.random
        self.delivered = 0
        self.count_bound = self.count
        per_buyer = size.mines / size.buyers
        refiners = [
            Stage(self, max(1, round(per_buyer * size.buyers / size.refiners)), REFINER_SERVICE)
            for _ in range(size.refiners)
        ]
        buyers = [Stage(self, max(1, round(per_buyer)), BUYER_SERVICE) for _ in range(size.buyers)]
        for i, buyer in enumerate(buyers):
            buyer.onward = (refiners[i % size.refiners], refiners[(i + 1) % size.refiners])
        for i in range(size.mines):
            mine = Mine(self, buyers[i % size.buyers])
            self.timeout(self.draw(1.0)).callbacks.append(mine.tick_bound)
        self.days = size.days

    def count(self, event: simpy.Event) -> None:
        self.delivered += 1


def run(size: Size, seed: int = 0) -> dict[str, int]:
    model = Lean(size, seed)
    model.env.run(until=model.days)
    return {"delivered": model.delivered, "events": next(model.env._eid)}
