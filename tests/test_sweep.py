"""Sweeps: expansion, executors, streaming to disk, resume, expectations."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd
import pyarrow.dataset as ds
import pytest

import flowsim
from flowsim.cli import main
from flowsim.executors import pool_executor, serial_executor
from flowsim.sweep import expand, load_sweep_file, run_sweep

ROOT = Path(__file__).parents[1]
SMOKE = ROOT / "scenarios" / "sweeps" / "smoke.toml"

TINY_SCENARIO = """
[meta]
name = "tiny"
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


def tiny_sweep(tmp_path: Path, body: str) -> Path:
    (tmp_path / "tiny.toml").write_text(TINY_SCENARIO)
    path = tmp_path / "sweep.toml"
    path.write_text(textwrap.dedent(body))
    return path


GRID = """
[sweep]
name = "grid"
scenario = "tiny.toml"
replications = 3
seed = 5

[parameters]
"routes.mine_buyer.seizure_probability" = [0.0, 0.1, 0.3]
"routes.buyer_usa.weight" = [1.0, 3.0]
"""


def sorted_table(table: pd.DataFrame) -> pd.DataFrame:
    return table.sort_values(["run", "metric"]).reset_index(drop=True)


def test_grid_expands_to_every_combination_times_replications(tmp_path):
    sweep, folder = load_sweep_file(tiny_sweep(tmp_path, GRID))
    runs = expand(sweep, folder)
    assert len(runs) == 3 * 2 * 3
    assert [r.run for r in runs] == list(range(18))
    assert {r.replication for r in runs} == {0, 1, 2}
    assert len({json.dumps(r.params, sort_keys=True) for r in runs}) == 6
    assert expand(sweep, folder) == runs  # pure: the same design every time


def test_latin_hypercube_fills_each_stratum_once(tmp_path):
    body = """
    [sweep]
    name = "lhs"
    scenario = "tiny.toml"
    method = "latin_hypercube"
    samples = 10
    seed = 3
    [parameters]
    "routes.mine_buyer.seizure_probability" = { low = 0.0, high = 0.5 }
    """
    sweep, folder = load_sweep_file(tiny_sweep(tmp_path, body))
    values = sorted(
        r.params["routes.mine_buyer.seizure_probability"] for r in expand(sweep, folder)
    )
    assert [int(v / 0.05) for v in values] == list(range(10))


def test_one_table_whatever_the_executor(tmp_path):
    sweep, folder = load_sweep_file(tiny_sweep(tmp_path, GRID))
    run_sweep(sweep, folder, tmp_path / "serial", executor=serial_executor)
    run_sweep(sweep, folder, tmp_path / "pool", executor=pool_executor(2))
    serial = sorted_table(flowsim.load_sweep(tmp_path / "serial"))
    pooled = sorted_table(flowsim.load_sweep(tmp_path / "pool"))
    pd.testing.assert_frame_equal(serial, pooled)
    # One row per run and metric, the swept parameters as columns.
    assert {"routes.mine_buyer.seizure_probability", "routes.buyer_usa.weight"} <= set(serial)
    assert serial.groupby("run")["metric"].nunique().nunique() == 1
    # Other readers find the same rows in sweep.parquet, into which the parts were gathered.
    assert ds.dataset(tmp_path / "serial" / "sweep.parquet").to_table().num_rows == len(serial)
    assert not (tmp_path / "serial" / "parts").exists()
    # Timings and hosts are in the manifest, not the table.
    line = json.loads((tmp_path / "serial" / "manifest.jsonl").read_text().splitlines()[0])
    assert {"seconds", "host", "pid"} <= set(line)
    assert "seconds" not in serial.columns


def test_a_sweep_run_equals_the_same_replication_run_alone(tmp_path):
    sweep, folder = load_sweep_file(tiny_sweep(tmp_path, GRID))
    run_sweep(sweep, folder, tmp_path / "out", executor=serial_executor)
    table = flowsim.load_sweep(tmp_path / "out")
    spec = expand(sweep, folder)[4]
    alone = flowsim.simulate(
        spec.file, seed=spec.seed, overrides=spec.overrides, first_replication=spec.replication
    )
    wanted = alone.summary()["totals_kg"]["exported"]
    row = table[(table["run"] == 4) & (table["metric"] == "totals_kg.exported")]
    assert row["value"].item() == pytest.approx(wanted)


