"""Lots that no route takes are held, and offered again when a route may open: a
sanction lapsing or changing, a raid's hold ending, a full route's capacity renewing.
They are never retried on a clock, so holding costs time in proportion to the lots."""

from __future__ import annotations

import pytest
from networks import chain, node, route, rows, run, totals
from test_levers import sanction, two_partners


def exports_to(results, partner: str):
    exported = rows(results, "exported")
    return exported[exported["node"] == partner]


def shipped_from(results, where: str):
    shipped = rows(results, "shipped")
    return shipped[shipped["route"].astype(str).str.startswith(f"{where}_")]


@pytest.mark.parametrize("granularity", ["lot", "shipment"])
def test_held_gold_leaves_on_the_day_a_fully_complied_sanction_lapses(granularity):
    data = two_partners(days=120)
    data["simulation"] = {"granularity": granularity, "batch_days": 1.0, "collection_days": 1.0}
    # Every partner complies in full from day 31 to day 58: no route out of the mine
    # leads to a partner that takes its gold, so the mine holds it.
    data["policies"] = sanction(compliance={"usa": 1.0, "tur": 1.0}, until="2018-02-28")
    results = run(data)
    shipped = shipped_from(results, "mine")
    during = shipped[(shipped["day"] >= 31) & (shipped["day"] < 59)]
    assert during.empty
    # On day 59 (the first day out of force) the held gold leaves at once, all of it.
    first = shipped[shipped["day"] >= 59]["day"].min()
    assert first == pytest.approx(59.0)
    held_then = shipped[shipped["day"] == first]["kg"].sum()
    assert held_then > 25 * 10.0 * 0.9
    assert totals(results)["in_stock"] < 10.0 * 3
    assert results.balance()["ok"].all()


def test_held_gold_leaves_when_compliance_falls_on_a_date():
    data = two_partners(days=120)
    data["policies"] = sanction(
        compliance={"usa": 1.0, "tur": 1.0},
        compliance_changes=[{"partner": "tur", "date": "2018-03-10", "level": 0.0}],
    )
    results = run(data)
    tur = exports_to(results, "tur")
    assert tur[(tur["day"] >= 36) & (tur["day"] < 68 + 5)].empty
    shipped = shipped_from(results, "mine")
    assert shipped[shipped["day"] >= 68]["day"].min() == pytest.approx(68.0)


def test_gold_held_while_a_raid_closes_the_buyer_leaves_when_the_hold_ends():
    data = chain(days=90)
    data["policies"] = {
        "raids": {
            "closure": {
                "date": "2018-02-01",
                "nodes": ["buyer"],
                "capacity_loss": 1.0,
                "hold_days": 10.0,
                "recovery_days": 5.0,
            }
        }
    }
    results = run(data)
    shipped = shipped_from(results, "mine")
    # The mine holds its lots from day 31; the routes into the buyer open after day 41.
    assert shipped[(shipped["day"] > 31) & (shipped["day"] <= 41)].empty
    after = shipped[shipped["day"] > 41]
    assert after["day"].min() == pytest.approx(41.0)
    assert after[after["day"] == after["day"].min()]["kg"].sum() == pytest.approx(100.0, rel=0.11)
    assert results.balance()["ok"].all()


@pytest.mark.parametrize("granularity", ["lot", "shipment"])
def test_a_raid_that_seizes_the_stock_takes_the_held_lots_too(granularity):
    data = two_partners(days=90)
    data["simulation"] = {"granularity": granularity, "batch_days": 1.0, "collection_days": 1.0}
    data["policies"] = {
        **sanction(compliance={"usa": 1.0, "tur": 1.0}),
        "raids": {
            "sting": {
                "date": "2018-03-01",
                "nodes": ["mine"],
                "capacity_loss": 0.0,
                "stock_seized": 1.0,
            }
        },
    }
    results = run(data)
    seized = results.seizures
    stock = seized[seized["seized_in"] == "stock"]
    # Everything held at the mine from day 31 to day 59 is taken on day 59.
    assert stock["kg"].sum() == pytest.approx(10.0 * (59 - 31 + 1), rel=0.1)
    assert results.balance()["ok"].all()
    end = results.end_state.set_index("node")["kg"]
    assert end["mine"] == pytest.approx(10.0 * (89 - 59), rel=0.1)


