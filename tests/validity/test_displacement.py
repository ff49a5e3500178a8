"""Trade displacement: blocking one buyer country diverts gold to another.

A regularity of sanctions and enforcement on commodity trade (gold from
Venezuela after the 2018-2019 US sanctions went from Switzerland and the US
to Turkey and the UAE; Peruvian gold from the US to India and the UAE after
2014): when one destination is closed, exporters send the gold where it is
still taken, so total exports fall by much less than the closed partner's
share. Diversion needs an open partner with room to take the gold, and under
interdiction it needs exporters who react to seizures.
"""

from __future__ import annotations

import pytest
from networks import chain, node, route, rows, run

DAYS = 365
BLOCK_DAY = 59  # 2018-03-01
# Judge the flows once the block has had its effect (lots already on the five-day
# road to the blocked partner have arrived).
AFTER = BLOCK_DAY + 20


def two_partners(route_choice: str = "logit", capacity_to_b: float | None = None) -> dict:
    """mine (VEN, 10 kg/day in four lots) -> buyer -> {a (USA), b (ARE)}, five days each."""
    data = chain(days=DAYS)
    data["nodes"]["mine"]["lot_interval_days"] = 0.25
    del data["nodes"]["partner"]
    del data["routes"]["buyer_partner"]
    data["nodes"]["a"] = node("partner", jurisdiction="USA", entity="US refiners")
    data["nodes"]["b"] = node("partner", jurisdiction="ARE", entity="UAE refiners")
    data["routes"]["buyer_a"] = route("buyer", "a", transit_days=5.0)
    data["routes"]["buyer_b"] = route(
        "buyer", "b", transit_days=5.0, capacity_kg_per_day=capacity_to_b
    )
    data["behaviour"] = {"route_choice": route_choice}
    return data


def sanction_at_a() -> dict:
    return {
        "sanctions": {
            "eo": {
                "issuer": "USA",
                "effective": "2018-03-01",
                "target_jurisdictions": ["VEN"],
                "compliance": {"a": 1.0, "b": 0.0},
            }
        }
    }


def interdiction_on_a() -> dict:
    return {
        "interdictions": {
            "border": {
                "start": "2018-03-01",
                "end": "2018-12-31",
                "routes": ["buyer_a"],
                "seizure_increase": 1.0,
            }
        }
    }


def exports_after(results) -> dict[str, float]:
    """kg each partner took from AFTER to the end of the run."""
    exported = rows(results, "exported")
    late = exported[exported["day"] >= AFTER]
    by_partner = late.groupby("node", observed=True)["kg"].sum()
    return {p: float(by_partner.get(p, 0.0)) for p in ("a", "b")}


def compare(policies: dict, **network) -> tuple[dict, dict]:
    base = run(two_partners(**network), seed=1)
    data = two_partners(**network)
    data["policies"] = policies
    return exports_after(base), exports_after(run(data, seed=1))


def test_sanction_at_one_partner_diverts_the_flow_to_the_other():
    """Sanctions diversion: a partner that refuses all sanctioned-origin gold
    (compliance 1) loses its share to the partner that does not comply; with
    room at the other partner, total exports do not fall by the blocked
    partner's baseline share (here they do not fall at all)."""
    base, blocked = compare(sanction_at_a())
    base_total = base["a"] + base["b"]
    share_a = base["a"] / base_total
    assert share_a == pytest.approx(0.5, abs=0.05)
    assert blocked["a"] == 0.0
    assert blocked["b"] > 1.9 * base["b"]
    fall = 1.0 - (blocked["a"] + blocked["b"]) / base_total
    assert fall < share_a
    assert fall == pytest.approx(0.0, abs=1e-9)


def test_interdiction_is_learnt_and_routed_around():
    """Adaptive smuggling (route substitution): when every shipment on the way
    to one partner is seized, exporters who learn from seizures (logit choice
    with perceived risk) send nearly everything to the other partner; the few
    probes that are still seized cost far less than the partner's baseline
    share of exports."""
    base, blocked = compare(interdiction_on_a())
    base_total = base["a"] + base["b"]
    share_a = base["a"] / base_total
    assert blocked["a"] == 0.0  # every lot that went that way was seized
    assert blocked["b"] / base_total > 0.95  # most of the flow moved to b
    fall = 1.0 - blocked["b"] / base_total
    assert 0.0 < fall < share_a / 10


def test_without_learning_interdiction_does_not_displace():
    """Control for the test above: with a static split nobody reacts to
    seizures, half the gold keeps going the blocked way and is seized, and
    exports fall by exactly the blocked partner's share. So the diversion
    above is the behaviour's doing, not an artefact of the network."""
    base, blocked = compare(interdiction_on_a(), route_choice="static")
    base_total = base["a"] + base["b"]
    assert blocked["b"] == pytest.approx(base["b"])
    assert 1.0 - blocked["b"] / base_total == pytest.approx(base["a"] / base_total)


def test_diversion_is_capped_by_the_other_partners_capacity():
    """Displacement needs absorptive capacity: when the route to the open
    partner takes at most 6 kg a day (5 kg in 2.5 kg lots) of the 10 kg
    produced, the sanction cuts exports to that capacity and the rest piles up
    at the buyer, so exports fall by the blocked partner's share."""
    base, blocked = compare(sanction_at_a(), capacity_to_b=6.0)
    days = DAYS - AFTER
    assert base["a"] + base["b"] == pytest.approx(10.0 * days, rel=0.01)
    assert blocked["b"] == pytest.approx(5.0 * days, rel=0.01)
    data = two_partners(capacity_to_b=6.0)
    data["policies"] = sanction_at_a()
    held = run(data, seed=1).summary()["totals_kg"]["in_stock"]
    assert held == pytest.approx(5.0 * (DAYS - BLOCK_DAY), rel=0.02)
