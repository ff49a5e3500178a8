"""The regression adjustment against posteriors known exactly, and the test of a
posterior that has stopped moving against the spread chance gives it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from flowsim.calibration.adjustment import adjust, generation_shift, posterior_sample
from flowsim.calibration.spec import CalibrationParameter


def _parameter(prior: dict) -> CalibrationParameter:
    return CalibrationParameter(name="theta", key="nodes.mine.x", prior=prior, assumption="test")


def _rejection(rng, prior_draws, simulate, observed, sd, tolerance):
    """An ABC rejection sample: the draws whose simulated targets land within
    ``tolerance`` of the observation, in sd units."""
    simulated = simulate(prior_draws)
    differences = (simulated - observed) / sd
    keep = np.sqrt((differences**2).sum(axis=1)) <= tolerance
    return prior_draws[keep], differences[keep]


def test_the_adjusted_sample_is_the_exact_posterior_of_a_linear_gaussian_model():
    # theta ~ N(0, 10); the target is theta plus an error of sd 1, observed at 5: the
    # posterior is N(5 * 100 / 101, sqrt(100 / 101)).
    rng = np.random.default_rng(11)
    theta = rng.normal(0.0, 10.0, size=400_000)
    kept, differences = _rejection(
        rng, theta[:, None], lambda t: t + rng.normal(0.0, 1.0, t.shape), 5.0, 1.0, 3.0
    )
    parameter = _parameter({"dist": "normal", "mean": 0.0, "sd": 10.0})
    weights = np.full(len(kept), 1.0 / len(kept))
    adjusted, adjusted_weights = adjust([parameter], kept, weights, differences, 3.0)
    mean = np.average(adjusted[:, 0], weights=adjusted_weights)
    sd = np.sqrt(np.average((adjusted[:, 0] - mean) ** 2, weights=adjusted_weights))
    exact_mean, exact_sd = 5.0 * 100 / 101, np.sqrt(100 / 101)
    # The unadjusted sample carries the tolerance's width: sqrt(1 + 3) in sd units.
    assert kept[:, 0].std() > 1.8 * exact_sd
    # With about 24,000 draws kept, chance moves the mean by about 0.01, the sd by 0.5%.
    assert len(kept) > 20_000
    assert mean == pytest.approx(exact_mean, abs=0.05)
    assert sd == pytest.approx(exact_sd, rel=0.05)


def test_a_bounded_prior_keeps_the_adjusted_values_inside_it():
    rng = np.random.default_rng(5)
    theta = rng.uniform(0.0, 1.0, size=50_000)
    kept, differences = _rejection(
        rng, theta[:, None], lambda t: t + rng.normal(0.0, 0.05, t.shape), 0.02, 0.05, 4.0
    )
    parameter = _parameter({"dist": "uniform", "low": 0.0, "high": 1.0})
    weights = np.full(len(kept), 1.0 / len(kept))
    adjusted, _ = adjust([parameter], kept, weights, differences, 4.0)
    assert ((adjusted > 0.0) & (adjusted < 1.0)).all()
    # Near the lower end, the raw sample's spread is mostly the tolerance's.
    assert np.median(adjusted) < np.median(kept)


def test_a_target_repeated_adds_nothing_rather_than_an_unstable_slope():
    rng = np.random.default_rng(2)
    theta = rng.normal(0.0, 10.0, size=100_000)
    kept, differences = _rejection(
        rng, theta[:, None], lambda t: t + rng.normal(0.0, 1.0, t.shape), 5.0, 1.0, 3.0
    )
    parameter = _parameter({"dist": "normal", "mean": 0.0, "sd": 10.0})
    weights = np.full(len(kept), 1.0 / len(kept))
    once, _ = adjust([parameter], kept, weights, differences, 3.0)
    twice, _ = adjust(
        [parameter], kept, weights, np.hstack([differences, differences]) / np.sqrt(2), 3.0
    )
    assert np.allclose(once, twice, atol=1e-8)


def test_a_log_uniform_prior_is_adjusted_on_its_log_scale():
    rng = np.random.default_rng(8)
    theta = np.exp(rng.uniform(np.log(0.1), np.log(100.0), size=200_000))
    # The target sees the parameter's decade: log10(theta) plus an error of 0.1.
    kept, differences = _rejection(
        rng,
        theta[:, None],
        lambda t: np.log10(t) + rng.normal(0.0, 0.1, t.shape),
        1.0,
        0.1,
        3.0,
    )
    parameter = _parameter({"dist": "log_uniform", "low": 0.1, "high": 100.0})
    weights = np.full(len(kept), 1.0 / len(kept))
    adjusted, adjusted_weights = adjust([parameter], kept, weights, differences, 3.0)
    logs = np.log10(adjusted[:, 0])
    mean = np.average(logs, weights=adjusted_weights)
    sd = np.sqrt(np.average((logs - mean) ** 2, weights=adjusted_weights))
    assert (adjusted > 0.1).all() and (adjusted < 100.0).all()
    assert mean == pytest.approx(1.0, abs=0.02)
    assert sd == pytest.approx(0.1, rel=0.1)


def _sample(rng, n, centre):
    values = pd.DataFrame({"a": rng.normal(centre, 1.0, n), "b": rng.normal(0.0, 2.0, n)})
    return values, np.full(n, 1.0 / n)


def test_two_samples_of_one_posterior_move_by_what_chance_gives():
    rng = np.random.default_rng(0)
    # The largest of 6 quantile moves, each about a normal in standard errors: its 95th
    # percentile over repetitions is near 2.9. Measured here over 200 pairs.
    largest = [
        generation_shift(["a", "b"], _sample(rng, 500, 0.0), _sample(rng, 500, 0.0)).standard_errors
        for _ in range(200)
    ]
    assert 1.0 < np.median(largest) < 2.5
    assert np.quantile(largest, 0.95) < 3.5


def test_a_posterior_that_moved_by_a_third_of_its_sd_is_seen_to_move():
    rng = np.random.default_rng(1)
    shift = generation_shift(["a", "b"], _sample(rng, 500, 0.0), _sample(rng, 500, 0.33))
    assert shift.parameter == "a"
    assert shift.standard_errors > 3.0


def test_the_posterior_sample_is_the_adjusted_one_when_there_is_one():
    particles = pd.DataFrame(
        {"theta": [1.0, 2.0], "weight": [0.5, 0.5], "adjusted.theta": [1.5, 1.6]}
    )
    assert posterior_sample(particles, ["theta"])["theta"].tolist() == [1.0, 2.0]
    particles["adjusted_weight"] = [0.25, 0.75]
    sample = posterior_sample(particles, ["theta"])
    assert sample["theta"].tolist() == [1.5, 1.6]
    assert sample["weight"].tolist() == [0.25, 0.75]
