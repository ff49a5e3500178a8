"""SALib's sensitivity indices of a sweep's metric, on the designs they need."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fuzz_strategies import call_main

import flowsim
from flowsim.designs import morris_unit, saltelli_unit

pytest.importorskip("SALib", reason="SALib is the salib extra (in dev)")

ROOT = Path(__file__).parents[1]


def sweep_table(x: np.ndarray, y: np.ndarray, replications: int = 2) -> pd.DataFrame:
    """A sweep's tidy table of one scenario at points ``x``: each replication is
    the outcome plus noise that averages out over a point's replications."""
    names = [f"p{j}" for j in range(x.shape[1])]
    noise = np.linspace(-1.0, 1.0, replications) * 0.01
    rows = [
        {"run": len(x) * r + p, "scenario": "s", "point": p, "replication": r, "seed": 0}
        | dict(zip(names, x[p], strict=True))
        | {"metric": "m", "value": y[p] + noise[r]}
        for p in range(len(x))
        for r in range(replications)
    ]
    return pd.DataFrame(rows)


def ishigami(x: np.ndarray) -> np.ndarray:
    z = -np.pi + 2 * np.pi * x
    return np.sin(z[:, 0]) + 7 * np.sin(z[:, 1]) ** 2 + 0.1 * z[:, 2] ** 4 * np.sin(z[:, 0])


def test_sobol_indices_of_the_ishigami_function_are_its_known_ones():
    x = saltelli_unit(1024, 3, seed=2)
    found = flowsim.sensitivity_indices(sweep_table(x, ishigami(x)), "m", "sobol")
    assert list(found["parameter"]) == ["p0", "p1", "p2"]
    # Analytical values for a = 7, b = 0.1 (Ishigami and Homma 1990).
    np.testing.assert_allclose(found["S1"], [0.3139, 0.4424, 0.0], atol=0.05)
    np.testing.assert_allclose(found["ST"], [0.5576, 0.4424, 0.2437], atol=0.05)
    assert (found["S1_conf"] > 0).all() and (found["ST_conf"] > 0).all()


def test_second_order_indices_of_a_product_are_its_interaction():
    x = saltelli_unit(512, 2, seed=4, second_order=True)
    y = (x[:, 0] - 0.5) * (x[:, 1] - 0.5)  # all of its variance is the interaction
    found = flowsim.sensitivity_indices(sweep_table(x, y, 1), "m", "sobol")
    np.testing.assert_allclose(found["S1"], [0.0, 0.0], atol=0.05)
    assert found.attrs["S2"].loc["p0", "p1"] == pytest.approx(1.0, abs=0.1)


def test_delta_and_rbd_fast_on_a_sampled_design_see_a_linear_model():
    # y = 2a + b over the unit square: Var = 4/12 + 1/12, so S1 = 0.8 and 0.2.
    x = np.random.default_rng(1).random((300, 2))
    table = sweep_table(x, 2 * x[:, 0] + x[:, 1])
    fast = flowsim.sensitivity_indices(table, "m", "rbd_fast")
    np.testing.assert_allclose(fast["S1"], [0.8, 0.2], atol=0.08)
    delta = flowsim.sensitivity_indices(table, "m", "delta", resamples=5)
    assert delta["delta"][0] > delta["delta"][1] > 0
    np.testing.assert_allclose(delta["S1"], [0.8, 0.2], atol=0.12)


def test_morris_effects_of_a_linear_model_are_its_slopes():
    x = morris_unit(10, 2, levels=4, seed=1)
    found = flowsim.sensitivity_indices(sweep_table(x, 2 * x[:, 0] - x[:, 1]), "m", "morris")
    np.testing.assert_allclose(found["mu"], [2.0, -1.0], atol=1e-9)
    np.testing.assert_allclose(found["mu_star"], [2.0, 1.0], atol=1e-9)


