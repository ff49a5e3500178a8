"""Figures of a run, a comparison or a sweep (matplotlib).

Every figure function takes :class:`~flowsim.results.Results` (or a sweep table) and
returns a matplotlib Figure; :func:`save_figure` writes it as PNG and SVG.
Each partner keeps one colour across every figure (:func:`partner_colors`),
axes carry units and dates, and titles say what the figure shows. Monthly values are
steps over their month; legends stand outside the axes. :func:`policy_spans` is the
timeline's data: policies' days and strengths. The flow diagram has its own module,
:mod:`flowsim.flows`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib
import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.patches import Patch
from matplotlib.textpath import text_to_path
from matplotlib.transforms import Bbox

from flowsim.tables import months, with_month

if TYPE_CHECKING:  # a Results' own module writes reports: imported for types only
    from flowsim.results import Results

__all__ = [
    "export_changes",
    "exports_difference",
    "exposure_chart",
    "holds_chart",
    "monthly_exports",
    "parameter_effect",
    "partner_colors",
    "policy_spans",
    "policy_timeline",
    "production_chart",
    "save_figure",
    "seizures_chart",
    "tornado_chart",
]

# Figures are built with Figure() rather than pyplot: no global state, no
# backend to choose, so importing this module changes nothing for the caller.
# Partners' colours: tab10 without its grey (the flow diagram's buyers are grey). More
# colours would have to be paler or near one of these; past nine partners they repeat.
PALETTE = tuple(c for i, c in enumerate(matplotlib.colormaps["tab10"].colors) if i != 7)
KIND_COLORS = {"mine": "#8c6d31", "buyer": "#7f7f7f", "refiner": "#4a6fa5", "partner": "#2ca02c"}
MARK_FONTSIZE = 8  # labels of policy and event dates, above the axes
MARK_GAP_PT = 3.0  # between the axes' top and those labels
EXPOSURE_LABELS = {
    "illegal_origin_share": "illegal or informal origin",
    "sanctioned_entity_share": "through a designated entity",
    "sanctioned_jurisdiction_share": "from a sanctioned jurisdiction",
}


def partner_colors(partners: list[str]) -> dict[str, tuple[float, ...]]:
    """One colour per partner id, the same in every figure and report of a project.

    The colour is a function of the id: each id ranks the colours of :data:`PALETTE`
    by the SHA-256 of ``"<id>:<colour's index>"`` and takes the first of its ranking.
    Python's own ``hash`` is not used: it changes from one process to the next. Where
    two partners of one call rank the same colour first, the id that sorts first keeps
    it and the other takes the next free colour of its own ranking, so that no two
    partners of a figure share a colour (until the palette's nine colours run out; then
    colours repeat). A partner's colour thus changes only in a figure where a partner
    that sorts before it ends up with that colour.
    """
    taken: set[int] = set()
    colors = {}
    for partner in sorted(set(partners)):
        ranking = _color_ranking(partner)
        free = [i for i in ranking if i not in taken] or ranking
        taken.add(free[0])
        colors[partner] = PALETTE[free[0]]
    return colors


@cache
def _color_ranking(partner: str) -> tuple[int, ...]:
    """The palette's indices, most preferred first, for one partner id."""

    def rank(index: int) -> bytes:
        return hashlib.sha256(f"{partner}:{index}".encode()).digest()

    return tuple(sorted(range(len(PALETTE)), key=rank))


def tight_bbox(fig: Figure) -> Bbox:
    """The box, in inches, that ``savefig(bbox_inches="tight")`` crops to, padded as it
    pads. Saving a figure twice (SVG and PNG) with ``"tight"`` lays it out four times: a
    layout pass to find the box before each draw. With the box found once, each save is
    one draw. The box comes from the Agg renderer at the figure's own dpi, so text
    measured at another dpi may differ by a point or so, inside the padding."""
    fig.draw_without_rendering()
    return fig.get_tightbbox().padded(matplotlib.rcParams["savefig.pad_inches"])


