"""Each lever moves exports in the right direction on a small network."""

from __future__ import annotations

import pytest
from networks import chain, node, route, rows, run, totals


def two_partners(days: int = 120) -> dict:
    """mine (VEN) -> buyer -> {usa, tur}, split evenly."""
    data = chain(days=days)
    data["nodes"]["usa"] = node("partner", jurisdiction="USA", entity="US refiners")
    data["nodes"]["tur"] = node("partner", jurisdiction="TUR", entity="Turkish refiners")
    del data["nodes"]["partner"]
    del data["routes"]["buyer_partner"]
    data["routes"]["buyer_usa"] = route("buyer", "usa", transit_days=5.0)
    data["routes"]["buyer_tur"] = route("buyer", "tur", transit_days=5.0)
    return data


def sanction(**fields) -> dict:
    rule = {
        "issuer": "USA",
        "effective": "2018-02-01",
        "target_jurisdictions": ["VEN"],
        "compliance": {"usa": 1.0, "tur": 0.0},
    }
    rule.update(fields)
    return {"sanctions": {"eo": rule}}


def monthly(results, partner):
    table = results.exports_monthly
    return table[table["partner"] == partner].set_index("month")["kg"]


def test_sanction_stops_a_compliant_partners_imports_after_its_date():
    base = run(two_partners())
    data = two_partners()
    data["policies"] = sanction()
    sanctioned = run(data)
    exports = rows(sanctioned, "exported")
    # Day 31 is 2018-02-01. Lots that left Venezuela before it are not tainted
    # and still arrive (five days on the road); nothing shipped later does.
    usa = exports[exports["node"] == "usa"]["day"]
    assert usa.max() < 31 + 5 + 0.01
    assert (usa > 31).any()
    # Before the date both partners are served as in the baseline.
    assert monthly(sanctioned, "usa").iloc[0] == pytest.approx(monthly(base, "usa").iloc[0])
    # The gold goes to the partner that does not comply, and none is lost.
    assert monthly(sanctioned, "tur").iloc[2] > monthly(base, "tur").iloc[2]
    assert totals(sanctioned)["exported"] <= totals(base)["exported"] + 1e-9


def test_stock_held_at_a_target_when_it_is_designated_is_tainted():
    data = two_partners(days=90)
    # A slow buyer: lots queue there for weeks before they leave.
    data["nodes"]["buyer"].update(entity="Designated Buyer", capacity_kg_per_day=5.0)
    data["policies"] = sanction(target_jurisdictions=[], target_entities=["Designated Buyer"])
    results = run(data)
    exports = rows(results, "exported")
    delivered = rows(results, "delivered").set_index("lot")["day"]
    usa = exports[exports["node"] == "usa"]
    # Every lot that reached usa left the buyer before the date.
    assert (usa["day"] < 31 + 5 + 0.01).all()
    tur = exports[(exports["node"] == "tur") & (exports["day"] > 40)]
    assert (delivered.reindex(tur["lot"]) < 31).any()  # arrived before, left after


def test_refused_lots_travel_back_and_are_rerouted():
    data = two_partners(days=200)
    data["policies"] = sanction(compliance={"usa": 0.5, "tur": 0.0})
    results = run(data, seed=1)
    refused = rows(results, "refused")
    assert len(refused) >= 5
    assert set(refused["node"]) == {"usa"}
    assert results.balance()["ok"].all()
    # Each refused lot comes back to the buyer and is sent to tur instead.
    exported = rows(results, "exported").set_index("lot")["node"]
    # Back and on again takes ten days; later refusals may still be travelling.
    settled = refused[refused["day"] < 200 - 11]["lot"]
    assert (exported.reindex(settled) == "tur").all()


def test_partial_compliance_refuses_about_that_share():
    data = two_partners(days=365)
    data["policies"] = sanction(compliance={"usa": 0.5, "tur": 0.0})
    results = run(data, seed=4)
    exported = rows(results, "exported")
    refused = rows(results, "refused")
    offered = len(refused) + len(exported[(exported["node"] == "usa") & (exported["day"] >= 31)])
    assert len(refused) / offered == pytest.approx(0.5, abs=0.1)


def test_sanction_with_an_end_date_lets_imports_resume():
    data = two_partners(days=120)
    data["policies"] = sanction(until="2018-02-28")  # in force on days 31 to 58
    exports = rows(run(data), "exported")
    usa = exports[exports["node"] == "usa"]["day"]
    assert not usa[(usa >= 37) & (usa < 59 + 5)].any()
    assert usa[usa >= 59 + 5].any()


def test_entity_sanction_taints_only_gold_that_passed_the_target_after_designation():
    data = two_partners(days=120)
    data["nodes"]["buyer"]["entity"] = "Designated Refinery"
    data["policies"] = sanction(target_jurisdictions=[], target_entities=["Designated Refinery"])
    exports = rows(run(data), "exported")
    usa = exports[exports["node"] == "usa"]
    assert not usa[usa["day"] >= 36].shape[0]  # nothing shipped after the date arrives
    assert usa[usa["day"] < 31].shape[0] > 0


