"""Reliability: scenario fuzzing, numeric robustness, security, and sweeps under SIGKILL.

The fuzzing here is the quick profile of ``make fuzz`` (tools/fuzz.py): about
200 examples, derandomized so that CI sees the same ones on every run. The
strategies and properties are in ``tests/fuzz_strategies.py``. See
docs/reliability.md.
"""

from __future__ import annotations

import ast
import datetime
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from fuzz_folders import FOLDER_KINDS
from fuzz_strategies import (
    INVALID,
    INVALID_KINDS,
    KINDS,
    SEEDS,
    UNSAFE_NAMES,
    InvalidCase,
    call_main,
    check_extreme,
    check_invalid,
    check_numbers,
    check_valid,
    format_path,
    non_finite_numbers,
    to_toml,
    valid_scenarios,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from networks import chain, node, route

import flowsim
from flowsim.errors import ScenarioError
from flowsim.provenance import EXPOSURES

ROOT = Path(__file__).resolve().parents[1]

# Reproducible in CI: the same examples on every run, and no example database.
QUICK = settings(
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


# --- fuzzing: the quick profile ---------------------------------------------------------


@settings(QUICK, max_examples=40)
@given(data=valid_scenarios(), seed=SEEDS, replications=st.integers(1, 2))
def test_any_valid_scenario_runs_balances_has_finite_figures_and_repeats(data, seed, replications):
    """It survives a TOML round trip, runs, balances (simulate checks), every exposure
    share is in [0, 1], no number of summary() or of the monthly tables is NaN or
    infinite, and the same seed gives the same ledger."""
    with tempfile.TemporaryDirectory() as folder:
        check_valid(data, seed, replications, Path(folder))


@pytest.mark.parametrize("kind", INVALID_KINDS)
@settings(QUICK, max_examples=10)
@given(data=st.data())
def test_any_invalid_input_is_rejected_with_a_clear_message(kind, data):
    """load_scenario raises ScenarioError (never anything else) naming the key or the
    file; flowsim validate and flowsim run exit 2 with a message and no traceback."""
    case = data.draw(INVALID[kind], label=kind)
    with tempfile.TemporaryDirectory() as folder:
        check_invalid(case, Path(folder))


@pytest.mark.parametrize("kind", sorted(FOLDER_KINDS))
def test_any_damaged_or_foreign_folder_is_refused_or_read_whole(kind, tmp_path_factory):
    """tests/fuzz_folders.py: a folder flowsim wrote, damaged, or one it did not write."""
    strategy, check = FOLDER_KINDS[kind]

    @settings(QUICK, max_examples=12)
    @given(example=strategy)
    def property_holds(example):
        check(example, tmp_path_factory.mktemp(kind))

    property_holds()


@settings(QUICK, max_examples=10)
@given(example=KINDS["extreme_value"][0])
def test_a_value_at_the_edge_of_its_range_is_refused_or_runs(example):
    """1e12 (the largest the schema takes), 0 or the smallest doubles: refused with an
    error naming the key, or run to the end with finite figures."""
    with tempfile.TemporaryDirectory() as folder:
        check_extreme(*example, workdir=Path(folder))


# --- huge numbers, deep nesting and counts -----------------------------------------------


def _huge_base() -> dict:
    data = chain(30)
    data["nodes"]["buyer"]["initial_stock"] = [{"origin": "mine", "kg": 5.0, "lot_kg": 1.0}]
    data["routes"]["mine_buyer"]["cost_usd_per_kg"] = 1.0
    data["nodes"]["buyer"]["processing_days"] = {"dist": "lognormal", "mean": 0.5, "cv": 0.5}
    data["routes"]["buyer_partner"]["transit_days"] = {
        "dist": "triangular",
        "low": 0.0,
        "mode": 1.0,
        "high": 4.0,
    }
    return data


@pytest.mark.parametrize(
    "path",
    [
        ("nodes", "mine", "production_kg_per_day"),
        ("nodes", "mine", "lot_interval_days"),
        ("nodes", "mine", "production_cv"),
        ("nodes", "buyer", "capacity_kg_per_day"),
        ("nodes", "buyer", "processing_days", "cv"),
        ("nodes", "buyer", "initial_stock", 0, "kg"),
        ("prices", "usd_per_oz", "2018"),
        ("routes", "mine_buyer", "cost_usd_per_kg"),
        ("routes", "mine_buyer", "transit_days"),
        ("routes", "mine_buyer", "capacity_kg_per_day"),
        ("routes", "buyer_partner", "transit_days", "high"),
    ],
    ids=lambda path: ".".join(map(str, path)),
)
def test_1e308_is_refused_naming_the_key(path, tmp_path):
    """Before the bounds (1e12; 100 for a coefficient of variation), these were accepted
    and then ended in exit 3, Infinity in summary.json or a traceback."""
    data = _huge_base()
    target = data
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = 1e308
    key = format_path(path)
    case = InvalidCase("huge_number", {"scenario.toml": to_toml(data)}, keys=(key,))
    check_invalid(case, tmp_path)


@pytest.mark.parametrize(
    "text",
    [
        "v = " + "[" * 3000 + "]" * 3000,
        "v = " + "{ a = " * 3000 + "1" + " }" * 3000,
        "[" + ".".join(["a"] * 3000) + "]",
        "[" + ".".join(["a"] * 40) + "]",
    ],
    ids=["array", "inline_table", "table_header", "table_header_40"],
)
def test_deeply_nested_toml_is_refused_cleanly(text, tmp_path):
    """It used to end in a RecursionError with a traceback."""
    case = InvalidCase("deep_nesting", {"scenario.toml": text + "\n"}, file_level=True)
    check_invalid(case, tmp_path)
    with pytest.raises(ScenarioError, match="deep"):
        flowsim.load_scenario(tmp_path / "scenario.toml")


def test_moderately_nested_toml_is_refused_cleanly(tmp_path):
    case = InvalidCase("deep_nesting", {"scenario.toml": "v = " + "[" * 20 + "]" * 20 + "\n"})
    check_invalid(case, tmp_path)


@pytest.mark.parametrize(
    "path, value",
    [
        (("nodes", "buyer", "servers"), 100_001),
        (("nodes", "buyer", "servers"), 10**18),
        (("policies", "raids", "many", "rate_per_year"), 36_501.0),
        (("policies", "raids", "many", "rate_per_year"), 1e12),
        (("policies", "raids", "many", "rate_per_year"), 36_500.0),
    ],
    ids=["servers_100001", "servers_1e18", "rate_36501", "rate_1e12", "rate_36500"],
)
def test_a_count_that_would_fill_the_memory_is_refused(path, value, tmp_path):
    """One process per server, one event per raid: 1e18 servers never finished and a
    rate of 1e12 raids a year ended in MemoryError; now both are refused (the largest
    accepted rate still runs)."""
    data = chain(30)
    data["policies"] = {
        "raids": {
            "many": {
                "rate_per_year": 1.0,
                "window_start": "2018-01-02",
                "window_end": "2018-01-29",
                "nodes": ["mine"],
            }
        }
    }
    target = data
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    check_extreme(data, format_path(path), tmp_path, seconds=30.0)
    if value in (100_001, 10**18, 36_501.0, 1e12):
        with pytest.raises(ScenarioError) as info:
            flowsim.scenario_from_dict(data)
        assert [i.path for i in info.value.issues] == [format_path(path)]


@pytest.mark.parametrize(
    "interval",
    [0.0, {"dist": "uniform", "low": 0.0, "high": 0.0}],
    ids=["number", "uniform"],
)
def test_a_zero_lot_interval_is_refused_naming_the_key(interval, tmp_path):
    """It used to end in a ZeroDivisionError in the check on the number of lots."""
    data = chain(30)
    data["nodes"]["mine"]["lot_interval_days"] = interval
    keys = ("nodes.mine.lot_interval_days",)
    check_invalid(
        InvalidCase("zero_interval", {"scenario.toml": to_toml(data)}, keys=keys), tmp_path
    )


def test_the_retry_interval_is_gone_with_a_message_that_says_why(tmp_path):
    """Held lots used to be retried every hold_retry_days: below an hour millions of
    times, and at 1e-300 forever. They now wait for the day a route may open."""
    data = chain(30)
    data["simulation"] = {"hold_retry_days": 1.0}
    keys = ("simulation.hold_retry_days",)
    check_invalid(InvalidCase("removed_key", {"scenario.toml": to_toml(data)}, keys=keys), tmp_path)


@pytest.mark.parametrize("until", [None, "2018-01-20"])
def test_lots_no_partner_takes_are_held_and_released_when_the_sanction_lapses(until, tmp_path):
    data = chain(30)
    data["simulation"] = {"lot_interval_days": 0.01}
    sanction = {
        "issuer": "USA",
        "effective": "2018-01-05",
        "target_jurisdictions": ["VEN"],
        "default_compliance": 1.0,
    }
    if until:
        sanction["until"] = until
    data["policies"] = {"sanctions": {"all": sanction}}
    check_extreme(data, "policies.sanctions.all", tmp_path, seconds=10.0)


# --- numeric robustness ------------------------------------------------------------------


def finite_summary(results: flowsim.Results) -> dict:
    summary = results.summary()
    check_numbers(
        summary,
        {
            "exports_monthly": results.exports_monthly,
            "exposure_monthly": results.exposure_monthly,
            "stocks_monthly": results.stocks_monthly,
        },
    )
    return summary


def test_a_hundred_year_horizon_runs_and_balances(tmp_path):
    data = {
        "meta": {"name": "century"},
        "calendar": {"start": "2000-01-01", "end": "2099-12-31"},
        "prices": {"usd_per_oz": {str(y): 1000.0 + y for y in range(2000, 2100)}},
        "nodes": {
            "mine": node("mine", legal_status="illegal"),
            "buyer": node("buyer", entity="gang"),
            "partner": node("partner"),
        },
        "routes": {"a": route("mine", "buyer"), "b": route("buyer", "partner")},
        "policies": {
            "sanctions": {
                "s": {"issuer": "USA", "effective": "2050-01-01", "target_entities": ["gang"]}
            }
        },
    }
    results = flowsim.simulate(flowsim.scenario_from_dict(data), seed=1)
    summary = finite_summary(results)
    days = (datetime.date(2099, 12, 31) - datetime.date(2000, 1, 1)).days + 1
    assert summary["totals_kg"]["produced"] == pytest.approx(10.0 * days, rel=1e-9)
    assert len(results.exports_monthly) == 1200
    monthly = results.exposure_monthly.set_index("node").loc["partner"]
    before = monthly[monthly["month"] < "2050-01-01"]
    after = monthly[(monthly["month"] > "2050-01-01") & (monthly["received_kg"] > 0)]
    assert (before["sanctioned_entity_share"] == 0).all()
    assert (after["sanctioned_entity_share"] == 1).all() and len(after) > 590
    assert (monthly["illegal_origin_share"][monthly["received_kg"] > 0] == 1).all()
    # The run folder too: summary.json is strict JSON.
    path = tmp_path / "century.toml"
    path.write_text(to_toml(data))
    code, _, err = call_main(["run", str(path), "--out", str(tmp_path / "out"), "--no-report"])
    assert code == 0, err
    json.loads((tmp_path / "out" / "summary.json").read_text(), parse_constant=_no_constant)


def _no_constant(name: str) -> float:
    raise AssertionError(f"summary.json holds {name}")


def test_production_rates_a_million_times_apart_share_a_scenario():
    """A 1 g/day illegal mine beside a 1 t/day licensed one: its gold is neither lost in
    rounding nor blown up, and its exposure share at the partner is about 1e-6."""
    data = chain(60)
    data["nodes"]["small"] = node("mine", production_kg_per_day=1e-3, legal_status="illegal")
    data["nodes"]["mine"]["production_kg_per_day"] = 1e3
    data["routes"]["small_buyer"] = route("small", "buyer")
    results = flowsim.simulate(flowsim.scenario_from_dict(data), seed=3)
    summary = finite_summary(results)
    produced = results.production_monthly.groupby("mine")["kg"].sum()
    assert produced["small"] == pytest.approx(1e-3 * 60, rel=1e-9)
    assert produced["mine"] == pytest.approx(1e3 * 60, rel=1e-9)
    exposure = summary["exposure_by_partner"]["partner"]
    assert 1e-3 * 57 <= exposure["illegal_origin_kg"] <= 1e-3 * 60
    share = exposure["illegal_origin_share"]
    assert share == pytest.approx(exposure["illegal_origin_kg"] / exposure["received_kg"], rel=1e-9)
    assert 0.9e-6 < share < 1.1e-6


def test_a_route_and_a_partner_with_no_flow_give_zeros_not_nan():
    data = chain(40)
    data["nodes"]["idle"] = node("partner")
    data["nodes"]["idle_refiner"] = node("refiner")
    data["nodes"]["buyer"]["entity"] = "gang"
    data["routes"]["buyer_idle"] = route("buyer", "idle", weight=0.0)
    data["routes"]["mine_idle_refiner"] = route("mine", "idle_refiner", weight=0.0)
    data["routes"]["idle_refiner_partner"] = route("idle_refiner", "partner")
    data["policies"] = {
        "sanctions": {
            "s": {"issuer": "USA", "effective": "2018-01-10", "target_entities": ["gang"]}
        }
    }
    results = flowsim.simulate(flowsim.scenario_from_dict(data), seed=2, replications=2)
    summary = finite_summary(results)
    assert summary["exports_kg_by_partner"]["idle"] == 0.0
    assert summary["exports_usd_by_partner"]["idle"] == 0.0
    for group, idle in (("exposure_by_partner", "idle"), ("exposure_by_refiner", "idle_refiner")):
        assert set(summary[group][idle].values()) == {0.0}, summary[group][idle]
        assert set(summary["sd"][group][idle].values()) == {0.0}
        assert all(ci == [0.0, 0.0] for ci in summary["ci95"][group][idle].values())
    # The busy partner's shares are real fractions, so the zeros above are not a default.
    assert 0.0 < summary["exposure_by_partner"]["partner"]["sanctioned_entity_share"] < 1.0
    for table in (results.exposure_monthly, results.exposure):
        rows = table[table["node"].isin(["idle", "idle_refiner"])]
        numbers = rows.select_dtypes("number").drop(columns="replication")
        assert len(rows) and (numbers.to_numpy() == 0.0).all()
    assert not non_finite_numbers(summary)


def test_a_run_in_which_nothing_is_produced_gives_zeros():
    """It used to die in the mass balance check with a TypeError."""
    data = chain(30)
    data["nodes"]["mine"]["fuel_dependence"] = 1.0
    data["policies"] = {
        "fuel_restrictions": {
            "cut": {"region": "north", "start": "2018-01-01", "end": "2018-01-30"}
        }
    }
    results = flowsim.simulate(flowsim.scenario_from_dict(data))
    summary = finite_summary(results)
    assert set(summary["totals_kg"].values()) == {0.0}
    for name in EXPOSURES:
        assert summary["exposure_by_partner"]["partner"][f"{name}_share"] == 0.0


# --- security -----------------------------------------------------------------------------

FLOWSIM = ROOT / "flowsim"
CODE_CALLS = {"eval", "exec", "compile", "__import__"}
CODE_ATTRIBUTES = {
    ("pickle", "load"),
    ("pickle", "loads"),
    ("marshal", "load"),
    ("marshal", "loads"),
    ("shelve", "open"),
    ("importlib", "import_module"),
    ("yaml", "load"),
    ("yaml", "unsafe_load"),
    ("os", "system"),
    ("os", "popen"),
}
CODE_MODULES = {"pickle", "marshal", "shelve", "dill", "cloudpickle"}
CODE_TEXT = re.compile(r"\beval\(|\bexec\(|pickle\.load|__import__|importlib\.import_module\(")


def test_flowsim_never_runs_its_input_as_code():
    """Scenario and sweep files are data: no eval, exec, pickle, dynamic imports or
    shells anywhere in the package."""
    found = []
    for file in sorted(FLOWSIM.rglob("*.py")):
        text = file.read_text(encoding="utf-8")
        name = file.relative_to(ROOT)
        found += [f"{name}: {m.group()}" for m in CODE_TEXT.finditer(text)]
        for item in ast.walk(ast.parse(text)):
            if isinstance(item, ast.Call):
                func = item.func
                if isinstance(func, ast.Name) and func.id in CODE_CALLS:
                    found.append(f"{name}:{item.lineno}: {func.id}()")
                if (
                    isinstance(func, ast.Attribute)
                    and isinstance(func.value, ast.Name)
                    and (func.value.id, func.attr) in CODE_ATTRIBUTES
                ):
                    found.append(f"{name}:{item.lineno}: {func.value.id}.{func.attr}()")
                if any(k.arg == "shell" for k in item.keywords):
                    found.append(f"{name}:{item.lineno}: shell=")
            elif isinstance(item, ast.Import):
                found += [f"{name}: import {a.name}" for a in item.names if a.name in CODE_MODULES]
            elif isinstance(item, ast.ImportFrom) and item.module in CODE_MODULES:
                found.append(f"{name}: from {item.module} import ...")
    assert not found


@pytest.mark.parametrize("name", UNSAFE_NAMES)
def test_a_scenario_name_that_could_leave_the_output_folder_is_rejected(
    name, tmp_path, monkeypatch
):
    data = chain(10)
    data["meta"]["name"] = name
    with pytest.raises(ScenarioError) as info:
        flowsim.scenario_from_dict(data)
    assert [i.path for i in info.value.issues] == ["meta.name"]
    # Without --out the run folder would be results/<name>: nothing is written at all.
    path = tmp_path / "scenario.toml"
    path.write_text(to_toml(data), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    code, _, err = call_main(["run", str(path)])
    assert code == 2 and "meta.name" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scenario.toml"]


@pytest.mark.parametrize("name", ["../buyer", "a/b", "/etc", "..", "b\\c", "gang leader"])
def test_a_node_or_route_id_with_a_path_in_it_is_rejected(name):
    data = chain(10)
    data["nodes"][name] = data["nodes"].pop("buyer")
    data["routes"] = {"m": route("mine", name), name: route(name, "partner")}
    with pytest.raises(ScenarioError) as info:
        flowsim.scenario_from_dict(data)
    paths = {i.path for i in info.value.issues}
    assert {f"nodes.{name}", f"routes.{name}"} <= paths


@pytest.mark.parametrize(
    "text, key",
    [
        ('[sweep]\nname = "../evil"\nscenario = "base.toml"\n', "sweep.name"),
        (
            '[sweep]\nname = "s"\nscenario = "base.toml"\n\n[[scenarios]]\nname = "a/b"\n',
            "scenarios[0].name",
        ),
    ],
    ids=["sweep_name", "scenario_label"],
)
def test_a_sweep_name_with_a_path_in_it_is_rejected(text, key, tmp_path, monkeypatch):
    (tmp_path / "base.toml").write_text(to_toml(chain(10)))
    path = tmp_path / "sweep.toml"
    path.write_text(text)
    with pytest.raises(ScenarioError) as info:
        flowsim.load_sweep_file(path)
    assert [i.path for i in info.value.issues] == [key]
    monkeypatch.chdir(tmp_path)  # without --out a sweep goes to results/sweeps/<name>
    code, _, err = call_main(["sweep", str(path), "--workers", "1"])
    assert code == 2 and "Traceback" not in err
    assert not (tmp_path / "results").exists()


def test_a_run_writes_nothing_outside_its_out_folder(tmp_path, monkeypatch):
    path = tmp_path / "scenario.toml"
    path.write_text(to_toml(chain(10)))
    monkeypatch.chdir(tmp_path)
    code, _, err = call_main(["run", str(path), "--out", "deep/out"])
    assert code == 0, err
    written = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert all(p.startswith("deep/out/") for p in written if p != "scenario.toml")
    assert sorted(p.name for p in (tmp_path / "deep").iterdir()) == ["out"]


# --- sweeps under SIGKILL (slow: set FLOWSIM_CHAOS=1; make chaos runs the long version) ---

chaos = pytest.mark.skipif(
    os.environ.get("FLOWSIM_CHAOS") != "1",
    reason="slow: set FLOWSIM_CHAOS=1 to run it (make chaos runs the 20-kill version)",
)


def run_chaos(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "tools.chaos", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.mark.slow
@chaos
def test_a_sweep_killed_three_times_resumes_to_the_same_table():
    out = run_chaos("--kills", "3", "--replications", "10", "--seed", "1")
    assert re.search(r"identical to the uninterrupted run:\s+yes", out), out
    assert re.search(r"every listed part read cleanly at every kill:\s+yes", out), out


@pytest.mark.slow
@chaos
def test_a_sweep_on_dask_survives_a_killed_worker():
    out = run_chaos("--kills", "0", "--dask", "--replications", "12")
    assert re.search(r"a worker killed after \d+ of \d+ runs", out), out
    assert re.search(r"identical to a serial run:\s+yes", out), out


def test_fuzz_and_chaos_tools_parse_their_options():
    """The make targets' scripts load (their long runs are not part of make test)."""
    for tool in ("tools.fuzz", "tools.chaos"):
        done = subprocess.run(
            [sys.executable, "-m", tool, "--help"], cwd=ROOT, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
