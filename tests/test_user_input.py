"""Every input a user can type is an input, not a crash: each case below is exit 2 with
one clear message, no traceback, and nothing written."""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd
import pytest
from fuzz_strategies import call_main, to_toml
from networks import chain

import flowsim
from flowsim.text import printable, xml_safe


@pytest.fixture
def scenario(tmp_path: Path) -> Path:
    path = tmp_path / "s.toml"
    path.write_text(to_toml(chain(20)))
    return path


def refused(argv: list[object], fragment: str) -> str:
    code, _, err = call_main([str(a) for a in argv])
    assert code == 2, err
    assert "Traceback" not in err
    assert fragment in err, err
    return err


def one_message(err: str) -> None:
    lines = [line for line in err.splitlines() if not line.startswith("usage:")]
    assert len([line for line in lines if "error" in line]) == 1, err


# --- item 3: sweeps refuse what they cannot do, before they start -------------------------

SWEEP_HEAD = '[sweep]\nname = "s"\nscenario = "s.toml"\n'
PATH = '"routes.mine_buyer.seizure_probability"'
TEN = "[" + ", ".join(["0.1"] * 10) + "]"
DESIGNS = {
    "grid_of_1e8_points": (
        "[parameters]\n" + "\n".join(f'"routes.mine_buyer.p{i}" = {TEN}' for i in range(8)),
        "the design has 100,000,000 runs",
    ),
    "1e12_samples": (
        'method = "latin_hypercube"\nsamples = 1000000000000\n'
        f"[parameters]\n{PATH} = {{low = 0.0, high = 0.5}}",
        "the design has 1,000,000,000,000 runs",
    ),
    "1e8_replications": ("replications = 100000000", "the design has 100,000,000 runs"),
    "a_column_name": (
        f"[parameters.run]\npaths = [{PATH}]\nvalues = [0.1]",
        "parameter 'run' has the name of a column",
    ),
    "a_column_name_in_capitals": (
        f"[parameters.SEED]\npaths = [{PATH}]\nvalues = [0.1]",
        "parameter 'SEED' has the name of a column",
    ),
    "two_setting_one_key": (
        f"[parameters]\n{PATH} = [0.1]\n[parameters.x]\npaths = [{PATH}]\nvalues = [0.2]",
        "two settings of the same key",
    ),
    "one_setting_inside_another": (
        f'[parameters]\n"routes.mine_buyer" = [{{}}]\n{PATH} = [0.1]',
        "two settings of overlapping keys",
    ),
    "seed_beyond_64_bits": ("seed = 9223372036854775808", "sweep.seed"),
    "negative_seed": ("seed = -1", "sweep.seed"),
}


@pytest.mark.parametrize("case", sorted(DESIGNS))
def test_a_sweep_it_cannot_do_is_refused_before_it_starts(case, scenario, tmp_path):
    body, fragment = DESIGNS[case]
    head = SWEEP_HEAD if not body.startswith(("method", "replications", "seed")) else ""
    text = head or SWEEP_HEAD.replace('scenario = "s.toml"\n', f'scenario = "s.toml"\n{body}\n')
    if head:
        text += body + "\n"
    sweep = tmp_path / "sweep.toml"
    sweep.write_text(text)
    out = tmp_path / "out"
    err = refused(["sweep", sweep, "--out", out, "--workers", "1"], fragment)
    one_message(err)
    assert not out.exists()


@pytest.mark.parametrize(
    "address,fragment",
    [
        ("localhost", "not a scheduler address"),
        ("foo://x", "unknown protocol 'foo'"),
        ("", "not a scheduler address"),
        ("tcp://", "needs a host and a port"),
        ("tcp://host", "needs a host and a port"),
        ("tcp://host:99999", "'99999' is not a port"),
        ("tcp://host:http", "'http' is not a port"),
        ("tls://localhost:1", "tls:// needs Dask's TLS security settings"),
        ("ucx://x:1", "ucx:// needs UCX"),
    ],
)
def test_a_bad_dask_address_is_refused_before_the_sweep_folder_exists(
    address, fragment, scenario, tmp_path
):
    sweep = tmp_path / "sweep.toml"
    sweep.write_text(SWEEP_HEAD)
    out = tmp_path / "out"
    err = refused(["sweep", sweep, "--out", out, "--dask", address], fragment)
    one_message(err)
    assert not out.exists()


