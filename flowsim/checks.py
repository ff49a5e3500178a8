"""Checks that need the whole scenario: the graph, dates and cross-references.

Each check yields ``(key path, message)``; :mod:`flowsim.scenario` adds the
file name. Checks stop early only where later ones would repeat an earlier
error (a graph with unknown nodes is not searched for cycles).
"""

from __future__ import annotations

from collections.abc import Iterator

from flowsim.findings import Finding, check_date, check_known, node_aliases
from flowsim.levers import check_levers
from flowsim.schedules import calendar_months, check_schedules
from flowsim.schema import Mine, Partner, Processor, Reserve, Scenario

__all__ = ["MAX_LOTS", "check_scenario", "expected_lots", "find_cycle"]


def check_scenario(scenario: Scenario) -> list[Finding]:
    findings = list(_check_calendar(scenario))
    if findings:
        return findings
    findings += _check_prices(scenario)
    findings += check_schedules(scenario)
    findings += _check_economics(scenario)
    graph = list(_check_routes(scenario))
    findings += graph
    if not graph:
        findings += _check_graph(scenario)
    findings += _check_stocks(scenario)
    findings += _check_documents(scenario)
    findings += check_levers(scenario)
    findings += _check_lot_intervals(scenario)
    findings += _check_size(scenario)
    findings += _check_expectations(scenario)
    return findings


def _check_calendar(s: Scenario) -> Iterator[Finding]:
    if s.calendar.end < s.calendar.start:
        yield (
            ("calendar", "end"),
            f"{s.calendar.end} is before calendar.start ({s.calendar.start})",
        )


def _check_prices(s: Scenario) -> Iterator[Finding]:
    """Every month of the calendar has a gold price: its own, or its year's."""
    prices = s.prices.usd_per_oz
    months = calendar_months(s.calendar.start, s.calendar.end)
    for year in sorted({y for y, _ in months}):
        if year in prices:
            continue
        missing = [f"{y}-{m:02d}" for y, m in months if y == year and f"{y}-{m:02d}" not in prices]
        if not any(f"{year}-{m:02d}" in prices for m in range(1, 13)):
            yield (("prices", "usd_per_oz"), f"no gold price for {year}, a year of the calendar")
        elif missing:
            yield (
                ("prices", "usd_per_oz"),
                f"no gold price for {', '.join(missing)} (months of the calendar): give one "
                f"for {year} as a whole, or for each of these months",
            )
    for key in prices:
        if isinstance(key, str) and key[:7] not in {f"{y}-{m:02d}" for y, m in months}:
            yield (("prices", "usd_per_oz", key), f"{key} is outside the calendar")


def _check_economics(s: Scenario) -> Iterator[Finding]:
    fuel_price = s.prices.fuel_usd_per_gal
    for node_id, node in s.nodes.items():
        elastic = isinstance(node, Mine) and node.supply_elasticity > 0
        if elastic and node.fuel_gal_per_kg > 0 and fuel_price is None:
            yield (
                ("nodes", node_id, "supply_elasticity"),
                "an output that answers the margin needs the price of the fuel it burns: "
                "set prices.fuel_usd_per_gal",
            )
    if fuel_price is None:
        return
    for name, rule in s.policies.fuel_restrictions.items():
        if "fuel_price_usd_per_gal" in rule.model_fields_set:
            yield (
                ("policies", "fuel_restrictions", name, "fuel_price_usd_per_gal"),
                "the pump price is prices.fuel_usd_per_gal: give it once, and delete this key",
            )


def _check_routes(s: Scenario) -> Iterator[Finding]:
    aliases = node_aliases(s.nodes)
    for rid, route in s.routes.items():
        for key, node_id in (("from", route.source), ("to", route.target)):
            yield from check_known(
                ("routes", rid, key), node_id, s.nodes, "unknown node '{}'", aliases
            )
        if route.source == route.target:
            yield (("routes", rid, "to"), f"route leads from '{route.source}' back to itself")
            continue
        source, target = s.nodes.get(route.source), s.nodes.get(route.target)
        if isinstance(target, Mine):
            yield (
                ("routes", rid, "to"),
                f"'{route.target}' is a mine; no route may lead into a mine",
            )
        if isinstance(source, Partner):
            if source.re_export_share == 0.0:
                yield (
                    ("routes", rid, "from"),
                    f"'{route.source}' is a partner that sells nothing on "
                    "(re_export_share = 0): exports end there, no route may leave it",
                )
            elif target is not None and not isinstance(target, Partner):
                yield (
                    ("routes", rid, "to"),
                    f"'{route.target}' is not a partner: a partner sells on to partners only",
                )


