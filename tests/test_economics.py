"""Prices, margins and output: what each node pays, what a mine earns, and how output
answers its margin, on tiny networks with exact expected values."""

from __future__ import annotations

from pathlib import Path

import pytest
from networks import chain, rows, run

import flowsim
from flowsim.network import KG_TO_TROY_OZ, Network

ROOT = Path(__file__).parents[1]

USD_PER_KG = 1000.0 * KG_TO_TROY_OZ  # the chain's gold price, purity 1
FUEL_USD_PER_GAL = 3.0
GAL_PER_KG = 1000.0
OTHER_COST = 20000.0
# The fuel cut of January 31 to March 1: half the fuel, half of that bought on the black
# market at twice the pump price; the mine loses half its output without fuel.
CUT, BLACK, PREMIUM, DEPENDENCE = 0.5, 0.5, 1.0, 0.5


def _prices(results: flowsim.Results, node: str) -> list[float]:
    table = results.prices_monthly
    return table[table["node"] == node].sort_values("month")["usd_per_kg"].tolist()


def _fuel_cut(elasticity: float) -> dict:
    data = chain(90)
    data["prices"]["fuel_usd_per_gal"] = FUEL_USD_PER_GAL
    data["nodes"]["mine"].update(
        fuel_gal_per_kg=GAL_PER_KG,
        fuel_dependence=DEPENDENCE,
        cost_usd_per_kg=OTHER_COST,
        supply_elasticity=elasticity,
    )
    data["policies"] = {
        "fuel_restrictions": {
            "quota": {
                "region": "north",
                "start": "2018-01-31",
                "end": "2018-03-01",
                "supply_cut": CUT,
                "black_market_share": BLACK,
                "black_market_premium": PREMIUM,
            }
        }
    }
    return data


def test_a_fuel_quota_cuts_output_more_when_output_answers_the_margin():
    """docs/behaviour.md derives: during the cut, output is the fuel it gets allows,
    (1 - dependence x cut x (1 - black share)), times (margin in the cut / margin before)
    ^ elasticity, the margin falling by the premium on black-market fuel."""
    margin = USD_PER_KG - GAL_PER_KG * FUEL_USD_PER_GAL - OTHER_COST
    premium = GAL_PER_KG * CUT * BLACK * FUEL_USD_PER_GAL * PREMIUM
    allowed = 1.0 - DEPENDENCE * CUT * (1.0 - BLACK)
    exported = {}
    for elasticity in (0.0, 2.0):
        results = run(_fuel_cut(elasticity))
        produced = rows(results, "produced").set_index("day")["kg"]
        in_cut = produced[(produced.index >= 30) & (produced.index < 60)]
        expected = 10.0 * allowed * ((margin - premium) / margin) ** elasticity
        assert in_cut.tolist() == pytest.approx([expected] * 30)
        assert produced[produced.index < 30].tolist() == pytest.approx([10.0] * 30)
        assert produced[produced.index >= 60].tolist() == pytest.approx([10.0] * 30)
        exported[elasticity] = results.summary()["totals_kg"]["exported"]
    assert exported[2.0] < exported[0.0]


def test_a_sanctions_discount_lowers_the_prices_paid_upstream():
    data = chain(90)
    data["nodes"]["buyer"]["margin"] = 0.1
    data["policies"] = {
        "sanctions": {
            "buyer": {
                "issuer": "USA",
                "effective": "2018-02-01",
                "target_entities": ["buyer operator"],
                "discount": 0.2,
            }
        }
    }
    results = run(data)
    assert _prices(results, "partner") == pytest.approx([USD_PER_KG] * 3)
    # The buyer keeps a tenth of what it expects downstream; from February, what it
    # ships carries the designation and fetches a fifth less.
    assert _prices(results, "buyer") == pytest.approx(
        [0.9 * USD_PER_KG, 0.9 * 0.8 * USD_PER_KG, 0.9 * 0.8 * USD_PER_KG]
    )
    assert _prices(results, "mine") == _prices(results, "buyer")
    table = results.prices_monthly
    buyer = table[table["node"] == "buyer"]
    assert buyer["margin_usd_per_kg"].iloc[0] == pytest.approx(0.1 * USD_PER_KG)


