"""flowsim never deletes or replaces what it did not write, and never trusts a folder it
cannot verify: run folders, sweep folders, reports, and what a killed write left behind."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pandas as pd
import pytest
from fuzz_strategies import call_main, to_toml
from networks import chain

import flowsim
from flowsim import folders
from flowsim.folders import MANIFEST, file_record

SWEEP = (
    '[sweep]\nname = "s"\nscenario = "scenario.toml"\nreplications = 2\n\n'
    '[parameters]\n"routes.mine_buyer.seizure_probability" = [0.0, 0.2]\n'
)


@pytest.fixture
def scenario(tmp_path: Path) -> Path:
    path = tmp_path / "scenario.toml"
    path.write_text(to_toml(chain(20)))
    return path


@pytest.fixture
def sweep_file(tmp_path: Path, scenario: Path) -> Path:
    path = tmp_path / "sweep.toml"
    path.write_text(SWEEP)
    return path


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` with its bytes."""
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def run_cli(*argv: object, figures: bool = False) -> tuple[int, str, str]:
    """The command line in this process. A run writes its report but no figure files
    unless ``figures``: the figures' subfolder has its own tests (and the kills' tests
    below keep it), and drawing it in every test would double this file's time."""
    args = [str(a) for a in argv]
    if args[:1] == ["run"] and not figures and "--no-report" not in args:
        args.append("--no-figures")
    return call_main(args)


def rewrite_manifest(folder: Path, change) -> None:
    """Edit a run folder's manifest as a tool (or an attacker) would."""
    manifest = json.loads((folder / MANIFEST).read_text())
    change(manifest)
    (folder / MANIFEST).write_text(json.dumps(manifest))


def relist(folder: Path, name: str) -> None:
    """Record ``name``'s current size and checksum, as if flowsim had written it."""
    rewrite_manifest(
        folder, lambda m: m["files"].__setitem__(name, file_record(folder / name).as_json())
    )


# --- run folders ------------------------------------------------------------------------


def test_a_folder_with_a_foreign_manifest_is_refused_and_untouched(scenario, tmp_path):
    ext = tmp_path / "ext"
    ext.mkdir()
    (ext / "manifest.json").write_text('{"manifest_version": 3, "name": "a browser extension"}')
    (ext / "background.js").write_text("chrome.runtime.onInstalled.addListener(() => {});")
    before = snapshot(ext)
    code, _, err = run_cli("run", scenario, "--out", ext)
    assert code == 2, err
    assert "not written by flowsim" in err and str(ext) in err and "Traceback" not in err
    assert snapshot(ext) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ext", "scenario.toml"]


def test_a_scenario_inside_out_is_named_and_nothing_is_removed(scenario, tmp_path):
    out = tmp_path / "run"
    assert run_cli("run", scenario, "--out", out)[0] == 0
    inside = out / "scenario.toml"
    shutil.copy(scenario, inside)
    before = snapshot(out)
    code, _, err = run_cli("run", inside, "--out", out, "--seed", "2")
    assert code == 2, err
    assert "'scenario.toml', which is not one of the files flowsim wrote" in err
    assert snapshot(out) == before


def test_replacing_a_run_removes_only_what_its_manifest_lists(scenario, tmp_path):
    out = tmp_path / "run"
    assert run_cli("run", scenario, "--out", out)[0] == 0
    listed = set(json.loads((out / MANIFEST).read_text())["files"])
    assert "report.html" in listed
    assert run_cli("run", scenario, "--out", out, "--no-report")[0] == 0
    assert not (out / "report.html").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run", "scenario.toml"]


def test_a_manifest_listing_a_path_outside_the_folder_is_not_obeyed(scenario, tmp_path):
    out = tmp_path / "run"
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    assert run_cli("run", scenario, "--out", out)[0] == 0
    record = {"bytes": 8, "sha256": "0" * 64}
    rewrite_manifest(out, lambda m: m["files"].__setitem__("../victim.txt", record))
    code, _, err = run_cli("run", scenario, "--out", out)
    assert code == 2 and "'../victim.txt' is not a file of this folder" in err
    assert victim.read_text() == "precious"


