"""The key findings of a run in plain sentences: what the report says first.

Every number in a sentence comes from the results, with its 95% interval when there
are two or more replications (flowsim.compare and flowsim.stats say how each is
made). Against a baseline, the findings are the changes: total exports, the partners
whose exports changed most, the exposure of partners' imports to sanctioned and
illegal gold, and seizures. A run alone states its exports and exposure. A change
whose interval includes no change is said to be one that chance alone could give.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from flowsim.compare import compare_exports, compare_exposure, paired
from flowsim.stats import FEW_REPLICATIONS, confidence_interval, ratio_interval, welch_interval

if TYPE_CHECKING:  # a Results' own module writes reports: imported for types only
    from flowsim.results import Results

__all__ = ["Headline", "headlines", "interval_note"]

# How many partners the findings name one by one; the exports table lists them all.
MAX_PARTNERS = 4
# The exposure a finding names: the share of a partner's imports that is ...
EXPOSURE_WORDS = {
    "sanctioned_entity_share": "gold that passed through a sanctioned entity",
    "sanctioned_jurisdiction_share": "gold from a sanctioned jurisdiction",
    "illegal_origin_share": "gold of illegal or informal origin",
}
CHANCE = "; a change that chance alone could give"


@dataclass(frozen=True)
class Headline:
    """One finding: its sentence, and the figure it states with its interval."""

    topic: str  # "exports_total", "exports_partner", "exposure" or "seizures"
    subject: str  # the partner it is about, or "total"
    text: str
    value: float
    interval: tuple[float, float] | None


def headlines(results: Results, baseline: Results | None = None) -> list[Headline]:
    """The key findings of ``results``, against ``baseline`` if given."""
    names = _display_names(results, baseline)
    if baseline is None:
        return [*_exports_alone(results, names), *_exposure_alone(results, names)]
    return [
        *_exports_against(results, baseline, names),
        *_exposure_against(results, baseline, names),
        *_seizures_against(results, baseline),
    ]


def interval_note(replications: int) -> str | None:
    """What a reader needs to know of the intervals of ``replications`` replications."""
    if replications < 2:
        return (
            "One replication: its figures carry no interval. Run with --replications 10 "
            "or more to see how much of each figure is chance."
        )
    if replications < FEW_REPLICATIONS:
        return (
            f"The 95% intervals rest on {replications} replications: they are wide, and "
            f"their own width is uncertain. Run with --replications {2 * FEW_REPLICATIONS} "
            "or more for intervals a reader can rely on."
        )
    return None


# --- formatting ---------------------------------------------------------------------


def tonnes(kg: float) -> str:
    """A mass as a reader says it: tonnes to a tenth, below a tonne in kg."""
    if abs(kg) >= 1000:
        return f"{abs(kg) / 1000:,.1f} t"
    return f"{abs(kg):,.0f} kg"


def _pct(value: float) -> str:
    if math.isinf(value):
        return "+inf"
    return f"{value:+.1f}%" if abs(value) < 10 else f"{value:+.0f}%"


def _share(value: float) -> str:
    return f"{100 * value:.0f}%"


def _span(interval: tuple[float, float] | None, form) -> str:
    if interval is None:
        return ""
    return f", 95% interval {form(interval[0])} to {form(interval[1])}"


def _display_names(*runs: Results | None) -> dict[str, str]:
    names: dict[str, str] = {}
    for run in runs:
        if run is not None:
            nodes = run.nodes
            names.update(zip(nodes["node"].astype(str), nodes["name"].astype(str), strict=True))
    return names


def _period(results: Results) -> str:
    return f"from {results.start:%d %b %Y} to {results.end:%d %b %Y}".replace(" 0", " ")


def _pair(ci: Any) -> tuple[float, float] | None:
    """A summary's ``ci95`` leaf (a list, or None with one replication) as a pair."""
    return (float(ci[0]), float(ci[1])) if ci else None


def _row_interval(row: Mapping[str, Any], low: str, high: str) -> tuple[float, float] | None:
    if low not in row or pd.isna(row[low]):
        return None
    return (float(row[low]), float(row[high]))


# --- against a baseline -------------------------------------------------------------


def _exports_against(results: Results, baseline: Results, names: dict[str, str]) -> list[Headline]:
    table = compare_exports(baseline, results)
    found = []
    total = table[table["partner"] == "total"].iloc[0]
    found.append(
        _change(
            "exports_total",
            "total",
            f"Against {baseline.meta.scenario}, total exports",
            total,
            f" {_period(results)}",
        )
    )
    partners = table[table["partner"] != "total"].copy()
    partners = partners.reindex(partners["change_kg"].abs().sort_values(ascending=False).index)
    for _, row in partners.head(MAX_PARTNERS).iterrows():
        partner = str(row["partner"])
        found.append(
            _change("exports_partner", partner, f"Exports to {names.get(partner, partner)}", row)
        )
    return found


