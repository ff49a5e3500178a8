"""Dated schedules: how they are written and checked, and what each one changes in a run,
on tiny networks with exact expected flows."""

from __future__ import annotations

import datetime

import pytest
from networks import chain, node, route, rows, run

import flowsim
from flowsim.executors import serial_executor
from flowsim.network import KG_TO_TROY_OZ, Network
from flowsim.scenario import scenario_hash, with_overrides
from flowsim.schedules import Schedule
from flowsim.sweep import load_sweep_file, run_sweep


def _issues(data) -> list[tuple[str, str]]:
    with pytest.raises(flowsim.ScenarioError) as caught:
        flowsim.scenario_from_dict(data)
    return [(issue.path, issue.message) for issue in caught.value.issues]


def _day(k: int) -> str:
    return str(datetime.date(2018, 1, 1) + datetime.timedelta(days=k))


# --- the schedule itself --------------------------------------------------------------


def test_step_holds_each_value_from_its_date():
    s = Schedule(((datetime.date(2018, 1, 1), 10.0), (datetime.date(2018, 1, 4), 20.0)))
    assert s.daily(datetime.date(2018, 1, 1), 6) == (10.0, 10.0, 10.0, 20.0, 20.0, 20.0)


def test_linear_moves_in_a_straight_line_then_holds_the_last_value():
    s = Schedule(((datetime.date(2018, 1, 1), 10.0), (datetime.date(2018, 1, 5), 30.0)), "linear")
    assert s.daily(datetime.date(2018, 1, 1), 7) == (10.0, 15.0, 20.0, 25.0, 30.0, 30.0, 30.0)


def test_a_schedule_is_written_back_as_the_file_writes_it():
    data = chain(10)
    table = {"2018-01-01": 10.0, "2018-01-06": 0.0, "interpolation": "linear"}
    data["nodes"]["mine"]["production_kg_per_day"] = table
    scenario = flowsim.scenario_from_dict(data)
    assert scenario.model_dump(mode="json")["nodes"]["mine"]["production_kg_per_day"] == table
    again = flowsim.scenario_from_dict(scenario.model_dump(mode="python", by_alias=True))
    assert scenario_hash(again) == scenario_hash(scenario)


# --- checks ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("table", "key", "words"),
    [
        ({"2018-01-01": 10.0, "2018-02-30": 5.0}, "", "'2018-02-30' is not a date"),
        ({"2018-01-01": 10.0, "soon": 5.0}, "", "'soon' is not a date"),
        ({"2018-01-01": 10.0, "2018-01-05": -1.0}, "", "at 2018-01-05"),
        ({"2018-01-01": 10.0, "2018-01-05": "5"}, "", "at 2018-01-05"),
        ({"2018-01-05": 10.0, "2018-01-02": 5.0}, "", "write a schedule's dates in order"),
        ({"2018-01-01": 10.0, "interpolation": "cubic"}, "", "'step' or 'linear'"),
        ({}, "", "at least one date"),
        ({"2018-01-03": 10.0}, ".2018-01-03", "calendar's first day (2018-01-01)"),
        ({"2017-12-01": 10.0}, ".2017-12-01", "calendar's first day (2018-01-01)"),
        ({"2018-01-01": 10.0, "2018-03-01": 5.0}, ".2018-03-01", "after the calendar's end"),
    ],
)
def test_a_wrong_schedule_is_named_by_its_key(table, key, words):
    data = chain(10)
    data["nodes"]["mine"]["production_kg_per_day"] = table
    issues = _issues(data)
    assert len(issues) == 1, issues
    where, message = issues[0]
    assert where == "nodes.mine.production_kg_per_day" + key
    assert words in message


def test_a_schedule_keeps_the_bounds_of_its_rate():
    data = chain(10)
    data["routes"]["mine_buyer"]["seizure_probability"] = {"2018-01-01": 0.0, "2018-01-04": 1.5}
    ((where, message),) = _issues(data)
    assert where == "routes.mine_buyer.seizure_probability"
    assert "at 2018-01-04" in message and "less than or equal to 1" in message


