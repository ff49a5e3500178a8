"""Blockades: a node cut off for a window (a strike, a road blockade, a closed border).

compile: ``[policies.blockades]`` into windows on node indices. check: the nodes and
dates they name. query: :class:`Lever` gives a blockaded node no capacity while the
blockade lasts, which closes the routes into it; the day it ends, held gold is
offered again. describe: the policy rows of summaries and reports.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from flowsim.findings import Finding, check_window, hint
from flowsim.levers.base import Lever as BaseLever

if TYPE_CHECKING:
    import numpy as np

    from flowsim.network import Network
    from flowsim.schema import Scenario

SECTION = "blockades"


def compile_rules(rules: Mapping[str, Any], index: Mapping[str, int], day_of) -> tuple:
    """Per node: the (first day, first day after) of each enabled blockade of it."""
    windows: list[list[tuple[float, float]]] = [[] for _ in index]
    for rule in rules.values():
        if rule.enabled:
            for node in rule.nodes:
                windows[index[node]].append((day_of(rule.start), day_of(rule.end) + 1))
    return tuple(tuple(w) for w in windows)


def compile(scenario: Scenario, index: Mapping[str, int]) -> tuple:
    return compile_rules(scenario.policies.blockades, index, scenario.day_of)


def check(s: Scenario) -> Iterator[Finding]:
    for name, rule in s.policies.blockades.items():
        prefix = ("policies", "blockades", name)
        yield from check_window(s, prefix, "start", "end", rule.start, rule.end)
        for i, node in enumerate(rule.nodes):
            if node not in s.nodes:
                yield ((*prefix, "nodes", i), f"unknown node '{node}'{hint(node, s.nodes)}")


def describe(scenario: Scenario) -> list[dict[str, Any]]:
    return [
        {"kind": "blockade", "name": name, "enabled": rule.enabled, "from": str(rule.start)}
        for name, rule in scenario.policies.blockades.items()
    ]


class Lever(BaseLever):
    def __init__(self, windows: tuple, network: Network, rng: np.random.Generator):
        self.windows = windows

    def _blocked(self, node: int, day: float) -> bool:
        return any(start <= day < end for start, end in self.windows[node])

    def may_change_capacity(self, node: int) -> bool:
        return bool(self.windows[node])

    def capacity_changed(self, node: int) -> bool:
        return bool(self.windows[node])

    def capacity_factor(self, node: int, day: float) -> float:
        return 0.0 if self._blocked(node, day) else 1.0

    def closes_routes(self) -> bool:
        return any(self.windows)

    def change_days(self) -> Sequence[float]:
        return [end for windows in self.windows for _, end in windows]
