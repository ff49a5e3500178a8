"""Outlets that fill up: a partner's appetite a month, what happens to the gold beyond it,
and what route choice sees, on tiny networks with exact expected flows."""

from __future__ import annotations

import pytest
from networks import chain, node, route, rows, run

import flowsim
from flowsim.network import KG_TO_TROY_OZ

USD_PER_KG = 1000.0 * KG_TO_TROY_OZ  # the chain's gold price, purity 1


def _monthly(results: flowsim.Results, partner: str, unit: str = "kg") -> list[float]:
    table = results.exports_monthly
    return table[table["partner"] == partner].sort_values("month")[unit].tolist()


def _uae_only(**uae) -> dict:
    """mine (10 kg a day) -> buyer -> the UAE, for the 90 days of January to March."""
    data = chain(90)
    data["nodes"]["partner"].update(jurisdiction="ARE", **uae)
    return data


@pytest.mark.parametrize("granularity", ["lot", "shipment"])
def test_gold_beyond_the_appetite_waits_for_the_next_month(granularity):
    data = _uae_only(appetite_kg_per_month=100.0)
    data["simulation"] = {"granularity": granularity}
    results = run(data)
    assert _monthly(results, "partner") == pytest.approx([100.0, 100.0, 100.0])
    totals = results.summary()["totals_kg"]
    held = results.end_state.set_index("node")["kg"]["buyer"]
    assert held == pytest.approx(totals["produced"] - 300.0 - totals["in_transit"])
    assert held > 250.0


def test_a_scheduled_appetite_is_read_on_the_first_of_each_month():
    data = _uae_only(appetite_kg_per_month={"2018-01-01": 100.0, "2018-02-01": 50.0})
    assert _monthly(run(data), "partner") == pytest.approx([100.0, 50.0, 50.0])


def _outlets(days: int = 90) -> dict:
    """mine -> buyer -> Turkey (weight 1), the UAE (weight 1, appetite 100 kg a month)
    and Switzerland (weight 0: a fallback), with Turkey refusing every lot that the
    buyer touched once it is designated, from 1 February."""
    data = chain(days)
    data["nodes"]["uae"] = node("partner", jurisdiction="ARE", appetite_kg_per_month=100.0)
    data["nodes"]["che"] = node("partner", jurisdiction="CHE", price_factor=0.9)
    data["routes"]["buyer_uae"] = route("buyer", "uae")
    data["routes"]["buyer_che"] = route("buyer", "che", weight=0.0)
    data["policies"] = {
        "sanctions": {
            "buyer": {
                "issuer": "USA",
                "effective": "2018-02-01",
                "target_entities": ["buyer operator"],
                "compliance": {"partner": 1.0},
            }
        }
    }
    return data


def test_with_turkey_complying_what_the_uae_cannot_take_goes_to_the_next_outlet():
    results = run(_outlets())
    turkey, uae, che = (_monthly(results, p) for p in ("partner", "uae", "che"))
    # January: the split sends half to each until the UAE is full, then the rest to
    # Turkey; Switzerland is a fallback, unused while a weighted route takes gold.
    assert uae[0] == pytest.approx(100.0)
    assert che[0] == 0.0
    # From February, Turkey takes nothing the buyer touched (the lot of 1 February
    # left on 31 January); the UAE its 100 kg a month; the rest goes to Switzerland
    # rather than wait.
    assert turkey[1:] == [10.0, 0.0]
    assert uae[1:] == pytest.approx([100.0, 100.0])
    assert che[1] == pytest.approx(280.0 - 100.0 - 10.0)  # less the January lot still on its way
    totals = results.summary()["totals_kg"]  # nothing waits: all but what is on its way
    assert sum(turkey + uae + che) == pytest.approx(900.0 - totals["in_transit"])
    assert totals["in_stock"] == pytest.approx(0.0)


def test_without_a_next_outlet_the_gold_is_held():
    data = _outlets()
    del data["nodes"]["che"], data["routes"]["buyer_che"]
    results = run(data)
    assert _monthly(results, "uae")[1:] == pytest.approx([100.0, 100.0])
    assert _monthly(results, "partner")[1:] == [10.0, 0.0]
    end = results.end_state.set_index("node")["kg"]
    assert end["buyer"] == pytest.approx(900.0 - results.summary()["totals_kg"]["exported"] - 10)


def test_beyond_its_appetite_a_partner_may_pay_part_of_its_price():
    data = _uae_only(appetite_kg_per_month=100.0, beyond_appetite_price_factor=0.5)
    results = run(data)
    kg, usd = _monthly(results, "partner"), _monthly(results, "partner", "usd")
    assert kg[1] == pytest.approx(280.0)
    assert usd[1] == pytest.approx((100.0 + 0.5 * 180.0) * USD_PER_KG)


def test_route_choice_sees_the_lower_price_past_the_appetite():
    data = _outlets(59)
    data["policies"] = {}
    data["nodes"]["uae"]["beyond_appetite_price_factor"] = 0.5
    data["nodes"]["partner"]["price_factor"] = 0.3
    data["routes"]["buyer_che"]["weight"] = 1.0
    data["behaviour"] = {"route_choice": "logit", "logit_sensitivity": 40.0}
    shipped = rows(run(data, seed=2), "shipped")
    out = shipped[shipped["node"] == "buyer"]
    to_uae = out[out["route"] == "buyer_uae"]
    # Within its appetite the UAE pays the most and takes most lots; past it, 0.5 of
    # its price against Switzerland's 0.9: the lots go to Switzerland.
    january = out[out["day"] < 31]
    sent_uae = to_uae[to_uae["day"] < 31]["kg"].cumsum()
    full_on = to_uae[to_uae["day"] < 31]["day"][sent_uae >= 100.0].iloc[0]
    after = january[january["day"] > full_on]
    assert (after["route"] == "buyer_che").mean() > 0.8
    before = january[january["day"] <= full_on]
    assert (before["route"] == "buyer_uae").mean() > 0.6


@pytest.mark.parametrize(
    ("fields", "key", "words"),
    [
        ({"appetite_kg_per_month": 0.0}, "appetite_kg_per_month", "greater than 0"),
        ({"beyond_appetite_price_factor": 1.0}, "beyond_appetite_price_factor", "less than 1"),
    ],
)
def test_a_wrong_appetite_is_named_by_its_key(fields, key, words):
    data = _uae_only(**fields)
    with pytest.raises(flowsim.ScenarioError) as caught:
        flowsim.scenario_from_dict(data)
    ((issue),) = caught.value.issues
    assert issue.path == f"nodes.partner.{key}" and words in issue.message


def test_the_appetite_used_is_a_monthly_table(tmp_path):
    results = run(_uae_only(appetite_kg_per_month={"2018-01-01": 100.0, "2018-02-01": 50.0}))
    table = results.appetite_monthly
    assert table["sent_kg"].tolist() == pytest.approx([100.0, 50.0, 50.0])
    assert table["appetite_kg"].tolist() == [100.0, 50.0, 50.0]
    assert set(table["partner"]) == {"partner"}
    again = flowsim.Results.load(results.save(tmp_path / "run"))
    assert again.appetite_monthly["sent_kg"].tolist() == pytest.approx([100.0, 50.0, 50.0])
    assert run(chain(10)).appetite_monthly.empty
