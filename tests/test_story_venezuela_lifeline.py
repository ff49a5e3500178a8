"""The story of scenarios/venezuela_lifeline_2018_2020.toml holds in direction.

Until the bank's designation (1 Nov 2018 to 16 Apr 2019, under EO 13850 and then
Minerven's designation), against the same world without the US orders: the sellers of the
Mining Arc leave the smuggling route into Colombia, whose traders sell to the US and
Switzerland, which refuse half of it, for the state, and the central bank sends the gold
on to Turkey, which ignores both orders; the UAE takes more.

From EO 13884 (5 Aug 2019) to the end of 2020, against the same world without the US
orders: Turkish buyers, under rising pressure, turn much of the central bank's gold away,
so the routes to Turkey are worth less to the bank and its route choice sends the gold to
Russia and Iran, which comply little or not at all; the UAE takes more, up to its appetite
and no further; total exports hardly change; and the reserve falls as its sales find
buyers. docs/scenarios/venezuela_lifeline_2018_2020.md gives the figures and explains
each partner whose imports rise.

Each change is judged against what chance alone gives: the 95% interval of the paired
difference over five replications with the same seeds (the two runs share their random
numbers where they can, docs/scenarios.md, "Time, replications, randomness").

The checks fail when the mechanisms are switched off (overrides, below): with no pressure
on Turkey (its compliance 0 under the designation and EO 13884), Turkey gains and the
allies do not (the last test); with Russia, China and Iran complying as the US does, the
allies lose and the bank's sales pile up unsold; with the UAE's appetite lifted, the UAE
takes more than the scenario gives it; with the US and Switzerland ignoring EO 13850,
Turkey gains little until the bank's designation.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from periods import kg_between, paired, rising

import flowsim
from flowsim.stats import confidence_interval

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "venezuela_lifeline_2018_2020.toml"
BASELINE = ROOT / "scenarios" / "venezuela_lifeline_2018_2020_baseline.toml"
PAGE = ROOT / "docs" / "scenarios" / "venezuela_lifeline_2018_2020.md"
REPLICATIONS = 5
EO13850 = pd.Timestamp("2018-11-01")  # VEN-EO13850
BCV_DESIGNATION = pd.Timestamp("2019-04-17")  # VEN-BCV-SDN
EO13884 = pd.Timestamp("2019-08-01")  # from the month of EO 13884 (VEN-EO13884)
END = pd.Timestamp("2021-01-01")
# The partners whose rise the page explains, by the heading of its explanation.
EXPLAINED = {
    "russia": "Why Russia's and Iran's imports rise",
    "iran": "Why Russia's and Iran's imports rise",
    "uae": "Why the UAE's imports rise, and stop at its appetite",
}
# Before the bank's designation, under EO 13850 and Minerven's.
EXPLAINED_BEFORE_THE_BANK = {
    "turkey": "Why Turkey's imports rise until the bank's designation",
    "uae": "Why the UAE's imports rise, and stop at its appetite",
}
US_AND_SWITZERLAND_IGNORE_EO13850 = [
    f"policies.sanctions.eo13850_gold_sector.compliance.{partner}=0.0"
    for partner in ("united_states", "switzerland")
]
REGIMES_ON_THE_STATE = ("minerven_designation", "bcv_designation", "eo13884_government")
ALLIES_COMPLY = [
    f"policies.sanctions.{regime}.compliance.{ally}=1.0"
    for regime in REGIMES_ON_THE_STATE
    for ally in ("russia", "china", "iran")
]
NO_PRESSURE_ON_TURKEY = [
    "policies.sanctions.bcv_designation.compliance.turkey=0.0",
    "policies.sanctions.bcv_designation.compliance_changes=[]",
    "policies.sanctions.eo13884_government.compliance.turkey=0.0",
]
NO_APPETITE = ["nodes.uae.appetite_kg_per_month=1e9"]


def run(path: Path, overrides: list[str] = ()) -> flowsim.Results:
    return flowsim.simulate(path, seed=1, replications=REPLICATIONS, overrides=list(overrides))


@pytest.fixture(scope="module")
def runs() -> dict[str, flowsim.Results]:
    return {
        "baseline": run(BASELINE),
        "lifeline": run(SCENARIO),
        "allies_comply": run(SCENARIO, ALLIES_COMPLY),
        "no_appetite": run(SCENARIO, NO_APPETITE),
    }


def after_eo13884(results: flowsim.Results) -> pd.DataFrame:
    """Exports in kg from the month of EO 13884 on, replications as rows, partners as
    columns, with a total."""
    return kg_between(results, EO13884, END)


def changes(base: flowsim.Results, other: flowsim.Results) -> pd.DataFrame:
    """Each partner's change after EO 13884, with the 95% interval of the paired
    difference."""
    return paired(after_eo13884(base), after_eo13884(other))


def before_the_banks_designation(results: flowsim.Results, bought: bool = False):
    return kg_between(results, EO13850, BCV_DESIGNATION, bought)


def story_holds(table: pd.DataFrame) -> bool:
    """Turkey loses beyond chance, Russia and Iran gain beyond chance, and the total
    moves by less than 5% of the baseline's."""
    total = table.loc["total"]
    return bool(
        table.loc["turkey", "high"] < 0
        and table.loc["russia", "low"] > 0
        and table.loc["iran", "low"] > 0
        and total["low"] > -0.05 * total["baseline_kg"]
        and total["high"] < 0.05 * total["baseline_kg"]
    )


