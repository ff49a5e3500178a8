"""Invariants over randomly generated scenarios (hypothesis)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from networks import node, route

import flowsim

DISTS = st.sampled_from(
    [
        1.0,
        0.0,
        {"dist": "exponential", "mean": 2.0},
        {"dist": "uniform", "low": 0.5, "high": 3.0},
        {"dist": "triangular", "low": 0.0, "mode": 1.0, "high": 4.0},
        {"dist": "lognormal", "mean": 1.5, "cv": 0.8},
    ]
)
PROBABILITY = st.floats(0.0, 1.0)


@st.composite
def scenarios(draw) -> dict:
    n_mines = draw(st.integers(1, 3))
    n_middle = draw(st.integers(0, 4))
    n_partners = draw(st.integers(1, 3))
    mines = [f"m{i}" for i in range(n_mines)]
    middle = [f"x{i}" for i in range(n_middle)]
    partners = [f"p{i}" for i in range(n_partners)]
    nodes: dict = {}
    for m in mines:
        nodes[m] = node(
            "mine",
            production_kg_per_day=draw(st.floats(0.01, 1e4)),
            production_cv=draw(st.floats(0.0, 2.0)),
            lot_interval_days=draw(st.sampled_from([0.5, 1.0, 7.0])),
            fuel_dependence=draw(PROBABILITY),
            fuel_gal_per_kg=draw(st.floats(0.0, 5000.0)),
            region=draw(st.sampled_from(["north", "south"])),
            entity=draw(st.sampled_from(["A", "B"])),
        )
    for x in middle:
        nodes[x] = node(
            draw(st.sampled_from(["buyer", "refiner"])),
            capacity_kg_per_day=draw(st.floats(0.1, 1e5)),
            servers=draw(st.integers(1, 3)),
            processing_days=draw(DISTS),
            loss_fraction=draw(st.floats(0.0, 0.5)),
            entity=draw(st.sampled_from(["A", "B", "C"])),
            jurisdiction=draw(st.sampled_from(["VEN", "COL"])),
        )
    for p in partners:
        nodes[p] = node("partner", price_factor=draw(st.floats(0.5, 1.5)))

    # Edges only go forward in the order mines, middle, partners: no cycles.
    order = mines + middle + partners
    routes: dict = {}

    def add(source: str, target: str) -> None:
        routes[f"{source}_{target}"] = route(
            source,
            target,
            transit_days=draw(DISTS),
            seizure_probability=draw(st.sampled_from([0.0, 0.0, 0.05, 1.0])),
            weight=draw(st.sampled_from([0.0, 1.0, 3.0])),
            capacity_kg_per_day=draw(st.sampled_from([None, None, 5.0, 100.0])),
        )

    for i, source in enumerate(order[: n_mines + n_middle]):
        later = order[max(i + 1, n_mines) :]
        for target in draw(st.lists(st.sampled_from(later), min_size=1, max_size=3, unique=True)):
            add(source, target)
    for p in partners:  # every partner must be fed
        if not any(r["to"] == p for r in routes.values()):
            add(draw(st.sampled_from(order[: n_mines + n_middle])), p)
    for x in middle:  # every middle node must be fed and must reach a partner
        if not any(r["to"] == x for r in routes.values()):
            add(mines[0], x)
        if not any(r["from"] == x for r in routes.values()):
            add(x, partners[0])

    policies: dict = {"sanctions": {}, "raids": {}, "fuel_restrictions": {}}
    if draw(st.booleans()):
        policies["sanctions"]["s"] = {
            "issuer": "USA",
            "effective": draw(st.sampled_from(["2018-01-01", "2018-02-15"])),
            "target_entities": [
                draw(st.sampled_from(sorted({n["entity"] for n in nodes.values()})))
            ],
            "target_jurisdictions": draw(st.sampled_from([[], ["VEN"]])),
            "compliance": {p: draw(PROBABILITY) for p in partners},
            "discount": draw(st.floats(0.0, 0.9)),
        }
    if draw(st.booleans()):
        policies["raids"]["r"] = {
            "rate_per_year": draw(st.floats(1.0, 50.0)),
            "window_start": "2018-01-10",
            "window_end": "2018-03-20",
            "region": draw(st.sampled_from(sorted({nodes[m]["region"] for m in mines}))),
            "node_kinds": ["mine", "buyer", "refiner"],
            "pick": draw(st.sampled_from(["all", "one"])),
            "capacity_loss": draw(PROBABILITY),
            "recovery_days": draw(st.floats(0.0, 60.0)),
            "stock_seized": draw(PROBABILITY),
            "route_seizure_increase": draw(PROBABILITY),
            "route_seizure_days": draw(st.floats(0.0, 20.0)),
        }
    if draw(st.booleans()):
        policies["fuel_restrictions"]["f"] = {
            "region": draw(st.sampled_from(sorted({nodes[m]["region"] for m in mines}))),
            "start": "2018-02-01",
            "end": "2018-03-01",
            "supply_cut": draw(PROBABILITY),
            "black_market_share": draw(PROBABILITY),
        }
    return {
        "meta": {"name": "generated"},
        "calendar": {"start": "2018-01-01", "end": "2018-03-31"},
        "prices": {"usd_per_oz": {"2018": 1269.23}},
        "nodes": nodes,
        "routes": routes,
        "policies": policies,
    }


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=scenarios(), seed=st.integers(0, 2**32 - 1))
def test_any_valid_scenario_runs_balances_and_repeats(data, seed):
    scenario = flowsim.scenario_from_dict(data)
    results = flowsim.simulate(scenario, seed=seed)  # checks the balance itself
    summary = results.summary()
    for value in summary["totals_kg"].values():
        assert math.isfinite(value) and value >= -1e-9
    for table in ("exports_kg_by_partner", "exports_usd_by_partner"):
        assert all(math.isfinite(v) and v >= 0 for v in summary[table].values())
    again = flowsim.simulate(scenario, seed=seed)
    pd.testing.assert_frame_equal(results.ledger, again.ledger)


@st.composite
def economies(draw) -> dict:
    """A generated scenario with the mechanisms of time and prices drawn on top: dated
    schedules, appetites, margins, supply elasticities, a reserve, and the books kept."""
    data = draw(scenarios())
    nodes, routes = data["nodes"], data["routes"]
    data["prices"]["fuel_usd_per_gal"] = draw(st.floats(0.5, 5.0))
    data["prices"]["usd_per_oz"]["2018-03"] = draw(st.floats(800.0, 2000.0))
    data["policies"]["fuel_restrictions"].get("f", {}).pop("fuel_price_usd_per_gal", None)
    data["simulation"] = {"rents": True}
    for spec in nodes.values():
        if spec["kind"] == "mine":
            spec["production_kg_per_day"] = {
                "2018-01-01": spec["production_kg_per_day"],
                "2018-02-10": draw(st.floats(0.0, 1e4)),
                "interpolation": draw(st.sampled_from(["step", "linear"])),
            }
            spec["fuel_gal_per_kg"] = draw(st.floats(0.0, 2.0))
            spec["supply_elasticity"] = draw(st.sampled_from([0.0, 0.5, 2.0]))
        elif spec["kind"] == "partner":
            if draw(st.booleans()):
                spec["appetite_kg_per_month"] = draw(st.floats(1.0, 1e5))
                spec["beyond_appetite_price_factor"] = draw(st.sampled_from([0.0, 0.5]))
        else:
            spec["margin"] = draw(st.floats(0.0, 0.5))
            if draw(st.booleans()):
                origin = next(n for n, s in nodes.items() if s["kind"] == "mine")
                spec["reserve"] = {
                    "kg": draw(st.floats(1.0, 1e4)),
                    "origin": origin,
                    "sales_kg_per_month": draw(st.floats(0.0, 1e4)),
                }
    for spec in routes.values():
        if draw(st.booleans()):
            spec["seizure_probability"] = {
                "2018-01-01": draw(st.sampled_from([0.0, 0.05])),
                "2018-02-01": draw(st.sampled_from([0.0, 0.5, 1.0])),
            }
        spec["cost_usd_per_kg"] = draw(st.sampled_from([0.0, 100.0, 5000.0]))
    return data


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=economies(), seed=st.integers(0, 2**32 - 1))
def test_with_time_and_prices_the_balance_holds_and_rents_add_up(data, seed):
    from flowsim.engine import make_engine
    from flowsim.network import Network

    try:
        scenario = flowsim.scenario_from_dict(data)
        results = flowsim.simulate(scenario, seed=seed)  # checks the balance itself
    except flowsim.FlowsimError as exc:  # an elastic mine without a margin is refused
        assert "margin on the first day" in str(exc)
        return
    network = Network.build(scenario)
    out = make_engine(network, np.random.default_rng(seed)).run()
    frame = out.ledger.to_frame(network.node_ids, network.route_ids, replication=0)
    exports = frame.loc[frame["event"] == "exported", "usd"].sum()
    rents = sum(usd for _, _, usd in out.rents)
    expected = exports - out.production_cost_usd - out.transport_usd + out.unsold_book_usd
    scale = max(1.0, exports, out.production_cost_usd, out.transport_usd, out.unsold_book_usd)
    assert abs(rents - expected) <= 1e-9 * scale
    summary = results.summary()
    assert all(math.isfinite(v) for v in summary["rents_usd_by_node"].values())
    assert all(v >= -1e-9 for v in summary["production_kg_by_mine"].values())


@st.composite
def papered(draw) -> dict:
    """A generated scenario with papers drawn on top: laundering buyers and refiners,
    partners' due diligence, a hub that sells on to the other partners, routes declared
    at either end or smuggled, and a jurisdiction that reports part of its trade."""
    data = draw(scenarios())
    nodes, routes = data["nodes"], data["routes"]
    partners = [n for n, spec in nodes.items() if spec["kind"] == "partner"]
    for spec in nodes.values():
        if spec["kind"] in ("buyer", "refiner") and draw(st.booleans()):
            spec["laundering"] = {
                "share": draw(PROBABILITY),
                "detection": draw(st.sampled_from([0.0, 0.1, 1.0])),
                "as_scrap": draw(PROBABILITY),
                "cost_usd_per_kg": draw(st.sampled_from([0.0, 500.0])),
            }
        elif spec["kind"] == "partner":
            spec["due_diligence"] = draw(PROBABILITY)
            spec["jurisdiction"] = draw(st.sampled_from(["TUR", "CHE"]))
    if len(partners) > 1 and draw(st.booleans()):
        hub = partners[0]
        nodes[hub]["re_export_share"] = draw(st.floats(0.01, 1.0))
        for other in partners[1:]:
            routes[f"{hub}_{other}"] = route(hub, other, transit_days=draw(DISTS))
    for spec in routes.values():
        spec["declared"] = draw(st.sampled_from(["both", "export", "import", "neither"]))
    reporting = draw(st.sampled_from([1.0, 0.5, 0.0]))
    if any(spec["jurisdiction"] == "COL" for spec in nodes.values()):
        data["customs"] = {"COL": {"reporting_share": reporting}}
    data["simulation"] = {"documents": True}
    return data


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=papered(), seed=st.integers(0, 2**32 - 1))
def test_with_papers_the_balance_holds_and_customs_declare_no_more_than_crossed(data, seed):
    scenario = flowsim.scenario_from_dict(data)
    results = flowsim.simulate(scenario, seed=seed)  # checks the balance itself
    exposure = results.exposure
    shares = exposure[[c for c in exposure.columns if c.endswith("_share")]].to_numpy()
    assert ((shares >= 0.0) & (shares <= 1.0)).all()
    received = exposure["received_kg"].to_numpy()
    assert (exposure["accepted_as_clean_kg"].to_numpy() <= received * (1 + 1e-9) + 1e-9).all()

    # Exports customs declare are exactly the shipments down export-declared crossings,
    # times the exporter's reporting share; imports, at most what arrived on the others.
    nodes = results.nodes.set_index("node")
    share = {code: c["reporting_share"] for code, c in data.get("customs", {}).items()}
    routes = results.routes.set_index("route")
    ledger = results.ledger
    trade = results.trade_statistics
    for way, events, column in (
        (("both", "export"), ["shipped"], "from_node"),
        (("both", "import"), ["exported", "delivered"], "to_node"),
    ):
        declared = routes[routes["declared"].isin(way)]
        rows = ledger[ledger["event"].isin(events) & ledger["route"].isin(declared.index)]
        reporter = declared.loc[rows["route"].astype(str), column].map(nodes["jurisdiction"])
        factors = np.array([share.get(j, 1.0) for j in reporter], dtype=float)
        crossed = float((rows["kg"].to_numpy() * factors).sum())
        codes = ["X", "RX"] if "export" in way else ["M"]
        recorded = trade.loc[trade["flowCode"].isin(codes), "netWgt"].sum()
        if "export" in way:
            assert math.isclose(recorded, crossed, rel_tol=1e-9, abs_tol=1e-9)
        else:
            assert recorded <= crossed * (1 + 1e-9) + 1e-9
    laundered = ledger.loc[ledger["event"] == "laundered", "kg"].sum()
    assert laundered <= ledger.loc[ledger["event"] == "shipped", "kg"].sum() * (1 + 1e-9) + 1e-9
