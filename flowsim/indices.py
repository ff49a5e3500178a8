"""Global sensitivity indices of a sweep's metric, through SALib.

The replications of each point are averaged first: SALib's estimators take one
outcome per point, and the mean over replications is the point's outcome with
the luck of the draws taken out as far as the replications allow. Each method
needs its design, and the design is checked from the points themselves:

- ``sobol``: first- and total-order indices (S1, ST, with 95% intervals) on a
  ``method = "sobol"`` sweep, whose points are in Saltelli's layout;
- ``morris``: elementary effects (mu, mu_star, sigma) on Morris trajectories;
- ``delta`` (Borgonovo's moment-independent delta, with S1) and ``rbd_fast``
  (S1) on any sampled design: a Latin hypercube, Monte Carlo, or an external
  design whose parameters take a different value at most points.

SALib is an optional dependency: ``pip install 'flowsim[salib]'``.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from typing import Any

import numpy as np
import pandas as pd

from flowsim.designs import sobol_block
from flowsim.errors import FlowsimError
from flowsim.sweeplog import TABLE_COLUMNS

__all__ = [
    "METHODS",
    "check_design",
    "point_means",
    "sensitivity_indices",
    "varying_scenarios",
]

METHODS = ("sobol", "morris", "delta", "rbd_fast")
# The designs each method reads; None: a design not known (a table from Python).
_DESIGNS = {
    "sobol": {"sobol"},
    "morris": {"morris"},
    "delta": {"latin_hypercube", "monte_carlo", "external"},
    "rbd_fast": {"latin_hypercube", "monte_carlo", "external"},
}
_SAMPLED = 'a sampled design (method = "latin_hypercube", "monte_carlo" or "external")'
_NEEDS = {
    "sobol": 'a sobol design (method = "sobol")',
    "morris": 'Morris trajectories (method = "morris")',
    "delta": _SAMPLED,
    "rbd_fast": _SAMPLED,
}


def check_design(method: str, design: str, where: object = "the sweep") -> None:
    """Refuse, before any run, a method the sweep's design cannot feed; and a
    method without SALib."""
    if design not in _DESIGNS[method]:
        raise FlowsimError(
            f'{where}: --method {method} needs {_NEEDS[method]}; this sweep\'s method is "{design}"'
        )
    _salib(method)


def varying_scenarios(table: pd.DataFrame) -> list[str]:
    """The scenarios whose runs carry parameter values."""
    parameters = [c for c in table.columns if c not in TABLE_COLUMNS]
    if not parameters:
        return []
    varied = table[table[parameters].notna().any(axis=1)]
    return list(dict.fromkeys(varied["scenario"]))


def point_means(
    table: pd.DataFrame, metric: str, scenario: str | None = None
) -> tuple[str, pd.DataFrame, pd.Series, int]:
    """The scenario, its points' parameter values (one row per point, in point
    order), the metric's mean over each point's replications, and the number of
    replications per point."""
    rows = table[table["metric"] == metric]
    if rows.empty:
        known = ", ".join(sorted(table["metric"].unique())[:10])
        raise FlowsimError(
            f"no metric '{metric}' in the sweep" + (f" (e.g. {known})" if known else "")
        )
    labels = varying_scenarios(rows)
    if scenario is None:
        if not labels:
            raise FlowsimError("no scenario of the sweep varies a parameter: nothing to analyse")
        if len(labels) > 1:
            raise FlowsimError(
                f"several scenarios vary ({', '.join(labels)}): choose one (scenario=, --scenario)"
            )
        scenario = labels[0]
    elif scenario not in labels:
        raise FlowsimError(
            f"scenario '{scenario}' does not vary a parameter of the sweep "
            f"(those that do: {', '.join(labels) or 'none'})"
        )
    rows = rows[rows["scenario"] == scenario]
    parameters = [c for c in table.columns if c not in TABLE_COLUMNS]
    for name in parameters:
        if not pd.api.types.is_numeric_dtype(rows[name]):
            raise FlowsimError(f"parameter '{name}' is not a number: SALib analyses numbers only")
    means = rows.groupby("point")["value"].mean()
    counts = rows.groupby("point")["value"].count()
    x = rows.drop_duplicates("point").set_index("point")[parameters].sort_index()
    expected = pd.RangeIndex(int(x.index.max()) + 1)
    if len(x) != len(expected):
        missing = sorted(set(expected) - set(x.index))[:5]
        raise FlowsimError(
            f"points {', '.join(map(str, missing))} of '{scenario}' have no finished run: "
            "finish the sweep with --resume first"
        )
    if means.isna().any():
        raise FlowsimError(f"'{metric}' is missing in some runs of '{scenario}'")
    return scenario, x, means.reindex(x.index), int(counts.min())


def sensitivity_indices(
    table: pd.DataFrame,
    metric: str,
    method: str = "sobol",
    *,
    scenario: str | None = None,
    design: str | None = None,
    levels: int = 4,
    seed: int = 1,
    resamples: int = 100,
) -> pd.DataFrame:
    """SALib's indices of ``metric`` for each swept parameter, one row each.

    ``design`` is the sweep's method, when known (the command line passes it); the
    layout the method needs is checked from the points in any case. ``levels`` is
    a Morris design's; ``seed`` (1 or more: SALib takes 0 for no seed) seeds SALib's
    bootstrap of the intervals, so the same table gives the same intervals, from
    ``resamples`` resamples. With a
    second-order sobol design, ``attrs["S2"]`` holds the second-order indices;
    ``attrs`` also name the ``scenario``, and count the ``points`` and the fewest
    ``replications`` a point has.
    """
    if method not in METHODS:
        raise FlowsimError(f"unknown method '{method}' (known: {', '.join(METHODS)})")
    if design is not None and design not in _DESIGNS[method]:
        raise FlowsimError(
            f"--method {method} needs {_NEEDS[method]}; this sweep is a {design} design"
        )
    if seed < 1:
        raise FlowsimError(f"seed {seed}: give 1 or more (SALib takes 0 for no seed at all)")
    label, x, y, replications = point_means(table, metric, scenario)
    names = list(x.columns)
    values = x.to_numpy(dtype=float)
    outcome = y.to_numpy(dtype=float)
    problem = {"num_vars": len(names), "names": names, "bounds": _bounds(values)}
    analyze = _salib(method)
    common = {"seed": seed, "num_resamples": resamples}
    about = {"scenario": label, "points": len(x), "replications": replications}
    try:
        result = _indices(method, analyze, problem, values, outcome, label, levels, common)
    except (ValueError, ZeroDivisionError, np.linalg.LinAlgError) as exc:
        raise FlowsimError(f"SALib's {method} analysis failed on '{label}': {exc}") from None
    result.attrs.update(about)
    return result


def _indices(
    method: str,
    analyze: Any,
    problem: dict[str, Any],
    values: np.ndarray,
    outcome: np.ndarray,
    label: str,
    levels: int,
    common: dict[str, Any],
) -> pd.DataFrame:
    names = problem["names"]
    if method == "sobol":
        second = _saltelli_layout(values, label)
        found = _quietly(analyze, problem, outcome, calc_second_order=second, **common)
        result = _frame(names, found, ["S1", "S1_conf", "ST", "ST_conf"])
        if second:
            result.attrs["S2"] = pd.DataFrame(found["S2"], index=names, columns=names)
        return result
    if method == "morris":
        _morris_layout(values, label)
        found = _quietly(analyze, problem, values, outcome, num_levels=levels, **common)
        return _frame(names, found, ["mu", "mu_star", "sigma", "mu_star_conf"])
    _sampled(values, names, label, method)
    if method == "delta":
        found = _quietly(analyze, problem, values, outcome, **common)
        if "delta" not in found:  # SALib 1.6 names Borgonovo's own estimate delta_raw
            found["delta"], found["delta_conf"] = found["delta_raw"], found["delta_raw_conf"]
        return _frame(names, found, ["delta", "delta_conf", "S1", "S1_conf"])
    found = _quietly(analyze, problem, values, outcome, **common)
    return _frame(names, found, ["S1", "S1_conf"])


def _quietly(analyze: Any, *args: Any, **kwargs: Any) -> Any:
    """SALib's delta prints notes and resets the warnings' filters and format of the
    whole process: keep both to the call."""
    fmt = warnings.formatwarning
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            return analyze(*args, **kwargs)
    finally:
        warnings.formatwarning = fmt


def _salib(method: str) -> Any:
    try:
        if method == "sobol":
            from SALib.analyze.sobol import analyze
        elif method == "morris":
            from SALib.analyze.morris import analyze
        elif method == "delta":
            from SALib.analyze.delta import analyze
        else:
            from SALib.analyze.rbd_fast import analyze
    except ImportError:
        raise FlowsimError(
            f"--method {method} needs SALib, which is not installed: pip install 'flowsim[salib]'"
        ) from None
    return analyze


def _bounds(values: np.ndarray) -> list[list[float]]:
    lows, highs = values.min(axis=0), values.max(axis=0)
    return [
        [float(lo), float(hi if hi > lo else lo + 1.0)] for lo, hi in zip(lows, highs, strict=True)
    ]


def _frame(names: list[str], found: Any, keys: list[str]) -> pd.DataFrame:
    data = {"parameter": names} | {k: np.asarray(found[k], dtype=float) for k in keys}
    return pd.DataFrame(data)


def _saltelli_layout(values: np.ndarray, label: str) -> bool:
    """Whether the points are Saltelli's with second order; an error if neither."""
    n, d = values.shape
    for second in (False, True):
        block = sobol_block(d, second)
        if n % block == 0 and _is_saltelli(values.reshape(n // block, block, d), second):
            return second
    raise FlowsimError(
        f"--method sobol needs {_NEEDS['sobol']}: the {n} points of '{label}' are not in "
        "Saltelli's layout (blocks of A, A with each column from B, B)"
    )


def _is_saltelli(blocks: np.ndarray, second: bool) -> bool:
    d = blocks.shape[2]
    a, b = blocks[:, 0, :], blocks[:, -1, :]
    for k in range(d):
        expected = a.copy()
        expected[:, k] = b[:, k]
        if not np.allclose(blocks[:, 1 + k, :], expected):
            return False
        if second:
            expected = b.copy()
            expected[:, k] = a[:, k]
            if not np.allclose(blocks[:, 1 + d + k, :], expected):
                return False
    return True


def _morris_layout(values: np.ndarray, label: str) -> None:
    n, d = values.shape
    if n % (d + 1) == 0 and n:
        steps = np.diff(values.reshape(n // (d + 1), d + 1, d), axis=1)
        moved = ~np.isclose(steps, 0.0)
        if (moved.sum(axis=2) == 1).all() and (moved.sum(axis=1) == 1).all():
            return
    raise FlowsimError(
        f"--method morris needs {_NEEDS['morris']}: the {n} points of '{label}' are not "
        f"trajectories of {d + 1} points that move one parameter at a time"
    )


def _sampled(values: np.ndarray, names: list[str], label: str, method: str) -> None:
    """A grid (or Morris levels) repeats each value at many points: the estimators
    need a parameter spread over its range, one value a point."""
    n = len(values)
    for k, name in enumerate(names):
        distinct = len(np.unique(values[:, k]))
        if distinct < max(2, n // 2):
            raise FlowsimError(
                f"--method {method} needs {_NEEDS[method]}: parameter '{name}' of '{label}' "
                f"takes {distinct} distinct values over {n} points (a grid?)"
            )