def test_a_plain_rate_keeps_its_message():
    data = chain(10)
    data["nodes"]["buyer"]["capacity_kg_per_day"] = -3.0
    ((where, message),) = _issues(data)
    assert where == "nodes.buyer.capacity_kg_per_day"
    assert message.startswith("Input should be greater than 0")


def test_monthly_prices_replace_their_year_and_every_month_needs_one():
    data = chain(90)
    data["prices"]["usd_per_oz"] = {"2018-01": 1000.0, "2018-02": 1100.0}
    ((where, message),) = _issues(data)
    assert where == "prices.usd_per_oz"
    assert "2018-03" in message
    data["prices"]["usd_per_oz"] = {"2018": 1000.0, "2018-02": 1100.0, "2019-05": 1.0}
    ((where, message),) = _issues(data)
    assert where == "prices.usd_per_oz.2019-05"
    assert "outside the calendar" in message
    data["prices"]["usd_per_oz"] = {"2018": 1000.0, "2018-13": 1.0}
    ((where, message),) = _issues(data)
    assert "neither a year (2018) nor a month (2018-03)" in message


# --- what each schedule changes -----------------------------------------------------


def test_a_production_step_changes_each_lot_from_its_day():
    data = chain(10)
    data["nodes"]["mine"]["production_kg_per_day"] = {"2018-01-01": 10.0, "2018-01-06": 20.0}
    produced = rows(run(data), "produced")
    assert produced["kg"].tolist() == [10.0] * 5 + [20.0] * 5


def test_a_production_point_of_zero_stops_the_mine_for_a_while():
    data = chain(10)
    data["nodes"]["mine"]["production_kg_per_day"] = {
        "2018-01-01": 10.0,
        "2018-01-04": 0.0,
        "2018-01-08": 10.0,
    }
    produced = rows(run(data), "produced")
    assert produced["day"].tolist() == [0.0, 1.0, 2.0, 7.0, 8.0, 9.0]


def test_a_capacity_step_changes_the_service_time_from_its_day():
    data = chain(10)
    # 10 kg lots; 10 kg a day is a day's service, 40 kg a day a quarter of one.
    data["nodes"]["buyer"]["capacity_kg_per_day"] = {"2018-01-01": 10.0, "2018-01-06": 40.0}
    shipped = rows(run(data), "shipped")
    out = shipped[shipped["node"] == "buyer"]
    delivered = rows(run(data), "delivered")
    into = delivered[delivered["node"] == "buyer"]["day"].tolist()
    waits = [b - a for a, b in zip(into, out["day"].tolist(), strict=False)]
    # Lots arrive on days 1..9: those served before day 5 take a day, later a quarter.
    assert waits[:4] == pytest.approx([1.0] * 4)
    assert waits[5:] == pytest.approx([0.25] * (len(waits) - 5))


def test_a_price_factor_step_values_exports_from_its_day():
    data = chain(12)
    data["nodes"]["partner"]["price_factor"] = {"2018-01-01": 1.0, "2018-01-08": 0.5}
    exported = rows(run(data), "exported")
    usd_per_kg = 1000.0 * KG_TO_TROY_OZ
    for day, kg, usd in exported[["day", "kg", "usd"]].itertuples(index=False):
        factor = 1.0 if day < 7 else 0.5
        assert usd == pytest.approx(kg * usd_per_kg * factor)
    assert {d < 7 for d in exported["day"]} == {True, False}


def test_monthly_prices_value_exports_in_their_month():
    data = chain(70)
    data["prices"]["usd_per_oz"] = {"2018": 1000.0, "2018-02": 1200.0}
    exported = rows(run(data), "exported")
    for day, kg, usd in exported[["day", "kg", "usd"]].itertuples(index=False):
        price = 1200.0 if 31 <= day < 59 else 1000.0
        assert usd == pytest.approx(kg * price * KG_TO_TROY_OZ)


def _fork(days: int = 12, **route_fields) -> dict:
    """mine -> buyer -> two partners."""
    data = chain(days)
    data["nodes"]["other"] = node("partner", jurisdiction="ARE")
    data["routes"]["buyer_other"] = route("buyer", "other", **route_fields)
    return data


