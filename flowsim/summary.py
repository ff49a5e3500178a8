"""The figures of a run, by replication, as ``summary.json`` and as the metrics table.

:func:`figures_by_replication` gives each replication's figures in the shape of
``summary.json``; :func:`summary` pools them (mean, ``sd`` and ``ci95`` at the same
key path); :func:`metrics` flattens them to the long table that ``[[expect]]`` rules
and sweeps read, with the dotted names of :mod:`flowsim.contract`.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping
from functools import cache
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from flowsim.contract import (
    MONTHLY_METRICS,
    PAPERS_SECTIONS,
    RESERVE_METRIC,
    SUMMARY_FORMAT_VERSION,
    SUMMARY_TOTALS,
    metric_bounds,
)
from flowsim.papers import OUTCOMES
from flowsim.provenance import EXPOSURES
from flowsim.stats import aggregate, spread
from flowsim.trade import net_exports

if TYPE_CHECKING:
    from flowsim.results import Results

__all__ = ["exports_by_partner", "figures_by_replication", "metrics", "summary", "totals_kg"]


def totals_kg(results: Results) -> pd.DataFrame:
    """Per replication: the terms of the balance, in kg."""
    return results.balance()[["replication", *SUMMARY_TOTALS]]


def exports_by_partner(results: Results) -> pd.DataFrame:
    """Per replication and partner: kg and USD exported over the whole run."""
    return (
        results.exports_monthly.groupby(["replication", "partner"], sort=False)[["kg", "usd"]]
        .sum()
        .reset_index()
    )


def _scheduled_transport(results: Results, cost: pd.Series) -> pd.Series:
    """By replication: what the routes whose cost a schedule sets cost beyond their
    first-day cost, each shipment at the cost of the day it was sent."""
    schedules = results.schedules
    scheduled = schedules[schedules["quantity"] == "route_cost"]
    if scheduled.empty:
        return pd.Series(dtype=float)
    ledger = results.ledger
    routes = ledger["route"].astype(object)
    rows = ledger[(ledger["event"] == "shipped") & routes.isin(set(scheduled["id"]))]
    extra = pd.Series(0.0, index=rows.index)
    for route, steps in scheduled.groupby("id"):
        on = rows["route"].astype(object) == route
        days = rows.loc[on, "day"].to_numpy()
        k = np.searchsorted(steps["day"].to_numpy(), np.floor(days), side="right") - 1
        per_kg = steps["value"].to_numpy()[k] - cost[route]
        extra[on] = rows.loc[on, "kg"].to_numpy() * per_kg
    return extra.groupby(rows["replication"]).sum()


def figures_by_replication(
    results: Results, sections: Collection[str] | None = None
) -> list[dict[str, Any]]:
    """The summary figures of each replication, in the shape of ``summary.json``; of
    the named ``sections`` only, if given (a calibration reads a few figures of many
    runs)."""
    makers = _section_makers(results)
    chosen = [name for name in makers if sections is None or name in sections]
    # Each section's figures as a function of the replication, computed once.
    by_section = {name: makers[name]() for name in chosen}
    return [{name: by_section[name](k) for name in chosen} for k in range(results.replications)]


def _section_makers(results: Results) -> dict[str, Callable[[], Callable[[int], Any]]]:
    """For each section of ``summary.json``, in its order, what computes its figures."""
    partners, refiners = results.partners, results.refiners

    @cache
    def exports() -> tuple[dict, dict]:
        table = exports_by_partner(results).set_index(["replication", "partner"])
        return table["kg"].to_dict(), table["usd"].to_dict()

    @cache
    def exposure() -> dict:
        keep = ["received_kg", "received_usd"] + [
            f"{name}_{part}" for name in EXPOSURES for part in ("share", "kg", "usd")
        ]
        # Plain dictionaries first: looking up thousands of cells in DataFrames is slow.
        return dict(
            results.exposure.set_index(["replication", "node"])[keep]
            .to_dict(orient="index")
            .items()
        )

    @cache
    def papers() -> dict[str, Callable[[int], Any]]:
        return _papers_figures(results)

    def totals() -> Callable[[int], Any]:
        by = totals_kg(results).set_index("replication")[list(SUMMARY_TOTALS)]
        table = by.to_dict(orient="index")
        return lambda k: {t: float(v) for t, v in table[k].items()}

    def exports_kg() -> Callable[[int], Any]:
        kg = exports()[0]
        return lambda k: {p: float(kg[(k, p)]) for p in partners}

    def exports_usd() -> Callable[[int], Any]:
        usd = exports()[1]
        return lambda k: {p: float(usd[(k, p)]) for p in partners}

    def exports_usd_total() -> Callable[[int], Any]:
        usd = exports()[1]
        return lambda k: sum(float(usd[(k, p)]) for p in partners)

    def exposure_of(nodes: list[str]) -> Callable[[], Callable[[int], Any]]:
        def make() -> Callable[[int], Any]:
            table = exposure()
            return lambda k: {n: table[(k, n)] for n in nodes}

        return make

    def seized() -> Callable[[int], Any]:
        by = results.seizures.groupby(["replication", "seized_in"])["kg"].sum()
        return lambda k: {p: float(by.get((k, p), 0.0)) for p in ("transit", "stock")}

    def transport() -> Callable[[int], Any]:
        by_route = results.ledger.groupby(["replication", "event", "route"], observed=True)
        by_route = by_route["kg"].sum().reset_index()
        shipped = by_route[by_route["event"] == "shipped"]
        cost = results.routes.set_index("route")["cost_usd_per_kg"]
        paid = (
            (shipped["kg"] * cost.reindex(shipped["route"].astype(str)).to_numpy())
            .groupby(shipped["replication"])
            .sum()
        )
        paid = paid.add(_scheduled_transport(results, cost), fill_value=0.0)
        return lambda k: float(paid.get(k, 0.0))

    def fuel() -> Callable[[int], Any]:
        premium = results.runs.set_index("replication")["fuel_premium_usd"]
        return lambda k: float(premium.get(k, 0.0))

    def production() -> Callable[[int], Any]:
        monthly = results.production_monthly
        produced = monthly.groupby(["replication", "mine"])["kg"].sum().to_dict()
        return lambda k: {m: float(produced.get((k, m), 0.0)) for m in results.mines}

    def reserve_end() -> Callable[[int], Any]:
        reserves = results.reserves
        nodes = list(dict.fromkeys(reserves["node"].astype(str)))
        by = reserves.sort_values("month").groupby(["replication", "node"])["kg"].last()
        last = by.to_dict()
        return lambda k: {n: float(last.get((k, n), 0.0)) for n in nodes}

    def rents() -> Callable[[int], Any]:
        table = results.rents_monthly
        outside = set(partners)
        nodes = [n for n in results.nodes["node"] if n not in outside] if len(table) else []
        earned = table.groupby(["replication", "node"])["usd"].sum().to_dict()
        return lambda k: {n: float(earned.get((k, n), 0.0)) for n in nodes}

    def papers_section(name: str) -> Callable[[], Callable[[int], Any]]:
        return lambda: papers()[name]

    return {
        "totals_kg": totals,
        "exports_kg_by_partner": exports_kg,
        "exports_usd_by_partner": exports_usd,
        "exports_usd_total": exports_usd_total,
        "exposure_by_partner": exposure_of(partners),
        "exposure_by_refiner": exposure_of(refiners),
        "seized_kg_by_place": seized,
        "transport_cost_usd": transport,
        "black_market_fuel_premium_usd": fuel,
        "production_kg_by_mine": production,
        "reserve_kg_end_by_node": reserve_end,
        "rents_usd_by_node": rents,
        **{name: papers_section(name) for name in PAPERS_SECTIONS},
    }


def _papers_figures(results: Results) -> dict[str, Any]:
    """The headline figures of papers and customs, each a function of the replication.
    Their keys come from the scenario (what launders, which crossings are declared), so
    that every replication has the same; empty where the run's lots carried no papers."""
    if not results.meta.documents:
        return {section: lambda k: {} for section in PAPERS_SECTIONS}
    nodes, routes = results.nodes, results.routes
    launderers = nodes.loc[nodes["laundering_share"] > 0.0, "node"].tolist()
    where = nodes.set_index("node")["jurisdiction"]
    declared = routes[routes["declared"].notna()]
    out_of = declared["from_node"].map(where)
    into = declared["to_node"].map(where)
    exporters = sorted(set(out_of[declared["declared"].isin(["both", "export"])]))
    importers = sorted(set(into[declared["declared"].isin(["both", "import"])]))
    pair_names = sorted(
        set(
            out_of[declared["declared"] != "neither"]
            + "_to_"
            + into[declared["declared"] != "neither"]
        )
    )
    producers = sorted(set(exporters) | set(where[nodes.set_index("node")["kind"] == "mine"]))

    ledger = results.ledger
    rows = ledger[ledger["event"] == "laundered"]
    laundered = rows.groupby(["replication", "node"], observed=True)["kg"].sum().to_dict()
    diligence = results.diligence_monthly
    outcomes = diligence.groupby(["replication", "partner", "outcome"])["kg"].sum().to_dict()
    trade = results.trade_statistics
    by_way = {"exports": net_exports(trade), "imports": trade[trade["flowCode"] == "M"]}
    recorded = {
        (k, way, j): kg
        for way, rows in by_way.items()
        for (k, j), kg in rows.groupby(["replication", "reporterISO"])["netWgt"].sum().items()
    }
    gaps = results.mirror_gaps
    production = gaps[gaps["comparison"] == "production"]
    against = production.groupby(["replication", "jurisdiction"])["gap_kg"].sum().to_dict()
    pairs = gaps[gaps["comparison"] == "partner_imports"]
    names = pairs["jurisdiction"] + "_to_" + pairs["partner"].astype(str)
    pair_gap = pairs.groupby([pairs["replication"], names])["gap_kg"].sum().to_dict()
    partners = results.partners
    return {
        "laundered_kg_by_node": lambda k: {
            n: float(laundered.get((k, n), 0.0)) for n in launderers
        },
        "due_diligence_kg_by_partner": lambda k: {
            p: {o: float(outcomes.get((k, p, o), 0.0)) for o in OUTCOMES} for p in partners
        },
        "declared_exports_kg_by_jurisdiction": lambda k: {
            j: float(recorded.get((k, "exports", j), 0.0)) for j in exporters
        },
        "declared_imports_kg_by_jurisdiction": lambda k: {
            j: float(recorded.get((k, "imports", j), 0.0)) for j in importers
        },
        "declared_exports_less_production_kg_by_jurisdiction": lambda k: {
            j: float(against.get((k, j), 0.0)) for j in producers
        },
        "mirror_gap_kg_by_pair": lambda k: {
            n: float(pair_gap.get((k, n), 0.0)) for n in pair_names
        },
    }


