"""Results of a run: its tables, with the mass balance and the summary on top.

One :class:`Results` holds what :func:`flowsim.simulate` produced. The tidy tables
are computed by :mod:`flowsim.tables` (and cached here), the mass balance by
:mod:`flowsim.balance`, the summary and the metrics by :mod:`flowsim.summary`;
the run folder that :meth:`Results.save` writes and :meth:`Results.load` reads is
:mod:`flowsim.runfolder`.
"""

from __future__ import annotations

import copy
import html
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from flowsim import balance as _balance
from flowsim import expectations as _expectations
from flowsim import summary as _summary
from flowsim import tables as _tables
from flowsim import trade as _trade
from flowsim.contract import SUMMARY_FORMAT_VERSION, SUMMARY_TOTALS, Expectation
from flowsim.errors import FlowsimError
from flowsim.intervals import metric_intervals
from flowsim.runfolder import FIGURES, REPORT, empty_table, load_run, save_run
from flowsim.runmeta import RunMeta

__all__ = ["FORMAT_VERSION", "SUMMARY_TOTALS", "Results"]

FORMAT_VERSION = SUMMARY_FORMAT_VERSION  # of summary.json


class Results:
    """Everything one call of :func:`flowsim.simulate` produced.

    Tables are pandas DataFrames in long ("tidy") form with a ``replication``
    column. ``meta`` (:class:`~flowsim.runmeta.RunMeta`) holds the scenario's name,
    calendar, seed and versions.

    One rule tells an attribute from a method (docs/guide-notebooks.md): an attribute
    or property is a table of the run or a cheap fact about it, with no arguments;
    a table derived from the ledger is computed on first read and kept, so every
    read returns the same object (copy it before changing it). A method computes
    on each call and returns a new object, takes arguments, checks something, or
    touches files.
    """

    def __init__(
        self,
        *,
        ledger: pd.DataFrame,
        receipts: pd.DataFrame,
        melts: pd.DataFrame,
        nodes: pd.DataFrame,
        routes: pd.DataFrame,
        categories: pd.DataFrame,
        end_state: pd.DataFrame,
        runs: pd.DataFrame,
        meta: RunMeta | Mapping[str, Any],
        reserves: pd.DataFrame | None = None,
        prices_monthly: pd.DataFrame | None = None,
        rents_monthly: pd.DataFrame | None = None,
        schedules: pd.DataFrame | None = None,
        appetite_monthly: pd.DataFrame | None = None,
        trade_statistics: pd.DataFrame | None = None,
        diligence_monthly: pd.DataFrame | None = None,
    ):
        self.ledger = ledger
        self.receipts = receipts
        self.melts = melts
        self.categories = categories
        self.nodes = nodes
        self.routes = routes
        self.end_state = end_state
        self.runs = runs
        # Each reserve's level at the end of each month (docs/summary.md).
        self.reserves = reserves if reserves is not None else empty_table("reserves")
        # Each node's price and margin for a kg on the first of each month.
        self.prices_monthly = (
            prices_monthly if prices_monthly is not None else empty_table("prices_monthly")
        )
        # What each node earned in each month, with [simulation] rents = true.
        self.rents_monthly = (
            rents_monthly if rents_monthly is not None else empty_table("rents_monthly")
        )
        # Every scheduled rate where it changes (the routes table has its first value).
        self.schedules = schedules if schedules is not None else empty_table("schedules")
        # What was sent to each partner with an appetite in each month, against it.
        self.appetite_monthly = (
            appetite_monthly if appetite_monthly is not None else empty_table("appetite_monthly")
        )
        # What customs recorded, as UN Comtrade lays it out (with papers on lots).
        self.trade_statistics = (
            trade_statistics if trade_statistics is not None else empty_table("trade_statistics")
        )
        # What each partner's due diligence refused, and accepted unknowingly, by month.
        self.diligence_monthly = (
            diligence_monthly if diligence_monthly is not None else empty_table("diligence_monthly")
        )
        self.meta = meta if isinstance(meta, RunMeta) else RunMeta.from_json(meta)

    def __repr__(self) -> str:
        return (
            f"<Results {self.meta.scenario!r} seed={self.meta.seed} "
            f"replications={self.replications} rows={len(self.ledger)}>"
        )

    def _repr_html_(self) -> str:
        """The run in a notebook: what ran, the terms of the mass balance and the
        exports by partner, with 95% intervals from two replications on; text only
        (no figure), from the summary each run computes once."""
        return _summary_html(self._summary)

    # --- basics -------------------------------------------------------------------

    @property
    def replications(self) -> int:
        return self.meta.replications

    @property
    def start(self) -> pd.Timestamp:
        return pd.Timestamp(self.meta.start)

    @property
    def end(self) -> pd.Timestamp:
        return pd.Timestamp(self.meta.end)

    def _ids(self, kind: str) -> list[str]:
        return self.nodes.loc[self.nodes["kind"] == kind, "node"].tolist()

    @property
    def partners(self) -> list[str]:
        return self._ids("partner")

    @property
    def mines(self) -> list[str]:
        return self._ids("mine")

    @property
    def refiners(self) -> list[str]:
        return self._ids("refiner")

    # --- tidy tables (flowsim.tables) ---------------------------------------------

    @cached_property
    def exports_monthly(self) -> pd.DataFrame:
        """Exports by replication, month and partner, in kg and USD."""
        return _tables.exports_monthly(self)

    @cached_property
    def purchases_monthly(self) -> pd.DataFrame:
        """Per replication, month and buyer or refiner: kg bought (delivered into it)."""
        return _tables.purchases_monthly(self)

    @cached_property
    def production_monthly(self) -> pd.DataFrame:
        """Production by replication, month and mine, in kg."""
        return _tables.production_monthly(self)

    @cached_property
    def seizures(self) -> pd.DataFrame:
        """Every seizure: in transit (``route`` set) or from a node's stock (``node`` set)."""
        return _tables.seizures(self)

    @cached_property
    def exposure_monthly(self) -> pd.DataFrame:
        """Per replication, month and receiving node: what it received, and how much of
        it was exposed (:mod:`flowsim.provenance`)."""
        return _tables.exposure_monthly(self)

    @cached_property
    def exposure(self) -> pd.DataFrame:
        """Per replication and receiving node, over the whole run."""
        return _tables.exposure(self)

    @cached_property
    def exposure_by_destination(self) -> pd.DataFrame:
        """Per replication, partner and the first partner its gold reached (itself when
        it came straight from the source network): received and exposed, over the run."""
        return _tables.exposure_by_destination(self)

    @cached_property
    def mirror_gaps(self) -> pd.DataFrame:
        """Reported exports against partners' reported imports, and declared exports
        against production, by month (:mod:`flowsim.trade`)."""
        return _trade.mirror_gaps(self)

    @cached_property
    def stocks_monthly(self) -> pd.DataFrame:
        """Stock held at each mine, buyer and refiner at the end of each month, in kg."""
        return _tables.stocks_monthly(self)

    # --- mass balance (flowsim.balance) -------------------------------------------

    def balance(self) -> pd.DataFrame:
        """The mass balance of each replication, in kg (:func:`flowsim.balance.balance`)."""
        return _balance.balance(self)

    def check_balance(self) -> None:
        """Raise :class:`~flowsim.errors.MassBalanceError` if any replication's balance
        breaks, in total or node by node."""
        _balance.check_balance(self)

    # --- summary (flowsim.summary) ------------------------------------------------

    def totals_kg(self) -> pd.DataFrame:
        """Per replication: the terms of the balance, in kg."""
        return _summary.totals_kg(self)

    def exports_by_partner(self) -> pd.DataFrame:
        """Per replication and partner: kg and USD exported over the whole run."""
        return _summary.exports_by_partner(self)

    def figures_by_replication(self) -> list[dict[str, Any]]:
        """The summary figures of each replication, in the shape of ``summary.json``. A
        fresh copy each call, computed once: the summary, comparisons and the report's
        findings all read them."""
        return copy.deepcopy(self._figures)

    @cached_property
    def _figures(self) -> list[dict[str, Any]]:
        return _summary.figures_by_replication(self)

    def metrics(self, sections: Collection[str] | None = None) -> pd.DataFrame:
        """Every figure of every replication as a long table: ``replication``, ``metric``
        (dotted, e.g. ``exports_kg_by_partner.turkey``, and monthly exports as
        ``exports_kg_monthly.<partner>.<YYYY-MM>``) and ``value``; with ``sections``
        (first parts of metric names), only those."""
        return _summary.metrics(self, sections)

    def summary(self) -> dict[str, Any]:
        """The content of ``summary.json`` (docs/summary.md): means over replications,
        with ``sd`` and ``ci95`` at the same key paths. A fresh copy each call, made once:
        saving a run, its report and the command line all read it."""
        return copy.deepcopy(self._summary)

    @cached_property
    def _summary(self) -> dict[str, Any]:
        return _summary.summary(self, self._figures)

    def intervals(self, metrics: str | Iterable[str] | None = None) -> pd.DataFrame:
        """One row per metric (named as in :meth:`metrics`): ``replications``, ``mean``,
        ``sd`` and the 95% interval ``ci95_low``, ``ci95_high`` (NaN with one
        replication), the figures of :meth:`summary` as a table, monthly metrics
        included. ``metrics`` keeps only those names and the names under them, e.g.
        ``"totals_kg"`` or ``["exports_kg_by_partner.uae"]``
        (:func:`flowsim.metric_intervals`)."""
        if metrics is None:
            return metric_intervals(self.metrics())
        names = [metrics] if isinstance(metrics, str) else list(metrics)
        # Only the sections the names are in are computed: a run's figures are many.
        table = self.metrics({name.split(".", 1)[0] for name in names})
        if table.empty:  # no such section: the error names the metrics there are
            table = self.metrics()
        return metric_intervals(table, names)

    def evaluate_expectations(self, rules: Sequence[Expectation]) -> list[_expectations.Verdict]:
        """Judge ``[[expect]]`` rules (a scenario's ``expect``, as
        :func:`flowsim.load_scenario` reads them) on this run's replications, as
        ``flowsim run`` does: one verdict per rule, with ``passed``, ``mean``, ``ci95``
        and ``line()`` (docs/expectations.md)."""
        for rule in rules:
            if not isinstance(rule, Expectation):
                raise FlowsimError(
                    f"an expectation is an [[expect]] rule of a scenario (scenario.expect), "
                    f"not a {type(rule).__name__}"
                )
        table = self.metrics().assign(scenario=self.meta.scenario, point=0)
        return _expectations.evaluate(rules, table)

    # --- on disk (flowsim.runfolder) ----------------------------------------------

    def save(
        self,
        directory: str | Path,
        *,
        report: bool = False,
        figures: bool = False,
        png: bool = False,
        baseline: Results | None = None,
        outlines: str | Path | None = None,
        extras: Callable[[Path], None] | None = None,
    ) -> Path:
        """Write the run folder atomically and return its path. With ``report``, it holds
        ``report.html`` (against ``baseline``, if given); with ``figures``, the report's
        figures as SVG in ``figures/``, and with ``png`` as PNG beside them; the map of
        routes draws the country outlines of the GeoJSON file ``outlines``, if given.
        ``extras(folder)`` may add other files of flowsim's before the folder appears. An
        earlier run folder at ``directory`` is replaced; anything else there is refused."""
        if png and not figures:
            raise FlowsimError("png=True writes the report's figures as PNG: give figures=True")
        if not (report or figures):
            return save_run(self, directory, extras)
        # matplotlib, only for a folder that shows figures
        from flowsim.maps import read_outlines
        from flowsim.report import render_report, write_figures

        rings = read_outlines(outlines) if outlines is not None else None

        def add(folder: Path) -> None:
            drawn: list = []
            page = render_report(self, baseline, figures=drawn, outlines=rings)
            if report:
                (folder / REPORT).write_bytes(page.encode())
            if figures:
                write_figures(folder / FIGURES, drawn, png=png)
            if extras is not None:
                extras(folder)

        return save_run(self, directory, add)

    @classmethod
    def load(cls, directory: str | Path) -> Results:
        """Read a run folder written by :meth:`save`, verifying every file it reads."""
        tables, meta = load_run(directory)
        return cls(**tables, meta=meta)