def test_discount_lowers_value_at_partners_that_accept_tainted_gold():
    data = two_partners(days=60)
    data["policies"] = sanction(discount=0.2)
    exports = rows(run(data), "exported")
    tur = exports[exports["node"] == "tur"]
    unit = tur["usd"] / tur["kg"]
    early, late = unit[tur["day"] < 31], unit[tur["day"] > 40]
    assert late.mean() == pytest.approx(0.8 * early.mean())


def test_with_no_partner_left_gold_is_held_upstream():
    data = two_partners(days=90)
    data["policies"] = sanction(compliance={"usa": 1.0, "tur": 1.0})
    t = totals(run(data))
    assert t["in_stock"] > 0
    exported = rows(run(data), "exported")
    assert exported["day"].max() < 31 + 6


def test_disabled_sanction_changes_nothing():
    base = run(two_partners())
    data = two_partners()
    data["policies"] = sanction(enabled=False)
    assert totals(run(data)) == totals(base)


def raid(**fields) -> dict:
    rule = {"date": "2018-02-01", "nodes": ["mine"], "capacity_loss": 0.6, "recovery_days": 30}
    rule.update(fields)
    return {"raids": {"hit": rule}}


def test_raid_cuts_the_raided_mines_output_which_then_recovers():
    data = chain(days=120)
    data["nodes"]["other_mine"] = node("mine")
    data["routes"]["other_buyer"] = route("other_mine", "buyer")
    data["policies"] = raid()
    produced = rows(run(data), "produced")
    raided = produced[produced["node"] == "mine"].set_index("day")["kg"]
    other = produced[produced["node"] == "other_mine"].set_index("day")["kg"]
    # Day 31 is the raid: 40% of capacity left, back to full 30 days later.
    assert raided[31.0] == pytest.approx(4.0)
    assert raided[46.0] == pytest.approx(7.0)
    assert raided[61.0] == pytest.approx(10.0)
    assert raided[30.0] == pytest.approx(10.0)
    assert (other == 10.0).all()


def test_raid_seizes_a_share_of_the_stock_on_site():
    data = chain(days=60)
    data["nodes"]["buyer"] = node("refiner", capacity_kg_per_day=5.0)  # a queue builds
    data["policies"] = raid(nodes=["buyer"], capacity_loss=0.0, stock_seized=0.5)
    results = run(data)
    seized = results.seizures
    assert set(seized["seized_in"]) == {"stock"}
    assert set(seized["node"]) == {"buyer"}
    before = results.stocks_monthly
    jan = before[(before["node"] == "buyer")]["kg"].iloc[0]
    # The queue held about 150 kg on day 31; half of it is taken.
    assert seized["kg"].sum() == pytest.approx((jan + 10.0 - 5.0) / 2, rel=0.1)
    assert results.balance()["ok"].all()


def test_raid_raises_seizures_on_nearby_routes_for_a_while():
    data = chain(days=120)
    data["policies"] = raid(capacity_loss=0.0, route_seizure_increase=1.0, route_seizure_days=10.0)
    seized = run(data).seizures
    assert set(seized["route"]) == {"mine_buyer"}
    assert seized["day"].min() >= 31 and seized["day"].max() < 41


def test_poisson_raids_fall_at_about_their_rate_inside_the_window():
    data = chain(days=365)
    data["nodes"]["mine2"] = node("mine")
    data["routes"]["mine2_buyer"] = route("mine2", "buyer")
    data["policies"] = {
        "raids": {
            "stings": {
                "rate_per_year": 24.0,
                "window_start": "2018-03-01",
                "window_end": "2018-08-31",
                "region": "north",
                "pick": "one",
                "capacity_loss": 0.0,
                "stock_seized": 0.0,
                "route_seizure_increase": 1.0,
                "route_seizure_days": 1.0,
            }
        }
    }
    counts = []
    for seed in range(20):
        seized = run(data, seed=seed).seizures
        assert seized.empty or (seized["day"].between(59, 243 + 1)).all()
        counts.append(len(seized[["day", "route"]].drop_duplicates()))
    # 24 a year over half a year is 12 raids; each raid's one-day window on the
    # raided mine's route catches the one lot that arrives in it.
    assert sum(counts) / len(counts) == pytest.approx(12, rel=0.35)


def fuel(**fields) -> dict:
    rule = {
        "region": "north",
        "start": "2018-02-01",
        "end": "2018-02-28",
        "supply_cut": 1.0,
        "black_market_share": 0.25,
        "black_market_premium": 0.4,
        "fuel_price_usd_per_gal": 3.0,
    }
    rule.update(fields)
    return {"fuel_restrictions": {"quota": rule}}


