"""Exposure accounting follows the gold: due-diligence shares are mass shares.

The OECD due-diligence guidance and the LBMA responsible-gold rules ask a
refiner or importer what share of the gold it received is of illegal origin,
passed through a designated (sanctioned) entity, or was mined in a sanctioned
jurisdiction. These tests check the three shares flowsim reports
(``Results.exposure``, ``summary()["exposure_by_partner"]``) against what the
ledger says went where: zero where no tainted gold can arrive, one where only
tainted gold arrives, the exact mass-weighted mix where a refiner melts lots
from different mines together, and counting only while a regime is in force.
"""

from __future__ import annotations

import pytest
from networks import chain, node, route, rows, run

SHARES = ("illegal_origin_share", "sanctioned_entity_share", "sanctioned_jurisdiction_share")


def partner_exposure(results, partner: str) -> dict[str, float]:
    return results.summary()["exposure_by_partner"][partner]


def test_clean_supply_chain_has_no_exposure():
    """Clean chain: a partner supplied only by licensed mines in an
    unsanctioned country, through operators nobody designated, has every
    exposure share exactly 0 in every replication, even though a sanctioned,
    illegal supply chain runs beside it to another partner."""
    data = chain(days=120)
    data["nodes"] = {
        "concession": node("mine", jurisdiction="PER", entity="mining company"),
        "trader": node("buyer", jurisdiction="PER", entity="licensed trader"),
        "clean": node("partner", jurisdiction="CHE", entity="Swiss refiners"),
        "dredge": node("mine", legal_status="illegal", entity="wildcat miners"),
        "front": node("buyer", entity="Front Company"),
        "dirty": node("partner", jurisdiction="ARE", entity="UAE refiners"),
    }
    data["routes"] = {
        "concession_trader": route("concession", "trader"),
        "trader_clean": route("trader", "clean"),
        "dredge_front": route("dredge", "front"),
        "front_dirty": route("front", "dirty"),
    }
    data["policies"] = {
        "sanctions": {
            "eo": {
                "issuer": "USA",
                "effective": "2018-01-01",
                "target_jurisdictions": ["VEN"],
                "target_entities": ["Front Company"],
            }
        }
    }
    results = run(data, replications=2)
    table = results.exposure
    clean = table[table["node"] == "clean"]
    assert len(clean) == 2 and (clean["received_kg"] > 1000).all()
    for share in SHARES:
        assert (clean[share] == 0.0).all()
        assert (clean[share.replace("_share", "_kg")] == 0.0).all()
    summary = partner_exposure(results, "clean")
    assert [summary[s] for s in SHARES] == [0.0, 0.0, 0.0]
    # The other chain is exposed on every count, so the zeros above are not vacuous.
    assert [partner_exposure(results, "dirty")[s] for s in SHARES] == [1.0, 1.0, 1.0]


def test_gold_from_a_designated_entity_after_designation_is_fully_exposed():
    """Designated-entity exposure: a partner whose only supplier is a buyer
    designated from the first day of the run received nothing that had not
    passed through that entity while designated: sanctioned_entity_share is
    exactly 1, and the two other shares stay 0 (licensed mine, entity-only
    designation)."""
    data = chain(days=90)
    data["nodes"]["buyer"]["entity"] = "Designated Trader"
    data["policies"] = {
        "sanctions": {
            "ofac": {
                "issuer": "USA",
                "effective": "2018-01-01",
                "target_entities": ["Designated Trader"],
            }
        }
    }
    results = run(data)
    exposure = partner_exposure(results, "partner")
    assert exposure["received_kg"] == pytest.approx(rows(results, "exported")["kg"].sum())
    assert exposure["sanctioned_entity_share"] == 1.0
    assert exposure["sanctioned_entity_kg"] == exposure["received_kg"]
    assert exposure["illegal_origin_share"] == 0.0
    assert exposure["sanctioned_jurisdiction_share"] == 0.0


