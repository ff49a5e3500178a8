"""Expectations: rules on a run's or a sweep's figures, for CI pipelines.

A rule names a metric (a dotted key path of ``summary.json``, or a monthly
export series summed over a window) and bounds its mean over replications,
or the mean change against another scenario of a sweep at the same point,
replication by replication. ``ci_excludes`` asks the 95% confidence interval
of that mean to exclude a value; the interval is cut to the range the figure cannot
leave (a share's [0, 1], a fall of at most 100%). See docs/expectations.md.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date as Date
from pathlib import Path

import numpy as np
import pandas as pd

from flowsim._version import __version__
from flowsim.contract import MONTHLY_METRICS, Expectation, metric_bounds
from flowsim.folders import replace_signed_file
from flowsim.stats import FEW_REPLICATIONS, confidence_interval
from flowsim.text import xml_safe

__all__ = ["Verdict", "evaluate", "window_values", "write_junit"]


@dataclass(frozen=True)
class Verdict:
    rule: Expectation
    group: str  # which scenario and point the rule was judged on
    passed: bool
    mean: float
    ci95: tuple[float, float] | None
    message: str

    def line(self) -> str:
        status = "PASS" if self.passed else "FAIL"
        return f"{status} {self.rule.name} [{self.group}]: {self.message}"


def evaluate(rules: Sequence[Expectation], table: pd.DataFrame) -> list[Verdict]:
    """Judge ``rules`` on a tidy table with columns ``scenario``, ``point``,
    ``replication``, ``metric`` and ``value``."""
    verdicts = []
    for rule in rules:
        labels = [rule.scenario] if rule.scenario is not None else _labels(table)
        if rule.compare_to is not None:
            labels = [label for label in labels if label != rule.compare_to]
        for label in labels:
            rows = table[table["scenario"] == label]
            if rows.empty:
                verdicts.append(_fail(rule, label, f"no scenario '{label}' in the results"))
                continue
            for point in sorted(rows["point"].unique()):
                group = label if rows["point"].nunique() == 1 else f"{label} point {point}"
                verdicts.append(_judge(rule, table, label, int(point), group))
    return verdicts


def _labels(table: pd.DataFrame) -> list[str]:
    return list(dict.fromkeys(table["scenario"]))


def _fail(rule: Expectation, group: str, message: str) -> Verdict:
    return Verdict(rule, group, False, math.nan, None, message)


def _values(rule: Expectation, table: pd.DataFrame, label: str, point: int) -> pd.Series | None:
    """The rule's metric for each replication of one scenario and point."""
    rows = table[(table["scenario"] == label) & (table["point"] == point)]
    return window_values(rows, rule.metric, rule.after, rule.before)


def window_values(
    rows: pd.DataFrame, metric: str, after: Date | None = None, before: Date | None = None
) -> pd.Series | None:
    """A metric for each replication of a tidy metrics table (``replication``,
    ``metric``, ``value``); a monthly metric summed over the months from ``after``
    to before ``before``. None if the table has no such metric."""
    prefix = metric.split(".")[0]
    if prefix in MONTHLY_METRICS:
        monthly = rows[rows["metric"].str.startswith(metric + ".")]
        # Names end in YYYY-MM, which sort as the months do.
        months = monthly["metric"].str[-7:]
        keep = pd.Series(True, index=monthly.index)
        if after is not None:
            keep &= months >= f"{after.year:04d}-{after.month:02d}"
        if before is not None:
            keep &= months < f"{before.year:04d}-{before.month:02d}"
        if monthly.empty:
            return None
        return (
            monthly[keep]
            .groupby("replication")["value"]
            .sum()
            .reindex(sorted(rows["replication"].unique()), fill_value=0.0)
        )
    chosen = rows[rows["metric"] == metric]
    if chosen.empty:
        return None
    return chosen.groupby("replication")["value"].sum()