def _change(
    topic: str, subject: str, what: str, row: Mapping[str, Any], when: str = ""
) -> Headline:
    change = float(row["change_kg"])
    kg_interval = _row_interval(row, "change_kg_low", "change_kg_high")
    pct_interval = _row_interval(row, "change_pct_low", "change_pct_high")
    if pd.isna(row["change_pct"]):  # nothing in the baseline: a change from zero
        verb = "rise" if change > 0 else "stay"
        text = f"{what} {verb} from none to {tonnes(row['scenario_kg'])}{when}."
        return Headline(topic, subject, text, change, kg_interval)
    if change == 0.0:
        return Headline(topic, subject, f"{what} do not change{when}.", 0.0, kg_interval)
    verb = "rise" if change > 0 else "fall"
    chance = CHANCE if kg_interval is not None and kg_interval[0] <= 0.0 <= kg_interval[1] else ""
    text = (
        f"{what} {verb} by {tonnes(change)}{when} ({_pct(float(row['change_pct']))}"
        f"{_span(pct_interval, _pct)}{chance})."
    )
    return Headline(topic, subject, text, float(row["change_pct"]), pct_interval)


def _exposure_against(results: Results, baseline: Results, names: dict[str, str]) -> list[Headline]:
    table = compare_exposure(baseline, results)
    if table.empty:
        return []
    scenario_ci = results.summary()["ci95"]["exposure_by_partner"]
    found = []
    for metric, words in EXPOSURE_WORDS.items():
        rows = table[table["metric"] == metric]
        if rows.empty or rows[["baseline", "scenario"]].to_numpy().max() <= 0.0:
            continue
        # The partner whose share moved most, or, if none moved, the most exposed.
        moved = rows["change_points"].abs()
        row = rows.loc[moved.idxmax()] if moved.max() > 0 else rows.loc[rows["scenario"].idxmax()]
        partner = str(row["partner"])
        interval = _pair(scenario_ci.get(partner, {}).get(metric))
        points = _row_interval(row, "change_points_low", "change_points_high")
        chance = CHANCE if points is not None and points[0] <= 0.0 <= points[1] else ""
        text = (
            f"The share of {words} in the imports of {names.get(partner, partner)} is "
            f"{_share(row['scenario'])}{_span(interval, _share)}, against "
            f"{_share(row['baseline'])} in {baseline.meta.scenario}{chance}."
        )
        found.append(Headline("exposure", partner, text, float(row["scenario"]), interval))
    return found


def _seizures_against(results: Results, baseline: Results) -> list[Headline]:
    def seized(run: Results) -> pd.Series:
        by = run.seizures.groupby("replication")["kg"].sum()
        return by.reindex(range(run.replications), fill_value=0.0)

    base, mine = seized(baseline), seized(results)
    if base.sum() == 0.0 and mine.sum() == 0.0:
        return []
    row = {
        "change_kg": float(mine.mean() - base.mean()),
        "scenario_kg": float(mine.mean()),
        "change_pct": (100.0 * (mine.mean() / base.mean() - 1.0)) if base.mean() > 0 else math.nan,
    }
    if min(results.replications, baseline.replications) >= 2:
        # The same rules as the exports' changes (flowsim.compare).
        x, b = mine.to_numpy(), base.to_numpy()
        pairs = paired(baseline, results)
        kg = confidence_interval(x - b) if pairs else welch_interval(x, b)
        if kg is not None:
            row["change_kg_low"], row["change_kg_high"] = kg
        ratio = ratio_interval(x, b, paired=pairs) if b.mean() > 0 else None
        if ratio is not None:
            row["change_pct_low"] = 100.0 * (ratio[0] - 1.0)
            row["change_pct_high"] = 100.0 * (ratio[1] - 1.0)
    return [_change("seizures", "total", "Seizures", row)]


# --- a run alone --------------------------------------------------------------------


def _exports_alone(results: Results, names: dict[str, str]) -> list[Headline]:
    summary = results.summary()
    exports = summary["exports_kg_by_partner"]
    total = sum(exports.values())
    intervals = summary["ci95"]
    by_replication = pd.DataFrame(
        [f["exports_kg_by_partner"] for f in results.figures_by_replication()]
    ).sum(axis=1)
    ci = confidence_interval(by_replication.to_numpy(), bounds=(0.0, math.inf))
    text = (
        f"{_period(results)[0].upper()}{_period(results)[1:]}, {tonnes(total)} of gold is "
        f"exported{_span(ci, tonnes)}."
    )
    found = [Headline("exports_total", "total", text, total, ci)]
    if total > 0:
        top = max(exports, key=exports.get)
        interval = _pair(intervals["exports_kg_by_partner"].get(top))
        text = (
            f"{names.get(top, top)} takes the most: {tonnes(exports[top])}"
            f"{_span(interval, tonnes)}, {_share(exports[top] / total)} of the total."
        )
        found.append(Headline("exports_partner", top, text, exports[top], interval))
    return found


def _exposure_alone(results: Results, names: dict[str, str]) -> list[Headline]:
    summary = results.summary()
    exposure = summary["exposure_by_partner"]
    found = []
    for metric, words in EXPOSURE_WORDS.items():
        shares = {p: float(f.get(metric, 0.0)) for p, f in exposure.items()}
        if not shares or max(shares.values()) <= 0.0:
            continue
        partner = max(shares, key=shares.get)
        interval = _pair(summary["ci95"]["exposure_by_partner"][partner].get(metric))
        text = (
            f"{names.get(partner, partner)} takes the largest share of {words}: "
            f"{_share(shares[partner])} of its imports{_span(interval, _share)}."
        )
        found.append(Headline("exposure", partner, text, shares[partner], interval))
    return found
