"""The measurements printed after the per-size table.

- shipment: shipment mode against per-lot mode, in speed and in the exports
  they produce;
- scaling: a sweep of the same runs on one and on two worker processes;
- ciw: flowsim against Ciw on a chain both can express;
- held: lots that every partner refuses, held at the mine, against the same lots flowing.

Each ``measure_*`` runs in a fresh process (``python -m benchmarks --one ...``)
and returns one JSON record; ``report`` prints a record with PASS or FAIL
against the targets of docs/performance.md.
"""

from __future__ import annotations

import gc
import os
import resource
import statistics
import time
from typing import Any

import numpy as np
import pandas as pd

from benchmarks.networks import SIZES, Chain, Size, chain_scenario, scenario

SECTIONS = (
    "shipment",
    "scaling",
    "ciw",
    "held",
    "real_model",
    "user_wait",
    "sweep_read",
    "sweep_memory",
)

# Targets (docs/performance.md). Those of shipment and scaling are stated for size M.
SHIPMENT_SPEEDUP = 10.0
PARTNER_TOTAL_TOLERANCE = 0.01
MONTHLY_TOLERANCE = 0.05
SCALING_SPEEDUP = 1.8
CIW_RATIO = 3.0
HELD_RATIO = 1.5  # held lots cost at most this much more than the same lots flowing
HELD_GROWTH = 1.15  # per-lot cost of held runs, two years against one
# The two chain models must agree this closely for their speeds to be comparable.
AGREEMENT_TOLERANCE = 0.03


