"""The bare-SimPy reference: the same lots through the same stages, no model.

The leanest honest plain-SimPy version of flowsim's per-lot schedule: a
process per mine that puts a lot into its buyer's Store at Poisson times
(after an exponential transit), servers that pull from each Store and hold
each lot for an exponential service time, and exponential transits between
stages, scheduled as timeouts with a callback rather than as processes.
Servers pulling from Stores measured about 20% faster than Resources here,
so the reference uses Stores. It records nothing and decides nothing: it is
the floor that flowsim's per-lot cost is compared with.
"""

from __future__ import annotations

import numpy as np
import simpy

from benchmarks.networks import BUYER_SERVICE, REFINER_SERVICE, TRANSIT_DAYS, Size


def run(size: Size, seed: int = 0) -> dict[str, int]:
    rng = np.random.default_rng(seed)
    env = simpy.Environment()
    exponential = rng.exponential
    random = rng.random
    buyers = [simpy.Store(env) for _ in range(size.buyers)]
    refiners = [simpy.Store(env) for _ in range(size.refiners)]
    delivered = [0]

    def ship(store: simpy.Store, lot: list) -> None:
        env.timeout(exponential(TRANSIT_DAYS)).callbacks.append(lambda _e: store.put(lot))

    def mine(i: int):
        buyer = buyers[i % size.buyers]
        while True:
            ship(buyer, [1.0, i])
            yield env.timeout(exponential(1.0))

    def server(inbox: simpy.Store, service: float, outboxes: list, sink: bool):
        while True:
            lot = yield inbox.get()
            yield env.timeout(exponential(service))
            if sink:
                env.timeout(exponential(TRANSIT_DAYS)).callbacks.append(_count)
            else:
                ship(outboxes[0] if random() < 0.5 else outboxes[1], lot)

    def _count(_event) -> None:
        delivered[0] += 1

    mines_per_buyer = size.mines / size.buyers
    for i in range(size.mines):
        env.process(mine(i))
    for i, store in enumerate(buyers):
        out = [refiners[i % size.refiners], refiners[(i + 1) % size.refiners]]
        for _ in range(max(1, round(mines_per_buyer))):
            env.process(server(store, BUYER_SERVICE, out, False))
    per_refiner = max(1, round(mines_per_buyer * size.buyers / size.refiners))
    for store in refiners:
        for _ in range(per_refiner):
            env.process(server(store, REFINER_SERVICE, [], True))
    env.run(until=size.days)
    return {"delivered": delivered[0], "events": next(env._eid)}
