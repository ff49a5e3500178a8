"""The local-linear regression adjustment of an ABC sample (Beaumont, Zhang and
Balding 2002), and the test of whether successive generations still move.

An ABC sample at tolerance e holds parameters whose simulated targets lie within
e of the observed ones, not at them. Near the observation, each parameter (on a
scale where its prior is unbounded) is regressed on the standardised differences
between simulated and observed targets, each particle weighted by its importance
weight times the Epanechnikov kernel of its distance; the fitted slope times its
difference is then taken off it. What remains is what the parameter would be had
its simulation landed on the observation, to the extent that the relation is
linear within the tolerance. R's abc package and ELFI implement the same method;
the transformation of bounded parameters to the logit scale is abc's ``"logit"``.

The simulated targets carry the observation error the model adds to them
(flowsim.calibration.model), so the adjusted sample approximates the posterior
under that error, without the widening the tolerance adds to it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .spec import Calibration, CalibrationParameter

__all__ = [
    "ADJUSTED_PREFIX",
    "ADJUSTED_WEIGHT",
    "Shift",
    "adjust",
    "adjusted_generation",
    "generation_shift",
]

ADJUSTED_PREFIX = "adjusted."
ADJUSTED_WEIGHT = "adjusted_weight"
# How far inside a bounded prior's ends a value is kept before its logit is taken.
_EDGE = 1e-9
# Standard errors of a sample quantile of a normal distribution, in sd / sqrt(n):
# sqrt(q (1 - q)) / density at the quantile, for q = 0.05, 0.5 and 0.95.
QUANTILES = (0.05, 0.5, 0.95)
_QUANTILE_SE = (2.1131, 1.2533, 2.1131)


def _bounds(parameter: CalibrationParameter) -> tuple[float, float, bool] | None:
    """The prior's ends, and whether it is flat on the log scale; None if unbounded."""
    prior = parameter.prior
    if prior.dist == "normal":
        return None
    return float(prior.low), float(prior.high), prior.dist == "log_uniform"


def to_unbounded(parameter: CalibrationParameter, values: np.ndarray) -> np.ndarray:
    bounds = _bounds(parameter)
    if bounds is None:
        return np.asarray(values, float)
    low, high, log = bounds
    x = np.asarray(values, float)
    if log:
        x, low, high = np.log(x), math.log(low), math.log(high)
    u = np.clip((x - low) / (high - low), _EDGE, 1.0 - _EDGE)
    return np.log(u / (1.0 - u))


def from_unbounded(parameter: CalibrationParameter, values: np.ndarray) -> np.ndarray:
    bounds = _bounds(parameter)
    z = np.asarray(values, float)
    if bounds is None:
        return z
    low, high, log = bounds
    if log:
        low, high = math.log(low), math.log(high)
    x = low + (high - low) / (1.0 + np.exp(-z))
    return np.exp(x) if log else x


def adjust(
    parameters: Sequence[CalibrationParameter],
    values: np.ndarray,
    weights: np.ndarray,
    differences: np.ndarray,
    tolerance: float,
) -> tuple[np.ndarray, np.ndarray]:
    """The adjusted values (particles by parameters) and their weights.

    ``differences`` are the simulated less the observed fitted targets, each in its
    own sd (particles by targets); ``weights`` the particles' importance weights;
    ``tolerance`` the generation's, which every particle's distance is within.
    """
    values = np.asarray(values, float)
    differences = np.asarray(differences, float)
    distance = np.sqrt((differences**2).sum(axis=1))
    kernel = np.clip(1.0 - (distance / tolerance) ** 2, 0.0, None) if tolerance > 0 else None
    adjusted_weights = np.asarray(weights, float) * (kernel if kernel is not None else 1.0)
    if adjusted_weights.sum() <= 0.0:
        # Every particle on the tolerance's edge: nothing to regress on.
        return values.copy(), np.asarray(weights, float) / np.sum(weights)
    adjusted_weights = adjusted_weights / adjusted_weights.sum()
    z = np.column_stack([to_unbounded(p, values[:, j]) for j, p in enumerate(parameters)])
    design = np.column_stack([np.ones(len(z)), differences])
    root = np.sqrt(adjusted_weights)[:, None]
    # lstsq takes the minimum-norm solution when targets are collinear within the
    # sample (the reserve's levels are linear in the sales rates), so such a target
    # adds nothing rather than an unstable slope.
    coefficients, *_ = np.linalg.lstsq(design * root, z * root, rcond=None)
    z_adjusted = z - differences @ coefficients[1:]
    out = np.column_stack([from_unbounded(p, z_adjusted[:, j]) for j, p in enumerate(parameters)])
    return out, adjusted_weights


