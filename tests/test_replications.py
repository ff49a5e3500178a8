"""Replications: independent streams, means, deviations and confidence intervals."""

from __future__ import annotations

import numpy as np
import pytest
from networks import chain, run
from scipy import stats

from flowsim.stats import aggregate, confidence_interval


def one_lot(cv: float) -> dict:
    """A mine that makes one lot of mean 10 kg with the given CV: each
    replication's production is 10 x Gamma(mean 1, cv), so the truth is known."""
    data = chain(days=5)
    data["nodes"]["mine"].update(production_kg_per_day=2.0, lot_interval_days=5.0, production_cv=cv)
    data["calendar"]["end"] = "2018-01-05"
    return data


def test_interval_matches_the_t_formula():
    values = [1.0, 2.0, 4.0, 7.0]
    low, high = confidence_interval(values)
    half = stats.t.ppf(0.975, 3) * np.std(values, ddof=1) / 2.0
    assert (low, high) == pytest.approx((3.5 - half, 3.5 + half))
    assert confidence_interval([5.0]) is None


def test_aggregate_keeps_the_shape_and_gives_none_for_one_replication():
    trees = [{"a": 1.0, "b": {"c": 2.0}}, {"a": 3.0, "b": {"c": 2.0}}]
    means, sds, cis = aggregate(trees)
    assert means == {"a": 2.0, "b": {"c": 2.0}}
    assert sds["a"] == pytest.approx(np.sqrt(2.0))
    assert cis["b"]["c"] == [2.0, 2.0]
    _, sds, cis = aggregate(trees[:1])
    assert sds == {"a": None, "b": {"c": None}} and cis == {"a": None, "b": {"c": None}}


def test_standard_deviation_across_replications_matches_the_known_one():
    # Mass of each lot: 10 kg x Gamma(mean 1, cv 0.5), so sd = 5 kg.
    results = run(one_lot(0.5), seed=1, replications=300)
    summary = results.summary()
    assert summary["totals_kg"]["produced"] == pytest.approx(10.0, rel=0.06)
    assert summary["sd"]["totals_kg"]["produced"] == pytest.approx(5.0, rel=0.1)
    low, high = summary["ci95"]["totals_kg"]["produced"]
    assert low < 10.0 < high
    assert high - low == pytest.approx(2 * 1.968 * 5.0 / 300**0.5, rel=0.12)


def test_intervals_cover_the_true_mean_about_95_percent_of_the_time():
    covered = 0
    trials = 120
    for seed in range(trials):
        low, high = run(one_lot(0.8), seed=seed, replications=5).summary()["ci95"]["totals_kg"][
            "produced"
        ]
        covered += low <= 10.0 <= high
    # Binomial(120, 0.95): 3 standard deviations is about 7 misses either side.
    assert covered / trials == pytest.approx(0.95, abs=0.06)


def test_every_mean_in_the_summary_has_an_interval_beside_it():
    summary = run(one_lot(0.3), seed=0, replications=3).summary()

    def paths(tree, prefix=()):
        for key, value in tree.items():
            if isinstance(value, dict):
                yield from paths(value, (*prefix, key))
            else:
                yield (*prefix, key)

    figures = {
        k: summary[k]
        for k in summary
        if k not in {"sd", "ci95", "policies"} and isinstance(summary[k], (dict, float))
    }
    for path in paths(figures):
        node_sd, node_ci = summary["sd"], summary["ci95"]
        for key in path:
            node_sd, node_ci = node_sd[key], node_ci[key]
        assert isinstance(node_sd, float)
        assert isinstance(node_ci, list) and len(node_ci) == 2
