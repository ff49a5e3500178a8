"""flowsim calibrate: the calibration file, ABC-SMC on a toy mine whose rate is the
only unknown, determinism whichever executor runs it, resume after a kill, and the
folder it writes."""

from __future__ import annotations

import json
import math
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import flowsim
from flowsim import load_scenario
from flowsim.calibration import calibrate, load_calibration_file, state_folder
from flowsim.calibration.folder import kernel_sd_factor
from flowsim.errors import FlowsimError, ScenarioError

TOY = Path(__file__).parent / "data" / "calibration"


@pytest.fixture
def toy(tmp_path: Path) -> Path:
    for path in TOY.iterdir():
        shutil.copy(path, tmp_path / path.name)
    return tmp_path / "toy_mine.calibration.toml"


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


# --- the calibration file -----------------------------------------------------------


def test_the_toy_calibration_file_loads(toy):
    calibration, scenario = load_calibration_file(toy)
    assert [p.name for p in calibration.parameters] == ["rate"]
    assert [t.name for t in calibration.fitted] == ["exports_2020"]
    assert [t.name for t in calibration.held_out] == ["exports_h1"]
    assert scenario.name == "toy_mine"


@pytest.mark.parametrize(
    ("old", "new", "where", "problem"),
    [
        (
            'key = "nodes.mine.production_kg_per_day"',
            'key = "nodes.mine.rate"',
            "parameters",
            "nodes.mine.rate",
        ),
        ("low = 2.0, high = 30.0", "low = 30.0, high = 2.0", "parameters[0].prior", "above low"),
        ("sd = 150.0", "sd = 150.0\nrelative_sd = 0.1", "targets[0]", "exactly one"),
        ('assumption = "the test', 'note = "the test', "parameters[0]", "note"),
        ("observed = 3650.0", 'observed = "3650"', "targets[0].observed", "number"),
        (
            'metric = "exports_kg_by_partner.partner"',
            'metric = "exports.partner"',
            "targets[0]",
            "exports",
        ),
        ("after = 2020-01-01", "after = 2020-07-01", "targets[1]", "must come after"),
        ("population = 30", "population = [30, 20]", "method.population", "may not shrink"),
        ("population = 30", "population = []", "method.population", "at least one"),
        ("population = 30", "population = [30, 0]", "method.population", "0 is not a number"),
        ("population = 30", "population = [30.5]", "method.population", "30.5 is not"),
        ("population = 30", "population = [10, 20, 30, 40]", "method", "4 sizes for 3"),
    ],
)
def test_a_mistake_in_the_file_names_the_file_the_key_and_the_problem(
    toy, old, new, where, problem
):
    _edit(toy, old, new)
    with pytest.raises(ScenarioError) as caught:
        load_calibration_file(toy)
    text = str(caught.value)
    assert str(toy) in text or "toy_mine" in text
    assert where in text
    assert problem in text


def test_a_prior_the_scenario_refuses_is_reported_before_any_simulation(toy):
    _edit(toy, "low = 2.0, high = 30.0", "low = -5.0, high = 30.0")
    with pytest.raises(ScenarioError) as caught:
        load_calibration_file(toy)
    assert "rate" in str(caught.value)
    assert "-5" in str(caught.value)


def test_every_target_held_out_is_refused(toy):
    _edit(
        toy,
        'source = "the test: 10 kg/day for 365 days"',
        'source = "the test: 10 kg/day for 365 days"\nheld_out = true',
    )
    with pytest.raises(ScenarioError, match="at least one must be fitted"):
        load_calibration_file(toy)


# --- a calibration ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def toy_run(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("toy")
    for path in TOY.iterdir():
        shutil.copy(path, folder / path.name)
    run = calibrate(
        folder / "toy_mine.calibration.toml", out=folder / "out", workers=1, progress=False
    )
    return run.folder


def test_the_folder_holds_every_part(toy_run):
    names = {p.name for p in toy_run.iterdir()}
    assert {
        "particles.parquet",
        "generations.parquet",
        "posterior.parquet",
        "predictive.parquet",
        "prior_sample.parquet",
        "calibrated.toml",
        "summary.json",
        "report.html",
        "abc.db",
        "manifest.json",
    } <= names
    assert not state_folder(toy_run).exists()


def test_the_posterior_finds_the_rate_and_is_narrower_than_the_prior(toy_run):
    posterior = pd.read_parquet(toy_run / "posterior.parquet").set_index("parameter")
    rate = posterior.loc["rate"]
    assert rate["q05"] < 10.0 < rate["q95"]
    assert rate["width_ratio"] < 0.3
    assert rate["constrained"]