def test_each_method_refuses_a_design_it_cannot_read():
    rng = np.random.default_rng(1)
    sampled = sweep_table(rng.random((40, 2)), rng.random(40))
    grid = np.array([[a, b] for a in (0.0, 0.5, 1.0) for b in (0.0, 0.5, 1.0)] * 4)
    with pytest.raises(flowsim.FlowsimError, match="not in Saltelli's layout"):
        flowsim.sensitivity_indices(sampled, "m", "sobol")
    with pytest.raises(flowsim.FlowsimError, match="not trajectories"):
        flowsim.sensitivity_indices(sampled, "m", "morris")
    with pytest.raises(flowsim.FlowsimError, match=r"takes 3 distinct values over 36 points"):
        flowsim.sensitivity_indices(sweep_table(grid, grid.sum(axis=1)), "m", "rbd_fast")
    with pytest.raises(flowsim.FlowsimError, match="this sweep is a grid design"):
        flowsim.sensitivity_indices(sampled, "m", "delta", design="grid")
    with pytest.raises(flowsim.FlowsimError, match="no metric 'x'"):
        flowsim.sensitivity_indices(sampled, "x", "delta")


def test_without_salib_the_message_says_what_to_install(monkeypatch):
    for name in [m for m in sys.modules if m == "SALib" or m.startswith("SALib.")]:
        monkeypatch.setitem(sys.modules, name, None)
    x = saltelli_unit(8, 2, seed=1)
    with pytest.raises(flowsim.FlowsimError, match=r"pip install 'flowsim\[salib\]'"):
        flowsim.sensitivity_indices(sweep_table(x, x.sum(axis=1)), "m", "sobol")


SOBOL_PERU = f"""
[sweep]
name = "peru_sobol"
scenario = "{ROOT / "scenarios" / "peru_madre_de_dios_2014.toml"}"
method = "sobol"
samples = 4
seed = 2

[parameters]
"policies.raids.stings_2014.rate_per_year" = {{ low = 4.0, high = 40.0 }}
"policies.raids.huepetuhe_2014.capacity_loss" = {{ low = 0.1, high = 0.9 }}
"""


def test_a_sobol_sweep_of_a_shipped_scenario_prints_sobol_indices(tmp_path):
    path = tmp_path / "sobol.toml"
    path.write_text(SOBOL_PERU)
    out = tmp_path / "out"
    metric = "totals_kg.produced"
    argv = ["sweep", str(path), "--out", str(out), "--workers", "1", "--sensitivity", metric]
    code, printed, err = call_main([*argv, "--method", "sobol"])
    assert code == 0, err
    label = "peru_madre_de_dios_2014"
    assert f"sobol indices of {metric} ({label}, SALib, over 16 points" in printed
    assert "each point the mean of its 1 replication(s)" in printed
    expected = flowsim.sensitivity_indices(flowsim.load_sweep(out, metric), metric, "sobol")
    table = printed.split("replication(s)):")[1]
    for row in expected.itertuples():  # the same indices, bootstrap intervals included
        line = table.split(row.parameter)[1].split("\n")[0].split()
        assert line == [f"{v:.3f}" for v in (row.S1, row.S1_conf, row.ST, row.ST_conf)]
    assert "swing" in printed  # the tornado table stays, beside the indices


@pytest.mark.parametrize(
    ("sweep_file", "method", "fragment"),
    [
        ("scenarios/sweeps/smoke.toml", "sobol", 'needs a sobol design (method = "sobol")'),
        ("scenarios/sweeps/smoke.toml", "rbd_fast", "needs a sampled design"),
        ("scenarios/sweeps/peru_raids_displacement.toml", "morris", "needs Morris trajectories"),
    ],
)
def test_a_mismatched_method_is_refused_before_any_run(tmp_path, sweep_file, method, fragment):
    out = tmp_path / "out"
    argv = ["sweep", str(ROOT / sweep_file), "--out", str(out), "--sensitivity", "totals_kg.lost"]
    code, _, err = call_main([*argv, "--method", method])
    assert code == 2
    assert fragment in err and "Traceback" not in err
    assert not out.exists()


def test_method_needs_a_metric(tmp_path):
    smoke = ROOT / "scenarios" / "sweeps" / "smoke.toml"
    code, _, err = call_main(
        ["sweep", str(smoke), "--out", str(tmp_path / "o"), "--method", "sobol"]
    )
    assert code == 2 and "--method needs --sensitivity METRIC" in err
