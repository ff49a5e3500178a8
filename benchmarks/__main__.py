"""Measure flowsim against the bare-SimPy reference: `python -m benchmarks`.

Each size runs in a fresh process, so that its peak RSS is its own. Inside
that process the reference and flowsim alternate, several repetitions each,
and the best time of each is kept: the ratio of two timings taken side by
side holds on a shared, noisy machine where absolute seconds do not.

    python -m benchmarks                 # sizes S, M and L
    python -m benchmarks --quick         # size S only, in well under 3 minutes
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

from benchmarks import bare
from benchmarks.networks import QUICK, SIZES, scenario


def measure(size_name: str, repetitions: int) -> dict:
    """Run one size here and return its record."""
    from flowsim.engine import Engine
    from flowsim.network import Network
    from flowsim.simulation import simulate

    size = SIZES[size_name]
    network = Network.build(scenario(size))
    bare_seconds, engine_seconds = [], []
    lots = events = bare_events = 0
    for k in range(repetitions):
        gc.collect()
        started = time.perf_counter()
        reference = bare.run(size, seed=k)
        bare_seconds.append(time.perf_counter() - started)
        bare_events = reference["events"]
        gc.collect()
        started = time.perf_counter()
        engine = Engine(network, np.random.default_rng(k))
        out = engine.run()
        engine_seconds.append(time.perf_counter() - started)
        lots = out.lots
        events = next(engine.env._eid)  # SimPy's count of scheduled events
        del engine, out
    gc.collect()
    started = time.perf_counter()
    results = simulate(network.scenario, seed=0)
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
        "simulate_seconds": simulate_seconds,
        "bare_seconds": min(bare_seconds),
        "bare_events": bare_events,
        "ratio_to_bare": best / min(bare_seconds),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "repetitions": repetitions,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="small sizes only")
    parser.add_argument("--sizes", default=None, help="comma-separated sizes, e.g. S,M")
    parser.add_argument("--repetitions", type=int, default=None)
    parser.add_argument("--json", type=Path, help="write the records to this file")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # run one size in this process
    args = parser.parse_args(argv)

    if args.one:
        print(json.dumps(measure(args.one, args.repetitions or 3)))
        return 0

    names = QUICK if args.quick else tuple((args.sizes or "S,M,L").split(","))
    records = []
    print(f"{'size':>4} {'lots':>9} {'events':>10} {'s/rep':>8} {'lots/s':>9} "
          f"{'bare s':>8} {'ratio':>6} {'simulate s':>10} {'peak MB':>8}")  # fmt: skip
    for name in names:
        repetitions = args.repetitions or (3 if SIZES[name].expected_lots < 100_000 else 1)
        done = subprocess.run(
            [sys.executable, "-m", "benchmarks", "--one", name, "--repetitions", str(repetitions)],
            capture_output=True,
            text=True,
            check=True,
        )
        record = json.loads(done.stdout.strip().splitlines()[-1])
        records.append(record)
        print(
            f"{name:>4} {record['lots']:>9,} {record['events']:>10,} {record['seconds']:>8.2f} "
            f"{record['lots_per_s']:>9,.0f} {record['bare_seconds']:>8.2f} "
            f"{record['ratio_to_bare']:>6.2f} {record['simulate_seconds']:>10.2f} "
            f"{record['peak_rss_mb']:>8.0f}",
            flush=True,
        )
    if args.json:
        payload = {
            "python": platform.python_version(),
            "machine": platform.machine(),
            "records": records,
        }
        args.json.write_text(json.dumps(payload, indent=2) + "\n")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
