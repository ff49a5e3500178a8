"""Dask workers in processes of their own, which cannot see the scenario files."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from test_sweep import TINY_SCENARIO

import flowsim
from flowsim.errors import FlowsimError
from flowsim.executors import DaskExecutor, serial_executor
from flowsim.sweep import load_sweep_file, run_sweep

distributed = pytest.importorskip("distributed")

ROOT = Path(__file__).parents[1]
DASK = [sys.executable, "-m", "dask"]

BASE = TINY_SCENARIO.replace('name = "tiny"', 'name = "base"', 1)

# A scenario that extends another and names it as its baseline: both files must
# reach the workers, and neither is on their disk.
CHILD = """\
extends = "base.toml"
[meta]
name = "child"
baseline = "base.toml"
[routes.buyer_usa]
weight = 2.0
"""

SWEEP = """\
[sweep]
name = "nodisk"
scenario = "child.toml"
replications = 2
seed = 7
[parameters]
"routes.mine_buyer.seizure_probability" = [0.0, 0.2]
[[scenarios]]
name = "base"
file = "base.toml"
vary = false
[[scenarios]]
name = "child"
"""


def _environment() -> dict[str, str]:
    env = dict(os.environ)
    # The workers import this flowsim, wherever the tests run from.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["DASK_DISTRIBUTED__WORKER__DAEMON"] = "False"
    return env


@pytest.fixture(scope="module")
def scheduler(tmp_path_factory):
    """A scheduler and one worker, each a process of its own started in an empty folder."""
    home = tmp_path_factory.mktemp("cluster")
    (home / "worker").mkdir()
    address_file = home / "scheduler.json"
    file = str(address_file)
    common = {"env": _environment(), "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    processes = [
        subprocess.Popen(
            [*DASK, "scheduler", "--port", "0", "--no-dashboard", "--scheduler-file", file],
            cwd=home,
            **common,
        )
    ]
    try:
        deadline = time.monotonic() + 30
        while not address_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        processes.append(
            subprocess.Popen(
                [*DASK, "worker", "--nthreads", "1", "--no-dashboard", "--scheduler-file", file],
                cwd=home / "worker",
                **common,
            )
        )
        address = json.loads(address_file.read_text())["address"]
        with distributed.Client(address, timeout="30s") as client:
            client.wait_for_workers(1, timeout=30)
        yield address
    finally:
        for process in processes[::-1]:
            process.terminate()
        for process in processes[::-1]:
            try:
                process.wait(3)
            except subprocess.TimeoutExpired:
                process.kill()


class _FilesGone:
    """Runs on Dask after taking the scenario files away: they are checked on this
    machine, then no worker can read them."""

    def __init__(self, inner: DaskExecutor, folder: Path):
        self.inner, self.folder = inner, folder

    def start(self) -> None:
        self.folder.rename(self.folder.with_name(self.folder.name + "-gone"))
        self.inner.start()

    def close(self) -> None:
        self.inner.close()

    def __call__(self, function, items):
        return self.inner(function, items)


def test_a_sweep_runs_on_workers_that_cannot_see_its_files(scheduler, tmp_path):
    folder = tmp_path / "scenarios"
    sweep, where = load_sweep_file(_write_sweep(folder))
    run_sweep(sweep, where, tmp_path / "serial", executor=serial_executor)
    fingerprint = json.loads((tmp_path / "serial" / "design.json").read_text())["fingerprint"]

    on_dask = _FilesGone(flowsim.dask_executor(scheduler), folder)
    run_sweep(sweep, where, tmp_path / "dask", executor=on_dask)

    assert not folder.exists()
    design = json.loads((tmp_path / "dask" / "design.json").read_text())
    assert design["fingerprint"] == fingerprint
    runs = 2 + 2 * 2
    lines = [json.loads(line) for line in (tmp_path / "dask" / "manifest.jsonl").open()]
    hosts = [line for line in lines if "run" in line]  # the last records sweep.parquet
    assert len(hosts) == runs and all(h["pid"] != os.getpid() for h in hosts)
    tables = [
        flowsim.load_sweep(tmp_path / name).sort_values(["run", "metric"]).reset_index(drop=True)
        for name in ("serial", "dask")
    ]
    pd.testing.assert_frame_equal(*tables)
    assert tables[0]["run"].nunique() == runs


def test_a_worker_of_another_flowsim_is_refused_by_address_and_version(scheduler):
    from flowsim._version import __version__

    def pretend(version):
        import flowsim._version

        flowsim._version.__version__ = version

    with distributed.Client(scheduler, timeout="30s") as client:
        (worker,) = client.scheduler_info()["workers"]
        client.run(pretend, "0.0.0-other")
        try:
            executor = flowsim.dask_executor(client)
            with pytest.raises(FlowsimError) as caught:
                executor.start()
        finally:
            client.run(pretend, __version__)
    message = str(caught.value)
    assert worker in message
    assert "0.0.0-other" in message and __version__ in message


def test_a_run_on_a_worker_of_another_flowsim_says_so(tmp_path):
    """A worker that joins after the check (a batch job that starts late) is caught
    by the run itself."""
    from flowsim.sweep import SweepShared, execute_shared, expand

    (tmp_path / "base.toml").write_text(BASE)
    (tmp_path / "sweep.toml").write_text('[sweep]\nname = "one"\nscenario = "base.toml"\n')
    sweep, where = load_sweep_file(tmp_path / "sweep.toml")
    runs = expand(sweep, where)
    shared = SweepShared.of(runs)
    other = SweepShared(version="0.0.0-other", scenarios=shared.scenarios, posteriors={})
    assert execute_shared(runs[0], shared)["run"] == 0
    with pytest.raises(FlowsimError, match=r"0\.0\.0-other.*flowsim"):
        execute_shared(runs[0], other)
    shutil.rmtree(tmp_path)


def _write_sweep(folder: Path) -> Path:
    folder.mkdir(exist_ok=True)
    for name, text in {"base.toml": BASE, "child.toml": CHILD, "sweep.toml": SWEEP}.items():
        (folder / name).write_text(text)
    return folder / "sweep.toml"


def test_dask_dashboard_says_where_the_dashboard_is_or_that_there_is_none(
    scheduler, tmp_path, capsys
):
    from flowsim.cli import main

    sweep = str(_write_sweep(tmp_path / "s"))
    args = ["sweep", sweep, "--out", str(tmp_path / "out"), "--dask", scheduler]
    assert main([*args, "--dask-dashboard"]) == 0
    out = capsys.readouterr().out
    # This scheduler runs with --no-dashboard.
    assert f"the Dask scheduler at {scheduler} serves no dashboard" in out


def test_dask_dashboard_needs_dask_and_bokeh(tmp_path, capsys):
    from flowsim.cli import main

    sweep = str(_write_sweep(tmp_path / "s"))
    assert main(["sweep", sweep, "--out", str(tmp_path / "a"), "--dask-dashboard"]) == 2
    assert "--dask-dashboard is Dask's" in capsys.readouterr().err
    if importlib.util.find_spec("bokeh") is not None:
        return  # the local dashboard can start: nothing to refuse
    args = ["sweep", sweep, "--out", str(tmp_path / "b"), "--dask", "local", "--dask-dashboard"]
    assert main(args) == 2
    assert "needs bokeh" in capsys.readouterr().err
    assert not (tmp_path / "b").exists()
