"""A calibration file: the scenario it fits, its targets, its unknowns and its method.

The file is TOML, validated like a scenario: every mistake is reported with the
file, the key and the problem (docs/calibration.md). Targets name figures as
``[[expect]]`` rules do (docs/metrics.md, "Metric names"); parameters name the
scenario's keys as ``--set`` does.
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, ValidationError, field_validator, model_validator

from flowsim.contract import MetricWindow
from flowsim.errors import Issue, ScenarioError
from flowsim.fields import MAGNITUDE, Frozen, Identifier, PositiveInt, Text
from flowsim.limits import MAX_SEED
from flowsim.scenario import (
    issues_from_pydantic,
    keys_overlap,
    load_scenario,
    read_toml,
    with_overrides,
)
from flowsim.schedules import is_date_key
from flowsim.schema import Scenario

__all__ = [
    "Calibration",
    "CalibrationParameter",
    "CalibrationTarget",
    "load_calibration_file",
]

Number = Annotated[float, Field(strict=True, ge=-MAGNITUDE, le=MAGNITUDE)]
KeyPathText = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_\-]+(\.[A-Za-z0-9_\-]+)*$")]
Positive = Annotated[float, Field(strict=True, gt=0, le=MAGNITUDE)]


class _Bounded(Frozen):
    """A prior with bounds ``low`` < ``high`` (its subclasses declare them)."""

    @model_validator(mode="after")
    def _ordered(self) -> _Bounded:
        if not self.high > self.low:
            raise ValueError(f"high ({self.high:g}) must be above low ({self.low:g})")
        return self


class Uniform(_Bounded):
    dist: Literal["uniform"]
    low: Number
    high: Number


class LogUniform(_Bounded):
    dist: Literal["log_uniform"]
    low: Positive
    high: Positive


class Normal(Frozen):
    dist: Literal["normal"]
    mean: Number
    sd: Positive


class TruncatedNormal(_Bounded):
    dist: Literal["truncated_normal"]
    mean: Number
    sd: Positive
    low: Number
    high: Number

    @model_validator(mode="after")
    def _near_the_mean(self) -> TruncatedNormal:
        # scipy's truncnorm loses all precision beyond about 37 sd from the mean.
        if (self.low - self.mean) / self.sd > 30 or (self.mean - self.high) / self.sd > 30:
            raise ValueError("the interval [low, high] lies more than 30 sd from the mean")
        return self


Prior = Annotated[Uniform | LogUniform | Normal | TruncatedNormal, Field(discriminator="dist")]


class CalibrationParameter(Frozen):
    """An unknown of the scenario: a key path, its prior, and why that prior."""

    name: Identifier = Field(description="Short name, used in tables and plots.")
    key: KeyPathText = Field(
        description="Key path in the scenario, as with --set (a schedule's point included)."
    )
    prior: Prior = Field(description="Its prior distribution (see Priors below).")
    source: Text | None = Field(None, description="Where the prior comes from: a sources row.")
    assumption: Text | None = Field(None, description="Why this prior, where no source gives one.")

    @model_validator(mode="after")
    def _justified(self) -> CalibrationParameter:
        if not (self.source or self.assumption):
            raise ValueError("needs a source or an assumption: say where its prior comes from")
        return self


class CalibrationTarget(MetricWindow):
    """A published figure that the scenario should reproduce, with its uncertainty."""

    name: Identifier = Field(description="Short name, used in tables and plots.")
    observed: Number = Field(description="The published value, in the metric's unit.")
    sd: Positive | None = Field(None, description="Its standard deviation, in the same unit.")
    relative_sd: Positive | None = Field(
        None, description="Or its standard deviation as a share of the observed value."
    )
    source: Text = Field(description="Where the figure comes from: a sources row.")
    held_out: bool = Field(
        False, description="Reported against the posterior, never fitted: a test of the fit."
    )

    @model_validator(mode="after")
    def _one_uncertainty(self) -> CalibrationTarget:
        if (self.sd is None) == (self.relative_sd is None):
            raise ValueError("needs exactly one of sd and relative_sd")
        if self.relative_sd is not None and self.observed == 0:
            raise ValueError("relative_sd needs an observed value other than 0: give sd")
        return self

    @property
    def standard_deviation(self) -> float:
        if self.sd is not None:
            return self.sd
        return abs(self.observed) * float(self.relative_sd)


class Method(Frozen):
    """ABC-SMC's settings (docs/calibration.md, "Method")."""

    population: PositiveInt | list[PositiveInt] = Field(
        500,
        description="Particles accepted per generation. A list gives the first "
        "generations' sizes, its last size then repeating: small early generations, whose "
        "only use is to narrow the proposals, cost fewer simulations.",
    )
    generations: PositiveInt = Field(8, description="Generations at most.")
    budget: PositiveInt = Field(
        50_000,
        description="Simulations at most, over all generations; a generation that the "
        "budget cuts short is not kept.",
    )
    quantile: Annotated[float, Field(strict=True, gt=0, lt=1)] = Field(
        0.5,
        description="Each generation's tolerance is this weighted quantile of the "
        "previous generation's distances.",
    )
    tolerances: list[Positive] | None = Field(
        None, description="Or a fixed tolerance schedule, one per generation, decreasing."
    )
    min_tolerance: Positive | None = Field(
        None,
        description="Stop once the tolerance is this low. Default: half the square root "
        "of the number of fitted targets, every target within half an sd on average.",
    )
    adjustment: Literal["none", "local_linear"] = Field(
        "none",
        description='"local_linear": each generation\'s particles are adjusted by a '
        "local-linear regression on their targets (Beaumont et al. 2002), which removes "
        "most of what the tolerance adds to the posterior's width; the posterior is then "
        'the adjusted sample (docs/calibration.md, "Regression adjustment").',
    )
    stable_within: Positive | None = Field(
        None,
        description="Stop once the posterior (adjusted, with an adjustment) has moved "
        "from the previous generation by no more than this many standard errors of the "
        "change that chance alone gives, at every parameter's 5%, 50% and 95% quantiles, "
        "in a generation of the population's full size.",
    )
    min_acceptance_rate: Annotated[float, Field(strict=True, ge=0, lt=1)] = Field(
        0.01, description="Stop when a generation accepts fewer of its simulations."
    )
    replications: PositiveInt = Field(
        1, description="Replications per evaluation; the targets are their mean."
    )
    predictive_draws: PositiveInt = Field(
        200, description="Posterior draws simulated afresh for the predictive check."
    )
    seed: Annotated[int, Field(ge=0, le=MAX_SEED, strict=True)] = Field(
        0, description="The calibration is a function of its file and this seed alone."
    )

    @field_validator("population", mode="before")
    @classmethod
    def _sizes(cls, population: Any) -> Any:
        """One plain message for a bad size, rather than one per branch of the union."""
        sizes = population if isinstance(population, list) else [population]
        if not sizes:
            raise ValueError("give a size, or a list of at least one size")
        for size in sizes:
            if isinstance(size, bool) or not isinstance(size, int) or size <= 0:
                raise ValueError(
                    f"{size!r} is not a number of particles: give a whole number above 0, "
                    "or a list of them"
                )
        # A generation's particles are what the next one proposes from: a later
        # generation smaller than an earlier one would throw away what was paid for.
        if any(b < a for a, b in itertools.pairwise(sizes)):
            raise ValueError("the sizes may not shrink from one generation to the next")
        return population

    @model_validator(mode="after")
    def _schedule(self) -> Method:
        if isinstance(self.population, list) and len(self.population) > self.generation_count:
            raise ValueError(
                f"population: {len(self.population)} sizes for {self.generation_count} "
                "generations: the last sizes would never be used"
            )
        if self.tolerances is not None:
            if any(b >= a for a, b in zip(self.tolerances, self.tolerances[1:], strict=False)):
                raise ValueError("tolerances must decrease from one generation to the next")
            if len(self.tolerances) != self.generations and "generations" in self.model_fields_set:
                raise ValueError(
                    f"{len(self.tolerances)} tolerances for {self.generations} generations: "
                    "give one per generation, or leave generations out"
                )
        return self

    @property
    def generation_count(self) -> int:
        return len(self.tolerances) if self.tolerances is not None else self.generations

    def population_of(self, generation: int) -> int:
        """Particles accepted in ``generation`` (0 is the first after the prior sample)."""
        if isinstance(self.population, int):
            return self.population
        return self.population[min(generation, len(self.population) - 1)]


