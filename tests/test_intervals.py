"""Honest intervals: cut to the range a figure cannot leave, Fieller's interval for a
change in percent, paired replications, and the findings' sentences built on them."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from networks import chain, node, route, run

import flowsim
from flowsim.contract import Expectation, metric_bounds
from flowsim.headlines import CHANCE, headlines, interval_note
from flowsim.stats import confidence_interval, ratio_interval, welch_interval


def test_an_interval_is_cut_to_the_range_of_its_figure():
    assert confidence_interval([0.0, 10.0]) == pytest.approx((-58.53, 68.53), abs=0.01)
    low, high = confidence_interval([0.0, 10.0], bounds=(0.0, math.inf))
    assert low == 0.0 and high == pytest.approx(68.53, abs=0.01)
    assert confidence_interval([0.0, 1.0], bounds=(0.0, 1.0)) == (0.0, 1.0)
    assert confidence_interval([3.0]) is None


def test_metric_bounds_by_name():
    assert metric_bounds("exposure_by_partner.turkey.sanctioned_entity_share") == (0.0, 1.0)
    assert metric_bounds("exports_kg_by_partner.turkey") == (0.0, math.inf)
    assert metric_bounds("exports_kg_monthly.turkey") == (0.0, math.inf)
    assert metric_bounds("mirror_gap_kg_by_pair.VEN_to_TUR") == (-math.inf, math.inf)
    assert metric_bounds("rents_usd_by_node.bcv") == (-math.inf, math.inf)


def test_fiellers_interval_covers_the_ratio_as_often_as_it_claims():
    """1,000 paired samples of 5 replications, correlated as a scenario's and its
    baseline's are: the 95% interval should cover the true ratio in 950 of them, and
    chance alone puts 95% of such counts within 936 to 963 (binomial)."""
    rng = np.random.default_rng(7)
    true_ratio, covered = 1.5, 0
    for _ in range(1000):
        base = rng.normal(100.0, 10.0, 5)
        scenario = true_ratio * base + rng.normal(0.0, 8.0, 5)
        low, high = ratio_interval(scenario, base)
        covered += low <= true_ratio <= high
    assert 936 <= covered <= 963


def test_fiellers_interval_never_goes_below_a_fall_of_everything():
    assert ratio_interval([0.0, 0.5, 0.0], [1.0, 0.1, 2.0])[0] >= 0.0
    # A denominator not told apart from zero: the ratio has no upper end.
    assert ratio_interval([1.0, 2.0], [0.0, 1.0])[1] == math.inf


def test_welch_interval_of_independent_samples():
    low, high = welch_interval([10.0, 12.0, 11.0, 13.0], [1.0, 2.0, 1.5, 2.5])
    assert low < 10.0 - 1.75 < high
    assert welch_interval([1.0, 1.0], [1.0, 1.0]) == (0.0, 0.0)


def _pair(replications: int):
    """A mine shipping to two partners; the scenario closes the route to one of them
    from the tenth day on (an interdiction that seizes everything)."""
    data = chain(
        days=60,
        nodes={
            "mine": node("mine", production_kg_per_day=10.0),
            "buyer": node("buyer"),
            "turkey": node("partner", name="Turkey"),
            "uae": node("partner", name="United Arab Emirates", jurisdiction="ARE"),
        },
        routes={
            "mine_buyer": route("mine", "buyer"),
            "buyer_turkey": route("buyer", "turkey"),
            "buyer_uae": route("buyer", "uae"),
        },
    )
    base = run({**data, "meta": {"name": "base"}}, seed=3, replications=replications)
    closed = {
        **data,
        "meta": {"name": "closed"},
        "policies": {
            "interdictions": {
                "cut": {
                    "routes": ["buyer_uae"],
                    "start": "2018-01-10",
                    "end": "2018-03-01",
                    "seizure_increase": 1.0,
                }
            }
        },
    }
    return base, run(closed, seed=3, replications=replications)


@pytest.fixture(scope="module")
def pair():
    return _pair(4)


def test_compare_gives_paired_intervals_with_replications(pair):
    base, closed = pair
    assert flowsim.compare_exports(base, closed).pipe(lambda t: "change_pct_low" in t)
    table = flowsim.compare_exports(base, closed).set_index("partner")
    uae = table.loc["uae"]
    assert uae["change_pct_low"] >= -100.0
    assert uae["change_pct_low"] <= uae["change_pct"] <= uae["change_pct_high"]
    assert uae["change_kg_low"] <= uae["change_kg"] <= uae["change_kg_high"]
    exposure = flowsim.compare_exposure(base, closed)
    assert (exposure["change_points_low"] >= -100.0).all()
    assert (exposure["change_points_high"] <= 100.0).all()


def test_one_replication_gives_no_interval_columns():
    base, closed = _pair(1)
    assert "change_pct_low" not in flowsim.compare_exports(base, closed)
    assert interval_note(1).startswith("One replication")
    texts = [h.text for h in headlines(closed, base)]
    assert not any("interval" in t for t in texts)


def test_summary_intervals_stay_in_range(pair):
    _, closed = pair
    ci = closed.summary()["ci95"]
    for low, _ in ci["exports_kg_by_partner"].values():
        assert low >= 0.0
    for figures in ci["exposure_by_partner"].values():
        for key, (low, high) in figures.items():
            if key.endswith("_share"):
                assert 0.0 <= low <= high <= 1.0


def test_findings_state_the_comparison_in_numbers(pair):
    base, closed = pair
    found = headlines(closed, base)
    table = flowsim.compare_exports(base, closed).set_index("partner")
    total = next(h for h in found if h.topic == "exports_total")
    assert total.text.startswith("Against base, total exports")
    uae = next(h for h in found if h.subject == "uae")
    # The sentence names the partner by its display name and states the change.
    assert uae.text.startswith("Exports to United Arab Emirates fall by ")
    assert f"{table.loc['uae', 'change_pct']:+.0f}%" in uae.text
    assert uae.value == pytest.approx(table.loc["uae", "change_pct"])
    assert uae.interval == pytest.approx(
        (table.loc["uae", "change_pct_low"], table.loc["uae", "change_pct_high"])
    )
    assert CHANCE not in uae.text  # every lot to the UAE is seized: no chance about it
    assert interval_note(4) and "4 replications" in interval_note(4)
    assert interval_note(10) is None


def test_a_change_within_chance_is_called_so():
    base, _ = _pair(4)
    same = headlines(base, base)
    # A run against itself: every change is zero, and said to be none.
    assert all("do not change" in h.text for h in same if h.topic.startswith("exports"))
    # Two runs of one scenario on other seeds differ by chance alone.
    noisy = chain(days=60)
    noisy["nodes"]["mine"]["production_cv"] = 0.5
    a, b = run(noisy, seed=1, replications=4), run(noisy, seed=2, replications=4)
    total = next(h for h in headlines(b, a) if h.topic == "exports_total")
    assert CHANCE in total.text


def test_findings_of_a_run_alone(pair):
    _, closed = pair
    found = headlines(closed)
    assert found[0].text.startswith("From 1 Jan 2018 to 1 Mar 2018, ")
    assert "of gold is exported, 95% interval" in found[0].text
    assert found[1].text.startswith("Turkey takes the most: ")


def test_a_rule_judged_on_few_replications_says_so_and_stays_in_range():
    metric = "exposure_by_partner.turkey.illegal_origin_share"
    rows = [
        {"scenario": "s", "point": 0, "replication": k, "metric": metric, "value": v}
        for k, v in enumerate([0.01, 0.0, 0.02])
    ]
    rule = Expectation(
        name="some illegal gold",
        metric=metric,
        ci_excludes=0.0,
    )
    (verdict,) = flowsim.evaluate_expectations([rule], pd.DataFrame(rows))
    assert verdict.ci95[0] == 0.0  # the t interval reaches below zero; a share cannot
    assert "includes 0" in verdict.message and not verdict.passed
    assert "3 replications is wide" in verdict.message