def metrics(results: Results, sections: Collection[str] | None = None) -> pd.DataFrame:
    """Every figure of every replication as a long table: ``replication``, ``metric``
    (the key path in ``summary.json``, dotted, e.g. ``exports_kg_by_partner.turkey``)
    and ``value``; plus monthly exports as ``exports_kg_monthly.<partner>.<YYYY-MM>``
    and ``exports_usd_monthly...``, each buyer's and refiner's purchases as
    ``purchases_kg_monthly.<node>.<YYYY-MM>``, and each reserve's level at the end of each month as
    ``reserve_kg_end_of_month.<node>.<YYYY-MM>``. With ``sections`` (the first part of
    a metric's name), only those."""
    rows: list[tuple[int, str, float]] = []
    for k, figures in enumerate(figures_by_replication(results, sections)):
        rows.extend((k, name, value) for name, value in _flatten(figures))
    monthly_tables = {
        "exports_kg_monthly": (lambda: results.exports_monthly, "partner", "kg"),
        "exports_usd_monthly": (lambda: results.exports_monthly, "partner", "usd"),
        "purchases_kg_monthly": (lambda: results.purchases_monthly, "buyer", "kg"),
    }
    for section in MONTHLY_METRICS:
        if sections is not None and section not in sections:
            continue
        table_of, node, unit = monthly_tables[section]
        monthly = table_of()
        months = monthly["month"].dt.strftime("%Y-%m")
        names = section + "." + monthly[node].astype(str) + "." + months
        values = monthly[unit].astype(float)
        rows.extend(zip(monthly["replication"], names, values, strict=True))
    reserves = results.reserves
    if len(reserves) and (sections is None or RESERVE_METRIC in sections):
        names = (
            RESERVE_METRIC
            + "."
            + reserves["node"].astype(str)
            + "."
            + reserves["month"].dt.strftime("%Y-%m")
        )
        rows.extend(zip(reserves["replication"], names, reserves["kg"].astype(float), strict=True))
    return pd.DataFrame(rows, columns=["replication", "metric", "value"])


