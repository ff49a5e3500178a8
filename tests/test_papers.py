"""Papers against the truth on tiny networks: laundering and due diligence, hubs that sell
on, customs records and mirror gaps of known size."""

from __future__ import annotations

import pytest
from networks import chain, node, route, rows, run

import flowsim

KG_PER_DAY = 10.0


def laundered(days: int = 30, detection: float = 0.0, due_diligence: float = 0.0, **extra):
    """A Venezuelan mine run by a designated state firm sells to Colombian traders, who
    re-paper every lot as Colombian; a Swiss refiner that complies in full buys."""
    data = chain(
        days=days,
        nodes={
            "mine": node("mine", entity="state firm"),
            "traders": node(
                "buyer",
                jurisdiction="COL",
                entity="traders",
                laundering={"share": 1.0, "detection": detection},
            ),
            "swiss": node("partner", jurisdiction="CHE", due_diligence=due_diligence),
        },
        routes={
            "smuggled": route("mine", "traders", declared="neither"),
            "exported": route("traders", "swiss"),
        },
        policies={
            "sanctions": {
                "eo": {
                    "issuer": "USA",
                    "effective": "2018-01-01",
                    "target_entities": ["state firm"],
                    "default_compliance": 1.0,
                }
            }
        },
    )
    data.update(extra)
    return data


def test_gold_laundered_once_reaches_a_compliant_partner_whose_checks_see_nothing():
    results = run(laundered(due_diligence=0.0))
    shipped = rows(results, "shipped")
    sent = shipped[shipped["route"] == "exported"]["kg"].sum()
    assert rows(results, "refused").empty
    assert rows(results, "laundered")["kg"].sum() == pytest.approx(sent)
    taken = rows(results, "exported")["kg"].sum()
    assert 0.0 < taken <= sent
    swiss = results.exposure.set_index("node").loc["swiss"]
    # The truth: all of it touched the designated firm, and all of it came as clean.
    assert swiss["sanctioned_entity_share"] == pytest.approx(1.0)
    assert swiss["accepted_as_clean_share"] == pytest.approx(1.0)
    diligence = results.diligence_monthly
    unknowing = diligence[diligence["outcome"] == "accepted_unknowingly"]["kg"].sum()
    assert unknowing == pytest.approx(taken)


def test_gold_laundered_once_is_refused_by_a_partner_whose_checks_always_see_through():
    results = run(laundered(days=20, due_diligence=1.0))
    assert rows(results, "exported").empty
    refused = rows(results, "refused")
    assert not refused.empty
    diligence = results.diligence_monthly
    assert set(diligence["outcome"]) == {"refused_on_detection"}
    assert diligence["kg"].sum() == pytest.approx(refused["kg"].sum())


def test_laundering_that_is_always_found_out_seizes_every_lot_at_the_node():
    results = run(laundered(detection=1.0))
    seized = rows(results, "seized")
    assert set(seized["node"].astype(str)) == {"traders"}
    delivered = rows(results, "delivered")
    assert seized["kg"].sum() == pytest.approx(delivered["kg"].sum())
    assert rows(results, "laundered").empty and rows(results, "exported").empty


def test_without_laundering_a_partner_refuses_on_the_papers():
    data = laundered()
    del data["nodes"]["traders"]["laundering"]
    data["simulation"] = {"documents": True}
    data["policies"]["sanctions"]["eo"]["default_compliance"] = 0.5
    results = run(data, seed=3)
    refused = rows(results, "refused")
    assert not refused.empty
    diligence = results.diligence_monthly
    assert set(diligence["outcome"]) == {"refused_on_papers"}
    assert diligence["kg"].sum() == pytest.approx(refused["kg"].sum())
    assert results.exposure["accepted_as_clean_kg"].sum() == 0.0


def hub(days: int = 30, share: float = 0.25, **extra):
    """mine -> buyer -> UAE, which keeps 1 - share of each lot and sells share on to
    Switzerland."""
    return chain(
        days=days,
        nodes={
            "mine": node("mine", entity="state firm"),
            "buyer": node("buyer"),
            "uae": node("partner", jurisdiction="ARE", re_export_share=share),
            "swiss": node("partner", jurisdiction="CHE"),
        },
        routes={
            "mine_buyer": route("mine", "buyer"),
            "to_uae": route("buyer", "uae"),
            "uae_swiss": route("uae", "swiss"),
        },
        **extra,
    )