@pytest.mark.parametrize("where", ["symlink", "file"])
def test_out_that_is_a_link_or_a_file_is_refused(where, scenario, tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    (real / "notes.md").write_text("notes")
    out = tmp_path / "out"
    if where == "symlink":
        out.symlink_to(real)
    else:
        out.write_text("a file")
    code, _, err = run_cli("run", scenario, "--out", out)
    assert code == 2 and str(out) in err
    assert (real / "notes.md").read_text() == "notes"
    assert out.is_symlink() if where == "symlink" else out.read_text() == "a file"


def test_the_replace_never_leaves_out_missing(scenario, tmp_path, monkeypatch):
    """The new run is swapped into place in one step: at every rename, out exists."""
    out = tmp_path / "run"
    assert run_cli("run", scenario, "--out", out, figures=True)[0] == 0
    seen = []
    real_exchange, real_rename = folders.exchange, os.rename

    def exchange(a, b):
        seen.append(out.is_dir())
        done = real_exchange(a, b)
        seen.append(out.is_dir())
        return done

    def rename(src, dst, *args, **kwargs):
        seen.append(out.is_dir())
        real_rename(src, dst, *args, **kwargs)
        seen.append(out.is_dir())

    monkeypatch.setattr(folders, "exchange", exchange)
    monkeypatch.setattr(os, "rename", rename)
    assert run_cli("run", scenario, "--out", out, "--seed", "5", figures=True)[0] == 0
    assert seen and all(seen)
    assert json.loads((out / "summary.json").read_text())["seed"] == 5


def test_leftovers_of_killed_runs_are_cleaned_by_the_next_run(scenario, tmp_path):
    out = tmp_path / "run"
    assert run_cli("run", scenario, "--out", out, figures=True)[0] == 0
    # A write killed half way: its marker and a table.
    half = tmp_path / ".run.tmp-abc123"
    half.mkdir()
    (half / ".flowsim-incomplete").write_text(json.dumps({"format": "flowsim-run", "pid": 0}))
    (half / "ledger.parquet").write_bytes(b"PAR1 half")
    (half / "figures").mkdir()
    (half / "figures" / "flows.png").write_bytes(b"\x89PNG half")
    # A replace killed after the swap: the earlier run, whole, in the temporary's place.
    shutil.copytree(out, tmp_path / ".run.tmp-def456")
    # Not flowsim's, though named like its leftovers: kept.
    foreign = tmp_path / ".run.tmp-mine"
    foreign.mkdir()
    (foreign / "draft.txt").write_text("mine")
    assert run_cli("run", scenario, "--out", out, "--seed", "2", figures=True)[0] == 0
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [".run.tmp-mine", "run", "scenario.toml"]
    assert (foreign / "draft.txt").read_text() == "mine"


def test_a_kill_between_two_renames_is_repaired_by_the_next_run(scenario, tmp_path):
    """Where the system cannot swap, a kill between moving the earlier run aside and
    moving the new one in leaves .run.old-*: the next write puts it back first."""
    out = tmp_path / "run"
    assert run_cli("run", scenario, "--out", out, "--seed", "1", figures=True)[0] == 0
    os.rename(out, tmp_path / ".run.old-x1y2")
    folders.clean_leftovers(out, lambda name: True)
    assert json.loads((out / "summary.json").read_text())["seed"] == 1
    os.rename(out, tmp_path / ".run.old-x1y2")
    assert run_cli("run", scenario, "--out", out, "--seed", "2", figures=True)[0] == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run", "scenario.toml"]


def test_a_run_folder_of_flowsim_0_1_can_be_replaced(scenario, tmp_path):
    out = tmp_path / "run"
    # flowsim 0.1 wrote no figures.
    assert run_cli("run", scenario, "--out", out, "--no-figures")[0] == 0
    manifest = json.loads((out / MANIFEST).read_text())
    legacy = {k: v for k, v in manifest.items() if k not in ("files", "format")}
    legacy["format_version"] = 1
    (out / MANIFEST).write_text(json.dumps(legacy))
    code, _, err = run_cli("report", out)
    assert code == 2 and "older format" in err
    assert run_cli("run", scenario, "--out", out)[0] == 0
    assert json.loads((out / MANIFEST).read_text())["format"] == "flowsim-run"


# --- reading back -------------------------------------------------------------------------


@pytest.fixture
def pair(scenario, tmp_path) -> tuple[Path, Path]:
    base, other = tmp_path / "base", tmp_path / "other"
    assert run_cli("run", scenario, "--out", base, "--no-report")[0] == 0
    assert run_cli("run", scenario, "--out", other, "--no-report", "--seed", "4")[0] == 0
    return base, other


def _truncate(folder: Path) -> None:
    path = folder / "ledger.parquet"
    path.write_bytes(path.read_bytes()[:100])


def _swap_tables(folder: Path) -> None:
    shutil.copy(folder / "receipts.parquet", folder / "ledger.parquet")


def _swap_tables_and_relist(folder: Path) -> None:
    _swap_tables(folder)
    relist(folder, "ledger.parquet")


def _wrong_type(folder: Path) -> None:
    ledger = pd.read_parquet(folder / "ledger.parquet")
    ledger["kg"] = ledger["kg"].astype(str)
    ledger.to_parquet(folder / "ledger.parquet")
    relist(folder, "ledger.parquet")


def _missing_key(folder: Path) -> None:
    rewrite_manifest(folder, lambda m: m.pop("replications"))


def _bad_meta_type(folder: Path) -> None:
    rewrite_manifest(folder, lambda m: m.__setitem__("seed", "one"))


def _not_json(folder: Path) -> None:
    (folder / MANIFEST).write_text("{ not json")


def _foreign(folder: Path) -> None:
    (folder / MANIFEST).write_text('{"name": "my-web-app", "icons": []}')


def _summary_edited(folder: Path) -> None:
    """One digit of the exports changed: the same size, another checksum."""
    text = (folder / "summary.json").read_text()
    at = text.index('"exports_kg_by_partner"')
    at += next(i for i, c in enumerate(text[at:]) if c.isdigit())
    digit = "2" if text[at] == "1" else "1"
    (folder / "summary.json").write_text(text[:at] + digit + text[at + 1 :])


def _summary_wrong_type(folder: Path) -> None:
    summary = json.loads((folder / "summary.json").read_text())
    summary["exports_kg_by_partner"]["partner"] = "lots"
    (folder / "summary.json").write_text(json.dumps(summary))
    relist(folder, "summary.json")


def _file_deleted(folder: Path) -> None:
    (folder / "summary.json").unlink()
    (folder / "runs.parquet").unlink()


TAMPERING = {
    "truncated_table": (_truncate, "ledger.parquet", "truncated"),
    "table_swapped": (_swap_tables, "ledger.parquet", "changed since flowsim wrote it"),
    "table_swapped_and_relisted": (_swap_tables_and_relist, "ledger.parquet", "no column"),
    "wrong_column_type": (_wrong_type, "ledger.parquet", "column 'kg'"),
    "missing_key": (_missing_key, "manifest.json", "replications"),
    "wrong_key_type": (_bad_meta_type, "manifest.json", "seed"),
    "manifest_not_json": (_not_json, "manifest.json", "not a flowsim run manifest"),
    "foreign_manifest": (_foreign, "manifest.json", "not written by flowsim"),
    "summary_edited": (_summary_edited, "summary.json", "changed since flowsim wrote it"),
    "summary_wrong_type": (_summary_wrong_type, "summary.json", "not a number"),
    "file_deleted": (_file_deleted, "", "missing"),
}
READS_SUMMARY = {"summary_edited", "summary_wrong_type", "file_deleted"}
READS_TABLES = set(TAMPERING) - {"summary_edited", "summary_wrong_type"}


@pytest.mark.parametrize("case", sorted(TAMPERING))
def test_a_tampered_run_folder_is_exit_2_naming_the_file(case, pair, tmp_path):
    base, other = pair
    tamper, file, fragment = TAMPERING[case]
    tamper(other)
    commands = []
    if case in READS_TABLES:
        commands += [["report", other], ["report", base, "--baseline", other]]
    if case in READS_SUMMARY or case not in READS_TABLES:
        commands += [["compare", base, other], ["compare", base, other, "--json"]]
    if case in {"missing_key", "wrong_key_type", "manifest_not_json", "foreign_manifest"}:
        commands += [["compare", base, other]]
    for argv in commands:
        code, _, err = run_cli(*argv)
        assert code == 2, (argv, err)
        assert "Traceback" not in err
        assert str(other / file) in err and fragment in err, (argv, err)
        assert len(err.strip().splitlines()) == 1, err
    assert not (other / "report.html").exists()


def test_results_load_raises_a_flowsim_error_for_a_tampered_folder(pair):
    import flowsim

    _, other = pair
    _wrong_type(other)
    with pytest.raises(flowsim.FlowsimError, match="column 'kg'"):
        flowsim.Results.load(other)


def test_a_report_replaces_only_an_earlier_report(pair, tmp_path):
    base, _ = pair
    page = tmp_path / "page.html"
    page.write_text("<html>my own notes</html>")
    code, _, err = run_cli("report", base, "--out", page)
    assert code == 2 and "a file flowsim did not write" in err
    assert page.read_text() == "<html>my own notes</html>"
    page.unlink()
    assert run_cli("report", base, "--out", page)[0] == 0
    assert run_cli("report", base, "--out", page)[0] == 0


def test_a_report_written_into_the_run_folder_is_listed_in_its_manifest(pair):
    import flowsim

    base, _ = pair
    assert run_cli("report", base)[0] == 0
    listed = json.loads((base / MANIFEST).read_text())["files"]
    assert listed["report.html"] == file_record(base / "report.html").as_json()
    flowsim.Results.load(base)  # still verifies


def test_compare_json_writes_null_for_a_change_against_zero(scenario, tmp_path, capsys):
    data = chain(20)
    data["nodes"]["partner2"] = dict(data["nodes"]["partner"])
    data["routes"]["buyer_partner2"] = {
        "from": "buyer",
        "to": "partner2",
        "transit_days": 1.0,
        "weight": 0.0,
    }
    base = tmp_path / "zero.toml"
    base.write_text(to_toml(data))
    data["routes"]["buyer_partner2"]["weight"] = 1.0
    other = tmp_path / "some.toml"
    other.write_text(to_toml(data))
    code, out, err = run_cli("compare", base, other, "--json")
    assert code == 0, err

    def refuse(name):
        raise ValueError(f"not JSON: {name}")

    records = json.loads(out, parse_constant=refuse)
    changes = {r["partner"]: r["change_pct"] for r in records["exports"]}
    assert changes["partner2"] is None


# --- sweep folders ------------------------------------------------------------------------


def test_overwrite_refuses_a_folder_with_a_foreign_design_json(sweep_file, tmp_path):
    out = tmp_path / "app"
    out.mkdir()
    (out / "design.json").write_text('{"theme": "dark", "fonts": ["Inter"]}')
    (out / "index.html").write_text("<html></html>")
    before = snapshot(out)
    code, _, err = run_cli("sweep", sweep_file, "--out", out, "--workers", "1", "--overwrite")
    assert code == 2 and "not written by flowsim" in err and "Traceback" not in err
    assert snapshot(out) == before


def test_overwrite_refuses_a_sweep_folder_holding_a_foreign_file(sweep_file, tmp_path):
    out = tmp_path / "sweep"
    assert run_cli("sweep", sweep_file, "--out", out, "--workers", "1", "--no-compact")[0] == 0
    (out / "analysis.ipynb").write_text("{}")
    (out / "parts" / "notes.txt").write_text("mine")
    before = snapshot(out)
    code, _, err = run_cli("sweep", sweep_file, "--out", out, "--workers", "1", "--overwrite")
    assert code == 2 and "which this sweep did not write" in err
    assert snapshot(out) == before


def test_overwrite_removes_only_what_the_sweep_wrote_and_starts_again(sweep_file, tmp_path):
    import flowsim

    out = tmp_path / "sweep"
    assert run_cli("sweep", sweep_file, "--out", out, "--workers", "1", "--no-compact")[0] == 0
    first = flowsim.load_sweep(out)
    # A part written, but its line lost to a kill: still this sweep's, by its metadata.
    (out / "manifest.jsonl").write_text(
        "".join((out / "manifest.jsonl").read_text().splitlines(keepends=True)[:-1])
    )
    (out / "parts" / ".run-0000003.parquet.tmp-99").write_bytes(b"PAR1 half")
    code, _, err = run_cli("sweep", sweep_file, "--out", out, "--workers", "1", "--overwrite")
    assert code == 0, err
    pd.testing.assert_frame_equal(
        flowsim.load_sweep(out).sort_values(["run", "metric"]).reset_index(drop=True),
        first.sort_values(["run", "metric"]).reset_index(drop=True),
    )
    assert not list((out / "parts").glob(".*"))


def test_a_part_of_another_sweep_is_not_taken_for_this_ones(sweep_file, tmp_path):
    out, other = tmp_path / "sweep", tmp_path / "other"
    assert run_cli("sweep", sweep_file, "--out", out, "--workers", "1", "--no-compact")[0] == 0
    sweep_file.write_text(SWEEP.replace("replications = 2", "replications = 3"))
    assert run_cli("sweep", sweep_file, "--out", other, "--workers", "1", "--no-compact")[0] == 0
    lines = (out / "manifest.jsonl").read_text().splitlines(keepends=True)
    (out / "manifest.jsonl").write_text("".join(lines[:-1]))
    last = json.loads(lines[-1])["part"]
    shutil.copy(other / "parts" / last, out / "parts" / last)
    sweep_file.write_text(SWEEP)
    code, _, err = run_cli("sweep", sweep_file, "--out", out, "--workers", "1", "--overwrite")
    assert code == 2 and f"parts/{last}" in err


def sorted_sweep(folder: Path) -> pd.DataFrame:
    import flowsim

    return flowsim.load_sweep(folder).sort_values(["run", "metric"]).reset_index(drop=True)


def test_damaged_parts_and_lines_are_run_again_on_resume(sweep_file, tmp_path):
    import flowsim

    out, clean = tmp_path / "sweep", tmp_path / "clean"
    assert run_cli("sweep", sweep_file, "--out", clean, "--workers", "1", "--no-compact")[0] == 0
    assert run_cli("sweep", sweep_file, "--out", out, "--workers", "1", "--no-compact")[0] == 0
    parts = out / "parts"
    truncated = parts / "run-0000000.parquet"
    truncated.write_bytes(truncated.read_bytes()[:-40])
    flipped = parts / "run-0000001.parquet"
    data = bytearray(flipped.read_bytes())
    data[len(data) // 2] ^= 0xFF
    flipped.write_bytes(bytes(data))
    (parts / "run-0000002.parquet").unlink()
    lines = (out / "manifest.jsonl").read_text().splitlines(keepends=True)
    lines[3] = '{"run": 3, "part": "run-0000003.parquet", "bytes": "many"}\n'
    (out / "manifest.jsonl").write_text("".join([*lines, '{"run": 3}\n', "[1, 2]\n"]))
    with pytest.raises(flowsim.FlowsimError, match=r"run-0000000\.parquet: truncated or changed"):
        flowsim.load_sweep(out)
    code, stdout, err = run_cli("sweep", sweep_file, "--out", out, "--workers", "1", "--resume")
    assert code == 0, err
    assert err.count("warning:") == 1 and "those runs will be run again" in err
    assert "done: 4 run(s)" in stdout
    pd.testing.assert_frame_equal(sorted_sweep(out), sorted_sweep(clean))


def test_resume_after_an_upgrade_is_refused(sweep_file, tmp_path):
    out = tmp_path / "sweep"
    assert run_cli("sweep", sweep_file, "--out", out, "--workers", "1")[0] == 0
    design = json.loads((out / "design.json").read_text())
    design["flowsim_version"] = "0.0.1"
    (out / "design.json").write_text(json.dumps(design))
    code, _, err = run_cli("sweep", sweep_file, "--out", out, "--workers", "1", "--resume")
    assert code == 2 and "started by flowsim 0.0.1" in err and "--overwrite" in err


def test_a_finished_sweep_in_a_read_only_folder_resumes_as_a_no_op(
    sweep_file, tmp_path, monkeypatch
):
    import builtins
    import errno

    out = tmp_path / "sweep"
    assert run_cli("sweep", sweep_file, "--out", out, "--workers", "1")[0] == 0
    before = snapshot(out)
    real_open, real_os_open = builtins.open, os.open

    def refuse(path):
        return Path(str(path)).resolve().is_relative_to(out.resolve())

    def open_(file, mode="r", *args, **kwargs):
        if any(c in mode for c in "wax+") and refuse(file):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(file))
        return real_open(file, mode, *args, **kwargs)

    def os_open(path, flags, *args, **kwargs):
        if flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT) and refuse(path):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))
        return real_os_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", open_)
    monkeypatch.setattr(os, "open", os_open)
    code, stdout, err = run_cli("sweep", sweep_file, "--out", out, "--workers", "1", "--resume")
    monkeypatch.undo()
    assert code == 0, err
    assert "done: 0 run(s)" in stdout and "4 finished before" in stdout
    assert snapshot(out) == before


