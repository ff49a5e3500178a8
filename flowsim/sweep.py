"""Sweeps: many runs of scenarios over parameters nobody knows.

A sweep file names a base scenario (or several side by side), the parameters
to vary by key path, how to sample them, the replications per point and a
seed. :func:`expand` turns it into a list of small work items (pure); an
executor (serial, process pool or Dask, :mod:`flowsim.executors`) runs each
by calling :func:`flowsim.simulate`; each finished run is written at once as
one Parquet part plus a line in ``manifest.jsonl``, so a sweep never holds
its results in memory and resumes after a crash. See docs/sweeps.md.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import math
import os
import socket
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field, PrivateAttr, StringConstraints, ValidationError, model_validator

from flowsim._version import __version__
from flowsim.calibration.draws import Posterior, load_posterior
from flowsim.contract import Expectation
from flowsim.designs import morris_unit, read_points, saltelli_unit, sobol_block
from flowsim.errors import FlowsimError, Issue, ScenarioError
from flowsim.executors import WithShared, WorkerLost, serial_executor
from flowsim.fields import Frozen, Identifier
from flowsim.folders import MANIFEST
from flowsim.parquet import clashes
from flowsim.scenario import (
    ScenarioSource,
    build_scenario,
    issues_from_pydantic,
    keys_overlap,
    read_scenario,
    read_toml,
    scenario_hash,
    with_overrides,
)
from flowsim.simulation import MAX_SEED, simulate
from flowsim.sweepfolder import SweepFolder
from flowsim.sweeplog import (
    LOG,
    check_one_kind,
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


class Range(Frozen):
    low: Number
    high: Number

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        if self.high < self.low:
            raise ValueError(f"high ({self.high}) is below low ({self.low})")
        return self


class Linked(Frozen):
    """One swept parameter that sets several keys at once to the same value."""

    paths: list[
        Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_\-]+(\.[A-Za-z0-9_\-]+)+$")]
    ] = Field(min_length=1)
    values: list[Any] | None = None
    low: Number | None = None
    high: Number | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Linked:
        # Neither values nor a range: only an external design gives its values (Sweep).
        ranged = self.low is not None or self.high is not None
        if self.values is not None and ranged:
            raise ValueError("give values = [...], or low and high")
        if ranged and (self.low is None or self.high is None or self.high < self.low):
            raise ValueError("needs low <= high")
        if self.values is not None and not self.values:
            raise ValueError("values is empty")
        return self

    @property
    def is_range(self) -> bool:
        return self.values is None and self.low is not None


class SweepSettings(Frozen):
    name: Identifier
    description: str = ""
    scenario: str | None = Field(
        None, description="Base scenario file, relative to the sweep file."
    )
    method: Literal["grid", "latin_hypercube", "monte_carlo", "sobol", "morris", "external"] = (
        "grid"
    )
    samples: Annotated[int, Field(gt=0, strict=True)] | None = Field(
        None,
        description=(
            "Points to draw for latin_hypercube and monte_carlo; base samples N for sobol "
            "(N x (D + 2) points, a power of 2); trajectories for morris (of D + 1 points)."
        ),
    )
    second_order: bool = Field(
        False,
        description="sobol: also the points of second-order indices (N x (2D + 2) points).",
    )
    levels: Annotated[int, Field(ge=2, strict=True)] = Field(
        4, description="morris: levels of each parameter's grid, an even number."
    )
    points: str | None = Field(
        None,
        description=(
            "A CSV file of points, relative to the sweep file: one column per parameter, "
            "one row per point (method external, the default when points is given)."
        ),
    )
    replications: Annotated[int, Field(gt=0, strict=True)] = 1
    seed: Annotated[int, Field(ge=0, le=MAX_SEED, strict=True)] = 0
    posterior: str | None = Field(
        None,
        description=(
            "A calibration folder (written by flowsim calibrate), relative to the sweep "
            "file: each replication then also sets the calibrated parameters of a particle "
            "drawn from its posterior, the same draw at every point and in every scenario."
        ),
    )

    @model_validator(mode="before")
    @classmethod
    def _external_by_default(cls, data: Any) -> Any:
        if isinstance(data, dict) and "points" in data and "method" not in data:
            return {**data, "method": "external"}
        return data

    @model_validator(mode="after")
    def _settings_of_method(self) -> SweepSettings:
        method, given = self.method, self.model_fields_set
        if method == "external":
            if self.points is None:
                raise ValueError('method "external" needs points = "design.csv"')
            if self.samples is not None:
                raise ValueError(
                    "an external design's points are the rows of its file: drop samples"
                )
        elif self.points is not None:
            raise ValueError(
                f'points = "{self.points}" is a design of its own: drop method = "{method}"'
            )
        if self.second_order and method != "sobol":
            raise ValueError('second_order applies to method = "sobol" only')
        if "levels" in given and self.levels != 4 and method != "morris":
            raise ValueError('levels applies to method = "morris" only')
        if method == "morris" and self.levels % 2:
            raise ValueError(
                f"levels = {self.levels}: Morris steps of half the grid need an even number"
            )
        if method == "sobol" and self.samples is not None and self.samples & (self.samples - 1):
            raise ValueError(
                f"sobol needs samples a power of 2 (base samples of a Sobol' sequence keep "
                f"its balance only then), not {self.samples}: e.g. "
                f"{1 << max(self.samples.bit_length() - 1, 0)} or {1 << self.samples.bit_length()}"
            )
        return self


class SideBySide(Frozen):
    name: Identifier
    file: str | None = Field(None, description="Scenario file; defaults to the sweep's scenario.")
    set: dict[str, Any] = Field({}, description="Overrides, by key path, as with --set.")
    vary: bool = Field(
        True,
        description=(
            "Whether the swept parameters apply. A scenario that does not vary (a baseline) "
            "runs once, as point 0, and compare_to pairs every point with it."
        ),
    )


class Sweep(Frozen):
    sweep: SweepSettings
    parameters: dict[
        Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_\-]+(\.[A-Za-z0-9_\-]+)*$")],
        list[Any] | Range | Linked,
    ] = Field(default_factory=dict)
    scenarios: list[SideBySide] = Field(default_factory=list)
    expect: list[Expectation] = Field(default_factory=list)
    # An external design's points, once read from its file (load_sweep_file, expand).
    _external: list[tuple[Any, ...]] | None = PrivateAttr(None)

    @model_validator(mode="after")
    def _consistent(self) -> Sweep:
        if self.sweep.scenario is None and not self.scenarios:
            raise ValueError("needs sweep.scenario or a list of [[scenarios]]")
        if any(s.file is None for s in self.scenarios) and self.sweep.scenario is None:
            raise ValueError("a [[scenarios]] entry without file needs sweep.scenario")
        names = [s.name for s in self.scenarios]
        if len(set(names)) != len(names):
            raise ValueError("[[scenarios]] names must differ")
        ranges = [k for k, v in self.parameters.items() if _is_range(v)]
        lists = [k for k, v in self.parameters.items() if not _is_range(v)]
        for name, value in self.parameters.items():
            if not isinstance(value, Linked) and "." not in name:
                raise ValueError(
                    f"parameter '{name}' is not a key path; use a table with paths = [...]"
                )
        method = self.sweep.method
        bare = [
            k
            for k, v in self.parameters.items()
            if isinstance(v, Linked) and v.values is None and v.low is None
        ]
        if bare and method != "external":
            raise ValueError(f"parameter '{bare[0]}': give values = [...], or low and high")
        if method == "external" and not self.parameters:
            raise ValueError("an external design needs [parameters], one per column of its file")
        if method == "grid" and ranges:
            raise ValueError(f"a grid takes lists of values; {ranges[0]} is a range")
        if method not in ("grid", "external"):
            if lists:
                raise ValueError(
                    f"{self.sweep.method} takes ranges {{low, high}}; {lists[0]} is a list"
                )
            if self.sweep.samples is None:
                raise ValueError(f"{self.sweep.method} needs sweep.samples")
        if any(isinstance(v, list) and not v for v in self.parameters.values()):
            raise ValueError("a parameter's list of values is empty")
        _check_parameter_names(self.parameters)
        for name, spec in self.parameters.items():
            check_one_kind(name, spec)
        clash = clashes([*RESERVED_COLUMNS, *self.parameters])
        if clash is not None:
            raise ValueError(
                f"parameters '{clash[0]}' and '{clash[1]}' would share the column "
                f"{clash[2]!r} (columns are stored under names SQL takes unquoted, "
                "docs/sweeps.md): rename one"
            )
        swept = {
            path
            for name, spec in self.parameters.items()
            for path in (spec.paths if isinstance(spec, Linked) else [name])
        }
        for entry in self.scenarios:
            if not entry.vary:
                continue
            for key in entry.set:
                clash = [
                    p
                    for p in swept
                    if p == key or p.startswith(key + ".") or key.startswith(p + ".")
                ]
                if clash:
                    raise ValueError(
                        f"[[scenarios]] '{entry.name}' sets {key}, which the swept parameter "
                        f"{clash[0]} sets too: one would overwrite the other; set it in one place"
                    )
        if method != "external":  # its points are counted when its file is read
            _check_run_count(self.run_count())
        labels = [s.name for s in self.scenarios] or [Path(self.sweep.scenario).stem]
        for rule in self.expect:
            for key in ("scenario", "compare_to"):
                label = getattr(rule, key)
                if label is not None and label not in labels:
                    raise ValueError(
                        f"expectation '{rule.name}': {key} '{label}' is not a scenario of this "
                        f"sweep ({', '.join(labels)})"
                    )
        return self

    def point_count(self) -> int:
        """Points of the design, counted without making them (an external design's
        once its file is read, by load_sweep_file or expand)."""
        if not self.parameters:
            return 1
        method = self.sweep.method
        if method == "grid":
            return math.prod(len(_choices(v)) for v in self.parameters.values())
        if method == "external":
            if self._external is None:
                raise FlowsimError(
                    f"the points of {self.sweep.points} are not read yet: "
                    "load the sweep with load_sweep_file, or call expand"
                )
            return len(self._external)
        samples = self.sweep.samples or 0
        if method == "sobol":
            return samples * sobol_block(len(self.parameters), self.sweep.second_order)
        if method == "morris":
            return samples * (len(self.parameters) + 1)
        return samples

    def run_count(self) -> int:
        side = self.scenarios or [SideBySide(name="base")]
        points = self.point_count()
        return sum(points if s.vary else 1 for s in side) * self.sweep.replications

    @model_validator(mode="before")
    @classmethod
    def _dotted_keys_quoted(cls, data: Any) -> Any:
        parameters = data.get("parameters") if isinstance(data, dict) else None
        if isinstance(parameters, dict):
            for name, value in parameters.items():
                known = {"low", "high", "paths", "values"}
                if isinstance(value, dict) and not set(value) & known:
                    raise ValueError(
                        f"parameter '{name}.{next(iter(value), '')}...' reads as a nested table: "
                        'quote a key path, e.g. "policies.raids.x.rate_per_year" = [1, 2]'
                    )
        return data


# A run over a posterior records each parameter it drew as posterior.<name>.
POSTERIOR_METRIC = "posterior"
# The columns of a sweep's table besides the parameters: a parameter may not take their name.
RESERVED_COLUMNS = frozenset(
    {"run", "scenario", "point", "replication", "seed", "metric", "value", "unit", "part", "params"}
)
# Every run is listed in memory and in design.json: 100,000 runs hold about 280 MB
# while a sweep starts, and 29 MB of design.json (docs/sweeps.md).
MAX_RUNS = 200_000


def _check_run_count(runs: int) -> None:
    if runs > MAX_RUNS:
        raise ValueError(
            f"the design has {runs:,} runs (points x replications x scenarios), more "
            f"than the {MAX_RUNS:,} a sweep may hold (each run is listed in memory and in "
            "design.json); sweep fewer points, or split it into several sweeps"
        )


def _check_parameter_names(parameters: dict[str, Any]) -> None:
    """No parameter takes a column's name, and no two set the same key."""
    setters: dict[str, str] = {}
    for name, spec in parameters.items():
        if name.lower() in RESERVED_COLUMNS:
            raise ValueError(
                f"parameter '{name}' has the name of a column of the sweep's table "
                f"({', '.join(sorted(RESERVED_COLUMNS))}): choose another name"
            )
        for path in spec.paths if isinstance(spec, Linked) else [name]:
            for other, by in setters.items():
                if keys_overlap(path, other):
                    what = "the same key" if path == other else "overlapping keys"
                    first = f"'{by}'" if by != name else "itself"
                    raise ValueError(
                        f"parameter '{name}' sets {path}, and {first} sets {other}: "
                        f"two settings of {what} would overwrite each other"
                    )
            setters[path] = name


