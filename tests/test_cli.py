"""The flowsim command, end to end, in a temporary folder."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from flowsim.cli import main

SCENARIOS = Path(__file__).parents[1] / "scenarios"
BASELINE = SCENARIOS / "venezuela_baseline.toml"
# Shortened with --set calendar.end: a scenario with no schedule points after January.
SHORT = SCENARIOS / "peru_madre_de_dios_baseline.toml"
SANCTIONS = SCENARIOS / "venezuela_sanctions.toml"


def test_run_writes_a_run_folder_and_prints_a_summary(tmp_path, capsys):
    out = tmp_path / "x"
    assert main(["run", str(SANCTIONS), "--seed", "1", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "exports by partner" in printed and "turkey" in printed
    summary = json.loads((out / "summary.json").read_text())
    assert summary["scenario"] == "venezuela_sanctions"
    assert summary["seed"] == 1
    assert summary["replications"] == 1
    assert summary["start"] == "2018-01-01" and summary["end"] == "2019-12-31"
    for key in ("produced", "exported", "seized", "lost", "in_stock", "in_transit"):
        assert key in summary["totals_kg"]
    assert set(summary["exports_kg_by_partner"]) == set(summary["exports_usd_by_partner"])
    totals = summary["totals_kg"]
    inflow = totals["opening_stock"] + totals["produced"]
    outflow = sum(totals[k] for k in ("exported", "seized", "lost", "in_stock", "in_transit"))
    assert inflow == pytest.approx(outflow, rel=1e-9)


def test_run_defaults_to_results_folder_named_after_the_scenario(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["run", str(SHORT), "--set", "calendar.end=2014-03-31"]) == 0
    assert (tmp_path / "results" / "peru_madre_de_dios_baseline" / "summary.json").is_file()


def test_run_with_replications_and_overrides(tmp_path):
    out = tmp_path / "r"
    code = main(
        [
            "run",
            str(SANCTIONS),
            "--replications",
            "2",
            "--no-baseline",
            "--out",
            str(out),
            "--set",
            "policies.sanctions.eo13850_gold_sector.enabled=false",
            "--set",
            "meta.description='no executive order'",
        ]
    )
    assert code == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["replications"] == 2
    assert summary["description"] == "no executive order"
    eo = [p for p in summary["policies"] if p["name"] == "eo13850_gold_sector"]
    assert eo == [
        {"kind": "sanction", "name": "eo13850_gold_sector", "enabled": False, "from": "2018-11-01"}
    ]


def test_same_seed_gives_identical_summaries(tmp_path):
    for name in ("a", "b"):
        argv = ["run", str(BASELINE), "--seed", "4", "--no-report", "--out", str(tmp_path / name)]
        assert main(argv) == 0
    a = json.loads((tmp_path / "a" / "summary.json").read_text())
    b = json.loads((tmp_path / "b" / "summary.json").read_text())
    assert a == b


def test_compare_run_folders_and_scenario_files(tmp_path, capsys):
    main(["run", str(BASELINE), "--seed", "1", "--no-report", "--out", str(tmp_path / "base")])
    argv = ["run", str(SANCTIONS), "--seed", "1", "--no-baseline", "--no-report"]
    main([*argv, "--out", str(tmp_path / "sanc")])
    capsys.readouterr()
    assert main(["compare", str(tmp_path / "base"), str(tmp_path / "sanc"), "--json"]) == 0
    from_folders = json.loads(capsys.readouterr().out)
    assert main(["compare", str(BASELINE), str(SANCTIONS), "--seed", "1", "--json"]) == 0
    from_files = json.loads(capsys.readouterr().out)
    assert from_folders == from_files
    total = next(row for row in from_files["exports"] if row["partner"] == "total")
    assert total["change_kg"] <= 0
    exposure = {(r["partner"], r["metric"]): r for r in from_files["exposure"]}
    assert exposure[("turkey", "sanctioned_entity_share")]["baseline"] == 0.0
    assert exposure[("turkey", "sanctioned_entity_share")]["scenario"] > 0.0
    assert main(["compare", str(tmp_path / "base"), str(tmp_path / "sanc")]) == 0
    text = capsys.readouterr().out
    assert "change_pct" in text and "united_states" in text and "%" in text
    assert "exposure by partner" in text and "sanctioned_entity_share" in text


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["run", "missing.toml"], "file not found"),
        (["run", str(BASELINE), "--set", "nodes.turky.price_factor=2"], "did you mean 'turkey'"),
        (["run", str(BASELINE), "--set", "prices.dore_purity=2"], "prices.dore_purity"),
        (["run", str(BASELINE), "--seed", "-1"], "must not be negative"),
        (["run", str(BASELINE), "--replications", "0"], "at least 1"),
        (["compare", str(BASELINE), "nowhere"], "not found"),
    ],
)
def test_user_mistakes_exit_2_with_a_message_and_no_traceback(argv, fragment, capsys):
    with_exit = None
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own errors
        with_exit = exc.code
        code = with_exit
    assert code == 2
    err = capsys.readouterr().err
    assert fragment in err
    assert "Traceback" not in err


def test_out_folder_that_cannot_be_written_is_a_clear_error(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    code = main(
        ["run", str(SHORT), "--set", "calendar.end=2014-01-31", "--out", str(blocker / "run")]
    )
    assert code == 2
    assert "cannot write results" in capsys.readouterr().err


def test_console_script_runs_in_a_subprocess(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "flowsim.cli", "validate", str(SANCTIONS)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("OK")
