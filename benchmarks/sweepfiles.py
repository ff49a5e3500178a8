"""Sweep folders at scale: reading a 3,000-run table, and memory over 10,000 runs.

``measure_sweep_read`` writes a sweep folder of ``runs`` Venezuela runs with the
sweep's own writer (``SweepFolder.write_part`` and the manifest lines a sweep
writes), from one real run's metrics with each run's values scaled by its own
factor, so that the files hold what a real sweep's hold without the hours of
simulation: only the reader is measured here. It then times, side by side and
the best of ``repetitions``: ``load_sweep`` on the parts, the compaction, and
``load_sweep`` on ``sweep.parquet``, whole and with ``metrics=``; against it,
``pandas.read_parquet`` of that file (the leanest reader of the same rows) and, if
installed, a DuckDB query of it.

``measure_sweep_memory`` runs a real sweep of ``runs`` short runs in one pool
worker and reads that worker's resident memory from /proc every 1,000 runs.
"""

from __future__ import annotations

import gc
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.sections import _peak_rss_mb, verdict

ROOT = Path(__file__).resolve().parents[1]
REAL_SCENARIO = ROOT / "scenarios" / "venezuela_sanctions.toml"
LOAD_SECONDS = 1.0  # a 3,000-run sweep's table, load_sweep
MEMORY_GROWTH = 1.05  # a worker's RSS after the last run against after the first 1,000
# A short scenario: a sweep of it measures what piles up per run, not the runs themselves.
SHORT_SWEEP = """
[sweep]
name = "memory"
scenario = "{scenario}"
method = "monte_carlo"
samples = {runs}
seed = 1

[parameters]
"routes.mine_buyer.seizure_probability" = {{ low = 0.0, high = 0.2 }}
"""
SHORT_SCENARIO = """
[meta]
name = "short"
[calendar]
start = 2018-01-01
end = 2018-01-31
[prices]
usd_per_oz = { 2018 = 1269.23 }
[nodes.mine]
kind = "mine"
jurisdiction = "VEN"
entity = "miners"
legal_status = "illegal"
region = "north"
production_kg_per_day = 10.0
production_cv = 0.3
[nodes.buyer]
kind = "buyer"
jurisdiction = "VEN"
entity = "buyers"
legal_status = "informal"
region = "north"
capacity_kg_per_day = 100.0
[nodes.tur]
kind = "partner"
jurisdiction = "TUR"
entity = "t"
legal_status = "licensed"
region = "abroad"
[routes.mine_buyer]
from = "mine"
to = "buyer"
transit_days = { dist = "exponential", mean = 1.0 }
seizure_probability = 0.05
[routes.buyer_tur]
from = "buyer"
to = "tur"
"""


def _sweep_folder(out: Path, runs: int) -> dict[str, Any]:
    """A folder of ``runs`` finished runs written as a sweep writes them."""
    import flowsim
    from flowsim.sweep import RunSpec
    from flowsim.sweepfolder import SweepFolder
    from flowsim.sweeplog import log_line, part_table

    metrics = flowsim.simulate(REAL_SCENARIO, seed=1).metrics()
    names, values = metrics["metric"].tolist(), metrics["value"].to_numpy()
    columns = {"eo13850_compliance": {"column": "eo13850_compliance", "type": "double"}}
    specs = [
        RunSpec(k, "sanctions", str(REAL_SCENARIO), k, {"eo13850_compliance": k / runs}, {}, 1, 0)
        for k in range(runs)
    ]
    design = {
        "fingerprint": "bench",
        "sweep": {},
        "parameters": list(columns),
        "columns": columns,
        "scenario_hashes": {},
        "runs": [
            {"run": s.run, "scenario": s.scenario, "point": s.point, "replication": 0}
            for s in specs
        ],
    }
    folder = SweepFolder.open(out, design, resume=False, overwrite=False)
    rng = np.random.default_rng(0)
    with open(out / "manifest.jsonl", "a") as log:
        for spec in specs:
            scaled = values * rng.uniform(0.5, 1.5)
            table = part_table(spec, {"metric": names, "value": scaled}, columns)
            line = folder.write_part(spec.run, table, "0" * 64)
            log.write(log_line(line, {}) + "\n")
    return {"rows_per_run": len(names), "folder": folder}


def _best(function, repetitions: int) -> tuple[float, Any]:
    best, value = float("inf"), None
    for _ in range(repetitions):
        gc.collect()
        started = time.perf_counter()
        value = function()
        best = min(best, time.perf_counter() - started)
    return best, value


