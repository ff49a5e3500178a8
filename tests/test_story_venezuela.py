"""Direction is a result: under the Venezuela sanctions scenarios, a partner's imports rise
against the baseline only where docs/scenarios/venezuela.md explains the mechanism, and the
mechanism is pinned by a counterfactual.

The explanation: the sanctions make complying partners (the US and Switzerland) refuse or
discount Venezuelan gold, so every node upstream values the routes that end there less
(docs/behaviour.md, "Prices, margins and output"), and route choice sends the gold to the
partner that ignores the orders. If the UAE complied as the US does, the gain would move
to Turkey, the one partner left that does not.

Each period between the orders is judged on its own as well. Until the bank's designation
(17 Apr 2019) Turkey gains too: the US's and Switzerland's refusals make the route into
Colombia, whose traders sell only to them, worth less, so the sellers turn to the state,
and the bank sends the gold on to Turkey. With the US and Switzerland ignoring EO 13850,
Turkey gains nothing in that period.

Each change is judged against what chance alone gives: the 95% interval of the paired
difference over five replications with the same seeds (flowsim.compare_exports).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from periods import kg_between, paired
from periods import rising as rising_in

import flowsim
from flowsim.stats import confidence_interval

ROOT = Path(__file__).parents[1]
SCENARIOS = ROOT / "scenarios"
PAGE = ROOT / "docs" / "scenarios" / "venezuela.md"
REPLICATIONS = 5
# The partners whose rise the page explains, by the heading of its explanation.
EXPLAINED = {"uae": "Why the UAE's imports rise"}
EO13850 = pd.Timestamp("2018-11-01")  # VEN-EO13850
BCV_DESIGNATION = pd.Timestamp("2019-04-17")  # VEN-BCV-SDN
END = pd.Timestamp("2020-01-01")
# Each period between the orders, with the partners whose rise the page explains in it.
PERIODS = {
    (EO13850, BCV_DESIGNATION): {
        "turkey": "Why Turkey's imports rise until the bank's designation",
        "uae": "Why the UAE's imports rise",
    },
    (BCV_DESIGNATION, END): {"uae": "Why the UAE's imports rise"},
}
US_AND_SWITZERLAND_IGNORE_EO13850 = [
    f"policies.sanctions.eo13850_gold_sector.compliance.{partner}=0.0"
    for partner in ("united_states", "switzerland")
]
UAE_COMPLIES = [
    "policies.sanctions.eo13850_gold_sector.compliance.uae=0.5",
    "policies.sanctions.minerven_designation.compliance.uae=1.0",
    "policies.sanctions.bcv_designation.compliance.uae=1.0",
]


@pytest.fixture(scope="module")
def runs():
    def run(name, overrides=()):
        return flowsim.simulate(
            SCENARIOS / f"{name}.toml",
            seed=1,
            replications=REPLICATIONS,
            overrides=list(overrides),
        )

    return {
        "baseline": run("venezuela_baseline"),
        "sanctions": run("venezuela_sanctions"),
        "sanctions_fuel": run("venezuela_sanctions_fuel"),
        "uae_complies": run("venezuela_sanctions", UAE_COMPLIES),
        "us_and_switzerland_ignore": run("venezuela_sanctions", US_AND_SWITZERLAND_IGNORE_EO13850),
    }


def changes(runs, name):
    table = flowsim.compare_exports(runs["baseline"], runs[name]).set_index("partner")
    return table.drop("total")


def rising(table):
    """Partners whose imports rise beyond what chance alone gives."""
    return set(table.index[table["change_kg_low"] > 0])


@pytest.mark.parametrize("name", ["sanctions", "sanctions_fuel"])
def test_only_partners_whose_rise_is_explained_gain_under_the_sanctions(runs, name):
    table = changes(runs, name)
    assert rising(table) <= set(EXPLAINED), table
    page = PAGE.read_text()
    for partner in rising(table):
        assert EXPLAINED[partner] in page
    # The partners that comply lose, beyond chance.
    assert table.loc["united_states", "change_kg_high"] < 0
    assert table.loc["switzerland", "change_kg_high"] < 0


def test_the_gain_goes_to_whichever_partner_ignores_the_orders(runs):
    """The explanation, pinned: with the UAE complying as the US does, the UAE no longer
    gains and Turkey, which still ignores EO 13850, does."""
    table = changes(runs, "sanctions")
    assert rising(table) == {"uae"}
    counterfactual = changes(runs, "uae_complies")
    assert counterfactual.loc["uae", "change_kg_high"] < 0
    assert rising(counterfactual) == {"turkey"}


@pytest.mark.parametrize("name", ["sanctions", "sanctions_fuel"])
def test_in_each_period_between_the_orders_only_explained_partners_gain(runs, name):
    page = PAGE.read_text()
    for (first, last), explained in PERIODS.items():
        base = kg_between(runs["baseline"], first, last)
        table = paired(base, kg_between(runs[name], first, last))
        assert rising_in(table) <= set(explained), (first, table)
        assert "uae" in rising_in(table), (first, table)
        for partner in rising_in(table):
            assert explained[partner] in page


def test_until_the_banks_designation_turkey_gains_from_the_us_and_swiss_refusals(runs):
    """The sellers leave the route into Colombia for the state, and the bank's gold goes
    to Turkey; with the US and Switzerland ignoring EO 13850, Turkey gains less than a
    quarter as much, a difference beyond chance."""
    first, last = EO13850, BCV_DESIGNATION
    base, scenario = runs["baseline"], runs["sanctions"]
    bought = paired(kg_between(base, first, last, True), kg_between(scenario, first, last, True))
    assert bought.loc["colombia_traders", "high"] < 0, bought
    assert bought.loc["minerven", "low"] > 0 and bought.loc["bcv", "low"] > 0, bought
    ignoring = kg_between(runs["us_and_switzerland_ignore"], first, last, True)
    unchanged = paired(kg_between(base, first, last, True), ignoring).loc["colombia_traders"]
    assert unchanged["low"] < 0 < unchanged["high"], unchanged
    turkey = {
        name: kg_between(runs[name], first, last)["turkey"]
        for name in ("baseline", "sanctions", "us_and_switzerland_ignore")
    }
    gain = turkey["sanctions"] - turkey["baseline"]
    gain_ignoring = turkey["us_and_switzerland_ignore"] - turkey["baseline"]
    assert confidence_interval(gain.to_numpy())[0] > 0, gain
    assert confidence_interval((gain - gain_ignoring).to_numpy())[0] > 0
    assert gain_ignoring.mean() < 0.25 * gain.mean(), (gain, gain_ignoring)