# --- what a forged or edited folder cannot make flowsim do ---------------------------------


ZERO = {"bytes": 1, "sha256": "0" * 64}


def test_a_forged_manifest_listing_someone_elses_files_removes_nothing(scenario, tmp_path):
    forged = tmp_path / "forged"
    forged.mkdir()
    (forged / "thesis.docx").write_text("years of work")
    (forged / "ledger.parquet").write_text("not a table")
    manifest = {
        "format": "flowsim-run",
        "flowsim_version": "0.1.0",
        "files": {"thesis.docx": ZERO, "ledger.parquet": ZERO},
    }
    (forged / "manifest.json").write_text(json.dumps(manifest))
    before = snapshot(forged)
    code, _, err = run_cli("run", scenario, "--out", forged)
    assert code == 2 and "'thesis.docx' is not a file flowsim writes" in err
    assert snapshot(forged) == before
    # Listing only names flowsim writes is not enough: the checksums must hold.
    manifest["files"] = {"ledger.parquet": ZERO}
    (forged / "thesis.docx").unlink()
    (forged / "manifest.json").write_text(json.dumps(manifest))
    before = snapshot(forged)
    code, _, err = run_cli("run", scenario, "--out", forged)
    assert code == 2 and "ledger.parquet was changed since flowsim wrote it" in err
    assert snapshot(forged) == before


