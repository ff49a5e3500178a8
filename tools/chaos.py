"""``make chaos``: kill sweeps at random moments and check that nothing is lost or corrupted.

1. SIGKILL: writes a small sweep into a temporary folder, runs it once without
   interruption (the reference), then starts ``python -m flowsim.cli sweep ...
   --workers 1`` again and again, killing it with SIGKILL at a random moment
   each time and restarting it with ``--resume``, and finally lets it finish.
   At every kill point, every part listed in ``manifest.jsonl`` must read
   cleanly and hold the same rows as the reference's, and so must every part
   visible under its final name; ``load_sweep`` must read the finished runs.
   At the end, the tidy table (``flowsim.load_sweep``, sorted by run and
   metric) must equal the reference's, and every run must be recorded once.
2. Dask (``--dask``): runs the same sweep on a LocalCluster of two worker
   processes, kills one worker with SIGKILL after the first results, and
   checks that the sweep still completes with the same table.

Prints a summary and exits 1 on any failure.

    python -m tools.chaos [--kills 20] [--seed 0] [--replications 40] [--dask] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

import flowsim

SCENARIO = """\
[meta]
name = "chaos"

[calendar]
start = 2018-01-01
end = 2018-03-31

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

[nodes.usa]
kind = "partner"
jurisdiction = "USA"
entity = "u"
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

[routes.buyer_usa]
from = "buyer"
to = "usa"
"""

SWEEP = """\
[sweep]
name = "chaos"
scenario = "chaos.toml"
replications = {replications}
seed = 11