def save_figure(fig: Figure, path: str | Path, dpi: int = 110) -> list[Path]:
    """Write ``path``.png and ``path``.svg; return both paths."""
    base = Path(path).with_suffix("")
    base.parent.mkdir(parents=True, exist_ok=True)
    written = []
    bbox = tight_bbox(fig)
    for suffix in (".png", ".svg"):
        target = base.with_suffix(suffix)
        fig.savefig(target, dpi=dpi, bbox_inches=bbox)
        written.append(target)
    return written


def _policy_dates(results: Results) -> list[tuple[pd.Timestamp, str]]:
    marks = []
    for policy in results.meta.get("policies", []):
        if policy.get("enabled") and policy.get("from") not in (None, "None"):
            marks.append((pd.Timestamp(policy["from"]), policy["name"]))
    return sorted(marks)


def _mark_policies(ax, results: Results) -> float:
    """Mark each enabled policy's first day; the height its labels take (points)."""
    return _mark_dates(ax, _policy_dates(results))


def _mark_dates(
    ax, marks: list[tuple[pd.Timestamp, str]], linestyle: str = ":", labels: bool = True
) -> float:
    """A vertical line at each date, its label above the axes (rotated, so that no line
    ever crosses a label and labels of close dates stand side by side). A mark may
    carry its own line style as a third item. Returns the height in points the labels
    take above the axes, for the title to clear them."""
    x0, x1 = ax.get_xlim()
    by_day: dict[pd.Timestamp, list[str]] = {}
    styles: dict[pd.Timestamp, str] = {}
    for when, name, *style in marks:
        if x0 <= mdates.date2num(when) <= x1:
            by_day.setdefault(when, []).append(name)
            styles.setdefault(when, style[0] if style else linestyle)
    width_pt = ax.get_position().width * ax.figure.get_figwidth() * 72
    font = FontProperties(size=MARK_FONTSIZE)
    placed = -np.inf
    height = 0.0
    for when, names in sorted(by_day.items()):
        text = ", ".join(names)
        gid = f"mark:{when:%Y-%m-%d}"
        ax.axvline(when, color="0.35", linestyle=styles[when], linewidth=1, gid=gid)
        if not labels:
            continue
        at = (mdates.date2num(when) - x0) / (x1 - x0) * width_pt
        # Labels of dates too close to stand apart move right, joined to their line.
        placed = max(at, placed + 1.3 * MARK_FONTSIZE)
        shift = placed - at
        ax.annotate(
            text,
            xy=(when, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(shift, MARK_GAP_PT),
            textcoords="offset points",
            rotation=90,
            ha="center",
            va="bottom",
            fontsize=MARK_FONTSIZE,
            color="0.3",
            annotation_clip=False,
            gid=gid,
            arrowprops=(
                dict(arrowstyle="-", color="0.6", linewidth=0.6, shrinkA=1, shrinkB=0)
                if shift > 0.5
                else None
            ),
        )
        length, _, _ = text_to_path.get_text_width_height_descent(text, font, ismath=False)
        height = max(height, length + MARK_GAP_PT)
    return height


def _title(ax, text: str, above: float = 0.0) -> None:
    """The axes' title, clear of the date labels ``above`` the axes (points)."""
    ax.set_title(text, pad=6.0 + above)


def _mean_and_band(
    table: pd.DataFrame,
    value: str,
    by: str = "partner",
    lower: float | None = 0.0,
    upper: float | None = None,
) -> pd.DataFrame:
    """Mean over replications by month and ``by``, with a 95% t interval clipped to the
    quantity's range (``lower``, ``upper``): no band of kg goes below zero."""
    grouped = table.groupby(["month", by])[value]
    out = grouped.agg(["mean", "std", "count"]).reset_index()
    count = out["count"].to_numpy()
    half = np.zeros(len(out))
    several = count > 1  # one replication has no band
    if several.any():
        from scipy.special import stdtrit  # 0.1 s to import: only when there is a band

        spread = out["std"].to_numpy()[several]
        half[several] = stdtrit(count[several] - 1, 0.975) * spread / np.sqrt(count[several])
    out["low"] = (out["mean"] - half).clip(lower=lower, upper=upper)
    out["high"] = (out["mean"] + half).clip(lower=lower, upper=upper)
    return out


def _month_edges(months) -> pd.DatetimeIndex:
    """The first day of each month and of the month after the last: a monthly value
    holds from the first edge of its month to the next."""
    months = pd.DatetimeIndex(months)
    try:
        after = months[-1] + pd.offsets.MonthBegin(1)
    except (OverflowError, pd.errors.OutOfBoundsDatetime):
        after = pd.Timestamp.max.floor("D")  # a calendar that ends in the last month pandas holds
    return months.append(pd.DatetimeIndex([after]))


def _steps(values) -> np.ndarray:
    """Monthly values with the last repeated, to draw against :func:`_month_edges`."""
    values = np.asarray(values, dtype=float)
    return np.append(values, values[-1:])


def _monthly_line(ax, months, values, **style):
    """Each month's value drawn as a step over its month."""
    return ax.plot(_month_edges(months), _steps(values), drawstyle="steps-post", **style)


def _monthly_band(ax, months, low, high, **style):
    """An interval over each month, as steps."""
    return ax.fill_between(_month_edges(months), _steps(low), _steps(high), step="post", **style)


def _date_axis(ax) -> None:
    ax.xaxis.set_major_locator(mdates.MonthLocator(bymonth=(1, 4, 7, 10)))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%b %Y"))
    ax.grid(alpha=0.3)


def _legend_outside(ax, **options):
    """A legend to the right of the axes, where it covers no data."""
    return ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, **options)


