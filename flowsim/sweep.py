"""Sweeps: the runs of a sweep file, and running them.

:func:`expand` turns a sweep file (:mod:`flowsim.sweepfile`) into a list of small
work items (pure); an executor (serial, process pool or Dask,
:mod:`flowsim.executors`) runs each by calling :func:`flowsim.simulate` on the
scenario files as read once where the sweep started; each finished run is
written at once as one Parquet part plus a line in ``manifest.jsonl``
(:mod:`flowsim.sweepfolder`), so a sweep never holds its results in memory and
resumes after a crash. See docs/sweeps.md.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import os
import socket
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import numpy as np
import pandas as pd
from pydantic import Field

from flowsim._version import __version__
from flowsim.calibration.draws import Posterior, load_posterior
from flowsim.designs import morris_unit, saltelli_unit
from flowsim.errors import FlowsimError, Issue, ScenarioError
from flowsim.executors import WithShared, WorkerLost, serial_executor
from flowsim.folders import MANIFEST
from flowsim.scenario import (
    ScenarioSource,
    build_scenario,
    keys_overlap,
    read_scenario,
    scenario_hash,
    with_overrides,
)
from flowsim.simulation import simulate
from flowsim.sweepfile import (
    SideBySide,
    Sweep,
    external_points,
    load_sweep_file,
    point_overrides,
    range_bounds,
    value_choices,
)
from flowsim.sweepfolder import SweepFolder
from flowsim.sweeplog import (
    LOG,
    log_line,
    parameter_columns,
    part_table,
    reopen_log,
)
from flowsim.sweeptable import load_sweep

if TYPE_CHECKING:
    pass

__all__ = [
    "RunSpec",
    "Sweep",
    "SweepReport",
    "SweepShared",
    "expand",
    "load_sweep",
    "load_sweep_file",
    "run_sweep",
]

Number = Annotated[float, Field(strict=True)]


# A run over a posterior records each parameter it drew as posterior.<name>.
POSTERIOR_METRIC = "posterior"


@dataclass(frozen=True)
class RunSpec:
    """One run of a sweep: small enough to send to any worker."""

    run: int
    scenario: str  # label
    file: str
    point: int
    params: dict[str, Any]
    overrides: dict[str, Any]
    seed: int
    replication: int
    posterior: str | None = None  # a calibration folder: the run draws its parameters


def expand(sweep: Sweep, folder: Path) -> list[RunSpec]:
    """Every run of the sweep, in a fixed order: scenario, point, replication.

    Every point uses the sweep's seed, so points differ by their parameters,
    not by their luck (common random numbers); replication k of every point
    draws from the k-th child stream.
    """
    names = list(sweep.parameters)
    points = external_points(sweep, folder) if sweep.sweep.method == "external" else _points(sweep)
    side = sweep.scenarios or [SideBySide(name=_base_label(sweep, folder))]
    posterior = sweep.sweep.posterior
    posterior = str((folder / posterior).resolve()) if posterior is not None else None
    runs = []
    for entry in side:
        file = str((folder / (entry.file or sweep.sweep.scenario)).resolve())
        for p, values in enumerate(points if entry.vary else [()]):
            params = dict(zip(names, map(_as_float, values), strict=True)) if entry.vary else {}
            for k in range(sweep.sweep.replications):
                runs.append(
                    RunSpec(
                        run=len(runs),
                        scenario=entry.name,
                        file=file,
                        point=p,
                        params=params,
                        overrides={**entry.set, **point_overrides(sweep, params)},
                        seed=sweep.sweep.seed,
                        replication=k,
                        posterior=posterior,
                    )
                )
    return runs


def _as_float(value: Any) -> Any:
    """Numbers as floats, so that a parameter has one type in every part."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return value


def _base_label(sweep: Sweep, folder: Path) -> str:
    return Path(sweep.sweep.scenario).stem


