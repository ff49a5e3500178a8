"""What a run was: its scenario, calendar, seed, replications and versions, typed.

:class:`RunMeta` is made by :func:`flowsim.simulate`, written in a run folder's
``manifest.json`` and checked when the folder is read back. It reads like a
mapping too (``meta["seed"]``), for code written against the plain dictionary it
replaced.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from flowsim.fields import FIRST_DATE, LAST_DATE
from flowsim.limits import MAX_REPLICATIONS, MAX_SEED

__all__ = ["Assumption", "PolicyRow", "PosteriorRun", "RunMeta"]


class Assumption(BaseModel):
    """A comment line of a scenario's file that marks an assumption."""

    model_config = ConfigDict(frozen=True, strict=True, extra="forbid")

    file: str
    line: int = Field(ge=1)
    text: str


class PolicyRow(BaseModel):
    """One policy of the scenario: its kind, name, switch and first date."""

    model_config = ConfigDict(frozen=True, strict=True, extra="forbid", populate_by_name=True)

    kind: str
    name: str
    enabled: bool
    start: str = Field(alias="from")


class PosteriorRun(BaseModel):
    """A run over a calibration's posterior: replication ``k`` set the parameters of
    ``draws[k]`` (by name) at their key paths (``keys``)."""

    model_config = ConfigDict(frozen=True, strict=True, extra="forbid")

    calibration: str
    folder: str
    keys: dict[str, str]
    draws: list[dict[str, float]]


class RunMeta(BaseModel):
    """The metadata of a run (docs/summary.md, ``manifest.json``)."""

    model_config = ConfigDict(frozen=True, strict=True, extra="forbid")

    scenario: str
    description: str = ""
    sources: list[str] = Field(default_factory=list)
    # Ids of the rows of docs/sources.md the scenario's files cite (flowsim.sources).
    citations: list[str] = Field(default_factory=list)
    assumptions: list[Assumption] = Field(default_factory=list)
    start: date = Field(ge=FIRST_DATE, le=LAST_DATE)
    end: date = Field(ge=FIRST_DATE, le=LAST_DATE)
    seed: int = Field(ge=0, le=MAX_SEED)
    replications: int = Field(ge=1, le=MAX_REPLICATIONS)
    first_replication: int = Field(0, ge=0)
    flowsim_version: str
    scenario_hash: str | None = None
    wall_seconds: float = Field(0.0, ge=0)
    policies: list[PolicyRow] = Field(default_factory=list)
    scenario_json: dict[str, Any] = Field(default_factory=dict)
    documents: bool = False  # the run's lots carried papers
    posterior: PosteriorRun | None = None  # replications over a calibration's posterior

    @model_validator(mode="after")
    def _ordered(self) -> RunMeta:
        if self.end < self.start:
            raise ValueError(f"end ({self.end}) is before start ({self.start})")
        return self

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RunMeta:
        """From a manifest's JSON object: its own keys only, dates from their ISO text.
        Raises ``ValueError`` naming the key and the problem."""
        known = {k: v for k, v in data.items() if k in cls.model_fields}
        for key in ("start", "end"):
            if isinstance(known.get(key), str):
                try:
                    known[key] = date.fromisoformat(known[key])
                except ValueError:
                    raise ValueError(f"{key}: not a date (got {known[key]!r})") from None
        try:
            return cls.model_validate(known)
        except ValidationError as exc:
            error = exc.errors(include_url=False)[0]
            where = ".".join(str(part) for part in error["loc"]) or "(top level)"
            raise ValueError(f"{where}: {error['msg']}") from None

    def as_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)

    # Read like the dictionary it replaced.
    def __getitem__(self, key: str) -> Any:
        if key not in type(self).model_fields:
            raise KeyError(key)
        value = getattr(self, key)
        if isinstance(value, date):
            return str(value)
        if key in ("assumptions", "policies"):
            return [item.model_dump(by_alias=True) for item in value]
        if key == "posterior" and value is not None:
            return value.model_dump()
        return value

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default

    def keys(self) -> Iterator[str]:
        return iter(type(self).model_fields)