def monthly_exports(results: Results, baseline: Results | None = None) -> Figure:
    """Monthly exports by partner (tonnes), each month's value over its month, with 95%
    bands across replications; dashed lines show the baseline when one is given."""
    colors = partner_colors(results.partners + (baseline.partners if baseline else []))
    fig = Figure(figsize=(10, 5))
    ax = fig.subplots()
    band = _mean_and_band(results.exports_monthly, "kg")
    for partner, rows in band.groupby("partner", sort=False):
        c = colors[partner]
        _monthly_line(ax, rows["month"], rows["mean"] / 1000, color=c, linewidth=2, label=partner)
        if results.replications > 1:
            _monthly_band(
                ax, rows["month"], rows["low"] / 1000, rows["high"] / 1000, color=c, alpha=0.2
            )
    if baseline is not None:
        base = _mean_and_band(baseline.exports_monthly, "kg")
        for partner, rows in base.groupby("partner", sort=False):
            _monthly_line(
                ax,
                rows["month"],
                rows["mean"] / 1000,
                color=colors[partner],
                linestyle="--",
                linewidth=1,
            )
        ax.plot(
            [], [], color="0.3", linestyle="--", label=f"baseline ({baseline.meta['scenario']})"
        )
    ax.set_ylim(bottom=0)
    above = _mark_policies(ax, results)
    _date_axis(ax)
    ax.set_ylabel("exports (tonnes per month)")
    ax.set_xlabel("month")
    bands = ", shaded: 95% interval over replications" if results.replications > 1 else ""
    _title(ax, f"Monthly gold exports by partner: {results.meta['scenario']}{bands}", above)
    _legend_outside(ax)
    return fig


