"""Output that cannot be written: a clear error (exit 2, naming the path), and no
half-written run folder, temporary folder or sweep part left behind.

Running as root makes a read-only folder writable all the same; then the
failures are simulated at the operating system's boundary (os.mkdir,
os.rename, os.fsync, Parquet and JSON writers) with the errno a full or
read-only disk gives.
"""

from __future__ import annotations

import errno
import json
import os
import pathlib
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from fuzz_strategies import call_main, to_toml
from networks import chain

import flowsim
from flowsim import folders

ROOT_USER = hasattr(os, "geteuid") and os.geteuid() == 0


@pytest.fixture
def scenario(tmp_path: Path) -> Path:
    path = tmp_path / "scenario.toml"
    path.write_text(to_toml(chain(20)))
    return path


@pytest.fixture
def sweep_file(tmp_path: Path, scenario: Path) -> Path:
    path = tmp_path / "sweep.toml"
    path.write_text(
        '[sweep]\nname = "s"\nscenario = "scenario.toml"\nreplications = 3\n\n'
        '[parameters]\n"routes.mine_buyer.seizure_probability" = [0.0, 0.2]\n'
    )
    return path


def oserror(code: int, path: object) -> OSError:
    return OSError(code, os.strerror(code), str(path))


def leftovers(folder: Path, keep: set[str]) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name not in keep)


# --- a real read-only folder (skipped as root) --------------------------------------------


@pytest.mark.skipif(ROOT_USER, reason="root writes into read-only folders; simulated below")
def test_run_into_a_read_only_folder_exits_2_and_names_it(scenario, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        for out in (locked / "run", locked / "new" / "run"):
            code, _, err = call_main(["run", str(scenario), "--out", str(out)])
            assert code == 2 and str(out) in err and "Traceback" not in err
        assert list(locked.iterdir()) == []
    finally:
        locked.chmod(0o755)


@pytest.mark.skipif(ROOT_USER, reason="root writes into read-only folders; simulated below")
def test_sweep_into_a_read_only_folder_exits_2_and_names_it(sweep_file, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        out = locked / "sweep"
        code, _, err = call_main(["sweep", str(sweep_file), "--out", str(out), "--workers", "1"])
        assert code == 2 and str(out) in err and "Traceback" not in err
        assert list(locked.iterdir()) == []
    finally:
        locked.chmod(0o755)


# --- simulated failures -------------------------------------------------------------------


def read_only(monkeypatch, folder: Path) -> None:
    """os.mkdir and opening files for writing under ``folder`` fail with EACCES."""
    real_mkdir, real_open = os.mkdir, os.open

    def mkdir(path, *args, **kwargs):
        if Path(path).resolve().is_relative_to(folder.resolve()):
            raise oserror(errno.EACCES, path)
        return real_mkdir(path, *args, **kwargs)

    def open_(path, flags, *args, **kwargs):
        writing = flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT)
        if writing and Path(path).resolve().is_relative_to(folder.resolve()):
            raise oserror(errno.EACCES, path)
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "mkdir", mkdir)
    monkeypatch.setattr(os, "open", open_)


def disk_fills_in_parquet(monkeypatch) -> None:
    """Every Parquet table gets half written, then the disk is full."""

    def write_table(table, where, *args, **kwargs):
        if hasattr(where, "write"):
            where.write(b"PAR1 half a table")
        else:
            Path(where).write_bytes(b"PAR1 half a table")
        raise oserror(errno.ENOSPC, getattr(where, "name", where))

    monkeypatch.setattr(pq, "write_table", write_table)