def _is_range(value: Any) -> bool:
    return isinstance(value, Range) or (isinstance(value, Linked) and value.is_range)


def _choices(value: Any) -> list[Any]:
    return value.values if isinstance(value, Linked) else value


def _bounds(value: Any) -> tuple[float, float]:
    return value.low, value.high


def _overrides(sweep: Sweep, params: dict[str, Any]) -> dict[str, Any]:
    """Key paths to set for one point: a linked parameter sets each of its paths."""
    out: dict[str, Any] = {}
    for name, value in params.items():
        spec = sweep.parameters[name]
        for path in spec.paths if isinstance(spec, Linked) else [name]:
            out[path] = value
    return out


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


def load_sweep_file(path: str | Path) -> tuple[Sweep, Path]:
    """Read and validate a sweep file; return it and the folder its paths are relative to."""
    path = Path(path)
    data = read_toml(path)
    try:
        sweep = Sweep.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(issues_from_pydantic(exc, {(): str(path)}, Sweep)) from None
    if sweep.sweep.method == "external":
        _read_external(sweep, path.parent)
        try:
            _check_run_count(sweep.run_count())
        except ValueError as exc:
            raise ScenarioError([Issue(str(path), "sweep.points", str(exc))]) from None
    return sweep, path.parent


def _read_external(sweep: Sweep, folder: Path) -> list[tuple[Any, ...]]:
    if sweep._external is None:
        sweep._external = read_points(folder / sweep.sweep.points, sweep.parameters)
    return sweep._external


def expand(sweep: Sweep, folder: Path) -> list[RunSpec]:
    """Every run of the sweep, in a fixed order: scenario, point, replication.

    Every point uses the sweep's seed, so points differ by their parameters,
    not by their luck (common random numbers); replication k of every point
    draws from the k-th child stream.
    """
    names = list(sweep.parameters)
    points = _read_external(sweep, folder) if sweep.sweep.method == "external" else _points(sweep)
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
                        overrides={**entry.set, **_overrides(sweep, params)},
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
        return list(itertools.product(*(_choices(v) for v in values)))
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
    lows = np.array([_bounds(v)[0] for v in values])
    highs = np.array([_bounds(v)[1] for v in values])
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
        "scenario_hashes": _base_hashes(sweep, folder),
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


def _base_hashes(sweep: Sweep, folder: Path) -> dict[str, str]:
    """Each scenario's hash as the sweep runs it before its parameters are set: what
    a reader of the sweep's files checks it against."""
    side = sweep.scenarios or [SideBySide(name=_base_label(sweep, folder))]
    hashes = {}
    for entry in side:
        file = folder / (entry.file or sweep.sweep.scenario)
        hashes[entry.name] = scenario_hash(build_scenario(read_scenario(file), dict(entry.set)))
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