def exports_difference(results: Results, baseline: Results) -> Figure:
    """Monthly exports of the scenario minus the baseline, by partner (tonnes)."""
    colors = partner_colors(results.partners + baseline.partners)
    mine = results.exports_monthly.groupby(["month", "partner"])["kg"].mean()
    base = baseline.exports_monthly.groupby(["month", "partner"])["kg"].mean()
    diff = mine.sub(base, fill_value=0.0).unstack("partner").fillna(0.0) / 1000
    fig = Figure(figsize=(10, 5))
    ax = fig.subplots()
    for partner in diff.columns:
        _monthly_line(
            ax, diff.index, diff[partner], color=colors[partner], linewidth=2, label=partner
        )
    ax.axhline(0, color="black", linewidth=0.8)
    above = _mark_policies(ax, results)
    _date_axis(ax)
    ax.set_ylabel("change in exports (tonnes per month)")
    ax.set_xlabel("month")
    _title(
        ax,
        f"Exports of {results.meta['scenario']} minus {baseline.meta['scenario']}, by partner",
        above,
    )
    _legend_outside(ax)
    return fig


def exposure_chart(results: Results) -> Figure:
    """Each partner's exposure: shares of the mass it received."""
    table = results.exposure
    table = (
        table[table["node"].isin(results.partners)].groupby("node")[list(EXPOSURE_LABELS)].mean()
    )
    fig = Figure(figsize=(9, 0.6 * len(table) + 2))
    ax = fig.subplots()
    height = 0.25
    y = np.arange(len(table))
    for k, (column, label) in enumerate(EXPOSURE_LABELS.items()):
        ax.barh(y + (k - 1) * height, table[column], height=height, label=label)
    ax.set_yticks(y, table.index)
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of the gold received (0 to 1)")
    ax.set_title(f"Exposure of each partner's gold imports: {results.meta['scenario']}")
    _legend_outside(ax)
    ax.grid(axis="x", alpha=0.3)
    return fig


def seizures_chart(results: Results) -> Figure:
    """Seizures per month, in transit and from stock (kg, mean over replications), each
    month's bar over its month."""
    seized = results.seizures.groupby(["month", "seized_in"])["kg"].sum() / results.replications
    months = results.exports_monthly["month"].drop_duplicates().sort_values()
    table = seized.unstack("seized_in").reindex(months, fill_value=0.0).fillna(0.0)
    days = np.diff(_month_edges(table.index)) / pd.Timedelta(days=1)
    fig = Figure(figsize=(10, 4))
    ax = fig.subplots()
    bottom = np.zeros(len(table))
    for place, color in (("transit", "#d62728"), ("stock", "#9467bd")):
        if place in table:
            ax.bar(
                table.index,
                table[place],
                width=days,
                align="edge",
                bottom=bottom,
                color=color,
                edgecolor="white",
                linewidth=0.5,
                label=place,
            )
            bottom += table[place].to_numpy()
    above = _mark_policies(ax, results)
    _date_axis(ax)
    ax.set_ylabel("seized (kg per month)")
    ax.set_xlabel("month")
    _title(ax, f"Seizures of gold, in transit and from stock: {results.meta['scenario']}", above)
    if bottom.any():
        _legend_outside(ax)
    else:
        ax.text(0.5, 0.5, "no seizures", transform=ax.transAxes, ha="center", color="0.4")
    return fig


# --- policies: when they act and how strongly ------------------------------------------


@dataclass(frozen=True)
class PolicySpan:
    """One policy of a run: when it acts and how strongly, from the scenario as run
    (``meta['scenario_json']``). A run folder written without it gives the first day
    only: ``end`` and ``strength`` are then None."""

    kind: str
    name: str
    enabled: bool
    start: pd.Timestamp
    end: pd.Timestamp | None  # the first day it no longer acts
    strength: float | None  # 0 to 1: compliance, share of fuel cut, capacity destroyed
    describe: str  # its strength in words


def _day_after(day: pd.Timestamp) -> pd.Timestamp:
    """The next day, in ``day``'s own unit: pandas 2.0 adds a day in nanoseconds, which
    overflow after 11 April 2262, the last day a calendar may end on."""
    return day + pd.Timedelta(days=1).as_unit(day.unit)


