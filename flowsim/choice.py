"""Route choice: which open route a lot takes out of a node, and what actors learn.

This is the one place where the next hop is decided. A chooser sees only the
routes that are open and lead somewhere that will take the lot, and hears
what happened to each lot it sent. :class:`StaticSplit` splits by weights
(``[behaviour] route_choice = "static"``); :class:`LogitChoice` chooses by
expected net value and learns each route's seizure risk (``"logit"``):

    P(route) is proportional to weight * exp(beta * net / price), where
    net value = value at the destination x (1 - perceived seizure risk) - transport cost

The value at a partner is what it pays (less any sanctions discount, times the
chance it does not refuse the lot); at a buyer or a refiner, the expected net
value of its own choices, seen from there. Each node learns the seizure risk
of its routes from what happens to the lots it sends (exponential smoothing),
and forgets towards the route's published risk when it hears nothing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

import numpy as np

from flowsim.draws import blocks
from flowsim.network import PARTNER, Network
from flowsim.rates import Rates

if TYPE_CHECKING:
    from flowsim.levers import Levers
    from flowsim.lots import Lot

__all__ = ["LogitChoice", "PerceivedRisk", "RouteChooser", "StaticSplit", "make_chooser"]


NO_CREDIT = -math.inf  # below any route's credit


class RouteChooser(Protocol):
    def choose(self, node: int, lot: Lot, candidates: Sequence[int], day: float) -> int:
        """Return one of ``candidates`` (route indices) for ``lot``."""
        ...

    def split(
        self, node: int, lot: Lot, candidates: Sequence[int], day: float
    ) -> Sequence[tuple[int, float]]:
        """Shares of a shipment by route, for shipment mode: (route, share), shares > 0
        adding up to 1, as per-lot mode's choices would split the lots over time."""
        ...

    def observe(self, route: int, seized: bool, day: float) -> None:
        """Hear whether a lot sent down ``route`` was seized on the way."""
        ...

    def rates_changed(self, day: float) -> None:
        """A schedule changed routes' weights or risks, or partners' price factors,
        today: read them again from the run's :class:`~flowsim.rates.Rates`."""
        ...


def make_chooser(
    network: Network, policy: Levers, rng: np.random.Generator, rates: Rates | None = None
) -> RouteChooser:
    """The chooser the scenario's ``[behaviour] route_choice`` asks for, reading the
    rates that schedules change from ``rates`` (the network's own, without it)."""
    rates = rates if rates is not None else Rates(network)
    if network.route_choice == "logit":
        return LogitChoice(network, policy, rng, rates)
    return StaticSplit(network, rates)


