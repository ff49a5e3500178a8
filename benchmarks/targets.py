"""What a user waits for, and the per-lot cost of a real scenario.

- user_wait: ``flowsim --version``, ``flowsim validate`` and ``flowsim run`` (with its
  report) as whole processes, the median of several, beside bare Python's start;
- real_model: the per-lot cost of the shipped Venezuela sanctions scenario against
  that of the synthetic size M, measured alternately in one process.

Each ``measure_*`` runs in a fresh process (``python -m benchmarks --one ...``) and
returns one JSON record; ``report`` prints it with PASS or FAIL against its target
(docs/performance.md).
"""

from __future__ import annotations

import gc
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.networks import SIZES, scenario
from benchmarks.sections import verdict

ROOT = Path(__file__).resolve().parents[1]
REAL_SCENARIO = ROOT / "scenarios" / "venezuela_sanctions.toml"

# Targets (docs/performance.md).
RATIO_TO_LEAN = 2.0  # per-lot engine against lean_simpy, every size
PER_LOT_GROWTH = 1.15  # cost per lot, size L against size S
PEAK_RSS_M_MB = 250.0  # one simulate() of size M
STARTUP_SECONDS = 0.4  # flowsim --version, flowsim validate
RUN_SECONDS = 2.0  # flowsim run of the Venezuela sanctions scenario, with its report
REAL_TO_M = 1.5  # per-lot cost of that scenario against size M


def _flowsim() -> list[str]:
    """The command line of the flowsim this Python runs, installed or not."""
    script = Path(sys.executable).with_name("flowsim")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "import sys; from flowsim.cli import main; sys.exit(main())"]


def _median_seconds(argv: list[str], times: int) -> float:
    seconds = []
    for _ in range(times):
        started = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True, cwd=ROOT)
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds)


def measure_user_wait(times: int) -> dict[str, Any]:
    """Each command ``times`` times, as a user starts it; its median."""
    flowsim = _flowsim()
    scenario_file = str(REAL_SCENARIO.relative_to(ROOT))
    with tempfile.TemporaryDirectory(prefix="flowsim-bench-") as tmp:
        out = Path(tmp) / "run"
        run = [*flowsim, "run", scenario_file, "--seed", "1", "--out", str(out)]
        # A first run outside the timings: the operating system's caches warm, as for a
        # user's second command.
        subprocess.run(run, check=True, capture_output=True, cwd=ROOT)
        shutil.rmtree(out)
        alone = [*flowsim, "run", scenario_file, "--seed", "1", "--out", str(Path(tmp) / "a")]
        alone += ["--no-baseline", "--no-figures"]
        record = {
            "times": times,
            "python_seconds": _median_seconds([sys.executable, "-c", "pass"], times),
            "version_seconds": _median_seconds([*flowsim, "--version"], times),
            "validate_seconds": _median_seconds([*flowsim, "validate", scenario_file], times),
            # As typed: the baseline's folder, written by the first run, is read back; the
            # report compares with it, and its figures are written as files.
            "run_seconds": _median_seconds(run, times),
            "report_written": (out / "report.html").is_file(),
            "figures_written": len(list((out / "figures").glob("*.svg"))),
            # The run alone with its report, as the target was first set.
            "run_alone_seconds": _median_seconds(alone, times),
        }
    return record


def measure_real_model(repetitions: int, size_name: str = "M") -> dict[str, Any]:
    """The engine's cost per lot on the Venezuela sanctions scenario and on a synthetic
    size, alternately; the best of each."""
    import flowsim
    from flowsim.engine import make_engine
    from flowsim.network import Network

    real = Network.build(flowsim.load_scenario(REAL_SCENARIO))
    synthetic = Network.build(scenario(SIZES[size_name]))
    best = {"real": float("inf"), "synthetic": float("inf")}
    lots = {"real": 0, "synthetic": 0}
    for k in range(repetitions):
        for name, network in (("real", real), ("synthetic", synthetic)):
            gc.collect()
            started = time.perf_counter()
            out = make_engine(network, np.random.default_rng(k)).run()
            seconds = time.perf_counter() - started
            best[name] = min(best[name], seconds / out.lots)
            lots[name] = out.lots
            del out
    return {
        "size": size_name,
        "repetitions": repetitions,
        "real_lots": lots["real"],
        "synthetic_lots": lots["synthetic"],
        "real_us_per_lot": best["real"] * 1e6,
        "synthetic_us_per_lot": best["synthetic"] * 1e6,
        "ratio": best["real"] / best["synthetic"],
    }


def report_user_wait(r: dict[str, Any]) -> list[str]:
    return [
        f"  median of {r['times']} processes; bare Python starts in {r['python_seconds']:.2f} s",
        f"  flowsim --version  {r['version_seconds']:5.2f} s (target < {STARTUP_SECONDS:g}): "
        f"{verdict(r['version_seconds'] < STARTUP_SECONDS)}",
        f"  flowsim validate   {r['validate_seconds']:5.2f} s (target < {STARTUP_SECONDS:g}): "
        f"{verdict(r['validate_seconds'] < STARTUP_SECONDS)}",
        f"  flowsim run        {r['run_seconds']:5.2f} s (target < {RUN_SECONDS:g}, with its "
        f"report against the baseline read back: "
        f"{'written' if r['report_written'] else 'MISSING'}, "
        f"{r.get('figures_written', 0)} figures as files): "
        f"{verdict(r['run_seconds'] < RUN_SECONDS and r['report_written'])}",
        f"  flowsim run --no-baseline --no-figures "
        f"{r.get('run_alone_seconds', float('nan')):5.2f} s (the run alone with its report)",
    ]


def report_real_model(r: dict[str, Any]) -> list[str]:
    return [
        f"  {REAL_SCENARIO.name}: {r['real_lots']:,} lots, {r['real_us_per_lot']:.1f} us a lot; "
        f"size {r['size']}: {r['synthetic_lots']:,} lots, {r['synthetic_us_per_lot']:.1f} us a "
        f"lot (best of {r['repetitions']}, alternately)",
        f"  ratio {r['ratio']:.2f} (target <= {REAL_TO_M:g}): {verdict(r['ratio'] <= REAL_TO_M)}",
    ]


def report_sizes(records: list[dict[str, Any]]) -> list[str]:
    """The per-size targets, from the records of the size table."""
    sizes = {r["name"]: r for r in records if "ratio_to_lean" in r}
    if not sizes:
        return []
    lines = []
    worst = max(sizes.values(), key=lambda r: r["ratio_to_lean"])
    lines.append(
        f"  ratio_to_lean at most {worst['ratio_to_lean']:.2f}, at {worst['name']} "
        f"(target <= {RATIO_TO_LEAN:g} at every size): "
        f"{verdict(worst['ratio_to_lean'] <= RATIO_TO_LEAN)}"
    )
    if "S" in sizes and "L" in sizes:
        growth = sizes["L"]["us_per_lot"] / sizes["S"]["us_per_lot"]
        lines.append(
            f"  cost per lot, L against S: x{growth:.2f} (target <= {PER_LOT_GROWTH:g}): "
            f"{verdict(growth <= PER_LOT_GROWTH)}"
        )
    if "M" in sizes and "peak_rss_mb" in sizes["M"]:
        peak = sizes["M"]["peak_rss_mb"]
        lines.append(
            f"  peak RSS of one simulate() at M: {peak:.0f} MB (target <= {PEAK_RSS_M_MB:g}): "
            f"{verdict(peak <= PEAK_RSS_M_MB)}"
        )
    return lines
