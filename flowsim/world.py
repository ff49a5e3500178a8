"""What the network compiles of the world's rates over time: schedules as a value a
day, reserves and their sales, partners' appetites by month, and what prices and
margins read (:mod:`flowsim.economics`). :meth:`flowsim.network.Network.build` calls
these; like it, they are the only readers of the scenario's models for a run.
"""

from __future__ import annotations

from calendar import monthrange
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date as Date
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from flowsim.schedules import daily_values, initial

if TYPE_CHECKING:
    from flowsim.schema import Scenario

__all__ = [
    "KG_TO_TROY_OZ",
    "EconomicsSpec",
    "ReserveSpec",
    "compile_economics",
    "compile_reserve",
    "compile_schedules",
    "monthly_appetite",
]

KG_TO_TROY_OZ = 32.150746568627976  # troy ounces in a kilogram


@dataclass(frozen=True)
class EconomicsSpec:
    """What prices and margins read, by node index (0 where a kind has none)."""

    margin: tuple[float, ...]  # the share a buyer or refiner keeps
    elasticity: tuple[float, ...]  # a mine's supply elasticity
    fuel_gal_per_kg: tuple[float, ...]
    purity: tuple[float, ...]  # a mine's doré
    other_cost: tuple[tuple[float, ...] | float, ...]  # a mine's, USD/kg: by day, or one value
    fuel_usd_per_gal: tuple[float, ...] | None  # the pump price by day; None: not given


@dataclass(frozen=True)
class ReserveSpec:
    """A node's reserve: gold outside its queue that leaves only as it is sold."""

    node: int
    kg: float
    origin: int
    purity: float
    daily_sale_kg: tuple[float, ...]  # the scheduled sales of each day of the run
    sales: tuple[tuple[float, float, int], ...]  # dated sales: (day, kg, route), by day
    sell_before_designation: float = 0.0  # share sold between announcement and effect
    min_usd_per_kg: tuple[float, ...] | None = None  # the reservation price by day
    demand_routes: tuple[int, ...] = ()  # routes to partners with an appetite it sells to


def compile_schedules(
    scenario: Scenario, nodes: list[Any], routes: list[Any]
) -> dict[str, dict[int, tuple[float, ...]]]:
    """Each scheduled rate's value on each day, by quantity and node or route index."""
    start, days = scenario.calendar.start, scenario.days
    sources = {
        "kg_per_day": [
            (i, n.production_kg_per_day) for i, n in enumerate(nodes) if n.kind == "mine"
        ],
        "capacity": [
            (i, n.capacity_kg_per_day)
            for i, n in enumerate(nodes)
            if n.kind in ("buyer", "refiner")
        ],
        "price_factor": [(i, n.price_factor) for i, n in enumerate(nodes) if n.kind == "partner"],
        "margin": [(i, n.margin) for i, n in enumerate(nodes) if n.kind in ("buyer", "refiner")],
        "route_seizure": [(r, route.seizure_probability) for r, route in enumerate(routes)],
        "route_weight": [(r, route.weight) for r, route in enumerate(routes)],
        "route_cost": [(r, route.cost_usd_per_kg) for r, route in enumerate(routes)],
        "route_transit_factor": [(r, route.transit_factor) for r, route in enumerate(routes)],
    }
    compiled = {}
    for quantity, values in sources.items():
        tables = {
            k: table
            for k, value in values
            if (table := daily_values(value, start, days)) is not None
        }
        if tables:
            compiled[quantity] = tables
    return compiled


def compile_reserve(
    scenario: Scenario,
    i: int,
    node: Any,
    index: Mapping[str, int],
    sources: tuple[int, ...],
    targets: tuple[int, ...],
) -> ReserveSpec | None:
    reserve = node.reserve
    if reserve is None:
        return None
    scenario_ids = list(scenario.nodes)
    start, days = scenario.calendar.start, scenario.days
    per_month = daily_values(reserve.sales_kg_per_month, start, days) or (
        (reserve.sales_kg_per_month,) * days
    )
    daily = []
    for d, kg in enumerate(per_month):
        when = start + timedelta(days=d)
        daily.append(kg / monthrange(when.year, when.month)[1])
    route_to = {targets[r]: r for r in reversed(range(len(sources))) if sources[r] == i}
    sales = sorted(
        (scenario.day_of(sale.date), sale.kg, route_to[index[sale.to]]) for sale in reserve.sales
    )
    origin = scenario.nodes[reserve.origin]
    return ReserveSpec(
        node=i,
        kg=reserve.kg,
        origin=index[reserve.origin],
        purity=reserve.purity or origin.purity or scenario.prices.dore_purity,
        daily_sale_kg=tuple(daily),
        sales=tuple(sales),
        sell_before_designation=reserve.sell_before_designation,
        demand_routes=tuple(
            r
            for r in range(len(sources))
            if sources[r] == i
            and reserve.sell_to_demand
            and getattr(scenario.nodes[scenario_ids[targets[r]]], "appetite_kg_per_month", None)
            is not None
        ),
        min_usd_per_kg=(
            None
            if reserve.min_usd_per_oz is None
            else tuple(
                v * KG_TO_TROY_OZ
                for v in daily_values(reserve.min_usd_per_oz, start, days)
                or (reserve.min_usd_per_oz,) * days
            )
        ),
    )


def monthly_appetite(
    scenario: Scenario, node: Any, months: list[tuple[int, int]]
) -> tuple[float, ...] | None:
    """A partner's appetite in each month of the calendar: its value on the first of the
    month (on the first day, for the month the calendar starts in)."""
    appetite = getattr(node, "appetite_kg_per_month", None)
    if appetite is None:
        return None
    start, days = scenario.calendar.start, scenario.days
    daily = daily_values(appetite, start, days) or (appetite,) * days
    first_days = [max(0, (Date(y, m, 1) - start).days) for y, m in months]
    return tuple(daily[min(d, days - 1)] for d in first_days)


def compile_economics(scenario: Scenario, nodes: list[Any]) -> EconomicsSpec:
    start, days = scenario.calendar.start, scenario.days
    dore = scenario.prices.dore_purity
    mine = [n.kind == "mine" for n in nodes]
    pump = scenario.prices.fuel_usd_per_gal
    return EconomicsSpec(
        margin=tuple(initial(getattr(n, "margin", 0.0)) for n in nodes),
        elasticity=tuple(
            n.supply_elasticity if m else 0.0 for n, m in zip(nodes, mine, strict=True)
        ),
        fuel_gal_per_kg=tuple(
            n.fuel_gal_per_kg if m else 0.0 for n, m in zip(nodes, mine, strict=True)
        ),
        purity=tuple((n.purity or dore) if m else 0.0 for n, m in zip(nodes, mine, strict=True)),
        other_cost=tuple(
            (daily_values(n.cost_usd_per_kg, start, days) or n.cost_usd_per_kg) if m else 0.0
            for n, m in zip(nodes, mine, strict=True)
        ),
        fuel_usd_per_gal=(
            None if pump is None else (daily_values(pump, start, days) or (pump,) * days)
        ),
    )
