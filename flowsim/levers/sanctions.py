"""Sanctions: who is designated, from when to when, and who complies.

compile: ``[policies.sanctions]`` into regimes on node indices and simulation days.
check: the names and dates the regimes give. query: :class:`Lever` answers what a
lot touched while it stayed at a node (its taint, a bit per regime), whether a
partner refuses it, and which jurisdictions are under sanctions on a day; it closes
routes while a partner complies in full. describe: the policy rows of summaries and
reports.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flowsim.findings import Finding, check_date, check_known, check_window, node_aliases
from flowsim.levers.base import Lever as BaseLever

if TYPE_CHECKING:
    import numpy as np

    from flowsim.network import Network
    from flowsim.schema import Scenario

__all__ = ["SECTION", "Lever", "Regime", "check", "compile", "describe"]

SECTION = "sanctions"


@dataclass(frozen=True)
class Regime:
    """One sanctions regime: who it targets, from when, and who complies when."""

    name: str
    start: float
    end: float  # first day on which it no longer applies
    targets: frozenset[int]  # nodes operated by a target entity or in a target jurisdiction
    entity_targets: frozenset[int]  # nodes operated by a target entity
    jurisdictions: frozenset[str]
    # By node index: the days on which compliance changes and the level from each on.
    compliance_days: tuple[tuple[float, ...], ...]
    compliance_levels: tuple[tuple[float, ...], ...]
    discount: float
    announced: float = -math.inf  # the day it is made known
    licensed_until: float = -math.inf  # the first day after its wind-down licence

    def in_force(self, day: float) -> bool:
        return self.start <= day < self.end

    def compliance(self, partner: int, day: float) -> float:
        if day < self.licensed_until:  # a wind-down licence: no one refuses yet
            return 0.0
        days = self.compliance_days[partner]
        return self.compliance_levels[partner][bisect_right(days, day) - 1]


def compile(scenario: Scenario, index: Mapping[str, int]) -> tuple[Regime, ...]:
    """The enabled regimes, in the scenario's order (bit k of a taint is regime k)."""
    s = scenario
    nodes = list(s.nodes.values())
    regimes = []
    for name, rule in s.policies.sanctions.items():
        if not rule.enabled:
            continue
        entity_targets = frozenset(
            i for i, node in enumerate(nodes) if node.entity in rule.target_entities
        )
        in_jurisdiction = frozenset(
            i for i, node in enumerate(nodes) if node.jurisdiction in rule.target_jurisdictions
        )
        days: list[tuple[float, ...]] = []
        levels: list[tuple[float, ...]] = []
        for node_id, node in s.nodes.items():
            level = rule.compliance.get(node_id, rule.default_compliance)
            if node.kind != "partner":
                level = 0.0
            steps = sorted(
                (s.day_of(c.date), c.level) for c in rule.compliance_changes if c.partner == node_id
            )
            days.append((-math.inf, *(d for d, _ in steps)))
            levels.append((level, *(v for _, v in steps)))
        end = s.day_of(rule.until) + 1 if rule.until is not None else math.inf
        regimes.append(
            Regime(
                name=name,
                start=s.day_of(rule.effective),
                end=end,
                targets=entity_targets | in_jurisdiction,
                entity_targets=entity_targets,
                jurisdictions=frozenset(rule.target_jurisdictions),
                compliance_days=tuple(days),
                compliance_levels=tuple(levels),
                discount=rule.discount,
                announced=s.day_of(rule.announced) if rule.announced else s.day_of(rule.effective),
                licensed_until=(
                    s.day_of(rule.wind_down_until) + 1 if rule.wind_down_until else -math.inf
                ),
            )
        )
    return tuple(regimes)


