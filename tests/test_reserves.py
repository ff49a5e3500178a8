"""Reserves: gold held from the start that leaves only as it is sold, on a schedule or in
dated sales, with exact expected flows on tiny networks."""

from __future__ import annotations

import pandas as pd
import pytest
from networks import chain, node, route, rows, run

import flowsim


def _bank(days: int = 90, **reserve) -> dict:
    """mine -> bank -> partner, and bank -> other, a route of weight 0 that takes gold
    only when sent down it by name; the bank holds 1,000 kg of the mine's gold."""
    data = chain(days)
    data["nodes"]["buyer"]["reserve"] = {"kg": 1000.0, "origin": "mine", **reserve}
    data["nodes"]["other"] = node("partner", jurisdiction="ARE")
    data["routes"]["buyer_other"] = route("buyer", "other", weight=0.0)
    return data


def _levels(results: flowsim.Results) -> list[float]:
    table = results.reserves
    assert (table["node"] == "buyer").all()
    return table.sort_values("month")["kg"].tolist()


def _exported_to(results: flowsim.Results, partner: str) -> pd.DataFrame:
    exported = rows(results, "exported")
    return exported[exported["node"] == partner]


@pytest.mark.parametrize("granularity", ["lot", "shipment"])
def test_a_dated_sale_reaches_its_buyer_in_its_month_exactly(granularity):
    data = _bank(sales=[{"date": "2018-02-10", "kg": 300.0, "to": "other"}])
    data["simulation"] = {"granularity": granularity}
    results = run(data)
    to_other = _exported_to(results, "other")
    assert to_other["kg"].sum() == pytest.approx(300.0, rel=1e-12)
    assert to_other["day"].tolist() == [41.0]  # shipped on 10 February, a day's transit
    monthly = results.exports_monthly
    february = monthly[(monthly["partner"] == "other") & (monthly["month"] == "2018-02-01")]
    assert february["kg"].sum() == pytest.approx(300.0, rel=1e-12)
    assert _levels(results) == pytest.approx([1000.0, 700.0, 700.0])


def test_scheduled_sales_spread_a_month_over_its_days():
    data = _bank(sales_kg_per_month={"2018-01-01": 310.0, "2018-02-01": 0.0, "2018-03-01": 62.0})
    results = run(data)
    # January: 10 kg a day; February nothing; March 2 kg a day.
    assert _levels(results) == pytest.approx([690.0, 690.0, 628.0])
    shipped = rows(results, "shipped")
    sold = shipped[(shipped["node"] == "buyer") & (shipped["day"] % 1 == 0)]
    assert sold[sold["day"] < 31]["kg"].tolist() == pytest.approx([10.0] * 31)


def test_in_shipment_mode_a_reserve_sells_a_batch_of_days_at_once_on_their_middle_day():
    data = _bank(sales_kg_per_month={"2018-01-01": 310.0, "2018-02-01": 0.0, "2018-03-01": 62.0})
    data["simulation"] = {"granularity": "shipment", "batch_days": 7.0}
    results = run(data)
    shipped = rows(results, "shipped")
    sold = shipped[(shipped["node"] == "buyer") & (shipped["day"] % 1 == 0)]
    # Days 0-6, 7-13, ...: 70 kg on day 3, 10, 17, 24; days 28-34 hold January's last
    # three days (30 kg) and four of February (none), sold on day 31.
    january = sold[sold["day"] < 35]
    assert january["day"].tolist() == [3.0, 10.0, 17.0, 24.0, 31.0]
    assert january["kg"].tolist() == pytest.approx([70.0] * 4 + [30.0])
    # What is sold is what per-lot mode sells, to the gram; the month-end levels differ
    # by at most the days of a batch that straddle the month.
    data["simulation"] = {"granularity": "lot"}
    assert sold["kg"].sum() == pytest.approx(310.0 + 62.0, rel=1e-12)
    assert _levels(run(data))[-1] == pytest.approx(_levels(results)[-1])


def test_a_reserve_sells_what_it_has_left_and_then_nothing():
    data = _bank(
        sales_kg_per_month=600.0,
        sales=[{"date": "2018-01-15", "kg": 5000.0, "to": "other"}],
    )
    results = run(data)
    assert _levels(results) == [0.0, 0.0, 0.0]
    # Up to 15 January, 15 days of about 19.35 kg (on the 15th the day's scheduled sale
    # goes first); the dated sale takes the rest.
    sold_by_name = _exported_to(results, "other")["kg"].sum()
    assert sold_by_name == pytest.approx(1000.0 - 15 * 600.0 / 31)
    totals = results.summary()["totals_kg"]
    assert totals["opening_stock"] == pytest.approx(1000.0)