[parameters]
"routes.mine_buyer.seizure_probability" = [0.0, 0.1, 0.3]
"routes.buyer_usa.weight" = [1.0, 3.0]
"""


def write_sweep(folder: Path, replications: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "chaos.toml").write_text(SCENARIO)
    path = folder / "sweep.toml"
    path.write_text(SWEEP.format(replications=replications))
    return path


def sorted_table(table: pd.DataFrame) -> pd.DataFrame:
    return table.sort_values(["run", "metric"]).reset_index(drop=True)


def command(sweep: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "flowsim.cli", "sweep", str(sweep), "--out", str(out), *extra]


def manifest_runs(out: Path) -> tuple[list[int], int]:
    """Runs of the complete lines of manifest.jsonl, and the number of cut lines."""
    path = out / "manifest.jsonl"
    if not path.is_file():
        return [], 0
    runs, cut = [], 0
    for text in path.read_text(encoding="utf-8").splitlines():
        try:
            runs.append(int(json.loads(text)["run"]))
        except (json.JSONDecodeError, KeyError, TypeError, ValueError):
            cut += 1
    return runs, cut


# When a kill comes: during start-up (before any run), at a random point of the runs,
# or the moment a part starts being written (a temporary part appears).
MOMENTS = ("during start-up", "mid-run", "as a part is written")


def wait_for_moment(
    proc: subprocess.Popen,
    moment: str,
    log: Path,
    out: Path,
    rng: random.Random,
    startup: float,
    per_run: float,
) -> bool:
    """Wait for the moment to kill; False if the process ended first."""
    t0 = time.perf_counter()
    if moment == "during start-up":
        deadline = t0 + rng.uniform(0.1, 0.9) * startup
        while proc.poll() is None and time.perf_counter() < deadline:
            time.sleep(0.002)
        return proc.poll() is None
    while proc.poll() is None and "sweep: " not in log.read_text():  # the runs begin
        time.sleep(0.002)
    if moment == "mid-run":
        deadline = time.perf_counter() + rng.uniform(0, 8) * per_run
        while proc.poll() is None and time.perf_counter() < deadline:
            time.sleep(0.002)
    else:
        parts = out / "parts"
        deadline = time.perf_counter() + 50 * per_run + 5
        while proc.poll() is None and time.perf_counter() < deadline:
            if any(parts.glob(".run-*.tmp-*")):
                break
            time.sleep(0.0005)
    return proc.poll() is None


@dataclass
class KillPoint:
    moment: str
    delay: float
    recorded: int  # runs in the manifest after the kill
    mid_run: bool  # the process had started its runs and some were left
    orphan_parts: int  # parts on disk without a manifest line: written, to be redone
    temp_parts: int  # half-written temporary parts left by the kill
    cut_lines: int  # manifest lines cut short


@dataclass
class ChaosReport:
    runs: int
    kills: list[KillPoint] = field(default_factory=list)
    finished_early: int = 0  # starts that finished before their kill came
    problems: list[str] = field(default_factory=list)
    identical: bool = False
    recorded_once: bool = False
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.identical and self.recorded_once and not self.problems


def check_kill_point(out: Path, reference: Path, parts_seen: dict[str, pd.DataFrame]) -> list[str]:
    """Every part a reader could take as finished must be whole and right."""
    problems = []
    runs, _ = manifest_runs(out)
    parts = out / "parts"
    visible = sorted(p.name for p in parts.glob("run-*.parquet")) if parts.is_dir() else []
    listed = {f"run-{r:07d}.parquet" for r in runs}
    for name in sorted(listed | set(visible)):
        path = parts / name
        if not path.is_file():
            problems.append(f"{name} is in manifest.jsonl but not on disk")
            continue
        try:
            frame = pd.read_parquet(path)
        except Exception as exc:  # any failure to read is what this checks
            problems.append(f"{name} does not read cleanly: {type(exc).__name__}: {exc}")
            continue
        if name not in parts_seen:
            parts_seen[name] = pd.read_parquet(reference / "parts" / name)
        try:
            pd.testing.assert_frame_equal(frame, parts_seen[name])
        except AssertionError as exc:
            problems.append(f"{name} differs from the uninterrupted run's: {exc}")
    if (out / "design.json").is_file():
        try:
            table = flowsim.load_sweep(out)
        except Exception as exc:
            problems.append(f"load_sweep fails between kills: {type(exc).__name__}: {exc}")
        else:
            if set(table["run"]) != {r for r in runs if (parts / f"run-{r:07d}.parquet").is_file()}:
                problems.append("load_sweep reads other runs than the finished ones")
    return problems


def sigkill_chaos(folder: Path, kills: int, seed: int, replications: int) -> ChaosReport:
    rng = random.Random(seed)
    sweep = write_sweep(folder, replications)
    reference, out = folder / "reference", folder / "chaos"
    started = time.perf_counter()

    # The reference, timed: how long a start takes before the runs begin, and a run.
    log = folder / "reference.log"
    with open(log, "w") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            command(sweep, reference, "--workers", "1"), stdout=subprocess.DEVNULL, stderr=err
        )
        startup = None
        while proc.poll() is None:
            if startup is None and "sweep: " in log.read_text():
                startup = time.perf_counter() - t0
            time.sleep(0.01)
        total = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"the uninterrupted sweep failed:\n{log.read_text()}")
    runs = len(manifest_runs(reference)[0])
    startup = startup if startup is not None else total / 2
    per_run = max((total - startup) / runs, 0.005)
    report = ChaosReport(runs=runs)
    print(
        f"reference: {runs} runs in {total:.1f} s (start-up {startup:.1f} s, "
        f"{per_run * 1000:.0f} ms a run)",
        flush=True,
    )

    parts_seen: dict[str, pd.DataFrame] = {}
    for k in range(kills):
        if len(manifest_runs(out)[0]) >= runs:
            break
        extra = ["--workers", "1"] + (["--resume"] if k else [])
        moment = rng.choices(MOMENTS, weights=[0.2, 0.5, 0.3])[0]
        log = folder / f"kill-{k:02d}.log"
        with open(log, "w") as err:
            t0 = time.perf_counter()
            proc = subprocess.Popen(
                command(sweep, out, *extra), stdout=subprocess.DEVNULL, stderr=err
            )
            alive = wait_for_moment(proc, moment, log, out, rng, startup, per_run)
            delay = time.perf_counter() - t0
            if not alive:
                report.finished_early += 1
                if proc.returncode != 0:
                    report.problems.append(f"start {k} failed: {log.read_text()[-500:]}")
                continue
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
        recorded, cut = manifest_runs(out)
        parts = out / "parts"
        on_disk = {p.name for p in parts.glob("run-*.parquet")} if parts.is_dir() else set()
        listed = {f"run-{r:07d}.parquet" for r in recorded}
        point = KillPoint(
            moment=moment,
            delay=delay,
            recorded=len(set(recorded)),
            mid_run="sweep: " in log.read_text() and len(set(recorded)) < runs,
            orphan_parts=len(on_disk - listed),
            temp_parts=len(list(parts.glob(".run-*"))) if parts.is_dir() else 0,
            cut_lines=cut,
        )
        report.kills.append(point)
        report.problems += [f"kill {k}: {p}" for p in check_kill_point(out, reference, parts_seen)]

    done = subprocess.run(
        command(sweep, out, "--workers", "1", "--resume"), capture_output=True, text=True
    )
    if done.returncode != 0:
        report.problems.append(f"the final --resume failed: {done.stderr[-500:]}")
    recorded, _ = manifest_runs(out)
    report.recorded_once = sorted(recorded) == list(range(runs))
    try:
        pd.testing.assert_frame_equal(
            sorted_table(flowsim.load_sweep(out)), sorted_table(flowsim.load_sweep(reference))
        )
        report.identical = True
    except AssertionError as exc:
        report.problems.append(f"the final table differs: {exc}")
    report.seconds = time.perf_counter() - started
    return report


def print_sigkill(report: ChaosReport) -> None:
    kills = report.kills
    mid = sum(p.mid_run for p in kills)
    print(f"SIGKILL chaos: {len(kills)} kills of a {report.runs}-run sweep, {report.seconds:.0f} s")
    for moment in MOMENTS:
        count = sum(p.moment == moment for p in kills)
        print(f"  kills {moment + ':':<45}{count}")
    print(f"  kills mid-sweep (one run in flight, redone):       {mid}")
    print(f"  runs redone on resume:                             {mid}")
    print(
        f"  of which written to disk but not yet recorded:     {sum(p.orphan_parts for p in kills)}"
    )
    print(f"  manifest lines cut short by a kill:                {sum(p.cut_lines for p in kills)}")
    print(
        "  half-written temporary parts left in parts/:       "
        f"{max((p.temp_parts for p in kills), default=0)} (readers skip them)"
    )
    if report.finished_early:
        print(f"  starts that finished before their kill:           {report.finished_early}")
    clean = not any("read" in p or "differs" in p for p in report.problems)
    print(f"  every listed part read cleanly at every kill:      {'yes' if clean else 'NO'}")
    print(f"  every run recorded exactly once:                   {_yes(report.recorded_once)}")
    print(f"  identical to the uninterrupted run:                {_yes(report.identical)}")


def _yes(flag: bool) -> str:
    return "yes" if flag else "NO"


@dataclass
class DaskReport:
    runs: int
    killed_after: int | None
    identical: bool
    seconds: float
    problems: list[str]


def dask_chaos(folder: Path, replications: int) -> DaskReport:
    """Kill one of two Dask workers mid-sweep; the sweep must still give the same table."""
    import logging

    from distributed import Client, LocalCluster

    from flowsim.executors import dask_executor, serial_executor

    started = time.perf_counter()
    sweep_path = write_sweep(folder, replications)
    sweep, base = flowsim.load_sweep_file(sweep_path)
    reference = folder / "dask-reference"
    flowsim.run_sweep(sweep, base, reference, executor=serial_executor)
    problems: list[str] = []
    killed: list[int] = []
    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.CRITICAL,
        ) as cluster,
        Client(cluster) as client,
    ):
        pids = client.run(os.getpid)
        victim = sorted(pids.values())[0]

        def progress(done: int, total: int) -> None:
            if not killed and done >= 3:
                os.kill(victim, signal.SIGKILL)
                killed.append(done)

        out = folder / "dask"
        report = flowsim.run_sweep(
            sweep,
            base,
            out,
            executor=dask_executor(cluster.scheduler_address),
            progress=progress,
        )
        survivors = client.run(os.getpid)
    if victim in survivors.values():
        problems.append("the worker was not killed")
    identical = False
    try:
        pd.testing.assert_frame_equal(
            sorted_table(flowsim.load_sweep(out)), sorted_table(flowsim.load_sweep(reference))
        )
        identical = True
    except AssertionError as exc:
        problems.append(f"the table differs: {exc}")
    recorded, _ = manifest_runs(out)
    if sorted(recorded) != list(range(report.total)):
        problems.append("some runs were recorded twice or not at all")
    return DaskReport(
        runs=report.total,
        killed_after=killed[0] if killed else None,
        identical=identical,
        seconds=time.perf_counter() - started,
        problems=problems,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.chaos",
        description="Kill sweeps at random moments; check that --resume gives the same table.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=textwrap.dedent(__doc__.split("\n\n", 1)[1]),
    )
    parser.add_argument("--kills", type=int, default=20, help="SIGKILLs of the sweep (0: none)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the kill moments")
    parser.add_argument(
        "--replications", type=int, default=40, help="replications of each of the 6 points"
    )
    parser.add_argument("--dask", action="store_true", help="also kill a Dask worker mid-sweep")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    args = parser.parse_args(argv)

    folder = args.keep or Path(tempfile.mkdtemp(prefix="flowsim-chaos-"))
    ok = True
    try:
        if args.kills:
            report = sigkill_chaos(folder / "sigkill", args.kills, args.seed, args.replications)
            print_sigkill(report)
            for problem in report.problems[:20]:
                print(f"  problem: {problem}")
            ok &= report.ok
        if args.dask:
            dask = dask_chaos(folder / "dask", max(2, args.replications // 4))
            print(
                f"Dask chaos: a worker killed after {dask.killed_after} of {dask.runs} runs, "
                f"{dask.seconds:.0f} s"
            )
            print(f"  identical to a serial run:                         {_yes(dask.identical)}")
            for problem in dask.problems:
                print(f"  problem: {problem}")
            ok &= dask.identical and not dask.problems
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)
    print("OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