@pytest.mark.parametrize("name", ["report.html", "summary.json"])
def test_a_file_of_a_run_edited_by_hand_is_not_replaced(name, scenario, tmp_path):
    out = tmp_path / "run"
    assert run_cli("run", scenario, "--out", out)[0] == 0
    (out / name).write_text("my notes, written over the report")
    before = snapshot(out)
    code, _, err = run_cli("run", scenario, "--out", out)
    assert code == 2 and f"{name} was changed since flowsim wrote it" in err
    assert snapshot(out) == before


def _sweep_then(sweep_file: Path, out: Path) -> None:
    """A finished sweep that keeps its parts, for the tests that damage them."""
    assert run_cli("sweep", sweep_file, "--out", out, "--workers", "1", "--no-compact")[0] == 0


@pytest.mark.parametrize("how", ["symlink", "hardlink", "fifo"])
def test_resume_never_writes_through_a_log_that_is_not_the_sweeps_own(how, sweep_file, tmp_path):
    out = tmp_path / "sweep"
    _sweep_then(sweep_file, out)
    victim = tmp_path / "victim.txt"
    victim.write_text("precious line 1\nprecious tail, no newline")
    log = out / "manifest.jsonl"
    log.unlink()
    if how == "symlink":
        log.symlink_to(victim)
    elif how == "hardlink":
        os.link(victim, log)
    else:
        os.mkfifo(log)
    code, _, err = run_cli("sweep", sweep_file, "--out", out, "--workers", "1", "--resume")
    assert code == 2 and "manifest.jsonl" in err and "Traceback" not in err
    assert victim.read_text() == "precious line 1\nprecious tail, no newline"