def _check_documents(s: Scenario) -> Iterator[Finding]:
    jurisdictions = sorted({node.jurisdiction for node in s.nodes.values()})
    for code in s.customs:
        yield from check_known(
            ("customs", code), code, jurisdictions, "no node is in jurisdiction '{}'"
        )
    sources = {route.source for route in s.routes.values()}
    for node_id, node in s.nodes.items():
        if not isinstance(node, Partner):
            continue
        if node.re_export_share > 0.0 and node_id not in sources:
            yield (
                ("nodes", node_id, "re_export_share"),
                f"'{node_id}' sells on a share of what it takes, but no route leaves it",
            )
        if node.laundering is not None and node.re_export_share == 0.0:
            yield (
                ("nodes", node_id, "laundering"),
                "a partner re-papers only what it sells on: set re_export_share above 0",
            )
    if s.simulation.documents is False:
        users = [
            ("nodes", n, "laundering")
            for n, node in s.nodes.items()
            if getattr(node, "laundering", None) is not None
        ] + [
            ("nodes", n, "due_diligence")
            for n, node in s.nodes.items()
            if getattr(node, "due_diligence", 0.0) > 0.0
        ]
        for path in users:
            yield (path, "needs papers on lots: delete simulation.documents = false")


def find_cycle(edges: dict[str, list[tuple[str, str]]]) -> list[str] | None:
    """Return the route ids of one cycle in ``{node: [(route id, target)]}``, or None."""
    state: dict[str, int] = {}  # 1 on the current path, 2 finished
    for root in edges:
        if state.get(root):
            continue
        stack: list[tuple[str, Iterator[tuple[str, str]]]] = [(root, iter(edges.get(root, ())))]
        via: list[str] = []
        state[root] = 1
        while stack:
            node, children = stack[-1]
            step = next(children, None)
            if step is None:
                state[node] = 2
                stack.pop()
                if via:
                    via.pop()
                continue
            route_id, child = step
            if state.get(child) == 1:
                start = next(i for i, (n, _) in enumerate(stack) if n == child)
                return [*via[start:], route_id]
            if not state.get(child):
                state[child] = 1
                via.append(route_id)
                stack.append((child, iter(edges.get(child, ()))))
    return None


def _check_graph(s: Scenario) -> Iterator[Finding]:
    out: dict[str, list[tuple[str, str]]] = {n: [] for n in s.nodes}
    into: dict[str, list[str]] = {n: [] for n in s.nodes}
    for rid, route in s.routes.items():
        out[route.source].append((rid, route.target))
        into[route.target].append(route.source)

    cycle = find_cycle(out)
    if cycle is not None:
        path = " -> ".join([s.routes[cycle[0]].source, *(s.routes[r].target for r in cycle)])
        yield (("routes", cycle[0]), f"routing cycle: {path} (through routes {', '.join(cycle)})")
        return

    mines = [n for n, node in s.nodes.items() if isinstance(node, Mine)]
    partners = [n for n, node in s.nodes.items() if isinstance(node, Partner)]
    if not mines:
        yield (("nodes",), "the scenario has no mine")
    if not partners:
        yield (("nodes",), "the scenario has no partner")
    if not mines or not partners:
        return
    # Gold starts at mines, and at nodes that hold a reserve or a stock at the start.
    holders = [
        n
        for n, node in s.nodes.items()
        if isinstance(node, Processor) and (node.reserve is not None or node.initial_stock)
    ]
    sources = mines + holders
    from_mines = _reach(sources, {n: [t for _, t in edges] for n, edges in out.items()})
    to_partners = _reach(partners, into)
    for node_id in s.nodes:
        if node_id not in from_mines:
            yield (("nodes", node_id), "no mine's gold can reach this node")
        elif node_id not in to_partners:
            yield (("nodes", node_id), "no partner can be reached from this node")


