"""Statistics across replications: mean, standard deviation, 95% confidence interval.

Figures are nested dictionaries with numbers at the leaves (the shape of a
``summary.json`` section). :func:`aggregate` turns one such tree per
replication into three trees of the same shape: means, standard deviations
and 95% confidence intervals of the mean (Student's t, ``R - 1`` degrees of
freedom). With one replication the deviation and the interval are undefined
and given as ``None``.

A figure that cannot leave a range (kg are never negative, a share lies in [0, 1], a
fall is at most 100%) has its interval cut to that range: the true mean lies in it
for certain, so the cut interval covers it exactly as often as the uncut one, and a
reader is never shown an impossible value (docs/metrics.md).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

__all__ = [
    "FEW_REPLICATIONS",
    "aggregate",
    "confidence_interval",
    "ratio_interval",
    "spread",
    "welch_interval",
]

Tree = Mapping[str, Any]
Bounds = tuple[float, float]
UNBOUNDED: Bounds = (-math.inf, math.inf)
# Below this many replications an interval is shown with a warning: Student's t then
# widens it several times over, and the spread it rests on is itself poorly known.
FEW_REPLICATIONS = 5


def _t_quantile(df: int, level: float) -> float:
    # Imported here: scipy costs 10 MB and most runs never summarise replications.
    from scipy.special import stdtrit

    return float(stdtrit(df, 0.5 + level / 2))


def confidence_interval(
    values: Sequence[float], level: float = 0.95, bounds: Bounds = UNBOUNDED
) -> tuple[float, float] | None:
    """Two-sided t interval for the mean of ``values``, cut to ``bounds``, the range
    the quantity cannot leave; None for fewer than two values."""
    data = np.asarray(values, dtype=float)
    n = data.size
    if n < 2:
        return None
    mean = float(data.mean())
    half = _t_quantile(n - 1, level) * float(data.std(ddof=1)) / math.sqrt(n)
    low, high = bounds
    return (min(max(mean - half, low), high), max(min(mean + half, high), low))


def welch_interval(
    x: Sequence[float], y: Sequence[float], level: float = 0.95
) -> tuple[float, float] | None:
    """Welch's t interval for mean(x) - mean(y), the two samples independent; None for
    fewer than two values on either side."""
    a, b = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if a.size < 2 or b.size < 2:
        return None
    va, vb = float(a.var(ddof=1)) / a.size, float(b.var(ddof=1)) / b.size
    difference = float(a.mean() - b.mean())
    if va + vb == 0.0:
        return (difference, difference)
    # Welch-Satterthwaite degrees of freedom, kept whole and at least one.
    df = (va + vb) ** 2 / (va**2 / (a.size - 1) + vb**2 / (b.size - 1))
    half = _t_quantile(max(1, int(df)), level) * math.sqrt(va + vb)
    return (difference - half, difference + half)


def ratio_interval(
    numerator: Sequence[float],
    denominator: Sequence[float],
    level: float = 0.95,
    paired: bool = True,
) -> tuple[float, float] | None:
    """Fieller's interval for the ratio of two means, mean(numerator) / mean(denominator):
    the ratios that a t test at ``level`` does not reject. ``paired`` values (replication
    k of both runs share their random streams) use their covariance; unpaired ones are
    taken as independent, with the smaller sample's degrees of freedom. The lower end is
    never below 0 for quantities that are never negative. None for fewer than two values
    on either side; ``(low, inf)`` or ``(-inf, inf)`` when the denominator's mean is not
    told apart from zero, which is then the honest answer."""
    a = np.asarray(numerator, dtype=float)
    b = np.asarray(denominator, dtype=float)
    if a.size < 2 or b.size < 2:
        return None
    if paired and a.size != b.size:
        raise ValueError("paired values need as many numerators as denominators")
    ma, mb = float(a.mean()), float(b.mean())
    vaa = float(a.var(ddof=1)) / a.size
    vbb = float(b.var(ddof=1)) / b.size
    vab = float(np.cov(a, b, ddof=1)[0, 1]) / a.size if paired else 0.0
    df = a.size - 1 if paired else min(a.size, b.size) - 1
    t2 = _t_quantile(df, level) ** 2
    # The ratios r with (ma - r mb)^2 <= t2 (vaa - 2 r vab + r^2 vbb): a quadratic in r.
    qa = mb * mb - t2 * vbb
    qb = -2.0 * (ma * mb - t2 * vab)
    qc = ma * ma - t2 * vaa
    nonnegative = bool((a >= 0).all() and (b >= 0).all())
    floor = 0.0 if nonnegative else -math.inf
    if qa <= 0.0:
        return (floor, math.inf)
    disc = qb * qb - 4.0 * qa * qc
    if disc < 0.0:  # cannot happen when qa > 0 (the estimate itself is inside); rounding
        disc = 0.0
    root = math.sqrt(disc)
    low, high = (-qb - root) / (2.0 * qa), (-qb + root) / (2.0 * qa)
    return (max(low, floor), max(high, floor))


def aggregate(
    trees: Sequence[Tree], bounds_of: Callable[[str], Bounds] | None = None, prefix: str = ""
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Mean, standard deviation and 95% interval, leaf by leaf, of the ``trees``; each
    leaf's interval cut to ``bounds_of(dotted key path)`` when that is given."""
    if not trees:
        raise ValueError("nothing to aggregate")
    first = trees[0]
    means: dict[str, Any] = {}
    sds: dict[str, Any] = {}
    cis: dict[str, Any] = {}
    for key, value in first.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            means[key], sds[key], cis[key] = aggregate(
                [tree[key] for tree in trees], bounds_of, f"{name}."
            )
            continue
        values = [float(tree[key]) for tree in trees]
        means[key] = float(np.mean(values))
        sds[key] = float(np.std(values, ddof=1)) if len(values) > 1 else None
        bounds = bounds_of(name) if bounds_of is not None else UNBOUNDED
        interval = confidence_interval(values, bounds=bounds)
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
