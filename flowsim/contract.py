"""The results contract: the figures a run gives, by name, and the rules CI judges them by.

``summary.json``'s sections, the dotted metric names of ``Results.metrics()`` and
of a sweep's table, and :class:`Expectation` (an ``[[expect]]`` rule) live here,
apart from the scenario schema: a rule is about a run's results, not about the
world it simulates. docs/summary.md and docs/expectations.md describe them.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from flowsim.fields import CalendarDate, Frozen

__all__ = [
    "METRIC_SECTIONS",
    "MONTHLY_METRICS",
    "PAPERS_SECTIONS",
    "RESERVE_METRIC",
    "SUMMARY_FORMAT_VERSION",
    "SUMMARY_TOTALS",
    "Expectation",
    "MetricWindow",
    "metric_bounds",
    "monthly_metric",
]

# The version of summary.json's layout; a change that breaks its readers raises it.
SUMMARY_FORMAT_VERSION = 3
# The terms of the mass balance, in summary.json's totals_kg.
SUMMARY_TOTALS = (
    "opening_stock",
    "produced",
    "exported",
    "seized",
    "lost",
    "in_stock",
    "in_transit",
)
# Flows by month, named <name>.<node>.<YYYY-MM>: a partner's exports, a buyer's or a
# refiner's purchases.
MONTHLY_METRICS = ("exports_kg_monthly", "exports_usd_monthly", "purchases_kg_monthly")
# A level, not a flow: a rule names one month of it, as <name>.<node>.<YYYY-MM>.
RESERVE_METRIC = "reserve_kg_end_of_month"
# The sections of summary.json of papers and customs (empty without papers on lots).
PAPERS_SECTIONS = (
    "laundered_kg_by_node",
    "due_diligence_kg_by_partner",
    "declared_exports_kg_by_jurisdiction",
    "declared_imports_kg_by_jurisdiction",
    "declared_exports_less_production_kg_by_jurisdiction",
    "mirror_gap_kg_by_pair",
)
# The sections of summary.json whose figures a rule may name (Results.metrics()).
METRIC_SECTIONS = (
    "totals_kg",
    "exports_kg_by_partner",
    "exports_usd_by_partner",
    "exports_usd_total",
    "exposure_by_partner",
    "exposure_by_refiner",
    "seized_kg_by_place",
    "transport_cost_usd",
    "black_market_fuel_premium_usd",
    "production_kg_by_mine",
    "reserve_kg_end_by_node",
    "rents_usd_by_node",
    *PAPERS_SECTIONS,
    *MONTHLY_METRICS,
    RESERVE_METRIC,
)

# The sections whose figures may be negative: a gap or a surplus between two books, and
# a node's rent, which is a loss when it sells below what it paid.
SIGNED_SECTIONS = frozenset(
    {
        "declared_exports_less_production_kg_by_jurisdiction",
        "mirror_gap_kg_by_pair",
        "rents_usd_by_node",
    }
)


def metric_bounds(metric: str) -> tuple[float, float]:
    """The range a figure cannot leave, by its dotted name: a share lies in [0, 1],
    a signed section's figure anywhere, every other figure (kg, USD) at or above 0.
    Intervals are cut to it (flowsim.stats)."""
    if metric.rsplit(".", 1)[-1].endswith("_share"):
        return (0.0, 1.0)
    if metric.split(".", 1)[0] in SIGNED_SECTIONS:
        return (-math.inf, math.inf)
    return (0.0, math.inf)


class MetricWindow(Frozen):
    """A figure of a run by its metric name, a monthly one summed over a window of
    months: what an ``[[expect]]`` rule judges and a calibration target fits."""

    metric: Annotated[str, StringConstraints(min_length=1, max_length=300)] = Field(
        description="Dotted key path of a summary figure, e.g. exports_kg_by_partner.turkey"
    )
    after: CalendarDate | None = Field(
        None, description="Monthly metrics: sum the months from this date's month on."
    )
    before: CalendarDate | None = Field(
        None, description="Monthly metrics: sum the months before this one."
    )

    @model_validator(mode="after")
    def _a_known_metric(self) -> MetricWindow:
        section = self.metric.split(".")[0]
        if section not in METRIC_SECTIONS:
            raise ValueError(
                f"metric '{self.metric}' starts with '{section}', not one of "
                f"{', '.join(METRIC_SECTIONS)}"
            )
        windowed = self.after is not None or self.before is not None
        if windowed and section not in MONTHLY_METRICS:
            raise ValueError(
                "after and before apply to monthly metrics: "
                f"{', '.join(MONTHLY_METRICS)} (each .<node>)"
            )
        if section in MONTHLY_METRICS and self.metric.count(".") != 1:
            raise ValueError("a monthly metric is <name>.<node>; set after/before for the months")
        if section == RESERVE_METRIC and self.metric.count(".") != 2:
            raise ValueError(
                f"a reserve's level is {RESERVE_METRIC}.<node>.<YYYY-MM>: one month's end"
            )
        if self.after is not None and self.before is not None and self.before <= self.after:
            raise ValueError(f"before ({self.before}) must come after after ({self.after})")
        return self


class Expectation(MetricWindow):
    """A rule on a run's figures that CI can check (docs/expectations.md)."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=200)] = Field(
        description="What the rule checks, in words; names it in reports."
    )
    scenario: str | None = Field(None, description="Sweeps: the scenario the rule is about.")
    compare_to: str | None = Field(
        None, description="Sweeps: judge the change against this scenario, at the same point."
    )
    change: Literal["percent", "absolute"] = Field(
        "percent",
        description="With compare_to: judge the change in percent or in the metric's own unit.",
    )
    at_least: float | None = Field(None, description="Lowest acceptable mean (or change).")
    at_most: float | None = Field(None, description="Highest acceptable mean (or change).")
    ci_excludes: float | None = Field(
        None, description="The 95% confidence interval of the mean (or change) must exclude this."
    )

    @model_validator(mode="after")
    def _checks_something(self) -> Expectation:
        if self.at_least is None and self.at_most is None and self.ci_excludes is None:
            raise ValueError("needs at_least, at_most or ci_excludes")
        return self


def monthly_metric(section: str, partner: str, month: str) -> str:
    """The name of one month's figure, e.g. ``exports_kg_monthly.uae.2019-03``."""
    return f"{section}.{partner}.{month}"