def policy_spans(results: Results) -> list[PolicySpan]:
    """Every policy of the run, in the order of ``meta['policies']``."""
    rules = (results.meta.get("scenario_json") or {}).get("policies")
    if not rules:
        return [
            PolicySpan(p["kind"], p["name"], p["enabled"], pd.Timestamp(p["from"]), None, None, "")
            for p in results.meta.get("policies", [])
            if p.get("from") not in (None, "None")
        ]
    after = _day_after(results.end)
    day = pd.Timedelta(days=1)
    spans = []
    for name, rule in rules.get("sanctions", {}).items():
        levels = {**rule["compliance"]}
        changes = rule.get("compliance_changes", [])
        strongest = max([rule["default_compliance"], *levels.values()])
        strongest = max([strongest, *(c["level"] for c in changes)])
        words = ", ".join(f"{p} {v:.0%}" for p, v in levels.items())
        words = f"compliance {words or 'none'}"
        if rule["default_compliance"] > 0:
            words += f", others {rule['default_compliance']:.0%}"
        words += "".join(f"; {c['partner']} {c['level']:.0%} from {c['date']}" for c in changes)
        if rule.get("discount"):
            words += f"; discount {rule['discount']:.0%}"
        until = rule.get("until")
        end = pd.Timestamp(until) + day if until else after
        start = pd.Timestamp(rule["effective"])
        spans.append(PolicySpan("sanction", name, rule["enabled"], start, end, strongest, words))
    for name, rule in rules.get("interdictions", {}).items():
        words = f"seizure risk +{rule['seizure_increase']:.0%}"
        if rule.get("release_share") is not None:
            words += f", release share {rule['release_share']:.0%}"
        start, end = pd.Timestamp(rule["start"]), pd.Timestamp(rule["end"]) + day
        strength = rule["seizure_increase"]
        spans.append(PolicySpan("interdiction", name, rule["enabled"], start, end, strength, words))
    for name, rule in rules.get("raids", {}).items():
        loss = rule["capacity_loss"]
        words = f"capacity destroyed {loss:.0%}"
        if rule.get("date"):
            start = pd.Timestamp(rule["date"])
            end = start + pd.Timedelta(days=rule["hold_days"] + rule["recovery_days"])
            words += f", held {rule['hold_days']:g} d, back over {rule['recovery_days']:g} d"
        else:
            start = pd.Timestamp(rule["window_start"])
            end = pd.Timestamp(rule["window_end"]) + day
            words = f"{rule['rate_per_year']:g} a year at random, {words}"
        if rule.get("stock_seized"):
            words += f", stock seized {rule['stock_seized']:.0%}"
        spans.append(PolicySpan("raid", name, rule["enabled"], start, end, loss, words))
    for name, rule in rules.get("fuel_restrictions", {}).items():
        cut = rule["supply_cut"]
        words = f"fuel supply cut {cut:.0%} in {rule['region']}"
        if rule.get("black_market_share"):
            words += f", {rule['black_market_share']:.0%} of it bought on the black market"
        start, end = pd.Timestamp(rule["start"]), pd.Timestamp(rule["end"]) + day
        spans.append(PolicySpan("fuel_restriction", name, rule["enabled"], start, end, cut, words))
    order = {(p["kind"], p["name"]): k for k, p in enumerate(results.meta.get("policies", []))}
    return sorted(spans, key=lambda s: order.get((s.kind, s.name), len(order)))


POLICY_COLORS = {
    "sanction": "#d62728",
    "interdiction": "#9467bd",
    "raid": "#8c564b",
    "fuel_restriction": "#ff7f0e",
}