def test_resume_never_writes_through_a_parts_folder_that_is_a_link(sweep_file, tmp_path):
    out = tmp_path / "sweep"
    _sweep_then(sweep_file, out)
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    (theirs / "run-0000000.parquet").write_text("mine")
    (theirs / ".run-0000001.parquet.tmp-1").write_text("keep")
    shutil.rmtree(out / "parts")
    (out / "parts").symlink_to(theirs)
    before = snapshot(theirs)
    code, _, err = run_cli("sweep", sweep_file, "--out", out, "--workers", "1", "--resume")
    assert code == 2 and "parts" in err
    assert snapshot(theirs) == before


def test_a_part_replaced_by_a_folder_is_named_on_resume(sweep_file, tmp_path):
    out = tmp_path / "sweep"
    _sweep_then(sweep_file, out)
    (out / "parts" / "run-0000001.parquet").unlink()
    (out / "parts" / "run-0000001.parquet").mkdir()
    code, _, err = run_cli("sweep", sweep_file, "--out", out, "--workers", "1", "--resume")
    assert code == 2 and "run-0000001.parquet: not a part flowsim wrote" in err


def test_a_line_whose_row_count_was_changed_is_run_again(sweep_file, tmp_path):
    out, clean = tmp_path / "sweep", tmp_path / "clean"
    _sweep_then(sweep_file, out)
    _sweep_then(sweep_file, clean)
    log = out / "manifest.jsonl"
    lines = log.read_text().splitlines(keepends=True)
    first = json.loads(lines[0])
    first["rows"] = 3
    lines[0] = json.dumps(first) + "\n"
    log.write_text("".join(lines))
    code, stdout, err = run_cli("sweep", sweep_file, "--out", out, "--workers", "1", "--resume")
    assert code == 0 and "holds 27" not in stdout and "warning:" in err
    assert "done: 1 run(s)" in stdout
    pd.testing.assert_frame_equal(sorted_sweep(out), sorted_sweep(clean))


