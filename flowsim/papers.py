"""What the network compiles of papers and customs: who re-papers gold and at what
cost and risk, what each partner's checks see through, which crossings customs
record, and how much of it each jurisdiction publishes.

A lot's papers name the node that issued them: its mine, or the last node that
re-papered it (:mod:`flowsim.engine.customs`). Papers declare the issuer's
jurisdiction and entity, and legal gold when the issuer is a licensed mine or a
laundering node; a mine that is informal or illegal issues none.
:meth:`flowsim.network.Network.build` calls :func:`compile_papers`; like it, this is
a reader of the scenario's models for a run.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flowsim.schema import Scenario

__all__ = [
    "FLOWS",
    "HS_MINED",
    "HS_SCRAP",
    "OUTCOMES",
    "PapersSpec",
    "compile_papers",
    "documents_on",
]

HS_MINED = 7108  # gold, unwrought, semi-manufactured or powder (doré and bars)
HS_SCRAP = 7112  # waste and scrap of precious metal
# The flows of the trade statistics, in the order of their codes.
FLOWS = ("import", "export", "re-export", "re-import")
IMPORT, EXPORT, RE_EXPORT, RE_IMPORT = range(len(FLOWS))
# What due diligence made of a lot, in the order of their codes.
OUTCOMES = ("refused_on_papers", "refused_on_detection", "accepted_unknowingly")


@dataclass(frozen=True)
class PapersSpec:
    """Papers and customs, by node and route index (0 or False where a node has none)."""

    legal_issuer: tuple[bool, ...]  # the papers it issues declare legal gold
    launder_share: tuple[float, ...]
    launder_cost: tuple[float, ...]  # USD a kg re-papered
    launder_detection: tuple[float, ...]
    launder_scrap: tuple[float, ...]  # share of re-papered lots declared as scrap
    due_diligence: tuple[float, ...]  # a partner's chance per laundering step
    declared_export: tuple[bool, ...]  # by route: a crossing its exporter records
    declared_import: tuple[bool, ...]  # by route: a crossing its importer records
    jurisdiction_codes: tuple[str, ...]  # every node's jurisdiction, sorted
    node_jurisdiction: tuple[int, ...]  # by node: its index in jurisdiction_codes
    reporting_share: tuple[float, ...]  # by jurisdiction index
    month_of_day: tuple[int, ...]  # month of the run (from 0) of each day

    @property
    def expected_cost(self) -> tuple[float, ...]:
        """USD a node spends re-papering, on average, on each kg that leaves it."""
        return tuple(s * c for s, c in zip(self.launder_share, self.launder_cost, strict=True))


def documents_on(scenario: Scenario) -> bool:
    """Whether lots carry papers: as the scenario says, else when anything reads them."""
    setting = scenario.simulation.documents
    if setting is not None:
        return setting
    nodes = scenario.nodes.values()
    return bool(
        scenario.customs
        or any(getattr(n, "laundering", None) is not None for n in nodes)
        or any(getattr(n, "due_diligence", 0.0) > 0.0 for n in nodes)
        or any("declared" in r.model_fields_set for r in scenario.routes.values())
    )


def compile_papers(
    scenario: Scenario, nodes: list[Any], routes: list[Any], sources: tuple[int, ...],
    targets: tuple[int, ...], month_start_days: tuple[float, ...],
) -> PapersSpec | None:  # fmt: skip
    """The papers and customs of a scenario whose lots carry papers, else None."""
    if not documents_on(scenario):
        return None
    launder = [getattr(n, "laundering", None) for n in nodes]
    codes = tuple(sorted({n.jurisdiction for n in nodes}))
    where = tuple(codes.index(n.jurisdiction) for n in nodes)
    crossing = [where[s] != where[t] for s, t in zip(sources, targets, strict=True)]
    return PapersSpec(
        legal_issuer=tuple(
            (n.kind == "mine" and n.legal_status == "licensed") or spec is not None
            for n, spec in zip(nodes, launder, strict=True)
        ),
        launder_share=tuple(spec.share if spec else 0.0 for spec in launder),
        launder_cost=tuple(spec.cost_usd_per_kg if spec else 0.0 for spec in launder),
        launder_detection=tuple(spec.detection if spec else 0.0 for spec in launder),
        launder_scrap=tuple(spec.as_scrap if spec else 0.0 for spec in launder),
        due_diligence=tuple(getattr(n, "due_diligence", 0.0) for n in nodes),
        declared_export=tuple(
            cross and r.declared in ("both", "export")
            for cross, r in zip(crossing, routes, strict=True)
        ),
        declared_import=tuple(
            cross and r.declared in ("both", "import")
            for cross, r in zip(crossing, routes, strict=True)
        ),
        jurisdiction_codes=codes,
        node_jurisdiction=where,
        reporting_share=tuple(
            scenario.customs[c].reporting_share if c in scenario.customs else 1.0 for c in codes
        ),
        month_of_day=tuple(bisect_right(month_start_days, d) - 1 for d in range(scenario.days + 1)),
    )
