"""Every scenario shipped in scenarios/ runs and balances; the Venezuela pair
predicts a figure it was not fitted to, and has its direction of effect."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from shipped import SHIPPED_SCENARIOS

import flowsim

SCENARIOS = SHIPPED_SCENARIOS


@pytest.fixture(scope="module")
def venezuela():
    folder = Path(__file__).parents[1] / "scenarios"
    return {
        name: flowsim.simulate(folder / f"venezuela_{name}.toml", seed=1)
        for name in ("baseline", "sanctions")
    }


def test_there_are_scenarios():
    names = {p.stem for p in SCENARIOS}
    assert {"venezuela_baseline", "venezuela_sanctions", "peru_madre_de_dios_2014"} <= names


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_every_scenario_runs_and_its_mass_balances(path):
    results = flowsim.simulate(path, seed=0, replications=2)
    balance = results.balance()
    assert balance["ok"].all(), balance
    results.check_balance()
    summary = results.summary()
    assert summary["totals_kg"]["produced"] > 0
    assert summary["totals_kg"]["exported"] > 0
    assert set(summary["exports_kg_by_partner"]) == set(results.partners)


def test_the_calibrated_baseline_predicts_turkeys_held_out_figure_of_jan_jul_2018(venezuela):
    """Turkey's imports of Jan-Jul 2018 ($834M, VEN-TUR-JUL) were held out of the fit
    (scenarios/venezuela_sanctions.calibration.toml): within 2 of its sds (5% each).
    The other held-out figure, "almost $900M" in 2018, lies outside the calibration's
    predictive interval of the simulated value and inside the one that adds the
    figure's own error: this run gives about $1.04bn, and docs/calibration.md says so."""
    table = venezuela["baseline"].exports_monthly
    turkey = table[(table["partner"] == "turkey") & (table["month"] < pd.Timestamp("2018-08-01"))]
    assert turkey["usd"].sum() == pytest.approx(834e6, rel=0.10)


def test_sanctions_lower_some_partners_exports_and_not_the_total(venezuela):
    base = venezuela["baseline"].summary()
    sanctioned = venezuela["sanctions"].summary()
    table = flowsim.compare_exports(base, sanctioned).set_index("partner")
    assert (table.drop("total")["change_kg"] < 0).any()
    assert table.loc["total", "change_kg"] <= 0
    # Compliant partners lose Venezuelan gold; one that ignores the order gains.
    assert table.loc["united_states", "change_kg"] < 0
    assert table.loc["switzerland", "change_kg"] < 0
    assert table.loc["uae", "change_kg"] > 0


def test_sanctions_change_nothing_before_the_executive_order(venezuela):
    def before(results):
        table = results.exports_monthly
        return table[table["month"] < pd.Timestamp("2018-11-01")].reset_index(drop=True)

    pd.testing.assert_frame_equal(before(venezuela["baseline"]), before(venezuela["sanctions"]))


def test_disabling_every_sanction_gives_back_the_baseline(venezuela):
    folder = Path(__file__).parents[1] / "scenarios"
    overrides = [
        f"policies.sanctions.{name}.enabled=false"
        for name in ("eo13850_gold_sector", "minerven_designation", "bcv_designation")
    ]
    off = flowsim.simulate(folder / "venezuela_sanctions.toml", seed=1, overrides=overrides)
    pd.testing.assert_frame_equal(off.ledger, venezuela["baseline"].ledger)


def test_sanctions_reroute_rather_than_stop_the_flow():
    """Issue acceptance: with 3 replications, sanctions keep at least 60% of the
    baseline's exports, some partner gains, and exposure is reported."""
    folder = Path(__file__).parents[1] / "scenarios"
    base = flowsim.simulate(folder / "venezuela_baseline.toml", seed=1, replications=3)
    sanctioned = flowsim.simulate(folder / "venezuela_sanctions.toml", seed=1, replications=3)
    table = flowsim.compare_exports(base, sanctioned).set_index("partner")
    assert table.loc["total", "scenario_kg"] >= 0.6 * table.loc["total", "baseline_kg"]
    assert (table.drop("total")["change_kg"] > 0).any()
    exposure = sanctioned.summary()["exposure_by_partner"]
    assert set(exposure) == set(sanctioned.partners)
    for figures in exposure.values():
        for name in ("illegal_origin", "sanctioned_entity", "sanctioned_jurisdiction"):
            assert 0.0 <= figures[f"{name}_share"] <= 1.0
    assert any(f["sanctioned_entity_share"] > 0 for f in exposure.values())
    # Compliant partners take less Venezuelan gold after the designations.
    monthly = sanctioned.exports_monthly.groupby(["partner", "month"])["kg"].mean()
    baseline = base.exports_monthly.groupby(["partner", "month"])["kg"].mean()
    after = pd.IndexSlice[:, pd.Timestamp("2019-04-01") :]
    assert (
        monthly.loc[after].loc["switzerland"].sum() < baseline.loc[after].loc["switzerland"].sum()
    )
    assert monthly.loc[after].loc["uae"].sum() > baseline.loc[after].loc["uae"].sum()


def test_colombia_declares_more_than_it_mines_and_sanctioned_gold_reaches_switzerland_via_dubai(
    venezuela,
):
    """Papers in the Venezuela scenario: Colombian traders re-paper smuggled gold, so
    Colombia's customs declare exports that no Colombian mine produced; and the UAE
    sells on to Swiss refiners gold mined in a sanctioned jurisdiction."""
    results = venezuela["sanctions"]
    summary = results.summary()
    colombia = summary["declared_exports_kg_by_jurisdiction"]["COL"]
    assert colombia > 1000.0
    less = summary["declared_exports_less_production_kg_by_jurisdiction"]["COL"]
    assert less == pytest.approx(colombia, rel=1e-12)  # no Colombian mine in the scenario
    routes = results.exposure_by_destination.set_index(["node", "first_destination"])
    through = routes.loc[("switzerland", "uae")]
    assert through["received_kg"] > 1000.0
    assert through["sanctioned_jurisdiction_share"] > 0.1
    assert summary["laundered_kg_by_node"]["colombia_traders"] > 0.0


def test_lima_exporters_give_madre_de_dios_gold_legal_papers():
    folder = Path(__file__).parents[1] / "scenarios"
    summary = flowsim.simulate(folder / "peru_madre_de_dios_2014.toml", seed=1).summary()
    laundered = summary["laundered_kg_by_node"]
    assert laundered["lima_exporter_a"] > 0.0 and laundered["lima_exporter_b"] > 0.0
    swiss = summary["exposure_by_partner"]["switzerland"]
    # Gold of illegal origin that arrives with legal export papers.
    assert swiss["accepted_as_clean_share"] > 0.5
    assert swiss["accepted_as_clean_share"] <= swiss["illegal_origin_share"] + 1e-12


def test_colombias_excess_of_declared_exports_comes_from_re_papering():
    folder = Path(__file__).parents[1] / "scenarios"
    without = flowsim.simulate(
        folder / "venezuela_sanctions.toml",
        seed=1,
        overrides=["nodes.colombia_traders.laundering.share=0.0"],
    ).summary()
    # With no Colombian papers, the smuggled gold leaves Colombia unrecorded.
    less = without["declared_exports_less_production_kg_by_jurisdiction"].get("COL", 0.0)
    assert less == pytest.approx(0.0, abs=1e-9)