class StaticSplit:
    """Split each node's outflow by mass in proportion to the routes' weights.

    Deterministic smooth weighted round robin over mass: the open route with the
    most credit takes the lot, every open route earns the lot's mass times its
    share, and the taker pays the mass. Which route takes a lot does not depend on
    the lot's mass, so the split by origin follows the split by mass. Routes that
    are closed earn nothing, so when one reopens it does not receive a burst to
    catch up on what it missed.
    """

    def __init__(self, network: Network, rates: Rates | None = None):
        self.weights = rates.route_weight if rates is not None else list(network.route_weight)
        self.credit = [0.0] * len(self.weights)
        # With every route of a node open (the common case), its shares are fixed.
        self.all_open = network.out_routes
        self.shares = [self._shares(routes) for routes in network.out_routes]

    def _shares(self, routes: Sequence[int]) -> tuple[tuple[int, float], ...]:
        weighted = [r for r in routes if self.weights[r] > 0.0] or list(routes)
        total = sum(self.weights[r] for r in weighted)
        return tuple(
            (r, self.weights[r] / total if total > 0 else 1.0 / len(weighted)) for r in weighted
        )

    def observe(self, route: int, seized: bool, day: float) -> None:
        """A static split does not learn."""

    def rates_changed(self, day: float) -> None:
        """Weights changed: the shares of nodes with every route open follow them.
        Credits carry over, so a route whose weight rises takes more from now on."""
        self.shares = [self._shares(routes) for routes in self.all_open]

    def split(
        self, node: int, lot: Lot, candidates: Sequence[int], day: float
    ) -> Sequence[tuple[int, float]]:
        """Each open route's share of a shipment: the shares the lots take over time."""
        if candidates is self.all_open[node]:
            return self.shares[node]
        return self._shares(candidates)

    def choose(self, node: int, lot: Lot, candidates: Sequence[int], day: float) -> int:
        if len(candidates) == 1:
            return candidates[0]
        mass = lot.mass
        credit = self.credit
        if candidates is self.all_open[node]:
            # The richest route before this lot takes it, so that which route a lot
            # takes does not depend on its mass: choosing after crediting would send
            # big lots to the big routes, and with them the big mines' provenance.
            best, best_credit = -1, NO_CREDIT
            for r, share in self.shares[node]:
                if credit[r] > best_credit:
                    best, best_credit = r, credit[r]
                credit[r] += mass * share
            credit[best] -= mass
            return best
        weights = self.weights
        # Routes of weight 0 are fallbacks: used only when no weighted route is open.
        weighted = [r for r in candidates if weights[r] > 0.0]
        if weighted:
            candidates = weighted
            if len(candidates) == 1:
                return candidates[0]
        total = 0.0
        for r in candidates:
            total += weights[r]
        best, best_credit = candidates[0], NO_CREDIT
        for r in candidates:
            if credit[r] > best_credit:
                best, best_credit = r, credit[r]
            # Among fallbacks only (all weights zero), split evenly.
            credit[r] += mass * (weights[r] / total if total > 0 else 1.0 / len(candidates))
        credit[best] -= mass
        return best


class PerceivedRisk:
    """Each route's seizure risk as its sending node perceives it."""

    def __init__(self, prior: Sequence[float], learning_rate: float, memory_days: float):
        self.prior = list(prior)
        self.value = list(prior)
        self.updated = [0.0] * len(self.prior)
        self.rate = learning_rate
        self.memory = memory_days

    def get(self, route: int, day: float) -> float:
        prior = self.prior[route]
        gap = self.value[route] - prior
        if gap == 0.0:
            return prior
        return prior + gap * math.exp(-(day - self.updated[route]) / self.memory)

    def set_prior(self, route: int, prior: float, day: float) -> None:
        """A new prior for ``route``: what was learnt above or below the old one, as it
        stands on ``day``, stays above or below the new one."""
        learnt = self.get(route, day) - self.prior[route]
        self.prior[route] = prior
        self.value[route] = min(max(prior + learnt, 0.0), 1.0)
        self.updated[route] = day

    def observe(self, route: int, seized: bool, day: float) -> None:
        current = self.get(route, day)
        self.value[route] = current + self.rate * ((1.0 if seized else 0.0) - current)
        self.updated[route] = day


