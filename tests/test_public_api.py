"""The public API is enough: the notebooks use only ``flowsim.__all__`` and
``flowsim.plots``; a sweep runs without naming an executor; intervals and expectations
come from a run's Results and from a sweep's table; a run shows its summary in a
notebook; Results' properties and methods follow the rule of docs/guide-notebooks.md."""

from __future__ import annotations

import ast
import inspect
import json
import math
import subprocess
import sys
from functools import cached_property
from pathlib import Path

import pandas as pd
import pytest
from networks import chain, route, run

import flowsim
from flowsim.stats import confidence_interval

ROOT = Path(__file__).parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
PUBLIC_MODULES = {"plots"}  # public modules, imported as `from flowsim import plots`


def code_of(notebook: Path) -> str:
    """The code cells of a notebook as one Python text; IPython's magics and shell lines
    (``%matplotlib inline``, ``!ls``) become blank lines, so line numbers stay."""
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    lines = []
    for cell in cells:
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"])
        lines += [
            "" if line.lstrip().startswith(("%", "!")) else line for line in source.split("\n")
        ]
    return "\n".join(lines)


def private_uses(source: str) -> list[str]:
    """What ``source`` takes from flowsim beyond its public names, line by line."""
    public = set(flowsim.__all__) | PUBLIC_MODULES
    found = []
    aliases = {"flowsim"}
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "flowsim":
                    aliases.add(alias.asname or "flowsim")
                elif alias.name.startswith("flowsim.") and alias.name != "flowsim.plots":
                    found.append(f"line {node.lineno}: import {alias.name}")
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("flowsim"):
            if node.module == "flowsim":
                found += [
                    f"line {node.lineno}: from flowsim import {a.name}"
                    for a in node.names
                    if a.name not in public
                ]
            elif node.module != "flowsim.plots":
                found.append(f"line {node.lineno}: from {node.module} import ...")
        elif (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in aliases
            and node.attr not in public
        ):
            found.append(f"line {node.lineno}: {node.value.id}.{node.attr}")
    return sorted(found, key=lambda text: int(text.split(":")[0].split()[1]))


def test_the_check_sees_every_way_into_the_internals():
    source = "\n".join(
        [
            "import flowsim",
            "import flowsim as fs",
            "import flowsim.sweep",
            "from flowsim.stats import confidence_interval",
            "from flowsim import tables",
            "flowsim.executors.serial_executor",
            "fs.expectations",
            "from flowsim import plots",
            "from flowsim.plots import monthly_exports",
            "flowsim.run_sweep",
        ]
    )
    assert private_uses(source) == [
        "line 3: import flowsim.sweep",
        "line 4: from flowsim.stats import ...",
        "line 5: from flowsim import tables",
        "line 6: flowsim.executors",
        "line 7: fs.expectations",
    ]


def test_magics_are_left_out_of_the_code(tmp_path):
    notebook = {
        "cells": [
            {"cell_type": "code", "source": ["%matplotlib inline\n", "import flowsim.stats"]},
            {"cell_type": "markdown", "source": ["from flowsim.stats import x"]},
        ]
    }
    path = tmp_path / "n.ipynb"
    path.write_text(json.dumps(notebook), encoding="utf-8")
    assert private_uses(code_of(path)) == ["line 2: import flowsim.stats"]


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebooks_use_only_the_public_api(notebook):
    found = private_uses(code_of(notebook))
    assert not found, f"{notebook.name} reaches past flowsim.__all__: {found}"


def test_there_are_notebooks_to_check():
    assert len(NOTEBOOKS) >= 4


# --- a sweep from Python --------------------------------------------------------------------

TINY_SWEEP = """
[sweep]
name = "tiny"
scenario = "chain.toml"
replications = 2
seed = 3

[parameters]
"routes.mine_buyer.seizure_probability" = [0.0, 0.2]
"""


def chain_toml(days: int = 40) -> str:
    data = chain(days)
    lines = [
        "[meta]",
        'name = "chain"',
        "[calendar]",
        f"start = {data['calendar']['start']}",
        f"end = {data['calendar']['end']}",
        "[prices]",
        "usd_per_oz = { 2018 = 1000.0 }",
    ]
    for name, fields in data["nodes"].items():
        lines.append(f"[nodes.{name}]")
        lines += [f"{k} = {json.dumps(v)}" for k, v in fields.items()]
    for name, fields in data["routes"].items():
        lines.append(f"[routes.{name}]")
        lines += [f"{k} = {json.dumps(v)}" for k, v in fields.items()]
    return "\n".join(lines) + "\n"


@pytest.fixture
def tiny_sweep(tmp_path):
    (tmp_path / "chain.toml").write_text(chain_toml())
    path = tmp_path / "sweep.toml"
    path.write_text(TINY_SWEEP)
    return flowsim.load_sweep_file(path)


