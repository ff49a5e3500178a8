"""How actors choose routes and learn about risk.

With ``route_choice = "logit"``, each node sends each lot down one of its open
routes with probability proportional to ``weight * exp(beta * net / price)``:

    net value = value at the destination x (1 - perceived seizure risk) - transport cost

where the value at a partner is what it pays (less any sanctions discount,
times the chance it does not refuse the lot), and the value at a buyer or a
refiner is the expected net value of its own choices, seen from there. Each
node learns the seizure risk of its routes from what happens to the lots it
sends (exponential smoothing), and forgets towards the route's published risk
when it hears nothing. This is the only module that knows these rules; the
engine asks it for a route and tells it what happened.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from flowsim.network import PARTNER, Network
from flowsim.policies import PolicyState

if TYPE_CHECKING:
    from flowsim.engine import Lot

__all__ = ["LogitChoice", "PerceivedRisk"]


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

    def observe(self, route: int, seized: bool, day: float) -> None:
        current = self.get(route, day)
        self.value[route] = current + self.rate * ((1.0 if seized else 0.0) - current)
        self.updated[route] = day


class LogitChoice:
    """Route choice by a multinomial logit over expected net value."""

    def __init__(self, network: Network, policy: PolicyState, rng: np.random.Generator):
        s = network.scenario
        self.network = network
        self.policy = policy
        self.rng = rng
        self.beta = s.behaviour.logit_sensitivity
        routes = list(s.routes.values())
        self.weights = [r.weight for r in routes]
        self.cost = [r.cost_usd_per_kg for r in routes]
        self.price_factor = [getattr(n, "price_factor", 0.0) for n in s.nodes.values()]
        self.risk = PerceivedRisk(
            [r.seizure_probability for r in routes],
            s.behaviour.risk_learning_rate,
            s.behaviour.risk_memory_days,
        )

    def observe(self, route: int, seized: bool, day: float) -> None:
        self.risk.observe(route, seized, day)

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
        u = self.rng.random()
        for r, p in zip(candidates, probabilities, strict=True):
            u -= p
            if u < 0.0:
                return r
        return candidates[-1]

    def _route_probabilities(self, lot: Lot, candidates: Sequence[int], day: float) -> list[float]:
        price = self.network.price_usd_per_kg(day)
        memo: dict[tuple[int, int], float] = {}
        nets = [self._net(r, lot.taint, day, price, memo) for r in candidates]
        return self._probabilities(candidates, nets, price)

    def _probabilities(self, routes: Sequence[int], nets: Sequence[float], price: float):
        weights = self.weights
        # Routes of weight 0 are fallbacks, as in the static split.
        if any(weights[r] > 0.0 for r in routes):
            pairs = [(weights[r], n) for r, n in zip(routes, nets, strict=True)]
        else:
            pairs = [(1.0, n) for n in nets]
        best = max(n for w, n in pairs if w > 0.0)
        scores = [
            w * math.exp(self.beta * (n - best) / price) if w > 0.0 else 0.0 for w, n in pairs
        ]
        total = sum(scores)
        return [x / total for x in scores]

    def _net(
        self, route: int, taint: int, day: float, price: float, memo: dict[tuple[int, int], float]
    ) -> float:
        target = self.network.route_target[route]
        value = self._value(target, taint, day, price, memo)
        return value * (1.0 - self.risk.get(route, day)) - self.cost[route]

    def _value(
        self, node: int, taint: int, day: float, price: float, memo: dict[tuple[int, int], float]
    ) -> float:
        """What a kg of gold with this taint is worth on arriving at ``node``."""
        key = (node, taint)
        if key in memo:
            return memo[key]
        policy = self.policy
        if self.network.kinds[node] == PARTNER:
            refuse, discount = policy.refusal(node, taint, day) if taint else (0.0, 0.0)
            value = price * self.price_factor[node] * (1.0 - discount) * (1.0 - refuse)
        else:
            leaving = taint | policy.node_taint_now(node, day) if policy.has_sanctions else taint
            routes, nets = [], []
            for r in self.network.out_routes[node]:
                net = self._net(r, leaving, day, price, memo)
                if self._value(self.network.route_target[r], leaving, day, price, memo) > 0.0:
                    routes.append(r)
                    nets.append(net)
            value = 0.0
            if routes:
                probabilities = self._probabilities(routes, nets, price)
                value = sum(p * n for p, n in zip(probabilities, nets, strict=True))
        memo[key] = value
        return value
