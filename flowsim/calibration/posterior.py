"""What a calibration found: its particles, the posterior of each parameter against
its prior, the predictive check of every target, and the warnings an analyst must
read before using it (docs/calibration.md, "The calibration folder")."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from .model import FlowsimModel, prior_distribution
from .spec import Calibration

__all__ = [
    "PREDICTIVE_GENERATION",
    "effective_sample_size",
    "parameter_table",
    "predictive_table",
    "warnings_of",
    "weighted_quantile",
]

# The candidate numbers of the predictive check's draws use this generation's seeds,
# apart from those of any generation pyabc runs.
PREDICTIVE_GENERATION = 1_000_000
# A parameter whose 90% credible interval keeps more than this share of its prior's
# 90% interval is reported as not constrained by the targets.
UNCONSTRAINED_WIDTH = 0.7


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: Sequence[float]) -> np.ndarray:
    """Quantiles of a weighted sample: the inverse of its weighted CDF, with each
    particle's mass centred on it (so equal weights give the usual midpoint rule)."""
    order = np.argsort(values, kind="stable")
    v, w = np.asarray(values, float)[order], np.asarray(weights, float)[order]
    cdf = (np.cumsum(w) - 0.5 * w) / w.sum()
    return np.interp(q, cdf, v)


def effective_sample_size(weights: np.ndarray) -> float:
    w = np.asarray(weights, float)
    return float(w.sum() ** 2 / (w**2).sum()) if w.size else 0.0


def parameter_table(
    calibration: Calibration, particles: pd.DataFrame, prior_sample: pd.DataFrame
) -> pd.DataFrame:
    """One row per parameter: prior and posterior median and 90% intervals, the
    ratio of their widths, and the target most sensitive to it in the prior sample."""
    rows = []
    weights = particles["weight"].to_numpy()
    for parameter in calibration.parameters:
        values = particles[parameter.name].to_numpy()
        q05, median, q95 = weighted_quantile(values, weights, [0.05, 0.5, 0.95])
        prior = prior_distribution(parameter)
        p05, p50, p95 = (float(x) for x in prior.ppf([0.05, 0.5, 0.95]))
        if parameter.prior.dist == "log_uniform":
            # Widths on the scale the prior is flat on: a posterior that keeps the prior's
            # decades keeps its width there, whatever it does in plain units.
            ratio = math.log(q95 / q05) / math.log(p95 / p05)
        else:
            ratio = (q95 - q05) / (p95 - p05)
        target, rho = _most_sensitive(calibration, prior_sample, parameter.name)
        rows.append(
            {
                "parameter": parameter.name,
                "key": parameter.key,
                "prior": parameter.prior.dist,
                "prior_median": p50,
                "prior_q05": p05,
                "prior_q95": p95,
                "median": float(median),
                "q05": float(q05),
                "q95": float(q95),
                "mean": float(np.average(values, weights=weights)),
                "width_ratio": float(ratio),
                "constrained": bool(ratio <= UNCONSTRAINED_WIDTH),
                "most_sensitive_target": target,
                "sensitivity_rank_correlation": rho,
                "source": parameter.source or "",
                "assumption": parameter.assumption or "",
            }
        )
    return pd.DataFrame(rows)


def _most_sensitive(
    calibration: Calibration, prior_sample: pd.DataFrame, name: str
) -> tuple[str, float]:
    """The target whose simulated value moves most with the parameter over the prior
    sample (Spearman's rank correlation): the one that would constrain it."""
    best, best_rho = "", 0.0
    if len(prior_sample) < 3 or prior_sample[name].nunique() < 3:
        return best, math.nan
    for target in calibration.targets:
        column = prior_sample[f"target.{target.name}"]
        if column.nunique() < 3:
            continue
        rho = float(stats.spearmanr(prior_sample[name], column).statistic)
        if math.isfinite(rho) and abs(rho) > abs(best_rho):
            best, best_rho = target.name, rho
    return best, best_rho