def test_designation_taints_only_gold_that_left_the_entity_after_it():
    """Designated-entity exposure, timing: with the designation in force from
    day 31, the exposed mass is exactly the mass of the lots that left the
    designated buyer on or after day 31 (read off the ledger); gold it sold
    before the designation stays clean."""
    data = chain(days=90)
    data["nodes"]["buyer"]["entity"] = "Designated Trader"
    data["policies"] = {
        "sanctions": {
            "ofac": {
                "issuer": "USA",
                "effective": "2018-02-01",
                "target_entities": ["Designated Trader"],
            }
        }
    }
    results = run(data)
    shipped = rows(results, "shipped")
    late = shipped[(shipped["node"] == "buyer") & (shipped["day"] >= 31)]["lot"]
    exported = rows(results, "exported")
    expected = exported[exported["lot"].isin(late)]["kg"].sum()
    exposure = partner_exposure(results, "partner")
    assert 0 < expected < exposure["received_kg"]
    assert exposure["sanctioned_entity_kg"] == pytest.approx(expected, rel=1e-12)
    assert exposure["sanctioned_entity_share"] == pytest.approx(
        expected / exported["kg"].sum(), rel=1e-12
    )


def test_gold_held_at_a_designated_refinery_stays_exposed_after_the_designation_lapses():
    """Designated-entity exposure follows the gold, not the calendar: a refinery
    is designated for the first 30 days; it is slow, so lots that reached it
    while it was designated are melted and sold after the designation lapsed.
    Exactly the gold that was at the refinery while designated is exposed: the
    exposed kg at the partner equal, batch by batch (melts table), the mass of
    the inputs delivered to the refinery before day 30."""
    data = chain(days=120)
    del data["nodes"]["buyer"]
    data["nodes"]["refinery"] = node(
        "refiner", entity="Gold Refinery SA", capacity_kg_per_day=6.0, batch_kg=40.0
    )
    data["routes"] = {
        "mine_refinery": route("mine", "refinery"),
        "refinery_partner": route("refinery", "partner"),
    }
    data["policies"] = {
        "sanctions": {
            "ofac": {
                "issuer": "USA",
                "effective": "2018-01-01",
                "until": "2018-01-30",  # in force on days 0 to 29
                "target_entities": ["Gold Refinery SA"],
            }
        }
    }
    results = run(data)
    delivered = rows(results, "delivered")
    early = set(delivered[delivered["day"] < 30]["lot"])
    parts = results.melts.groupby("batch")
    exported = rows(results, "exported")
    expected = 0.0
    for lot, kg in zip(exported["lot"], exported["kg"], strict=True):
        if lot in parts.groups:
            inputs = parts.get_group(lot)
            expected += kg * inputs[inputs["lot"].isin(early)]["kg"].sum() / inputs["kg"].sum()
        elif lot in early:
            expected += kg
    assert (exported["day"] >= 45).any() and results.melts["day"].max() > 30
    exposure = partner_exposure(results, "partner")
    assert 0 < expected < exposure["received_kg"]
    # Lots that came before day 30 were still being sold well after it.
    assert expected > 10.0 * 30 * 0.9
    assert exposure["sanctioned_entity_kg"] == pytest.approx(expected, rel=1e-9)


def melting_refinery(days: int = 120, purities: tuple[float, float] = (1.0, 1.0)) -> dict:
    """An illegal dredge (3 kg/day) and a licensed concession (7 kg/day) sell to a
    refinery that melts waiting lots into batches of up to 50 kg. It handles
    only 8 kg a day (and two days a batch), so a queue forms and batches mix."""
    data = chain(days=days)
    data["nodes"] = {
        "dredge": node(
            "mine",
            legal_status="illegal",
            entity="wildcat miners",
            production_kg_per_day=3.0,
            purity=purities[0],
        ),
        "concession": node(
            "mine", entity="mining company", production_kg_per_day=7.0, purity=purities[1]
        ),
        "refinery": node("refiner", capacity_kg_per_day=8.0, processing_days=2.0, batch_kg=50.0),
        "partner": node("partner"),
    }
    data["routes"] = {
        "dredge_refinery": route("dredge", "refinery"),
        "concession_refinery": route("concession", "refinery", transit_days=2.0),
        "refinery_partner": route("refinery", "partner"),
    }
    return data


def origin_mix_of_exports(results, weight_by_purity: dict[str, float] | None = None):
    """From the ledger and the melts table: for every lot the partner took, the
    share of its gold that came from the dredge, weighted by mass as produced
    (or by fine gold, if purities are given); then the partner's total kg and
    dredge kg."""
    produced = rows(results, "produced").set_index("lot")
    weight = produced["kg"]
    if weight_by_purity is not None:
        weight = weight * produced["node"].astype(str).map(weight_by_purity)
    melts = results.melts
    parts = melts.groupby("batch")["lot"].apply(list).to_dict()
    exported = rows(results, "exported")
    total = dredge = 0.0
    for lot, kg in zip(exported["lot"], exported["kg"], strict=True):
        inputs = parts.get(lot, [lot])
        from_dredge = sum(weight[i] for i in inputs if produced.loc[i, "node"] == "dredge")
        dredge += kg * from_dredge / sum(weight[i] for i in inputs)
        total += kg
    return total, dredge