def held_at_the_bank(results: flowsim.Results) -> np.ndarray:
    """Gold at the central bank at the end, beyond its reserve, by replication: what it
    sold that no partner took."""
    stocks = results.stocks_monthly
    last = stocks[(stocks["month"] == stocks["month"].max()) & (stocks["node"] == "bcv")]
    levels = results.reserves
    reserve = levels[levels["month"] == levels["month"].max()]
    return (
        last.groupby("replication")["kg"].sum() - reserve.groupby("replication")["kg"].sum()
    ).to_numpy()


def test_after_eo13884_the_banks_gold_leaves_turkey_for_its_allies(runs):
    table = changes(runs["baseline"], runs["lifeline"])
    assert story_holds(table), table
    assert rising(table) <= set(EXPLAINED), table
    page = PAGE.read_text()
    for partner in rising(table):
        assert EXPLAINED[partner] in page


def test_before_the_banks_designation_the_smugglers_gold_goes_to_the_state_and_turkey(runs):
    base, scenario = runs["baseline"], runs["lifeline"]
    table = paired(before_the_banks_designation(base), before_the_banks_designation(scenario))
    assert rising(table) <= set(EXPLAINED_BEFORE_THE_BANK), table
    assert table.loc["turkey", "low"] > 0, table
    page = PAGE.read_text()
    for partner in rising(table):
        assert EXPLAINED_BEFORE_THE_BANK[partner] in page
    # The mechanism: the sellers leave the route into Colombia for the state's buyers.
    bought = paired(
        before_the_banks_designation(base, bought=True),
        before_the_banks_designation(scenario, bought=True),
    )
    assert bought.loc["colombia_traders", "high"] < 0, bought
    assert bought.loc["minerven", "low"] > 0 and bought.loc["bcv", "low"] > 0, bought
    # What lifts Turkey is the US's and Switzerland's refusals: with both ignoring
    # EO 13850, Turkey gains less than a quarter as much, a difference beyond chance.
    ignoring = run(SCENARIO, US_AND_SWITZERLAND_IGNORE_EO13850)
    unchanged = paired(
        before_the_banks_designation(base, bought=True),
        before_the_banks_designation(ignoring, bought=True),
    ).loc["colombia_traders"]
    assert unchanged["low"] < 0 < unchanged["high"], unchanged
    turkey = {
        name: before_the_banks_designation(results)["turkey"]
        for name, results in (("base", base), ("scenario", scenario), ("ignoring", ignoring))
    }
    refusals = confidence_interval((turkey["scenario"] - turkey["ignoring"]).to_numpy())
    assert refusals[0] > 0, refusals
    gain, gain_ignoring = turkey["scenario"] - turkey["base"], turkey["ignoring"] - turkey["base"]
    assert gain_ignoring.mean() < 0.25 * gain.mean(), (gain, gain_ignoring)


def test_after_the_banks_designation_only_partners_whose_rise_is_explained_gain(runs):
    """From the bank's designation to EO 13884, and after it, each on its own."""
    base, scenario = runs["baseline"], runs["lifeline"]
    for first, last in ((BCV_DESIGNATION, EO13884), (EO13884, END)):
        table = paired(kg_between(base, first, last), kg_between(scenario, first, last))
        assert rising(table) <= set(EXPLAINED), (first, table)
        assert "uae" in rising(table), (first, table)


def test_the_uae_takes_up_to_its_appetite_and_no_more(runs):
    scenario = runs["lifeline"]
    appetite = scenario.appetite_monthly
    appetite = appetite[(appetite["partner"] == "uae") & (appetite["month"] >= EO13884)]
    assert (appetite["sent_kg"] <= appetite["appetite_kg"] + 1e-6).all()
    full = appetite["sent_kg"] >= 0.95 * appetite["appetite_kg"]
    assert full.mean() > 0.8, appetite
    # The appetite is what holds it: lifted, the UAE takes more, beyond chance.
    lifted = changes(scenario, runs["no_appetite"])
    assert lifted.loc["uae", "low"] > 0, lifted


def test_the_reserve_falls_and_its_sales_find_buyers(runs):
    scenario = runs["lifeline"]
    levels = scenario.reserves
    year_ends = levels[levels["month"].dt.month == 12].groupby("month")["kg"].mean()
    assert list(year_ends.index.year) == [2018, 2019, 2020]
    assert year_ends.is_monotonic_decreasing and year_ends.is_unique
    # What the bank sells leaves: less than 30 kg is left at the bank, about 2% of one
    # month's sales in 2020 (1,454 kg).
    assert (held_at_the_bank(scenario) < 30.0).all()


def test_the_allies_are_the_lifeline(runs):
    """With Russia, China and Iran refusing the state's gold as the US does, they lose
    against the baseline, no partner they would have replaced rises instead of them, and
    the bank's sales pile up in its vaults."""
    table = changes(runs["baseline"], runs["allies_comply"])
    for ally in ("russia", "china", "iran"):
        assert table.loc[ally, "high"] < 0, table
    assert rising(table) <= {"uae"}
    assert (held_at_the_bank(runs["allies_comply"]) > 10_000.0).all()


def test_the_checks_fail_when_turkey_is_under_no_pressure(runs):
    # The mechanism of the shift: Turkish buyers refuse the government's gold. With
    # Turkey ignoring the designation and EO 13884 as it ignores EO 13850, Turkey keeps
    # the bank's gold and the allies do not gain.
    table = changes(runs["baseline"], run(SCENARIO, NO_PRESSURE_ON_TURKEY))
    assert not story_holds(table)
    assert table.loc["turkey", "low"] > 0
    assert not rising(table) & {"russia", "iran"}