def predictive_draws(
    particles: pd.DataFrame, calibration: Calibration, rng: np.random.Generator
) -> list[dict[str, float]]:
    """Parameter values drawn from the posterior by weight, for the predictive check."""
    weights = particles["weight"].to_numpy(float)
    chosen = rng.choice(
        len(particles), size=calibration.method.predictive_draws, p=weights / weights.sum()
    )
    names = [p.name for p in calibration.parameters]
    return [{n: float(particles.iloc[i][n]) for n in names} for i in chosen]


class PredictiveDraw:
    """Candidate ``i`` of the predictive check: the ``i``-th draw from the posterior,
    simulated with a seed of its own (the sampler seeds numpy for each candidate)."""

    def __init__(self, model: FlowsimModel, draws: Sequence[Mapping[str, float]]):
        self.model, self.draws = model, list(draws)

    def __call__(self, index: int) -> dict[str, float]:
        return self.model(self.draws[index])


def predictive_table(
    calibration: Calibration, simulated: pd.DataFrame, rng: np.random.Generator
) -> pd.DataFrame:
    """Each target observed against its simulated distribution over posterior draws.

    ``q05``/``q95`` bound the simulated value (parameters and chance);
    ``observable_q05``/``observable_q95`` add the observation's own error, drawn
    from a normal of the target's sd: the interval the published figure should fall
    in if the model is right, which ``inside_90`` checks."""
    rows = []
    for target in calibration.targets:
        values = simulated[target.name].to_numpy(float)
        noisy = values + rng.normal(0.0, target.standard_deviation, size=values.size)
        q05, median, q95 = np.quantile(values, [0.05, 0.5, 0.95])
        o05, o95 = np.quantile(noisy, [0.05, 0.95])
        rows.append(
            {
                "target": target.name,
                "metric": target.metric,
                "after": target.after.isoformat() if target.after else None,
                "before": target.before.isoformat() if target.before else None,
                "held_out": target.held_out,
                "observed": float(target.observed),
                "sd": float(target.standard_deviation),
                "median": float(median),
                "q05": float(q05),
                "q95": float(q95),
                "observable_q05": float(o05),
                "observable_q95": float(o95),
                "standardised_error": float((median - target.observed) / target.standard_deviation),
                "inside_90": bool(o05 <= target.observed <= o95),
                "source": target.source,
            }
        )
    return pd.DataFrame(rows)


def warnings_of(
    calibration: Calibration,
    parameters: pd.DataFrame,
    predictive: pd.DataFrame,
    generations: pd.DataFrame,
    stop: str,
) -> list[str]:
    """What an analyst must know before trusting the posterior."""
    out = []
    for row in parameters.itertuples():
        if not row.constrained:
            hint = (
                f"; '{row.most_sensitive_target}' moves most with it over the prior "
                f"(rank correlation {row.sensitivity_rank_correlation:+.2f}): a tighter figure "
                "for it, or a target like it, would constrain it"
                if row.most_sensitive_target
                else "; no target moves with it over the prior: it needs a target of its own"
            )
            out.append(
                f"parameter '{row.parameter}' is not constrained by the targets: its 90% "
                f"credible interval is {row.width_ratio:.0%} as wide as its prior's{hint}"
            )
    for row in predictive.itertuples():
        if not row.inside_90:
            kind = "held-out target" if row.held_out else "fitted target"
            out.append(
                f"{kind} '{row.target}': observed {row.observed:.4g} lies outside the 90% "
                f"predictive interval [{row.observable_q05:.4g}, {row.observable_q95:.4g}]"
            )
    if stop not in ("tolerance", "stable"):
        settled = (
            f" or its posterior settled within {calibration.method.stable_within:.3g} "
            "standard errors"
            if calibration.method.stable_within is not None
            else ""
        )
        out.append(
            f"the calibration stopped on its {stop} before its tolerance reached "
            f"{calibration.min_tolerance:.3g}{settled}: the posterior may be wider than the "
            "targets allow"
        )
    if len(generations):
        last = generations.iloc[-1]
        if last["ess"] < 0.25 * last["accepted"]:
            out.append(
                f"the last generation's effective sample size is {last['ess']:.0f} of "
                f"{last['accepted']} particles: a few particles carry most of the weight"
            )
    return out