def test_smoke_sweep_is_identical_serially_on_a_pool_and_on_dask(tmp_path, capsys):
    outs = {}
    for name, options in {
        "serial": ["--workers", "1"],
        "pool": ["--workers", "2"],
        "dask": ["--dask", "local", "--workers", "2"],
    }.items():
        outs[name] = tmp_path / name
        assert main(["sweep", str(SMOKE), "--out", str(outs[name]), *options]) == 0
    capsys.readouterr()
    tables = {name: sorted_table(flowsim.load_sweep(out)) for name, out in outs.items()}
    pd.testing.assert_frame_equal(tables["serial"], tables["pool"])
    pd.testing.assert_frame_equal(tables["serial"], tables["dask"])


def test_resume_after_a_kill_finishes_without_redoing_runs(tmp_path):
    body = GRID.replace("replications = 3", "replications = 8")
    path = tiny_sweep(tmp_path, body)
    out = tmp_path / "out"
    command = [sys.executable, "-m", "flowsim.cli", "sweep", str(path), "--out", str(out)]
    worker = subprocess.Popen([*command, "--workers", "1"], stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    manifest = out / "manifest.jsonl"
    while time.monotonic() < deadline:
        if manifest.is_file() and len(manifest.read_text().splitlines()) >= 5:
            break
        time.sleep(0.05)
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait()
    finished = {json.loads(x)["run"] for x in manifest.read_text().splitlines() if x.endswith("}")}
    assert 5 <= len(finished) < 48, "the kill should land mid-sweep"
    # A crash may leave half a manifest line; it must not count; nor a half-written part.
    with open(manifest, "a") as f:
        f.write('{"run": 47, "part": "run-00000')
    (out / "parts" / ".run-0000047.parquet.tmp-1").write_bytes(b"PAR1 half")
    resumed = subprocess.run(
        [*command, "--workers", "1", "--resume"], capture_output=True, text=True
    )
    assert resumed.returncode == 0, resumed.stderr
    lines = [json.loads(x) for x in manifest.read_text().splitlines() if x.endswith("}")]
    runs = [line["run"] for line in lines if "run" in line]
    assert sorted(runs) == list(range(48))  # each run once: none redone
    assert lines[-1]["compacted"] == "sweep.parquet" and lines[-1]["runs"] == 48
    assert not list((out / "parts").glob(".*.tmp-*"))  # what a kill left half-written is gone
    clean = tmp_path / "clean"
    subprocess.run([*command[:-2], "--out", str(clean), "--workers", "1"], check=True)
    pd.testing.assert_frame_equal(
        sorted_table(flowsim.load_sweep(out)), sorted_table(flowsim.load_sweep(clean))
    )


def test_a_full_folder_needs_resume_and_a_different_sweep_is_refused(tmp_path):
    path = tiny_sweep(tmp_path, GRID)
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out), "--workers", "1"]) == 0
    assert main(["sweep", str(path), "--out", str(out), "--workers", "1"]) == 2
    assert main(["sweep", str(path), "--out", str(out), "--workers", "1", "--resume"]) == 0
    path.write_text(GRID.replace("seed = 5", "seed = 6"))
    assert main(["sweep", str(path), "--out", str(out), "--workers", "1", "--resume"]) == 2
    assert main(["sweep", str(path), "--out", str(out), "--workers", "1", "--overwrite"]) == 0


EXPECT_FAIL = """
[[expect]]
name = "more than a tonne to the US"
metric = "exports_kg_by_partner.usa"
at_least = 1000.0

[[expect]]
name = "some gold to Turkey"
metric = "exports_kg_by_partner.tur"
at_least = 1.0
"""