def test_sweep_runs_lists_every_run_in_order(tiny_sweep):
    sweep, folder = tiny_sweep
    runs = flowsim.sweep_runs(sweep, folder)
    assert len(runs) == sweep.run_count() == 4
    assert [(r.run, r.point, r.replication) for r in runs] == [
        (0, 0, 0),
        (1, 0, 1),
        (2, 1, 0),
        (3, 1, 1),
    ]
    assert [r.params["routes.mine_buyer.seizure_probability"] for r in runs] == [0, 0, 0.2, 0.2]


def test_run_sweep_without_an_executor_runs_every_run_here(tiny_sweep, tmp_path):
    sweep, folder = tiny_sweep
    report = flowsim.run_sweep(sweep, folder, tmp_path / "default")
    assert (report.total, report.ran, report.done_before) == (4, 4, 0)
    flowsim.run_sweep(sweep, folder, tmp_path / "serial", executor=flowsim.serial_executor)
    default = flowsim.load_sweep(tmp_path / "default").sort_values(["run", "metric"])
    serial = flowsim.load_sweep(tmp_path / "serial").sort_values(["run", "metric"])
    pd.testing.assert_frame_equal(default.reset_index(drop=True), serial.reset_index(drop=True))


# --- intervals -------------------------------------------------------------------------------


def test_metric_intervals_pool_each_point_as_confidence_interval_does():
    table = pd.DataFrame(
        {
            "run": range(7),
            "scenario": ["a", "a", "a", "a", "a", "b", "b"],
            "point": [0, 0, 1, 1, 1, 0, 0],
            "replication": [0, 1, 0, 1, 2, 0, 1],
            "seed": 1,
            "rate": [0.1, 0.1, 0.5, 0.5, 0.5, math.nan, math.nan],
            "metric": "totals_kg.exported",
            "value": [10.0, 14.0, 1.0, 0.5, 0.2, 7.0, 7.0],
        }
    )
    pooled = flowsim.metric_intervals(table)
    assert list(pooled.columns) == [
        "scenario",
        "point",
        "rate",
        "metric",
        "replications",
        "mean",
        "sd",
        "ci95_low",
        "ci95_high",
    ]
    assert pooled["replications"].tolist() == [2, 3, 2]
    for row, values in zip(
        pooled.itertuples(), ([10.0, 14.0], [1.0, 0.5, 0.2], [7.0, 7.0]), strict=True
    ):
        low, high = confidence_interval(values, bounds=(0.0, math.inf))
        assert (row.ci95_low, row.ci95_high) == pytest.approx((low, high))
        assert row.mean == pytest.approx(sum(values) / len(values))
    # kg are never negative: the interval of a point near 0 stops there.
    assert pooled["ci95_low"].iloc[1] == 0.0
    assert math.isnan(pooled["rate"].iloc[2])  # a scenario that does not vary


def test_metric_intervals_cut_shares_to_0_1_and_leave_one_replication_without():
    table = pd.DataFrame(
        {
            "replication": [0, 1, 0],
            "metric": ["exposure_by_partner.uae.sanctioned_entity_share"] * 2
            + ["totals_kg.seized"],
            "value": [0.99, 0.6, 3.0],
        }
    )
    pooled = flowsim.metric_intervals(table).set_index("metric")
    share = pooled.loc["exposure_by_partner.uae.sanctioned_entity_share"]
    assert share["ci95_high"] == 1.0
    assert share["ci95_low"] == 0.0
    seized = pooled.loc["totals_kg.seized"]
    assert seized["replications"] == 1
    assert math.isnan(seized["sd"]) and math.isnan(seized["ci95_low"])
    assert math.isnan(seized["ci95_high"])


def test_metric_intervals_keep_the_named_metrics_and_say_which_there_are():
    table = pd.DataFrame(
        {
            "replication": [0, 0, 0],
            "metric": ["totals_kg.exported", "totals_kg.seized", "totals_kg_other"],
            "value": [1.0, 2.0, 3.0],
        }
    )
    kept = flowsim.metric_intervals(table, "totals_kg")["metric"].tolist()
    assert kept == ["totals_kg.exported", "totals_kg.seized"]
    with pytest.raises(
        flowsim.FlowsimError, match=r"no metric 'totals'.*under: totals_kg, totals_kg_other$"
    ):
        flowsim.metric_intervals(table, ["totals"])
    with pytest.raises(flowsim.FlowsimError, match="columns metric and value"):
        flowsim.metric_intervals(table.drop(columns="value"))


@pytest.fixture(scope="module")
def noisy():
    """Two replications of a chain whose output and seizures vary."""
    data = chain(60)
    data["nodes"]["mine"]["production_cv"] = 0.5
    data["routes"]["mine_buyer"] = route("mine", "buyer", seizure_probability=0.2)
    return run(data, seed=4, replications=2)