def _summary_html(summary: Mapping[str, Any]) -> str:
    """A run's summary as a small HTML block; every name is escaped (names come from
    users' scenario files)."""
    e = html.escape
    intervals = summary["replications"] >= 2

    def table(title: str, section: str, names: Iterable[str]) -> str:
        head = "<th></th><th>kg</th>" + ("<th>95% interval</th>" if intervals else "")
        rows = []
        for name in names:
            cells = f"<th>{e(str(name))}</th><td>{summary[section][name]:,.1f}</td>"
            if intervals:
                low, high = summary["ci95"][section][name]
                cells += f"<td>[{low:,.1f}, {high:,.1f}]</td>"
            rows.append(f"<tr>{cells}</tr>")
        return (
            f"<table><caption>{e(title)}</caption><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>"
        )

    replications = summary["replications"]
    facts = (
        f"{e(summary['start'])} to {e(summary['end'])}, seed {e(str(summary['seed']))}, "
        f"{replications} replication{'s' if replications != 1 else ''}"
        + ("" if intervals else " (no intervals: they need two or more)")
    )
    partners = summary["exports_kg_by_partner"]
    return (
        '<div class="flowsim-results">'
        f"<p><strong>Results of {e(summary['scenario'])}</strong><br>{facts}</p>"
        + table("Mass balance over the run", "totals_kg", SUMMARY_TOTALS)
        + table("Exports by partner", "exports_kg_by_partner", partners)
        + "</div>"
    )