def _points(sweep: Sweep) -> list[tuple[Any, ...]]:
    values = list(sweep.parameters.values())
    if not values:
        return [()]
    if sweep.sweep.method == "grid":
        return list(itertools.product(*(value_choices(v) for v in values)))
    n, d = sweep.sweep.samples, len(values)
    rng = np.random.default_rng(sweep.sweep.seed)
    if sweep.sweep.method == "sobol":
        unit = saltelli_unit(n, d, sweep.sweep.seed, sweep.sweep.second_order)
    elif sweep.sweep.method == "morris":
        unit = morris_unit(n, d, sweep.sweep.levels, sweep.sweep.seed)
    elif sweep.sweep.method == "latin_hypercube":
        from scipy.stats import qmc  # heavy: only for this design

        try:
            sampler = qmc.LatinHypercube(d=d, rng=rng)
        except TypeError:  # SciPy before 1.15 names the generator seed; the points are the same
            sampler = qmc.LatinHypercube(d=d, seed=rng)
        unit = sampler.random(n)
    else:
        unit = rng.random((n, d))
    lows = np.array([range_bounds(v)[0] for v in values])
    highs = np.array([range_bounds(v)[1] for v in values])
    return [tuple(float(x) for x in row) for row in lows + unit * (highs - lows)]


def check_runs(
    runs: list[RunSpec],
    posterior: Posterior | None = None,
    sources: dict[str, ScenarioSource] | None = None,
) -> list[str]:
    """Build the scenario of each distinct override set once, so that a bad key or
    value stops the sweep before it starts rather than in a worker; with a
    ``posterior``, also with the parameters of its first particle set. Each file is
    read once, into ``sources`` (by the runs' ``file``) when given: the content that
    the workers then build the same scenarios from. Returns the scenario files the
    sweep reads."""
    sources = {} if sources is None else sources
    seen: set[str] = set()
    files: set[str] = set()
    issues: list[Issue] = []
    for spec in runs:
        key = json.dumps([spec.file, spec.overrides], sort_keys=True, default=str)
        if key in seen:
            continue
        seen.add(key)
        if posterior is not None:
            _check_posterior_keys(spec, posterior)
        try:
            if spec.file not in sources:
                sources[spec.file] = read_scenario(spec.file)
            scenario = build_scenario(sources[spec.file], spec.overrides)
            files.update(scenario.files)
            if posterior is not None:
                first = posterior.particles.iloc[0].to_dict()
                with_overrides(scenario, posterior.overrides(first))
        except ScenarioError as exc:
            issues.extend(
                Issue(i.file, i.path, f"{i.message} (in run {spec.run} of the sweep)")
                if i.file != "--set"
                else Issue(f"sweep parameter {i.path}", "", i.message)
                for i in exc.issues
            )
            break
    if issues:
        raise ScenarioError(issues)
    return sorted(files)


def _check_posterior_keys(spec: RunSpec, posterior: Posterior) -> None:
    """A sweep may not set what the posterior draws: one would silently win."""
    for key in spec.overrides:
        for name, drawn in posterior.keys.items():
            if keys_overlap(key, drawn):
                raise FlowsimError(
                    f"the sweep sets {key}, and the posterior of {posterior.calibration} "
                    f"draws {drawn} (parameter '{name}'): one would overwrite the other; "
                    "sweep another key, or calibrate without it"
                )


def _posterior_digest(posterior: Posterior) -> str:
    """What makes two posteriors the same: their particles and weights."""
    digest = hashlib.sha256()
    digest.update(json.dumps(dict(posterior.keys), sort_keys=True).encode())
    digest.update(pd.util.hash_pandas_object(posterior.particles, index=False).to_numpy().tobytes())
    digest.update(np.ascontiguousarray(posterior.weights, dtype=float).tobytes())
    return digest.hexdigest()


def _posterior_of(folder: str) -> Posterior:
    """A worker reads a calibration folder once, not once a run; again if it was
    written anew since (a notebook that recalibrates into the same folder)."""
    try:
        written = os.stat(Path(folder) / MANIFEST).st_mtime_ns
    except OSError:
        written = None  # load_posterior says what is wrong with the folder
    return _read_posterior(folder, written)


@functools.lru_cache(maxsize=4)
def _read_posterior(folder: str, written: int | None) -> Posterior:
    return load_posterior(folder)


