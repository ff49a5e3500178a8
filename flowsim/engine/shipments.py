"""Shipment mode: events grow with shipments, not with production.

A mine's output is collected every ``collection_days`` as one lot; a buyer or
refiner takes all it holds every ``batch_days`` and ships it consolidated, split
over the routes by the shares the chooser gives them; a route's capacity is room
that fills at its daily rate.
"""

from __future__ import annotations

import math
from collections.abc import Generator, Sequence

import numpy as np

from flowsim.engine.core import MIN_CAPACITY_FACTOR, Engine, Site, sampler
from flowsim.ledger import PRODUCED
from flowsim.lots import Lot
from flowsim.network import MINE, MineSpec, ProcessorSpec, ReserveSpec

__all__ = ["ShipmentEngine"]


class ShipmentEngine(Engine):
    """One replication, shipment by shipment."""

    def _prepare(self) -> None:
        super()._prepare()
        network = self.network
        # A route used once a collection or a batch may carry at once what its
        # capacity allows over that interval: room fills at its daily capacity, up
        # to that much, and a shipment takes what room there is.
        self.route_room_max = [
            (network.collection_days if network.kinds[source] == MINE else network.batch_days)
            * (c or 0.0)
            for c, source in zip(self.route_capacity, network.route_source, strict=True)
        ]
        self.route_room = list(self.route_room_max)
        self.route_room_day = [0.0] * len(network.route_ids)

    def _start_mine(self, i: int, mine: MineSpec, rng: np.random.Generator) -> None:
        self.env.process(self._collect(i, mine, rng))

    def _start_processor(self, i: int, node: ProcessorSpec) -> None:
        self.sites[i].waiting = []
        self.env.process(self._process_batches(i, node))

    def _enqueue(self, site: Site, lot: Lot) -> None:
        site.waiting.append(lot)

    def _send(self, lot: Lot, i: int, candidates: Sequence[int], day: float) -> None:
        self._ship_split(lot, i, candidates, day)

    def _use_capacity(self, r: int, kg: float, day: float) -> None:
        self.route_room[r] -= kg

    def _route_takes(self, r: int, lot: Lot, day: float) -> bool:
        """Whether route ``r`` has room left and leads where ``lot`` is taken."""
        if self._counted[r] and self._room(r, day) <= 0.0:
            return False
        return self._route_open(r, lot, day)

    def _scheduled_sales(self, spec: ReserveSpec) -> list[tuple[float, float]]:
        """Shipment mode: a reserve sells every ``batch_days`` at once what per-lot mode
        sells over those days, on the middle day of them (rounded down to the start of
        a day), so that its sales leave on the same days on average."""
        period = max(1, round(self.network.batch_days))
        daily = spec.daily_sale_kg
        sales = []
        for first in range(0, len(daily), period):
            days = daily[first : first + period]
            kg = math.fsum(days)
            if kg > 0.0:
                sales.append((float(first + (len(days) - 1) // 2), kg))
        return sales

    def _collect(self, i: int, mine: MineSpec, rng: np.random.Generator) -> Generator:
        """Shipment mode: the mine's output is collected every ``collection_days`` as
        one lot, which holds the output of the period that starts then (as a lot of
        per-lot mode holds that of its interval). Each mine has its own day of the
        cycle, drawn at random, so that months hold as many days of production as
        they have, on average, rather than four or five collections of all mines.

        Its mass is what the lots of per-lot mode would have added up to: as many
        lots as the period holds (a Poisson number when the intervals are drawn, the
        count of a renewal process approximated by its Poisson limit), each with
        the mine's production noise, drawn at once as one gamma variate.
        """
        env, policy = self.env, self.policy
        produced = self.ledger.code_of(PRODUCED, i, -1)
        interval = mine.interval.mean
        drawn = mine.own_interval and not mine.interval.constant
        rates = self.rates
        scheduled = rates.scheduled("kg_per_day", i)
        purity = mine.purity
        variance = mine.cv**2
        shape = 1.0 / variance if variance > 0.0 else 0.0
        has_fuel_cuts = policy.cuts_fuel(i)
        period, horizon = self.network.collection_days, self.horizon
        days = period * (1.0 - rng.random())  # the first period: (0, period]
        while True:
            day = env.now
            days = min(days, horizon - day)
            lots = days / interval
            # Beyond 1e12 lots a period, the noise of their count and masses is below a
            # millionth: the period's output is its mean (and a subnormal interval's
            # count, which overflows to infinity, does not reach the masses).
            many = lots >= 1e12
            if drawn and not many:
                lots = rng.poisson(lots)
            # A scheduled output: its mean over the period the collection holds.
            if scheduled:
                rate = rates.mean("kg_per_day", i, day, days) * rates.output_factor[i]
            else:
                rate = rates.kg_per_day[i]
            per_day = policy.production_kg_per_day(i, rate, day)
            if many:
                mass = per_day * days
            else:
                if shape and lots > 0:
                    lots = rng.gamma(lots * shape, 1.0 / shape)
                mass = per_day * interval * lots
            if mass > 0.0:
                if has_fuel_cuts:
                    self.fuel_premium_usd += policy.fuel_premium_usd(i, day, mass)
                lot = self._new_lot(mass, i, purity, day)
                if self._rents:
                    self.economics.produce(lot, i, day)
                self._record(day, produced, lot.id, mass)
                self.dispatch(lot, i)
            yield env.timeout(days)
            days = period

    def _process_batches(self, i: int, node: ProcessorSpec) -> Generator:
        """Shipment mode: every ``batch_days`` the node takes all the lots it holds,
        processes them as one batch and ships them consolidated. Lots are
        consolidated by what sanctions see in them (taint, what their papers show, and
        the partners that refused them), so that a shipment is refused, held or taken as each of
        its lots would have been.
        """
        env, policy = self.env, self.policy
        site = self.sites[i]
        process_time = sampler(node.processing, self.service_rng)
        capacities, servers = self.rates.capacity, node.servers
        loss = node.loss_fraction
        purity = node.refines_to
        period = self.network.batch_days
        batch_day = period / 2
        yield env.timeout(batch_day)
        while True:
            lots = [lot for lot in site.waiting if lot.mass > 0.0]
            site.waiting = []
            if lots:
                mass = sum(lot.mass for lot in lots)
                capacity = capacities[i] * servers
                if policy.capacity_changed(i):
                    factor = max(policy.capacity_factor(i, env.now), MIN_CAPACITY_FACTOR)
                    busy = process_time() + mass / (capacity * factor)
                else:
                    busy = process_time() + mass / capacity
                if busy > 0.0:
                    yield env.timeout(busy)
                for shipment in self._consolidate(i, lots, purity):
                    self._leave(i, shipment, loss, purity)
            # The next batch falls on the schedule, or at once if this one overran it.
            batch_day = max(batch_day + period, env.now)
            yield env.timeout(batch_day - env.now)

    def _consolidate(self, i: int, lots: list[Lot], refine_to: float | None) -> list[Lot]:
        """The lots of one batch, still there, as one lot per kind that sanctions tell apart."""
        day = self.env.now
        policy = self.policy
        groups: dict[tuple[int, int, tuple[int, ...]], list[Lot]] = {}
        for lot in lots:
            if lot.mass <= 0.0:  # seized whole while it was processed
                continue
            if policy.has_sanctions:
                touched = policy.taint_on_leave(i, lot.arrived, day)
                lot.taint |= touched
                lot.seen |= touched
            groups.setdefault((lot.taint, lot.seen, lot.refused_by), []).append(lot)
        return [
            group[0] if len(group) == 1 else self._melt(i, group, refine_to)
            for group in groups.values()
        ]

    def _ship_split(self, lot: Lot, i: int, candidates: Sequence[int], day: float) -> None:
        """Shipment mode: split a consolidated shipment over the routes by the shares the
        chooser gives them (per-lot mode sends that share of the lots there), each
        part limited by its route's room; what does not fit is held for a retry."""
        if len(candidates) == 1:
            if not self._counted[candidates[0]]:  # the common case: all of it, one way
                self._ship(lot, i, candidates[0], day)
                return
            parts = [(candidates[0], 1.0)]
        else:
            parts = self.chooser.split(i, lot, candidates, day)
            if not parts:  # no route worth anything: as if none were open
                self._hold(lot, i, day, for_room=False)
                return
        mass = lot.mass
        sends = []
        for r, share in parts:
            send = min(mass * share, self._room(r, day))
            if send > 0.0:
                sends.append((r, send))
        # What a full route could not take goes to the routes with room left, as
        # per-lot mode sends the lots a full route refuses down the others.
        left = mass - sum(send for _, send in sends)
        if left > mass * 1e-12:
            for k, (r, send) in enumerate(sends):
                more = min(left, self._room(r, day) - send)
                if more > 0.0:
                    sends[k] = (r, send + more)
                    left -= more
        held = mass - sum(send for _, send in sends)
        if held <= mass * 1e-12:  # all of it fits, but for rounding
            held = 0.0
        for r, send in sends[:-1] if held == 0.0 else sends:
            self._ship(self._part_of(lot, send), i, r, day)
        if held == 0.0:  # the last part is the lot itself: what is left, to the gram
            lot.mass = mass - sum(send for _, send in sends[:-1])
            self._ship(lot, i, sends[-1][0], day)
        else:
            lot.mass = held
            self._hold(lot, i, day, for_room=True)

    def _room(self, r: int, day: float) -> float:
        """Shipment mode: kg route ``r`` can take now, by its capacity and its partner's
        appetite (infinite without either)."""
        if self._into_outlet[r]:
            return min(self._route_room(r, day), self.outlets.room(self._target[r]))
        return self._route_room(r, day)

    def _route_room(self, r: int, day: float) -> float:
        capacity = self.route_capacity[r]
        if capacity is None:
            return math.inf
        filled = self.route_room[r] + capacity * (day - self.route_room_day[r])
        self.route_room[r] = min(filled, self.route_room_max[r])
        self.route_room_day[r] = day
        return self.route_room[r]
