"""Scenario discovery: PRIM boxes of the points where an outcome happens."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fuzz_strategies import call_main

import flowsim
from flowsim.discovery import prim

PERU = Path(__file__).parent / "data" / "sweeps" / "peru_discovery.toml"
RULE = "production stays above 16,600 kg"


def test_prim_finds_a_known_box():
    rng = np.random.default_rng(7)
    x = pd.DataFrame(rng.random((2000, 3)), columns=["a", "b", "c"])
    cases = ((x.a > 0.6) & (x.b < 0.3)).to_numpy()
    boxes = prim(x, cases)
    box = boxes[0]
    assert set(box.limits) == {"a", "b"}  # c does not matter, and is left whole
    assert box.limits["a"][0] == pytest.approx(0.6, abs=0.02)
    assert box.limits["b"][1] == pytest.approx(0.3, abs=0.02)
    inside = (x.a >= box.limits["a"][0]) & (x.b <= box.limits["b"][1])
    assert box.points == int(inside.sum())
    assert box.coverage == pytest.approx(cases[inside].sum() / cases.sum())
    assert box.density == pytest.approx(cases[inside].mean()) and box.density >= 0.8
    assert box.mass == pytest.approx(inside.mean())
    assert box.coverage > 0.9 and box.density > 0.95


def test_prim_finds_two_boxes_one_after_the_other():
    rng = np.random.default_rng(3)
    x = pd.DataFrame(rng.random((3000, 2)), columns=["a", "b"])
    cases = ((x.a < 0.2) | (x.b > 0.85)).to_numpy()
    boxes = prim(x, cases, threshold=0.9)
    assert len(boxes) >= 2
    found = {name for box in boxes[:2] for name in box.limits}
    assert found == {"a", "b"}
    assert sum(b.coverage for b in boxes) == pytest.approx(
        sum(b.cases for b in boxes) / cases.sum()
    )
    assert sum(b.coverage for b in boxes) > 0.9


def test_prim_needs_cases_and_parameters():
    x = pd.DataFrame({"a": [0.1, 0.2]})
    with pytest.raises(flowsim.FlowsimError, match="happens at no point"):
        prim(x, np.array([False, False]))
    with pytest.raises(flowsim.FlowsimError, match="no parameters"):
        prim(x[[]], np.array([True, False]))


@pytest.fixture(scope="module")
def peru(tmp_path_factory):
    """The Peru sweep, run once: 10 points of the 2014 raids."""
    out = tmp_path_factory.mktemp("peru") / "sweep"
    code, _, err = call_main(["sweep", str(PERU), "--out", str(out), "--workers", "1"])
    assert code == 1, err  # its rule fails at some points: that is what is discovered
    return out


def test_discover_prints_the_boxes_of_a_failed_rule_and_draws_them(peru, tmp_path):
    figure = tmp_path / "boxes.svg"
    code, out, err = call_main(["discover", str(peru), "--rule", RULE, "--out", str(figure)])
    assert code == 0, err
    table = flowsim.load_sweep(peru, "totals_kg.produced")
    means = table.groupby("point")["value"].mean()
    failed = int((means < 16600.0).sum())
    assert 0 < failed < len(means)
    assert f"rule '{RULE}' fails at {failed} of {len(means)} points of 'raids'" in out
    assert "box 1: coverage" in out and "density" in out
    assert "stings_per_year" in out or "displacement_share" in out
    assert figure.read_text().startswith("<?xml") and "<svg" in figure.read_text()
    # The same points, named by the metric and the rule's bound: the same boxes.
    code, by_metric, _ = call_main(
        ["discover", str(peru), "--metric", "totals_kg.produced", "--below", "16600"]
    )
    assert code == 0
    assert by_metric.split("PRIM boxes:")[1] == out.split("PRIM boxes:")[1].split("wrote")[0]


def test_a_box_holds_the_points_it_says(peru):
    found = flowsim.discover(peru, metric="totals_kg.produced", above=16600.0)
    table = flowsim.load_sweep(peru, "totals_kg.produced")
    points = table.groupby("point").agg(
        value=("value", "mean"),
        stings=("stings_per_year", "first"),
        share=("displacement_share", "first"),
    )
    box = found.boxes[0]
    inside = pd.Series(True, index=points.index)
    for name, column in (("stings_per_year", "stings"), ("displacement_share", "share")):
        low, high = box.limits.get(name, (-np.inf, np.inf))
        inside &= points[column].between(low, high)
    cases = points["value"] > 16600.0
    assert found.cases == int(cases.sum())
    assert box.points == int(inside.sum())
    assert box.density == pytest.approx(cases[inside].mean())
    assert box.coverage == pytest.approx(cases[inside].sum() / cases.sum())


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["--metric", "nope.metric", "--below", "1"], "no metric 'nope.metric'"),
        (["--metric", "totals_kg.produced", "--below", "0"], "at no point"),
        (["--metric", "totals_kg.produced"], "give one of --below X or --above X"),
        (["--rule", "no such rule"], "no [[expect]] rule named 'no such rule'"),
        ([], "give --metric M with --below X or --above X, or --rule NAME"),
        (["--rule", RULE, "--out", "boxes.pdf"], "give a .svg or .png file"),
        (["--metric", "totals_kg.produced", "--below", "1", "--above", "2"], "not allowed"),
        (["--rule", RULE, "--threshold", "1.5"], "a density, above 0 and at most 1"),
    ],
)
def test_discover_user_errors_exit_2(peru, argv, fragment, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    code, _, err = call_main(["discover", str(peru), *argv])
    assert code == 2, err
    assert fragment in err and "Traceback" not in err


def test_discover_refuses_a_sweep_without_parameters(tmp_path):
    scenario = PERU.parents[3] / "scenarios" / "peru_madre_de_dios_2014.toml"
    bare = tmp_path / "bare.toml"
    bare.write_text(
        f'[sweep]\nname = "bare"\nscenario = "{scenario}"\n\n'
        f'[[expect]]\nname = "{RULE}"\nmetric = "totals_kg.produced"\nat_least = 16600.0\n'
    )
    out = tmp_path / "out"
    assert call_main(["sweep", str(bare), "--out", str(out), "--workers", "1"])[0] in (0, 1)
    code, _, err = call_main(["discover", str(out), "--rule", RULE])
    assert code == 2
    assert "no scenario of the sweep varies a parameter" in err