def _peak_rss_mb(who: int = resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


# --- shipment mode against per-lot mode ------------------------------------------------


def measure_shipment(size: Size, replications: int, seed: int = 0) -> dict[str, Any]:
    """Replication k of each mode, alternately, so that both meet the same load on
    a shared machine; only the monthly exports of each are kept, so that memory
    holds one replication at a time. Per-lot mode also runs on the next
    replications, whose difference from the first shows what chance alone gives."""
    from flowsim.simulation import simulate

    name = f"shipment_{size.name}"
    per_lot = scenario(size)
    coarse = scenario(size, "shipment")
    # "lot, other seeds": per-lot mode again on the next replications, to show how far
    # two sets of means lie apart by chance alone (the floor of any agreement).
    modes = ("lot", "shipment", "lot, other seeds")
    seconds: dict[str, list[float]] = {mode: [] for mode in modes}
    lots: dict[str, list[int]] = {mode: [] for mode in modes}
    monthly: dict[str, list[pd.DataFrame]] = {mode: [] for mode in modes}
    for k in range(replications):
        plan = (
            ("lot", per_lot, k),
            ("shipment", coarse, k),
            ("lot, other seeds", per_lot, replications + k),
        )
        for mode, chosen, replication in plan:
            gc.collect()
            results = simulate(chosen, seed=seed, first_replication=replication)
            run = results.runs.iloc[0]
            # The engine's run and the conversion of its buffers to frames, this
            # replication only: simulate()'s tables and checks come after it.
            seconds[mode].append(float(run["wall_seconds"]))
            lots[mode].append(int(run["lots"]))
            table = results.exports_monthly[["month", "partner", "kg"]]
            monthly[mode].append(table.assign(replication=k))
            del results, table
    lot_seconds = statistics.median(seconds["lot"])
    shipment_seconds = statistics.median(seconds["shipment"])
    return {
        "name": name,
        "size": size.name,
        "collection_days": coarse.simulation.collection_days,
        "batch_days": coarse.simulation.batch_days,
        "replications": replications,
        "seed": seed,
        "lot_seconds": lot_seconds,
        "shipment_seconds": shipment_seconds,
        "speedup": lot_seconds / shipment_seconds,
        "lots_lot_mode": statistics.mean(lots["lot"]),
        "lots_shipment_mode": statistics.mean(lots["shipment"]),
        **agreement(pd.concat(monthly["lot"]), pd.concat(monthly["shipment"])),
        **{
            f"chance_{key}": value
            for key, value in agreement(
                pd.concat(monthly["lot"]), pd.concat(monthly["lot, other seeds"])
            ).items()
            if key.endswith("rel_diff")
        },
        "peak_rss_mb": _peak_rss_mb(),
    }


def agreement(lot: pd.DataFrame, shipment: pd.DataFrame) -> dict[str, float]:
    """How far the mean exports of the two modes lie apart, relative to per-lot mode.

    Both tables have ``replication``, ``month``, ``partner`` and ``kg``. Monthly
    figures leave out the first and the last month, which shipments cut at the
    calendar's ends. ``monthly_noise_rel_se`` is the typical relative standard
    error of a partner-month's difference (median over partner-months): the
    size a difference would have from chance alone.
    """
    months = sorted(lot["month"].unique())
    inner = months[1:-1]

    def per_replication(table: pd.DataFrame, keys: list[str], inner_only: bool) -> pd.Series:
        rows = table[table["month"].isin(inner)] if inner_only else table
        return rows.groupby(["replication", *keys])["kg"].sum()

    def means(table: pd.DataFrame, keys: list[str], inner_only: bool) -> pd.Series:
        return per_replication(table, keys, inner_only).groupby(level=keys).mean()

    by_partner = [means(t, ["partner"], False) for t in (lot, shipment)]
    by_cell = [means(t, ["partner", "month"], True) for t in (lot, shipment)]
    by_month = [means(t, ["month"], True) for t in (lot, shipment)]
    spread = [
        per_replication(t, ["partner", "month"], True).groupby(level=["partner", "month"])
        for t in (lot, shipment)
    ]
    n = lot["replication"].nunique()
    if n > 1:
        variance = spread[0].var() / n + spread[1].var() / n
        noise = float((np.sqrt(variance) / by_cell[0]).median())
    else:
        noise = float("nan")
    return {
        "exports_kg_lot": float(by_partner[0].sum()),
        "exports_kg_shipment": float(by_partner[1].sum()),
        "partner_total_max_rel_diff": max_rel_diff(*by_partner),
        "monthly_max_rel_diff": max_rel_diff(*by_cell),
        "monthly_total_max_rel_diff": max_rel_diff(*by_month),
        "monthly_noise_rel_se": noise,
    }


def max_rel_diff(reference: pd.Series, other: pd.Series) -> float:
    """max |other - reference| / reference over the cells of either; a cell that is
    zero in the reference counts 0 if zero in the other too, else infinity."""
    reference, other = reference.align(other, fill_value=0.0)
    gap = (other - reference).abs().to_numpy(dtype=float)
    base = reference.abs().to_numpy(dtype=float)
    rel = np.divide(gap, base, out=np.where(gap > 0, np.inf, 0.0), where=base > 0)
    return float(rel.max()) if rel.size else 0.0


# --- a sweep on one and on two workers ---------------------------------------------------


def sweep_run(item: tuple[str, int]) -> dict[str, Any]:
    """One run of the sweep, in a worker, doing what a sweep's run does
    (flowsim.sweep.execute) but write its small Parquet part: simulate, then the
    metrics table. The scenario is built here from the size's name, so that
    nothing but two plain values crosses between processes."""
    from flowsim.simulation import simulate

    size_name, k = item
    results = simulate(scenario(SIZES[size_name]), seed=0, first_replication=k)
    metrics = results.metrics()
    exported = metrics.loc[metrics["metric"] == "totals_kg.exported", "value"].sum()
    del results, metrics
    return {
        "run": k,
        "exported_kg": float(exported),
        "pid": os.getpid(),
        "rss_mb": _rss_mb(),  # after the run is dropped: flat if nothing piles up
    }


def _rss_mb() -> float:
    """This process's resident memory now (Linux), or its peak where /proc is absent."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return _peak_rss_mb()


def worker_ready(_item: int) -> int:
    """What a worker does before its first run: start, and import flowsim."""
    import flowsim.simulation  # noqa: F401

    return os.getpid()


def measure_scaling(size: Size, runs: int) -> dict[str, Any]:
    """The same runs through flowsim's process pool (spawned workers, as
    ``flowsim sweep --workers 2`` uses) with one worker, then with two: one
    worker runs in a pool too, so that the two differ in nothing but the count.
    The pool's start (spawning workers, importing flowsim) is timed apart too:
    it is the fixed cost that small sweeps cannot spread."""
    from flowsim.executors import available_cores, pool_executor

    items = [(size.name, k) for k in range(runs)]
    load = os.getloadavg()[0]
    seconds: dict[int, float] = {}
    start: dict[int, float] = {}
    exported: dict[int, list[tuple[int, float]]] = {}
    for workers in (1, 2):
        started = time.perf_counter()
        list(pool_executor(workers)(worker_ready, list(range(workers))))
        start[workers] = time.perf_counter() - started
        started = time.perf_counter()
        done = list(pool_executor(workers)(sweep_run, items))
        seconds[workers] = time.perf_counter() - started
        exported[workers] = sorted((d["run"], d["exported_kg"]) for d in done)
        if workers == 1:  # one worker ran every run, in order
            rss_by_run = [d["rss_mb"] for d in sorted(done, key=lambda d: d["run"])]
    return {
        "name": f"scaling_{size.name}",
        "size": size.name,
        "runs": runs,
        "seconds_1_worker": seconds[1],
        "seconds_2_workers": seconds[2],
        "speedup": seconds[1] / seconds[2],
        "pool_start_seconds_1_worker": start[1],
        "pool_start_seconds_2_workers": start[2],
        "same_results": exported[1] == exported[2],
        "cpu_count": os.cpu_count(),
        "available_cores": available_cores(),
        "load_average_before": load,
        "peak_rss_mb": _peak_rss_mb(),
        "worker_peak_rss_mb": _peak_rss_mb(resource.RUSAGE_CHILDREN),
        "worker_rss_mb_after_each_run": rss_by_run,
    }


# --- flowsim against Ciw ---------------------------------------------------------------


def measure_ciw(chain: Chain, repetitions: int) -> dict[str, Any]:
    """Both models of the chain alternate in this process, each repetition with its
    own seed, and the best lots/s of each is kept, as the per-size table does
    with the bare-SimPy reference. Timed: flowsim's engine run (which fills its
    ledger) and Ciw's simulation (which fills its records); each model's figures
    are read afterwards, untimed, and summed over the repetitions, so that the
    check that both run the same chain is not left to the chance of one run."""
    from benchmarks import peers
    from flowsim.engine import make_engine
    from flowsim.network import Network
    from flowsim.simulation import simulate

    chosen = chain_scenario(chain)
    network = Network.build(chosen)
    days = float(chosen.days)
    rates: dict[str, list[float]] = {"flowsim": [], "ciw": []}
    seconds: dict[str, list[float]] = {"flowsim": [], "ciw": []}
    figures: dict[str, list[dict[str, float]]] = {"flowsim": [], "ciw": []}
    for k in range(repetitions):
        gc.collect()
        started = time.perf_counter()
        out = make_engine(network, np.random.default_rng(k)).run()
        seconds["flowsim"].append(time.perf_counter() - started)
        figures["flowsim"].append(chain_figures(out))
        del out
        model = peers.ciw_network(chain)
        gc.collect()
        started = time.perf_counter()
        simulation = peers.ciw_run(model, days, seed=k)
        seconds["ciw"].append(time.perf_counter() - started)
        figures["ciw"].append(peers.ciw_figures(simulation))
        del simulation, model
    for who in rates:
        rates[who] = [f["arrived"] / t for f, t in zip(figures[who], seconds[who], strict=True)]
    gc.collect()
    started = time.perf_counter()
    simulate(chosen, seed=0)
    simulate_seconds = time.perf_counter() - started

    def total(who: str, key: str) -> int:
        return int(sum(f[key] for f in figures[who]))

    def mean_days(who: str) -> float:
        weighted = sum(f["mean_days_in_chain"] * f["completed"] for f in figures[who])
        return weighted / total(who, "completed")

    completed = {who: total(who, "completed") for who in rates}
    return {
        "name": "ciw_chain",
        "chain": chain.name,
        "lots_per_day": chain.lots_per_day,
        "days": days,
        "servers": chain.servers,
        "repetitions": repetitions,
        "lots": round(total("flowsim", "arrived") / repetitions),
        "ciw_version": peers.ciw_version(),
        "flowsim_seconds": min(seconds["flowsim"]),
        "ciw_seconds": min(seconds["ciw"]),
        "flowsim_lots_per_s": max(rates["flowsim"]),
        "ciw_lots_per_s": max(rates["ciw"]),
        "ratio": max(rates["flowsim"]) / max(rates["ciw"]),
        "flowsim_simulate_seconds": simulate_seconds,
        "flowsim_arrived_total": total("flowsim", "arrived"),
        "ciw_arrived_total": total("ciw", "arrived"),
        "flowsim_completed_total": completed["flowsim"],
        "ciw_completed_total": completed["ciw"],
        "completed_rel_diff": abs(completed["flowsim"] - completed["ciw"]) / completed["ciw"],
        "flowsim_mean_days_in_chain": mean_days("flowsim"),
        "ciw_mean_days_in_chain": mean_days("ciw"),
        "theory_mean_days_in_chain": chain.mean_days_in_chain,
        "peak_rss_mb": _peak_rss_mb(),
    }


def chain_figures(out: Any) -> dict[str, float]:
    """From an engine's ledger: lots produced, lots exported, and their mean time
    from production to export in days (Ciw's arrival to exit)."""
    from flowsim.ledger import EXPORTED, PRODUCED

    ledger = out.ledger  # typed arrays: numpy reads each in its own type
    event = ledger.codes()[0]
    lot, day = np.asarray(ledger.lot), np.asarray(ledger.day)
    produced = np.full(out.lots, np.nan)
    made = event == PRODUCED
    produced[lot[made]] = day[made]
    sold = event == EXPORTED
    sojourns = day[sold] - produced[lot[sold]]
    return {
        "arrived": int(made.sum()),
        "completed": int(sold.sum()),
        "mean_days_in_chain": float(sojourns.mean()) if sojourns.size else float("nan"),
    }


# --- held lots against flowing lots -----------------------------------------------------


def measure_held(years: int, repetitions: int) -> dict[str, Any]:
    """Held and flowing runs of the same lots, alternately, best time of each; then a
    held run of half the calendar, to show how its cost per lot grows with the days."""
    from benchmarks.networks import held_scenario
    from flowsim.engine import make_engine
    from flowsim.network import Network

    cases = {
        "held": (years, True),
        "flowing": (years, False),
        "held_half": (max(1, years // 2), True),
    }
    networks = {name: Network.build(held_scenario(*case)) for name, case in cases.items()}
    seconds: dict[str, list[float]] = {name: [] for name in cases}
    lots: dict[str, int] = {}
    in_stock: dict[str, float] = {}
    for k in range(repetitions):
        for name, network in networks.items():
            gc.collect()
            started = time.perf_counter()
            out = make_engine(network, np.random.default_rng(k)).run()
            seconds[name].append(time.perf_counter() - started)
            lots[name] = out.lots
            in_stock[name] = sum(out.stock_kg_by_node)
    best = {name: min(values) for name, values in seconds.items()}
    per_lot = {name: best[name] / lots[name] for name in cases}
    return {
        "name": f"held_{years}y",
        "years": years,
        "half_years": cases["held_half"][0],
        "repetitions": repetitions,
        "lots": lots,
        "seconds": best,
        "held_share_in_stock": in_stock["held"] / (lots["held"] * 1.0),
        "ratio_held_to_flowing": best["held"] / best["flowing"],
        "per_lot_growth": per_lot["held"] / per_lot["held_half"],
    }


# --- printing --------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def report(record: dict[str, Any]) -> list[str]:
    """The lines that show one section's record."""
    if "error" in record:
        return [f"  not measured: {record['error']}"]
    name = record["name"]
    if name.startswith("shipment_"):
        return _report_shipment(record)
    if name.startswith("scaling_"):
        return _report_scaling(record)
    if name.startswith("held_"):
        return _report_held(record)
    return _report_ciw(record)


def _pct(x: float) -> str:
    return f"{100 * x:.2f}%"


def _report_shipment(r: dict[str, Any]) -> list[str]:
    note = "" if r["size"] == "M" else " (the targets are for size M)"
    lines = [
        f"  {r['replications']} replications each{note}",
        f"  per-lot mode   {r['lot_seconds']:8.2f} s/replication   "
        f"{r['lots_lot_mode']:>11,.0f} lots",
        f"  shipment mode  {r['shipment_seconds']:8.2f} s/replication   "
        f"{r['lots_shipment_mode']:>11,.0f} lots",
        f"  speedup {r['speedup']:.2f} (target >= {SHIPMENT_SPEEDUP:g}): "
        f"{verdict(r['speedup'] >= SHIPMENT_SPEEDUP)}",
        f"  exports by partner, max relative difference {_pct(r['partner_total_max_rel_diff'])} "
        f"(target <= {_pct(PARTNER_TOTAL_TOLERANCE)}): "
        f"{verdict(r['partner_total_max_rel_diff'] <= PARTNER_TOTAL_TOLERANCE)}",
        f"  monthly exports, first and last month left out, max relative difference "
        f"{_pct(r['monthly_total_max_rel_diff'])} (target <= {_pct(MONTHLY_TOLERANCE)}): "
        f"{verdict(r['monthly_total_max_rel_diff'] <= MONTHLY_TOLERANCE)}",
        f"  the same by partner and month: {_pct(r['monthly_max_rel_diff'])} "
        f"(<= {_pct(MONTHLY_TOLERANCE)}: "
        f"{verdict(r['monthly_max_rel_diff'] <= MONTHLY_TOLERANCE)}); chance alone gives "
        f"a partner-month's difference a relative standard error of "
        f"{_pct(r['monthly_noise_rel_se'])} (median)",
        f"  chance alone, measured: per-lot mode against itself on {r['replications']} other "
        f"seeds differs by {_pct(r['chance_partner_total_max_rel_diff'])} by partner, "
        f"{_pct(r['chance_monthly_total_max_rel_diff'])} by month and "
        f"{_pct(r['chance_monthly_max_rel_diff'])} by partner and month",
    ]
    return lines


def _report_scaling(r: dict[str, Any]) -> list[str]:
    note = "" if r["size"] == "M" else " (the target is for size M)"
    net = (r["seconds_1_worker"] - r["pool_start_seconds_1_worker"]) / (
        r["seconds_2_workers"] - r["pool_start_seconds_2_workers"]
    )
    return [
        f"  {r['runs']} runs of size {r['size']}{note}; cpu_count {r['cpu_count']}, cores "
        f"available {r['available_cores']}, load average before {r['load_average_before']:.2f}",
        f"  1 worker  {r['seconds_1_worker']:8.2f} s",
        f"  2 workers {r['seconds_2_workers']:8.2f} s",
        f"  speedup {r['speedup']:.2f} (target >= {SCALING_SPEEDUP:g}): "
        f"{verdict(r['speedup'] >= SCALING_SPEEDUP)}",
        f"  a pool's start alone (spawn, import flowsim), timed apart: "
        f"{r['pool_start_seconds_1_worker']:.2f} s with 1 worker, "
        f"{r['pool_start_seconds_2_workers']:.2f} s with 2; speedup without it {net:.2f}",
        f"  same exports on 1 and 2 workers: {'yes' if r['same_results'] else 'NO'}; "
        f"peak RSS {r['peak_rss_mb']:.0f} MB here, {r['worker_peak_rss_mb']:.0f} MB in a worker",
        "  resident memory of the single worker after each run: "
        + ", ".join(f"{mb:.0f}" for mb in r["worker_rss_mb_after_each_run"])
        + " MB",
    ]


def _report_ciw(r: dict[str, Any]) -> list[str]:
    agrees = r["completed_rel_diff"] <= AGREEMENT_TOLERANCE
    return [
        f"  chain {r['chain']!r}: {r['lots_per_day']:g} lots/day for {r['days']:g} days, "
        f"{r['servers']} servers at buyer and refiner, {r['repetitions']} repetitions; "
        f"Ciw {r['ciw_version']}",
        f"  flowsim {r['flowsim_seconds']:8.2f} s {r['flowsim_lots_per_s']:>9,.0f} lots/s "
        f"(engine; the whole simulate() {r['flowsim_simulate_seconds']:.2f} s)",
        f"  Ciw     {r['ciw_seconds']:8.2f} s {r['ciw_lots_per_s']:>9,.0f} lots/s",
        f"  ratio flowsim/Ciw {r['ratio']:.2f} (target >= {CIW_RATIO:g}): "
        f"{verdict(r['ratio'] >= CIW_RATIO)}",
        f"  same throughput? lots completed, all repetitions: {r['flowsim_completed_total']:,} "
        f"vs {r['ciw_completed_total']:,} ({_pct(r['completed_rel_diff'])}; within "
        f"{_pct(AGREEMENT_TOLERANCE)}: {verdict(agrees)})",
        f"  mean days from arrival to export: {r['flowsim_mean_days_in_chain']:.3f} vs "
        f"{r['ciw_mean_days_in_chain']:.3f} (M/M/c theory {r['theory_mean_days_in_chain']:.3f})",
    ]


def _report_held(r: dict[str, Any]) -> list[str]:
    lots, seconds = r["lots"], r["seconds"]
    return [
        f"  {lots['held']:,} lots over {r['years']} years, {r['repetitions']} repetitions; "
        "both partners refuse every lot from the first day",
        f"  held    {seconds['held']:8.2f} s   (every lot held at the mine to the end)",
        f"  flowing {seconds['flowing']:8.2f} s   (the same lots, the sanction off)",
        f"  ratio held/flowing {r['ratio_held_to_flowing']:.2f} (target <= {HELD_RATIO:g}): "
        f"{verdict(r['ratio_held_to_flowing'] <= HELD_RATIO)}",
        f"  cost per held lot, {r['years']} years against {r['half_years']}: "
        f"x{r['per_lot_growth']:.2f} (target <= {HELD_GROWTH:g}, linear in the calendar): "
        f"{verdict(r['per_lot_growth'] <= HELD_GROWTH)}",
    ]