def _reach(starts: list[str], edges: dict[str, list[str]]) -> set[str]:
    seen = set(starts)
    todo = list(starts)
    while todo:
        for nxt in edges.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def _check_stocks(s: Scenario) -> Iterator[Finding]:
    mines = [n for n, node in s.nodes.items() if isinstance(node, Mine)]
    aliases = node_aliases(s.nodes)
    for node_id, node in s.nodes.items():
        if not isinstance(node, Processor):
            continue
        if node.kind == "buyer" and node.output_purity is not None:
            yield (
                ("nodes", node_id, "output_purity"),
                "only refiners change purity; a buyer passes gold on as it came",
            )
        if node.kind == "buyer" and node.batch_kg is not None:
            yield (("nodes", node_id, "batch_kg"), "only refiners melt lots into batches")
        for i, lot in enumerate(node.initial_stock):
            path = ("nodes", node_id, "initial_stock", i, "origin")
            yield from check_known(path, lot.origin, mines, "'{}' is not a mine", aliases)
        if node.reserve is not None:
            yield from _check_reserve(s, node_id, node.reserve, mines)


def _check_reserve(s: Scenario, node_id: str, reserve: Reserve, mines: list[str]):
    prefix = ("nodes", node_id, "reserve")
    aliases = node_aliases(s.nodes)
    yield from check_known(
        (*prefix, "origin"), reserve.origin, mines, "'{}' is not a mine", aliases
    )
    buyers = [r.target for r in s.routes.values() if r.source == node_id]
    hungry = [
        b for b in buyers if getattr(s.nodes.get(b), "appetite_kg_per_month", None) is not None
    ]
    if reserve.sell_to_demand and not hungry:
        yield (
            (*prefix, "sell_to_demand"),
            f"{node_id} has no route to a partner with an appetite_kg_per_month: no demand "
            "to sell to",
        )
    for i, sale in enumerate(reserve.sales):
        yield from check_date(s, (*prefix, "sales", i, "date"), sale.date)
        yield from check_known(
            (*prefix, "sales", i, "to"),
            sale.to,
            buyers,
            f"'{{}}' is not a node that {node_id} has a route to",
            aliases,
        )


def _check_lot_intervals(s: Scenario) -> Iterator[Finding]:
    for node_id, node in s.nodes.items():
        interval = node.lot_interval_days if isinstance(node, Mine) else None
        if interval is not None and interval.mean <= 0:
            yield (
                ("nodes", node_id, "lot_interval_days"),
                "the mean interval between lots must be above 0",
            )


def _check_expectations(s: Scenario) -> Iterator[Finding]:
    for i, rule in enumerate(s.expect):
        for key in ("scenario", "compare_to"):
            if getattr(rule, key) is not None:
                yield (
                    ("expect", i, key),
                    f"{key} belongs in a sweep file's rules, not a scenario's",
                )


MAX_LOTS = 100_000_000


def expected_lots(s: Scenario) -> float:
    """About how many lots one replication of ``s`` makes."""
    days = s.days
    lots = 0.0
    shipments = s.simulation.granularity == "shipment"
    for node in s.nodes.values():
        if isinstance(node, Mine):
            if shipments:  # one lot a collection, whatever the lot interval
                lots += days / s.simulation.collection_days
                continue
            interval = node.lot_interval_days or None
            mean = interval.mean if interval is not None else s.simulation.lot_interval_days
            if mean > 0:  # a zero mean is reported by _check_lot_intervals
                lots += days / mean
        elif isinstance(node, Processor):
            lots += sum(stock.kg / stock.lot_kg for stock in node.initial_stock)
    return lots


def _check_size(s: Scenario) -> Iterator[Finding]:
    """Refuse a run that would make more lots than a machine can hold, rather than
    hang or run out of memory: a tiny lot interval or lot size is usually a typo."""
    lots = expected_lots(s)
    shipments = s.simulation.granularity == "shipment"
    if lots > MAX_LOTS:
        yield (
            ("simulation",),
            f"the run would make about {lots:.3g} lots, more than {MAX_LOTS:,}: "
            + (
                "raise collection_days or lot_kg, or shorten the calendar"
                if shipments
                else 'raise lot_interval_days or lot_kg, set granularity = "shipment", '
                "or shorten the calendar"
            ),
        )