def test_the_generations_tighten_their_tolerance(toy_run):
    generations = pd.read_parquet(toy_run / "generations.parquet")
    assert list(generations["generation"]) == list(range(len(generations)))
    assert generations["tolerance"].is_monotonic_decreasing
    assert (generations["accepted"] == 30).all()
    assert (generations["simulations"] >= generations["accepted"]).all()
    assert ((generations["ess"] > 0) & (generations["ess"] <= 30 + 1e-9)).all()


def test_the_held_out_target_is_checked_and_reported(toy_run):
    predictive = pd.read_parquet(toy_run / "predictive.parquet").set_index("target")
    held = predictive.loc["exports_h1"]
    assert held["held_out"]
    assert held["observable_q05"] <= held["q05"] <= held["median"] <= held["q95"]
    assert held["q95"] <= held["observable_q95"]
    # Half a year of the rate that the yearly figure gives: near 1,820 kg.
    assert 1500 < held["median"] < 2150
    summary = json.loads((toy_run / "summary.json").read_text())
    assert summary["targets"]["exports_h1"]["held_out"] is True
    assert "exports_h1" in (toy_run / "report.html").read_text()


def test_the_calibrated_scenario_extends_the_original_at_the_posterior_median(toy_run):
    posterior = pd.read_parquet(toy_run / "posterior.parquet").set_index("parameter")
    scenario = load_scenario(toy_run / "calibrated.toml")
    assert scenario.name == "toy_mine_calibrated"
    rate = scenario.nodes["mine"].production_kg_per_day
    assert rate == pytest.approx(posterior.loc["rate", "median"])
    text = (toy_run / "calibrated.toml").read_text()
    assert "90% credible interval" in text


def test_the_summary_says_how_the_time_was_spent(toy_run):
    summary = json.loads((toy_run / "summary.json").read_text())
    assert summary["simulations_run"] > 0
    assert summary["simulations_per_second"] > 0
    assert 0 <= summary["share_outside_simulation"] <= 1
    assert summary["stop"] in ("tolerance", "generations", "budget", "acceptance rate")
    assert summary["adjustment"] == "none"


def test_the_summary_says_how_much_the_final_tolerance_widens_the_targets_errors(toy_run):
    summary = json.loads((toy_run / "summary.json").read_text())
    fitted = [t for t in summary["targets"].values() if not t["held_out"]]
    expected = math.sqrt(1 + summary["final_tolerance"] ** 2 / (len(fitted) + 2))
    assert summary["kernel_sd_factor"] == pytest.approx(expected)
    assert f"factor {summary['kernel_sd_factor']:,.4g}" in (toy_run / "report.html").read_text()


@pytest.mark.parametrize("fitted", [1, 5, 12])
def test_the_kernel_factor_is_the_variance_of_a_uniform_ball_along_one_target(fitted):
    # Uniform points in the ball of radius e in n dimensions: a normal direction,
    # and a radius of e * U**(1/n).
    rng = np.random.default_rng(fitted)
    tolerance, draws = 1.6, 400_000
    direction = rng.normal(size=(draws, fitted))
    direction /= np.linalg.norm(direction, axis=1, keepdims=True)
    radius = tolerance * rng.random(draws) ** (1 / fitted)
    along_one = (direction[:, 0] * radius).var()
    assert along_one == pytest.approx(kernel_sd_factor(tolerance, fitted) ** 2 - 1, rel=1e-2)


def test_a_population_schedule_keeps_its_sizes_generation_by_generation(toy):
    _edit(toy, "population = 30", "population = [12, 24]")
    run = calibrate(toy, out=toy.parent / "out", workers=1, progress=False)
    generations = pd.read_parquet(run.folder / "generations.parquet")
    assert generations["accepted"].tolist() == [12, 24, 24][: len(generations)]
    assert len(generations) >= 2
    particles = pd.read_parquet(run.folder / "particles.parquet")
    last = particles[particles["generation"] == particles["generation"].max()]
    assert len(last) == 24
    summary = json.loads((run.folder / "summary.json").read_text())
    assert summary["population"] == 24
    # The prior sample is the size of generation 0, not of the schedule's last entry.
    assert len(pd.read_parquet(run.folder / "prior_sample.parquet")) == 12