def _fingerprint(
    sweep: Sweep,
    runs: list[RunSpec],
    files: list[str],
    folder: Path,
    posterior: Posterior | None = None,
) -> str:
    """What makes two sweeps the same: their runs and the content of the scenario
    files they read, not where they were started from nor their rules."""
    digest = hashlib.sha256()
    # Another flowsim may give other results: its sweep is another sweep.
    digest.update(f"flowsim {__version__}\n".encode())
    settings = sweep.sweep.model_dump(mode="json", exclude={"description"})
    for key, unused in (("second_order", False), ("levels", 4), ("points", None)):
        if settings[key] == unused:  # the fingerprints of the designs that came before stay
            del settings[key]
    digest.update(json.dumps(settings, sort_keys=True).encode())
    for spec in runs:
        row = asdict(spec) | {"file": Path(spec.file).name}
        row.pop("posterior")  # where it lies does not matter; what it holds does (below)
        digest.update(json.dumps(row, sort_keys=True, default=str).encode())
    if posterior is not None:
        digest.update(_posterior_digest(posterior).encode())
    for file in files:
        digest.update(Path(file).name.encode())
        digest.update(Path(file).read_bytes())
    if sweep.sweep.points is not None:  # an edited design file is another sweep
        digest.update((folder / sweep.sweep.points).read_bytes())
    return digest.hexdigest()


@dataclass(frozen=True)
class SweepShared:
    """What the runs of a sweep read, sent to each worker once rather than with each
    run: every scenario file as read (and checked) where the sweep started, by the
    runs' ``file``, and every posterior, by folder. A worker then reads no file, so
    it needs no disk shared with the machine that holds them. ``version`` is the
    flowsim that checked them: another one may read them otherwise."""

    version: str
    scenarios: dict[str, ScenarioSource]
    posteriors: dict[str, Posterior]

    @classmethod
    def of(
        cls, runs: list[RunSpec], sources: dict[str, ScenarioSource] | None = None
    ) -> SweepShared:
        sources = dict(sources or {})
        for file in dict.fromkeys(r.file for r in runs):
            if file not in sources:
                sources[file] = read_scenario(file)
        folders = dict.fromkeys(r.posterior for r in runs if r.posterior is not None)
        return cls(__version__, sources, {f: _posterior_of(f) for f in folders})


def execute(spec: RunSpec) -> dict[str, Any]:
    """Run one work item and return its tidy rows, reading its files here."""
    return execute_shared(spec, SweepShared.of([spec]))


def execute_shared(spec: RunSpec, shared: SweepShared) -> dict[str, Any]:
    """Run one work item from what the sweep shares; runs in a worker process."""
    if shared.version != __version__:
        # A worker that joined after the executor checked them all (a late batch job).
        raise FlowsimError(
            f"run {spec.run} of the sweep: the worker on {socket.gethostname()} (pid "
            f"{os.getpid()}) runs flowsim {__version__}, and the sweep was started with "
            f"flowsim {shared.version}: install flowsim {shared.version} on every worker"
        )
    started = time.perf_counter()
    # Built as check_runs built it, without the files: meta.baseline was found there.
    scenario = build_scenario(shared.scenarios[spec.file], spec.overrides, baseline_on_disk=False)
    posterior = shared.posteriors[spec.posterior] if spec.posterior is not None else None
    results = simulate(
        scenario,
        seed=spec.seed,
        first_replication=spec.replication,
        posterior=posterior,
    )
    metrics = results.metrics()
    names, values = metrics["metric"].to_list(), metrics["value"].to_list()
    if results.meta.posterior is not None:  # the parameters this run drew, as metrics
        for name, value in results.meta.posterior.draws[0].items():
            names.append(f"{POSTERIOR_METRIC}.{name}")
            values.append(value)
    return {
        "run": spec.run,
        "metric": names,
        "value": values,
        "scenario_hash": results.meta.scenario_hash,
        "seconds": time.perf_counter() - started,
        "host": socket.gethostname(),
        "pid": os.getpid(),
    }


# --- the output folder ------------------------------------------------------------


@dataclass(frozen=True)
class SweepReport:
    out: Path
    total: int
    done_before: int
    ran: int
    seconds: float


