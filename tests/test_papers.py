"""Papers against the truth on tiny networks: laundering and due diligence, hubs that sell
on, customs records and mirror gaps of known size."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from networks import chain, node, route, rows, run

import flowsim
from flowsim.cli import main

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
    assert set(zip(pair["jurisdiction"], pair["partner"], strict=True)) == {("COL", "USA")}
    assert pair["gap_kg"].abs().max() == pytest.approx(0.0)
    production = gaps[gaps["comparison"] == "production"].set_index("jurisdiction")
    # Re-exports declare their origin: Colombia claims none of it as its own.
    assert "COL" not in production.index
    # Venezuela declares nothing against its production: the gap is all of it.
    assert production.loc["VEN", "gap_kg"].sum() == pytest.approx(
        -rows(results, "produced")["kg"].sum()
    )


@pytest.mark.parametrize("share", [0.0, 1.0])
def test_only_gold_re_papered_in_colombia_is_declared_as_colombian(share):
    """Illegal Venezuelan gold has no papers: Colombia's customs record as Colombian
    exports the part its traders re-paper, and none of the rest, which the US still
    records as imports: a mirror gap of its size."""
    data = smuggled("neither")
    data["nodes"]["mine"]["legal_status"] = "illegal"
    data["nodes"]["traders"]["laundering"] = {"share": share}
    results = run(data)
    trade = results.trade_statistics
    colombia = trade[trade["reporterISO"] == "COL"]
    us = trade[trade["reporterISO"] == "USA"]["netWgt"].sum()
    assert us > 0.0
    assert colombia["netWgt"].sum() == pytest.approx(share * us)
    gaps = results.mirror_gaps
    production = gaps[gaps["comparison"] == "production"].groupby("jurisdiction")
    declared_less_mined = production["gap_kg"].sum().get("COL", 0.0)
    assert declared_less_mined == pytest.approx(share * us)
    pair = gaps[gaps["comparison"] == "partner_imports"]["gap_kg"].sum()
    assert pair == pytest.approx((1.0 - share) * us)


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


ROOT = Path(__file__).resolve().parents[1]
FACTS_CSV = ROOT / "data" / "gold_trade_facts.csv"


def turkish_run(tmp_path: Path) -> Path:
    """Venezuela's central bank sells 150 kg a day to Turkey, Jan-Sep 2018."""
    data = chain(
        days=273,
        nodes={
            "mine": node("mine", production_kg_per_day=150.0),
            "bcv": node("buyer"),
            "turkey": node("partner", jurisdiction="TUR"),
        },
        routes={"mine_bcv": route("mine", "bcv"), "bcv_turkey": route("bcv", "turkey")},
        simulation={"documents": True},
    )
    return flowsim.simulate(flowsim.scenario_from_dict(data), seed=1).save(tmp_path / "run")