def test_failing_expectation_exits_1_names_the_rule_and_writes_junit(tmp_path, capsys):
    path = tiny_sweep(
        tmp_path, GRID.replace('"routes.buyer_usa.weight" = [1.0, 3.0]', "") + EXPECT_FAIL
    )
    junit = tmp_path / "report.xml"
    code = main(
        ["sweep", str(path), "--out", str(tmp_path / "o"), "--workers", "1", "--junit", str(junit)]
    )
    assert code == 1
    out = capsys.readouterr()
    assert "FAIL more than a tonne to the US" in out.out
    assert "is below at_least 1000 by" in out.out
    assert "expectation(s) failed" in out.err
    suite = ET.parse(junit).getroot()
    assert suite.get("tests") == "6" and suite.get("failures") == "3"
    failures = [c for c in suite.iter("testcase") if c.find("failure") is not None]
    assert {c.get("name") for c in failures} == {
        f"more than a tonne to the US [tiny point {p}]" for p in range(3)
    }
    assert {c.get("classname") for c in suite.iter("testcase")} == {"grid"}


def test_run_checks_the_expectations_of_a_scenario_file(tmp_path, capsys):
    scenario = tmp_path / "tiny.toml"
    scenario.write_text(TINY_SCENARIO + EXPECT_FAIL)
    junit = tmp_path / "run.xml"
    assert main(["run", str(scenario), "--out", str(tmp_path / "r"), "--junit", str(junit)]) == 1
    assert "FAIL more than a tonne to the US" in capsys.readouterr().out
    assert ET.parse(junit).getroot().get("failures") == "1"
    scenario.write_text(TINY_SCENARIO + EXPECT_FAIL.replace("at_least = 1000.0", "at_least = 1.0"))
    assert main(["run", str(scenario), "--out", str(tmp_path / "r")]) == 0


def test_ci_rule_needs_the_interval_to_exclude_the_value(tmp_path, capsys):
    rule = """
    [[expect]]
    name = "seizures are not zero"
    metric = "totals_kg.seized"
    ci_excludes = 0.0
    """
    body = GRID.replace('"routes.buyer_usa.weight" = [1.0, 3.0]', "") + textwrap.dedent(rule)
    path = tiny_sweep(tmp_path, body)
    assert main(["sweep", str(path), "--out", str(tmp_path / "o"), "--workers", "1"]) == 1
    out = capsys.readouterr().out
    # With seizure probability 0 there are no seizures: the interval is [0, 0].
    assert "has a 95% interval that includes 0" in out
    assert out.count("PASS seizures are not zero") == 2


@pytest.mark.parametrize(
    "body, fragment",
    [
        (GRID.replace("[0.0, 0.1, 0.3]", "{ low = 0.0, high = 0.3 }"), "a grid takes lists"),
        (
            GRID.replace("routes.mine_buyer.seizure_probability", "routes.mine_buyer.seizure_prob"),
            "did you mean 'seizure_probability'",
        ),
        (GRID.replace("[0.0, 0.1, 0.3]", "[0.0, 2.0]"), "less than or equal to 1"),
        (GRID.replace("replications = 3", "replicatons = 3"), "did you mean 'replications'"),
        (GRID.replace('scenario = "tiny.toml"', 'scenario = "nope.toml"'), "file not found"),
    ],
)
def test_bad_sweep_files_are_rejected_before_any_run(tmp_path, capsys, body, fragment):
    path = tiny_sweep(tmp_path, body)
    assert main(["sweep", str(path), "--out", str(tmp_path / "o"), "--workers", "1"]) == 2
    err = capsys.readouterr().err
    assert fragment in err
    assert "Traceback" not in err
    assert not (tmp_path / "o" / "parts").exists() or not any((tmp_path / "o" / "parts").iterdir())


def test_progress_is_plain_lines_when_not_on_a_terminal(tmp_path):
    path = tiny_sweep(tmp_path, GRID)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "flowsim.cli",
            "sweep",
            str(path),
            "--out",
            str(tmp_path / "o"),
            "--workers",
            "1",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "sweep: 18/18 runs" in done.stderr
    assert "\r" not in done.stderr


def test_tornado_ranks_the_parameter_that_matters(tmp_path):
    sweep, folder = load_sweep_file(tiny_sweep(tmp_path, GRID))
    run_sweep(sweep, folder, tmp_path / "o", executor=serial_executor)
    table = flowsim.tornado(flowsim.load_sweep(tmp_path / "o"), "totals_kg.seized")
    assert table["parameter"].iloc[0] == "routes.mine_buyer.seizure_probability"
    assert table["swing"].iloc[0] > 0


