"""Statistics across replications: mean, standard deviation, 95% confidence interval.

Figures are nested dictionaries with numbers at the leaves (the shape of a
``summary.json`` section). :func:`aggregate` turns one such tree per
replication into three trees of the same shape: means, standard deviations
and 95% confidence intervals of the mean (Student's t, ``R - 1`` degrees of
freedom). With one replication the deviation and the interval are undefined
and given as ``None``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

__all__ = ["aggregate", "confidence_interval", "spread"]

Tree = Mapping[str, Any]


def confidence_interval(values: Sequence[float], level: float = 0.95) -> tuple[float, float] | None:
    """Two-sided t interval for the mean of ``values``; None for fewer than two."""
    data = np.asarray(values, dtype=float)
    n = data.size
    if n < 2:
        return None
    mean = float(data.mean())
    # Imported here: scipy costs 10 MB and most runs never summarise replications.
    from scipy.special import stdtrit

    half = float(stdtrit(n - 1, 0.5 + level / 2)) * float(data.std(ddof=1)) / math.sqrt(n)
    return (mean - half, mean + half)


def aggregate(trees: Sequence[Tree]) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Mean, standard deviation and 95% interval, leaf by leaf, of the ``trees``."""
    if not trees:
        raise ValueError("nothing to aggregate")
    first = trees[0]
    means: dict[str, Any] = {}
    sds: dict[str, Any] = {}
    cis: dict[str, Any] = {}
    for key, value in first.items():
        if isinstance(value, Mapping):
            means[key], sds[key], cis[key] = aggregate([tree[key] for tree in trees])
            continue
        values = [float(tree[key]) for tree in trees]
        means[key] = float(np.mean(values))
        sds[key] = float(np.std(values, ddof=1)) if len(values) > 1 else None
        interval = confidence_interval(values)
        cis[key] = list(interval) if interval is not None else None
    return means, sds, cis


def spread(trees: Sequence[Tree], low: float = 0.05, high: float = 0.95) -> dict[str, Any]:
    """The ``low`` and ``high`` quantiles of the ``trees``, leaf by leaf: the range
    that one replication's figure falls in (not the uncertainty of the mean)."""
    first = trees[0]
    out: dict[str, Any] = {}
    for key, value in first.items():
        if isinstance(value, Mapping):
            out[key] = spread([tree[key] for tree in trees], low, high)
            continue
        values = np.asarray([float(tree[key]) for tree in trees])
        out[key] = [float(np.quantile(values, low)), float(np.quantile(values, high))]
    return out