def policy_timeline(results: Results) -> Figure:
    """Each policy as a bar from its first day to the first day it no longer acts, shaded
    by its strength (compliance, share of fuel cut, capacity a raid destroys), with the
    strength in words."""
    spans = policy_spans(results)
    fig = Figure(figsize=(9.5, 0.55 * max(len(spans), 1) + 1.6))
    ax = fig.subplots()
    first, after = results.start, _day_after(results.end)
    ax.set_xlim(first, after)
    x0, x1 = ax.get_xlim()
    width_pt = ax.get_position().width * fig.get_figwidth() * 72
    font = FontProperties(size=8)
    along = ax.get_yaxis_transform()  # x in axes fraction, y in data
    if not spans:
        ax.text(0.5, 0.5, "no policies", transform=ax.transAxes, ha="center", color="0.4")
    for y, span in enumerate(reversed(spans)):
        start = max(span.start, first)
        end = min(span.end if span.end is not None else after, after)
        color = POLICY_COLORS.get(span.kind, "0.5") if span.enabled else "0.6"
        shade = 0.25 + 0.75 * span.strength if span.strength is not None else 0.25
        ax.barh(
            y,
            end - start,
            left=start,
            height=0.6,
            color=color,
            alpha=shade,
            hatch=None if span.enabled and span.end is not None else "//",
            edgecolor=color,
            gid=f"policy:{span.kind}:{span.name}",
        )
        words = span.describe if span.enabled else "disabled"
        if span.end is None:
            words = "first day only: this run folder does not record its end or strength"
        # Over its bar, from the bar's start, or ending at the axes' right edge if longer.
        length, _, _ = text_to_path.get_text_width_height_descent(words, font, ismath=False)
        at = (mdates.date2num(start) - x0) / (x1 - x0) + 0.005
        at = max(0.0, min(at, 1.0 - length / width_pt))
        ax.text(at, y + 0.36, words, transform=along, fontsize=8, va="bottom", color="0.15")
    ax.set_yticks(range(len(spans)), [f"{s.name} ({s.kind})" for s in reversed(spans)])
    ax.set_ylim(-0.6, len(spans) - 0.1 + 0.5)
    _date_axis(ax)
    ax.set_xlabel("date")
    kinds = dict.fromkeys(s.kind for s in spans)
    handles = [
        Patch(color=POLICY_COLORS.get(kind, "0.5"), label=kind.replace("_", " ")) for kind in kinds
    ]
    if handles:
        _legend_outside(ax, handles=handles, title="darker: stronger")
    _title(ax, f"Policies: when each acts and how strongly: {results.meta['scenario']}")
    return fig


def _production_marks(results: Results) -> tuple[list[tuple], list[tuple]]:
    """Dated raids, displaced miners' arrival, as marks; fuel cuts and raids at random
    within a window, as spans of (start, end, label)."""
    marks: list[tuple] = []
    windows: list[tuple] = []
    scenario = results.meta.get("scenario_json") or {}
    nodes = scenario.get("nodes", {})
    for span in policy_spans(results):
        if not span.enabled or span.kind not in ("raid", "fuel_restriction"):
            continue
        if span.kind == "fuel_restriction" and span.end is not None:
            windows.append((span.start, span.end, f"fuel cut {span.name} ({span.strength:.0%})"))
            continue
        rule = scenario.get("policies", {}).get("raids", {}).get(span.name, {})
        if span.end is not None and not rule.get("date"):
            windows.append((span.start, span.end, f"raids at random: {span.name}"))
            continue
        marks.append((span.start, f"raid {span.name}", "--"))
        hit = [
            n
            for n, node in nodes.items()
            if n in rule.get("nodes", [])
            or (node.get("region") == rule.get("region") and node["kind"] in rule["node_kinds"])
        ]
        for mine in hit:
            node = nodes[mine]
            if node["kind"] == "mine" and node.get("displacement_share", 0) > 0:
                arrive = span.start + pd.Timedelta(days=node["displacement_delay_days"])
                marks.append((arrive, f"miners from {mine} arrive", "-."))
    return marks, windows