@pytest.mark.parametrize(
    "change",
    [
        {"parameters": 5},
        {"parameters": [1, 2]},
        {"runs": ["a", "a", "a", "a"]},
        {"runs": 7},
    ],
    ids=["parameters_a_number", "parameters_not_names", "runs_not_records", "runs_a_number"],
)
def test_a_design_json_edited_by_hand_is_named_not_a_traceback(change, sweep_file, tmp_path):
    import flowsim

    out = tmp_path / "sweep"
    _sweep_then(sweep_file, out)
    design = json.loads((out / "design.json").read_text())
    design.update(change)
    (out / "design.json").write_text(json.dumps(design))
    with pytest.raises(flowsim.FlowsimError, match=r"design\.json"):
        flowsim.load_sweep(out)
    code, _, err = run_cli("sweep", sweep_file, "--out", out, "--workers", "1", "--resume")
    assert code == 2 and "design.json" in err and "Traceback" not in err


MANIFEST_EDITS = {
    "start_before_pandas": {"start": "0001-01-01"},
    "end_after_pandas": {"end": "9999-12-31"},
    "start_after_end": {"start": "2018-03-01"},
    "replications_huge": {"replications": 10**15},
    "assumption_a_number": {"assumptions": [1]},
    "assumption_a_string": {"assumptions": ["x"]},
    "assumption_without_keys": {"assumptions": [{"a": "b"}]},
    "policy_without_keys": {"policies": [{"kind": "raid"}]},
}