@pytest.mark.parametrize("seed", [str(2**63), str(10**30), "-1", "1.5", "1" + "0" * 5000])
def test_a_seed_numpy_or_the_tables_cannot_take_is_exit_2(seed, scenario, tmp_path):
    out = tmp_path / "out"
    refused(["run", scenario, "--seed", seed, "--out", out], "--seed")
    assert not out.exists()


# --- item 4: every input a user can type --------------------------------------------------


@pytest.mark.parametrize(
    "key,value,fragment",
    [
        ("calendar.start", "1677-09-21", "outside the dates flowsim's tables can hold"),
        ("calendar.start", "1500-01-01", "outside the dates flowsim's tables can hold"),
        ("calendar.end", "2262-04-12", "outside the dates flowsim's tables can hold"),
        ("calendar.end", "9999-12-31", "outside the dates flowsim's tables can hold"),
        ("calendar.start", "1514764800", "is a number, not a date"),
        ("calendar.start", "20180101", "(a TOML date) or '2020-12-31' (got 20180101)"),
        ("calendar.start", "'20180101'", "is not a date: write it as 2020-12-31 (got '20180101')"),
        ("calendar.start", "2018-01-01T00:00:00", "without a time of day"),
    ],
)
def test_a_date_pandas_cannot_hold_or_written_as_a_number_is_refused(
    key, value, fragment, scenario, tmp_path
):
    for command in (["validate", scenario], ["run", scenario, "--out", tmp_path / "out"]):
        err = refused([*command, "--set", f"{key}={value}"], fragment)
        assert key in err
        one_message(err)
    assert not (tmp_path / "out").exists()


def test_the_widest_calendar_the_tables_hold_runs(tmp_path):
    for start, end in (("1677-10-01", "1677-12-31"), ("2262-01-01", "2262-04-11")):
        data = chain(20)
        data["calendar"] = {"start": start, "end": end}
        data["prices"]["usd_per_oz"] = {start[:4]: 1000.0}
        path = tmp_path / f"{start}.toml"
        path.write_text(to_toml(data))
        code, _, err = call_main(["run", str(path), "--out", str(tmp_path / start)])
        assert code == 0, err


def test_a_set_value_nested_too_deep_is_refused(scenario):
    deep = "[" * 5000 + "]" * 5000
    one_message(refused(["validate", scenario, "--set", f"meta.name={deep}"], "more than 32 deep"))
    with pytest.raises(flowsim.ScenarioError, match="more than 32 deep"):
        value: list = []
        for _ in range(100):
            value = [value]
        flowsim.load_scenario(scenario, {"meta.name": value})


def test_an_extends_chain_too_long_for_the_stack_is_refused(scenario, tmp_path):
    previous = scenario.name
    for k in range(1500):
        (tmp_path / f"e{k}.toml").write_text(f'extends = "{previous}"\n')
        previous = f"e{k}.toml"
    err = refused(["validate", tmp_path / previous], "longer than 32")
    one_message(err)
    # A chain of 31 is fine.
    assert call_main(["validate", str(tmp_path / "e29.toml")])[0] == 0


@pytest.mark.parametrize("where", ["scenario", "out", "junit", "report", "compare", "sweep"])
def test_a_file_name_too_long_for_the_file_system_is_exit_2(where, scenario, tmp_path):
    long = tmp_path / ("x" * 300)
    argv = {
        "scenario": ["run", long],
        "out": ["run", scenario, "--out", long],
        "junit": ["run", scenario, "--junit", long],
        "report": ["report", long],
        "compare": ["compare", long, scenario],
        "sweep": ["sweep", long],
    }[where]
    one_message(refused(argv, "x" * 40))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.toml"]


def test_a_name_just_short_enough_for_a_run_folder_works(scenario, tmp_path):
    out = tmp_path / ("r" * 235)
    code, _, err = call_main(["run", str(scenario), "--out", str(out), "--no-report"])
    assert code == 0, err
    assert flowsim.Results.load(out).meta["scenario"] == "chain"


def test_a_file_name_with_bytes_that_are_not_utf8_works_or_is_refused(scenario, tmp_path):
    weird = os.fsdecode(b"run-\xff")
    code, out, err = call_main(["run", str(scenario), "--out", str(tmp_path / weird)])
    assert code == 0, err
    assert "\\udcff" in out  # shown, not printed raw
    assert call_main(["report", str(tmp_path / weird)])[0] == 0
    refused(["validate", tmp_path / os.fsdecode(b"s\xff.toml")], "file not found")
    with pytest.raises(flowsim.ScenarioError, match="not a valid file name"):
        flowsim.load_scenario("bad\ud800name.toml")


