"""The per-lot engine before callbacks: the reference that the callback engine of
flowsim.engine.per_lot is held to (tests/test_equivalence.py) and timed against
(``make bench``).

Mines are processes that make a lot every interval; a buyer or refiner is a SimPy
store served by as many processes as it has servers; every draw is one call to the
generator. Results are the same in distribution as the callback engine's, not
draw for draw.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence

import numpy as np
import simpy

from flowsim.engine.core import MIN_CAPACITY_FACTOR, Engine, Site, sampler
from flowsim.engine.per_lot import LotEngine
from flowsim.ledger import PRODUCED
from flowsim.lots import Lot
from flowsim.network import MineSpec, ProcessorSpec

__all__ = ["StoreLotEngine"]


class StoreLotEngine(Engine):
    """One replication, lot by lot, with SimPy stores and a process per server."""

    def _start_mine(self, i: int, mine: MineSpec, rng: np.random.Generator) -> None:
        self.env.process(self._mine(i, mine, rng))

    def _start_processor(self, i: int, node: ProcessorSpec) -> None:
        site = self.sites[i]
        site.store = simpy.Store(self.env)
        for _ in range(node.servers):
            self.env.process(self._serve(i, node))

    def _enqueue(self, site: Site, lot: Lot) -> None:
        site.store.put(lot)

    def _send(self, lot: Lot, i: int, candidates: Sequence[int], day: float) -> None:
        if len(candidates) == 1:
            self._ship(lot, i, candidates[0], day)
        else:
            self._ship(lot, i, self.chooser.choose(i, lot, candidates, day), day)

    # Route capacity counts as in the engine that replaced this one.
    _use_capacity = LotEngine._use_capacity
    _route_takes = LotEngine._route_takes

    def _mine(self, i: int, mine: MineSpec, rng: np.random.Generator) -> Generator:
        env, policy = self.env, self.policy
        produced = self.ledger.code_of(PRODUCED, i, -1)
        interval_dist = mine.interval
        interval = interval_dist.mean
        fixed = interval_dist.kind == "fixed"
        next_interval = sampler(interval_dist, rng)
        rate = mine.kg_per_day
        purity = mine.purity
        variance = mine.cv**2  # may underflow to 0 for a tiny cv: then no noise
        shape = 1.0 / variance if variance > 0.0 else 0.0
        has_fuel_cuts = policy.cuts_fuel(i)
        # A lot holds the output of the interval that starts at its time, so
        # that every day of the calendar produces, the first one included.
        # Drawn intervals make a renewal process that starts at a drawn time:
        # then, as for a Poisson process, lots average one per mean interval.
        horizon = self.horizon
        if not fixed:
            yield env.timeout(next_interval())
        while True:
            day = env.now
            mass = policy.production_kg_per_day(i, rate, day) * interval
            if fixed and day + interval > horizon:  # the last lot covers only the days left
                mass *= (horizon - day) / interval
            if shape:
                mass *= rng.gamma(shape, 1.0 / shape)
            if mass > 0.0:
                if has_fuel_cuts:
                    self.fuel_premium_usd += policy.fuel_premium_usd(i, day, mass)
                lot = self._new_lot(mass, i, purity, day)
                self._record(day, produced, lot.id, mass)
                self.dispatch(lot, i)
            yield env.timeout(next_interval())

    def _serve(self, i: int, node: ProcessorSpec) -> Generator:
        env, policy = self.env, self.policy
        site = self.sites[i]
        get = site.store.get
        process_time = sampler(node.processing, self.service_rng)
        capacity = node.capacity_kg_per_day
        loss = node.loss_fraction
        purity = node.refines_to
        batch_kg = node.batch_kg
        items = site.store.items
        while True:
            lot = yield get()
            if lot.mass <= 0.0:  # seized whole while it queued
                continue
            if batch_kg is not None and items:
                # Melt what is waiting, up to the batch size; a get on a store
                # that has items is served at once, so nothing waits here.
                batch = [lot]
                mass = lot.mass
                while items and mass < batch_kg:
                    more = yield get()
                    if more.mass > 0.0:
                        batch.append(more)
                        mass += more.mass
                if len(batch) > 1:
                    lot = self._melt(i, batch, purity)
            if policy.capacity_changed(i):
                factor = max(policy.capacity_factor(i, env.now), MIN_CAPACITY_FACTOR)
                busy = process_time() + lot.mass / (capacity * factor)
            else:
                busy = process_time() + lot.mass / capacity
            if busy > 0.0:
                yield env.timeout(busy)
            if lot.mass > 0.0:
                self._leave(i, lot, loss, purity)