def test_gold_sold_after_a_designation_carries_it():
    data = _bank(sales=[{"date": "2018-02-10", "kg": 300.0, "to": "other"}])
    data["policies"] = {
        "sanctions": {
            "bank": {
                "issuer": "USA",
                "effective": "2018-02-01",
                "target_entities": ["buyer operator"],
                "compliance": {"other": 1.0},
            }
        }
    }
    results = run(data)
    # The buyer it was sold to refuses every lot the designation touched, so its route
    # does not take the sale: it is held, and goes to the partner that takes it.
    assert _exported_to(results, "other").empty
    receipts = results.receipts
    at_partner = receipts[receipts["node"] == "partner"]
    touched = at_partner[at_partner["touched_designated_entity"]]
    assert touched["kg"].eq(300.0).sum() == 1  # the sale, as one lot
    assert (at_partner[at_partner["day"] < 32]["touched_designated_entity"]).sum() == 0
    assert _levels(results) == pytest.approx([1000.0, 700.0, 700.0])


def test_a_reserve_round_trips_through_the_run_folder(tmp_path):
    results = run(_bank(sales_kg_per_month=100.0))
    folder = results.save(tmp_path / "run")
    again = flowsim.Results.load(folder)
    pd.testing.assert_frame_equal(again.reserves, results.reserves, check_dtype=False)
    assert not results.reserves.empty


def test_a_run_without_reserves_has_an_empty_table(tmp_path):
    results = run(chain(10))
    assert results.reserves.empty
    assert list(results.reserves.columns) == ["replication", "month", "node", "kg"]
    again = flowsim.Results.load(results.save(tmp_path / "run"))
    assert again.reserves.empty


@pytest.mark.parametrize(
    ("reserve", "key", "words"),
    [
        ({"origin": "partner"}, "nodes.buyer.reserve.origin", "'partner' is not a mine"),
        (
            {"sales": [{"date": "2018-02-10", "kg": 1.0, "to": "mine"}]},
            "nodes.buyer.reserve.sales[0].to",
            "not a node that buyer has a route to",
        ),
        (
            {"sales": [{"date": "2019-02-10", "kg": 1.0, "to": "other"}]},
            "nodes.buyer.reserve.sales[0].date",
            "outside the calendar",
        ),
        ({"kg": 0.0}, "nodes.buyer.reserve.kg", "greater than 0"),
    ],
)
def test_a_wrong_reserve_is_named_by_its_key(reserve, key, words):
    data = _bank()
    data["nodes"]["buyer"]["reserve"].update(reserve)
    with pytest.raises(flowsim.ScenarioError) as caught:
        flowsim.scenario_from_dict(data)
    found = [(i.path, i.message) for i in caught.value.issues]
    assert any(path == key and words in message for path, message in found), found


def test_a_node_fed_only_by_its_reserve_is_a_source_of_gold():
    data = _bank(sales_kg_per_month=100.0)
    data["nodes"]["bank"] = node("buyer", reserve={"kg": 50.0, "origin": "mine"})
    data["nodes"]["bank"]["reserve"]["sales_kg_per_month"] = 100.0
    data["routes"]["bank_other"] = route("bank", "other")
    results = run(data)
    assert _exported_to(results, "other")["kg"].sum() == pytest.approx(50.0)


def test_a_reserve_level_is_a_metric_a_rule_can_check():
    data = _bank(sales_kg_per_month=100.0)
    data["expect"] = [
        {
            "name": "the reserve lasts",
            "metric": "reserve_kg_end_of_month.buyer.2018-02",
            "at_least": 799.0,
            "at_most": 801.0,
        }
    ]
    results = run(data)
    metrics = results.metrics().set_index("metric")["value"]
    assert metrics["reserve_kg_end_of_month.buyer.2018-01"] == pytest.approx(900.0)
    scenario = flowsim.scenario_from_dict(data)
    table = results.metrics().assign(scenario=scenario.name, point=0)
    (verdict,) = flowsim.evaluate_expectations(scenario.expect, table)
    assert verdict.passed, verdict
    data["expect"][0]["metric"] = "reserve_kg_end_of_month.buyer"
    with pytest.raises(flowsim.ScenarioError, match="one month's end"):
        flowsim.scenario_from_dict(data)