def production_chart(results: Results) -> Figure:
    """Production by mine, kg a month (each month's value over its month, 95% bands
    over replications), with raids, displaced miners' arrival and fuel cuts marked."""
    colors = partner_colors(results.mines)
    fig = Figure(figsize=(10, 5))
    ax = fig.subplots()
    band = _mean_and_band(results.production_monthly, "kg", by="mine")
    for mine, rows in band.groupby("mine", sort=False):
        c = colors[mine]
        _monthly_line(ax, rows["month"], rows["mean"], color=c, linewidth=2, label=mine)
        if results.replications > 1:
            _monthly_band(ax, rows["month"], rows["low"], rows["high"], color=c, alpha=0.2)
    ax.set_ylim(bottom=0)
    marks, windows = _production_marks(results)
    for start, end, label in windows:
        ax.axvspan(start, end, color="#ff7f0e", alpha=0.12, linewidth=0, label=label)
    above = _mark_dates(ax, marks)
    _date_axis(ax)
    ax.set_ylabel("production (kg per month)")
    ax.set_xlabel("month")
    bands = ", shaded: 95% interval over replications" if results.replications > 1 else ""
    _title(ax, f"Production by mine: {results.meta['scenario']}{bands}", above)
    _legend_outside(ax)
    return fig


def holds_chart(results: Results) -> Figure:
    """Gold refused by partners each month (kg, by partner), and gold waiting at mines,
    buyers and refiners at the end of each month (kg, reserves apart): held for want
    of an open route, queued or in service. The ledger does not tell a held lot from a
    queued one; a hold shows as stock that grows while sanctions or raids close routes."""
    colors = partner_colors(results.partners)
    fig = Figure(figsize=(10, 7))
    top, bottom = fig.subplots(2, 1, sharex=True)
    refused = with_month(results, results.ledger[results.ledger["event"] == "refused"])
    sums = refused.groupby(["replication", "month", "node"], observed=True)["kg"].sum()
    grid = pd.MultiIndex.from_product(
        [range(results.replications), months(results), results.partners],
        names=["replication", "month", "node"],
    )
    sums.index = sums.index.set_levels(sums.index.levels[2].astype(str), level=2)
    table = sums.reindex(grid, fill_value=0.0).reset_index()
    band = _mean_and_band(table, "kg", by="node")
    for partner, rows in band.groupby("node", sort=False):
        c = colors[partner]
        _monthly_line(top, rows["month"], rows["mean"], color=c, linewidth=2, label=partner)
        if results.replications > 1:
            _monthly_band(top, rows["month"], rows["low"], rows["high"], color=c, alpha=0.2)
    top.set_ylim(bottom=0)
    top.set_ylabel("refused (kg per month)")
    stock = results.stocks_monthly.groupby(["month", "node"])["kg"].mean()
    reserve = results.reserves.groupby(["month", "node"])["kg"].mean()
    waiting = stock.sub(reserve, fill_value=0.0).clip(lower=0.0).unstack("node").fillna(0.0)
    waiting = waiting.reindex(months(results), fill_value=0.0)
    largest = waiting.max().sort_values(ascending=False)
    shown = [n for n in largest.index[:5] if largest[n] > 0]
    node_colors = matplotlib.colormaps["tab10"].colors
    for k, node in enumerate(shown):
        _monthly_line(
            bottom, waiting.index, waiting[node], color=node_colors[k], linewidth=2, label=node
        )
    rest = waiting.drop(columns=shown).sum(axis=1)
    if rest.any():
        _monthly_line(bottom, waiting.index, rest, color="0.5", linewidth=1.5, label="other nodes")
    bottom.set_ylim(bottom=0)
    bottom.set_ylabel("waiting at month end (kg)")
    bottom.set_xlabel("month")
    above = _mark_policies(top, results)
    _mark_dates(bottom, _policy_dates(results), labels=False)
    for ax in (top, bottom):
        _date_axis(ax)
        if ax.get_legend_handles_labels()[0]:
            _legend_outside(ax)
    if not refused.size:
        top.text(0.5, 0.5, "no refusals", transform=top.transAxes, ha="center", color="0.4")
    _title(
        top,
        f"Gold refused by partners, and gold waiting at mines, buyers and refiners: "
        f"{results.meta['scenario']}",
        above,
    )
    bottom.set_title(
        "waiting: held for want of an open route, queued or in service; reserves apart",
        fontsize=9,
    )
    return fig


