"""Tiny hand-built networks whose flows can be worked out by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from networks import chain, exported_by_partner, node, route, rows, run, totals

import flowsim
from flowsim.engine import make_engine
from flowsim.network import KG_TO_TROY_OZ, Network


def test_chain_moves_every_lot_one_hop_a_day():
    # Lots are made at t = 0..29, one per day of the calendar, and take two
    # days (two one-day routes, processing too short to matter): those made at
    # t <= 27 reach the partner before day 30; two are still on the road.
    results = run(chain(days=30))
    t = totals(results)
    assert t["produced"] == pytest.approx(300.0)
    assert t["exported"] == pytest.approx(280.0)
    assert t["in_transit"] == pytest.approx(20.0)
    assert t["in_stock"] == pytest.approx(0.0, abs=1e-9)
    assert t["seized"] == t["lost"] == 0.0
    exported = rows(results, "exported")
    assert exported["day"].iloc[0] == pytest.approx(2.0, abs=1e-4)


def test_usd_is_mass_times_purity_times_price_times_partner_factor():
    data = chain(days=10)
    data["nodes"]["mine"]["purity"] = 0.9
    data["nodes"]["partner"]["price_factor"] = 0.5
    results = run(data)
    exported = rows(results, "exported")
    expected = exported["kg"] * 0.9 * 1000.0 * KG_TO_TROY_OZ * 0.5
    np.testing.assert_allclose(exported["usd"], expected)


def test_refiner_raises_purity_and_keeps_the_fine_gold():
    data = chain(days=10)
    data["prices"]["dore_purity"] = 0.9
    data["nodes"]["buyer"] = node("refiner", output_purity=0.99)
    results = run(data)
    exported = rows(results, "exported")
    np.testing.assert_allclose(exported["usd"], exported["kg"] * 0.99 * 1000.0 * KG_TO_TROY_OZ)
    # 10 kg of 90% dore hold 9 kg of gold: 9.09 kg of 99% bars leave, the rest is lost.
    np.testing.assert_allclose(exported["kg"], 10.0 * 0.9 / 0.99)
    lost = rows(results, "lost")
    np.testing.assert_allclose(lost["kg"], 10.0 * (1 - 0.9 / 0.99))
    assert results.balance()["ok"].all()


def test_weights_split_outflow_exactly_by_mass():
    data = chain(days=41)
    data["nodes"]["other"] = node("partner")
    data["routes"]["buyer_partner"]["weight"] = 3.0
    data["routes"]["buyer_other"] = route("buyer", "other", weight=1.0)
    data["calendar"]["end"] = "2018-02-11"  # 42 days: lots of days 0-39 reach a partner
    out = exported_by_partner(run(data))
    assert out["partner"] + out["other"] == pytest.approx(400.0)
    assert out["partner"] == pytest.approx(300.0)
    assert out["other"] == pytest.approx(100.0)


def test_capacity_limited_refiner_builds_a_queue():
    data = chain(days=100)
    data["nodes"]["buyer"] = node("refiner", capacity_kg_per_day=5.0)
    results = run(data)
    t = totals(results)
    # 10 kg/day in, 5 kg/day out: stock grows by about 5 kg a day.
    assert t["in_stock"] == pytest.approx(5.0 * 97, abs=15.0)
    stocks = results.stocks_monthly
    refiner = stocks[stocks["node"] == "buyer"]["kg"].to_numpy()
    assert (np.diff(refiner) > 0).all()


def test_processing_time_and_servers_set_throughput():
    data = chain(days=60)
    data["nodes"]["buyer"] = node("buyer", capacity_kg_per_day=1e9, processing_days=2.0, servers=1)
    one_server = totals(run(data))["exported"]
    data["nodes"]["buyer"]["servers"] = 2
    two_servers = totals(run(data))["exported"]
    # One server handles a lot every 2 days; two handle one a day, the inflow.
    assert one_server == pytest.approx(10.0 * 28, abs=20.0)
    assert two_servers == pytest.approx(10.0 * 56, abs=20.0)


def test_loss_in_processing_is_recorded_as_lost():
    data = chain(days=30)
    data["nodes"]["buyer"] = node("refiner", loss_fraction=0.1)
    t = totals(run(data))
    assert t["lost"] == pytest.approx(0.1 * (t["exported"] / 0.9 + t["in_transit"] / 0.9), rel=0.05)
    assert t["exported"] == pytest.approx(0.9 * 280.0)


@pytest.mark.parametrize("p, expected", [(0.0, 0.0), (1.0, 290.0)])
def test_seizure_probability_zero_and_one(p, expected):
    data = chain(days=30)
    data["routes"]["mine_buyer"]["seizure_probability"] = p
    t = totals(run(data))
    assert t["seized"] == pytest.approx(expected)


def test_seizure_rate_matches_probability():
    data = chain(days=2000)
    data["calendar"]["end"] = "2023-06-23"
    data["prices"]["usd_per_oz"] = {str(y): 1000.0 for y in range(2018, 2024)}
    data["routes"]["mine_buyer"]["seizure_probability"] = 0.2
    results = run(data, seed=3)
    seized = rows(results, "seized")
    shipped = rows(results, "shipped")
    share = len(seized) / len(shipped[shipped["route"] == "mine_buyer"])
    assert share == pytest.approx(0.2, abs=0.03)


def test_route_capacity_sends_overflow_elsewhere():
    data = chain(days=30)
    data["nodes"]["mine"]["production_kg_per_day"] = 20.0
    data["nodes"]["mine"]["lot_interval_days"] = 0.5  # two 10 kg lots a day
    data["nodes"]["other"] = node("partner")
    data["routes"]["buyer_partner"]["capacity_kg_per_day"] = 10.0
    data["routes"]["buyer_partner"]["weight"] = 1.0
    data["routes"]["buyer_other"] = route("buyer", "other", weight=0.0)
    out = exported_by_partner(run(data))
    # The capped route takes one lot a day; the fallback (weight 0) the rest.
    assert out["partner"] == pytest.approx(out["other"], abs=20.0)
    assert out["partner"] > 0 and out["other"] > 0


def test_full_route_with_no_alternative_holds_lots_upstream():
    data = chain(days=30)
    data["nodes"]["mine"]["production_kg_per_day"] = 20.0
    data["nodes"]["mine"]["lot_interval_days"] = 0.5  # two 10 kg lots a day
    data["routes"]["buyer_partner"]["capacity_kg_per_day"] = 10.0
    t = totals(run(data))
    # One lot a day gets through; the other waits at the buyer.
    assert t["exported"] == pytest.approx(10.0 * 27, abs=20.0)
    assert t["in_stock"] == pytest.approx(10.0 * 28, abs=30.0)


def test_opening_stock_is_sold_at_capacity_and_counted_in_the_balance():
    data = chain(days=20)
    data["nodes"]["mine"]["production_kg_per_day"] = 1e-6
    data["nodes"]["buyer"] = node(
        "buyer",
        capacity_kg_per_day=10.0,
        initial_stock=[{"origin": "mine", "kg": 105.0, "lot_kg": 10.0}],
    )
    results = run(data)
    t = totals(results)
    assert t["opening_stock"] == pytest.approx(105.0)
    opening = rows(results, "opening_stock")
    assert sorted(opening["kg"].round(6)) == [5.0] + [10.0] * 10
    assert t["exported"] == pytest.approx(105.0, abs=1e-3)
    assert results.balance()["ok"].all()


def test_production_noise_has_the_requested_mean_and_spread():
    data = chain(days=2000)
    data["calendar"]["end"] = "2023-06-23"
    data["prices"]["usd_per_oz"] = {str(y): 1000.0 for y in range(2018, 2024)}
    data["nodes"]["mine"]["production_cv"] = 0.5
    produced = rows(run(data, seed=5), "produced")["kg"]
    assert produced.mean() == pytest.approx(10.0, rel=0.05)
    assert produced.std() / produced.mean() == pytest.approx(0.5, rel=0.1)


def test_same_seed_same_ledger_and_other_seed_differs():
    data = chain(days=60)
    data["nodes"]["mine"]["production_cv"] = 0.3
    data["routes"]["mine_buyer"]["transit_days"] = {"dist": "exponential", "mean": 2.0}
    a, b, c = run(data, seed=7), run(data, seed=7), run(data, seed=8)
    pd.testing.assert_frame_equal(a.ledger, b.ledger)
    assert not a.ledger["kg"].equals(c.ledger["kg"])


def test_replications_are_independent_and_reproducible():
    data = chain(days=60)
    data["nodes"]["mine"]["production_cv"] = 0.3
    three = run(data, seed=11, replications=3)
    assert sorted(three.ledger["replication"].unique()) == [0, 1, 2]
    produced = rows(three, "produced").groupby("replication")["kg"].sum()
    assert produced.nunique() == 3
    # Replication k is the same stream whether run alone or with others.
    network = Network.build(flowsim.scenario_from_dict(data))
    child = np.random.SeedSequence(11).spawn(3)[2]
    alone = make_engine(network, np.random.default_rng(child)).run()
    frame = alone.ledger.to_frame(network.node_ids, network.route_ids)
    assert frame["kg"].tolist() == rows_of(three, 2)["kg"].tolist()


def rows_of(results, replication):
    return results.ledger[results.ledger["replication"] == replication]


@pytest.mark.parametrize(
    "dist",
    [
        {"dist": "fixed", "value": 2.0},
        {"dist": "exponential", "mean": 2.0},
        {"dist": "uniform", "low": 1.0, "high": 3.0},
        {"dist": "triangular", "low": 1.0, "mode": 2.0, "high": 3.0},
        {"dist": "lognormal", "mean": 2.0, "cv": 0.5},
    ],
)
def test_transit_distributions_have_their_mean(dist):
    data = chain(days=1500)
    data["calendar"]["end"] = "2022-02-08"
    data["prices"]["usd_per_oz"] = {str(y): 1000.0 for y in range(2018, 2023)}
    data["routes"]["mine_buyer"]["transit_days"] = dist
    results = run(data, seed=2)
    shipped = rows(results, "shipped").query("route == 'mine_buyer'").set_index("lot")["day"]
    delivered = rows(results, "delivered").query("route == 'mine_buyer'").set_index("lot")["day"]
    transit = (delivered - shipped.reindex(delivered.index)).dropna()
    assert transit.mean() == pytest.approx(2.0, rel=0.06)
    assert (transit >= 0).all()


def test_weight_zero_route_is_used_only_when_no_weighted_route_is_open():
    data = chain(days=60)
    data["nodes"]["mine"]["production_cv"] = 0.8  # lots of uneven mass
    data["nodes"]["b"] = node("partner")
    data["nodes"]["fallback"] = node("partner")
    data["routes"]["buyer_b"] = route("buyer", "b", weight=2.0)
    data["routes"]["buyer_fallback"] = route("buyer", "fallback", weight=0.0)
    out = exported_by_partner(run(data, seed=9))
    assert out["fallback"] == 0.0
    assert out["partner"] > 0 and out["b"] > 0


def test_last_lot_covers_only_the_days_left_in_the_calendar():
    data = chain(days=10)
    data["nodes"]["mine"]["lot_interval_days"] = 4.0  # lots at days 0, 4 and 8
    produced = rows(run(data), "produced")["kg"].tolist()
    assert produced == pytest.approx([40.0, 40.0, 20.0])


def test_overrides_apply_to_an_in_memory_scenario_as_to_a_file():
    scenario = flowsim.scenario_from_dict(chain(days=20))
    changed = flowsim.simulate(scenario, overrides={"nodes.mine.production_kg_per_day": 5.0})
    assert totals(changed)["produced"] == pytest.approx(100.0)
    with pytest.raises(flowsim.ScenarioError, match="production_kg_per_day"):
        flowsim.simulate(scenario, overrides=["nodes.mine.production_kg_per_day=-1"])


def test_a_dropped_run_frees_its_tables_without_waiting_for_the_cycle_collector():
    # The engine lives in reference cycles; its tables must not, or a sweep worker
    # would hold the tables of every run until the collector happens to run.
    import gc
    import tracemalloc

    data = chain(days=20_000)  # 20,000 lots, five ledger rows each
    data["prices"]["usd_per_oz"] = {str(y): 1000.0 for y in range(2018, 2073)}
    gc.collect()
    gc.disable()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        results = run(data)
        held = tracemalloc.get_traced_memory()[0] - before
        del results
        left = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
        gc.enable()
    assert held > 2_000_000
    assert left < held / 4