def test_results_intervals_are_the_summary_as_a_table(noisy):
    summary = noisy.summary()
    pooled = noisy.intervals().set_index("metric")
    for name, mean in summary["totals_kg"].items():
        row = pooled.loc[f"totals_kg.{name}"]
        assert row["replications"] == 2
        assert row["mean"] == pytest.approx(mean)
        assert row["sd"] == pytest.approx(summary["sd"]["totals_kg"][name])
        ci = summary["ci95"]["totals_kg"][name]
        assert (row["ci95_low"], row["ci95_high"]) == pytest.approx(tuple(ci))
    assert any(name.startswith("exports_kg_monthly.") for name in pooled.index)
    seized = noisy.intervals("totals_kg.seized")
    assert seized["metric"].tolist() == ["totals_kg.seized"]
    with pytest.raises(flowsim.FlowsimError, match=r"no metric 'seizures'.*under: .*\btotals_kg\b"):
        noisy.intervals("seizures")


# --- expectations ----------------------------------------------------------------------------


def test_results_evaluate_the_scenario_s_expectations(noisy):
    data = chain(
        60,
        expect=[
            {"name": "some gold leaves", "metric": "totals_kg.exported", "at_least": 1.0},
            {"name": "all of it leaves", "metric": "totals_kg.exported", "at_least": 1e9},
        ],
    )
    rules = flowsim.scenario_from_dict(data).expect
    passed, failed = noisy.evaluate_expectations(rules)
    assert passed.passed and not failed.passed
    assert failed.line().startswith("FAIL all of it leaves [chain]")
    assert passed.ci95 is not None  # two replications
    with pytest.raises(flowsim.FlowsimError, match="not a dict"):
        noisy.evaluate_expectations([{"name": "x", "metric": "totals_kg.exported"}])


# --- in a notebook ---------------------------------------------------------------------------


def test_repr_html_shows_the_run_with_intervals_from_two_replications(noisy):
    page = noisy._repr_html_()
    assert "Results of chain" in page and "seed 4, 2 replications" in page
    assert "2018-01-01 to 2018-03-01" in page
    assert page.count("95% interval") == 2  # the mass balance and the exports
    low, high = noisy.summary()["ci95"]["totals_kg"]["produced"]
    assert f"[{low:,.1f}, {high:,.1f}]" in page
    assert "<th>partner</th>" in page
    assert repr(noisy) == f"<Results 'chain' seed=4 replications=2 rows={len(noisy.ledger)}>"


def test_repr_html_draws_nothing():
    code = (
        "import sys, flowsim; sys.path.insert(0, 'tests'); from networks import chain, run; "
        "run(chain(20))._repr_html_(); print('matplotlib' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert done.stdout.strip() == "False"


def test_repr_html_has_no_interval_with_one_replication():
    page = run(chain(20), replications=1)._repr_html_()
    assert "95% interval" not in page and "[" not in page
    assert "1 replication (no intervals: they need two or more)" in page


def test_repr_html_escapes_the_names(noisy):
    results = flowsim.Results.__new__(flowsim.Results)
    results.__dict__.update(noisy.__dict__)
    summary = noisy.summary()
    summary["scenario"] = '<script>alert("x")</script>'
    for tree in (summary, summary["ci95"]):
        tree["exports_kg_by_partner"]["<b>&partner"] = tree["exports_kg_by_partner"]["partner"]
    results.__dict__["_summary"] = summary
    page = results._repr_html_()
    assert "<script>" not in page and "<b>" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "&lt;b&gt;&amp;partner" in page


# --- properties and methods ------------------------------------------------------------------


def public_members() -> dict[str, object]:
    return {
        name: value
        for name, value in inspect.getmembers(flowsim.Results)
        if not name.startswith("_")
    }


def test_properties_are_kept_and_methods_give_a_new_object_each_call(noisy):
    """The rule of docs/guide-notebooks.md, for every public name of Results."""
    checked = set()
    for name, member in public_members().items():
        if isinstance(member, (property, cached_property)):
            first, second = getattr(noisy, name), getattr(noisy, name)
            if isinstance(first, pd.DataFrame):
                assert first is second, f"Results.{name} is a new table on each read: a method"
            else:
                assert first == second, name
            checked.add(name)
        elif callable(member) and not isinstance(
            inspect.getattr_static(flowsim.Results, name), classmethod
        ):
            parameters = list(inspect.signature(getattr(noisy, name)).parameters.values())
            if any(p.default is inspect.Parameter.empty for p in parameters):
                checked.add(name)  # takes arguments: a method by the rule
                continue
            first, second = getattr(noisy, name)(), getattr(noisy, name)()
            if first is not None:
                assert first is not second, f"Results.{name}() returns a kept object: a property"
            checked.add(name)
    assert {"exports_monthly", "replications", "partners", "summary", "intervals"} <= checked
    assert {"balance", "metrics", "evaluate_expectations", "save"} <= checked