def test_an_outlet_past_its_appetite_lowers_the_margin_and_the_output():
    data = chain(59)
    data["nodes"]["partner"]["appetite_kg_per_month"] = 50.0
    data["nodes"]["partner"]["beyond_appetite_price_factor"] = 0.5
    data["nodes"]["mine"]["supply_elasticity"] = 1.0
    results = run(data)
    produced = rows(results, "produced").set_index("day")["kg"]
    # The buyer has sent the partner 50 kg by day 5: from day 6 the partner pays half,
    # so the mine, with no costs, earns half and makes half as much, to the month's end.
    assert produced[produced.index < 6].tolist() == pytest.approx([10.0] * 6)
    assert produced[(produced.index >= 6) & (produced.index < 31)].tolist() == pytest.approx(
        [5.0] * 25
    )
    assert produced[31.0] == pytest.approx(10.0)  # a new month: the full price again
    table = results.prices_monthly
    mine = table[table["node"] == "mine"]
    assert mine["usd_per_kg"].tolist() == pytest.approx([USD_PER_KG] * 2)
    assert mine["output_factor"].tolist() == [1.0, 1.0]


def test_a_mine_without_a_margin_cannot_answer_it():
    data = _fuel_cut(1.0)
    data["nodes"]["mine"]["cost_usd_per_kg"] = 40000.0
    with pytest.raises(flowsim.FlowsimError, match=r"nodes\.mine: its margin on the first day"):
        run(data)


def test_an_elastic_mine_that_burns_fuel_needs_its_price():
    data = _fuel_cut(1.0)
    del data["prices"]["fuel_usd_per_gal"]
    with pytest.raises(flowsim.ScenarioError) as caught:
        flowsim.scenario_from_dict(data)
    ((issue),) = caught.value.issues
    assert issue.path == "nodes.mine.supply_elasticity"
    assert "prices.fuel_usd_per_gal" in issue.message


def test_the_pump_price_is_given_once():
    data = _fuel_cut(0.0)
    data["policies"]["fuel_restrictions"]["quota"]["fuel_price_usd_per_gal"] = 2.0
    with pytest.raises(flowsim.ScenarioError) as caught:
        flowsim.scenario_from_dict(data)
    ((issue),) = caught.value.issues
    assert issue.path == "policies.fuel_restrictions.quota.fuel_price_usd_per_gal"


def test_prices_round_trip_through_the_run_folder(tmp_path):
    results = run(_fuel_cut(1.0))
    again = flowsim.Results.load(results.save(tmp_path / "run"))
    assert again.prices_monthly["usd_per_kg"].tolist() == pytest.approx(
        results.prices_monthly["usd_per_kg"].tolist()
    )


def _displacing(split: str) -> dict:
    """Three mines, 10 kg a day each: a raid stops `raided` for 30 days from day 10, and
    its miners go to `cheap` (no costs) and `dear` (costs of half the price)."""
    data = chain(60)
    mine = data["nodes"].pop("mine")
    data["nodes"] = {
        "raided": {
            **mine,
            "displacement_to": ["cheap", "dear"],
            "displacement_share": 1.0,
            "displacement_delay_days": 0.0,
            "displacement_split": split,
        },
        "cheap": dict(mine),
        "dear": {**mine, "cost_usd_per_kg": USD_PER_KG / 2},
        **data["nodes"],
    }
    data["routes"] = {
        f"{m}_buyer": {"from": m, "to": "buyer", "transit_days": 1.0}
        for m in ("raided", "cheap", "dear")
    } | {"buyer_partner": data["routes"]["buyer_partner"]}
    data["policies"] = {
        "raids": {
            "sweep": {
                "date": "2018-01-11",
                "nodes": ["raided"],
                "capacity_loss": 1.0,
                "hold_days": 30.0,
                "recovery_days": 0.0,
            }
        }
    }
    return data


