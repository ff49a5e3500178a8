"""Which swept parameter moves an outcome most: a tornado table.

For each parameter, the outcome's mean where the parameter is at its low end
and where it is at its high end, over all values of the other parameters (a
main effect). In a grid the ends are its lowest and highest values; in a
sampled design (Latin hypercube, Monte Carlo) they are the runs below and
above the parameter's median. The swing is high minus low; rows are sorted by
its size. This one-at-a-time view ignores interactions; for variance-based
(Sobol) indices, run a sobol design and see flowsim.indices.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from flowsim.errors import FlowsimError
from flowsim.sweeplog import TABLE_COLUMNS

__all__ = ["experiments_outcomes", "tornado"]


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
    parameters = [c for c in table.columns if c not in TABLE_COLUMNS]
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


def experiments_outcomes(
    table: pd.DataFrame, metrics: str | list[str] | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A sweep's tidy table as two wide frames indexed by run, as EMA Workbench
    gives them: the experiments (scenario, point, replication, seed and the swept
    parameters) and the outcomes (one column per metric). Every run is kept, the
    baseline's too: its parameters are null, which a pivot over them would drop."""
    missing = [c for c in ("run", "metric", "value") if c not in table.columns]
    if missing:
        raise FlowsimError(f"not a sweep table: no column {', '.join(missing)}")
    if isinstance(metrics, str):
        metrics = [metrics]
    rows = table if metrics is None else table[table["metric"].isin(metrics)]
    if metrics is not None:
        absent = sorted(set(metrics) - set(rows["metric"]))
        if absent:
            raise FlowsimError(f"no metric '{absent[0]}' in the sweep")
    if rows.duplicated(["run", "metric"]).any():
        raise FlowsimError("the table has a run with a metric twice: not one sweep's table")
    columns = [c for c in table.columns if c not in ("metric", "value", "unit")]
    experiments = table[columns].drop_duplicates("run").set_index("run").sort_index()
    outcomes = rows.pivot(index="run", columns="metric", values="value")
    outcomes = outcomes.reindex(index=experiments.index, columns=pd.unique(rows["metric"]))
    outcomes.columns.name = None
    return experiments, outcomes
