"""Shipment mode: collections at mines, batches at buyers and refiners.

It must keep every gram (the balance), carry provenance and sanctions as
per-lot mode does, and agree with per-lot mode on what reaches each partner,
with far fewer lots.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from networks import chain, exported_by_partner, node, route, rows, run, totals
from shipped import SHIPPED_SCENARIOS

import flowsim
from flowsim.errors import ScenarioError

ROOT = Path(__file__).resolve().parents[1]
SHIPMENTS = {"granularity": "shipment"}


def shipment_mode(data: dict, **settings: float) -> dict:
    data = dict(data)
    data["simulation"] = {**data.get("simulation", {}), **SHIPMENTS, **settings}
    return data


def fan_out(days: int = 730, mines: int = 6) -> dict:
    """Mines of random lot times and output, two buyers, a refiner, three partners."""
    data = chain(days)
    data["prices"]["usd_per_oz"] = {"2018": 1000.0, "2019": 1100.0}
    nodes = {
        f"m{i}": node(
            "mine",
            production_kg_per_day=1.0 + i,
            production_cv=0.5,
            lot_interval_days={"dist": "exponential", "mean": 1.0},
            legal_status="illegal" if i % 2 else "licensed",
        )
        for i in range(mines)
    }
    nodes |= {
        "b0": node("buyer", processing_days={"dist": "exponential", "mean": 0.3}, servers=2),
        "b1": node("buyer", processing_days={"dist": "exponential", "mean": 0.3}, servers=2),
        "ref": node("refiner", output_purity=0.9999, servers=3),
        "tur": node("partner"),
        "are": node("partner", jurisdiction="ARE"),
        "che": node("partner", jurisdiction="CHE"),
    }
    routes = {f"m{i}_b": route(f"m{i}", f"b{i % 2}") for i in range(mines)}
    routes |= {
        "b0_ref": route("b0", "ref"),
        "b1_ref": route("b1", "ref"),
        "ref_tur": route("ref", "tur", weight=3.0),
        "ref_are": route("ref", "are", weight=2.0),
        "ref_che": route("ref", "che", weight=1.0, seizure_probability=0.05),
    }
    data["nodes"], data["routes"] = nodes, routes
    return data


@pytest.mark.parametrize("path", SHIPPED_SCENARIOS, ids=lambda p: p.stem)
def test_every_shipped_scenario_balances_in_shipment_mode(path):
    results = flowsim.simulate(path, seed=4, overrides=['simulation.granularity="shipment"'])
    assert results.balance()["ok"].all()  # simulate also checked it node by node
    summary = results.summary()
    for partner in summary["exposure_by_partner"].values():
        for name, value in partner.items():
            if name.endswith("_share"):
                assert 0.0 <= value <= 1.0


def test_a_collection_holds_the_days_until_the_next_one():
    # A fixed lot interval and no noise: each collection holds exactly its days of output.
    data = shipment_mode(chain(days=30), collection_days=7.0)
    produced = rows(run(data), "produced")
    # The first collection falls at a random day of the first cycle, then every 7 days.
    gaps = produced["day"].diff().dropna()
    assert gaps.iloc[1:].to_numpy() == pytest.approx(7.0)
    assert produced["kg"].sum() == pytest.approx(300.0)
    assert produced["kg"].iloc[1:-1].to_numpy() == pytest.approx(70.0)


def test_a_shipment_is_split_over_routes_exactly_by_weight():
    data = chain(days=60)
    data["nodes"]["other"] = node("partner")
    data["routes"]["buyer_partner"]["weight"] = 3.0
    data["routes"]["buyer_other"] = route("buyer", "other", weight=1.0)
    shipped = rows(run(shipment_mode(data)), "shipped")
    from_buyer = shipped[shipped["node"] == "buyer"].groupby("route", observed=True)["kg"].sum()
    assert from_buyer["buyer_partner"] == pytest.approx(3.0 * from_buyer["buyer_other"])


def test_shipment_mode_makes_far_fewer_lots_and_agrees_on_exports_by_partner():
    data = fan_out()
    per_lot = run(data, seed=1, replications=6)
    shipments = run(shipment_mode(data), seed=1, replications=6)
    assert shipments.runs["lots"].sum() < per_lot.runs["lots"].sum() / 2
    by_lot = per_lot.exports_by_partner().groupby("partner")["kg"].mean()
    by_shipment = shipments.exports_by_partner().groupby("partner")["kg"].mean()
    # Six replications of two years: about 1% of chance difference between the modes.
    assert by_shipment.to_dict() == pytest.approx(by_lot.to_dict(), rel=0.04)
    # The share of illegal gold at each partner is a matter of provenance, not of chance.
    for partner in ("tur", "are", "che"):
        lot_share = per_lot.summary()["exposure_by_partner"][partner]["illegal_origin_share"]
        shipment_share = shipments.summary()["exposure_by_partner"][partner]["illegal_origin_share"]
        assert shipment_share == pytest.approx(lot_share, abs=0.03)


def test_consolidation_keeps_sanctioned_gold_apart_so_refusals_match_per_lot_mode():
    # Half the mines are in a sanctioned jurisdiction; Turkey complies, the UAE does not.
    data = fan_out(days=365)
    for i in range(0, 6, 2):
        data["nodes"][f"m{i}"]["jurisdiction"] = "PER"
    data["policies"] = {
        "sanctions": {
            "ven": {
                "issuer": "USA",
                "effective": "2018-03-01",
                "target_jurisdictions": ["VEN"],
                "default_compliance": 0.0,
                "compliance": {"tur": 1.0},
            }
        }
    }
    per_lot = run(data, seed=2, replications=3)
    shipments = run(shipment_mode(data), seed=2, replications=3)
    for results in (per_lot, shipments):
        exposure = results.summary()["exposure_by_partner"]["tur"]
        # Only Peruvian gold reaches the complying partner once the sanction applies.
        receipts = results.receipts[
            (results.receipts["node"] == "tur") & (results.receipts["day"] > 70)
        ]
        assert not receipts["sanctioned_jurisdiction"].any()
        assert exposure["sanctioned_jurisdiction_share"] < 0.2
    refused = {
        name: rows(results, "refused")["kg"].sum()
        / results.replications
        / totals(results)["produced"]
        for name, results in (("lot", per_lot), ("shipment", shipments))
    }
    assert refused["shipment"] == pytest.approx(refused["lot"], abs=0.05)


def test_a_raid_seizes_what_waits_for_the_next_batch():
    data = shipment_mode(chain(days=60), collection_days=1.0, batch_days=10.0)
    data["policies"] = {
        "raids": {
            "hit": {
                "date": "2018-01-20",
                "nodes": ["buyer"],
                "stock_seized": 1.0,
                "capacity_loss": 0.0,
            }
        }
    }
    results = run(data)
    seized = rows(results, "seized")
    assert seized["kg"].sum() > 0.0
    assert (seized["node"] == "buyer").all()
    assert results.balance()["ok"].all()


def test_route_capacity_holds_what_does_not_fit_and_keeps_the_daily_rate():
    data = shipment_mode(chain(days=70), collection_days=7.0)
    data["routes"]["mine_buyer"]["capacity_kg_per_day"] = 5.0  # half of what the mine makes
    results = run(data)
    shipped = rows(results, "shipped")
    on_route = shipped[shipped["route"] == "mine_buyer"]
    # Never more than the capacity allows since the start (the room starts full).
    carried = on_route.groupby("day")["kg"].sum().cumsum()
    assert (carried.to_numpy() <= 5.0 * (carried.index.to_numpy() + 7.0) + 1e-9).all()
    assert carried.iloc[-1] == pytest.approx(5.0 * 70.0, rel=0.1)
    assert totals(results)["in_stock"] > 250.0  # the rest waits at the mine
    assert results.balance()["ok"].all()


@pytest.mark.parametrize("key", ["collection_days", "batch_days"])
@pytest.mark.parametrize("days", [0.0, 1e-6, 0.04])
def test_an_interval_shorter_than_an_hour_is_refused(key, days):
    with pytest.raises(ScenarioError, match=f"simulation.{key}"):
        flowsim.scenario_from_dict(shipment_mode(chain(days=30), **{key: days}))


def test_shipment_mode_repeats_with_its_seed():
    data = shipment_mode(fan_out(days=200))
    first, second = run(data, seed=9), run(data, seed=9)
    assert exported_by_partner(first) == exported_by_partner(second)
    assert first.ledger.equals(second.ledger)


def test_what_a_full_route_cannot_take_goes_down_the_other():
    data = shipment_mode(chain(days=70), collection_days=7.0)
    data["nodes"]["other"] = node("buyer")
    data["routes"]["mine_buyer"]["capacity_kg_per_day"] = 2.0  # a fifth of the output
    data["routes"]["mine_other"] = route("mine", "other")
    data["routes"]["other_partner"] = route("other", "partner")
    results = run(data)
    shipped = rows(results, "shipped")
    from_mine = shipped[shipped["node"] == "mine"].groupby("route", observed=True)["kg"].sum()
    assert from_mine["mine_buyer"] == pytest.approx(2.0 * 70.0, rel=0.15)
    assert from_mine["mine_other"] == pytest.approx(700.0 - from_mine["mine_buyer"])
    held = results.end_state.set_index("node")["kg"]
    assert held["mine"] == pytest.approx(0.0, abs=1e-9)  # nothing waits at the mine