class CalibrationSettings(Frozen):
    name: Identifier
    description: Text = ""
    scenario: str = Field(description="The scenario file it calibrates, relative to this file.")
    set: dict[KeyPathText, Any] = Field(
        {}, description="Fixed overrides of the scenario, as with --set, before calibrating."
    )


class Calibration(Frozen):
    calibration: CalibrationSettings
    method: Method = Method()
    parameters: list[CalibrationParameter] = Field(min_length=1)
    targets: list[CalibrationTarget] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Calibration:
        _unique("parameter", [p.name for p in self.parameters])
        _unique("target", [t.name for t in self.targets])
        keys = [p.key for p in self.parameters]
        for i, a in enumerate(keys):
            for b in keys[i + 1 :]:
                if keys_overlap(a, b):
                    raise ValueError(f"parameters set overlapping keys {a} and {b}")
            for b in self.calibration.set:
                if keys_overlap(a, b):
                    raise ValueError(f"parameter key {a} is also fixed in calibration.set ({b})")
        if not self.fitted:
            raise ValueError("every target is held out: at least one must be fitted")
        return self

    @property
    def fitted(self) -> list[CalibrationTarget]:
        return [t for t in self.targets if not t.held_out]

    @property
    def held_out(self) -> list[CalibrationTarget]:
        return [t for t in self.targets if t.held_out]

    @property
    def min_tolerance(self) -> float:
        chosen = self.method.min_tolerance
        return chosen if chosen is not None else 0.5 * math.sqrt(len(self.fitted))