def disk_fills_in_parts(monkeypatch, after: int = 0) -> None:
    """Once ``after`` sweep parts are written, each next one is half written, then the
    disk is full."""
    import builtins

    real_open = builtins.open
    written = []

    class HalfWriter:
        def __init__(self, f):
            self.f = f

        def write(self, data):
            self.f.write(data[: len(data) // 2])
            raise oserror(errno.ENOSPC, self.f.name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()

        def __getattr__(self, name):
            return getattr(self.f, name)

    def open_(file, mode="r", *args, **kwargs):
        f = real_open(file, mode, *args, **kwargs)
        if "w" in mode and Path(str(file)).name.startswith(".run-"):
            if len(written) >= after:
                return HalfWriter(f)
            written.append(file)
        return f

    monkeypatch.setattr(builtins, "open", open_)


def disk_fills_in_summary(monkeypatch) -> None:
    real = pathlib.Path.write_text

    def write_text(self, data, *args, **kwargs):
        if self.name == "summary.json":
            real(self, data[:10], *args, **kwargs)
            raise oserror(errno.ENOSPC, self)
        return real(self, data, *args, **kwargs)

    monkeypatch.setattr(pathlib.Path, "write_text", write_text)


def fsync_fails(monkeypatch) -> None:
    def fsync(fd):
        raise oserror(errno.EIO, f"fd {fd}")

    monkeypatch.setattr(os, "fsync", fsync)


def rename_fails(monkeypatch) -> None:
    def rename(src, dst, *args, **kwargs):
        raise oserror(errno.EACCES, dst)

    monkeypatch.setattr(os, "rename", rename)


FAILURES = {
    "read_only_parent": (lambda mp, parent: read_only(mp, parent), "Permission denied"),
    "disk_full_in_a_table": (lambda mp, parent: disk_fills_in_parquet(mp), "No space left"),
    "disk_full_in_summary": (lambda mp, parent: disk_fills_in_summary(mp), "No space left"),
    "fsync_fails": (lambda mp, parent: fsync_fails(mp), "Input/output error"),
    "final_rename_fails": (lambda mp, parent: rename_fails(mp), "Permission denied"),
}


@pytest.mark.parametrize("failure", FAILURES)
@pytest.mark.parametrize("nested", [False, True], ids=["existing_parent", "new_parent"])
def test_a_run_that_cannot_be_written_exits_2_and_leaves_nothing(
    failure, nested, scenario, tmp_path, monkeypatch
):
    parent = tmp_path / "results"
    parent.mkdir()
    out = parent / "new" / "run" if nested else parent / "run"
    setup, message = FAILURES[failure]
    setup(monkeypatch, parent)
    code, _, err = call_main(["run", str(scenario), "--out", str(out)])
    monkeypatch.undo()
    assert code == 2, err
    assert f"cannot write results to {out}" in err and message in err
    assert "Traceback" not in err
    assert not out.exists()
    # No run folder, no temporary folder: at most the empty parent folders.
    left = [p for p in parent.rglob("*") if not p.is_dir() or any(p.iterdir())]
    assert [str(p.relative_to(parent)) for p in left] in ([], ["new"])


@pytest.mark.parametrize("failure", ["disk_full_in_a_table", "disk_full_in_summary", "fsync_fails"])
def test_a_failed_rewrite_keeps_the_earlier_run(failure, scenario, tmp_path, monkeypatch):
    out = tmp_path / "run"
    assert call_main(["run", str(scenario), "--out", str(out), "--seed", "1"])[0] == 0
    before = (out / "summary.json").read_text()
    FAILURES[failure][0](monkeypatch, tmp_path)
    code, _, err = call_main(["run", str(scenario), "--out", str(out), "--seed", "2"])
    monkeypatch.undo()
    assert code == 2 and str(out) in err
    assert (out / "summary.json").read_text() == before
    assert flowsim.Results.load(out).meta["seed"] == 1
    assert leftovers(tmp_path, {"scenario.toml", "run"}) == []


@pytest.mark.parametrize("swap", ["exchange", "two_renames"])
def test_a_failed_final_rename_keeps_the_earlier_run(swap, scenario, tmp_path, monkeypatch):
    """The new run is swapped into place in one step; where the system cannot swap, the
    earlier run is moved aside and put back if the second rename fails."""
    out = tmp_path / "run"
    assert call_main(["run", str(scenario), "--out", str(out), "--seed", "1"])[0] == 0
    before = (out / "summary.json").read_text()
    if swap == "exchange":

        def exchange(a, b):
            raise oserror(errno.EACCES, b)

    else:
        real = os.rename

        def rename(src, dst, *args, **kwargs):
            if Path(dst) == out and Path(src).name.startswith(".run.tmp-"):
                raise oserror(errno.EACCES, dst)
            return real(src, dst, *args, **kwargs)

        monkeypatch.setattr(os, "rename", rename)

        def exchange(a, b):
            return False

    monkeypatch.setattr(folders, "exchange", exchange)
    code, _, err = call_main(["run", str(scenario), "--out", str(out), "--seed", "2"])
    monkeypatch.undo()
    assert code == 2 and str(out) in err and "Permission denied" in err
    assert (out / "summary.json").read_text() == before
    assert leftovers(tmp_path, {"scenario.toml", "run"}) == []


# --- sweeps -------------------------------------------------------------------------------


@pytest.mark.parametrize("nested", [False, True], ids=["existing_parent", "new_parent"])
def test_a_sweep_into_an_unwritable_place_exits_2_and_names_it(
    nested, sweep_file, tmp_path, monkeypatch
):
    parent = tmp_path / "results"
    parent.mkdir()
    out = parent / "new" / "sweep" if nested else parent / "sweep"
    read_only(monkeypatch, parent)
    code, _, err = call_main(["sweep", str(sweep_file), "--out", str(out), "--workers", "1"])
    monkeypatch.undo()
    assert code == 2, err
    assert f"cannot write the sweep to {out}" in err and "Permission denied" in err
    assert "Traceback" not in err
    assert list(parent.iterdir()) == []


def test_a_sweep_whose_disk_fills_exits_2_and_resumes_later(sweep_file, tmp_path, monkeypatch):
    """The half-written part is removed, the runs written are kept, --resume finishes."""
    out = tmp_path / "sweep"
    disk_fills_in_parts(monkeypatch)
    try:
        code, _, err = call_main(["sweep", str(sweep_file), "--out", str(out), "--workers", "1"])
    finally:
        monkeypatch.undo()
    assert code == 2 and str(out) in err and "No space left" in err
    assert [p.name for p in (out / "parts").iterdir()] == []
    argv = ["sweep", str(sweep_file), "--out", str(out), "--workers", "1", "--resume"]
    assert call_main(argv)[0] == 0
    assert len(flowsim.load_sweep(out)["run"].unique()) == 6


def test_a_sweep_resumes_after_a_failed_part(sweep_file, tmp_path, monkeypatch):
    """Whatever the error, a part is never taken as finished unless whole: the resumed
    sweep equals a clean one."""
    out = tmp_path / "sweep"
    disk_fills_in_parts(monkeypatch, after=3)
    sweep, folder = flowsim.load_sweep_file(sweep_file)
    from flowsim.executors import serial_executor

    with pytest.raises((OSError, flowsim.FlowsimError)):
        flowsim.run_sweep(sweep, folder, out, executor=serial_executor)
    monkeypatch.undo()
    lines = [json.loads(x) for x in (out / "manifest.jsonl").read_text().splitlines()]
    assert [line["run"] for line in lines] == [0, 1, 2]
    report = flowsim.run_sweep(sweep, folder, out, executor=serial_executor, resume=True)
    assert (report.done_before, report.ran) == (3, 3)
    clean = tmp_path / "clean"
    flowsim.run_sweep(sweep, folder, clean, executor=serial_executor)

    def table(path):
        return flowsim.load_sweep(path).sort_values(["run", "metric"]).reset_index(drop=True)

    pd.testing.assert_frame_equal(table(out), table(clean))


def test_a_sweep_out_that_is_a_file_exits_2(sweep_file, tmp_path):
    out = tmp_path / "taken"
    out.write_text("not a folder")
    code, _, err = call_main(["sweep", str(sweep_file), "--out", str(out), "--workers", "1"])
    assert code == 2 and str(out) in err and "Traceback" not in err
    assert out.read_text() == "not a folder"