def adjusted_generation(
    calibration: Calibration, particles: pd.DataFrame, tolerance: float
) -> pd.DataFrame:
    """One generation's particles with ``adjusted.<parameter>`` and ``adjusted_weight``
    columns added (``particles`` as flowsim.calibration.folder.particles_table gives
    them: parameters, weights and ``target.<name>`` columns)."""
    names = [p.name for p in calibration.parameters]
    observed = np.array([t.observed for t in calibration.fitted], float)
    sd = np.array([t.standard_deviation for t in calibration.fitted], float)
    simulated = particles[[f"target.{t.name}" for t in calibration.fitted]].to_numpy(float)
    values, weights = adjust(
        calibration.parameters,
        particles[names].to_numpy(float),
        particles["weight"].to_numpy(float),
        (simulated - observed) / sd,
        tolerance,
    )
    out = particles.copy()
    for j, name in enumerate(names):
        out[ADJUSTED_PREFIX + name] = values[:, j]
    out[ADJUSTED_WEIGHT] = weights
    return out


@dataclass(frozen=True)
class Shift:
    """How far a posterior moved from one generation to the next: the largest change
    of a parameter's 5%, 50% or 95% quantile, in standard errors of the change that
    chance alone gives two independent samples of these effective sizes."""

    parameter: str
    quantile: float
    standard_errors: float


def generation_shift(
    names: Sequence[str],
    before: tuple[pd.DataFrame, np.ndarray],
    after: tuple[pd.DataFrame, np.ndarray],
) -> Shift:
    """The largest move between two weighted samples (values by parameter, weights).

    A quantile's standard error is taken as a normal sample's, sqrt(q (1 - q)) over
    the density at the quantile, in the pooled sd over the square root of each
    sample's effective size (Kish): the spread that chance gives the estimate.
    """
    from .posterior import effective_sample_size, weighted_quantile

    (values_a, weights_a), (values_b, weights_b) = before, after
    n_a, n_b = effective_sample_size(weights_a), effective_sample_size(weights_b)
    worst = Shift("", 0.5, 0.0)
    for name in names:
        a, b = values_a[name].to_numpy(float), values_b[name].to_numpy(float)
        sd = math.sqrt(0.5 * (_weighted_var(a, weights_a) + _weighted_var(b, weights_b)))
        qa = weighted_quantile(a, weights_a, QUANTILES)
        qb = weighted_quantile(b, weights_b, QUANTILES)
        for q, se_unit, x, y in zip(QUANTILES, _QUANTILE_SE, qa, qb, strict=True):
            se = se_unit * sd * math.sqrt(1.0 / n_a + 1.0 / n_b)
            moved = abs(y - x) / se if se > 0 else (0.0 if x == y else math.inf)
            if moved > worst.standard_errors:
                worst = Shift(name, q, float(moved))
    return worst


def _weighted_var(values: np.ndarray, weights: np.ndarray) -> float:
    w = np.asarray(weights, float) / np.sum(weights)
    mean = float(np.sum(w * values))
    return float(np.sum(w * (values - mean) ** 2))


def posterior_sample(particles: pd.DataFrame, names: Sequence[str]) -> pd.DataFrame:
    """A generation's posterior as ``names`` and ``weight`` columns: its adjusted
    values and weights where the generation was adjusted, else its particles."""
    if ADJUSTED_WEIGHT in particles:
        columns = {ADJUSTED_PREFIX + name: name for name in names}
        sample = particles[list(columns)].rename(columns=columns)
        sample["weight"] = particles[ADJUSTED_WEIGHT].to_numpy(float)
    else:
        sample = particles[[*names, "weight"]].copy()
    return sample.reset_index(drop=True)