def _unique(what: str, names: list[str]) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ValueError(f"two {what}s are named '{name}'")
        seen.add(name)


def load_calibration_file(path: str | Path) -> tuple[Calibration, Scenario]:
    """Read and validate a calibration file and the scenario it names.

    The scenario is loaded with the file's fixed overrides, then once with every
    parameter at a value inside its prior, so that a key path that is not in the
    scenario, or a prior that reaches values the scenario refuses, is reported
    here, naming the calibration file, rather than at the first simulation.
    """
    path = Path(path)
    data = read_toml(path)
    try:
        calibration = Calibration.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(issues_from_pydantic(exc, {(): str(path)}, Calibration)) from None
    scenario_path = path.parent / calibration.calibration.scenario
    base = load_scenario(scenario_path, calibration.calibration.set)
    _check_parameters(calibration, base, path)
    return calibration, base


def _check_parameters(calibration: Calibration, base: Scenario, path: Path) -> None:
    """Each parameter names a number of the scenario (or a new point of a schedule),
    and the scenario takes the values at both ends of its prior (4 sd from the mean
    of a normal one)."""
    from .model import prior_distribution

    data = base.model_dump(mode="python", by_alias=True)
    issues = []
    for k, parameter in enumerate(calibration.parameters):
        where = f"parameters[{k}].key"
        problem = _key_problem(data, parameter.key)
        if problem:
            issues.append(Issue(str(path), where, problem))
            continue
        low, high = _reach(prior_distribution(parameter))
        for value in (low, high):
            try:
                with_overrides(base, {parameter.key: value})
            except ScenarioError as exc:
                reason = "; ".join(i.message for i in exc.issues)
                issues.append(
                    Issue(
                        str(path),
                        f"parameters[{k}].prior",
                        f"parameter '{parameter.name}' reaches {parameter.key} = {value:.6g}, "
                        "which the scenario refuses "
                        f"({reason}): narrow the prior, or truncate it",
                    )
                )
                break
    if issues:
        raise ScenarioError(issues)


def _reach(prior: Any) -> tuple[float, float]:
    low, high = (float(x) for x in prior.support())
    if not math.isfinite(low):
        low = float(prior.ppf(3.2e-5))  # 4 sd below the mean of a normal
    if not math.isfinite(high):
        high = float(prior.ppf(1 - 3.2e-5))
    return low, high


def _key_problem(data: dict[str, Any], key: str) -> str | None:
    table: Any = data
    parts = key.split(".")
    for depth, part in enumerate(parts[:-1]):
        if not isinstance(table, dict) or part not in table:
            return f"the scenario has no table {'.'.join(parts[: depth + 1])}"
        table = table[part]
    if not isinstance(table, dict):
        return f"{'.'.join(parts[:-1])} is a value, not a table"
    last = parts[-1]
    if last not in table:
        if is_date_key(last):
            return None  # a new point of a schedule
        return f"the scenario has no key {key}"
    value = table[last]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        kind = type(value).__name__
        return f"{key} is not a number in the scenario ({kind}): only numbers calibrate"
    return None
