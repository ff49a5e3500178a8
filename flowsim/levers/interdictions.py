"""Interdictions: operations that raise the seizure risk on routes for a window, and may
change how much of what is seized corruption lets go.

compile: ``[policies.interdictions]`` into windows on route indices. check: the
routes, jurisdictions and dates they name. query: :class:`Lever` gives the increase
of risk and the release share on a route on a day. describe: the policy rows of
summaries and reports.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flowsim.findings import Finding, check_known, check_window
from flowsim.levers.base import Lever as BaseLever

if TYPE_CHECKING:
    import numpy as np

    from flowsim.network import Network
    from flowsim.schema import Scenario

__all__ = ["SECTION", "InterdictionTables", "Lever", "check", "compile", "describe"]

SECTION = "interdictions"


@dataclass(frozen=True)
class InterdictionTables:
    # Per route: (from day, to day, increase) and (from day, to day, release share).
    boosts: tuple[tuple[tuple[float, float, float], ...], ...]
    releases: tuple[tuple[tuple[float, float, float], ...], ...]


def compile(scenario: Scenario, index: Mapping[str, int]) -> InterdictionTables:
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


def check(s: Scenario) -> Iterator[Finding]:
    jurisdictions = sorted({node.jurisdiction for node in s.nodes.values()})
    for name, rule in s.policies.interdictions.items():
        prefix = ("policies", "interdictions", name)
        yield from check_window(s, prefix, "start", "end", rule.start, rule.end)
        for i, route_id in enumerate(rule.routes):
            yield from check_known((*prefix, "routes", i), route_id, s.routes, "unknown route '{}'")
        for key in ("into_jurisdictions", "from_jurisdictions"):
            for i, code in enumerate(getattr(rule, key)):
                yield from check_known(
                    (*prefix, key, i), code, jurisdictions, "no node is in jurisdiction '{}'"
                )


def describe(scenario: Scenario) -> list[dict[str, Any]]:
    return [
        {"kind": "interdiction", "name": name, "enabled": rule.enabled, "from": str(rule.start)}
        for name, rule in scenario.policies.interdictions.items()
    ]


class Lever(BaseLever):
    def __init__(self, tables: InterdictionTables, network: Network, rng: np.random.Generator):
        self.boosts = tables.boosts
        self.releases = tables.releases

    def may_change_seizure(self, route: int) -> bool:
        return bool(self.boosts[route])

    def seizure_boosts(self, route: int) -> Sequence[tuple[float, float, float]]:
        return self.boosts[route]

    def release_share(self, route: int, day: float) -> float | None:
        """The largest release share set by an interdiction under way, if any."""
        active = [share for start, end, share in self.releases[route] if start <= day < end]
        return max(active) if active else None