def test_a_weight_step_moves_a_static_split_from_its_day():
    data = _fork(weight={"2018-01-01": 0.0, "2018-01-06": 1.0})
    data["routes"]["buyer_partner"]["weight"] = {"2018-01-01": 1.0, "2018-01-06": 0.0}
    shipped = rows(run(data), "shipped")
    out = shipped[shipped["node"] == "buyer"]
    assert set(out[out["day"] < 5]["route"]) == {"buyer_partner"}
    assert set(out[out["day"] >= 5]["route"]) == {"buyer_other"}


@pytest.mark.parametrize("choice", ["static", "logit"])
def test_a_seizure_step_seizes_every_lot_arriving_from_its_day(choice):
    data = chain(12, behaviour={"route_choice": choice})
    data["routes"]["buyer_partner"]["seizure_probability"] = {
        "2018-01-01": 0.0,
        "2018-01-08": 1.0,
    }
    results = run(data)
    seized = rows(results, "seized")
    exported = rows(results, "exported")
    assert (seized["day"] >= 7).all() and len(seized) > 0
    assert (exported["day"] < 7).all() and len(exported) > 0


def test_the_logit_choice_follows_a_scheduled_risk():
    """A route that becomes certain seizure from a date loses the flow to its sibling."""
    data = _fork(40)
    data["behaviour"] = {"route_choice": "logit", "logit_sensitivity": 50.0}
    data["routes"]["buyer_partner"]["seizure_probability"] = {
        "2018-01-01": 0.0,
        "2018-01-16": 0.9,
    }
    shipped = rows(run(data, seed=3), "shipped")
    out = shipped[shipped["node"] == "buyer"]
    late = out[out["day"] >= 15]
    assert (late["route"] == "buyer_other").mean() > 0.95
    early = out[out["day"] < 15]
    assert 0.2 < (early["route"] == "buyer_other").mean() < 0.8


def test_shipment_mode_produces_what_the_schedule_says():
    data = chain(60, simulation={"granularity": "shipment", "collection_days": 7.0})
    data["nodes"]["mine"]["production_kg_per_day"] = {
        "2018-01-01": 10.0,
        "2018-01-20": 30.0,
        "2018-02-10": 5.0,
        "interpolation": "linear",
    }
    scenario = flowsim.scenario_from_dict(data)
    table = Network.build(scenario).schedules["kg_per_day"][0]
    produced = rows(flowsim.simulate(scenario, seed=1), "produced")
    assert produced["kg"].sum() == pytest.approx(sum(table))


def test_a_scenario_without_schedules_compiles_none():
    network = Network.build(flowsim.scenario_from_dict(chain(10)))
    assert network.schedules == {} and network.change_days() == ()


# --- overrides and sweeps ----------------------------------------------------------


def test_set_changes_one_point_or_adds_one_in_its_place():
    data = chain(20)
    data["nodes"]["mine"]["production_kg_per_day"] = {"2018-01-01": 10.0, "2018-01-11": 20.0}
    scenario = flowsim.scenario_from_dict(data)
    changed = with_overrides(
        scenario,
        {
            "nodes.mine.production_kg_per_day.2018-01-11": 30.0,
            "nodes.mine.production_kg_per_day.2018-01-06": 15.0,
        },
    )
    schedule = changed.nodes["mine"].production_kg_per_day
    assert [(str(d), v) for d, v in schedule.points] == [
        ("2018-01-01", 10.0),
        ("2018-01-06", 15.0),
        ("2018-01-11", 30.0),
    ]
    produced = rows(flowsim.simulate(changed), "produced")
    assert produced["kg"].tolist() == [10.0] * 5 + [15.0] * 5 + [30.0] * 10


