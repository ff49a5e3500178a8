"""A scenario's baseline: meta.baseline, flowsim run against it, and the comparison."""

from __future__ import annotations

import json

import pytest

import flowsim
from flowsim.cli import main
from flowsim.scenario import scenario_hash


@pytest.fixture
def world(tmp_path, tiny_toml):
    """tiny.toml without its sanction as the baseline; sanctioned.toml extends it, adds
    the sanction and names it as its baseline."""
    base = tiny_toml.replace('name = "tiny"', 'name = "tiny_base"')
    start = base.index("[policies.sanctions.s1]")
    end = base.index("[policies.raids.raid1]")
    sanction = base[start:end]
    (tmp_path / "base.toml").write_text(base[:start] + base[end:])
    (tmp_path / "sanctioned.toml").write_text(
        'extends = "base.toml"\n\n[meta]\nname = "tiny_sanctioned"\nbaseline = "base.toml"\n\n'
        + sanction
    )
    return tmp_path


def test_meta_baseline_is_found_from_the_file_that_names_it(world, tmp_path):
    sub = tmp_path / "more"
    sub.mkdir()
    (sub / "child.toml").write_text('extends = "../sanctioned.toml"\n[meta]\nname = "child"\n')
    child = flowsim.load_scenario(sub / "child.toml")
    assert child.baseline_file.resolve() == (world / "base.toml").resolve()


def test_a_baseline_that_is_missing_or_the_scenario_itself_is_refused(world, capsys):
    text = (world / "sanctioned.toml").read_text()
    (world / "bad.toml").write_text(
        text.replace('baseline = "base.toml"', 'baseline = "nope.toml"')
    )
    assert main(["validate", str(world / "bad.toml")]) == 2
    err = capsys.readouterr().err
    assert "meta.baseline" in err and "file not found: nope.toml" in err
    (world / "self.toml").write_text(
        text.replace('baseline = "base.toml"', 'baseline = "self.toml"')
    )
    assert main(["validate", str(world / "self.toml")]) == 2
    assert "names the scenario itself" in capsys.readouterr().err


def test_the_hash_ignores_the_baseline(world):
    named = flowsim.load_scenario(world / "sanctioned.toml")
    (world / "unnamed.toml").write_text(
        (world / "sanctioned.toml").read_text().replace('baseline = "base.toml"\n', "")
    )
    assert scenario_hash(named) == scenario_hash(flowsim.load_scenario(world / "unnamed.toml"))


def test_run_runs_the_baseline_and_reports_against_it(world, capsys):
    out = world / "results" / "tiny_sanctioned"
    argv = ["run", str(world / "sanctioned.toml"), "--replications", "2", "--no-figures"]
    assert main([*argv, "--seed", "2", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    base_folder = world / "results" / "tiny_base"
    assert f"baseline tiny_base: ran it and wrote {base_folder}" in printed
    assert "exports by partner against tiny_base" in printed and "change_pct 95%" in printed
    assert f"report: {out / 'report.html'}" in printed
    summary = json.loads((base_folder / "summary.json").read_text())
    assert (summary["seed"], summary["replications"]) == (2, 2)
    report = (out / "report.html").read_text()
    assert "Against tiny_base, total exports" in report
    assert report.index("Key findings") < report.index("Exports by partner")
    # The same run again reads the baseline's folder rather than running it again.
    assert main([*argv, "--seed", "2", "--out", str(out)]) == 0
    assert f"baseline tiny_base: read {base_folder}" in capsys.readouterr().out
    # Another seed is another baseline run.
    assert main([*argv, "--seed", "3", "--no-report", "--out", str(out)]) == 0
    assert "ran it and wrote" in capsys.readouterr().out


def test_overrides_the_baseline_shares_apply_to_it_and_the_others_are_listed(world, capsys):
    out = world / "r" / "s"
    argv = ["run", str(world / "sanctioned.toml"), "--out", str(out), "--no-report"]
    sets = [
        "--set",
        "calendar.end=2020-06-30",
        "--set",
        "policies.sanctions.s1.effective=2020-02-01",
    ]
    assert main([*argv, *sets]) == 0
    printed = capsys.readouterr().out
    assert "not applied to the baseline" in printed and "policies.sanctions.s1.effective" in printed
    summary = json.loads((world / "r" / "tiny_base" / "summary.json").read_text())
    assert summary["end"] == "2020-06-30"


def test_no_baseline_and_a_run_folder_as_baseline(world, capsys):
    out = world / "a" / "s"
    argv = ["run", str(world / "sanctioned.toml"), "--no-report", "--out", str(out)]
    assert main([*argv, "--no-baseline"]) == 0
    assert "baseline tiny_base" not in capsys.readouterr().out
    assert not (world / "a" / "tiny_base").exists()
    base = ["run", str(world / "base.toml"), "--no-report", "--out", str(world / "b" / "base")]
    assert main(base) == 0
    assert main([*argv, "--baseline", str(world / "b" / "base")]) == 0
    assert f"baseline tiny_base: read {world / 'b' / 'base'}" in capsys.readouterr().out


def test_a_baseline_over_another_calendar_is_refused_before_the_run(world, capsys):
    base = world / "base.toml"
    base.write_text(base.read_text().replace("end = 2020-12-31", "end = 2020-06-30"))
    (world / "long.toml").write_text(
        (world / "sanctioned.toml").read_text() + "\n[calendar]\nend = 2020-12-31\n"
    )
    out = world / "c" / "s"
    assert main(["run", str(world / "long.toml"), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "meta.baseline: the baseline tiny_base runs from 2020-01-01 to 2020-06-30" in err
    assert "needs the same calendar" in err
    assert not out.exists()


def test_run_baseline_from_python(world):
    scenario = flowsim.load_scenario(world / "sanctioned.toml")
    baseline = flowsim.run_baseline(
        scenario, world / "py" / "s", seed=1, replications=1, write=False
    )
    assert baseline.results.meta.scenario == "tiny_base" and not baseline.reused
    assert not (world / "py").exists()
    with pytest.raises(flowsim.FlowsimError, match="names no baseline"):
        flowsim.run_baseline(
            flowsim.load_scenario(world / "base.toml"), world / "x", seed=1, replications=1
        )


def test_run_json_carries_the_baseline_and_the_comparison(world, capsys):
    out = world / "j" / "s"
    argv = ["run", str(world / "sanctioned.toml"), "--replications", "2", "--json", "--no-report"]
    assert main([*argv, "--out", str(out)]) == 0
    document = json.loads(capsys.readouterr().out)
    baseline = document["baseline"]
    assert baseline["scenario"] == "tiny_base" and not baseline["reused"]
    assert baseline["run_folder"] == str(world / "j" / "tiny_base")
    total = next(row for row in baseline["exports"] if row["partner"] == "total")
    tolerance = 1e-9  # a change of zero, give or take rounding
    assert total["change_pct_low"] - tolerance <= total["change_pct"]
    assert total["change_pct"] <= total["change_pct_high"] + tolerance


def test_a_folder_in_the_baselines_place_that_is_not_flowsims_is_left_alone(world, capsys):
    mine = world / "d" / "tiny_base"
    mine.mkdir(parents=True)
    (mine / "notes.txt").write_text("mine")
    out = world / "d" / "s"
    assert main(["run", str(world / "sanctioned.toml"), "--no-report", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "meta.baseline: cannot write the baseline's run beside the scenario's" in err
    assert "--no-baseline" in err and "Traceback" not in err
    assert sorted(p.name for p in mine.iterdir()) == ["notes.txt"]
