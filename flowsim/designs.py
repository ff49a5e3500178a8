"""The designs of a sweep beyond the grid: Sobol (Saltelli's layout), Morris
trajectories, and points read from a CSV file.

Each sampled design is made in the unit cube and scaled to the ranges by the
sweep; the layouts are those SALib's analyses expect, so a sweep's table
feeds ``SALib.analyze.sobol`` and ``SALib.analyze.morris`` without a
resampling step (flowsim.indices). See docs/sweeps.md.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

import numpy as np

from flowsim.errors import Issue, ScenarioError

__all__ = ["morris_unit", "read_points", "saltelli_unit", "sobol_block"]


def sobol_block(d: int, second_order: bool) -> int:
    """Points per base sample of a Saltelli design of ``d`` parameters."""
    return 2 * d + 2 if second_order else d + 2


def saltelli_unit(n: int, d: int, seed: int, second_order: bool = False) -> np.ndarray:
    """Saltelli's design from a scrambled Sobol' sequence, in SALib's row order:
    for each of the ``n`` base rows, A, then A with column k from B for each k,
    then (second order) B with column k from A, then B."""
    from scipy.stats import qmc  # heavy: only for this design

    rng = np.random.default_rng(seed)
    try:
        sampler = qmc.Sobol(d=2 * d, scramble=True, rng=rng)
    except TypeError:  # SciPy before 1.15 names the generator seed; the points are the same
        sampler = qmc.Sobol(d=2 * d, scramble=True, seed=rng)
    base = sampler.random(n)
    a, b = base[:, :d], base[:, d:]
    rows = []
    for i in range(n):
        rows.append(a[i])
        for k in range(d):
            row = a[i].copy()
            row[k] = b[i, k]
            rows.append(row)
        if second_order:
            for k in range(d):
                row = b[i].copy()
                row[k] = a[i, k]
                rows.append(row)
        rows.append(b[i])
    return np.array(rows)


def morris_unit(n: int, d: int, levels: int, seed: int) -> np.ndarray:
    """``n`` Morris trajectories of ``d + 1`` points each on a grid of ``levels``
    levels in the unit cube: each step moves one parameter, in a random order,
    by delta = levels / (2 (levels - 1)), up or down (Morris 1991)."""
    rng = np.random.default_rng(seed)
    delta = levels / (2 * (levels - 1))
    grid = np.arange(levels) / (levels - 1)
    starts = grid[grid <= 1 - delta + 1e-12]
    rows = []
    for _ in range(n):
        low = rng.choice(starts, size=d)
        up = rng.random(d) < 0.5
        # A parameter that steps down starts at the top of its step.
        point = np.where(up, low, low + delta)
        rows.append(point.copy())
        for k in rng.permutation(d):
            point[k] += delta if up[k] else -delta
            rows.append(point.copy())
    return np.round(np.array(rows), 12)


def read_points(path: Path, parameters: dict[str, Any]) -> list[tuple[Any, ...]]:
    """The points of an external design: one row of ``path`` each, one column per
    parameter, in the order of ``parameters``. Every problem is named with its row
    (counted from 1 after the header) and column."""
    where = str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ScenarioError([Issue(where, "", "design file not found")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError([Issue(where, "", f"cannot read the design: {exc}")]) from None
    reader = csv.reader(text.splitlines())
    header = next(reader, None)
    if not header or not any(h.strip() for h in header):
        raise ScenarioError([Issue(where, "", "empty design: needs a header of parameter names")])
    header = [h.strip() for h in header]
    issues = []
    for column in header:
        if column not in parameters:
            known = ", ".join(parameters) or "none"
            issues.append(
                Issue(
                    where,
                    f"column '{column}'",
                    f"unknown column: not a parameter of [parameters] (known: {known})",
                )
            )
    if len(set(header)) != len(header):
        issues.append(Issue(where, "header", "a column name appears twice"))
    for name in parameters:
        if name not in header:
            issues.append(Issue(where, f"column '{name}'", "missing parameter: no such column"))
    if issues:
        raise ScenarioError(issues)
    points = []
    for number, row in enumerate(reader, start=1):
        if not any(cell.strip() for cell in row):
            continue  # a blank line, as a trailing newline gives
        if len(row) != len(header):
            issues.append(
                Issue(where, f"row {number}", f"{len(row)} values, for {len(header)} columns")
            )
            continue
        cells = dict(zip(header, (c.strip() for c in row), strict=True))
        point = []
        for name, spec in parameters.items():
            value, problem = _cell(cells[name], spec)
            if problem:
                issues.append(Issue(where, f"row {number}, column '{name}'", problem))
            point.append(value)
        points.append(tuple(point))
        if len(issues) >= 20:  # enough to see the pattern
            break
    if issues:
        raise ScenarioError(issues)
    if not points:
        raise ScenarioError([Issue(where, "", "empty design: a header and no rows")])
    return points


def _cell(text: str, spec: Any) -> tuple[Any, str | None]:
    """A cell's value for its parameter, or the problem with it."""
    if text == "":
        return None, "empty value"
    number = _number(text)
    low, high = getattr(spec, "low", None), getattr(spec, "high", None)
    if low is not None and high is not None:
        if number is None:
            return None, f"'{text}' is not a number, and the parameter is a range"
        if not low <= number <= high:
            return None, f"{number:g} is outside the parameter's range [{low:g}, {high:g}]"
        return number, None
    choices = spec if isinstance(spec, list) else getattr(spec, "values", None)
    if choices is not None:
        for choice in choices:
            if _same(choice, text, number):
                return choice, None
        listed = ", ".join(str(c) for c in choices)
        return None, f"'{text}' is not one of the parameter's values ({listed})"
    return (number if number is not None else text), None


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _same(choice: Any, text: str, number: float | None) -> bool:
    if isinstance(choice, bool):
        return text.lower() == str(choice).lower()
    if isinstance(choice, (int, float)):
        return number is not None and float(choice) == number
    return str(choice) == text
