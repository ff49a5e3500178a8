"""Interdictions: operations that raise the seizure risk on routes for a window, and may
change how much of what is seized corruption lets go.

compile: ``[policies.interdictions]`` into windows on route indices. query:
:class:`Interdictions` gives the increase of risk and the release share on a route
on a day. describe: the policy rows of summaries and reports.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flowsim.schema import Scenario

__all__ = ["InterdictionTables", "Interdictions", "compile_interdictions", "describe_interdictions"]


@dataclass(frozen=True)
class InterdictionTables:
    # Per route: (from day, to day, increase) and (from day, to day, release share).
    boosts: tuple[tuple[tuple[float, float, float], ...], ...]
    releases: tuple[tuple[tuple[float, float, float], ...], ...]


def compile_interdictions(scenario: Scenario, index: Mapping[str, int]) -> InterdictionTables:
    s = scenario
    routes = list(s.routes.items())
    boosts: list[list[tuple[float, float, float]]] = [[] for _ in routes]
    releases: list[list[tuple[float, float, float]]] = [[] for _ in routes]
    for rule in s.policies.interdictions.values():
        if not rule.enabled:
            continue
        window = (s.day_of(rule.start), s.day_of(rule.end) + 1)
        for r, (route_id, route) in enumerate(routes):
            source = s.nodes[route.source]
            target = s.nodes[route.target]
            if not (
                route_id in rule.routes
                or target.jurisdiction in rule.into_jurisdictions
                or source.jurisdiction in rule.from_jurisdictions
            ):
                continue
            if rule.seizure_increase > 0:
                boosts[r].append((*window, rule.seizure_increase))
            if rule.release_share is not None:
                releases[r].append((*window, rule.release_share))
    return InterdictionTables(tuple(tuple(b) for b in boosts), tuple(tuple(x) for x in releases))


def describe_interdictions(scenario: Scenario) -> list[dict[str, Any]]:
    return [
        {"kind": "interdiction", "name": name, "enabled": rule.enabled, "from": str(rule.start)}
        for name, rule in scenario.policies.interdictions.items()
    ]


class Interdictions:
    def __init__(self, tables: InterdictionTables):
        self.boosts = tables.boosts
        self.releases = tables.releases

    def touches_route(self, route: int) -> bool:
        return bool(self.boosts[route])

    def release_share(self, route: int, day: float, base: float) -> float:
        """Share of seizures on ``route`` that corruption undoes on ``day``: ``base``,
        or the largest set by an interdiction under way."""
        active = [share for start, end, share in self.releases[route] if start <= day < end]
        return max(active) if active else base