def test_a_raid_that_seizes_part_of_the_stock_leaves_the_rest_held():
    data = two_partners(days=90)
    data["policies"] = {
        **sanction(compliance={"usa": 1.0, "tur": 1.0}, until="2018-03-15"),
        "raids": {
            "sting": {
                "date": "2018-03-01",
                "nodes": ["mine"],
                "capacity_loss": 0.0,
                "stock_seized": 0.25,
            }
        },
    }
    results = run(data)
    seized = results.seizures
    taken = seized[seized["seized_in"] == "stock"]["kg"].sum()
    shipped = shipped_from(results, "mine")
    # In force to 15 March (day 73): on day 74 the three quarters left leave, with the
    # lots of days 59 to 74.
    released = shipped[shipped["day"] == 74.0]["kg"].sum()
    assert released == pytest.approx(3 * taken + 10.0 * (74 - 59 + 1), rel=1e-9)
    assert results.balance()["ok"].all()


def test_lots_waiting_for_room_leave_first_come_first_served():
    data = chain(days=30)
    data["nodes"]["mine"]["production_kg_per_day"] = 20.0
    data["nodes"]["mine"]["lot_interval_days"] = 0.5  # two 10 kg lots a day
    data["routes"]["buyer_partner"]["capacity_kg_per_day"] = 10.0  # room for one a day
    results = run(data)
    shipped = rows(results, "shipped")
    out = shipped[shipped["route"] == "buyer_partner"].sort_values(["day", "lot"])
    assert (out.groupby(out["day"].astype(int))["kg"].sum() <= 10.0 + 1e-9).all()
    # The lots leave in the order they reached the buyer.
    delivered = rows(results, "delivered")
    arrival = delivered[delivered["node"] == "buyer"].set_index("lot")["day"]
    order = arrival.reindex(out["lot"]).to_numpy()
    assert (order[1:] >= order[:-1]).all()


def test_a_lot_held_for_room_does_not_wait_for_a_lever():
    """Room renews each day even with no lever in the scenario."""
    data = chain(days=20)
    data["nodes"]["mine"]["production_kg_per_day"] = 20.0
    data["nodes"]["mine"]["lot_interval_days"] = 0.5
    data["routes"]["buyer_partner"]["capacity_kg_per_day"] = 10.0
    shipped = rows(run(data), "shipped")
    days = shipped[shipped["route"] == "buyer_partner"]["day"].astype(int)
    assert set(range(2, 19)) <= set(days)


def test_holding_many_lots_costs_no_more_events_than_moving_them():
    """The cost of a held lot is its own, not one retry a day (make bench times it)."""
    import numpy as np

    from flowsim.engine import make_engine
    from flowsim.engine.simpy_adapter import events_scheduled
    from flowsim.network import Network
    from flowsim.scenario import scenario_from_dict

    def events(compliance: float) -> tuple[int, int]:
        data = two_partners(days=400)
        data["prices"]["usd_per_oz"]["2019"] = 1000.0
        data["nodes"]["mine"]["lot_interval_days"] = 0.05
        data["policies"] = sanction(
            effective="2018-01-01", compliance={"usa": compliance, "tur": compliance}
        )
        engine = make_engine(Network.build(scenario_from_dict(data)), np.random.default_rng(0))
        out = engine.run()
        return events_scheduled(engine.env), out.lots

    held_events, lots = events(1.0)
    flowing_events, _ = events(0.0)
    assert lots > 7000
    assert held_events < flowing_events


def test_a_partner_refusing_in_part_still_sees_held_lots_again_after_a_lapse():
    data = two_partners(days=120)
    data["nodes"]["other"] = node("partner", jurisdiction="CHE", entity="Swiss refiners")
    data["routes"]["buyer_other"] = route("buyer", "other", transit_days=5.0)
    data["policies"] = sanction(
        compliance={"usa": 1.0, "tur": 1.0, "other": 1.0}, until="2018-02-28"
    )
    results = run(data)
    assert totals(results)["in_stock"] < 10.0 * 3
    assert exports_to(results, "other")["day"].max() > 59