@pytest.mark.parametrize("kind", ["fifo", "/dev/zero", "/dev/null", "folder"])
def test_a_fifo_a_device_or_a_folder_as_the_scenario_is_exit_2(kind, tmp_path):
    if kind == "fifo":
        path = tmp_path / "pipe.toml"
        os.mkfifo(path)
    elif kind == "folder":
        path = tmp_path / "folder.toml"
        path.mkdir()
    else:
        path = Path(kind)
        if not path.exists():
            pytest.skip(f"no {kind} here")
    fragment = {"fifo": "FIFO", "folder": "is a folder"}.get(kind, "device")
    for command in ("validate", "run"):
        one_message(refused([command, path, "--out", tmp_path / "out"][:2], fragment))
    sweep = tmp_path / "sweep.toml"
    sweep.write_text(f'[sweep]\nname = "s"\nscenario = "{path}"\n')
    one_message(refused(["sweep", sweep, "--out", tmp_path / "o"], fragment))


def test_a_huge_file_is_refused_without_reading_it_all(tmp_path):
    path = tmp_path / "huge.toml"
    with open(path, "wb") as f:
        f.truncate(17 * 1024 * 1024)
    one_message(refused(["validate", path], "larger than"))


CONTROL = "rule \x1b[31mred\x1b[0m\x07 \x00nul \u202eevil \x0b\x0c\x7f\x9b"


def test_control_characters_reach_neither_the_terminal_nor_the_junit_file(scenario, tmp_path):
    data = chain(20)
    data["expect"] = [
        {"name": CONTROL, "metric": "exports_kg_by_partner.partner", "at_least": 1e9},
        {"name": "plain", "metric": f"totals_kg.exported{CONTROL}", "at_least": 0.0},
    ]
    path = tmp_path / "e.toml"
    path.write_text(to_toml(data))
    junit = tmp_path / "j.xml"
    code, out, err = call_main(
        ["run", str(path), "--out", str(tmp_path / "o"), "--junit", str(junit)]
    )
    assert code == 1
    for text in (out, err):
        assert not any(c in text for c in "\x1b\x07\x00\u202e\x0b\x0c\x7f\x9b"), repr(text)
    assert "\\x1b[31mred" in out
    root = ET.parse(junit).getroot()  # valid XML
    names = [case.get("name") for case in root.iter("testcase")]
    assert any("\\x1b[31mred" in n and "\\u202eevil" in n for n in names)


def test_a_junit_file_replaces_only_an_earlier_junit_file(scenario, tmp_path):
    data = chain(20)
    data["expect"] = [{"name": "r", "metric": "totals_kg.exported", "at_least": 0.0}]
    path = tmp_path / "e.toml"
    path.write_text(to_toml(data))
    junit = tmp_path / "report.xml"
    junit.write_text("<testsuites><testsuite name='pytest'/></testsuites>")
    argv = ["run", path, "--out", tmp_path / "o", "--junit", junit]
    refused(argv, "a file flowsim did not write")
    assert "pytest" in junit.read_text()
    junit.unlink()
    assert call_main([str(a) for a in argv])[0] == 0
    assert call_main([str(a) for a in argv])[0] == 0


def test_printable_and_xml_safe_keep_ordinary_text():
    text = "Bolívar, Madre de Dios: 20.15 t\tto Türkiye\n中文 ✓"
    assert printable(text) == text
    assert xml_safe(text) == text
    assert printable("\x1b[2J") == "\\x1b[2J"
    assert xml_safe("\x00\ufffe") == "\\x00\\ufffe"


@pytest.mark.parametrize(
    "call,error,fragment",
    [
        (lambda: flowsim.simulate({"meta": {}}), TypeError, "scenario_from_dict"),
        (lambda: flowsim.simulate(42), TypeError, "not int"),
        (lambda s: flowsim.simulate(s, seed="1"), TypeError, "seed must be an integer"),
        (lambda s: flowsim.simulate(s, seed=1.0), TypeError, "seed must be an integer"),
        (lambda s: flowsim.simulate(s, seed=True), TypeError, "seed must be an integer"),
        (lambda s: flowsim.simulate(s, seed=-1), ValueError, "seed must be at least 0"),
        (lambda s: flowsim.simulate(s, seed=2**63), ValueError, "at most 2**63 - 1"),
        (lambda s: flowsim.simulate(s, replications=2.0), TypeError, "replications must be"),
        (lambda s: flowsim.simulate(s, replications=0), ValueError, "at least 1"),
        (lambda s: flowsim.simulate(s, overrides="a=1"), TypeError, "overrides must be"),
        (lambda s: flowsim.simulate(s, overrides=[1]), TypeError, "'key.path=value' strings"),
    ],
)
def test_simulate_given_a_wrong_type_says_what_it_wants(call, error, fragment, scenario):
    loaded = flowsim.load_scenario(scenario)
    with pytest.raises(error, match=fragment.replace("*", r"\*")):
        call() if call.__code__.co_argcount == 0 else call(loaded)