def test_resume_works_from_another_folder_and_notices_edited_scenarios(tmp_path, monkeypatch):
    path = tiny_sweep(tmp_path, GRID)
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out), "--workers", "1"]) == 0
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert main(["sweep", "../sweep.toml", "--out", "../out", "--workers", "1", "--resume"]) == 0
    (tmp_path / "tiny.toml").write_text(
        TINY_SCENARIO.replace("production_kg_per_day = 10.0", "production_kg_per_day = 11.0")
    )
    assert main(["sweep", "../sweep.toml", "--out", "../out", "--workers", "1", "--resume"]) == 2


def test_every_part_carries_every_parameter_column(tmp_path):
    body = (
        GRID.replace(
            '"routes.buyer_usa.weight" = [1.0, 3.0]',
            '"routes.buyer_usa.weight" = [1, 3]',
        )
        + '\n[[scenarios]]\nname = "fixed"\nvary = false\n\n[[scenarios]]\nname = "varied"\n'
    )
    path = tiny_sweep(tmp_path, body)
    assert main(["sweep", str(path), "--out", str(tmp_path / "o"), "--workers", "1"]) == 0
    table = ds.dataset(tmp_path / "o" / "sweep.parquet").to_table().to_pandas()
    # Stored under names SQL takes unquoted; load_sweep gives the sweep file's names.
    assert {"routes__buyer_usa__weight", "routes__mine_buyer__seizure_probability"} <= set(table)
    assert table.loc[table["scenario"] == "fixed", "routes__buyer_usa__weight"].isna().all()
    assert set(table.loc[table["scenario"] == "varied", "routes__buyer_usa__weight"]) == {1.0, 3.0}
    loaded = flowsim.load_sweep(tmp_path / "o")
    assert {"routes.buyer_usa.weight", "routes.mine_buyer.seizure_probability"} <= set(loaded)


def test_expectation_labels_and_metrics_are_checked_before_running(tmp_path, capsys):
    rule = (
        '\n[[expect]]\nname = "x"\nmetric = "exports_kg_by_partner.tur"\n'
        'compare_to = "nope"\nat_least = 0\n'
    )
    path = tiny_sweep(tmp_path, GRID + rule)
    assert main(["sweep", str(path), "--out", str(tmp_path / "o"), "--workers", "1"]) == 2
    assert "compare_to 'nope' is not a scenario of this sweep" in capsys.readouterr().err
    path.write_text(
        GRID + rule.replace('compare_to = "nope"\n', "").replace("exports_kg_by", "export_kg_by")
    )
    assert main(["sweep", str(path), "--out", str(tmp_path / "o"), "--workers", "1"]) == 2
    assert "not one of totals_kg" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_unquoted_dotted_parameter_gets_a_clear_message(tmp_path, capsys):
    body = GRID.replace(
        '"routes.mine_buyer.seizure_probability"', "routes.mine_buyer.seizure_probability"
    )
    path = tiny_sweep(tmp_path, body)
    assert main(["sweep", str(path), "--out", str(tmp_path / "o"), "--workers", "1"]) == 2
    assert "quote a key path" in capsys.readouterr().err


def test_dask_takes_a_client_of_ones_own_and_leaves_it_open(tmp_path):
    import logging

    from distributed import Client, LocalCluster

    path = tiny_sweep(tmp_path, GRID.replace("replications = 3", "replications = 1"))
    sweep, folder = load_sweep_file(path)
    with (
        LocalCluster(
            n_workers=1,
            threads_per_worker=1,
            processes=False,
            dashboard_address=None,
            silence_logs=logging.CRITICAL,
        ) as cluster,
        Client(cluster) as client,
    ):
        run_sweep(sweep, folder, tmp_path / "out", executor=flowsim.dask_executor(client))
        assert client.status == "running"
    serial = tmp_path / "serial"
    run_sweep(sweep, folder, serial, executor=serial_executor)
    pd.testing.assert_frame_equal(
        sorted_table(flowsim.load_sweep(tmp_path / "out")), sorted_table(flowsim.load_sweep(serial))
    )