def _designated(**sanction) -> dict:
    data = _bank(
        sales=[
            {"date": "2018-02-10", "kg": 300.0, "to": "other"},
            {"date": "2018-02-25", "kg": 200.0, "to": "other"},
        ]
    )
    data["policies"] = {
        "sanctions": {
            "bank": {
                "issuer": "USA",
                "effective": "2018-02-01",
                "target_entities": ["buyer operator"],
                "compliance": {"other": 1.0},
                **sanction,
            }
        }
    }
    return data


def test_a_wind_down_licence_lets_partners_take_designated_gold_until_it_ends():
    results = run(_designated(wind_down_until="2018-02-20"))
    to_other = _exported_to(results, "other")
    # The sale of 10 February is taken under the licence; that of the 25th is not.
    assert to_other["kg"].tolist() == [300.0]
    receipts = results.receipts
    taken = receipts[(receipts["node"] == "other")]
    assert taken["touched_designated_entity"].all()  # it carries the designation
    assert rows(results, "refused").empty


def test_a_reserve_may_sell_ahead_of_an_announced_designation():
    data = _designated(announced="2018-01-11")
    data["nodes"]["buyer"]["reserve"]["sell_before_designation"] = 0.5
    results = run(data)
    # Half of the 1,000 kg, over the 21 days from 11 to 31 January.
    assert _levels(results)[0] == pytest.approx(500.0)
    shipped = rows(results, "shipped")
    sent = shipped[(shipped["node"] == "buyer") & (shipped["day"] < 31)]
    ahead = sent[sent["kg"] > 20.0]  # the mine's lots are 10 kg
    assert ahead["day"].tolist() == [float(d) for d in range(10, 31)]
    assert ahead["kg"].tolist() == pytest.approx([500.0 / 21] * 21)
    data["nodes"]["buyer"]["reserve"]["sell_before_designation"] = 0.0
    assert _levels(run(data))[0] == pytest.approx(1000.0)


@pytest.mark.parametrize(
    ("sanction", "key", "words"),
    [
        ({"announced": "2018-02-05"}, "announced", "announced on or before"),
        ({"wind_down_until": "2018-01-20"}, "wind_down_until", "is before effective"),
    ],
)
def test_wrong_announcement_and_wind_down_dates_are_named(sanction, key, words):
    with pytest.raises(flowsim.ScenarioError) as caught:
        flowsim.scenario_from_dict(_designated(**sanction))
    found = [(i.path, i.message) for i in caught.value.issues]
    assert any(p == f"policies.sanctions.bank.{key}" and words in m for p, m in found), found


def test_the_report_shows_reserves_prices_production_and_rents():
    data = _bank(sales_kg_per_month=100.0)
    data["simulation"] = {"rents": True}
    page = flowsim.render_report(run(data))
    for heading in (
        "Production by mine",
        "Prices along the chain",
        "Reserves (kg at the end of the month)",
        "Rents: what each node earned",
    ):
        assert f"<h2>{heading}</h2>" in page
    summary = run(data).summary()
    assert summary["reserve_kg_end_by_node"] == {"buyer": pytest.approx(700.0)}
    assert set(summary["rents_usd_by_node"]) == {"mine", "buyer"}


def test_a_reserve_with_a_reservation_price_sells_only_when_gold_fetches_it():
    data = _bank(sales_kg_per_month=310.0, min_usd_per_oz=1100.0)
    data["prices"]["usd_per_oz"] = {"2018": 1000.0, "2018-02": 1200.0}
    data["nodes"]["buyer"]["margin"] = 0.5  # what it keeps of what it buys, not of its own
    results = run(data)
    # January and March at 1,000 an ounce: nothing sold; February at 1,200: 310 kg.
    assert _levels(results) == pytest.approx([1000.0, 690.0, 690.0])


def test_a_reserve_may_sell_against_its_outlets_demand():
    data = _bank(sell_to_demand=True)
    data["nodes"]["other"]["appetite_kg_per_month"] = 100.0
    results = run(data)
    # What the UAE-like partner takes a month, no more: its whole appetite each month.
    assert _levels(results) == pytest.approx([900.0, 800.0, 700.0])
    sent = results.appetite_monthly
    assert sent["sent_kg"].tolist() == pytest.approx([100.0, 100.0, 100.0])
    data["nodes"]["other"].pop("appetite_kg_per_month")
    with pytest.raises(flowsim.ScenarioError, match="no demand"):
        flowsim.scenario_from_dict(data)
