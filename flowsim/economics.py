"""Prices, margins and output: what gold is worth at each node, what a mine earns on a
kg, and how much it produces in answer.

A kg of fine gold arriving at a partner is worth the partner's price now: the world
price times its price factor, times the share of its price it pays past its appetite,
less the discount on gold that touched a designated entity, times the chance it is not
refused. At a buyer or a refiner it is worth what the node pays for it: the share it
does not keep (``1 - margin``) of what it expects for the kg downstream, route by route,
each route's value at its end times the chance of getting through less its cost, the
routes weighted as the node's route choice splits its gold. A sanctions discount or a
lost outlet therefore lowers the prices paid all the way up.

A mine receives its doré's purity times what its gold is worth leaving it, and its
margin is that less its costs per kg: fuel at the pump price, the black-market premium
while fuel is cut, and its other costs. A mine with ``supply_elasticity = ε > 0``
produces its scheduled output times ``(margin / first-day margin) ^ ε``, revalued at the
start of each day. :class:`Economics` does this for one replication and records each
node's price and margin on the first of each month (docs/behaviour.md).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING

import simpy

from flowsim.errors import FlowsimError
from flowsim.network import MINE, PARTNER, Network

if TYPE_CHECKING:
    from flowsim.choice import RouteChooser
    from flowsim.levers import Levers
    from flowsim.lots import Lot
    from flowsim.rates import Rates

__all__ = ["Economics", "PriceRecord"]

# (month of the run from 0, node, USD a kg, margin USD a kg, output factor)
PriceRecord = tuple[int, int, float, float, float]


class Economics:
    """Prices and margins in one replication, and the output they call for."""

    def __init__(
        self,
        network: Network,
        rates: Rates,
        policy: Levers,
        chooser: RouteChooser,
        env: simpy.Environment,
    ):
        self.network, self.rates, self.policy, self.env = network, rates, policy, env
        self.spec = spec = network.economics
        papers = network.papers
        self._launder_cost = papers.expected_cost if papers is not None else None
        values_at = getattr(chooser, "node_values", None)
        self.values_at: Callable[[Sequence[int], int, float], list[float]] = (
            values_at or self._static_values
        )
        self.records: list[PriceRecord] = []
        kinds = network.kinds
        self.elastic = [m.node for m in network.mines if spec and spec.elasticity[m.node] > 0]
        scheduled = network.schedules.get("kg_per_day", {})
        rate = {m.node: m.kg_per_day for m in network.mines}
        self.base = {i: scheduled.get(i) or (rate[i],) for i in self.elastic}
        self.first_margin: dict[int, float] = {}
        for i in self.elastic:
            margin = self.mine_margin(i, 0.0)
            if margin <= 0.0:
                price = self.mine_price(i, 0.0)
                raise FlowsimError(
                    f"nodes.{network.node_ids[i]}: its margin on the first day is "
                    f"{margin:,.0f} USD a kg (it receives {price:,.0f} and spends "
                    f"{price - margin:,.0f}): with supply_elasticity above 0 its output is "
                    "relative to that margin, so it must be above 0; lower its costs, or set "
                    "supply_elasticity = 0"
                )
            self.first_margin[i] = margin
        self._kinds = kinds
        timeout = env.timeout
        if self.elastic:
            for day in range(1, network.days):
                timeout(float(day)).callbacks.append(self._revalue)
        for month, day in enumerate(network.month_start_days):
            timeout(max(day, 0.0)).callbacks.append(partial(self._record, month))

    # --- values --------------------------------------------------------------------

    def value_at(self, node: int, taint: int, day: float) -> float:
        """What a kg with this taint is worth on arriving at ``node`` on ``day``."""
        return self.values_at((node,), taint, day)[0]

    def mine_price(self, i: int, day: float, value: float | None = None) -> float:
        """USD a mine receives for a kg of its doré on ``day`` (``value``: what its gold
        is worth leaving it, if already known)."""
        return self.spec.purity[i] * (self.value_at(i, 0, day) if value is None else value)

    def mine_cost(self, i: int, day: float) -> float:
        """USD a mine spends to produce a kg of doré on ``day``."""
        spec, d = self.spec, int(day)
        other = spec.other_cost[i]
        cost = other[min(d, len(other) - 1)] if isinstance(other, tuple) else other
        pump = spec.fuel_usd_per_gal
        if pump is not None:
            cost += spec.fuel_gal_per_kg[i] * pump[min(d, len(pump) - 1)]
        if self.policy.cuts_fuel(i):
            cost += self.policy.fuel_premium_usd(i, day, 1.0)
        return cost

    def mine_margin(self, i: int, day: float, value: float | None = None) -> float:
        return self.mine_price(i, day, value) - self.mine_cost(i, day)

    def _static_values(self, nodes: Sequence[int], taint: int, day: float) -> list[float]:
        """What a kg with this taint is worth on arriving at each of ``nodes``, gold
        split over the routes by their weights, as the static split sends it."""
        price, memo = self.network.price_usd_per_kg(day), {}
        return [self._value(node, taint, day, price, memo) for node in nodes]

    def _value(self, node: int, taint: int, day: float, price: float, memo: dict) -> float:
        key = (node, taint)
        if key in memo:
            return memo[key]
        network, policy, rates = self.network, self.policy, self.rates
        if network.kinds[node] == PARTNER:
            refuse, discount = policy.refusal(node, taint, day) if taint else (0.0, 0.0)
            value = price * rates.price_factor[node] * rates.outlet[node]
            value *= (1.0 - discount) * (1.0 - refuse)
        else:
            leaving = taint | policy.node_taint_now(node, day) if policy.has_sanctions else taint
            nets, weights = [], []
            for r in network.out_routes[node]:
                ahead = self._value(network.route_target[r], leaving, day, price, memo)
                if ahead > 0.0:
                    risk = policy.seizure_probability(r, day)
                    nets.append(ahead * (1.0 - risk) - rates.route_cost[r])
                    weights.append(rates.route_weight[r])
            if not any(w > 0.0 for w in weights):  # fallbacks only: split evenly
                weights = [1.0] * len(weights)
            total = sum(weights)
            value = sum(w * n for w, n in zip(weights, nets, strict=True)) / total if total else 0.0
            value *= 1.0 - rates.margin[node]
            if self._launder_cost is not None:
                value -= self._launder_cost[node]
        memo[key] = value
        return value

    # --- the books (rents) -----------------------------------------------------------

    def start_books(self) -> None:
        """Keep the books: what each node pays for a lot and earns on it, by month."""
        self.rents: dict[tuple[int, int], float] = {}
        self.production_cost_usd = 0.0
        self.transport_usd = 0.0
        self._prices_today: dict[tuple[int, int, int], float] = {}
        self._costs_today: dict[tuple[int, int], float] = {}
        self._month_starts = self.network.month_start_days

    def earn(self, node: int, usd: float, day: float) -> None:
        """Book ``usd`` (a loss if negative) to ``node`` in the month of ``day``."""
        key = (bisect_right(self._month_starts, day) - 1, node)
        self.rents[key] = self.rents.get(key, 0.0) + usd

    def produce(self, lot: Lot, mine: int, day: float) -> None:
        """A new lot costs its mine what producing it cost on ``day``."""
        key = (int(day), mine)
        cost = self._costs_today.get(key)
        if cost is None:
            cost = self._costs_today[key] = self.mine_cost(mine, day)
        lot.book = lot.mass * cost
        self.production_cost_usd += lot.book

    def carry(self, lot: Lot, usd_per_kg: float) -> None:
        """Its owner pays to move ``lot``."""
        usd = lot.mass * usd_per_kg
        lot.book += usd
        self.transport_usd += usd

    def sell(self, lot: Lot, seller: int, buyer: int, day: float) -> None:
        """``buyer`` (a buyer or a refiner) pays ``seller`` its price for ``lot`` today."""
        key = (int(day), buyer, lot.seen)
        price = self._prices_today.get(key)
        if price is None:
            price = self._prices_today[key] = self.value_at(buyer, lot.seen, day)
        paid = lot.mass * lot.purity * price
        self.earn(seller, paid - lot.book, day)
        lot.book = paid

    def export(self, lot: Lot, seller: int, usd: float, day: float) -> None:
        self.earn(seller, usd - lot.book, day)
        lot.book = 0.0

    def lose(self, lot: Lot, owner: int, share: float, day: float) -> None:
        """``owner`` loses ``share`` of ``lot`` (seized): what it paid for that share."""
        lost = lot.book * share
        lot.book -= lost
        self.earn(owner, -lost, day)

    # --- in the run ----------------------------------------------------------------

    def _revalue(self, event: simpy.Event) -> None:
        """The start of a day: each elastic mine's output for its margin today."""
        day = event.env.now
        d = int(day)
        rates = self.rates
        values = self.values_at(self.elastic, 0, day)
        for i, value in zip(self.elastic, values, strict=True):
            factor = self.output_factor(i, day, value)
            rates.output_factor[i] = factor
            rates.kg_per_day[i] = self.base[i][min(d, len(self.base[i]) - 1)] * factor

    def output_factor(self, i: int, day: float, value: float | None = None) -> float:
        margin = max(self.mine_margin(i, day, value), 0.0)
        return (margin / self.first_margin[i]) ** self.spec.elasticity[i]

    def _record(self, month: int, event: simpy.Event) -> None:
        """The first of a month: each node's price for a kg, and its margin on it."""
        day = event.env.now
        rates = self.rates
        values = self.values_at(range(len(self._kinds)), 0, day)
        for i, kind in enumerate(self._kinds):
            if kind == MINE:
                price = self.mine_price(i, day, values[i])
                margin = price - self.mine_cost(i, day)
                factor = rates.output_factor[i]
            else:
                price = values[i]
                kept = rates.margin[i] if kind != PARTNER else 0.0
                margin = price * kept / (1.0 - kept)
                factor = float("nan")
            self.records.append((month, i, price, margin, factor))