def test_a_hub_keeps_its_share_and_sells_the_rest_on():
    results = run(hub(days=30, share=0.25))
    exported = results.exports_by_partner().set_index("partner")["kg"]
    # Lots are made daily from day 0; two days to the UAE, one more to Switzerland.
    reached_uae = KG_PER_DAY * 28
    reached_swiss = KG_PER_DAY * 27 * 0.25
    assert exported["uae"] == pytest.approx(reached_uae * 0.75)
    assert exported["swiss"] == pytest.approx(reached_swiss)
    routes = results.exposure_by_destination.set_index(["node", "first_destination"])
    assert routes.loc[("swiss", "uae"), "received_kg"] == pytest.approx(reached_swiss)
    assert routes.loc[("uae", "uae"), "received_kg"] == pytest.approx(reached_uae)
    assert routes.loc[("swiss", "swiss"), "received_kg"] == 0.0


def test_sanctioned_gold_reaches_switzerland_through_a_hub():
    sanctions = {
        "sanctions": {
            "eo": {
                "issuer": "USA",
                "effective": "2018-01-01",
                "target_entities": ["state firm"],
                "compliance": {"swiss": 1.0},
            }
        }
    }
    data = hub(days=30, share=0.5, policies=sanctions)
    data["nodes"]["uae"]["laundering"] = {"share": 1.0}
    results = run(data)
    routes = results.exposure_by_destination.set_index(["node", "first_destination"])
    through = routes.loc[("swiss", "uae")]
    assert through["received_kg"] > 0.0
    assert through["sanctioned_entity_share"] == pytest.approx(1.0)
    assert through["accepted_as_clean_share"] == pytest.approx(1.0)


def smuggled(declared: str = "neither"):
    """Venezuela -> Colombian traders (declared or smuggled) -> the US, every crossing of
    the second route declared at both ends."""
    return chain(
        days=31,
        nodes={
            "mine": node("mine"),
            "traders": node("buyer", jurisdiction="COL"),
            "us": node("partner", jurisdiction="USA"),
        },
        routes={
            "into_colombia": route("mine", "traders", declared=declared),
            "to_us": route("traders", "us", transit_days=0.0),
        },
    )


def test_a_smuggled_route_makes_a_mirror_gap_of_its_size():
    results = run(smuggled("neither"))
    trade = results.trade_statistics
    # Nothing of the smuggled crossing is declared; Colombia declares re-exports of
    # Venezuelan gold to the US (its papers say so), and the US its imports.
    assert set(trade["reporterISO"]) == {"COL", "USA"}
    colombia = trade[trade["reporterISO"] == "COL"]
    assert set(colombia["flowCode"]) == {"RX"} and set(colombia["declaredOriginISO"]) == {"VEN"}
    gaps = results.mirror_gaps
    pair = gaps[gaps["comparison"] == "partner_imports"]
    assert set(zip(pair["jurisdiction"], pair["partner"])) == {("COL", "USA")}
    assert pair["gap_kg"].abs().max() == pytest.approx(0.0)
    production = gaps[gaps["comparison"] == "production"].set_index("jurisdiction")
    # Colombia declares what it never mined: the whole smuggled flow is its gap.
    exported = colombia["netWgt"].sum()
    assert production.loc["COL", "gap_kg"].sum() == pytest.approx(exported)
    # Venezuela declares nothing against its production: the gap is all of it.
    assert production.loc["VEN", "gap_kg"].sum() == pytest.approx(
        -rows(results, "produced")["kg"].sum()
    )


def test_a_crossing_declared_only_at_import_is_a_gap_of_its_size():
    results = run(smuggled("import"))
    pair = results.mirror_gaps
    pair = pair[(pair["comparison"] == "partner_imports") & (pair["jurisdiction"] == "VEN")]
    # One day to Colombia: lots made on days 0-29 arrive in January, every kg of them.
    assert pair["gap_kg"].sum() == pytest.approx(KG_PER_DAY * 30)
    assert pair["reported_kg"].sum() == 0.0


def test_a_jurisdiction_that_reports_half_of_its_trade():
    data = smuggled("both")
    data["customs"] = {"USA": {"reporting_share": 0.5}}
    results = run(data)
    trade = results.trade_statistics
    us = trade[trade["reporterISO"] == "USA"]["netWgt"].sum()
    colombia = trade[(trade["reporterISO"] == "COL") & (trade["partnerISO"] == "USA")]
    assert us == pytest.approx(0.5 * colombia["netWgt"].sum())


def test_a_route_out_of_a_partner_that_sells_nothing_on_is_refused():
    data = hub(share=0.0)
    with pytest.raises(flowsim.ScenarioError, match="re_export_share"):
        flowsim.scenario_from_dict(data)


def test_hubs_may_not_make_a_cycle():
    data = hub(share=0.5)
    data["nodes"]["swiss"]["re_export_share"] = 0.5
    data["routes"]["swiss_uae"] = route("swiss", "uae")
    with pytest.raises(flowsim.ScenarioError, match="routing cycle"):
        flowsim.scenario_from_dict(data)
