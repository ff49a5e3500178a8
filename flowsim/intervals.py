"""Means and 95% intervals of a tidy metrics table, group by group.

A run's metrics table (:meth:`flowsim.Results.metrics`) and a sweep's table
(:func:`flowsim.load_sweep`) hold one value per replication and metric; a sweep's
also names the scenario, the point and each swept parameter. :func:`metric_intervals`
pools the replications of each metric, at each scenario and point, into the figures
``summary.json`` gives one run: the mean, the standard deviation and the 95%
confidence interval of the mean (Student's t), cut to the range the figure cannot
leave (:func:`flowsim.contract.metric_bounds`), as :func:`flowsim.stats.aggregate`
cuts it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import pandas as pd

from flowsim.contract import metric_bounds
from flowsim.errors import FlowsimError

__all__ = ["metric_intervals"]

# The columns of a sweep's table that are not swept parameters.
_NOT_PARAMETERS = {"run", "replication", "seed", "metric", "value", "unit", "part", "params"}
# Columns that tell one group of replications from another, before the parameters.
_GROUPS = ("scenario", "point")
STATISTICS = ["replications", "mean", "sd", "ci95_low", "ci95_high"]


def metric_intervals(
    table: pd.DataFrame, metrics: str | Iterable[str] | None = None
) -> pd.DataFrame:
    """One row per scenario, point and metric of ``table`` (a run's has neither scenario
    nor point: one row per metric): its columns that tell the groups apart (``scenario``,
    ``point`` and the swept parameters, where the table has them), ``metric``, then
    ``replications``, ``mean``, ``sd`` and the 95% interval ``ci95_low``, ``ci95_high``
    (NaN below two replications). ``metrics`` keeps only those names and the names
    under them, as :func:`flowsim.load_sweep` does."""
    missing = [c for c in ("metric", "value") if c not in table.columns]
    if missing:
        raise FlowsimError(
            f"a metrics table has columns metric and value; this one has no {', '.join(missing)} "
            "(read one with Results.metrics() or flowsim.load_sweep)"
        )
    if metrics is not None:
        names = [metrics] if isinstance(metrics, str) else list(metrics)
        wanted = pd.Series(False, index=table.index)
        for name in names:
            wanted |= (table["metric"] == name) | table["metric"].str.startswith(name + ".")
        if not wanted.any():
            sections = ", ".join(sorted(table["metric"].str.split(".").str[0].unique()))
            raise FlowsimError(
                f"no metric {', '.join(repr(n) for n in names)} in the table; "
                + (f"its metrics are under: {sections}" if sections else "it has no metric")
            )
        table = table[wanted]
    keys = [c for c in _GROUPS if c in table.columns]
    keys += [c for c in table.columns if c not in _NOT_PARAMETERS and c not in keys]
    keys.append("metric")
    grouped = table.groupby(keys, sort=False, dropna=False, observed=True)["value"]
    pooled = grouped.agg(replications="count", mean="mean", sd="std").reset_index()
    n = pooled["replications"].to_numpy()
    mean = pooled["mean"].to_numpy(dtype=float)
    sd = pooled["sd"].to_numpy(dtype=float)
    low, high = _interval(n, mean, sd)
    floor, ceiling = _bounds(pooled["metric"])
    # As flowsim.stats.confidence_interval cuts it: each end inside the bounds.
    pooled["ci95_low"] = np.minimum(np.maximum(low, floor), ceiling)
    pooled["ci95_high"] = np.maximum(np.minimum(high, ceiling), floor)
    return pooled[[*keys, *STATISTICS]]


def _interval(n: np.ndarray, mean: np.ndarray, sd: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The uncut 95% t interval of each mean; NaN below two values."""
    # Imported here, as flowsim.stats does: scipy is large and most runs never need it.
    from scipy.special import stdtrit

    enough = n >= 2
    t = np.full(n.shape, math.nan)
    t[enough] = stdtrit(n[enough] - 1, 0.975)
    half = np.where(enough, t * sd / np.sqrt(np.maximum(n, 1)), math.nan)
    return mean - half, mean + half


def _bounds(metric: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    by_name = {name: metric_bounds(str(name)) for name in metric.unique()}
    floor = metric.map(lambda name: by_name[name][0]).to_numpy(dtype=float)
    ceiling = metric.map(lambda name: by_name[name][1]).to_numpy(dtype=float)
    return floor, ceiling