def test_mirror_sets_the_shipped_public_figures_beside_the_run(tmp_path, capsys):
    folder = turkish_run(tmp_path)
    assert main(["mirror", str(folder), str(FACTS_CSV)]) == 0
    out = capsys.readouterr().out
    assert "TUR" in out and "2018-01 to 2018-05" in out and "n/a" in out
    assert main(["mirror", str(folder), str(FACTS_CSV), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    january_to_may = next(r for r in rows if r["period"] == "2018-01 to 2018-05")
    # Lots made on days 0-149 are taken two days later, by the end of May.
    expected = 150.0 * (151 - 2)
    assert january_to_may["model_kg"] == pytest.approx(expected)
    assert january_to_may["gap_kg"] == pytest.approx(expected - 20150.0)
    colombia = [r for r in rows if r["reporter"] == "COL"]
    assert colombia and all(r["model_kg"] is None for r in colombia)  # 2017: outside the run


def test_every_row_of_the_shipped_file_names_its_source():
    data = flowsim.read_trade_data(FACTS_CSV)
    assert len(data) >= 6 and (data["source"].str.len() > 10).all()


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("a,b\n1,2\n", "no column 'reporterISO' or 'Reporter ISO'"),
        (
            "reporterISO,partnerISO,flowCode,period,cmdCode,netWgt\nTUR,VEN,M,2018,7108,1\n",
            "no column 'primaryValue'",
        ),
        (
            "reporterISO,partnerISO,flowCode,period,cmdCode,netWgt,primaryValue\n"
            "TUR,VEN,Q,2018,7108,1,2\n",
            "in the flows a run records (M, X, RX, RM)",
        ),
        (
            "reporterISO,partnerISO,flowCode,period,cmdCode,netWgt,primaryValue\n"
            "TUR,VEN,M,18,7108,1,2\n",
            "line 2: period '18' is not a year",
        ),
        (
            "reporterISO,partnerISO,flowCode,period,cmdCode,netWgt,primaryValue\n"
            "TUR,VEN,M,2018,7108,lots,2\n",
            "line 2: netWgt 'lots' is not a number",
        ),
        (
            "Reporter ISO,Partner ISO,Trade Flow Code,Period,Commodity Code,Netweight (kg),"
            "Trade Value (US$)\nTUR,VEN,1,2018,2709,1,2\n",
            "no row of gold",
        ),
    ],
)
def test_a_bad_trade_file_is_an_error_naming_it(tmp_path, capsys, text, fragment):
    folder = turkish_run(tmp_path)
    bad = tmp_path / "data.csv"
    bad.write_text(text)
    assert main(["mirror", str(folder), str(bad)]) == 2
    err = capsys.readouterr().err
    assert str(bad) in err and fragment in err and "Traceback" not in err


def test_the_bulk_download_layout_is_read_as_the_api_layout(tmp_path):
    bulk = tmp_path / "bulk.csv"
    bulk.write_text(
        "Period,Trade Flow Code,Reporter ISO,Partner ISO,Commodity Code,Netweight (kg),"
        "Trade Value (US$)\n201803,1,TUR,VEN,710812,500,19000000\n"
    )
    row = flowsim.read_trade_data(bulk).iloc[0]
    assert (row["reporter"], row["partner"], row["flow"], row["heading"]) == (
        "TUR", "VEN", "M", "7108",
    )  # fmt: skip
    assert row["first"] == row["last"] == pd.Timestamp(2018, 3, 1)


def test_mirror_of_a_run_without_papers_says_so(tmp_path, capsys):
    folder = flowsim.simulate(flowsim.scenario_from_dict(chain(days=5))).save(tmp_path / "r")
    assert main(["mirror", str(folder), str(FACTS_CSV)]) == 2
    assert "no declared trade statistics" in capsys.readouterr().err


def test_a_run_folder_keeps_the_declared_tables(tmp_path):
    results = run(smuggled("import"))
    loaded = flowsim.Results.load(results.save(tmp_path / "run"))
    # Text columns come back as pandas' string type: the values are what matter.
    for table in ("trade_statistics", "mirror_gaps"):
        pd.testing.assert_frame_equal(
            getattr(loaded, table), getattr(results, table), check_dtype=False
        )
    assert loaded.summary()["mirror_gap_kg_by_pair"] == results.summary()["mirror_gap_kg_by_pair"]


@pytest.mark.parametrize("granularity", ["lot", "shipment"])
def test_a_hub_that_re_papers_keeps_the_books_and_the_balance(granularity):
    """With the books kept, the hub pays for all it takes and earns on what it sells on,
    and re-papering is a cost its owner pays: rents still add up to exports less costs."""
    import numpy as np

    from flowsim.engine import make_engine
    from flowsim.network import Network

    data = hub(days=60, share=0.4, simulation={"rents": True, "granularity": granularity})
    data["nodes"]["uae"]["laundering"] = {"share": 0.5, "cost_usd_per_kg": 300.0}
    data["nodes"]["buyer"]["laundering"] = {"share": 0.5, "cost_usd_per_kg": 200.0}
    scenario = flowsim.scenario_from_dict(data)
    results = flowsim.simulate(scenario, seed=2)  # checks the balance
    assert rows(results, "laundered")["kg"].sum() > 0.0
    out = make_engine(Network.build(scenario), np.random.default_rng(2)).run()
    frame = out.ledger.to_frame(results.nodes["node"].tolist(), results.routes["route"].tolist())
    exports = frame.loc[frame["event"] == "exported", "usd"].sum()
    rents = sum(usd for _, _, usd in out.rents)
    expected = exports - out.production_cost_usd - out.transport_usd + out.unsold_book_usd
    assert rents == pytest.approx(expected, rel=1e-9)
    exported = results.exports_by_partner().set_index("partner")["kg"]
    assert exported["swiss"] > 0.0 and exported["uae"] > 0.0


