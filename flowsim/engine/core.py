"""The engine's core: what both modes share to move lots of gold.

A replication is one :class:`Engine`; :func:`flowsim.engine.make_engine` makes the
mode the network asks for, chosen once: :class:`~flowsim.engine.per_lot.LotEngine` follows
every lot through every queue; :class:`~flowsim.engine.shipments.ShipmentEngine`
collects each mine's output and ships what a node holds as consolidated batches.
The core does what is the same in both: sending a lot down a route or holding it,
transit with seizures and releases, refusals, deliveries, receipts by origin, and
raids acting on stock. It only moves mass: which route a lot takes is asked of a
:class:`~flowsim.choice.RouteChooser`, and what the levers change of
:class:`~flowsim.levers.Levers`. Every movement of mass is written once to the
:class:`~flowsim.ledger.Ledger`.

All randomness comes from the one ``numpy.random.Generator`` passed in.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from functools import partial

import numpy as np
import simpy

from flowsim.choice import RouteChooser, StaticSplit, make_chooser
from flowsim.economics import Economics
from flowsim.engine.arrivals import Arrivals
from flowsim.engine.customs import Customs
from flowsim.engine.holding import Holding
from flowsim.engine.outlets import Outlets
from flowsim.engine.reserves import Reserves
from flowsim.engine.simpy_adapter import pending_timeout_values
from flowsim.engine.state import MIN_CAPACITY_FACTOR, EngineOutput, Site, sampler
from flowsim.ledger import (
    DELIVERED,
    EXPORTED,
    LOST,
    OPENING,
    SEIZED,
    SHIPPED,
    Ledger,
    Melts,
    Receipts,
)
from flowsim.levers import Levers
from flowsim.lots import Lot, blend, blend_papers, mark_touched
from flowsim.network import (
    PARTNER,
    MineSpec,
    Network,
    ProcessorSpec,
    StockSpec,
)
from flowsim.provenance import ILLEGAL_STATUSES
from flowsim.rates import Rates

__all__ = ["MIN_CAPACITY_FACTOR", "Engine", "EngineOutput", "Site", "sampler"]

FLUSH_DAYS = 7.0  # how often the tables move their buffered rows into columns
# The scheduled rates that route choosers weigh.
CHOOSER_READS = frozenset({"route_weight", "price_factor", "route_seizure", "route_cost"})


class Engine(Holding, Reserves, Arrivals, Customs):
    """One replication of one scenario: what both modes share. A mode implements the
    methods under "what each mode does its own way"."""

    def __init__(
        self,
        network: Network,
        rng: np.random.Generator,
        chooser: RouteChooser | None = None,
    ):
        self.network = network
        # One stream per purpose, spawned from the generator passed in, so that
        # a lever that changes how often lots are refused or seized does not
        # change how much gold the mines produce or when raids fall: scenarios
        # run with the same seed share their random numbers where they can.
        policy_rng, transit_rng, self.rng, *mine_rngs = rng.spawn(3 + len(network.kinds))
        (choice_rng,) = rng.spawn(1)
        (papers_rng,) = rng.spawn(1)
        self.env = simpy.Environment()
        self.ledger = Ledger(len(network.node_ids), len(network.route_ids))
        self.receipts = Receipts(len(network.node_ids), len(network.categories))
        self.melts = Melts()
        self.rates = Rates(network)
        # A rate changes at the start of its day, before anything else happens that day:
        # these timeouts are made before any other, so they come first among their day's.
        for day in self.rates.change_days:
            self.env.timeout(day).callbacks.append(self._rates_change)
        # A month opens each partner's appetite again before prices are read that day.
        self.outlets = Outlets(network, self.rates, self.env)
        self.policy = Levers(network, policy_rng, self.rates)
        self.chooser = chooser or make_chooser(network, self.policy, choice_rng, self.rates)
        self.economics = Economics(network, self.rates, self.policy, self.chooser, self.env)
        if network.rents:
            self.economics.start_books()
        self._route_cost = self.rates.route_cost
        self._start_customs(papers_rng)
        self.category_of = network.category_of
        self.category_jurisdiction = [c[0] for c in network.categories]
        self._illegal = [status in ILLEGAL_STATUSES for _, status in network.categories]
        self._to_partner_node = [kind == PARTNER for kind in network.kinds]
        self.horizon = float(network.days)
        # The days on which a lever may open a route that was closed: held lots wait
        # for these, rather than being retried on a clock.
        self.reopen_days = self.policy.reopen_days()
        self.next_lot = 0
        self.fuel_premium_usd = 0.0
        # Each reserve's lot, by node (None once it is sold or seized whole), and its
        # level at the end of each month.
        self.reserves: dict[int, Lot | None] = {}
        self.reserve_levels: list[tuple[int, int, float]] = []

        routes = network.route_ids
        self.route_transit = self.rates.scale_transit(
            [sampler(d, transit_rng) for d in network.route_transit]
        )
        self.service_rng = transit_rng
        self.route_capacity = list(network.route_capacity)
        self._into_outlet = [self.outlets.limits(t) for t in network.route_target]
        # Routes whose use is counted: against their capacity, or their partner's appetite,
        # or by the customs that record it. With the books kept, every shipment is
        # counted: its owner pays for the route.
        self._rents = network.rents
        self._counted = [
            c is not None or into or self._rents or declared
            for c, into, declared in zip(
                self.route_capacity, self._into_outlet, self._declared_export, strict=True
            )
        ]
        self.route_day = [-1] * len(routes)
        self.route_used = [0.0] * len(routes)
        self.price_factor = self.rates.price_factor
        self.sites = [Site(i, kind, {}) for i, kind in enumerate(network.kinds)]
        self._reach_cache: dict[tuple[int, int], bool] = {}
        self._reach_epoch = -1
        # What the per-lot code looks up, bound once: the hot path is pure Python.
        self._record = self.ledger.record
        self._record_valued = self.ledger.record_valued
        # The packed (event, node, route) of the rows each route writes, made once.
        code_of = self.ledger.code_of
        self._shipped_code = [
            code_of(SHIPPED, network.route_source[r], r) for r in range(len(routes))
        ]
        self._delivered_code = [
            code_of(DELIVERED, network.route_target[r], r) for r in range(len(routes))
        ]
        self._exported_code = [
            code_of(EXPORTED, network.route_target[r], r) for r in range(len(routes))
        ]
        self._out = network.out_routes
        self._target = network.route_target
        self._learns = not isinstance(self.chooser, StaticSplit)
        self._sanctions = self.policy.has_sanctions
        self._seizure_varies = self.policy.seizure_varies
        self._base_seizure = self.rates.route_seizure
        self._add_receipt = self.receipts.add
        # Prices change on the first day of a year: one lookup per day of the run.
        self._price_on = [network.price_usd_per_kg(day) for day in range(int(self.horizon) + 1)]
        self._to_partner = [network.kinds[t] == PARTNER for t in network.route_target]
        # Transit timeouts carry the lot as their value and call back one of these:
        # no object is made per lot to remember the route.
        self._arrive_on = [partial(self._arrive, r) for r in range(len(routes))]
        self._return_on = [partial(self._arrive, r, returning=True) for r in range(len(routes))]
        self._reoffer_on = [partial(self._reoffer_held, i) for i in range(len(network.kinds))]
        self._room_on = [partial(self._offer_room, i) for i in range(len(network.kinds))]
        # A node whose routes no lever or limit can close sends every lot to the
        # chooser with all its routes, unfiltered.
        can_close = self.policy.closes_routes
        self._filter = [
            can_close or any(self._counted[r] for r in routes) for routes in network.out_routes
        ]

        self._prepare()
        mines = {m.node: m for m in network.mines}
        processors = {p.node: p for p in network.processors}
        for i in range(len(network.kinds)):
            if i in mines:
                self._start_mine(i, mines[i], mine_rngs[i])
            elif i in processors:
                self._start_processor(i, processors[i])
                for stock in processors[i].stock:
                    self._open_stock(i, stock)
                if processors[i].reserve is not None:
                    self._open_reserve(processors[i].reserve)
        if self.policy.events:
            self.env.process(self._raids())
        # The tables pack rows into a buffer; moving them into their columns once a
        # simulated week keeps the buffer small and the moves few.
        if self.horizon > FLUSH_DAYS:
            self.env.timeout(FLUSH_DAYS).callbacks.append(self._flush_tables)

    # --- what each mode does its own way ------------------------------------------

    def _prepare(self) -> None:
        """Set up what the mode needs before its processes are made."""
        self._uniform = self.rng.random

    def _start_mine(self, i: int, mine: MineSpec, rng: np.random.Generator) -> None:
        """Set a mine going: it draws from ``rng`` alone."""
        raise NotImplementedError

    def _start_processor(self, i: int, node: ProcessorSpec) -> None:
        """Make the queue and the processes of a buyer or refiner."""
        raise NotImplementedError

    def _enqueue(self, site: Site, lot: Lot) -> None:
        """Put a lot in the queue of the node it is at."""
        raise NotImplementedError

    def _send(self, lot: Lot, i: int, candidates: Sequence[int], day: float) -> None:
        """Send a lot ready at node ``i`` down one or more of the open ``candidates``
        (for a mode that keeps :meth:`dispatch`; per-lot mode writes its own)."""
        raise NotImplementedError

    def _use_capacity(self, r: int, kg: float, day: float) -> None:
        """Count ``kg`` against the capacity of route ``r``."""
        raise NotImplementedError

    def _route_takes(self, r: int, lot: Lot, day: float) -> bool:
        """Whether route ``r`` has room for ``lot`` and leads where it is taken."""
        raise NotImplementedError

    # --- the run ----------------------------------------------------------------

    def _raids(self) -> Generator:
        """Each lever's dated events (raids) of the replication, on their days."""
        env = self.env
        for happening in self.policy.events:
            day = happening[0].day
            if day > env.now:
                yield env.timeout(day - env.now)
            self.policy.happen(happening, self)

    def run(self) -> EngineOutput:
        """Run to the end of the calendar; the output owns the ledger and tables."""
        self.env.run(until=self.horizon)
        stock = tuple(sum(lot.mass for lot in site.present.values()) for site in self.sites)
        books = {}
        if self._rents:
            unsold = [lot for site in self.sites for lot in site.present.values()]
            economics = self.economics
            books = {
                "rents": tuple((m, n, usd) for (m, n), usd in sorted(economics.rents.items())),
                "production_cost_usd": economics.production_cost_usd,
                "transport_usd": economics.transport_usd,
                "unsold_book_usd": sum(lot.book for lot in (*unsold, *self.in_transit())),
            }
        out = EngineOutput(
            trade=self.trade_records(),
            diligence=self.diligence_records(),
            ledger=self.ledger,
            receipts=self.receipts,
            melts=self.melts,
            stock_kg_by_node=stock,
            in_transit_kg=sum(lot.mass for lot in self.in_transit()),
            fuel_premium_usd=self.fuel_premium_usd,
            lots=self.next_lot,
            reserve_levels=(*self.reserve_levels, *self._reserve_levels_now()),
            prices=tuple(self.economics.records),
            appetite=(*self.outlets.records, *self.outlets.used()),
            **books,
        )
        # The engine lives in reference cycles (its processes refer to it) that only the
        # cyclic collector frees, at a time of its choosing. Let go of the tables, so
        # that they are freed as soon as the output is: a sweep worker or a run of
        # many replications then holds one replication's tables at a time.
        self.ledger = self.receipts = self.melts = None  # type: ignore[assignment]
        self._record = self._record_valued = self._add_receipt = None  # type: ignore[assignment]
        return out

    def _rates_change(self, event: simpy.Event) -> None:
        """A schedule changes a rate today: set them all, and tell the chooser if what
        it weighs changed."""
        changed = self.rates.set_day(int(event.env.now))
        if changed & CHOOSER_READS:
            self.chooser.rates_changed(event.env.now)

    def _flush_tables(self, event: simpy.Event) -> None:
        self.ledger.flush()
        self.receipts.flush()
        if self.env.now + FLUSH_DAYS < self.horizon:
            self.env.timeout(FLUSH_DAYS).callbacks.append(self._flush_tables)

    def in_transit(self) -> list[Lot]:
        """The lots on a route now: the values of the transit timeouts still pending.
        SimPy's queue is the record of them, so the hot path keeps none of its own."""
        return pending_timeout_values(self.env, Lot)

    def _new_lot(self, mass: float, origin: int, purity: float, day: float) -> Lot:
        lot = Lot(self.next_lot, mass, origin, purity, day)
        self.next_lot += 1
        return lot

    def _open_stock(self, node: int, stock: StockSpec) -> None:
        purity = stock.purity
        origin_index = stock.origin
        site = self.sites[node]
        whole, rest = divmod(stock.kg, stock.lot_kg)
        masses = [stock.lot_kg] * int(whole) + ([rest] if rest > 1e-12 else [])
        for mass in masses:
            lot = self._new_lot(mass, origin_index, purity, 0.0)
            self.ledger.add(0.0, OPENING, lot.id, node, -1, mass)
            site.present[lot.id] = lot
            self._enqueue(site, lot)

    # --- processing ---------------------------------------------------------------

    def _leave(self, i: int, lot: Lot, loss: float, purity: float | None) -> None:
        """A processed lot loses what processing takes, and leaves node ``i``."""
        kept = 1.0 - loss
        if purity is not None and purity > lot.purity:
            # Refining removes the impurities: the fine gold stays, the gross mass falls.
            kept *= lot.purity / purity
            lot.purity = purity
        if kept < 1.0:
            lost = lot.mass * (1.0 - kept)
            lot.mass -= lost
            self.ledger.add(self.env.now, LOST, lot.id, i, -1, lost)
        del self.sites[i].present[lot.id]
        self.dispatch(lot, i)

    def _melt(self, i: int, batch: list[Lot], refine_to: float | None) -> Lot:
        """Melt lots into one; its provenance is their blend (:func:`flowsim.lots.blend`)."""
        day = self.env.now
        site = self.sites[i]
        mass = sum(lot.mass for lot in batch)
        heaviest = max(batch, key=lambda lot: lot.mass)
        fine = sum(lot.mass * lot.purity for lot in batch)
        by_fine_gold = refine_to is not None and refine_to > fine / mass
        melted = self._new_lot(mass, heaviest.origin, fine / mass, day)
        refused: set[int] = set()
        policy = self.policy
        present, add_melt = site.present, self.melts.add
        for lot in batch:
            if policy.has_sanctions:  # what each lot touched here before the melt
                self._touch_on_leave(lot, i, day)
            melted.taint |= lot.taint
            melted.seen |= lot.seen
            if lot.launders > melted.launders:
                melted.launders = lot.launders
            if lot.refused_by:
                refused.update(lot.refused_by)
            del present[lot.id]
            add_melt(day, i, melted.id, lot.id, lot.mass)
        melted.mix = blend(batch, self.category_of, by_fine_gold)
        if self._documents:
            melted.papers = blend_papers(batch, by_fine_gold)
        melted.book = sum(lot.book for lot in batch)
        melted.refused_by = tuple(sorted(refused))
        site.present[melted.id] = melted
        return melted

    # --- moving lots ---------------------------------------------------------------

    def dispatch(self, lot: Lot, i: int) -> None:
        """Send a lot that is ready at node ``i`` down a route, or hold it there."""
        day = self.env.now
        if self._launders[i] and self._launder(lot, i, day):
            return
        candidates = self._routes_taking(lot, i, day)
        if candidates:
            self._send(lot, i, candidates, day)
        else:
            self._hold(lot, i, day)

    def _routes_taking(self, lot: Lot, i: int, day: float) -> Sequence[int]:
        """The routes out of node ``i`` that take ``lot`` now (none: it is to be held),
        once it carries what it touched at ``i``."""
        if self._sanctions:
            self._touch_on_leave(lot, i, day)
        if self._filter[i]:
            return [r for r in self._out[i] if self._route_takes(r, lot, day)]
        return self._out[i]

    def _touch_on_leave(self, lot: Lot, i: int, day: float) -> None:
        """Mark ``lot`` with the sanctions' targets it touched while it was at node ``i``."""
        policy = self.policy
        touched = policy.taint_on_leave(i, lot.arrived, day)
        lot.taint |= touched
        lot.seen |= touched
        if policy.designated_entity_on_leave(i, lot.arrived, day):
            mark_touched(lot)

    def _ship(self, lot: Lot, i: int, r: int, day: float) -> None:
        """Send ``lot`` from node ``i`` down route ``r``."""
        if self._counted[r]:
            self._count(r, lot, day)
        self._record(day, self._shipped_code[r], lot.id, lot.mass)
        self.env.timeout(self.route_transit[r](), lot).callbacks.append(self._arrive_on[r])

    def _count(self, r: int, lot: Lot, day: float) -> None:
        """Count ``lot``, sent down route ``r``, against the route's capacity and its
        partner's appetite."""
        if self.route_capacity[r] is not None:
            self._use_capacity(r, lot.mass, day)
        if self._into_outlet[r]:
            self.outlets.order(self._target[r], lot)
        if self._rents:
            self.economics.carry(lot, self._route_cost[r])
        if self._declared_export[r]:
            self._declare(r, lot, day, exporting=True)

    def _outlet_takes(self, r: int, lot: Lot) -> bool:
        """Whether the partner at the end of route ``r`` has appetite for ``lot`` now."""
        return not self._into_outlet[r] or self.outlets.takes(self._target[r], lot.mass)

    def _part_of(self, lot: Lot, mass: float) -> Lot:
        """A new lot of ``mass`` split off ``lot``, with its provenance."""
        part = self._new_lot(mass, lot.origin, lot.purity, lot.arrived)
        part.taint, part.touched, part.mix = lot.taint, lot.touched, lot.mix
        part.refused_by = lot.refused_by
        part.seen, part.papers, part.launders = lot.seen, lot.papers, lot.launders
        part.via, part.scrap = lot.via, lot.scrap
        if lot.book:  # the part takes its share of what was paid for the lot
            part.book = lot.book * mass / lot.mass
            lot.book -= part.book
        return part

    # --- what policies do to stock ---------------------------------------------

    def margin(self, mine: int, day: float) -> float:
        """USD ``mine`` earns on a kg of its doré on ``day``, for the levers."""
        return self.economics.mine_margin(mine, day)

    def seize_stock(self, node: int, fraction: float) -> None:
        """Take ``fraction`` of the mass of every lot at ``node`` out of the flow."""
        day = self.env.now
        site = self.sites[node]
        for lot in list(site.present.values()):
            taken = lot.mass if fraction >= 1.0 else lot.mass * fraction
            if taken <= 0.0:
                continue
            if self._rents:
                self.economics.lose(lot, node, taken / lot.mass, day)
            lot.mass -= taken
            self.ledger.add(day, SEIZED, lot.id, node, -1, taken)
            if fraction >= 1.0:
                lot.mass = 0.0
                del site.present[lot.id]
        if fraction >= 1.0:  # every lot here is gone, the held ones among them
            site.held.clear()
            site.waiting_for_room.clear()