@pytest.fixture(scope="module")
def adjusted_run(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("adjusted")
    for path in TOY.iterdir():
        shutil.copy(path, folder / path.name)
    _edit(
        folder / "toy_mine.calibration.toml",
        "generations = 3\n",
        'generations = 6\nadjustment = "local_linear"\nstable_within = 2.0\n',
    )
    run = calibrate(
        folder / "toy_mine.calibration.toml", out=folder / "out", workers=1, progress=False
    )
    return run.folder


def test_an_adjusted_posterior_is_the_adjusted_particles_of_the_last_generation(adjusted_run):
    from flowsim.calibration.posterior import weighted_quantile

    particles = pd.read_parquet(adjusted_run / "particles.parquet")
    last = particles[particles["generation"] == particles["generation"].max()]
    assert last["adjusted_weight"].sum() == pytest.approx(1.0)
    rate = pd.read_parquet(adjusted_run / "posterior.parquet").set_index("parameter").loc["rate"]
    q05, median, q95 = weighted_quantile(
        last["adjusted.rate"].to_numpy(), last["adjusted_weight"].to_numpy(), [0.05, 0.5, 0.95]
    )
    assert (rate["q05"], rate["median"], rate["q95"]) == pytest.approx((q05, median, q95))
    raw05, raw95 = weighted_quantile(
        last["rate"].to_numpy(), last["weight"].to_numpy(), [0.05, 0.95]
    )
    # The exports of a year at 10 kg/day, observed with an sd of 150 kg, give the rate
    # to about 0.45 kg/day: a 90% interval near 1.5 wide, which the raw particles at
    # the last tolerance are not.
    assert rate["q05"] < 10.0 < rate["q95"]
    assert rate["q95"] - rate["q05"] < 2.5 < raw95 - raw05
    assert flowsim.load_posterior(adjusted_run).particles["rate"].tolist() == pytest.approx(
        last["adjusted.rate"].tolist()
    )


def test_a_calibration_stops_once_its_posterior_settles(adjusted_run):
    generations = pd.read_parquet(adjusted_run / "generations.parquet")
    summary = json.loads((adjusted_run / "summary.json").read_text())
    assert summary["stop"] == "stable"
    assert len(generations) < 6
    moved = generations["shift_se"].tolist()
    assert math.isnan(moved[0])
    # It stops at the first generation that moved by no more than chance allows.
    assert moved[-1] <= 2.0 and all(m > 2.0 for m in moved[1:-1])
    assert summary["final_shift_se"] == pytest.approx(moved[-1])
    assert not any("stopped on its" in w for w in summary["warnings"])
    assert "local-linear regression" in (adjusted_run / "report.html").read_text()


def test_a_posterior_settles_only_in_a_generation_of_the_full_size(toy):
    _edit(
        toy,
        "population = 30\ngenerations = 3\n",
        "population = [12, 12, 24]\ngenerations = 4\nstable_within = 1000.0\n",
    )
    run = calibrate(toy, out=toy.parent / "out", workers=1, progress=False)
    generations = pd.read_parquet(run.folder / "generations.parquet")
    assert run.stop == "stable"
    assert generations["accepted"].tolist() == [12, 12, 24]


def test_the_same_seed_gives_the_same_posterior_on_two_processes(toy_run, tmp_path):
    for path in TOY.iterdir():
        shutil.copy(path, tmp_path / path.name)
    pooled = calibrate(
        tmp_path / "toy_mine.calibration.toml", out=tmp_path / "out", workers=2, progress=False
    )
    pd.testing.assert_frame_equal(
        pd.read_parquet(toy_run / "particles.parquet"),
        pd.read_parquet(pooled.folder / "particles.parquet"),
    )
    pd.testing.assert_frame_equal(
        pd.read_parquet(toy_run / "predictive.parquet"),
        pd.read_parquet(pooled.folder / "predictive.parquet"),
    )


def test_the_same_seed_gives_the_same_posterior_on_dask(toy_run, tmp_path):
    pytest.importorskip("distributed")
    for path in TOY.iterdir():
        shutil.copy(path, tmp_path / path.name)
    on_dask = calibrate(
        tmp_path / "toy_mine.calibration.toml",
        out=tmp_path / "out",
        dask="local",
        workers=2,
        progress=False,
    )
    pd.testing.assert_frame_equal(
        pd.read_parquet(toy_run / "particles.parquet"),
        pd.read_parquet(on_dask.folder / "particles.parquet"),
    )


# --- the folder: resume, refusals ----------------------------------------------------------


def _populations(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=0.2) as connection:
            return connection.execute("select count(*) from populations where t >= 0").fetchone()[0]
    except sqlite3.Error:
        return 0


def test_a_killed_calibration_resumes_to_the_posterior_of_an_uninterrupted_one(toy_run, tmp_path):
    for path in TOY.iterdir():
        shutil.copy(path, tmp_path / path.name)
    file, out = tmp_path / "toy_mine.calibration.toml", tmp_path / "out"
    command = [
        sys.executable,
        "-m",
        "flowsim.cli",
        "calibrate",
        str(file),
        "--out",
        str(out),
        "--workers",
        "1",
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    db = state_folder(out) / "abc.db"
    deadline = time.monotonic() + 120
    while _populations(db) < 2 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert process.poll() is None, "the calibration finished before it could be killed"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert not out.exists()
    with pytest.raises(FlowsimError, match="--resume"):
        calibrate(file, out=out, workers=1, progress=False)
    resumed = calibrate(file, out=out, workers=1, resume=True, progress=False)
    pd.testing.assert_frame_equal(
        pd.read_parquet(toy_run / "particles.parquet"),
        pd.read_parquet(resumed.folder / "particles.parquet"),
    )


def test_a_finished_calibration_is_replaced_only_with_overwrite(toy_run, tmp_path):
    file = tmp_path / "toy_mine.calibration.toml"
    for path in TOY.iterdir():
        shutil.copy(path, tmp_path / path.name)
    out = tmp_path / "out"
    shutil.copytree(toy_run, out)
    with pytest.raises(FlowsimError, match="--overwrite"):
        calibrate(file, out=out, workers=1, progress=False)
    with pytest.raises(FlowsimError, match="nothing to resume"):
        calibrate(file, out=out, workers=1, resume=True, progress=False)


def test_a_folder_flowsim_did_not_write_is_never_replaced(toy, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(FlowsimError):
        calibrate(toy, out=out, workers=1, overwrite=True, progress=False)
    assert (out / "notes.txt").read_text() == "mine"


def test_a_state_folder_holding_a_foreign_file_is_left_alone(toy, tmp_path):
    out = tmp_path / "out"
    state = state_folder(out)
    state.mkdir()
    (state / "notes.txt").write_text("mine")
    with pytest.raises(FlowsimError, match=r"notes\.txt"):
        calibrate(toy, out=out, workers=1, overwrite=True, progress=False)
    assert (state / "notes.txt").read_text() == "mine"


# --- answers over the posterior ------------------------------------------------------------


def test_a_run_over_the_posterior_draws_each_replication_its_own_parameters(toy_run, toy):
    posterior = flowsim.load_posterior(toy_run)
    scenario = load_scenario(toy.parent / "toy_mine.toml")
    results = flowsim.simulate(scenario, seed=4, replications=12, posterior=posterior)
    draws = results.meta.posterior.draws
    assert len(draws) == 12
    assert len({d["rate"] for d in draws}) > 1
    produced = results.metrics({"totals_kg"}).query("metric == 'totals_kg.produced'")
    rates = pd.Series([d["rate"] for d in draws])
    # Each replication's output follows its own draw of the rate.
    assert produced["value"].reset_index(drop=True).corr(rates) > 0.8
    summary = results.summary()
    low, high = summary["interval90"]["exports_kg_by_partner"]["partner"]
    assert low < summary["exports_kg_by_partner"]["partner"] < high
    assert summary["posterior"]["draws"] == 12
    assert summary["posterior"]["parameters"]["rate"]["key"] == "nodes.mine.production_kg_per_day"
    # Replication k's draw is its own: the same whatever runs beside it.
    tail = flowsim.simulate(
        scenario, seed=4, replications=4, first_replication=8, posterior=posterior
    )
    assert tail.meta.posterior.draws == draws[8:]


def test_flowsim_run_over_a_posterior_writes_both_intervals(toy_run, toy, tmp_path):
    out = tmp_path / "run"
    done = subprocess.run(
        [sys.executable, "-m", "flowsim.cli", "run", str(toy.parent / "toy_mine.toml"),
         "--posterior", str(toy_run), "--draws", "6", "--out", str(out), "--no-report"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "over toy_mine's posterior" in done.stdout
    summary = json.loads((out / "summary.json").read_text())
    assert {"interval90", "ci95", "sd", "posterior"} <= set(summary)
    reread = flowsim.Results.load(out)
    assert reread.meta.posterior.draws == flowsim.Results.load(out).meta.posterior.draws
    assert len(reread.meta.posterior.draws) == 6


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--draws", "3"], "--draws needs --posterior"),
        (["--posterior", "POST", "--replications", "2"], "give --draws"),
        (["--posterior", "NOT"], "not a calibration folder"),
    ],
)
def test_mistakes_with_a_posterior_are_reported(toy_run, toy, tmp_path, extra, message):
    extra = [str(toy_run) if e == "POST" else str(tmp_path) if e == "NOT" else e for e in extra]
    done = subprocess.run(
        [sys.executable, "-m", "flowsim.cli", "run", str(toy.parent / "toy_mine.toml"), *extra,
         "--out", str(tmp_path / "run")],
        capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_a_posterior_whose_keys_the_scenario_lacks_is_refused(toy_run):
    scenario = load_scenario(Path(__file__).parent.parent / "scenarios" / "venezuela_baseline.toml")
    with pytest.raises(FlowsimError, match="does not fit venezuela_baseline"):
        flowsim.simulate(scenario, replications=2, posterior=flowsim.load_posterior(toy_run))


def test_overriding_a_scenario_without_papers_leaves_it_without_papers():
    from flowsim.network import Network
    from flowsim.scenario import with_overrides

    scenario = load_scenario(TOY / "toy_mine.toml")
    changed = with_overrides(scenario, {"nodes.mine.production_kg_per_day": 9.0})
    assert Network.build(scenario).papers is None
    assert Network.build(changed).papers is None


def _posterior_sweep(folder: Path, toy_run: Path, parameter: str) -> Path:
    path = folder / "over_posterior.sweep.toml"
    path.write_text(
        "[sweep]\n"
        'name = "over_posterior"\n'
        'scenario = "toy_mine.toml"\n'
        "replications = 5\n"
        "seed = 8\n"
        f'posterior = "{toy_run}"\n'
        "[parameters]\n"
        f'"{parameter}" = [0.0, 0.5]\n'
    )
    return path


def test_a_sweep_over_a_posterior_draws_the_same_parameters_at_every_point(toy_run, toy, tmp_path):
    from flowsim.cli import main

    sweep = _posterior_sweep(toy.parent, toy_run, "routes.mine_to_partner.seizure_probability")
    assert main(["sweep", str(sweep), "--out", str(tmp_path / "sweep")]) == 0
    table = flowsim.load_sweep(tmp_path / "sweep")
    drawn = table[table["metric"] == "posterior.rate"]
    by_point = drawn.pivot(index="replication", columns="point", values="value")
    # Replication k draws one particle, whatever the point: the points differ by their
    # parameter, not by the calibrated unknowns.
    assert (by_point[0] == by_point[1]).all()
    assert by_point[0].nunique() > 1
    posterior = flowsim.load_posterior(toy_run)
    direct = flowsim.simulate(
        toy.parent / "toy_mine.toml", seed=8, replications=5, posterior=posterior
    )
    assert by_point[0].tolist() == [d["rate"] for d in direct.meta.posterior.draws]
    exported = table[table["metric"] == "exports_kg_by_partner.partner"]
    seized = exported.pivot(index="replication", columns="point", values="value")
    assert (seized[1] < seized[0]).all()


def test_a_sweep_that_sets_what_the_posterior_draws_is_refused(toy_run, toy, tmp_path, capsys):
    from flowsim.cli import main

    sweep = _posterior_sweep(toy.parent, toy_run, "nodes.mine.production_kg_per_day")
    assert main(["sweep", str(sweep), "--out", str(tmp_path / "sweep")]) == 2
    err = capsys.readouterr().err
    assert "nodes.mine.production_kg_per_day" in err
    assert "the posterior of toy_mine draws" in err
    assert not (tmp_path / "sweep").exists()


def test_flowsim_validate_checks_a_calibration_file(toy, capsys):
    from flowsim.cli import main

    assert main(["validate", str(toy)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"OK: {toy} (toy_mine: calibrates toy_mine, 1 parameters")
    assert "1 fitted targets, 1 held out" in out
    _edit(toy, 'key = "nodes.mine.production_kg_per_day"', 'key = "nodes.mine.output"')
    assert main(["validate", str(toy)]) == 2
    assert "nodes.mine.output" in capsys.readouterr().err
    assert main(["validate", str(toy), "--set", "a=1"]) == 2
    assert "[calibration] set" in capsys.readouterr().err
