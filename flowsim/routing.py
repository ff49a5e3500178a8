"""Route choice: which open route a lot takes out of a node.

This is the one place where the next hop is decided. A chooser sees only
routes that are open and lead somewhere that will take the lot, and hears
what happened to each lot it sent (for learning). :class:`StaticSplit` splits
by weights; :class:`~flowsim.behaviour.LogitChoice` chooses by expected net
value.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

import numpy as np

from flowsim.network import Network

if TYPE_CHECKING:
    from flowsim.engine import Lot
    from flowsim.policies import PolicyState

__all__ = ["RouteChooser", "StaticSplit", "make_chooser"]


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


def make_chooser(network: Network, policy: PolicyState, rng: np.random.Generator) -> RouteChooser:
    """The chooser the scenario's ``[behaviour] route_choice`` asks for."""
    if network.scenario.behaviour.route_choice == "logit":
        from flowsim.behaviour import LogitChoice

        return LogitChoice(network, policy, rng)
    return StaticSplit(network)


class StaticSplit:
    """Split each node's outflow by mass in proportion to the routes' weights.

    Deterministic smooth weighted round robin over mass: the open route with the
    most credit takes the lot, every open route earns the lot's mass times its
    share, and the taker pays the mass. Which route takes a lot does not depend on
    the lot's mass, so the split by origin follows the split by mass. Routes that
    are closed earn nothing, so when one reopens it does not receive a burst to
    catch up on what it missed.
    """

    def __init__(self, network: Network):
        self.weights = [r.weight for r in network.scenario.routes.values()]
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
