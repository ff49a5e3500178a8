"""The calibration folder, written whole once a calibration finishes.

It holds the particles of every generation, the per-generation diagnostics, the
posterior of each parameter against its prior, the predictive check of every
target, the calibrated scenario, ``summary.json``, the HTML report, and pyabc's
database. Like a run folder it is signed by a manifest and swapped into place
in one step (:func:`flowsim.folders.write_folder`).
"""

from __future__ import annotations

import io
import json
import math
import os
import re
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from flowsim._version import __version__
from flowsim.folders import write_folder
from flowsim.scenario import scenario_hash
from flowsim.schema import Scenario

from .adjustment import adjusted_generation, generation_shift, posterior_sample
from .model import FlowsimModel
from .posterior import (
    PREDICTIVE_GENERATION,
    PredictiveDraw,
    effective_sample_size,
    parameter_table,
    predictive_draws,
    predictive_table,
    warnings_of,
)
from .sampler import run_candidates
from .spec import Calibration

__all__ = ["CALIBRATION_FILES", "write_calibration_folder"]

PARTICLES = "particles.parquet"
GENERATIONS = "generations.parquet"
POSTERIOR = "posterior.parquet"
PREDICTIVE = "predictive.parquet"
PRIOR_SAMPLE = "prior_sample.parquet"
CALIBRATED = "calibrated.toml"
SUMMARY = "summary.json"
REPORT = "report.html"
HISTORY = "abc.db"
CALIBRATION_FILES = frozenset(
    {
        PARTICLES,
        GENERATIONS,
        POSTERIOR,
        PREDICTIVE,
        PRIOR_SAMPLE,
        CALIBRATED,
        SUMMARY,
        REPORT,
        HISTORY,
    }
)
SUMMARY_FORMAT_VERSION = 1


def own_name(name: str) -> bool:
    return name in CALIBRATION_FILES


def generation_particles(
    history: Any, t: int, calibration: Calibration, tolerance: float
) -> pd.DataFrame:
    """The accepted particles of generation ``t``: weight, distance, parameters and the
    simulated value of each target; with the adjusted values and weights too when the
    method adjusts (flowsim.calibration.adjustment)."""
    names = [p.name for p in calibration.parameters]
    rows = []
    for k, particle in enumerate(history.get_population(t).particles):
        row = {"generation": t, "particle": k, "weight": float(particle.weight)}
        row["distance"] = float(particle.distance)
        row.update({n: float(particle.parameter[n]) for n in names})
        row.update(
            {f"target.{x.name}": float(particle.sum_stat[x.name]) for x in calibration.targets}
        )
        rows.append(row)
    frame = pd.DataFrame(rows)
    frame["weight"] = frame["weight"] / frame["weight"].sum()
    if calibration.method.adjustment == "local_linear":
        frame = adjusted_generation(calibration, frame, tolerance)
    return frame


def tolerances(history: Any) -> dict[int, float]:
    """Each finished generation's tolerance."""
    populations = history.get_all_populations()
    return {
        int(t): float(e)
        for t, e in zip(populations["t"], populations["epsilon"], strict=True)
        if t >= 0
    }


def particles_table(history: Any, calibration: Calibration) -> pd.DataFrame:
    """Every accepted particle of every generation (:func:`generation_particles`)."""
    epsilon = tolerances(history)
    frames = [
        generation_particles(history, t, calibration, epsilon[t]) for t in range(history.max_t + 1)
    ]
    return pd.concat(frames, ignore_index=True)


