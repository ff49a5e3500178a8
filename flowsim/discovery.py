"""Scenario discovery: the boxes of parameters in which an outcome happens (PRIM).

The Patient Rule Induction Method of Friedman and Fisher (1999), peeling only:
starting from the box of every point, each step removes the ``alpha`` share
(5%) of the points at the low or the high end of one parameter, whichever step
leaves the densest box, until the box would hold less than ``mass_min`` of the
points. Of the boxes along that trajectory, the one kept is the one that covers
most of the cases among those at least ``threshold`` dense (the densest if none
is). The cases in it are then set aside and the search starts again, for up to
``max_boxes`` boxes.

- *coverage*: the share of all the cases that fall in the box;
- *density*: the share of the box's points that are cases;
- *mass*: the share of all the points that fall in the box.

flowsim has its own PRIM rather than EMA Workbench's: that package brings
scikit-learn, statsmodels, seaborn and some twenty other packages (docs/sweeps.md,
"Scenario discovery"), for a loop of a few dozen lines.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from flowsim.errors import FlowsimError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["Box", "Discovery", "discover", "draw_boxes", "prim", "save_boxes"]


@dataclass(frozen=True)
class Box:
    """One box: the limits of the parameters it restricts, and how good it is."""

    limits: dict[str, tuple[float, float]]  # restricted parameters only
    coverage: float
    density: float
    mass: float
    cases: int  # cases in the box
    points: int  # points in the box
    ranges: dict[str, tuple[float, float]] = field(default_factory=dict)  # of all the points

    def table(self) -> pd.DataFrame:
        rows = [
            {
                "parameter": name,
                "low": low,
                "high": high,
                "range": "{:g} .. {:g}".format(*self.ranges.get(name, (low, high))),
            }
            for name, (low, high) in self.limits.items()
        ]
        return pd.DataFrame(rows, columns=["parameter", "low", "high", "range"])


def prim(
    x: pd.DataFrame,
    y: np.ndarray | pd.Series,
    *,
    threshold: float = 0.8,
    alpha: float = 0.05,
    mass_min: float = 0.05,
    max_boxes: int = 3,
) -> list[Box]:
    """PRIM boxes of the numeric columns of ``x`` in which ``y`` (true: a case) holds."""
    if x.shape[1] == 0:
        raise FlowsimError("no parameters to find boxes in")
    values = x.to_numpy(dtype=float)
    cases = np.asarray(y, dtype=bool)
    total = int(cases.sum())
    if total == 0:
        raise FlowsimError("the outcome happens at no point: there is nothing to find boxes of")
    names = list(x.columns)
    ranges = {
        n: (float(values[:, j].min()), float(values[:, j].max())) for j, n in enumerate(names)
    }
    left = np.ones(len(cases), dtype=bool)
    boxes: list[Box] = []
    while len(boxes) < max_boxes and cases[left].any():
        inside, limits = _peel(values, cases, left, alpha, mass_min)
        hits, count = int((inside & cases).sum()), int(inside.sum())
        if hits / count < threshold:
            break  # what is left is scattered: no box is dense enough to say anything
        boxes.append(
            Box(
                limits={names[j]: limit for j, limit in sorted(limits.items())},
                coverage=hits / total,
                density=hits / count,
                mass=count / len(cases),
                cases=hits,
                points=count,
                ranges=ranges,
            )
        )
        if not limits:
            break  # the box is everything left
        left &= ~inside
    return boxes


def _peel(
    values: np.ndarray, cases: np.ndarray, left: np.ndarray, alpha: float, mass_min: float
) -> tuple[np.ndarray, dict[int, tuple[float, float]]]:
    """One box: peel while a peel makes the box denser and leaves it ``mass_min``
    of the points. Returns its points (a mask) and the limits it set."""
    inside = left.copy()
    smallest = max(1, int(np.ceil(mass_min * len(cases))))
    limits: dict[int, tuple[float, float]] = {}
    while True:
        mean = float(cases[inside].mean())
        best = None
        for j in range(values.shape[1]):
            column = values[inside, j]
            low, high = limits.get(j, (float(column.min()), float(column.max())))
            cut_low = float(np.quantile(column, alpha, method="lower"))
            cut_high = float(np.quantile(column, 1 - alpha, method="higher"))
            for keep, limit in (
                (values[:, j] > cut_low, (_above(column, cut_low), high)),
                (values[:, j] < cut_high, (low, _below(column, cut_high))),
            ):
                candidate = inside & keep
                count = int(candidate.sum())
                if count < smallest or count == int(inside.sum()):
                    continue
                gain = float(cases[candidate].mean()) - mean
                # The densest box; of equal ones, the one that keeps more points.
                if best is None or (gain, count) > (best[0], best[1]):
                    best = (gain, count, candidate, j, limit)
        if best is None or best[0] <= 0:
            return inside, limits
        _, _, inside, j, limit = best
        limits[j] = limit


def _above(column: np.ndarray, cut: float) -> float:
    return float(column[column > cut].min())


def _below(column: np.ndarray, cut: float) -> float:
    return float(column[column < cut].max())


@dataclass(frozen=True)
class Discovery:
    """The boxes of one outcome in one scenario of a sweep."""

    outcome: str  # in words
    scenario: str
    boxes: list[Box]
    cases: int  # points where the outcome happens
    points: int
    replications: int  # per point, averaged or judged together

    def draw(self, path: str | Path) -> Path:
        """Draw the boxes into an SVG or PNG file."""
        path = Path(path)
        save_boxes(draw_boxes(self.boxes, f"{self.outcome} ({self.scenario})"), path)
        return path


def discover(
    sweep_dir: str | Path,
    *,
    metric: str | None = None,
    below: float | None = None,
    above: float | None = None,
    rule: str | None = None,
    scenario: str | None = None,
    threshold: float = 0.8,
) -> Discovery:
    """PRIM boxes of a sweep folder's points where ``metric``'s mean over the
    replications is ``below`` or ``above`` a value, or where the ``[[expect]]`` rule
    named ``rule`` fails."""
    from flowsim.indices import point_means, varying_scenarios
    from flowsim.sweeplog import read_design
    from flowsim.sweeptable import load_sweep

    folder = Path(sweep_dir)
    if not 0 < threshold <= 1:
        raise FlowsimError(f"--threshold {threshold:g}: a density, above 0 and at most 1")
    if (rule is None) == (metric is None):
        raise FlowsimError("give --metric M with --below X or --above X, or --rule NAME")
    if metric is not None and (below is None) == (above is None):
        raise FlowsimError(f"--metric {metric}: give one of --below X or --above X")
    if rule is not None:
        expectation = _rule(read_design(folder), rule, folder)
        table = load_sweep(folder, expectation.metric)
        labels = varying_scenarios(table)
        label = scenario or expectation.scenario or _one(labels)
        if label not in labels:
            raise FlowsimError(
                f"scenario '{label}' does not vary a parameter of the sweep "
                f"(those that do: {', '.join(labels) or 'none'})"
            )
        _, points, _, replications = point_means(table, expectation.metric, label)
        failed = _failures(expectation, table, label, points.index)
        outcome = f"rule '{rule}' fails"
    else:
        table = load_sweep(folder, metric)
        label, points, means, replications = point_means(table, metric, scenario)
        if below is not None:
            failed, outcome = means < below, f"{metric} < {below:g}"
        else:
            failed, outcome = means > above, f"{metric} > {above:g}"
    numeric = [p for p in points if pd.api.types.is_numeric_dtype(points[p])]
    varied = [p for p in numeric if points[p].nunique() > 1]
    if not varied:
        raise FlowsimError("the sweep has no numeric parameter that takes more than one value")
    cases = int(failed.sum())
    if cases == 0:
        raise FlowsimError(f"{outcome} at no point of '{label}': there is no box to find")
    boxes = prim(points[varied], failed.to_numpy(), threshold=threshold)
    return Discovery(outcome, label, boxes, cases, len(points), replications)


def _one(labels: list[str]) -> str:
    if len(labels) != 1:
        raise FlowsimError(
            f"several scenarios vary ({', '.join(labels)}): choose one with --scenario"
            if labels
            else "no scenario of the sweep varies a parameter: nothing to find boxes in"
        )
    return labels[0]


def _rule(design: dict, name: str, folder: Path) -> Any:
    from flowsim.contract import Expectation

    rules = [Expectation.model_validate(r) for r in design.get("sweep", {}).get("expect", [])]
    for rule in rules:
        if rule.name == name:
            return rule
    known = "; ".join(f"'{r.name}'" for r in rules) or "none"
    raise FlowsimError(f"{folder}: no [[expect]] rule named '{name}' (its rules: {known})")


def _failures(rule: Any, table: pd.DataFrame, label: str, points: pd.Index) -> pd.Series:
    """Whether the rule fails at each point of the scenario, judged as the sweep does."""
    from flowsim.expectations import _judge

    return pd.Series(
        [not _judge(rule, table, label, int(p), f"{label} point {p}").passed for p in points],
        index=points,
    )


def draw_boxes(boxes: list[Box], title: str) -> Figure:
    """Each box's limits on each parameter it restricts, as a share of that
    parameter's range over the sweep."""
    from matplotlib.figure import Figure

    names = list(dict.fromkeys(n for b in boxes for n in b.limits)) or ["(no limit)"]
    fig = Figure(figsize=(7, 1.2 + 0.5 * len(names) * len(boxes)))
    ax = fig.add_subplot()
    height = 0.8 / len(boxes)
    for k, box in enumerate(boxes):
        for i, name in enumerate(names):
            low, high = box.limits.get(name, box.ranges.get(name, (0.0, 1.0)))
            lo, hi = box.ranges.get(name, (low, high))
            span = (hi - lo) or 1.0
            y = i + (k - (len(boxes) - 1) / 2) * height
            ax.barh(
                y,
                (high - low) / span,
                left=(low - lo) / span,
                height=height * 0.9,
                color=f"C{k}",
                label=None
                if i
                else (f"box {k + 1}: coverage {box.coverage:.0%}, density {box.density:.0%}"),
            )
            ax.text(
                (high - lo) / span + 0.01, y, f"{low:.3g} .. {high:.3g}", va="center", fontsize=8
            )
    ax.set_yticks(range(len(names)), names)
    ax.set_xlim(0, 1.35)
    ax.set_xlabel("share of the parameter's range in the sweep")
    ax.set_title(title, fontsize=10)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.3), fontsize=8, frameon=False)
    ax.invert_yaxis()
    fig.tight_layout()
    return fig


def save_boxes(fig: Figure, path: Path) -> None:
    if path.suffix.lower() not in (".svg", ".png"):
        raise FlowsimError(f"--out {path}: give a .svg or .png file")
    try:
        fig.savefig(path, dpi=110, bbox_inches="tight")
    except OSError as exc:
        raise FlowsimError(f"cannot write {path}: {exc.strerror or exc}") from None
