"""What happens at the end of a route: seizures and releases on the way, refusals and
exports at a partner, deliveries to a buyer or refiner, and what each receives by
origin.

The engine's side of an arrival (:class:`Arrivals`, a base of
:class:`~flowsim.engine.core.Engine`): a transit is a timeout that carries its lot and
calls :meth:`Arrivals._arrive` for its route (per-lot mode's plain route ends in
:mod:`flowsim.engine.nodes` write the same steps inline where nothing can happen on
the way).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import simpy

from flowsim.engine.customs import ACCEPTED_UNKNOWINGLY
from flowsim.ledger import DELIVERED, REFUSED, RELEASED, SEIZED
from flowsim.lots import Lot
from flowsim.network import MINE, REFINER

if TYPE_CHECKING:
    from flowsim.choice import RouteChooser
    from flowsim.economics import Economics
    from flowsim.engine.outlets import Outlets
    from flowsim.engine.state import Site
    from flowsim.ledger import Ledger
    from flowsim.levers import Levers
    from flowsim.network import Network

__all__ = ["Arrivals"]


class Arrivals:
    """Arrivals at the ends of routes. It reads the engine's network, levers, chooser,
    tables and clock."""

    network: Network
    env: simpy.Environment
    policy: Levers
    chooser: RouteChooser
    economics: Economics
    outlets: Outlets
    ledger: Ledger
    sites: list[Site]
    route_transit: list[Callable[[], float]]
    price_factor: list[float]
    category_of: Sequence[int]
    category_jurisdiction: list[str]
    _seizure_varies: Sequence[bool]
    _base_seizure: list[float]
    _uniform: Callable[[], float]
    _rents: bool
    _learns: bool
    _sanctions: bool
    _target: Sequence[int]
    _to_partner: list[bool]
    _into_outlet: list[bool]
    _route_cost: list[float]
    _return_on: list[Callable[[simpy.Event], None]]
    _price_on: list[float]
    _exported_code: list[int]
    _delivered_code: list[int]
    _record: Callable[..., None]
    _record_valued: Callable[..., None]
    _add_receipt: Callable[..., None]
    _illegal: list[bool]
    _to_partner_node: list[bool]
    dispatch: Callable[[Lot, int], None]
    _enqueue: Callable[[Site, Lot], None]
    _documents: bool
    _declared_import: list[bool]
    _declared_export: list[bool]
    _hub: list[bool]
    _detects: Callable[[int, Lot], bool]
    _papers_clean: Callable[[Lot, int, float], bool]
    _refused: Callable[..., None]
    _tally: Callable[..., None]
    _declare: Callable[..., None]
    _sell_on: Callable[..., None]

    def _arrive(self, r: int, event: simpy.Event, returning: bool = False) -> None:
        """A lot (the value of the transit's timeout) reaches the end of route ``r``,
        or, ``returning``, its start again after a refusal."""
        lot = event.value
        day = self.env.now
        if self._seizure_varies[r]:
            p = self.policy.seizure_probability(r, day)
        else:
            p = self._base_seizure[r]
        seized = p > 0.0 and self._uniform() < p
        if seized:
            policy = self.policy
            release = policy.release_share(r, day)
            if release > 0.0 and self._uniform() < release:
                # Corruption: the seizure is undone and the lot goes on its way.
                self.ledger.add(day, RELEASED, lot.id, -1, r, lot.mass)
                seized = False
            else:
                self.ledger.add(day, SEIZED, lot.id, -1, r, lot.mass)
                if self._rents:
                    self.economics.lose(lot, self.network.route_source[r], 1.0, day)
        if self._learns:
            self.chooser.observe(r, seized, day)
        if seized:
            return
        if returning:
            self._return(lot, r, day)
            return
        target = self._target[r]
        if not self._to_partner[r]:
            self._deliver(lot, target, r, day)
            return
        discount = 0.0
        share = self.outlets.price_share(lot) if self._into_outlet[r] else 1.0
        # The partner acts on what it sees: the papers, unless its checks see through them.
        seen = lot.seen
        detected = self._documents and lot.launders and self._detects(target, lot)
        if detected:
            seen = lot.taint
        if seen:
            refuse, discount = self.policy.refusal(target, seen, day)
            if refuse > 0.0 and (refuse >= 1.0 or self._uniform() < refuse):
                self.ledger.add(day, REFUSED, lot.id, target, r, lot.mass)
                if self._documents:
                    self._refused(day, target, lot, detected)
                lot.refused_by += (target,)
                if self._rents:  # the way back is paid too
                    self.economics.carry(lot, self._route_cost[r])
                back = self.env.timeout(self.route_transit[r](), lot)
                back.callbacks.append(self._return_on[r])
                return
        usd = (
            lot.mass
            * lot.purity
            * self._price_on[int(day)]
            * self.price_factor[target]
            * share
            * (1.0 - discount)
        )
        clean = False
        if self._documents:
            if self._declared_import[r]:
                self._declare(r, lot, day, exporting=False)
            clean = not detected and self._papers_clean(lot, seen, day)
        if self._hub[target]:
            self._receive(target, lot, day, usd, clean)
            self._sell_on(lot, target, r, day, usd)
            return
        self._record_valued(day, self._exported_code[r], lot.id, lot.mass, usd)
        if self._rents:
            self.economics.export(lot, self.network.route_source[r], usd, day)
        self._receive(target, lot, day, usd, clean)

    def _receive(self, node: int, lot: Lot, day: float, usd: float, clean: bool = False) -> None:
        """Record what ``node`` received, by origin, for the exposure metrics; ``clean``:
        its papers, as the node saw them, showed legal gold that touched no target."""
        sanctioned = self.policy.sanctioned_jurisdictions(day) if self._sanctions else ()
        jurisdiction = self.category_jurisdiction
        add, via = self._add_receipt, lot.via
        if lot.mix is None:  # one mine's gold: one row
            category = self.category_of[lot.origin]
            flagged = jurisdiction[category] in sanctioned
            add(day, node, lot.id, category, lot.touched, lot.mass, usd, flagged, via, clean)
            if clean and (lot.touched or flagged or self._illegal[category]):
                self._accepted_unknowingly(day, node, lot.mass, usd)
            return
        hidden = 0.0
        for (category, touched), share in lot.mix.items():
            flagged = jurisdiction[category] in sanctioned
            add(
                day,
                node,
                lot.id,
                category,
                touched,
                lot.mass * share,
                usd * share,
                flagged,
                via,
                clean,
            )
            if clean and (touched or flagged or self._illegal[category]):
                hidden += share
        if hidden > 0.0:
            self._accepted_unknowingly(day, node, lot.mass * hidden, usd * hidden)

    def _accepted_unknowingly(self, day: float, node: int, kg: float, usd: float) -> None:
        """A partner took illegal or tainted gold whose papers showed it clean."""
        if self._to_partner_node[node]:
            self._tally(day, node, ACCEPTED_UNKNOWINGLY, kg, usd)

    def _deliver(self, lot: Lot, node: int, r: int, day: float) -> None:
        """``lot`` reaches the buyer, refiner (or mine) at the end of route ``r``."""
        lot_id = lot.id
        self._record(day, self._delivered_code[r], lot_id, lot.mass)
        lot.arrived = day
        if self._rents:
            self.economics.sell(lot, self.network.route_source[r], node, day)
        site = self.sites[node]
        kind = site.kind
        if kind == MINE:
            self.dispatch(lot, node)
            return
        if self._documents and self._declared_import[r]:
            self._declare(r, lot, day, exporting=False)
        if kind == REFINER:
            clean = self._documents and self._papers_clean(lot, lot.seen, day)
            self._receive(node, lot, day, lot.mass * lot.purity * self._price_on[int(day)], clean)
        site.present[lot_id] = lot
        self._enqueue(site, lot)

    def _return(self, lot: Lot, r: int, day: float) -> None:
        """A refused ``lot`` is back at the start of route ``r``, to be sent again; the
        customs that recorded its export record its return."""
        node = self.network.route_source[r]
        if self._documents and self._declared_export[r]:
            self._declare(r, lot, day, exporting=True, returning=True)
        self.ledger.add(day, DELIVERED, lot.id, node, r, lot.mass)
        lot.arrived = day
        self.dispatch(lot, node)
