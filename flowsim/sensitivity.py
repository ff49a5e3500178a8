"""Which swept parameter moves an outcome most: a tornado table.

For each parameter, the outcome's mean where the parameter is at its low end
and where it is at its high end, over all values of the other parameters (a
main effect). In a grid the ends are its lowest and highest values; in a
sampled design (Latin hypercube, Monte Carlo) they are the runs below and
above the parameter's median. The swing is high minus low; rows are sorted by
its size. This one-at-a-time view ignores interactions; for variance-based
(Sobol) indices, sample with SALib and feed the sweep table to it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from flowsim.errors import FlowsimError

__all__ = ["tornado"]

_FIXED = {"run", "scenario", "point", "replication", "seed", "metric", "value"}


def tornado(table: pd.DataFrame, metric: str, scenario: str | None = None) -> pd.DataFrame:
    """Rank the swept parameters of a sweep table by their effect on ``metric``."""
    rows = table[table["metric"] == metric]
    if scenario is not None:
        rows = rows[rows["scenario"] == scenario]
    if rows.empty:
        known = ", ".join(sorted(table["metric"].unique())[:10])
        hint = (
            f" (e.g. {known})" if known else " (names as in summary.json, dotted: docs/metrics.md)"
        )
        raise FlowsimError(f"no metric '{metric}' in the sweep{hint}")
    parameters = [c for c in table.columns if c not in _FIXED]
    records = []
    for name in parameters:
        # Runs of a scenario that does not vary have no value for the parameter.
        values = pd.to_numeric(rows[name], errors="coerce")
        varied = rows[values.notna()]
        values = values[values.notna()]
        if values.nunique() < 2:
            continue
        distinct = np.sort(values.unique())
        if len(distinct) <= 10:  # a grid (or few levels): its two ends
            low_rows = varied[values == distinct[0]]
            high_rows = varied[values == distinct[-1]]
            low_at, high_at = float(distinct[0]), float(distinct[-1])
        else:  # sampled: below and above the median
            median = float(values.median())
            low_rows, high_rows = varied[values <= median], varied[values > median]
            low_at, high_at = (
                float(values[values <= median].mean()),
                float(values[values > median].mean()),
            )
        low, high = float(low_rows["value"].mean()), float(high_rows["value"].mean())
        records.append(
            {
                "parameter": name,
                "low_value": low_at,
                "high_value": high_at,
                "outcome_at_low": low,
                "outcome_at_high": high,
                "swing": high - low,
            }
        )
    result = pd.DataFrame(
        records,
        columns=[
            "parameter",
            "low_value",
            "high_value",
            "outcome_at_low",
            "outcome_at_high",
            "swing",
        ],
    )
    return result.reindex(result["swing"].abs().sort_values(ascending=False).index).reset_index(
        drop=True
    )
