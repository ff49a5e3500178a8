"""Checks that need the whole scenario: the graph, dates and cross-references.

Each check yields ``(key path, message)``; :mod:`flowsim.scenario` adds the
file name. Checks stop early only where later ones would repeat an earlier
error (a graph with unknown nodes is not searched for cycles).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator
from datetime import date as Date

from flowsim.schema import Mine, Partner, Processor, Scenario

__all__ = ["check_scenario", "find_cycle"]

Finding = tuple[tuple[str | int, ...], str]


def check_scenario(scenario: Scenario) -> list[Finding]:
    findings = list(_check_calendar(scenario))
    if findings:
        return findings
    findings += _check_prices(scenario)
    graph = list(_check_routes(scenario))
    findings += graph
    if not graph:
        findings += _check_graph(scenario)
    findings += _check_stocks(scenario)
    findings += _check_sanctions(scenario)
    findings += _check_raids(scenario)
    findings += _check_fuel(scenario)
    findings += _check_lot_intervals(scenario)
    findings += _check_size(scenario)
    findings += _check_displacement(scenario)
    findings += _check_interdictions(scenario)
    findings += _check_expectations(scenario)
    return findings


def _hint(word: str, options: Iterable[str]) -> str:
    options = sorted(options)
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    if close:
        return f"; did you mean '{close[0]}'?"
    if 0 < len(options) <= 25:
        return f" (known: {', '.join(options)})"
    return ""


def _check_calendar(s: Scenario) -> Iterator[Finding]:
    if s.calendar.end < s.calendar.start:
        yield (
            ("calendar", "end"),
            f"{s.calendar.end} is before calendar.start ({s.calendar.start})",
        )


def _check_date(s: Scenario, path: tuple[str, ...], when: Date | None) -> Iterator[Finding]:
    if when is None:
        return
    if not s.calendar.start <= when <= s.calendar.end:
        yield (
            path,
            f"{when} is outside the calendar ({s.calendar.start} to {s.calendar.end})",
        )


def _check_window(
    s: Scenario,
    prefix: tuple[str, ...],
    first: str,
    last: str,
    start: Date | None,
    end: Date | None,
) -> Iterator[Finding]:
    yield from _check_date(s, (*prefix, first), start)
    yield from _check_date(s, (*prefix, last), end)
    if start is not None and end is not None and end < start:
        yield ((*prefix, last), f"{end} is before {first} ({start})")


def _check_prices(s: Scenario) -> Iterator[Finding]:
    for year in range(s.calendar.start.year, s.calendar.end.year + 1):
        if year not in s.prices.usd_per_oz:
            yield (("prices", "usd_per_oz"), f"no gold price for {year}, a year of the calendar")


def _check_routes(s: Scenario) -> Iterator[Finding]:
    for rid, route in s.routes.items():
        for key, node_id in (("from", route.source), ("to", route.target)):
            if node_id not in s.nodes:
                yield (("routes", rid, key), f"unknown node '{node_id}'{_hint(node_id, s.nodes)}")
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
            yield (
                ("routes", rid, "from"),
                f"'{route.source}' is a partner; exports end there, no route may leave it",
            )


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
    from_mines = _reach(mines, {n: [t for _, t in edges] for n, edges in out.items()})
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
            if lot.origin not in mines:
                yield (
                    ("nodes", node_id, "initial_stock", i, "origin"),
                    f"'{lot.origin}' is not a mine{_hint(lot.origin, mines)}",
                )


def _check_sanctions(s: Scenario) -> Iterator[Finding]:
    partners = [n for n, node in s.nodes.items() if isinstance(node, Partner)]
    entities = sorted({node.entity for node in s.nodes.values()})
    jurisdictions = sorted({node.jurisdiction for node in s.nodes.values()})
    for name, regime in s.policies.sanctions.items():
        prefix = ("policies", "sanctions", name)
        yield from _check_window(s, prefix, "effective", "until", regime.effective, regime.until)
        for partner in regime.compliance:
            if partner not in partners:
                yield (
                    (*prefix, "compliance", partner),
                    f"'{partner}' is not a partner{_hint(partner, partners)}",
                )
        for i, entity in enumerate(regime.target_entities):
            if entity not in entities:
                yield (
                    (*prefix, "target_entities", i),
                    f"no node is operated by '{entity}'{_hint(entity, entities)}",
                )
        for i, change in enumerate(regime.compliance_changes):
            where = (*prefix, "compliance_changes", i)
            if change.partner not in partners:
                yield (
                    (*where, "partner"),
                    f"'{change.partner}' is not a partner{_hint(change.partner, partners)}",
                )
            yield from _check_date(s, (*where, "date"), change.date)
            earlier = [
                c
                for c in regime.compliance_changes[:i]
                if (c.partner, c.date) == (change.partner, change.date)
            ]
            if earlier:
                yield (
                    (*where, "date"),
                    f"'{change.partner}' already has a compliance change on {change.date}",
                )
        for i, code in enumerate(regime.target_jurisdictions):
            if code not in jurisdictions:
                yield (
                    (*prefix, "target_jurisdictions", i),
                    f"no node is in jurisdiction '{code}'{_hint(code, jurisdictions)}",
                )


def _check_raids(s: Scenario) -> Iterator[Finding]:
    for name, raid in s.policies.raids.items():
        prefix = ("policies", "raids", name)
        yield from _check_date(s, (*prefix, "date"), raid.date)
        yield from _check_window(
            s, prefix, "window_start", "window_end", raid.window_start, raid.window_end
        )
        for i, node_id in enumerate(raid.nodes):
            if node_id not in s.nodes:
                yield ((*prefix, "nodes", i), f"unknown node '{node_id}'{_hint(node_id, s.nodes)}")
            elif isinstance(s.nodes[node_id], Partner):
                yield (
                    (*prefix, "nodes", i),
                    f"'{node_id}' is a partner; raids hit mines, buyers and refiners",
                )
        if raid.region is not None:
            regions = sorted({n.region for n in s.nodes.values() if n.kind in raid.node_kinds})
            if raid.region not in regions:
                kinds = "/".join(raid.node_kinds)
                yield (
                    (*prefix, "region"),
                    f"no {kinds} node in region '{raid.region}'{_hint(raid.region, regions)}",
                )
        if "partner" in raid.node_kinds:
            yield ((*prefix, "node_kinds"), "raids hit mines, buyers and refiners, not partners")


def _check_fuel(s: Scenario) -> Iterator[Finding]:
    fuel_regions = sorted(
        {n.fuel_region or n.region for n in s.nodes.values() if isinstance(n, Mine)}
    )
    for name, rule in s.policies.fuel_restrictions.items():
        prefix = ("policies", "fuel_restrictions", name)
        yield from _check_window(s, prefix, "start", "end", rule.start, rule.end)
        if rule.region not in fuel_regions:
            yield (
                (*prefix, "region"),
                f"no mine draws fuel from region '{rule.region}'{_hint(rule.region, fuel_regions)}",
            )


def _check_lot_intervals(s: Scenario) -> Iterator[Finding]:
    for node_id, node in s.nodes.items():
        interval = node.lot_interval_days if isinstance(node, Mine) else None
        if interval is not None and interval.mean <= 0:
            yield (
                ("nodes", node_id, "lot_interval_days"),
                "the mean interval between lots must be above 0",
            )


def _check_displacement(s: Scenario) -> Iterator[Finding]:
    mines = [n for n, node in s.nodes.items() if isinstance(node, Mine)]
    for node_id, node in s.nodes.items():
        if not isinstance(node, Mine):
            continue
        for i, other in enumerate(node.displacement_to):
            path = ("nodes", node_id, "displacement_to", i)
            if other == node_id:
                yield (path, "a mine cannot displace its miners to itself")
            elif other not in mines:
                yield (path, f"'{other}' is not a mine{_hint(other, mines)}")
        if node.displacement_share > 0 and not node.displacement_to:
            yield (
                ("nodes", node_id, "displacement_share"),
                "needs displacement_to: the mines where the miners go",
            )


def _check_interdictions(s: Scenario) -> Iterator[Finding]:
    jurisdictions = sorted({node.jurisdiction for node in s.nodes.values()})
    for name, rule in s.policies.interdictions.items():
        prefix = ("policies", "interdictions", name)
        yield from _check_window(s, prefix, "start", "end", rule.start, rule.end)
        for i, route_id in enumerate(rule.routes):
            if route_id not in s.routes:
                yield (
                    (*prefix, "routes", i),
                    f"unknown route '{route_id}'{_hint(route_id, s.routes)}",
                )
        for key in ("into_jurisdictions", "from_jurisdictions"):
            for i, code in enumerate(getattr(rule, key)):
                if code not in jurisdictions:
                    yield (
                        (*prefix, key, i),
                        f"no node is in jurisdiction '{code}'{_hint(code, jurisdictions)}",
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
