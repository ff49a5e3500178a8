"""Side-by-side exports of a scenario and its baseline."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from flowsim.results import Results

__all__ = ["compare_exports"]

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


def _exports(run: Results | Summary) -> dict[str, float]:
    summary = run.summary() if isinstance(run, Results) else run
    return {str(k): float(v) for k, v in summary["exports_kg_by_partner"].items()}
