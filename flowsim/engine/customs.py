"""Papers and customs: what a lot's documents say, against what happened to it.

The engine's side of documents (:class:`Customs`, a base of
:class:`~flowsim.engine.core.Engine`): a laundering node re-papers lots as they leave
it; a partner's due diligence sees through papers with a chance per laundering step;
customs record each declared crossing, by the papers; and a hub sells on a share of
what it takes. Without papers on lots (the network's ``papers`` None) only hubs act,
and nothing here is asked on the hot path.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import simpy

from flowsim.draws import blocks
from flowsim.ledger import DELIVERED, EXPORTED, LAUNDERED, SEIZED
from flowsim.lots import Lot, papers_of
from flowsim.papers import EXPORT, HS_MINED, HS_SCRAP, IMPORT, OUTCOMES, RE_EXPORT, RE_IMPORT

if TYPE_CHECKING:
    from flowsim.economics import Economics
    from flowsim.ledger import Ledger
    from flowsim.levers import Levers
    from flowsim.network import Network

__all__ = ["ACCEPTED_UNKNOWINGLY", "Customs"]

REFUSED_ON_PAPERS, REFUSED_ON_DETECTION, ACCEPTED_UNKNOWINGLY = range(len(OUTCOMES))


class Customs:
    """Papers, laundering, due diligence, customs records and hubs. It reads the
    engine's network, ledger, books and clock."""

    network: Network
    policy: Levers
    _sanctions: bool
    env: simpy.Environment
    ledger: Ledger
    economics: Economics
    _rents: bool
    _price_on: list[float]
    price_factor: list[float]
    _exported_code: list[int]
    _record_valued: Callable[..., None]
    dispatch: Callable[[Lot, int], None]
    _receive: Callable[..., None]

    def _start_customs(self, rng: np.random.Generator) -> None:
        """Set up papers and hubs; ``rng`` is the stream of their draws alone."""
        network = self.network
        nodes, routes = len(network.node_ids), len(network.route_ids)
        spec = self._papers = network.papers
        self._documents = spec is not None
        self._hub = [share > 0.0 for share in network.re_export_share] or [False] * nodes
        # (month, reporter, partner, flow, HS code, declared origin) -> [kg, USD]
        self.trade: dict[tuple[int, int, int, int, int, int], list[float]] = {}
        # (month, partner, outcome) -> [kg, USD]
        self.diligence: dict[tuple[int, int, int], list[float]] = {}
        if spec is None:
            self._launders = [False] * nodes
            self._declared_export = [False] * routes
            self._declared_import = [False] * routes
            return
        self._paper_uniform = blocks(rng.random)
        self._launders = [share > 0.0 for share in spec.launder_share]
        self._declared_export = list(spec.declared_export)
        self._declared_import = list(spec.declared_import)

    # --- papers -----------------------------------------------------------------------

    def _launder(self, lot: Lot, i: int, day: float) -> bool:
        """Node ``i`` may re-paper ``lot`` as it leaves: once a stay. True if the
        authorities found the lot out and seized it."""
        stay = (i, lot.arrived)
        if getattr(lot, "checked", None) == stay:
            return False
        lot.checked = stay
        papers = lot.papers
        if papers is not None and len(papers) == 1 and i in papers:
            return False  # back after a refusal with the papers this node gave it
        spec, draw = self._papers, self._paper_uniform
        if draw() >= spec.launder_share[i]:
            return False
        detection = spec.launder_detection[i]
        if detection > 0.0 and draw() < detection:
            self.ledger.add(day, SEIZED, lot.id, i, -1, lot.mass)
            if self._rents:
                self.economics.lose(lot, i, 1.0, day)
            return True
        lot.papers = {i: 1.0}
        lot.seen = 0  # what it touched before is no longer on its papers
        lot.launders += 1
        scrap = spec.launder_scrap[i]
        lot.scrap = scrap > 0.0 and draw() < scrap
        self.ledger.add(day, LAUNDERED, lot.id, i, -1, lot.mass)
        if self._rents:
            self.economics.carry(lot, spec.launder_cost[i])
        return False

    def _detects(self, partner: int, lot: Lot) -> bool:
        """Whether ``partner``'s checks see through ``lot``'s papers: a chance for each
        laundering step it went through."""
        strength = self._papers.due_diligence[partner]
        if strength <= 0.0 or not lot.launders:
            return False
        if strength >= 1.0:
            return True
        return self._paper_uniform() < 1.0 - (1.0 - strength) ** lot.launders

    def _papers_clean(self, lot: Lot, seen: int, day: float) -> bool:
        """Whether papers that show ``seen`` declare legal gold that touched no target,
        from no jurisdiction under sanctions on ``day``."""
        if seen:
            return False
        legal, where = self._papers.legal_issuer, self.network.jurisdictions
        sanctioned = self.policy.sanctioned_jurisdictions(day) if self._sanctions else ()
        return all(legal[issuer] and where[issuer] not in sanctioned for issuer in papers_of(lot))

    def _refused(self, day: float, partner: int, lot: Lot, detected: bool) -> None:
        outcome = REFUSED_ON_DETECTION if detected else REFUSED_ON_PAPERS
        self._tally(day, partner, outcome, lot.mass, 0.0)

    def _tally(self, day: float, partner: int, outcome: int, kg: float, usd: float) -> None:
        key = (self._papers.month_of_day[int(day)], partner, outcome)
        _add_to(self.diligence, key, kg, usd)

    # --- customs --------------------------------------------------------------------

    def _declare(
        self, r: int, lot: Lot, day: float, exporting: bool, returning: bool = False
    ) -> None:
        """Customs record ``lot`` crossing on route ``r``, as its papers declare it: its
        exporter as it leaves (and as it comes back, refused), its importer as it is
        taken. An exporter records only gold with papers; an importer records what
        arrives, gold without papers with no declared origin."""
        spec, network = self._papers, self.network
        where = spec.node_jurisdiction
        source, target = where[network.route_source[r]], where[network.route_target[r]]
        reporter, partner = (source, target) if exporting else (target, source)
        share = spec.reporting_share[reporter]
        if share <= 0.0:
            return
        month = spec.month_of_day[int(day)]
        hs = HS_SCRAP if lot.scrap else HS_MINED
        kg = lot.mass * share
        usd = kg * lot.purity * self._price_on[int(day)]
        legal, trade = spec.legal_issuer, self.trade
        for issuer, part in papers_of(lot).items():
            origin = where[issuer] if legal[issuer] else -1
            if not exporting:
                flow = IMPORT
            elif origin < 0:
                continue  # no papers to declare it by: it leaves unrecorded
            elif returning:
                flow = RE_IMPORT
            else:
                flow = EXPORT if origin == reporter else RE_EXPORT
            _add_to(trade, (month, reporter, partner, flow, hs, origin), kg * part, usd * part)

    # --- hubs -----------------------------------------------------------------------

    def _sell_on(self, lot: Lot, hub: int, r: int, day: float, usd: float) -> None:
        """A hub took ``lot`` (worth ``usd``) from route ``r``: it keeps its share and
        sends the rest on, as a node sends what leaves it."""
        share = self.network.re_export_share[hub]
        kept = lot.mass * (1.0 - share)
        if kept > 0.0:
            self._record_valued(day, self._exported_code[r], lot.id, kept, usd * (1.0 - share))
        if self._rents:  # the seller is paid for all of it; the hub owns what goes on
            self.economics.export(lot, self.network.route_source[r], usd, day)
            lot.book = usd * share
        onward = lot.mass - kept
        self.ledger.add(day, DELIVERED, lot.id, hub, r, onward)
        lot.mass = onward
        if lot.via < 0:
            lot.via = hub
        lot.arrived = day
        self.dispatch(lot, hub)

    def _keep(self, lot: Lot, hub: int, day: float) -> None:
        """A hub keeps what no route of its own takes: it becomes its export."""
        usd = lot.mass * lot.purity * self._price_on[int(day)] * self.price_factor[hub]
        self.ledger.add(day, EXPORTED, lot.id, hub, -1, lot.mass, usd)
        if self._rents:
            self.economics.export(lot, hub, usd, day)

    def trade_records(self) -> tuple[tuple, ...]:
        """(month, reporter, partner, flow, HS code, declared origin, kg, USD), sorted."""
        return tuple((*key, kg, usd) for key, (kg, usd) in sorted(self.trade.items()))

    def diligence_records(self) -> tuple[tuple, ...]:
        """(month, partner, outcome, kg, USD), sorted."""
        return tuple((*key, kg, usd) for key, (kg, usd) in sorted(self.diligence.items()))


def _add_to(sums: dict, key: tuple, kg: float, usd: float) -> None:
    """Add ``kg`` and ``usd`` to the [kg, USD] that ``sums`` holds under ``key``."""
    pair = sums.get(key)
    if pair is None:
        sums[key] = [kg, usd]
    else:
        pair[0] += kg
        pair[1] += usd