def test_fuel_cut_lowers_production_in_its_region_and_nowhere_else():
    data = chain(days=90)
    data["nodes"]["mine"].update(fuel_dependence=0.8, fuel_gal_per_kg=100.0)
    data["nodes"]["south_mine"] = node("mine", region="south", fuel_dependence=0.8)
    data["routes"]["south_buyer"] = route("south_mine", "buyer")
    data["policies"] = fuel()
    results = run(data)
    produced = rows(results, "produced")
    north = produced[produced["node"] == "mine"].set_index("day")["kg"]
    south = produced[produced["node"] == "south_mine"]["kg"]
    # 80% dependent, all supply cut, a quarter made up on the black market.
    assert north[40.0] == pytest.approx(10.0 * (1 - 0.8 * 0.75))
    assert north[30.0] == pytest.approx(10.0)
    assert north[60.0] == pytest.approx(10.0)
    assert (south == 10.0).all()
    # Premium: 28 days x 4 kg x 100 gal/kg x 25% black x $3 x 40%.
    premium = results.summary()["black_market_fuel_premium_usd"]
    assert premium == pytest.approx(28 * 4.0 * 100.0 * 0.25 * 3.0 * 0.4)


def test_fuel_region_can_differ_from_the_mines_region():
    data = chain(days=60)
    data["nodes"]["mine"].update(fuel_dependence=1.0, fuel_region="river")
    data["nodes"]["other"] = node("mine", fuel_dependence=1.0)
    data["routes"]["other_buyer"] = route("other", "buyer")
    data["policies"] = fuel(region="river", black_market_share=0.0)
    produced = rows(run(data), "produced")
    north = produced[produced["node"] == "mine"].set_index("day")["kg"]
    other = produced[produced["node"] == "other"].set_index("day")["kg"]
    assert 40.0 not in north.index  # no fuel, no gold: no lot at all
    assert north[30.0] == pytest.approx(10.0)
    assert other[40.0] == pytest.approx(10.0)


def test_compliance_can_rise_on_a_date():
    data = two_partners(days=120)
    data["policies"] = sanction(
        compliance={"usa": 0.0, "tur": 0.0},
        compliance_changes=[{"partner": "usa", "date": "2018-03-01", "level": 1.0}],
    )
    usa = rows(run(data), "exported").query("node == 'usa'")["day"]
    # Untouched by the order until 1 March (day 59); then nothing shipped later arrives.
    assert usa[(usa > 40) & (usa < 59)].any()
    assert usa.max() < 59 + 5 + 0.01


def interdiction(**fields) -> dict:
    rule = {
        "start": "2018-02-01",
        "end": "2018-02-28",
        "into_jurisdictions": ["TUR"],
        "seizure_increase": 1.0,
    }
    rule.update(fields)
    return {"interdictions": {"op": rule}}


def test_interdiction_raises_seizures_on_routes_into_a_jurisdiction_during_its_window():
    data = two_partners(days=90)
    data["policies"] = interdiction()
    seized = run(data).seizures
    assert set(seized["route"]) == {"buyer_tur"}
    assert seized["day"].between(31, 59).all()
    assert len(seized) >= 10


def test_interdiction_on_named_routes_only():
    data = two_partners(days=90)
    data["policies"] = interdiction(into_jurisdictions=[], routes=["buyer_usa"])
    assert set(run(data).seizures["route"]) == {"buyer_usa"}


def test_corruption_releases_a_share_of_seizures():
    data = two_partners(days=200)
    data["routes"]["buyer_tur"]["seizure_probability"] = 0.5
    data["routes"]["buyer_tur"]["release_share"] = 0.4
    results = run(data, seed=2)
    seized, released = len(rows(results, "seized")), len(rows(results, "released"))
    assert released / (seized + released) == pytest.approx(0.4, abs=0.12)
    assert results.balance()["ok"].all()
    # A released lot goes on to the partner.
    exported = rows(results, "exported").set_index("lot")
    assert exported.reindex(rows(results, "released")["lot"])["node"].eq("tur").mean() > 0.9


def test_interdiction_can_override_corruption_for_its_window():
    data = two_partners(days=90)
    data["policies"] = interdiction(release_share=1.0)
    results = run(data)
    assert results.seizures.empty
    assert len(rows(results, "released")) >= 10


def test_sustained_enforcement_holds_the_loss_before_recovery():
    data = chain(days=150)
    data["policies"] = raid(capacity_loss=0.8, hold_days=40, recovery_days=20)
    produced = rows(run(data), "produced").set_index("day")["kg"]
    assert produced[31.0] == pytest.approx(2.0)
    assert produced[70.0] == pytest.approx(2.0)  # still held on day 70 (raid day 31 + 39)
    assert produced[81.0] == pytest.approx(2.0 + 8.0 * 10 / 20)  # half recovered
    assert produced[91.0] == pytest.approx(10.0)