def generations_table(
    history: Any, particles: pd.DataFrame, simulations_run: dict[int, int], names: list[str]
) -> pd.DataFrame:
    """Per generation: tolerance, acceptance, effective sample size, seconds, and how
    far its posterior moved from the previous one's (in standard errors of chance,
    flowsim.calibration.adjustment.generation_shift)."""
    populations = history.get_all_populations()
    populations = populations[populations["t"] >= 0].sort_values("t")
    rows = []
    previous = None
    for row in populations.itertuples():
        t = int(row.t)
        sample = posterior_sample(particles[particles["generation"] == t], names)
        weights = sample["weight"].to_numpy(float)
        shift = (
            generation_shift(names, previous, (sample, weights)) if previous is not None else None
        )
        previous = (sample, weights)
        rows.append(
            {
                "generation": t,
                "tolerance": float(row.epsilon),
                "accepted": int(row.particles),
                "simulations": int(row.samples),
                "simulations_run": int(simulations_run.get(t, row.samples)),
                "acceptance_rate": int(row.particles) / max(int(row.samples), 1),
                "ess": effective_sample_size(weights),
                "shift_se": shift.standard_errors if shift is not None else math.nan,
                "shift_parameter": shift.parameter if shift is not None else "",
                "seconds": float(row.wall_time) if row.wall_time is not None else math.nan,
            }
        )
    return pd.DataFrame(rows)


def prior_sample_table(particles: list[Any], names: list[str], targets: list[str]) -> pd.DataFrame:
    rows = []
    for particle in particles:
        row = {n: float(particle.parameter[n]) for n in names}
        row.update({f"target.{n}": float(particle.sum_stat[n]) for n in targets})
        rows.append(row)
    return pd.DataFrame(rows, columns=[*names, *(f"target.{n}" for n in targets)])


def calibrated_toml(
    calibration: Calibration, scenario: Scenario, posterior: pd.DataFrame, extends: str
) -> str:
    """A scenario file that extends the original and sets each parameter to its
    posterior median, with the 90% credible interval in a comment."""
    lines = [
        f"# {scenario.name}, calibrated by flowsim {__version__} "
        f"({calibration.calibration.name}): each parameter at its posterior median.",
        "# Run it as it is; for answers that carry the parameters' uncertainty, run the",
        "# scenario with --posterior and this calibration's folder (docs/calibration.md).",
        f"extends = {json.dumps(extends)}",
        "",
    ]
    for key, value in calibration.calibration.set.items():
        lines.append(f"{_toml_key(key)} = {_toml_value(value)}  # fixed by the calibration file")
    for row in posterior.itertuples():
        lines.append(
            f"{_toml_key(row.key)} = {_toml_value(row.median)}  # posterior median; 90% "
            f"credible interval [{row.q05:.6g}, {row.q95:.6g}], prior {row.prior} "
            f"[{row.prior_q05:.6g}, {row.prior_q95:.6g}]"
        )
    lines += ["", "[meta]", f"name = {json.dumps(scenario.name + '_calibrated')}", ""]
    return "\n".join(lines)


_BARE = re.compile(r"^[A-Za-z0-9_-]+$")


def _toml_key(path: str) -> str:
    """A dotted key path as a TOML key; a part such as a date is quoted."""
    return ".".join(
        p if _BARE.match(p) and not p[0].isdigit() else json.dumps(p) for p in path.split(".")
    )


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, np.floating, np.integer)):
        number = float(value)
        if number.is_integer() and abs(number) < 1e15 and isinstance(value, (int, np.integer)):
            return str(int(number))
        return repr(round(number, 10))
    return json.dumps(value)


