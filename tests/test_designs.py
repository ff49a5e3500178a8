"""Sobol, Morris and external designs of a sweep, and its (experiments, outcomes) view."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fuzz_strategies import call_main
from test_sweep import tiny_sweep

import flowsim
from flowsim.designs import morris_unit, saltelli_unit
from flowsim.sweep import Sweep, expand, load_sweep_file, run_sweep

RANGES = """
[parameters]
"routes.mine_buyer.seizure_probability" = { low = 0.0, high = 0.3 }
"routes.buyer_usa.weight" = { low = 1.0, high = 3.0 }
"""


def sweep_of(tmp_path, settings: str, parameters: str = RANGES):
    body = f'[sweep]\nname = "d"\nscenario = "tiny.toml"\nseed = 3\n{settings}\n{parameters}'
    return tiny_sweep(tmp_path, body)


def points_of(tmp_path, settings: str, parameters: str = RANGES) -> np.ndarray:
    sweep, folder = load_sweep_file(sweep_of(tmp_path, settings, parameters))
    runs = expand(sweep, folder)
    assert len(runs) == sweep.run_count()
    return np.array([list(r.params.values()) for r in runs])


@pytest.mark.parametrize("second_order", [False, True])
def test_sobol_design_is_salibs_saltelli_layout(second_order):
    sample = pytest.importorskip("SALib.sample.sobol")
    problem = {"num_vars": 3, "names": ["a", "b", "c"], "bounds": [[0.0, 1.0]] * 3}
    # SALib's sampler with the same generator: the same points, row for row.
    expected = sample.sample(
        problem, 16, calc_second_order=second_order, seed=np.random.default_rng(5)
    )
    np.testing.assert_array_equal(saltelli_unit(16, 3, 5, second_order), expected)


def test_sobol_sweep_has_n_times_d_plus_2_points_in_the_ranges(tmp_path):
    x = points_of(tmp_path, 'method = "sobol"\nsamples = 8')
    assert x.shape == (8 * (2 + 2), 2)
    assert x[:, 0].min() >= 0.0 and x[:, 0].max() <= 0.3
    assert x[:, 1].min() >= 1.0 and x[:, 1].max() <= 3.0
    blocks = x.reshape(8, 4, 2)
    a, b = blocks[:, 0], blocks[:, 3]
    np.testing.assert_array_equal(blocks[:, 1], np.column_stack([b[:, 0], a[:, 1]]))
    np.testing.assert_array_equal(blocks[:, 2], np.column_stack([a[:, 0], b[:, 1]]))
    second = points_of(tmp_path, 'method = "sobol"\nsamples = 8\nsecond_order = true')
    assert second.shape == (8 * (2 * 2 + 2), 2)


def test_morris_trajectories_move_one_parameter_a_step_at_a_time(tmp_path):
    unit = morris_unit(50, 3, 4, seed=1)
    steps = np.diff(unit.reshape(50, 4, 3), axis=1)
    moved = ~np.isclose(steps, 0.0)
    assert (moved.sum(axis=2) == 1).all() and (moved.sum(axis=1) == 1).all()
    np.testing.assert_allclose(np.abs(steps[moved]), 4 / (2 * 3))
    assert set(np.round(unit.ravel(), 6)) <= {0.0, 0.333333, 0.666667, 1.0}
    x = points_of(tmp_path, 'method = "morris"\nsamples = 5\nlevels = 6')
    assert x.shape == (5 * 3, 2)
    assert set(np.round(x[:, 1], 6)) <= {1.0, 1.4, 1.8, 2.2, 2.6, 3.0}


@pytest.mark.parametrize(
    ("settings", "fragment"),
    [
        ('method = "sobol"\nsamples = 12', "sobol needs samples a power of 2"),
        ('method = "sobol"', "sobol needs sweep.samples"),
        ('method = "grid"\nsecond_order = true', "second_order applies to"),
        ('method = "morris"\nsamples = 4\nlevels = 5', "an even number"),
        ('method = "latin_hypercube"\nsamples = 4\nlevels = 6', "levels applies to"),
        ('method = "latin_hypercube"\nsamples = 4\npoints = "d.csv"', "is a design of its own"),
        ('method = "external"', 'needs points = "design.csv"'),
        ('points = "d.csv"\nsamples = 3', "drop samples"),
    ],
)
def test_bad_design_settings_exit_2_naming_the_problem(tmp_path, settings, fragment):
    path = sweep_of(tmp_path, settings)
    code, _, err = call_main(["sweep", str(path), "--out", str(tmp_path / "out")])
    assert code == 2
    assert fragment in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_latin_hypercube_and_monte_carlo_points_are_unchanged(tmp_path):
    # The points these designs gave before sobol and morris came (flowsim at 17e8da7):
    # the same file, the same runs.
    lhs = points_of(tmp_path, 'method = "latin_hypercube"\nsamples = 3')
    np.testing.assert_allclose(
        lhs,
        [[0.14586, 2.08088], [0.21004, 2.58855], [0.07606, 1.41266]],
        atol=1e-5,
    )
    mc = points_of(tmp_path, 'method = "monte_carlo"\nsamples = 2')
    np.testing.assert_allclose(mc, [[0.02569, 1.47362], [0.24038, 2.16432]], atol=1e-5)


EXTERNAL = """
[parameters]
"routes.mine_buyer.seizure_probability" = { low = 0.0, high = 0.3 }
"routes.buyer_usa.weight" = [1.0, 2.0, 3.0]
"""


def test_a_validated_sweep_validates_again_from_its_dump(tmp_path):
    sweep, _ = load_sweep_file(sweep_of(tmp_path, 'method = "latin_hypercube"\nsamples = 4'))
    assert Sweep.model_validate(sweep.model_dump()) == sweep


def test_an_external_design_runs_its_rows(tmp_path):
    (tmp_path / "design.csv").write_text(
        "routes.buyer_usa.weight,routes.mine_buyer.seizure_probability\n1,0.05\n3,0.25\n\n"
    )
    sweep, folder = load_sweep_file(sweep_of(tmp_path, 'points = "design.csv"', EXTERNAL))
    assert sweep.sweep.method == "external"
    runs = expand(sweep, folder)
    assert [r.params for r in runs] == [
        {"routes.mine_buyer.seizure_probability": 0.05, "routes.buyer_usa.weight": 1.0},
        {"routes.mine_buyer.seizure_probability": 0.25, "routes.buyer_usa.weight": 3.0},
    ]
    out = tmp_path / "out"
    run_sweep(sweep, folder, out)
    table = flowsim.load_sweep(out, "totals_kg.seized")
    assert sorted(table["routes.mine_buyer.seizure_probability"]) == [0.05, 0.25]
    # A changed design file is another sweep: --resume refuses it.
    (tmp_path / "design.csv").write_text(
        "routes.buyer_usa.weight,routes.mine_buyer.seizure_probability\n1,0.05\n3,0.2\n"
    )
    code, _, err = call_main(["sweep", str(tmp_path / "sweep.toml"), "--out", str(out), "--resume"])
    assert code == 2 and "different sweep" in err


@pytest.mark.parametrize(
    ("csv", "fragment"),
    [
        ("", "empty design: needs a header"),
        ("routes.buyer_usa.weight,routes.mine_buyer.seizure_probability\n", "a header and no rows"),
        (
            "routes.buyer_usa.weight,routes.mine_buyer.seizure_probability,nodes.mine.x\n1,0.1,2\n",
            "column 'nodes.mine.x': unknown column",
        ),
        ("routes.buyer_usa.weight\n1\n", "column 'routes.mine_buyer.seizure_probability': missing"),
        (
            "routes.buyer_usa.weight,routes.mine_buyer.seizure_probability\n1,high\n",
            "row 1, column 'routes.mine_buyer.seizure_probability': 'high' is not a number",
        ),
        (
            "routes.buyer_usa.weight,routes.mine_buyer.seizure_probability\n1,0.1\n2,0.5\n",
            "row 2, column 'routes.mine_buyer.seizure_probability': 0.5 is outside",
        ),
        (
            "routes.buyer_usa.weight,routes.mine_buyer.seizure_probability\n4,0.1\n",
            "row 1, column 'routes.buyer_usa.weight': '4' is not one of",
        ),
        (
            "routes.buyer_usa.weight,routes.mine_buyer.seizure_probability\n1\n",
            "row 1: 1 values, for 2 columns",
        ),
    ],
)
def test_a_bad_design_file_is_named_with_its_row_and_column(tmp_path, csv, fragment):
    (tmp_path / "design.csv").write_text(csv)
    path = sweep_of(tmp_path, 'points = "design.csv"', EXTERNAL)
    code, _, err = call_main(["sweep", str(path), "--out", str(tmp_path / "out")])
    assert code == 2, err
    assert "design.csv" in err and fragment in err and "Traceback" not in err


def test_a_missing_design_file_is_named(tmp_path):
    path = sweep_of(tmp_path, 'points = "nowhere.csv"', EXTERNAL)
    code, _, err = call_main(["sweep", str(path)])
    assert code == 2 and "nowhere.csv: design file not found" in err


def test_experiments_outcomes_keep_every_run_the_baselines_too():
    table = pd.DataFrame(
        {
            "run": [0, 0, 1, 1, 2, 2],
            "scenario": ["base", "base", "s", "s", "s", "s"],
            "point": [0, 0, 0, 0, 1, 1],
            "replication": [0] * 6,
            "seed": [1] * 6,
            "p": [np.nan, np.nan, 0.1, 0.1, 0.2, 0.2],
            "metric": ["m", "n"] * 3,
            "value": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
        }
    )
    # The idiom that loses them: a pivot over the parameters drops the null ones.
    lossy = table.pivot_table(index=["scenario", "point", "p"], columns="metric", values="value")
    assert len(lossy) == 2
    experiments, outcomes = flowsim.experiments_outcomes(table)
    assert list(experiments.index) == list(outcomes.index) == [0, 1, 2]
    assert list(experiments.columns) == ["scenario", "point", "replication", "seed", "p"]
    assert experiments.loc[0, "scenario"] == "base" and np.isnan(experiments.loc[0, "p"])
    assert outcomes.to_dict("list") == {"m": [1.0, 3.0, 5.0], "n": [2.0, 4.0, 6.0]}
    _, only = flowsim.experiments_outcomes(table, "n")
    assert list(only.columns) == ["n"] and len(only) == 3
    with pytest.raises(flowsim.FlowsimError, match="no metric 'x'"):
        flowsim.experiments_outcomes(table, ["x"])
