"""Side-by-side exports of a scenario and its baseline."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from flowsim.provenance import EXPOSURES
from flowsim.results import Results

__all__ = ["compare_exports", "compare_exposure"]

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
    return table


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
    return pd.DataFrame(rows, columns=columns)


def _summary(run: Results | Summary) -> Summary:
    return run.summary() if isinstance(run, Results) else run


def _exports(run: Results | Summary) -> dict[str, float]:
    summary = _summary(run)
    return {str(k): float(v) for k, v in summary["exports_kg_by_partner"].items()}
