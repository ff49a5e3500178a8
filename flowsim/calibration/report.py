"""The calibration's HTML report: warnings first, then each parameter's posterior
against its prior, the pairs of parameters, the predictive check of every target
and the generations. One self-contained page, like a run's report."""

from __future__ import annotations

import html
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from flowsim._version import __version__
from flowsim.report import GENERATOR, STYLE, embed_figure

from .adjustment import posterior_sample
from .model import prior_distribution
from .spec import Calibration

__all__ = ["render_calibration_report"]

POSTERIOR_COLOUR = "#1f77b4"
PRIOR_COLOUR = "#7f7f7f"
HELD_OUT_COLOUR = "#d62728"


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _number(value: float) -> str:
    return "n/a" if value is None or not np.isfinite(value) else f"{value:,.4g}"


def _marginals(calibration: Calibration, last: pd.DataFrame) -> Figure:
    count = len(calibration.parameters)
    columns = min(count, 3)
    rows = -(-count // columns)
    fig = Figure(figsize=(4.2 * columns, 3.0 * rows))
    for k, parameter in enumerate(calibration.parameters):
        ax = fig.add_subplot(rows, columns, k + 1)
        values = last[parameter.name].to_numpy(float)
        prior = prior_distribution(parameter)
        low, high = prior.ppf([0.005, 0.995])
        low, high = min(low, values.min()), max(high, values.max())
        ax.hist(
            values,
            bins=30,
            range=(low, high),
            weights=last["weight"],
            density=True,
            color=POSTERIOR_COLOUR,
            alpha=0.7,
            label="posterior",
        )
        grid = np.linspace(low, high, 200)
        ax.plot(grid, prior.pdf(grid), color=PRIOR_COLOUR, lw=1.5, label="prior")
        ax.set_title(parameter.name, fontsize=10)
        ax.set_yticks([])
        if k == 0:
            ax.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    return fig


def _pairs(calibration: Calibration, last: pd.DataFrame) -> Figure | None:
    names = [p.name for p in calibration.parameters]
    if len(names) < 2:
        return None
    size = len(names)
    fig = Figure(figsize=(2.2 * size, 2.2 * size))
    weights = last["weight"].to_numpy(float)
    marker = 4 + 40 * weights / weights.max()
    for i, y in enumerate(names):
        for j, x in enumerate(names):
            ax = fig.add_subplot(size, size, i * size + j + 1)
            if i == j:
                ax.hist(last[x], bins=20, weights=weights, color=POSTERIOR_COLOUR, alpha=0.7)
                ax.set_yticks([])
            else:
                ax.scatter(
                    last[x],
                    last[y],
                    s=marker,
                    color=POSTERIOR_COLOUR,
                    alpha=0.4,
                    lw=0,
                    rasterized=True,  # points as one image: a page of hundreds of them stays small
                )
            if i == size - 1:
                ax.set_xlabel(x, fontsize=8)
            else:
                ax.set_xticklabels([])
            if j == 0 and i != j:
                ax.set_ylabel(y, fontsize=8)
            elif i != j:
                ax.set_yticklabels([])
            ax.tick_params(labelsize=7)
    fig.tight_layout()
    return fig


def _predictive(predictive: pd.DataFrame) -> Figure:
    """Each target, standardised by its sd: the simulated 90% interval, the interval
    the observation should fall in, and the observation at 0."""
    fig = Figure(figsize=(7.5, 0.5 * len(predictive) + 1.2))
    ax = fig.add_subplot(1, 1, 1)
    for k, row in enumerate(predictive.itertuples()):
        y = len(predictive) - 1 - k
        scale = row.sd
        colour = HELD_OUT_COLOUR if row.held_out else POSTERIOR_COLOUR
        ax.plot(
            [
                (row.observable_q05 - row.observed) / scale,
                (row.observable_q95 - row.observed) / scale,
            ],
            [y, y],
            color=colour,
            lw=1,
            alpha=0.5,
        )
        ax.plot(
            [(row.q05 - row.observed) / scale, (row.q95 - row.observed) / scale],
            [y, y],
            color=colour,
            lw=5,
            alpha=0.8,
            solid_capstyle="butt",
        )
        ax.plot([(row.median - row.observed) / scale], [y], "o", color="white", ms=4, mec=colour)
    ax.axvline(0, color="black", lw=1)
    labels = [f"{r.target}{' (held out)' if r.held_out else ''}" for r in predictive.itertuples()]
    ax.set_yticks(range(len(predictive)))
    ax.set_yticklabels(list(reversed(labels)), fontsize=8)
    ax.set_xlabel("simulated minus observed, in the target's sd")
    ax.set_ylim(-0.7, len(predictive) - 0.3)
    fig.tight_layout()
    return fig


def _table(frame: pd.DataFrame, columns: dict[str, str], text: tuple[str, ...] = ()) -> str:
    head = "".join(
        f'<th class="{"text" if c in text else ""}">{_e(label)}</th>'
        for c, label in columns.items()
    )
    body = []
    for row in frame.to_dict("records"):
        cells = []
        for column in columns:
            value = row[column]
            if isinstance(value, (bool, np.bool_)):
                shown = "yes" if value else "no"
            elif isinstance(value, (int, float, np.floating, np.integer)):
                shown = _number(float(value))
            else:
                shown = "" if value is None else str(value)
            cells.append(f'<td class="{"text" if column in text else ""}">{_e(shown)}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def _tolerance_effect(summary: dict[str, Any]) -> str:
    factor = _number(summary.get("kernel_sd_factor"))
    if summary.get("adjustment") == "local_linear":
        return (
            ", its particles adjusted by local-linear regression on their targets (unadjusted, "
            f"the tolerance would widen each fitted target's sd by a factor {factor}); the "
            "last generation moved the posterior by "
            f"{_number(summary.get('final_shift_se'))} standard errors of chance"
        )
    return f", which widens each fitted target's sd by a factor {factor}"


def render_calibration_report(
    calibration: Calibration,
    summary: dict[str, Any],
    particles: pd.DataFrame,
    generations: pd.DataFrame,
    posterior: pd.DataFrame,
    predictive: pd.DataFrame,
    prior_sample: pd.DataFrame,
) -> str:
    names = [p.name for p in calibration.parameters]
    last = posterior_sample(
        particles[particles["generation"] == particles["generation"].max()], names
    )
    settings = calibration.calibration
    warnings = summary["warnings"]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        GENERATOR,
        f"<title>Calibration: {_e(settings.name)}</title><style>{STYLE}</style></head><body>",
        f"<h1>Calibration of {_e(summary['scenario'])}</h1>",
        f'<p class="meta">{_e(settings.description)}</p>' if settings.description else "",
        f'<p class="meta">ABC-SMC, {summary["population"]} particles in the last of '
        f"{summary['generations']} generations, stopped on its {_e(summary['stop'])}; "
        "final tolerance "
        f"{_number(summary['final_tolerance'])} (target {_number(summary['min_tolerance'])})"
        + _tolerance_effect(summary)
        + "; "
        f"{summary['simulations_run']:,} simulations in {summary['wall_seconds']:,.0f} s; "
        f"seed {summary['seed']}; flowsim {_e(__version__)}.</p>",
        "<h2>Warnings</h2>",
        "<ul>" + "".join(f"<li>{_e(w)}</li>" for w in warnings) + "</ul>"
        if warnings
        else "<p>None: every parameter is constrained, every target lies inside its "
        "predictive interval, and the calibration reached its tolerance or settled.</p>",
        "<h2>Parameters</h2>",
        "<p>Posterior median and 90% credible interval against the prior's. The width ratio "
        "is the posterior interval's width over the prior's: near 1, the targets say little "
        "about the parameter.</p>",
        _table(
            posterior,
            {
                "parameter": "parameter",
                "key": "key",
                "median": "median",
                "q05": "5%",
                "q95": "95%",
                "prior": "prior",
                "prior_q05": "prior 5%",
                "prior_q95": "prior 95%",
                "width_ratio": "width ratio",
                "constrained": "constrained",
                "most_sensitive_target": "most sensitive target",
            },
            text=("parameter", "key", "prior", "most_sensitive_target"),
        ),
        embed_figure(_marginals(calibration, last), "Posterior (bars) against prior (line)"),
    ]
    pairs = _pairs(calibration, last)
    if pairs is not None:
        parts.append(embed_figure(pairs, "Pairs of parameters in the last generation"))
    parts += [
        "<h2>Predictive check</h2>",
        f"<p>{calibration.method.predictive_draws} draws from the posterior, each simulated "
        "afresh. Thick bar: the simulated 90% interval; thin line: with the observation's own "
        "error, the interval the published figure should fall in. Held-out targets (red) were "
        "never fitted: they test the calibration.</p>",
        embed_figure(_predictive(predictive), "Targets: simulated against observed"),
        _table(
            predictive,
            {
                "target": "target",
                "held_out": "held out",
                "observed": "observed",
                "sd": "sd",
                "median": "simulated median",
                "q05": "5%",
                "q95": "95%",
                "observable_q05": "observable 5%",
                "observable_q95": "observable 95%",
                "inside_90": "inside",
                "source": "source",
            },
            text=("target", "source"),
        ),
        "<h2>Generations</h2>",
        _table(
            generations,
            {
                "generation": "generation",
                "tolerance": "tolerance",
                "accepted": "accepted",
                "simulations": "simulations",
                "acceptance_rate": "acceptance rate",
                "ess": "effective sample size",
                "shift_se": "moved (standard errors)",
                "seconds": "seconds",
            },
        ),
        f'<p class="meta">Prior sample: {len(prior_sample)} simulations, used for the '
        "sensitivity of each target to each parameter.</p>",
        "</body></html>",
    ]
    return "\n".join(p for p in parts if p)