@pytest.mark.parametrize("case", sorted(MANIFEST_EDITS))
def test_a_manifest_edited_by_hand_is_exit_2_naming_it(case, pair):
    _, other = pair
    rewrite_manifest(other, lambda m: m.update(MANIFEST_EDITS[case]))
    for argv in (["report", other], ["compare", other, other]):
        code, _, err = run_cli(*argv)
        assert code == 2, (argv, err)
        assert str(other / "manifest.json") in err and "Traceback" not in err
        assert len(err.strip().splitlines()) == 1, err


def _retable(folder: Path, name: str, change) -> None:
    table = pd.read_parquet(folder / f"{name}.parquet")
    table = change(table)
    table.to_parquet(folder / f"{name}.parquet", index=False)
    relist(folder, f"{name}.parquet")


FORGERIES = {
    "nodes_twice": ("nodes", lambda t: pd.concat([t, t], ignore_index=True)),
    "route_to_nowhere": ("routes", lambda t: t.assign(to_node="nowhere")),
    "unknown_kind": ("nodes", lambda t: t.assign(kind="castle")),
    "infinite_mass": ("ledger", lambda t: t.assign(kg=float("inf"))),
    "negative_mass": ("ledger", lambda t: t.assign(kg=-1.0)),
    "unknown_event": ("ledger", lambda t: t.assign(event="teleported")),
    "day_after_the_calendar": ("ledger", lambda t: t.assign(day=1e6)),
    "runs_missing": ("runs", lambda t: t.iloc[0:0]),
}


@pytest.mark.parametrize("case", sorted(FORGERIES))
def test_a_forged_table_with_valid_checksums_is_exit_2_naming_it(case, pair):
    import flowsim

    _, other = pair
    table, change = FORGERIES[case]
    _retable(other, table, change)
    code, _, err = run_cli("report", other)
    assert code == 2 and str(other / f"{table}.parquet") in err and "Traceback" not in err
    with pytest.raises(flowsim.FlowsimError):
        flowsim.Results.load(other)


def test_a_summary_with_a_number_too_large_for_a_float_is_exit_2(pair):
    base, other = pair
    path = other / "summary.json"
    summary = json.loads(path.read_text())
    summary["exports_kg_by_partner"]["partner"] = 2**2000
    path.write_text(json.dumps(summary))
    relist(other, "summary.json")
    for argv in (["compare", base, other], ["compare", base, other, "--json"]):
        code, _, err = run_cli(*argv)
        assert code == 2 and "not a finite number" in err


def test_results_load_given_something_that_is_not_a_path_is_a_type_error():
    import flowsim

    for value in (None, 123):
        with pytest.raises(TypeError, match="path of a run folder"):
            flowsim.Results.load(value)


