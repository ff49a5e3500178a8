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

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from flowsim.limits import MAX_SEED

__all__ = ["RunMeta"]


class RunMeta(BaseModel):
    """The metadata of a run (docs/summary.md, ``manifest.json``)."""

    model_config = ConfigDict(frozen=True, strict=True, extra="forbid")

    scenario: str
    description: str = ""
    sources: list[str] = Field(default_factory=list)
    assumptions: list[dict[str, Any]] = Field(default_factory=list)
    start: date
    end: date
    seed: int = Field(ge=0, le=MAX_SEED)
    replications: int = Field(ge=1)
    first_replication: int = Field(0, ge=0)
    flowsim_version: str
    scenario_hash: str | None = None
    wall_seconds: float = Field(0.0, ge=0)
    policies: list[dict[str, Any]] = Field(default_factory=list)
    scenario_json: dict[str, Any] = Field(default_factory=dict)

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
        return self.model_dump(mode="json")

    # Read like the dictionary it replaced.
    def __getitem__(self, key: str) -> Any:
        if key not in type(self).model_fields:
            raise KeyError(key)
        value = getattr(self, key)
        return str(value) if isinstance(value, date) else value

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default

    def keys(self) -> Iterator[str]:
        return iter(type(self).model_fields)