def check(s: Scenario) -> Iterator[Finding]:
    partners = [n for n, node in s.nodes.items() if node.kind == "partner"]
    aliases = node_aliases(s.nodes)
    entities = sorted({node.entity for node in s.nodes.values()})
    jurisdictions = sorted({node.jurisdiction for node in s.nodes.values()})
    for name, regime in s.policies.sanctions.items():
        prefix = ("policies", "sanctions", name)
        yield from check_window(s, prefix, "effective", "until", regime.effective, regime.until)
        if regime.announced is not None:
            yield from check_date(s, (*prefix, "announced"), regime.announced)
            if regime.announced > regime.effective:
                yield (
                    (*prefix, "announced"),
                    f"{regime.announced} is after effective ({regime.effective}): a "
                    "designation is announced on or before the day it takes effect",
                )
        if regime.wind_down_until is not None:
            yield from check_window(
                s, prefix, "effective", "wind_down_until", regime.effective, regime.wind_down_until
            )
            if regime.until is not None and regime.wind_down_until > regime.until:
                yield (
                    (*prefix, "wind_down_until"),
                    f"{regime.wind_down_until} is after until ({regime.until})",
                )
        for partner in regime.compliance:
            path = (*prefix, "compliance", partner)
            yield from check_known(path, partner, partners, "'{}' is not a partner", aliases)
        for i, entity in enumerate(regime.target_entities):
            path = (*prefix, "target_entities", i)
            yield from check_known(path, entity, entities, "no node is operated by '{}'")
        for i, change in enumerate(regime.compliance_changes):
            where = (*prefix, "compliance_changes", i)
            yield from check_known(
                (*where, "partner"), change.partner, partners, "'{}' is not a partner", aliases
            )
            yield from check_date(s, (*where, "date"), change.date)
            earlier = [
                c
                for c in regime.compliance_changes[:i]
                if (c.partner, c.date) == (change.partner, change.date)
            ]
            if earlier:
                yield (
                    (*where, "date"),
                    f"'{change.partner}' already has a compliance change on {change.date}",
                )
        for i, code in enumerate(regime.target_jurisdictions):
            path = (*prefix, "target_jurisdictions", i)
            yield from check_known(path, code, jurisdictions, "no node is in jurisdiction '{}'")


def describe(scenario: Scenario) -> list[dict[str, Any]]:
    return [
        {"kind": "sanction", "name": name, "enabled": rule.enabled, "from": str(rule.effective)}
        for name, rule in scenario.policies.sanctions.items()
    ]


class Lever(BaseLever):
    """What the regimes say, node by node and day by day."""

    def __init__(self, regimes: tuple[Regime, ...], network: Network, rng: np.random.Generator):
        self.regimes = regimes
        nodes = len(network.node_ids)
        self.any = bool(regimes)
        node_regimes: list[list[int]] = [[] for _ in range(nodes)]
        entity_regimes: list[list[int]] = [[] for _ in range(nodes)]
        for k, regime in enumerate(regimes):
            for i in regime.targets:
                node_regimes[i].append(k)
            for i in regime.entity_targets:
                entity_regimes[i].append(k)
        self.node_regimes = tuple(tuple(ks) for ks in node_regimes)
        self.entity_regimes = tuple(tuple(ks) for ks in entity_regimes)
        boundaries = {d for g in regimes for d in (g.start, g.end, g.licensed_until)}
        for g in regimes:
            for days in g.compliance_days:
                boundaries.update(days[1:])
        self.boundaries = sorted(boundaries)

    def taint_on_leave(self, node: int, arrived: float, leaving: float) -> int:
        """Regimes whose target the lot touched while it stayed at ``node``, as bits."""
        mask = 0
        for k in self.node_regimes[node]:
            regime = self.regimes[k]
            if arrived < regime.end and leaving >= regime.start:
                mask |= 1 << k
        return mask

    def designated_entity_on_leave(self, node: int, arrived: float, leaving: float) -> bool:
        """Whether ``node`` is run by an entity designated while the lot stayed there."""
        for k in self.entity_regimes[node]:
            regime = self.regimes[k]
            if arrived < regime.end and leaving >= regime.start:
                return True
        return False

    def node_taint_now(self, node: int, day: float) -> int:
        return self.taint_on_leave(node, day, day)

    def refusal(self, partner: int, taint: int, day: float) -> tuple[float, float]:
        """Probability that ``partner`` refuses a lot with this taint, and the
        price discount it applies if it takes the lot."""
        refuse = discount = 0.0
        k = 0
        while taint:
            if taint & 1:
                regime = self.regimes[k]
                if regime.in_force(day) and day >= regime.licensed_until:
                    refuse = max(refuse, regime.compliance(partner, day))
                    discount = max(discount, regime.discount)
            taint >>= 1
            k += 1
        return refuse, discount

    def announcements(self, node: int) -> list[tuple[float, float]]:
        """(announced, effective) of each regime that designates ``node`` and is made
        known before it takes effect."""
        return [
            (regime.announced, regime.start)
            for regime in (self.regimes[k] for k in self.node_regimes[node])
            if regime.announced < regime.start
        ]

    def sanctioned_jurisdictions(self, day: float) -> frozenset[str]:
        """Jurisdictions targeted by a regime in force on ``day``."""
        found: set[str] = set()
        for regime in self.regimes:
            if regime.jurisdictions and regime.in_force(day):
                found |= regime.jurisdictions
        return frozenset(found)

    def epoch(self, day: float) -> int:
        """Changes value exactly when some regime, or some compliance, changes."""
        return bisect_right(self.boundaries, day)

    def closes_routes(self) -> bool:
        return self.any

    def change_days(self) -> Sequence[float]:
        """The days on which a regime starts, lapses or changes its compliance."""
        return [d for d in self.boundaries if math.isfinite(d)]
