"""The calibration's model: parameter values in, the targets' simulated values out.

Everything here goes through :func:`flowsim.simulate` and the metrics table,
as a sweep does; nothing reads the engine.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from flowsim.errors import FlowsimError, ScenarioError
from flowsim.expectations import window_values
from flowsim.limits import MAX_SEED
from flowsim.scenario import with_overrides
from flowsim.schema import Scenario
from flowsim.simulation import simulate

from .spec import Calibration, CalibrationParameter, CalibrationTarget

__all__ = ["FlowsimModel", "prior_distribution", "target_values"]


def _scipy_prior(parameter: CalibrationParameter) -> tuple[str, tuple[float, ...], dict]:
    """The prior as scipy.stats names it: the distribution and its arguments."""
    prior = parameter.prior
    if prior.dist == "uniform":
        return "uniform", (prior.low, prior.high - prior.low), {}
    if prior.dist == "log_uniform":
        return "loguniform", (prior.low, prior.high), {}
    if prior.dist == "normal":
        return "norm", (prior.mean, prior.sd), {}
    a, b = (prior.low - prior.mean) / prior.sd, (prior.high - prior.mean) / prior.sd
    return "truncnorm", (a, b), {"loc": prior.mean, "scale": prior.sd}


def prior_distribution(parameter: CalibrationParameter) -> Any:
    """The prior as a frozen scipy distribution."""
    name, args, kwargs = _scipy_prior(parameter)
    return getattr(stats, name)(*args, **kwargs)


def pyabc_prior(parameter: CalibrationParameter) -> Any:
    """The same prior as a pyabc random variable, which pyabc samples and weighs."""
    from pyabc import RV

    name, args, kwargs = _scipy_prior(parameter)
    return RV(name, *args, **kwargs)


def target_values(metrics: pd.DataFrame, targets: Sequence[CalibrationTarget]) -> dict[str, float]:
    """Each target's value, the mean over the replications of a run's metrics table."""
    out = {}
    for target in targets:
        values = window_values(metrics, target.metric, target.after, target.before)
        if values is None:
            raise FlowsimError(
                f"target '{target.name}': the scenario has no metric '{target.metric}' "
                "(docs/metrics.md lists the names)"
            )
        out[target.name] = float(values.mean())
    return out


class FlowsimModel:
    """Simulate the scenario with some parameters set; return every target's value.

    Called by pyabc as ``model(parameters)``: the seed of the run is drawn from
    numpy's global generator, which the sampler seeds for each candidate, so a
    candidate's simulation is fixed by its number and the calibration's seed.
    :meth:`run` gives the simulated values alone, for the predictive check.
    """

    def __init__(self, scenario: Scenario, calibration: Calibration):
        self.scenario = scenario
        self.keys = {p.name: p.key for p in calibration.parameters}
        self.targets = list(calibration.targets)
        self.fitted = list(calibration.fitted)
        self.replications = calibration.method.replications
        self.sections = {t.metric.split(".")[0] for t in self.targets}

    def __call__(self, parameters: Mapping[str, Any]) -> dict[str, float]:
        seed = int(np.random.randint(0, MAX_SEED))
        values = self.run({name: float(parameters[name]) for name in self.keys}, seed)
        # A published figure is the true one plus its error: each fitted target is
        # simulated with that error too, so that a small tolerance gives the posterior
        # under Gaussian observation error (Wilkinson 2013), not a posterior that
        # pretends the figure is exact. Held-out targets stay as simulated.
        for target in self.fitted:
            values[target.name] += float(np.random.normal(0.0, target.standard_deviation))
        return values

    def run(self, values: Mapping[str, float], seed: int) -> dict[str, float]:
        overrides = {self.keys[name]: float(value) for name, value in values.items()}
        try:
            scenario = with_overrides(self.scenario, overrides)
        except ScenarioError as exc:
            shown = ", ".join(f"{name} = {value:.6g}" for name, value in values.items())
            raise FlowsimError(
                f"the scenario refuses the parameters {shown}: {exc}. Narrow the priors "
                "(a truncated_normal keeps a normal prior inside the values it may take)"
            ) from None
        results = simulate(scenario, seed=seed, replications=self.replications)
        return target_values(results.metrics(self.sections), self.targets)
