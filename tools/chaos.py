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
2. Runs (``--run-kills``): ``flowsim run`` killed with SIGKILL at random
   moments: during start-up, while the new run folder is written beside the
   old one, and (with the system's atomic swap turned off) between the two
   renames of a replace. After every kill, a run folder that existed before
   is still at ``--out`` and loads whole, or (between two renames only) it
   waits in its hidden copy, which the next run puts back; the final run
   leaves no hidden copy behind.
3. Pool workers (``--worker-kills``): a sweep on two worker processes, one
   worker killed with SIGKILL as the system's OOM killer would; the sweep
   must stop with a message that names the run and ``--resume``, and resume
   to the same table.
4. Dask (``--dask``): runs the same sweep on a LocalCluster of two worker
   processes, kills one worker with SIGKILL after the first results, and
   checks that the sweep still completes with the same table.

Prints a summary and exits 1 on any failure.

    python -m tools.chaos [--kills 20] [--run-kills 10] [--worker-kills 2] [--seed 0]
                          [--replications 40] [--dask] [--keep DIR]
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
            line = json.loads(text)
            if isinstance(line, dict) and "compacted" in line:  # sweep.parquet's record
                continue
            runs.append(int(line["run"]))
        except (json.JSONDecodeError, KeyError, TypeError, ValueError):
            cut += 1
    return runs, cut


# When a kill comes: during start-up (before any run), at a random point of the runs,
# the moment a part starts being written (a temporary part appears), or once the last
# runs are in, as the parts are gathered into sweep.parquet and removed.
MOMENTS = ("during start-up", "mid-run", "as a part is written", "as the sweep is compacted")
COMPACT_KILLS = 2  # starts killed as they compact, after the others


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
    elif moment == "as the sweep is compacted":
        total = len(json.loads((out / "design.json").read_text())["runs"])
        while proc.poll() is None:  # the start runs what is left first
            if len(set(manifest_runs(out)[0])) >= total:  # the last line: compaction begins
                time.sleep(rng.uniform(0.0, 0.6))  # about as long as 240 parts take
                break
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
    compacted = _compacted(out)
    parts = out / "parts"
    visible = sorted(p.name for p in parts.glob("run-*.parquet")) if parts.is_dir() else []
    listed = {f"run-{r:07d}.parquet" for r in runs}
    for name in sorted(listed | set(visible)):
        path = parts / name
        if not path.is_file():
            if not compacted:  # once sweep.parquet is recorded, its parts go
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
            finished = (
                set(runs)
                if compacted
                else {r for r in runs if (parts / f"run-{r:07d}.parquet").is_file()}
            )
            if set(table["run"]) != finished:
                problems.append("load_sweep reads other runs than the finished ones")
    return problems


def _compacted(out: Path) -> bool:
    """Whether manifest.jsonl records sweep.parquet, and the file is the one recorded."""
    import hashlib

    path = out / "manifest.jsonl"
    if not path.is_file() or not (out / "sweep.parquet").is_file():
        return False
    for text in reversed(path.read_text(encoding="utf-8").splitlines()):
        try:
            line = json.loads(text)
        except json.JSONDecodeError:
            continue
        if isinstance(line, dict) and "compacted" in line:
            data = (out / "sweep.parquet").read_bytes()
            return hashlib.sha256(data).hexdigest() == line.get("sha256")
    return False


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
            command(sweep, reference, "--workers", "1", "--no-compact"),
            stdout=subprocess.DEVNULL,
            stderr=err,
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
    # The parts are compacted after the last run: the last starts are killed as they
    # compact (the first of them runs what is left, then compacts).
    for k in range(kills + COMPACT_KILLS):
        finishing = k >= kills
        if _compacted(out):
            break
        if not finishing and len(set(manifest_runs(out)[0])) >= runs:
            continue
        extra = ["--workers", "1"] + (["--resume"] if k else [])
        others = rng.choices(MOMENTS[:-1], weights=[0.2, 0.5, 0.3])[0]
        moment = MOMENTS[-1] if finishing else others
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


# --- kills of flowsim run -----------------------------------------------------------------

RUN_MOMENTS = ("during start-up", "as the run folder is written", "between two renames")
# flowsim run with the system's atomic swap turned off and a pause after the earlier run
# is moved aside: the window that a kill must never turn into a lost run.
TWO_RENAMES = """
import os, sys, time
import flowsim.folders as folders
folders.exchange = lambda a, b: False
rename = os.rename
def slow(a, b, *args, **kwargs):
    rename(a, b, *args, **kwargs)
    if ".old-" in os.fspath(b):
        time.sleep(0.5)
os.rename = slow
from flowsim.cli import main
sys.exit(main(sys.argv[1:]))
"""


@dataclass
class RunChaosReport:
    kills: dict[str, int] = field(default_factory=dict)
    restored_by_next_run: int = 0
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problems


def hidden_copies(out: Path) -> list[str]:
    return sorted(p.name for p in out.parent.glob(f".{out.name}.*"))


def run_chaos(folder: Path, kills: int, seed: int) -> RunChaosReport:
    rng = random.Random(seed + 1)
    folder.mkdir(parents=True, exist_ok=True)
    scenario = folder / "chaos.toml"
    scenario.write_text(
        SCENARIO.replace("end = 2018-03-31", "end = 2019-12-31").replace(
            "usd_per_oz = { 2018 = 1269.23 }", "usd_per_oz = { 2018 = 1269.23, 2019 = 1392.6 }"
        )
    )
    out = folder / "run"
    started = time.perf_counter()
    report = RunChaosReport(kills=dict.fromkeys(RUN_MOMENTS, 0))

    def run(seed_: int, two_renames: bool = False) -> subprocess.Popen:
        argv = ["run", str(scenario), "--out", str(out), "--seed", str(seed_)]
        prefix = ["-c", TWO_RENAMES] if two_renames else ["-m", "flowsim.cli"]
        return subprocess.Popen(
            [sys.executable, *prefix, *argv], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )

    first = run(0)
    if first.wait() != 0:
        raise SystemExit(f"the first run failed: {first.stderr.read().decode()}")
    for k in range(kills):
        moment = RUN_MOMENTS[k % len(RUN_MOMENTS)]
        proc = run(k + 1, two_renames=moment == "between two renames")
        t0 = time.perf_counter()
        if moment == "during start-up":
            deadline = t0 + rng.uniform(0.05, 0.8)
            while proc.poll() is None and time.perf_counter() < deadline:
                time.sleep(0.002)
        elif moment == "as the run folder is written":
            deadline = t0 + 120
            while proc.poll() is None and time.perf_counter() < deadline:
                if any(name.startswith(".run.tmp-") for name in hidden_copies(out)):
                    break
                time.sleep(0.0005)
            time.sleep(rng.uniform(0.0, 0.05))
        else:  # the earlier run moved aside, the new one not yet in its place
            deadline = t0 + 120
            while proc.poll() is None and time.perf_counter() < deadline and out.exists():
                time.sleep(0.0005)
        if proc.poll() is not None:
            report.problems.append(f"kill {k} ({moment}): the run ended before its kill")
            continue
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        report.kills[moment] += 1
        if moment == "between two renames" and not out.exists():
            if not any(name.startswith(".run.old-") for name in hidden_copies(out)):
                report.problems.append(f"kill {k}: no run at --out and no hidden copy")
                continue
            report.restored_by_next_run += 1
            if run(100 + k).wait() != 0:
                report.problems.append(f"kill {k}: the next run failed")
        try:
            flowsim.Results.load(out)
        except Exception as exc:
            report.problems.append(f"kill {k} ({moment}): --out does not load: {exc}")
    final = run(1000)
    if final.wait() != 0:
        report.problems.append(f"the final run failed: {final.stderr.read().decode()[-300:]}")
    if hidden_copies(out):
        report.problems.append(f"hidden copies left after the final run: {hidden_copies(out)}")
    if flowsim.Results.load(out).meta["seed"] != 1000:
        report.problems.append("the final run is not at --out")
    report.seconds = time.perf_counter() - started
    return report


def print_run_chaos(report: RunChaosReport) -> None:
    total = sum(report.kills.values())
    print(f"run chaos: {total} SIGKILLs of flowsim run over a run folder, {report.seconds:.0f} s")
    for moment, count in report.kills.items():
        print(f"  kills {moment + ':':<45}{count}")
    print(
        "  --out held a whole run after every kill (atomic swap):  "
        f"{_yes(not any('does not load' in p for p in report.problems))}"
    )
    print(
        "  killed between two renames (no atomic swap), the earlier run put back by the "
        f"next run: {report.restored_by_next_run}"
    )
    print(f"  no hidden copy left after the final run:           {_yes(not report.problems)}")


# --- pool workers killed ----------------------------------------------------------------


@dataclass
class WorkerChaosReport:
    kills: int = 0
    messages_ok: int = 0
    identical: bool = False
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def worker_chaos(folder: Path, kills: int, replications: int) -> WorkerChaosReport:
    started = time.perf_counter()
    sweep = write_sweep(folder, replications)
    reference, out = folder / "reference", folder / "killed"
    report = WorkerChaosReport()
    subprocess.run(command(sweep, reference, "--workers", "1"), check=True, capture_output=True)
    for k in range(kills):
        extra = ["--workers", "2"] + (["--resume"] if k else [])
        proc = subprocess.Popen(
            command(sweep, out, *extra),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        before = len(manifest_runs(out)[0])
        deadline = time.perf_counter() + 120
        while proc.poll() is None and time.perf_counter() < deadline:
            if len(manifest_runs(out)[0]) >= before + 3:
                break
            time.sleep(0.01)
        workers = [] if proc.poll() is not None else children_of(proc.pid)
        log = out / "manifest.jsonl"
        pids = {json.loads(x)["pid"] for x in log.read_text().splitlines()[before:] if x}
        victims = [p for p in workers if p in pids]
        if not victims:
            report.problems.append(f"kill {k}: no worker to kill (the sweep ended first?)")
            proc.wait()
            continue
        os.kill(victims[0], signal.SIGKILL)  # as the OOM killer would
        _, err = proc.communicate(timeout=120)
        report.kills += 1
        if (
            proc.returncode == 2
            and "Traceback" not in err
            and f"(pid {victims[0]}) died, killed by SIGKILL" in err
            and "--resume" in err
        ):
            report.messages_ok += 1
        else:
            report.problems.append(f"kill {k}: exit {proc.returncode}: {err[-400:]}")
        left = [p for p in workers if Path(f"/proc/{p}").exists() and p != victims[0]]
        time.sleep(2.0)
        left = [
            p
            for p in left
            if Path(f"/proc/{p}/stat").exists()
            and (Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z")
        ]
        if left:
            report.problems.append(f"kill {k}: workers {left} outlived the sweep")
    done = subprocess.run(
        command(sweep, out, "--workers", "2", "--resume"), capture_output=True, text=True
    )
    if done.returncode != 0:
        report.problems.append(f"the final --resume failed: {done.stderr[-400:]}")
    try:
        pd.testing.assert_frame_equal(
            sorted_table(flowsim.load_sweep(out)), sorted_table(flowsim.load_sweep(reference))
        )
        report.identical = True
    except AssertionError as exc:
        report.problems.append(f"the final table differs: {exc}")
    report.seconds = time.perf_counter() - started
    return report


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
    parser.add_argument(
        "--run-kills", type=int, default=10, help="SIGKILLs of flowsim run (0: none)"
    )
    parser.add_argument(
        "--worker-kills", type=int, default=2, help="pool workers killed mid-sweep (0: none)"
    )
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
        if args.run_kills:
            runs = run_chaos(folder / "run", args.run_kills, args.seed)
            print_run_chaos(runs)
            for problem in runs.problems[:20]:
                print(f"  problem: {problem}")
            ok &= runs.ok
        if args.worker_kills:
            workers = worker_chaos(folder / "workers", args.worker_kills, args.replications)
            print(
                f"pool chaos: {workers.kills} workers killed with SIGKILL mid-sweep, "
                f"{workers.seconds:.0f} s"
            )
            print(
                "  each stopped the sweep with a message naming its run and --resume: "
                f"{workers.messages_ok} of {workers.kills}"
            )
            print(
                f"  identical to the uninterrupted run after --resume:  {_yes(workers.identical)}"
            )
            for problem in workers.problems[:20]:
                print(f"  problem: {problem}")
            ok &= workers.identical and not workers.problems
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
