"""When a calibration stops: generation by generation, the first of its rules met.

pyabc runs one generation at a time here, so that flowsim's own rule, a posterior
that no longer moves by more than chance (``method.stable_within``), can end it
beside pyabc's (tolerance, generations, budget, acceptance rate). A resumed
calibration goes through the same rules from the generations it already has.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .adjustment import generation_shift, posterior_sample
from .folder import generation_particles, tolerances
from .spec import Calibration

__all__ = ["run_until_stopped", "stop_before_next"]


def stop_before_next(history: Any, calibration: Calibration, sampler: Any) -> str | None:
    """Why no further generation should run, or None."""
    method = calibration.method
    done = history.max_t + 1
    if done > 0:
        epsilon = tolerances(history)
        if epsilon[history.max_t] <= calibration.min_tolerance:
            return "tolerance"
        if _stable(history, calibration, epsilon):
            return "stable"
    if sampler.stopped_by is not None:
        return sampler.stopped_by
    if done >= method.generation_count:
        return "generations"
    if done > 0:
        populations = history.get_all_populations().set_index("t")
        last = populations.loc[history.max_t]
        if int(last["particles"]) / max(int(last["samples"]), 1) < method.min_acceptance_rate:
            return "acceptance rate"
    if max(history.total_nr_simulations, sampler.simulations_run) >= method.budget:
        return "budget"
    return None


def _stable(history: Any, calibration: Calibration, epsilon: dict[int, float]) -> bool:
    within = calibration.method.stable_within
    t = history.max_t
    if within is None or t < 1:
        return False
    method = calibration.method
    full = method.population_of(method.generation_count - 1)
    if method.population_of(t) < full:
        return False
    names = [p.name for p in calibration.parameters]
    samples = []
    for g in (t - 1, t):
        sample = posterior_sample(generation_particles(history, g, calibration, epsilon[g]), names)
        samples.append((sample, sample["weight"].to_numpy(float)))
    return generation_shift(names, samples[0], samples[1]).standard_errors <= within


def run_until_stopped(abc: Any, history: Any, calibration: Calibration, sampler: Any) -> str:
    """Run generations until a rule stops the calibration; return which.

    Through pyabc's public steps (``initialize_components_before_run``, then
    ``run_generation`` for each generation), with the clean-up its ``run`` does."""
    method = calibration.method
    stop = stop_before_next(history, calibration, sampler)
    if stop is not None:
        return stop
    t = abc.initialize_components_before_run(
        minimum_epsilon=calibration.min_tolerance,
        max_nr_populations=method.generation_count - (history.max_t + 1),
        min_acceptance_rate=method.min_acceptance_rate,
        max_total_nr_simulations=method.budget,
        max_walltime=None,
        min_eps_diff=0.0,
    )
    try:
        while True:
            outcome = abc.run_generation(t=t)
            stop = stop_before_next(history, calibration, sampler)
            if stop is not None:
                return stop
            if not outcome["successful"]:
                # pyabc kept no generation and the sampler gave no reason: spent.
                return "budget"
            t += 1
    finally:
        history.done(end_time=datetime.now())
        sampler.stop()