def test_melting_mixes_provenance_in_proportion_to_mass():
    """Mass-balance provenance (the 'mass balance' chain-of-custody model of
    ISO 22095): when a refiner melts lots from an illegal and a licensed mine
    together, the illegal-origin share of what the partner received is the
    mass-weighted share of illegal gold in the batches it got, exactly as the
    ledger's produced masses and the melts table say. It lies strictly between
    0 and 1, and near the 30% the illegal mine contributes overall."""
    results = run(melting_refinery())
    melts = results.melts
    assert not melts.empty
    assert melts.groupby("batch").size().max() > 1  # batches really mixed lots
    mines = rows(results, "produced").set_index("lot")["node"].astype(str)
    assert (melts["lot"].map(mines).groupby(melts["batch"]).nunique() == 2).any()
    total, dredge = origin_mix_of_exports(results)
    exposure = partner_exposure(results, "partner")
    assert exposure["received_kg"] == pytest.approx(total, rel=1e-12)
    assert exposure["illegal_origin_kg"] == pytest.approx(dredge, rel=1e-9)
    assert exposure["illegal_origin_share"] == pytest.approx(dredge / total, rel=1e-9)
    assert 0.2 < exposure["illegal_origin_share"] < 0.4


def test_refined_gold_is_attributed_by_fine_gold_when_purities_differ():
    """Mass-balance provenance after refining: the partner receives refined
    gold, whose mass is the fine gold of the inputs (the impurities were
    removed and recorded as lost). So the illegal-origin share of what it
    received is the dredge's share of the *fine* gold in its batches. With
    60%-pure doré from the dredge and 95%-pure doré from the concession, the
    gross-mass and fine-gold shares differ by a third (about 0.30 against
    0.22); weighting by doré mass would overstate the illegal share."""
    purity = {"dredge": 0.6, "concession": 0.95}
    results = run(melting_refinery(purities=(purity["dredge"], purity["concession"])))
    assert results.melts.groupby("batch").size().max() > 1
    total, dredge = origin_mix_of_exports(results, weight_by_purity=purity)
    exposure = partner_exposure(results, "partner")
    assert exposure["received_kg"] == pytest.approx(total, rel=1e-12)
    assert exposure["illegal_origin_share"] == pytest.approx(dredge / total, rel=1e-6)


def test_sanctioned_jurisdiction_share_counts_only_while_the_regime_is_in_force():
    """Jurisdiction exposure is dated: with a regime on the mine's country in
    force from 2018-02-01 to 2018-03-31 (days 31 to 89), the exposed kg are
    exactly the kg the partner received on those days; months wholly outside
    the window show 0 and months inside show 1. The partner does not comply,
    so the flow itself does not change."""
    data = chain(days=150)
    data["policies"] = {
        "sanctions": {
            "eo": {
                "issuer": "USA",
                "effective": "2018-02-01",
                "until": "2018-03-31",
                "target_jurisdictions": ["VEN"],
            }
        }
    }
    results = run(data)
    exported = rows(results, "exported")
    in_force = exported[(exported["day"] >= 31) & (exported["day"] < 90)]["kg"].sum()
    exposure = partner_exposure(results, "partner")
    assert 0 < in_force < exposure["received_kg"]
    assert exposure["sanctioned_jurisdiction_kg"] == pytest.approx(in_force, rel=1e-12)
    assert exposure["sanctioned_jurisdiction_share"] == pytest.approx(
        in_force / exported["kg"].sum(), rel=1e-12
    )
    monthly = results.exposure_monthly
    monthly = monthly[monthly["node"] == "partner"].set_index("month")
    shares = monthly["sanctioned_jurisdiction_share"]
    assert list(shares.to_numpy()) == [0.0, 1.0, 1.0, 0.0, 0.0]
    assert exposure["illegal_origin_share"] == 0.0
    assert exposure["sanctioned_entity_share"] == 0.0