def measure_sweep_read(runs: int, repetitions: int) -> dict[str, Any]:
    import pandas as pd

    import flowsim

    with tempfile.TemporaryDirectory(prefix="flowsim-bench-") as tmp:
        out = Path(tmp) / "sweep"
        started = time.perf_counter()
        made = _sweep_folder(out, runs)
        write_seconds = time.perf_counter() - started
        parts_bytes = sum(p.stat().st_size for p in (out / "parts").iterdir())
        parts_seconds, table = _best(lambda: flowsim.load_sweep(out), repetitions)
        rows = len(table)
        del table
        started = time.perf_counter()
        made["folder"].compact()
        compact_seconds = time.perf_counter() - started
        compact_bytes = (out / "sweep.parquet").stat().st_size
        some = ["totals_kg", "exports_kg_by_partner"]
        record = {
            "runs": runs,
            "rows": rows,
            "rows_per_run": made["rows_per_run"],
            "repetitions": repetitions,
            "write_seconds": write_seconds,
            "parts_mb": parts_bytes / 2**20,
            "compact_mb": compact_bytes / 2**20,
            "load_parts_seconds": parts_seconds,
            "compact_seconds": compact_seconds,
        }
        for _ in range(2):  # alternately, so that neither reader has the warmer cache
            load, table = _best(lambda: flowsim.load_sweep(out), repetitions)
            assert len(table) == rows
            del table
            subset, _ = _best(lambda: flowsim.load_sweep(out, some), repetitions)
            lean, _ = _best(lambda: pd.read_parquet(out / "sweep.parquet"), repetitions)
            for key, value in (("load", load), ("load_metrics", subset), ("pandas", lean)):
                record[f"{key}_seconds"] = min(record.get(f"{key}_seconds", value), value)
        try:
            import duckdb
        except ImportError:
            record["duckdb_seconds"] = None
        else:
            query = (
                "select eo13850_compliance, value from read_parquet('{}') "
                "where metric = 'exports_kg_by_partner.uae'"
            ).format(out / "sweep.parquet")
            record["duckdb_seconds"], _ = _best(lambda: duckdb.sql(query).fetchall(), repetitions)
        record["peak_rss_mb"] = _peak_rss_mb()
    return record


def _worker_rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise OSError(f"no VmRSS for {pid}")


def measure_sweep_memory(runs: int, every: int = 1000) -> dict[str, Any]:
    import flowsim

    samples: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory(prefix="flowsim-bench-") as tmp:
        folder = Path(tmp)
        (folder / "short.toml").write_text(SHORT_SCENARIO)
        (folder / "sweep.toml").write_text(SHORT_SWEEP.format(scenario="short.toml", runs=runs))
        sweep, base = flowsim.load_sweep_file(folder / "sweep.toml")
        pool = flowsim.pool_executor(1)

        def watched(function, items):
            for count, result in enumerate(pool(function, items), start=1):
                if count % every == 0 or count == len(items):
                    samples.append(
                        {
                            "runs": count,
                            "worker_rss_mb": _worker_rss_mb(result["pid"]),
                            "driver_rss_mb": _worker_rss_mb(os.getpid()),
                        }
                    )
                yield result

        started = time.perf_counter()
        flowsim.run_sweep(sweep, base, folder / "out", executor=watched)
        seconds = time.perf_counter() - started
        rows = len(flowsim.load_sweep(folder / "out", "totals_kg.exported"))
    first = next(s for s in samples if s["runs"] >= min(every, runs))
    return {
        "runs": runs,
        "every": every,
        "seconds": seconds,
        "exported_rows": rows,
        "samples": samples,
        "worker_growth": samples[-1]["worker_rss_mb"] / first["worker_rss_mb"],
        "driver_growth": samples[-1]["driver_rss_mb"] / first["driver_rss_mb"],
    }


def report_sweep_read(r: dict[str, Any]) -> list[str]:
    duck = r.get("duckdb_seconds")
    return [
        f"  {r['runs']:,} runs x {r['rows_per_run']} metrics = {r['rows']:,} rows; written in "
        f"{r['write_seconds']:.1f} s; parts {r['parts_mb']:.1f} MB, sweep.parquet "
        f"{r['compact_mb']:.2f} MB (compacted in {r['compact_seconds']:.2f} s)",
        f"  best of {r['repetitions']}: load_sweep on the parts {r['load_parts_seconds']:.2f} s; "
        f"on sweep.parquet {r['load_seconds']:.2f} s, with metrics= "
        f"{r['load_metrics_seconds']:.2f} s; pandas.read_parquet of it {r['pandas_seconds']:.2f} s"
        + (f"; a DuckDB query of it {duck:.3f} s" if duck is not None else ""),
        f"  load_sweep {r['load_seconds']:.2f} s (target <= {LOAD_SECONDS:g} s): "
        f"{verdict(r['load_seconds'] <= LOAD_SECONDS)}; "
        f"{r['load_seconds'] / r['pandas_seconds']:.2f}x pandas.read_parquet",
    ]


def report_sweep_memory(r: dict[str, Any]) -> list[str]:
    lines = [f"  {r['runs']:,} runs in {r['seconds']:.0f} s on one pool worker; RSS every "
             f"{r['every']:,} runs (worker / driver, MB):"]  # fmt: skip
    lines += [
        f"    {s['runs']:>7,}  {s['worker_rss_mb']:7.1f}  {s['driver_rss_mb']:7.1f}"
        for s in r["samples"]
    ]
    lines.append(
        f"  worker growth {r['worker_growth']:.3f}, driver {r['driver_growth']:.3f} "
        f"(target <= {MEMORY_GROWTH:g}): "
        f"{verdict(max(r['worker_growth'], r['driver_growth']) <= MEMORY_GROWTH)}"
    )
    return lines