@pytest.mark.parametrize(
    "change, where, fragment",
    [
        (
            lambda d: d.update(simulation={"documents": False}),
            "nodes.traders.laundering",
            "delete simulation.documents = false",
        ),
        (
            lambda d: d["nodes"]["swiss"].update(laundering={"share": 0.5}),
            "nodes.swiss.laundering",
            "set re_export_share above 0",
        ),
        (
            lambda d: d.update(customs={"ARE": {"reporting_share": 0.5}}),
            "customs.ARE",
            "no node is in jurisdiction 'ARE'",
        ),
        (
            lambda d: d["nodes"]["traders"]["laundering"].update(share=1.5),
            "nodes.traders.laundering.share",
            "",
        ),
    ],
)
def test_papers_that_cannot_be_are_errors_naming_their_key(change, where, fragment):
    data = laundered()
    change(data)
    with pytest.raises(flowsim.ScenarioError) as caught:
        flowsim.scenario_from_dict(data)
    issues = [i for i in caught.value.issues if i.path == where]
    assert issues, caught.value.issues
    assert fragment in issues[0].message


def illegal_through_laundering(granularity: str, due_diligence: float = 0.0):
    """Illegal gold re-papered by a buyer in its own country, then sent on routes that
    nothing declares to a refiner and a partner: papers must still be read."""
    return chain(
        days=40,
        nodes={
            "mine": node("mine", legal_status="illegal"),
            "buyer": node("buyer", laundering={"share": 1.0}),
            "refiner": node("refiner"),
            "swiss": node("partner", jurisdiction="CHE", due_diligence=due_diligence),
        },
        routes={
            "mine_buyer": route("mine", "buyer"),
            "buyer_refiner": route("buyer", "refiner"),
            "refiner_swiss": route("refiner", "swiss", declared="neither"),
        },
        simulation={"granularity": granularity},
    )


@pytest.mark.parametrize("granularity", ["lot", "shipment"])
def test_papers_are_read_on_routes_that_nothing_declares_in_both_modes(granularity):
    results = run(illegal_through_laundering(granularity))
    exposure = results.exposure.set_index("node")
    for receiver in ("refiner", "swiss"):
        assert exposure.loc[receiver, "received_kg"] > 0.0
        assert exposure.loc[receiver, "accepted_as_clean_share"] == pytest.approx(1.0)
    unknowing = results.diligence_monthly["kg"].sum()
    assert unknowing == pytest.approx(exposure.loc["swiss", "accepted_as_clean_kg"])


def test_checks_that_always_see_through_papers_see_illegal_gold_too():
    results = run(illegal_through_laundering("lot", due_diligence=1.0))
    swiss = results.exposure.set_index("node").loc["swiss"]
    assert swiss["received_kg"] > 0.0  # no sanctions: nothing to refuse it for
    assert swiss["accepted_as_clean_kg"] == 0.0
    assert results.diligence_monthly.empty


