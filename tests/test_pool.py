"""The process pool of `flowsim sweep`: no worker outlives the sweep, and a worker the
system kills is a clear message, not a traceback; --resume then finishes the sweep."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_sweep import TINY_SCENARIO

import flowsim
from flowsim.executors import WorkerLost, pool_executor

pytestmark = pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc")

# Long enough runs (about 0.3 s each) that a kill lands while runs are in flight.
SLOW = TINY_SCENARIO.replace("end = 2018-03-31", "end = 2019-12-31").replace(
    "2018 = 1269.23", "2018 = 1269.23, 2019 = 1392.6"
)
SWEEP = '[sweep]\nname = "slow"\nscenario = "slow.toml"\nreplications = 40\n'


@pytest.fixture
def sweep(tmp_path: Path) -> list[str]:
    (tmp_path / "slow.toml").write_text(SLOW)
    (tmp_path / "sweep.toml").write_text(SWEEP)
    out = tmp_path / "out"
    sweep_file = str(tmp_path / "sweep.toml")
    return [sys.executable, "-m", "flowsim.cli", "sweep", sweep_file, "--out", str(out)]


def alive(pid: int) -> bool:
    """Whether a process runs: a zombie, dead but not yet reaped, does not."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.add(int(entry.name))
    return found


def start(command: list[str], out: Path, lines: int = 2) -> tuple[subprocess.Popen, set[int]]:
    """Start a 2-worker sweep; once ``lines`` runs are recorded, return it and its workers."""
    sweep = subprocess.Popen(
        [*command, "--workers", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    log = out / "manifest.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and sweep.poll() is None:
        if log.is_file() and len(log.read_text().splitlines()) >= lines:
            break
        time.sleep(0.05)
    else:
        sweep.kill()
        raise AssertionError(f"the sweep recorded no runs: {sweep.communicate()}")
    # The workers are the sweep's children (the spawn start method may add a tracker).
    workers = {json.loads(x)["pid"] for x in log.read_text().splitlines()}
    return sweep, workers | children(sweep.pid)


def all_gone(pids: set[int], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not any(alive(p) for p in pids):
            return True
        time.sleep(0.1)
    return False


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_no_worker_outlives_a_killed_sweep(how, sweep, tmp_path):
    process, workers = start(sweep, tmp_path / "out")
    assert workers - {process.pid}
    os.kill(process.pid, how)
    _, err = process.communicate(timeout=30)
    try:
        assert all_gone(workers, 5.0), [p for p in workers if alive(p)]
    finally:
        for pid in workers:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
    if how == signal.SIGTERM:
        assert process.returncode == 128 + signal.SIGTERM
        assert "terminated" in err and "Traceback" not in err


def test_a_worker_killed_by_the_system_is_a_clear_message_and_resume_finishes(sweep, tmp_path):
    out = tmp_path / "out"
    process, _ = start(sweep, out)
    victim = json.loads((out / "manifest.jsonl").read_text().splitlines()[0])["pid"]
    os.kill(victim, signal.SIGKILL)  # as the OOM killer would
    _, err = process.communicate(timeout=60)
    assert process.returncode == 2, err
    assert "Traceback" not in err and "BrokenProcessPool" not in err
    assert f"(pid {victim}) died, killed by SIGKILL" in err
    assert "--resume" in err and "of the sweep stopped" in err
    resumed = subprocess.run([*sweep, "--workers", "2", "--resume"], capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert sorted(flowsim.load_sweep(out)["run"].unique()) == list(range(40))


def _die_on(item: int) -> int:
    if item == 3:
        os.kill(os.getpid(), signal.SIGKILL)
    return item * item


def _raise_on(item: int) -> int:
    if item == 2:
        raise flowsim.ScenarioError([flowsim.Issue("f.toml", "a.b", "is wrong")])
    return item


def test_the_pool_names_the_item_whose_worker_died():
    with pytest.raises(WorkerLost) as caught:
        list(pool_executor(2)(_die_on, list(range(8))))
    assert caught.value.item == 3 and "SIGKILL" in str(caught.value)


def test_an_error_in_a_worker_reaches_the_parent_whole():
    with pytest.raises(flowsim.ScenarioError) as caught:
        list(pool_executor(2)(_raise_on, list(range(5))))
    assert caught.value.issues == [flowsim.Issue("f.toml", "a.b", "is wrong")]


def test_the_pool_yields_every_result():
    assert sorted(pool_executor(2)(_die_on, [0, 1, 2, 4, 5])) == [0, 1, 4, 16, 25]