def test_simulate_takes_a_path_like_and_a_generator_of_overrides(scenario):
    results = flowsim.simulate(scenario, overrides=(f"meta.name={n}" for n in ["renamed"]))
    assert results.meta["scenario"] == "renamed"


def test_compare_json_is_strict_json(scenario, tmp_path):
    code, out, _ = call_main(["compare", str(scenario), str(scenario), "--json"])
    assert code == 0
    json.loads(out, parse_constant=lambda name: pytest.fail(f"{name} in JSON"))


BIG = "9" * 5000  # Python refuses to read an integer of more than 4,300 digits


def test_an_integer_too_long_for_python_is_exit_2(scenario, tmp_path):
    text = scenario.read_text().replace("dore_purity = 1.0", f"dore_purity = {BIG}")
    big = tmp_path / "big.toml"
    big.write_text(text)
    one_message(refused(["validate", big], "a number too long"))
    one_message(refused(["validate", scenario, "--set", f"meta.name={BIG}"], "too long"))
    sweep = tmp_path / "sweep.toml"
    sweep.write_text(f'[sweep]\nname = "s"\nscenario = "s.toml"\nseed = {BIG}\n')
    one_message(refused(["sweep", sweep, "--out", tmp_path / "out"], "a number too long"))


def test_too_many_replications_for_memory_are_refused_before_they_start(scenario, tmp_path):
    out = tmp_path / "out"
    err = refused(["run", scenario, "--replications", "1000000000", "--out", out], "replications")
    one_message(err)
    assert "a sweep" in err and not out.exists()
    with pytest.raises(flowsim.FlowsimError, match="held in memory"):
        flowsim.simulate(scenario, replications=10**12)


def test_a_replication_far_along_the_stream_is_as_quick_as_the_first(scenario):
    far = flowsim.simulate(scenario, first_replication=10**12)
    assert far.runs["lots"].iloc[0] > 0
    near = flowsim.simulate(scenario, seed=0, replications=3)
    third = flowsim.simulate(scenario, seed=0, first_replication=2)
    pd.testing.assert_frame_equal(
        near.ledger[near.ledger["replication"] == 2]
        .drop(columns="replication")
        .reset_index(drop=True),
        third.ledger.drop(columns="replication").reset_index(drop=True),
    )


def test_a_scenario_setting_a_key_that_a_parameter_sweeps_is_refused(scenario, tmp_path):
    sweep = tmp_path / "sweep.toml"
    sweep.write_text(
        SWEEP_HEAD
        + f"[parameters]\n{PATH} = [0.1, 0.2]\n\n"
        + '[[scenarios]]\nname = "a"\nset = { "routes.mine_buyer.seizure_probability" = 0.5 }\n'
    )
    one_message(refused(["sweep", sweep, "--out", tmp_path / "out"], "one would overwrite"))


def test_a_flag_where_a_date_belongs_says_so(scenario):
    err = refused(["validate", scenario, "--set", "calendar.start=true"], "is true, not a date")
    one_message(err)


def test_a_terminal_that_cannot_show_a_name_still_gets_a_finished_run(scenario, tmp_path):
    import subprocess
    import sys

    out = tmp_path / "río"
    done = subprocess.run(
        [sys.executable, "-m", "flowsim.cli", "run", str(scenario), "--out", str(out)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONIOENCODING": "ascii"},
    )
    assert done.returncode == 0, done.stderr
    assert "r\\xedo" in done.stdout and (out / "summary.json").is_file()


def test_a_range_with_infinity_names_the_key_the_user_wrote(scenario, tmp_path):
    sweep = tmp_path / "sweep.toml"
    sweep.write_text(
        '[sweep]\nname = "s"\nscenario = "s.toml"\nmethod = "monte_carlo"\nsamples = 2\n'
        f"[parameters.x]\npaths = [{PATH}]\nlow = 0.0\nhigh = inf\n"
    )
    err = refused(["sweep", sweep, "--out", tmp_path / "out"], "parameters.x.high")
    assert "function-after" not in err