def _judge(rule: Expectation, table: pd.DataFrame, label: str, point: int, group: str) -> Verdict:
    values = _values(rule, table, label, point)
    if values is None:
        known = sorted(
            {m.rsplit(".", 1)[0] if "_monthly." in m else m for m in table["metric"].unique()}
        )
        hint = ", ".join(known[:12]) + (", ..." if len(known) > 12 else "")
        return _fail(rule, group, f"no metric '{rule.metric}' (known: {hint})")
    what = rule.metric
    bounds = metric_bounds(rule.metric)
    if rule.compare_to is not None:
        base_points = table.loc[table["scenario"] == rule.compare_to, "point"].unique()
        # A scenario that does not vary ran once, as point 0: every point pairs with it.
        base_point = point if point in base_points else 0
        base = _values(rule, table, rule.compare_to, base_point)
        if base is None:
            return _fail(rule, group, f"no metric '{rule.metric}' in scenario '{rule.compare_to}'")
        paired = pd.concat([values, base], axis=1, keys=["x", "b"], join="inner")
        if paired.empty:
            return _fail(rule, group, f"no replication in common with '{rule.compare_to}'")
        if rule.change == "percent":
            base_values = paired["b"].to_numpy()
            change = np.divide(
                paired["x"].to_numpy() - base_values,
                base_values,
                out=np.full(len(paired), math.nan),
                where=base_values != 0,
            )
            values = pd.Series(100.0 * change)
            what = f"change in {rule.metric} against {rule.compare_to} (%)"
            # A fall of a figure that is never negative stops at 100%; a rise has no end.
            bounds = (-100.0, math.inf) if bounds[0] >= 0 else (-math.inf, math.inf)
            if values.isna().any():
                return _fail(rule, group, f"{rule.metric} is 0 in '{rule.compare_to}'")
        else:
            values = paired["x"] - paired["b"]
            what = f"change in {rule.metric} against {rule.compare_to}"
            bounds = (-math.inf, math.inf)
    mean = float(values.mean())
    interval = confidence_interval(values.to_list(), bounds=bounds)
    problems = []
    if rule.at_least is not None and mean < rule.at_least:
        problems.append(f"is below at_least {rule.at_least:g} by {rule.at_least - mean:.4g}")
    if rule.at_most is not None and mean > rule.at_most:
        problems.append(f"is above at_most {rule.at_most:g} by {mean - rule.at_most:.4g}")
    if rule.ci_excludes is not None:
        if interval is None:
            problems.append("has no confidence interval: it needs 2 or more replications")
        elif interval[0] <= rule.ci_excludes <= interval[1]:
            problems.append(f"has a 95% interval that includes {rule.ci_excludes:g}")
    ci_text = f", 95% CI [{interval[0]:.4g}, {interval[1]:.4g}]" if interval else ""
    observed = f"{what}: mean {mean:.4g}{ci_text} over {len(values)} replication(s)"
    if rule.ci_excludes is not None and interval is not None and len(values) < FEW_REPLICATIONS:
        observed += (
            f" (an interval from {len(values)} replications is wide and its width itself "
            f"uncertain: give {FEW_REPLICATIONS * 2} or more)"
        )
    if problems:
        return Verdict(rule, group, False, mean, interval, f"{observed} {'; '.join(problems)}")
    return Verdict(rule, group, True, mean, interval, observed)


def write_junit(verdicts: Sequence[Verdict], path: str | Path, suite: str) -> None:
    """Write the verdicts as a JUnit XML report, one test case per rule and group.

    A file already at ``path`` is replaced only if it is a JUnit report of flowsim's.
    Characters that XML 1.0 forbids (control characters in a rule's name, say) are
    written as visible escapes, so that the file stays valid XML."""
    failures = sum(not v.passed for v in verdicts)
    root = ET.Element(
        "testsuite",
        name=xml_safe(suite),
        tests=str(len(verdicts)),
        failures=str(failures),
        errors="0",
    )
    properties = ET.SubElement(root, "properties")
    ET.SubElement(properties, "property", name="generator", value=f"flowsim {__version__}")
    for verdict in verdicts:
        # One class per suite: some CI reporters split class names at dots.
        case = ET.SubElement(
            root,
            "testcase",
            classname=xml_safe(suite),
            name=xml_safe(f"{verdict.rule.name} [{verdict.group}]"),
        )
        if verdict.passed:
            ET.SubElement(case, "system-out").text = xml_safe(verdict.message)
        else:
            failure = ET.SubElement(case, "failure", message=xml_safe(verdict.message))
            failure.text = xml_safe(verdict.line())
    data = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    replace_signed_file(
        Path(path), data, signed=lambda head: JUNIT_MARK in head, what="the JUnit report"
    )


# Marks a JUnit file as flowsim's, so that writing one replaces only an earlier one.
JUNIT_MARK = b'<property name="generator" value="flowsim '