def test_out_as_the_current_folder_is_refused_plainly(scenario, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = run_cli("run", scenario, "--out", ".")
    assert code == 2 and "is a folder that is not a flowsim run" in err
    assert ".tmp-" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scenario.toml"]


# --- the figures' subfolder -------------------------------------------------------------


def test_a_run_folder_holds_its_figures_listed_and_replaced_with_it(scenario, tmp_path):
    out = tmp_path / "run"
    assert run_cli("run", scenario, "--out", out, figures=True)[0] == 0
    listed = set(json.loads((out / MANIFEST).read_text())["files"])
    figures = {f"figures/{p.name}" for p in (out / "figures").iterdir()}
    assert figures and figures <= listed
    assert {"figures/flows.svg", "figures/monthly_exports.svg"} <= figures
    assert not any(name.endswith(".png") for name in figures)  # PNG only when asked
    # The page and the file are one drawing.
    svg = (out / "figures" / "flows.svg").read_bytes()
    import base64

    assert base64.b64encode(svg).decode() in (out / "report.html").read_text()
    assert run_cli("run", scenario, "--out", out, "--no-figures")[0] == 0
    assert not (out / "figures").exists()
    assert run_cli("run", scenario, "--out", out, "--png", figures=True)[0] == 0
    listed = set(json.loads((out / MANIFEST).read_text())["files"])
    assert {"figures/flows.png", "figures/flows.svg", "figures/monthly_exports.png"} <= listed
    assert (out / "figures" / "flows.png").read_bytes().startswith(b"\x89PNG")
    code, _, err = run_cli("run", scenario, "--out", out, "--png", "--no-report")
    assert code == 2 and "--png draws the report's figures, which --no-report leaves out" in err
    code, _, err = run_cli("run", scenario, "--out", out, "--png", "--no-figures", figures=True)
    assert code == 2 and "not allowed with argument" in err
    assert (out / "figures" / "flows.png").is_file()  # the refused runs changed nothing
    results = flowsim.Results.load(out)
    with pytest.raises(flowsim.FlowsimError, match="give figures=True"):
        results.save(tmp_path / "other", png=True)
    assert not (tmp_path / "other").exists()


def test_a_file_of_someone_elses_among_the_figures_stops_the_replace(scenario, tmp_path):
    out = tmp_path / "run"
    assert run_cli("run", scenario, "--out", out, figures=True)[0] == 0
    (out / "figures" / "notes.txt").write_text("mine")
    before = snapshot(out)
    code, _, err = run_cli("run", scenario, "--out", out, "--seed", "2", figures=True)
    assert code == 2, err
    assert "'figures/notes.txt', which is not one of the files flowsim wrote" in err
    assert snapshot(out) == before


def test_a_changed_figure_stops_the_replace(scenario, tmp_path):
    out = tmp_path / "run"
    assert run_cli("run", scenario, "--out", out, figures=True)[0] == 0
    (out / "figures" / "flows.svg").write_text("<svg>annotated by hand</svg>")
    code, _, err = run_cli("run", scenario, "--out", out, "--seed", "2", figures=True)
    assert code == 2 and "figures/flows.svg was changed since flowsim wrote it" in err
    assert (out / "figures" / "flows.svg").read_text() == "<svg>annotated by hand</svg>"


def test_figures_that_are_a_link_to_another_folder_are_never_followed(scenario, tmp_path):
    out = tmp_path / "run"
    assert run_cli("run", scenario, "--out", out, figures=True)[0] == 0
    elsewhere = tmp_path / "elsewhere"
    shutil.move(out / "figures", elsewhere)
    (out / "figures").symlink_to(elsewhere, target_is_directory=True)
    before = snapshot(elsewhere)
    code, _, err = run_cli("run", scenario, "--out", out, "--seed", "2", figures=True)
    assert code == 2 and "'figures'" in err
    assert snapshot(elsewhere) == before


def test_a_manifest_listing_a_deeper_path_is_not_obeyed(scenario, tmp_path):
    out = tmp_path / "run"
    assert run_cli("run", scenario, "--out", out, figures=True)[0] == 0
    record = {"bytes": 8, "sha256": "0" * 64}
    for forged in ("figures/../../victim.png", "figures/a/b.png", "other/flows.png"):
        rewrite_manifest(out, lambda m, name=forged: m["files"].__setitem__(name, record))
        code, _, err = run_cli("run", scenario, "--out", out, figures=True)
        assert code == 2 and "manifest.json" in err, (forged, err)
        rewrite_manifest(out, lambda m, name=forged: m["files"].pop(name))


def test_results_save_writes_the_report_and_its_figures(tmp_path):
    from networks import run

    import flowsim

    results = run(chain(20))
    folder = results.save(tmp_path / "saved", report=True, figures=True)
    assert (folder / "report.html").is_file() and (folder / "figures" / "flows.svg").is_file()
    assert flowsim.Results.load(folder).replications == 1