def summary(results: Results, figures: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The content of ``summary.json`` (docs/summary.md): every figure is the mean over
    replications, with its standard deviation under ``sd`` and its 95% confidence
    interval under ``ci95``, at the same key path, cut to the range the figure cannot
    leave (:func:`flowsim.contract.metric_bounds`). ``figures`` are the replications'
    figures, if already computed (:func:`figures_by_replication`)."""
    if figures is None:
        figures = figures_by_replication(results)
    means, sds, intervals = aggregate(figures, metric_bounds)
    meta = results.meta
    over_posterior = {}
    if meta.posterior is not None:
        draws = meta.posterior.draws
        over_posterior = {
            "posterior": {
                "calibration": meta.posterior.calibration,
                "folder": meta.posterior.folder,
                "draws": len(draws),
                "parameters": {
                    name: {
                        "key": key,
                        "mean": float(np.mean([d[name] for d in draws])),
                        "interval90": [
                            float(np.quantile([d[name] for d in draws], q)) for q in (0.05, 0.95)
                        ],
                    }
                    for name, key in meta.posterior.keys.items()
                },
            },
            "interval90": spread(figures),
        }
    return {
        "format_version": SUMMARY_FORMAT_VERSION,
        "scenario": meta.scenario,
        "description": meta.description,
        "seed": meta.seed,
        "replications": results.replications,
        "start": str(meta.start),
        "end": str(meta.end),
        "flowsim_version": meta.flowsim_version,
        "scenario_hash": meta.scenario_hash,
        **means,
        "policies": meta["policies"],
        "sd": sds,
        "ci95": intervals,
        **over_posterior,
    }


def _flatten(tree: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, float]]:
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            yield from _flatten(value, f"{name}.")
        else:
            yield name, float(value)