def tornado_chart(table: pd.DataFrame, metric: str) -> Figure:
    """A tornado table (:func:`flowsim.tornado`) as bars from the low to the high end."""
    fig = Figure(figsize=(9, 0.6 * len(table) + 2))
    ax = fig.subplots()
    rows = table.iloc[::-1]
    for y, (_, row) in enumerate(rows.iterrows()):
        low, high = row["outcome_at_low"], row["outcome_at_high"]
        ax.barh(y, high - low, left=low, color="#4a6fa5" if high >= low else "#d62728")
    ax.set_yticks(range(len(rows)), rows["parameter"])
    ax.set_xlabel(metric)
    ax.set_title(f"Effect of each swept parameter on {metric} (low end to high end)")
    ax.grid(axis="x", alpha=0.3)
    return fig


def parameter_effect(table: pd.DataFrame, parameter: str, metric: str) -> Figure:
    """One swept parameter against one outcome, each run a point, by scenario."""
    rows = table[table["metric"] == metric].dropna(subset=[parameter])
    fig = Figure(figsize=(7, 4.5))
    ax = fig.subplots()
    for scenario, group in rows.groupby("scenario"):
        ax.scatter(group[parameter], group["value"], s=18, alpha=0.7, label=scenario)
        means = group.groupby(parameter)["value"].mean()
        if len(means) <= 10:
            ax.plot(means.index, means.to_numpy(), linewidth=1)
    ax.set_xlabel(parameter)
    ax.set_ylabel(metric)
    ax.set_title(f"{metric} against {parameter}, one point per run")
    ax.grid(alpha=0.3)
    _legend_outside(ax)
    return fig


def export_changes(table: pd.DataFrame, results: Results, baseline: Results) -> Figure:
    """The headline figure of a comparison: each partner's change in exports over the
    run, in tonnes, with its 95% interval where there are replications enough
    (``table`` is :func:`flowsim.compare.compare_exports` of the two runs)."""
    rows = table[table["partner"] != "total"].iloc[::-1]
    colors = partner_colors(results.partners + baseline.partners)
    names = dict(
        zip(results.nodes["node"].astype(str), results.nodes["name"].astype(str), strict=True)
    )
    change = rows["change_kg"].to_numpy() / 1000
    fig = Figure(figsize=(9, 0.6 * len(rows) + 1.6))
    ax = fig.subplots()
    y = np.arange(len(rows))
    ax.barh(y, change, color=[colors[p] for p in rows["partner"]], height=0.6)
    if "change_kg_low" in rows:
        low = change - rows["change_kg_low"].to_numpy() / 1000
        high = rows["change_kg_high"].to_numpy() / 1000 - change
        ax.errorbar(change, y, xerr=[low, high], fmt="none", ecolor="black", capsize=4)
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_yticks(y, [names.get(p, p) for p in rows["partner"]], fontsize=10)
    for k, (value, pct) in enumerate(zip(change, rows["change_pct"], strict=True)):
        label = "from none" if pd.isna(pct) else f"{pct:+.0f}%"
        ax.annotate(
            label,
            (value, k),
            xytext=(6 if value >= 0 else -6, 8),
            textcoords="offset points",
            ha="left" if value >= 0 else "right",
            fontsize=9,
        )
    ax.set_xlabel(f"change in exports over the run, tonnes (against {baseline.meta['scenario']})")
    ax.margins(x=0.2)
    interval = " with 95% intervals" if "change_kg_low" in rows else ""
    ax.set_title(f"{results.meta['scenario']}: change in exports by partner{interval}")
    return fig
