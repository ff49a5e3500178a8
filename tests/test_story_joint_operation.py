"""The joint Peru-Colombia operation's story, in direction
(docs/scenarios/peru_colombia_joint_operation.md): checks on the river route into Colombia
cut what it carries by about two fifths, and the traders of Puerto Maldonado send the gold to
the Lima exporters instead, so Colombia declares less; the shared stings lower the
output of raided mines in both countries. The rerouting is route choice: with a static
split the gold is seized or held on the checked route, and Lima gains nothing.

Each change is judged against what chance alone gives: the 95% interval of the paired
difference over replications with the same seeds.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import flowsim
from flowsim.stats import confidence_interval

SCENARIOS = Path(__file__).parents[1] / "scenarios"
REPLICATIONS = 5
STATIC = ["behaviour.route_choice=static"]


# The 95% interval of a paired difference's mean over replications.
paired = confidence_interval


def received(results, nodes) -> pd.DataFrame:
    ledger = results.ledger
    rows = ledger[(ledger["event"] == "delivered") & ledger["node"].isin(nodes)]
    table = rows.groupby(["replication", "node"], observed=True)["kg"].sum().unstack()
    return table.reindex(columns=nodes, fill_value=0.0)


def declared(results, jurisdiction) -> pd.Series:
    table = results.trade_statistics
    rows = table[(table["reporterISO"] == jurisdiction) & (table["flowCode"] == "X")]
    return rows.groupby("replication")["netWgt"].sum()


@pytest.fixture(scope="module")
def runs():
    def run(name, overrides=()):
        return flowsim.simulate(
            SCENARIOS / f"{name}.toml", seed=1, replications=REPLICATIONS, overrides=overrides
        )

    return {
        "baseline": run("peru_colombia_2014"),
        "joint": run("peru_colombia_joint_operation"),
        "baseline_static": run("peru_colombia_2014", STATIC),
        "joint_static": run("peru_colombia_joint_operation", STATIC),
    }


LIMA = ["lima_exporter_a", "lima_exporter_b"]


def test_the_checks_cut_the_river_route_and_the_gold_goes_to_lima(runs):
    base, joint = runs["baseline"], runs["joint"]
    river = received(joint, ["leticia_traders"]) - received(base, ["leticia_traders"])
    high = paired(river["leticia_traders"])[1]
    # About -41% at 10 replications; at 5, the interval's upper end is about -30%.
    assert high < -0.2 * received(base, ["leticia_traders"]).mean().iloc[0]
    lima = (received(joint, LIMA) - received(base, LIMA)).sum(axis=1)
    assert paired(lima)[0] > 0
    assert paired(declared(joint, "COL") - declared(base, "COL"))[1] < 0


def test_the_rerouting_is_route_choice(runs):
    """With a static split, the checked route carries its share whatever is seized on
    it: the Lima exporters gain nothing beyond chance."""
    base, joint = runs["baseline_static"], runs["joint_static"]
    lima = (received(joint, LIMA) - received(base, LIMA)).sum(axis=1)
    low, high = paired(lima)
    assert low < 0 < high or high < 0


def test_the_shared_stings_lower_output_in_both_countries(runs):
    def produced(results):
        table = results.production_monthly
        return table.groupby(["replication", "mine"], observed=True)["kg"].sum().unstack()

    change = produced(runs["joint"]) - produced(runs["baseline"])
    for mines in (["huepetuhe", "la_pampa", "delta", "others"], ["choco_eln_mines"]):
        assert paired(change[mines].sum(axis=1))[1] < 0, mines
    # Mines no sting may fall on are untouched.
    assert (change[["formalising", "licensed_mines", "other_illegal_mines"]] == 0).all().all()