def run_sweep(
    sweep: Sweep,
    folder: Path,
    out: str | Path,
    *,
    executor: Callable[[Callable[[RunSpec], dict], list[RunSpec]], Iterable[dict]] | None = None,
    resume: bool = False,
    overwrite: bool = False,
    progress: Callable[[int, int], None] | None = None,
    compact: bool = True,
) -> SweepReport:
    """Run every run of the sweep not already finished in ``out``.

    ``executor(function, items)`` yields each item's result as it finishes; without
    one, the runs execute one after another in this process
    (:func:`~flowsim.executors.serial_executor`), which needs no worker processes and
    shows a failing run's traceback as it is. Once every run is finished, the parts
    are gathered into ``sweep.parquet`` (``compact=False`` keeps one part a run). The
    folder is described in :mod:`flowsim.sweepfolder`.
    """
    if executor is None:
        executor = serial_executor
    runs = expand(sweep, folder)
    posterior = _posterior_of(runs[0].posterior) if runs[0].posterior is not None else None
    sources: dict[str, ScenarioSource] = {}
    files = check_runs(runs, posterior, sources)
    shared = SweepShared.of(runs, sources)
    out = Path(out)
    design = {
        "fingerprint": _fingerprint(sweep, runs, files, folder, posterior),
        "sweep": sweep.model_dump(mode="json"),
        "parameters": list(sweep.parameters),
        "columns": parameter_columns(sweep.parameters, runs),
        "scenario_hashes": _base_hashes(sweep, folder, sources),
        "runs": [asdict(r) for r in runs],
    }
    connect = getattr(executor, "start", None)
    if connect is not None:  # a cluster that cannot be reached stops the sweep before it writes
        connect()
    try:
        store = SweepFolder.open(out, design, resume=resume, overwrite=overwrite)
    except BaseException:
        close = getattr(executor, "close", None)
        if close is not None:
            close()
        raise
    done = store.finished()
    todo = [r for r in runs if r.run not in done]
    by_run = {r.run: r for r in runs}
    started = time.perf_counter()
    count = len(runs) - len(todo)
    if progress:
        progress(count, len(runs))
    if not todo:  # nothing to write: a finished sweep in a read-only folder resumes too
        if compact:
            store.compact()
        return SweepReport(out, len(runs), len(runs), 0, 0.0)
    try:
        reopen_log(out)
        # Never through a link: the log is the sweep's own file (O_NOFOLLOW).
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
        manifest = os.fdopen(os.open(out / LOG, flags, 0o644), "a", encoding="utf-8")
    except OSError as exc:
        raise FlowsimError(f"cannot write the sweep to {out}: {exc.strerror or exc}") from None
    columns = design["columns"]
    with manifest:
        for result in _lost_worker_named(executor(WithShared(execute_shared, shared), todo)):
            spec = by_run[result["run"]]
            try:
                line = store.write_part(
                    spec.run, part_table(spec, result, columns), result.get("scenario_hash")
                )
            except OSError as exc:
                raise FlowsimError(
                    f"cannot write run {spec.run} of the sweep to {store.parts}: "
                    f"{exc.strerror or exc}; the runs written so far are kept: free space, "
                    "then --resume"
                ) from None
            text = log_line(
                line,
                {
                    "scenario_hash": result.get("scenario_hash"),
                    "seconds": result["seconds"],
                    "host": result["host"],
                    "pid": result["pid"],
                    "finished": time.time(),
                },
            )
            try:
                manifest.write(text + "\n")
                manifest.flush()
                os.fsync(manifest.fileno())
            except OSError as exc:
                raise FlowsimError(
                    f"cannot write the sweep manifest in {out}: {exc.strerror or exc}; "
                    "free space, then --resume"
                ) from None
            count += 1
            if progress:
                progress(count, len(runs))
        if compact:
            store.compact(manifest)
    return SweepReport(
        out, len(runs), len(runs) - len(todo), len(todo), time.perf_counter() - started
    )


def _base_hashes(sweep: Sweep, folder: Path, sources: dict[str, ScenarioSource]) -> dict[str, str]:
    """Each scenario's hash as the sweep runs it before its parameters are set: what
    a reader of the sweep's files checks it against. Built from the files as
    ``check_runs`` read them (by the runs' ``file``), not read again."""
    side = sweep.scenarios or [SideBySide(name=_base_label(sweep, folder))]
    hashes = {}
    for entry in side:
        file = str((folder / (entry.file or sweep.sweep.scenario)).resolve())
        source = sources[file] if file in sources else read_scenario(file)
        hashes[entry.name] = scenario_hash(build_scenario(source, dict(entry.set)))
    return hashes


def _lost_worker_named(results: Iterable[dict]) -> Iterator[dict]:
    """A worker killed by the system is the user's to know about, not a traceback."""
    try:
        yield from results
    except WorkerLost as exc:
        run = getattr(exc.item, "run", "?")
        raise FlowsimError(
            f"run {run} of the sweep stopped: its worker process (pid {exc.pid}) died, {exc.how}; "
            "the runs finished so far are kept: run the sweep again with --resume to finish it"
        ) from None
