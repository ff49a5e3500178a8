"""Direction is a result: under the Venezuela sanctions scenarios, a partner's imports rise
against the baseline only where docs/scenarios/venezuela.md explains the mechanism, and the
mechanism is pinned by a counterfactual.

The explanation: the sanctions make complying partners (the US and Switzerland) refuse or
discount Venezuelan gold, so every node upstream values the routes that end there less
(docs/behaviour.md, "Prices, margins and output"), and route choice sends the gold to the
partner that ignores the orders. If the UAE complied as the US does, the gain would move
to Turkey, the one partner left that does not.

Each change is judged against what chance alone gives: the 95% interval of the paired
difference over five replications with the same seeds (flowsim.compare_exports).
"""

from __future__ import annotations

from pathlib import Path

import pytest

import flowsim

ROOT = Path(__file__).parents[1]
SCENARIOS = ROOT / "scenarios"
PAGE = ROOT / "docs" / "scenarios" / "venezuela.md"
REPLICATIONS = 5
# The partners whose rise the page explains, by the heading of its explanation.
EXPLAINED = {"uae": "Why the UAE's imports rise"}
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