SCHEDULED = """
[meta]
name = "scheduled"
[calendar]
start = 2018-01-01
end = 2018-01-20
[prices]
usd_per_oz = { 2018 = 1000.0 }
dore_purity = 1.0
[nodes.mine]
kind = "mine"
jurisdiction = "VEN"
entity = "miners"
legal_status = "illegal"
region = "north"
production_kg_per_day = { 2018-01-01 = 10.0, 2018-01-11 = 20.0 }
[nodes.partner]
kind = "partner"
jurisdiction = "TUR"
entity = "t"
legal_status = "licensed"
region = "abroad"
[routes.out]
from = "mine"
to = "partner"
"""

SWEEP_POINT = """
[sweep]
name = "point"
scenario = "scheduled.toml"
[parameters]
"nodes.mine.production_kg_per_day.2018-01-11" = [20.0, 40.0]
"""


def test_a_sweep_varies_one_point_of_a_schedule(tmp_path):
    (tmp_path / "scheduled.toml").write_text(SCHEDULED)
    (tmp_path / "point.toml").write_text(SWEEP_POINT)
    sweep, folder = load_sweep_file(tmp_path / "point.toml")
    run_sweep(sweep, folder, tmp_path / "out", executor=serial_executor)
    table = flowsim.load_sweep(tmp_path / "out", metrics=["totals_kg.produced"])
    point = "nodes.mine.production_kg_per_day.2018-01-11"
    produced = table.set_index(point)["value"].to_dict()
    assert produced == pytest.approx({20.0: 300.0, 40.0: 500.0})


def test_a_route_cost_schedule_costs_each_shipment_on_the_day_it_is_sent(tmp_path):
    data = chain(20)
    data["routes"]["mine_buyer"]["cost_usd_per_kg"] = {"2018-01-01": 100.0, "2018-01-11": 300.0}
    results = run(data)
    shipped = rows(results, "shipped")
    from_mine = shipped[shipped["route"] == "mine_buyer"]
    expected = sum(
        kg * (100.0 if day < 10 else 300.0) for day, kg in from_mine[["day", "kg"]].values
    )
    assert results.summary()["transport_cost_usd"] == pytest.approx(expected)
    table = results.schedules
    assert table[["quantity", "id", "day", "value"]].values.tolist() == [
        ["route_cost", "mine_buyer", 0.0, 100.0],
        ["route_cost", "mine_buyer", 10.0, 300.0],
    ]
    again = flowsim.Results.load(results.save(tmp_path / "run"))
    assert again.summary()["transport_cost_usd"] == pytest.approx(expected)
    assert again.schedules["value"].tolist() == [100.0, 300.0]


def test_the_logit_choice_weighs_a_scheduled_cost():
    data = _fork(40)
    data["behaviour"] = {"route_choice": "logit", "logit_sensitivity": 50.0}
    dear = 0.5 * 1000.0 * 32.150746568627976  # half the value of a kg
    data["routes"]["buyer_partner"]["cost_usd_per_kg"] = {"2018-01-01": 0.0, "2018-01-16": dear}
    shipped = rows(run(data, seed=3), "shipped")
    out = shipped[shipped["node"] == "buyer"]
    assert (out[out["day"] >= 15]["route"] == "buyer_other").mean() > 0.95
    assert 0.2 < (out[out["day"] < 15]["route"] == "buyer_other").mean() < 0.8


@pytest.mark.parametrize("granularity", ["lot", "shipment"])
def test_a_transit_factor_schedule_stretches_each_transit_drawn_from_its_day(granularity):
    data = chain(20, simulation={"granularity": granularity, "collection_days": 1.0})
    data["routes"]["mine_buyer"]["transit_factor"] = {"2018-01-01": 1.0, "2018-01-06": 3.0}
    ledger = run(data).ledger
    on_route = ledger[ledger["route"] == "mine_buyer"]
    sent = on_route[on_route["event"] == "shipped"].set_index("lot")["day"]
    came = on_route[on_route["event"] == "delivered"].set_index("lot")["day"]
    took = came - sent.reindex(came.index)
    late = sent.reindex(came.index) >= 5
    assert took[~late].to_numpy() == pytest.approx(1.0)
    assert took[late].to_numpy() == pytest.approx(3.0)
    assert late.any() and (~late).any()