def write_calibration_folder(
    out: Path,
    state: Path,
    source: Path,
    calibration: Calibration,
    scenario: Scenario,
    history: Any,
    sampler: Any,
    run: Callable[..., Any],
    prior_sample: pd.DataFrame,
    started: float,
    render: Callable[..., str],
    stop: str,
) -> Path:
    names = [p.name for p in calibration.parameters]
    particles = particles_table(history, calibration)
    generations = generations_table(history, particles, sampler.simulations_by_generation, names)
    last = posterior_sample(
        particles[particles["generation"] == particles["generation"].max()], names
    )
    posterior = parameter_table(calibration, last, prior_sample)
    method = calibration.method
    rng = np.random.default_rng(
        np.random.SeedSequence(method.seed, spawn_key=(PREDICTIVE_GENERATION,))
    )
    draws = predictive_draws(last, calibration, rng)
    model = FlowsimModel(scenario, calibration)
    simulated, seconds = run_candidates(
        run,
        PredictiveDraw(model, draws),
        method.seed,
        PREDICTIVE_GENERATION,
        0,
        len(draws),
        sampler.workers,
    )
    sampler.simulation_seconds += seconds
    sampler.simulations_run += len(draws)
    simulated_table = pd.DataFrame([simulated[i] for i in range(len(draws))])
    predictive = predictive_table(calibration, simulated_table, rng)
    warnings = warnings_of(calibration, posterior, predictive, generations, stop)
    wall = time.perf_counter() - started
    final_tolerance = float(generations["tolerance"].iloc[-1]) if len(generations) else None
    summary = {
        "format_version": SUMMARY_FORMAT_VERSION,
        "flowsim_version": __version__,
        "calibration": calibration.calibration.name,
        "file": str(source),
        "scenario": scenario.name,
        "scenario_hash": scenario_hash(scenario),
        "seed": method.seed,
        "population": len(last),
        "generations": len(generations),
        "stop": stop,
        "final_tolerance": final_tolerance,
        "min_tolerance": calibration.min_tolerance,
        "adjustment": method.adjustment,
        "stable_within": method.stable_within,
        "final_shift_se": _finite(generations["shift_se"].iloc[-1]) if len(generations) else None,
        "kernel_sd_factor": (
            kernel_sd_factor(final_tolerance, len(calibration.fitted))
            if final_tolerance is not None
            else None
        ),
        "simulations_run": int(sampler.simulations_run),
        "wall_seconds": wall,
        "simulations_per_second": sampler.simulations_run / wall if wall > 0 else None,
        "share_outside_simulation": max(
            0.0, 1 - sampler.simulation_seconds / (wall * sampler.workers)
        ),
        "parameters": posterior.set_index("parameter")[
            ["median", "q05", "q95", "width_ratio", "constrained"]
        ].to_dict("index"),
        "targets": predictive.set_index("target")[
            ["held_out", "observed", "median", "q05", "q95", "inside_90"]
        ].to_dict("index"),
        "warnings": warnings,
    }
    extends = os.path.relpath(source.parent / calibration.calibration.scenario, out)

    def fill(folder: Path) -> dict[str, Any]:
        for name, table in (
            (PARTICLES, particles),
            (GENERATIONS, generations),
            (POSTERIOR, posterior),
            (PREDICTIVE, predictive),
            (PRIOR_SAMPLE, prior_sample),
        ):
            buffer = io.BytesIO()
            table.to_parquet(buffer, index=False)
            (folder / name).write_bytes(buffer.getvalue())
        (folder / CALIBRATED).write_text(calibrated_toml(calibration, scenario, posterior, extends))
        (folder / SUMMARY).write_text(
            json.dumps(summary, indent=2, allow_nan=False, default=_plain) + "\n"
        )
        (folder / REPORT).write_text(
            render(
                calibration, summary, particles, generations, posterior, predictive, prior_sample
            )
        )
        shutil.copyfile(state / HISTORY, folder / HISTORY)
        return {"kind": "calibration", "calibration": calibration.calibration.name}

    return write_folder(out, fill, own_names=own_name, what="the calibration")


def kernel_sd_factor(tolerance: float, fitted: int) -> float:
    """How much the final tolerance widens each fitted target's error.

    Accepting a simulation, its observation error added, when it lies within
    ``tolerance`` of the data is sampling the posterior under that error plus a
    uniform draw from the ball of that radius (Wilkinson 2013). The ball's
    variance along each target is tolerance**2 / (fitted + 2) in sd units, so each
    target's sd is, in effect, this factor larger than the file says.
    """
    return math.sqrt(1.0 + tolerance**2 / (fitted + 2))


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def _plain(value: Any) -> Any:
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, np.bool_):
        return bool(value)
    raise TypeError(type(value).__name__)
