"""The Peru scenarios' stories, in direction (docs/scenarios/peru_madre_de_dios_2014.md and
docs/scenarios/peru_mercurio_2019.md): the 2014 levers lower every partner's imports, and
only through them; Operation Mercurio empties La Pampa, and half of what it loses
reappears at the other areas, the concessions in formalisation among them.

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
REPLICATIONS = 4


# The 95% interval of a paired difference's mean over replications.
paired_interval = confidence_interval


def production_by_mine(results) -> pd.DataFrame:
    table = results.production_monthly
    return table.groupby(["replication", "mine"], observed=True)["kg"].sum().unstack()


def test_the_2014_levers_lower_every_partners_imports_beyond_chance():
    def run(name, overrides=()):
        path = SCENARIOS / f"{name}.toml"
        return flowsim.simulate(path, seed=1, replications=REPLICATIONS, overrides=overrides)

    base = run("peru_madre_de_dios_baseline")
    table = flowsim.compare_exports(base, run("peru_madre_de_dios_2014")).set_index("partner")
    assert (table["change_kg_high"] < 0).all(), table
    # Only through the levers: with them off, the run is the baseline's.
    off = [
        f"policies.{kind}.{name}.enabled=false"
        for kind, name in (
            ("raids", "huepetuhe_2014"),
            ("raids", "stings_2014"),
            ("fuel_restrictions", "fuel_quotas_2014"),
        )
    ]
    pd.testing.assert_frame_equal(run("peru_madre_de_dios_2014", off).ledger, base.ledger)


@pytest.fixture(scope="module")
def mercurio():
    path = SCENARIOS / "peru_mercurio_2019.toml"
    on = flowsim.simulate(path, seed=1, replications=REPLICATIONS)
    off = flowsim.simulate(
        path,
        seed=1,
        replications=REPLICATIONS,
        overrides=["policies.raids.mercurio_la_pampa.enabled=false"],
    )
    return production_by_mine(on), production_by_mine(off)


def test_mercurio_empties_la_pampa_and_the_other_areas_gain_the_legal_ones_too(mercurio):
    on, off = mercurio
    low, high = paired_interval(on["la_pampa"] - off["la_pampa"])
    assert high < -0.7 * off["la_pampa"].mean()  # capacity_loss 0.85 for most of the year
    for mine in ("huepetuhe", "delta", "others", "formalising"):
        low, high = paired_interval(on[mine] - off[mine])
        assert low > 0, mine


def test_half_of_what_la_pampa_loses_reappears_elsewhere(mercurio):
    """displacement_share 0.5: the others' gain is about half La Pampa's loss (less, as
    the moved output starts 30 days late and the hold ends with the calendar)."""
    on, off = mercurio
    lost = (off["la_pampa"] - on["la_pampa"]).mean()
    others = ["huepetuhe", "delta", "others", "formalising"]
    gained = (on[others] - off[others]).sum(axis=1).mean()
    assert 0.35 * lost < gained < 0.5 * lost
