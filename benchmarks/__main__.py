"""Measure flowsim against plain-SimPy references and its targets: `python -m benchmarks`.

First a table of sizes. Each size runs in a fresh process. Inside it the two
references, ``lean_simpy`` (benchmarks/lean.py, the leanest plain-SimPy model of
the schedule) and ``bare.py`` (the same model with a process per lot and numpy
draws), and flowsim's per-lot engine alternate, several repetitions each, and the
best time of each is kept: the ratio of two timings taken side by side holds on a
shared, noisy machine where absolute seconds do not. The peak RSS is that of one
``simulate()`` of the size, alone in another fresh process. The per-size targets
follow the table, with PASS or FAIL.

Then one section per further measurement (benchmarks/sections.py and
benchmarks/targets.py), each in a fresh process too, with PASS or FAIL against its
target: shipment mode against per-lot mode, a sweep on 1 and on 2 worker
processes, flowsim against Ciw on a chain both can express, held lots, a real
scenario's cost per lot, and what a user waits for as whole processes.

    python -m benchmarks                 # sizes S, M1, M and L, then every section at size M
    python -m benchmarks --quick         # size S, and each section on a small scale
    python -m benchmarks --skip scaling,ciw   # leave sections out (or "sizes")
    python -m benchmarks --json out.json # also write the records
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks import bare, lean, sections, sweepfiles, targets
from benchmarks.networks import CHAINS, QUICK, SIZES, scenario

# The sections of benchmarks/targets.py print their own records; sections.report the rest
# (and any record that holds an error).
REPORTS = {
    "real_model": targets.report_real_model,
    "user_wait": targets.report_user_wait,
    "sweep_read": sweepfiles.report_sweep_read,
    "sweep_memory": sweepfiles.report_sweep_memory,
}


def measure(size_name: str, repetitions: int) -> dict:
    """Run one size here and return its record."""
    from flowsim.engine import make_engine
    from flowsim.engine.simpy_adapter import events_scheduled
    from flowsim.network import Network
    from flowsim.simulation import simulate

    size = SIZES[size_name]
    built = scenario(size)
    network = Network.build(built)
    lean_seconds, bare_simpy_seconds, engine_seconds = [], [], []
    lots = events = bare_events = lean_events = 0
    for k in range(repetitions):
        gc.collect()
        started = time.perf_counter()
        reference = lean.run(size, seed=k)
        lean_seconds.append(time.perf_counter() - started)
        lean_events = reference["events"]
        gc.collect()
        started = time.perf_counter()
        reference = bare.run(size, seed=k)
        bare_simpy_seconds.append(time.perf_counter() - started)
        bare_events = reference["events"]
        gc.collect()
        started = time.perf_counter()
        engine = make_engine(network, np.random.default_rng(k))
        out = engine.run()
        engine_seconds.append(time.perf_counter() - started)
        lots = out.lots
        events = events_scheduled(engine.env)
        del engine, out
    gc.collect()
    started = time.perf_counter()
    results = simulate(built, seed=0)
    simulate_seconds = time.perf_counter() - started
    del results
    best = min(engine_seconds)
    return {
        "name": size_name,
        "mode": "lot",
        "mines": size.mines,
        "years": size.years,
        "lots": lots,
        "events": events,
        "seconds": best,
        "lots_per_s": lots / best,
        "us_per_lot": best / lots * 1e6,
        "lean_seconds": min(lean_seconds),
        "lean_events": lean_events,
        "ratio_to_lean": best / min(lean_seconds),
        "simulate_seconds": simulate_seconds,
        "bare_simpy_seconds": min(bare_simpy_seconds),
        "bare_events": bare_events,
        "ratio_to_bare": best / min(bare_simpy_seconds),
        "process_peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "repetitions": repetitions,
    }


def measure_memory(size_name: str) -> dict:
    """Peak RSS of one ``simulate()`` of a size, alone in a fresh process: what a
    run of that size costs a user (the engine, its tables and the balance check),
    without the bare reference and the timing repetitions of ``measure``."""
    from flowsim.simulation import simulate

    results = simulate(scenario(SIZES[size_name]), seed=0)
    return {
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "ledger_rows": int(results.runs["ledger_rows"].sum()),
    }


def measure_one(args: argparse.Namespace) -> dict:
    """The record of what ``--one`` names: a size, or a section."""
    if args.one in SIZES:
        return measure(args.one, args.repetitions)
    if args.one == "memory":
        return measure_memory(args.size)
    if args.one == "shipment":
        return sections.measure_shipment(SIZES[args.size], args.replications)
    if args.one == "scaling":
        return sections.measure_scaling(SIZES[args.size], args.runs)
    if args.one == "ciw":
        return sections.measure_ciw(CHAINS[args.chain], args.repetitions)
    if args.one == "held":
        return sections.measure_held(args.years, args.repetitions)
    if args.one == "user_wait":
        return targets.measure_user_wait(args.times)
    if args.one == "real_model":
        return targets.measure_real_model(args.repetitions, args.size)
    if args.one == "sweep_read":
        return sweepfiles.measure_sweep_read(args.runs, args.repetitions)
    if args.one == "sweep_memory":
        return sweepfiles.measure_sweep_memory(args.runs)
    raise SystemExit(f"--one: unknown measurement {args.one!r}")


def run_one(arguments: list[str]) -> dict:
    """Run ``python -m benchmarks --one ...`` in a fresh process and return the
    record it prints last, or, if it fails, its error (printed in full here)."""
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--one", *arguments],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        lines = done.stderr.strip().splitlines() or [f"exit status {done.returncode}"]
        return {"error": lines[-1]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="size S, small sections")
    parser.add_argument("--sizes", default=None, help="comma-separated sizes, e.g. S,M")
    parser.add_argument(
        "--repetitions", type=int, default=None, help="timings per size, and of the ciw section"
    )
    parser.add_argument("--json", type=Path, help="write the records to this file")
    parser.add_argument(
        "--skip", default="", help=f"comma-separated: sizes, {', '.join(sections.SECTIONS)}"
    )
    parser.add_argument(
        "--size", choices=list(SIZES), help="size of the shipment and scaling sections (M)"
    )
    parser.add_argument(
        "--replications", type=int, help="replications of each mode, shipment section (10)"
    )
    parser.add_argument("--runs", type=int, help="runs of the sweep, scaling section (8)")
    parser.add_argument(
        "--sweep-runs",
        type=int,
        help="runs of the sweep_read (3,000) and sweep_memory (10,000) sections",
    )
    parser.add_argument("--chain", choices=list(CHAINS), help="chain of the ciw section (full)")
    parser.add_argument("--years", type=int, help="calendar of the held section (2)")
    parser.add_argument("--times", type=int, help="processes timed, user_wait section (5)")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # run one measurement in this process
    args = parser.parse_args(argv)

    quick = args.quick
    size = args.size or ("S" if quick else "M")
    replications = args.replications or (4 if quick else 10)
    runs = args.runs or (4 if quick else 8)
    chain = args.chain or ("quick" if quick else "full")
    years = args.years or (1 if quick else 2)
    skip = {name for name in args.skip.split(",") if name}
    unknown = skip - {"sizes", *sections.SECTIONS}
    if unknown:
        parser.error(f"--skip: unknown {', '.join(sorted(unknown))}")
    names = QUICK if quick else tuple((args.sizes or ",".join(SIZES)).split(","))
    if set(names) - set(SIZES):
        parser.error(f"--sizes: choose among {', '.join(SIZES)}")

    if args.one:
        args.size, args.replications, args.runs, args.chain = size, replications, runs, chain
        args.years = years
        args.repetitions = args.repetitions or 3
        args.times = args.times or 5
        print(json.dumps(measure_one(args)))
        return 0

    records = []
    if "sizes" not in skip:
        print(f"{'size':>4} {'lots':>9} {'events':>10} {'s/rep':>8} {'us/lot':>7} "
              f"{'lean s':>7} {'bare s':>7} {'/lean':>6} {'/bare':>6} {'simulate s':>10} "
              f"{'peak MB':>8}")  # fmt: skip
    for name in () if "sizes" in skip else names:
        repetitions = args.repetitions or 5
        record = {"name": name, **run_one([name, "--repetitions", str(repetitions)])}
        if "error" not in record:
            record.update(run_one(["memory", "--size", name]))
        records.append(record)
        if "error" in record:
            print(f"{name:>4} not measured: {record['error']}", flush=True)
            continue
        print(
            f"{name:>4} {record['lots']:>9,} {record['events']:>10,} {record['seconds']:>8.2f} "
            f"{record['us_per_lot']:>7.1f} {record['lean_seconds']:>7.2f} "
            f"{record['bare_simpy_seconds']:>7.2f} {record['ratio_to_lean']:>6.2f} "
            f"{record['ratio_to_bare']:>6.2f} {record['simulate_seconds']:>10.2f} "
            f"{record['peak_rss_mb']:>8.0f}",
            flush=True,
        )
    print("\n".join(targets.report_sizes(records)), flush=True)

    chain_repetitions = str(args.repetitions or (2 if quick else 3))
    plan = {
        "shipment": (
            f"shipment mode against per-lot mode, size {size}",
            f"shipment_{size}",
            [
                "shipment",
                "--size",
                size,
                "--replications",
                str(replications),
            ],
        ),
        "scaling": (
            f"a sweep of {runs} runs of size {size} on 1 and on 2 worker processes",
            f"scaling_{size}",
            ["scaling", "--size", size, "--runs", str(runs)],
        ),
        "ciw": (
            "flowsim against Ciw on the same chain",
            "ciw_chain",
            ["ciw", "--chain", chain, "--repetitions", chain_repetitions],
        ),
        "held": (
            "lots that no partner takes, held, against the same lots flowing",
            f"held_{years}y",
            ["held", "--years", str(years), "--repetitions", chain_repetitions],
        ),
        "real_model": (
            f"the Venezuela sanctions scenario's cost per lot against size {size}'s",
            f"real_model_{size}",
            ["real_model", "--size", size, "--repetitions", chain_repetitions],
        ),
        "sweep_read": (
            "reading a sweep's table back: its parts, sweep.parquet, pandas and DuckDB",
            "sweep_read",
            ["sweep_read", "--runs", str(args.sweep_runs or (300 if quick else 3000))],
        ),
        "sweep_memory": (
            "a worker's memory over a long sweep of short runs",
            "sweep_memory",
            ["sweep_memory", "--runs", str(args.sweep_runs or (1000 if quick else 10000))],
        ),
        "user_wait": (
            "what a user waits for: whole processes",
            "user_wait",
            ["user_wait", "--times", str(args.times or (3 if quick else 5))],
        ),
    }
    for section, (title, name, arguments) in plan.items():
        if section in skip:
            continue
        print(f"\n{title}", flush=True)
        record = {"name": name, **run_one(arguments)}
        records.append(record)
        report = sections.report if "error" in record else REPORTS.get(section, sections.report)
        print("\n".join(report(record)), flush=True)

    if args.json:
        payload = {
            "python": platform.python_version(),
            "machine": platform.machine(),
            "records": records,
        }
        args.json.write_text(json.dumps(payload, indent=2) + "\n")
        print(f"wrote {args.json}")
    return 1 if any("error" in record for record in records) else 0


if __name__ == "__main__":
    sys.exit(main())