@pytest.mark.parametrize(("split", "to_cheap"), [("production", 0.5), ("margin", 2.0 / 3.0)])
def test_displaced_miners_go_where_it_pays_when_the_split_follows_the_margin(split, to_cheap):
    produced = rows(run(_displacing(split)), "produced")
    during = produced[(produced["day"] >= 10) & (produced["day"] < 40)]
    by_mine = during.groupby("node", observed=True)["kg"].sum()
    assert "raided" not in by_mine  # it makes nothing while the raid holds
    assert by_mine["cheap"] == pytest.approx(30 * (10.0 + 10.0 * to_cheap))
    assert by_mine["dear"] == pytest.approx(30 * (10.0 + 10.0 * (1.0 - to_cheap)))
    after = produced[produced["day"] >= 40].groupby("node", observed=True)["kg"].sum()
    # When the enforcement ends the miners are back: each site makes its own again.
    assert after.to_dict() == pytest.approx({"raided": 200.0, "cheap": 200.0, "dear": 200.0})


# --- the books: rents ------------------------------------------------------------------


def test_rents_are_what_each_node_earns_on_the_gold_it_sells():
    data = chain(30, simulation={"rents": True})
    data["nodes"]["mine"]["cost_usd_per_kg"] = 1000.0
    data["nodes"]["buyer"]["margin"] = 0.1
    data["routes"]["mine_buyer"]["cost_usd_per_kg"] = 100.0
    data["routes"]["buyer_partner"]["cost_usd_per_kg"] = 200.0
    results = run(data)
    rents = results.rents_monthly.groupby("node")["usd"].sum()
    sold = len(rows(results, "delivered"))  # lots the buyer bought
    exported = len(rows(results, "exported"))
    # The buyer pays 0.9 of what a kg fetches past its route; the mine spent 1,000 to
    # make it and 100 to carry it; the buyer keeps 0.1 of what a kg fetches downstream.
    paid = 0.9 * (USD_PER_KG - 200.0)
    assert rents["mine"] == pytest.approx(sold * 10.0 * (paid - 1100.0))
    # The buyer's gold still on its way at the end is paid for but not yet sold.
    assert rents["buyer"] == pytest.approx(exported * 10.0 * 0.1 * (USD_PER_KG - 200.0))
    assert set(rents.index) == {"mine", "buyer"}


@pytest.mark.parametrize(
    ("name", "overrides"),
    [
        ("venezuela_sanctions.toml", {}),
        ("venezuela_sanctions.toml", {"simulation.granularity": "shipment"}),
        ("peru_madre_de_dios_2014.toml", {}),
        ("peru_colombia_joint_operation.toml", {}),
    ],
)
def test_rents_add_up_to_exports_less_costs_plus_the_books_of_unsold_gold(name, overrides):
    """Every USD that changes hands is one node's income and another's cost: what all
    nodes earn is the value of the exports, less production and transport, plus what was
    paid for the gold still held or on its way (seizures are the owners' losses)."""
    import numpy as np

    from flowsim.engine import make_engine
    from flowsim.scenario import load_scenario

    scenario = load_scenario(ROOT / "scenarios" / name, {"simulation.rents": True, **overrides})
    network = Network.build(scenario)
    out = make_engine(network, np.random.default_rng(7)).run()
    frame = out.ledger.to_frame(network.node_ids, network.route_ids, replication=0)
    exports = frame.loc[frame["event"] == "exported", "usd"].sum()
    rents = sum(usd for _, _, usd in out.rents)
    expected = exports - out.production_cost_usd - out.transport_usd + out.unsold_book_usd
    assert rents == pytest.approx(expected, rel=1e-9)
    assert out.transport_usd > 0 and exports > 0


def test_a_buyer_price_schedule_is_its_margin_over_time():
    data = chain(90)
    data["nodes"]["buyer"]["margin"] = {"2018-01-01": 0.1, "2018-02-01": 0.3}
    results = run(data)
    assert _prices(results, "buyer") == pytest.approx(
        [0.9 * USD_PER_KG, 0.7 * USD_PER_KG, 0.7 * USD_PER_KG]
    )
    data["behaviour"] = {"route_choice": "logit"}
    assert _prices(run(data), "mine") == pytest.approx(
        [0.9 * USD_PER_KG, 0.7 * USD_PER_KG, 0.7 * USD_PER_KG]
    )