def test_papers_that_declare_a_sanctioned_country_are_not_clean():
    """Licensed Venezuelan gold on its own papers, received after sanctions on Venezuela
    begin: the papers say where it came from, so no one takes it unknowingly."""
    data = chain(
        days=60,
        routes={
            "mine_buyer": route("mine", "buyer", transit_days=10.0),
            "buyer_partner": route("buyer", "partner"),
        },
        policies={
            "sanctions": {
                "eo": {
                    "issuer": "USA",
                    "effective": "2018-02-01",
                    "target_jurisdictions": ["VEN"],
                    "default_compliance": 0.0,
                }
            }
        },
        simulation={"documents": True},
    )
    results = run(data)
    partner = results.exposure.set_index("node").loc["partner"]
    assert partner["sanctioned_jurisdiction_kg"] > 0.0
    assert partner["accepted_as_clean_kg"] == 0.0


def test_a_refused_lot_that_comes_back_is_recorded_as_a_re_import_and_not_re_papered():
    results = run(laundered(days=40, due_diligence=0.5), seed=4)
    refused = rows(results, "refused")
    assert not refused.empty
    trade = results.trade_statistics
    colombia = trade[trade["reporterISO"] == "COL"]
    exported = colombia.loc[colombia["flowCode"] == "X", "netWgt"].sum()
    returned = colombia.loc[colombia["flowCode"] == "RM", "netWgt"].sum()
    assert returned > 0.0
    # Every lot shipped from the traders was declared; every one that came back, recorded.
    shipped = rows(results, "shipped")
    assert exported == pytest.approx(shipped.loc[shipped["route"] == "exported", "kg"].sum())
    back = rows(results, "delivered")
    back = back[back["node"] == "traders"]
    back = back[back["route"] == "exported"]
    assert returned == pytest.approx(back["kg"].sum())
    # Each lot is re-papered once by the traders, whatever its trips.
    laundered_rows = rows(results, "laundered")
    assert laundered_rows["lot"].is_unique


def test_the_report_sets_each_crossing_against_what_customs_recorded():
    from flowsim.report import _crossings, render_report

    data = smuggled("neither")
    data["nodes"]["mine"]["legal_status"] = "illegal"
    data["nodes"]["traders"]["laundering"] = {"share": 0.5}
    results = run(data, seed=5)
    table = _crossings(results).set_index(["exporter", "importer"])
    shipped = rows(results, "shipped").groupby("route", observed=True)["kg"].sum()
    smuggled_in = table.loc[("VEN", "COL")]
    assert smuggled_in["shipped kg"] == pytest.approx(shipped["into_colombia"])
    assert smuggled_in["exporter recorded kg"] == smuggled_in["importer recorded kg"] == 0.0
    onward = table.loc[("COL", "USA")]
    assert onward["shipped kg"] == pytest.approx(shipped["to_us"])
    laundered = rows(results, "laundered")["kg"].sum()
    assert onward["exporter recorded kg"] == pytest.approx(laundered)
    assert "Crossings: what moved against what customs recorded" in render_report(results)


def test_purchases_are_what_a_buyer_took_in_not_what_came_back_refused():
    # A partner whose checks see through every laundering step refuses every lot: each
    # comes back to the traders, delivered there again, and is not a purchase.
    results = run(laundered(days=20, due_diligence=1.0))
    ledger = results.ledger
    delivered = ledger[ledger["event"] == "delivered"]
    routes = results.routes.set_index("route")
    node = delivered["node"].astype(str)
    bought = delivered[delivered["route"].astype(str).map(routes["to_node"]) == node]
    returned = delivered[delivered["route"].astype(str).map(routes["from_node"]) == node]
    assert len(returned) > 0
    table = results.purchases_monthly
    assert set(table["buyer"]) == set(bought["node"].astype(str))
    by_node = table.groupby("buyer")["kg"].sum()
    expected = bought.groupby(bought["node"].astype(str))["kg"].sum()
    for name in expected.index:
        assert by_node[name] == pytest.approx(expected[name])
    metrics = results.metrics({"purchases_kg_monthly"})
    assert metrics["value"].sum() == pytest.approx(table["kg"].sum())
    assert metrics["metric"].str.match(r"^purchases_kg_monthly\.\w+\.\d{4}-\d{2}$").all()
