"""Side-by-side exports and exposure of a scenario and its baseline.

Given :class:`Results` of two or more replications each, the changes come with 95%
intervals: replication k of two runs with the same seed shares its random streams,
so the runs are paired replication by replication (docs/metrics.md). A change in kg
has Student's t interval of the paired differences; a change in percent Fieller's
interval for the ratio of the means, which never falls below -100%; a change in a
share, in percentage points, stays within [-100, 100].
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from flowsim.provenance import EXPOSURES
from flowsim.stats import confidence_interval, ratio_interval, welch_interval

if TYPE_CHECKING:  # a Results' own module writes reports: imported for types only
    from flowsim.results import Results

__all__ = ["compare_exports", "compare_exposure", "paired"]

EXPOSURE_SHARES = tuple(f"{name}_share" for name in EXPOSURES)

Summary = Mapping[str, Any]


def compare_exports(baseline: Results | Summary, scenario: Results | Summary) -> pd.DataFrame:
    """Exports by partner in both runs, with the change in kg and in percent.

    Takes :class:`Results` or their ``summary()`` dictionaries (as read from
    ``summary.json``). The last row, ``total``, sums the partners. A change
    from zero is shown as NaN percent.
    """
    base = _exports(baseline)
    other = _exports(scenario)
    partners = list(dict.fromkeys([*base, *other]))
    table = pd.DataFrame(
        {
            "partner": partners,
            "baseline_kg": [base.get(p, 0.0) for p in partners],
            "scenario_kg": [other.get(p, 0.0) for p in partners],
        }
    )
    total = pd.DataFrame(
        {
            "partner": ["total"],
            "baseline_kg": [table["baseline_kg"].sum()],
            "scenario_kg": [table["scenario_kg"].sum()],
        }
    )
    table = pd.concat([table, total], ignore_index=True)
    table["change_kg"] = table["scenario_kg"] - table["baseline_kg"]
    with np.errstate(divide="ignore", invalid="ignore"):
        pct = 100.0 * table["change_kg"] / table["baseline_kg"]
    table["change_pct"] = pct.where(table["baseline_kg"] > 0)
    if _has_intervals(baseline, scenario):
        _add_export_intervals(table, baseline, scenario)  # type: ignore[arg-type]
    return table


def paired(baseline: Results, scenario: Results) -> bool:
    """Whether replication k of both runs drew from the same random streams: the same
    seed, the same replications, and no calibration's posterior drawn in either."""
    a, b = baseline.meta, scenario.meta
    return (
        a.seed == b.seed
        and a.first_replication == b.first_replication
        and baseline.replications == scenario.replications
        and a.posterior is None
        and b.posterior is None
    )


def _has_intervals(baseline: Results | Summary, scenario: Results | Summary) -> bool:
    return (
        not isinstance(baseline, Mapping)
        and not isinstance(scenario, Mapping)
        and min(baseline.replications, scenario.replications) >= 2
    )


def _by_replication(run: Results) -> pd.DataFrame:
    """Exports in kg, replications as rows and partners as columns, with a total."""
    figures = run.figures_by_replication()
    table = pd.DataFrame([f["exports_kg_by_partner"] for f in figures], dtype=float)
    table["total"] = table.sum(axis=1)
    return table


def _add_export_intervals(table: pd.DataFrame, baseline: Results, scenario: Results) -> None:
    base, other = _by_replication(baseline), _by_replication(scenario)
    pairs = paired(baseline, scenario)
    low_kg, high_kg, low_pct, high_pct = [], [], [], []
    for partner in table["partner"]:
        b = base[partner].to_numpy() if partner in base else np.zeros(len(base))
        x = other[partner].to_numpy() if partner in other else np.zeros(len(other))
        kg = confidence_interval(x - b) if pairs else welch_interval(x, b)
        low_kg.append(kg[0] if kg else np.nan)
        high_kg.append(kg[1] if kg else np.nan)
        ratio = ratio_interval(x, b, paired=pairs) if b.mean() > 0 else None
        low_pct.append(100.0 * (ratio[0] - 1.0) if ratio else np.nan)
        high_pct.append(100.0 * (ratio[1] - 1.0) if ratio else np.nan)
    table["change_kg_low"] = low_kg
    table["change_kg_high"] = high_kg
    table["change_pct_low"] = low_pct
    table["change_pct_high"] = high_pct


def compare_exposure(baseline: Results | Summary, scenario: Results | Summary) -> pd.DataFrame:
    """Each partner's exposure shares in both runs, and the change in percentage points.

    One row per partner and metric (``illegal_origin_share``,
    ``sanctioned_entity_share``, ``sanctioned_jurisdiction_share``,
    ``accepted_as_clean_share``; a summary written before a share existed counts it 0).
    """
    base = _summary(baseline).get("exposure_by_partner", {})
    other = _summary(scenario).get("exposure_by_partner", {})
    rows = []
    for partner in dict.fromkeys([*base, *other]):
        for metric in EXPOSURE_SHARES:
            before = float(base.get(partner, {}).get(metric, 0.0))
            after = float(other.get(partner, {}).get(metric, 0.0))
            rows.append(
                {
                    "partner": partner,
                    "metric": metric,
                    "baseline": before,
                    "scenario": after,
                    "change_points": 100.0 * (after - before),
                }
            )
    columns = ["partner", "metric", "baseline", "scenario", "change_points"]
    table = pd.DataFrame(rows, columns=columns)
    if _has_intervals(baseline, scenario) and not table.empty:
        _add_exposure_intervals(table, baseline, scenario)  # type: ignore[arg-type]
    return table


def _add_exposure_intervals(table: pd.DataFrame, baseline: Results, scenario: Results) -> None:
    def shares(run: Results) -> dict[tuple[str, str], np.ndarray]:
        figures = [f["exposure_by_partner"] for f in run.figures_by_replication()]
        return {
            (partner, metric): np.array([float(f[partner].get(metric, 0.0)) for f in figures])
            for partner in figures[0]
            for metric in EXPOSURE_SHARES
        }

    base, other = shares(baseline), shares(scenario)
    pairs = paired(baseline, scenario)
    low, high = [], []
    for partner, metric in zip(table["partner"], table["metric"], strict=True):
        b = base.get((partner, metric), np.zeros(baseline.replications))
        x = other.get((partner, metric), np.zeros(scenario.replications))
        interval = confidence_interval(x - b, bounds=(-1.0, 1.0)) if pairs else welch_interval(x, b)
        low.append(100.0 * max(interval[0], -1.0) if interval else np.nan)
        high.append(100.0 * min(interval[1], 1.0) if interval else np.nan)
    table["change_points_low"] = low
    table["change_points_high"] = high


def _summary(run: Results | Summary) -> Summary:
    return run if isinstance(run, Mapping) else run.summary()


def _exports(run: Results | Summary) -> dict[str, float]:
    summary = _summary(run)
    return {str(k): float(v) for k, v in summary["exports_kg_by_partner"].items()}
