"""Sweep files: the parameters nobody knows, how to sample them, and what to expect.

A sweep file names a base scenario (or several side by side), the parameters to
vary by key path, how to sample them (a grid, a Latin hypercube, Monte Carlo,
Sobol, Morris, or a design of one's own), the replications per point, a seed and
``[[expect]]`` rules. :func:`load_sweep_file` reads and validates one;
:mod:`flowsim.sweep` turns it into runs and runs them. See docs/sweeps.md.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, PrivateAttr, StringConstraints, ValidationError, model_validator

from flowsim.contract import Expectation
from flowsim.designs import read_points, sobol_block
from flowsim.errors import FlowsimError, Issue, ScenarioError
from flowsim.fields import Frozen, Identifier
from flowsim.parquet import clashes
from flowsim.scenario import issues_from_pydantic, keys_overlap, read_toml
from flowsim.simulation import MAX_SEED
from flowsim.sweeplog import check_one_kind

__all__ = ["Linked", "Range", "SideBySide", "Sweep", "SweepSettings", "load_sweep_file"]

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
            return math.prod(len(value_choices(v)) for v in self.parameters.values())
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


def value_choices(value: Any) -> list[Any]:
    return value.values if isinstance(value, Linked) else value


def range_bounds(value: Any) -> tuple[float, float]:
    return value.low, value.high


def point_overrides(sweep: Sweep, params: dict[str, Any]) -> dict[str, Any]:
    """Key paths to set for one point: a linked parameter sets each of its paths."""
    out: dict[str, Any] = {}
    for name, value in params.items():
        spec = sweep.parameters[name]
        for path in spec.paths if isinstance(spec, Linked) else [name]:
            out[path] = value
    return out


def load_sweep_file(path: str | Path) -> tuple[Sweep, Path]:
    """Read and validate a sweep file; return it and the folder its paths are relative to."""
    path = Path(path)
    data = read_toml(path)
    try:
        sweep = Sweep.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(issues_from_pydantic(exc, {(): str(path)}, Sweep)) from None
    if sweep.sweep.method == "external":
        external_points(sweep, path.parent)
        try:
            _check_run_count(sweep.run_count())
        except ValueError as exc:
            raise ScenarioError([Issue(str(path), "sweep.points", str(exc))]) from None
    return sweep, path.parent


def external_points(sweep: Sweep, folder: Path) -> list[tuple[Any, ...]]:
    if sweep._external is None:
        sweep._external = read_points(folder / sweep.sweep.points, sweep.parameters)
    return sweep._external