class LogitChoice:
    """Route choice by a multinomial logit over expected net value.

    A sender weighs each open route by what a kg is worth at its end, times the chance
    of getting through (one minus the route's perceived risk, at the lot's time), less
    the route's cost. What a kg is worth at a buyer or a refiner is what that node's own
    choice expects downstream, valued afresh for every lot: perceived risks change with
    every lot seized and fade with time, so no valuation holds from one lot to the next.
    """

    def __init__(
        self,
        network: Network,
        policy: Levers,
        rng: np.random.Generator,
        rates: Rates | None = None,
    ):
        self.network = network
        self.policy = policy
        self._uniform = blocks(rng.random)
        self.beta = network.logit_sensitivity
        self.rates = rates = rates if rates is not None else Rates(network)
        self.weights = rates.route_weight
        self.cost = rates.route_cost
        self.price_factor = rates.price_factor
        self.margin = rates.margin
        self.target = network.route_target
        self.risk = PerceivedRisk(
            list(network.route_seizure), network.risk_learning_rate, network.risk_memory_days
        )
        # What a kg with a given taint is worth at each node, for the lot being routed.
        self._values: dict[tuple[int, int], float] = {}
        self._price = 0.0
        papers = network.papers
        self._launder_cost = papers.expected_cost if papers is not None else None

    def observe(self, route: int, seized: bool, day: float) -> None:
        self.risk.observe(route, seized, day)

    def rates_changed(self, day: float) -> None:
        """Weights and price factors are read live; a route's scheduled risk moves
        the prior of its perceived risk, and what was learnt stays on top of it."""
        for r, p in enumerate(self.rates.route_seizure):
            if self.risk.prior[r] != p:
                self.risk.set_prior(r, p, day)

    def split(
        self, node: int, lot: Lot, candidates: Sequence[int], day: float
    ) -> list[tuple[int, float]]:
        """Each open route's share of a shipment: its probability of taking a lot."""
        shares = zip(candidates, self._route_probabilities(lot, candidates, day), strict=True)
        return [(r, p) for r, p in shares if p > 0.0]

    def choose(self, node: int, lot: Lot, candidates: Sequence[int], day: float) -> int:
        if len(candidates) == 1:
            return candidates[0]
        probabilities = self._route_probabilities(lot, candidates, day)
        u = self._uniform()
        for r, p in zip(candidates, probabilities, strict=True):
            u -= p
            if u < 0.0:
                return r
        return candidates[-1]

    def node_value(self, node: int, taint: int, day: float) -> float:
        """What a kg with this taint is worth on arriving at ``node`` today, valued afresh
        (for prices and margins, flowsim.economics)."""
        return self.node_values((node,), taint, day)[0]

    def node_values(self, nodes: Sequence[int], taint: int, day: float) -> list[float]:
        """:meth:`node_value` of each of ``nodes``, valued together."""
        self._values.clear()
        self._price = self.network.price_usd_per_kg(day)
        return [self._value(node, taint, day) for node in nodes]

    def _route_probabilities(self, lot: Lot, candidates: Sequence[int], day: float) -> list[float]:
        self._values.clear()
        price = self._price = self.network.price_usd_per_kg(day)
        # What the lot's papers show is what the partners ahead act on.
        taint, risk, cost, target = lot.seen, self.risk.get, self.cost, self.target
        nets = [
            self._value(target[r], taint, day) * (1.0 - risk(r, day)) - cost[r] for r in candidates
        ]
        return self._probabilities(candidates, nets, price)

    def _probabilities(self, routes: Sequence[int], nets: Sequence[float], price: float):
        weights = [self.weights[r] for r in routes]
        # Routes of weight 0 are fallbacks, as in the static split.
        if not any(w > 0.0 for w in weights):
            weights = [1.0] * len(weights)
        best = max(n for w, n in zip(weights, nets, strict=True) if w > 0.0)
        beta = self.beta
        scores = [
            w * math.exp(beta * (n - best) / price) if w > 0.0 else 0.0
            for w, n in zip(weights, nets, strict=True)
        ]
        total = sum(scores)
        return [x / total for x in scores]

    def _value(self, node: int, taint: int, day: float) -> float:
        """What a kg of gold with this taint is worth on arriving at ``node``."""
        key = (node, taint)
        value = self._values.get(key)
        if value is not None:
            return value
        policy, price = self.policy, self._price
        if self.network.kinds[node] == PARTNER:
            refuse, discount = policy.refusal(node, taint, day) if taint else (0.0, 0.0)
            outlet = self.rates.outlet[node]  # below 1 past its appetite for the month
            value = price * self.price_factor[node] * outlet * (1.0 - discount) * (1.0 - refuse)
        else:
            leaving = taint | policy.node_taint_now(node, day) if policy.has_sanctions else taint
            routes, nets = [], []
            for r in self.network.out_routes[node]:
                ahead = self._value(self.target[r], leaving, day)
                if ahead > 0.0:
                    routes.append(r)
                    nets.append(ahead * (1.0 - self.risk.get(r, day)) - self.cost[r])
            value = 0.0
            if routes:
                probabilities = self._probabilities(routes, nets, price)
                value = sum(p * n for p, n in zip(probabilities, nets, strict=True))
                value *= 1.0 - self.margin[node]  # what the node pays: less what it keeps
                if self._launder_cost is not None:
                    value -= self._launder_cost[node]
        self._values[key] = value
        return value
