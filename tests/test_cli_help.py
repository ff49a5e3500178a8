"""A command line that helps: its help, its suggestions, its output for people and for
machines, and validation that reports every error in one pass."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fuzz_strategies import call_main

import flowsim
from flowsim.cli import EXIT_BALANCE, EXIT_EXPECTATION, EXIT_INTERRUPTED, EXIT_TERMINATED
from flowsim.errors import ScenarioError
from flowsim.findings import hint, node_aliases

SANCTIONS = Path(__file__).parents[1] / "scenarios" / "venezuela_sanctions.toml"


def test_a_bare_command_prints_its_help_and_exits_0():
    code, out, err = call_main([])
    assert code == 0
    assert out.startswith("usage: flowsim")
    assert "validate" in out and "exit codes:" in out
    assert err == ""


def test_a_mistyped_command_is_exit_2_with_a_suggestion():
    code, out, err = call_main(["rnu", "x.toml"])
    assert code == 2
    assert "unknown command 'rnu'; did you mean 'run'?" in err
    assert "Traceback" not in err
    assert out == ""


def test_a_mistyped_choice_of_a_command_gets_a_suggestion():
    code, _, err = call_main(["schema", "sweeep"])
    assert code == 2
    assert "did you mean 'sweep'?" in err


def test_help_lists_every_exit_code():
    code, out, _ = call_main(["--help"])
    assert code == 0
    codes = out.split("exit codes:")[1]
    for number, meaning in [
        (0, "success"),
        (EXIT_EXPECTATION, "[[expect]] rule failed"),
        (2, "a problem with the input"),
        (EXIT_BALANCE, "broken mass balance"),
        (EXIT_INTERRUPTED, "interrupted"),
        (EXIT_TERMINATED, "terminated"),
    ]:
        assert f"  {number} " in codes and meaning in codes
    assert EXIT_TERMINATED == 143


# --- suggestions know display names -------------------------------------------------------


def test_a_suggestion_matches_display_names_and_ids_whatever_the_case():
    aliases = {"united_states": ["United States", "USA"], "uae": ["United Arab Emirates"]}
    options = ["uae", "united_states", "turkey"]
    for word in ("usa", "USA", "United States", "united-states", "United Sates"):
        assert hint(word, options, aliases) == "; did you mean 'united_states'?", word
    assert hint("Emirates Unidos", options, aliases) == " (known: turkey, uae, united_states)"
    assert hint("BCV", ["bcv", "minerven"]) == "; did you mean 'bcv'?"


def test_a_jurisdiction_names_a_node_only_where_no_other_node_shares_it():
    nodes = {
        "a": {"name": "Mine A", "jurisdiction": "VEN"},
        "b": {"name": "", "jurisdiction": "VEN"},
        "c": {"name": "Partner", "jurisdiction": "USA"},
    }
    assert node_aliases(nodes) == {"a": ["Mine A"], "b": [], "c": ["Partner", "USA"]}


@pytest.mark.parametrize(
    "override, key",
    [
        ("nodes.usa.price_factor=2", "nodes.usa.price_factor"),
        ("nodes.United States.price_factor=2", "nodes.United States.price_factor"),
        (
            "policies.sanctions.eo13850_gold_sector.compliance={usa = 1.0}",
            "policies.sanctions.eo13850_gold_sector.compliance.usa",
        ),
    ],
)
def test_a_country_written_as_its_name_or_code_suggests_its_node(override, key):
    code, _, err = call_main(["validate", str(SANCTIONS), "--set", override])
    assert code == 2
    assert f"{key}: " in err and "did you mean 'united_states'?" in err, err


def test_a_route_to_a_display_name_suggests_the_id(tiny_toml, write_toml):
    path = write_toml(tiny_toml.replace('to = "turkey"', 'to = "Turkey"'))
    with pytest.raises(ScenarioError) as info:
        flowsim.load_scenario(path)
    [issue] = info.value.issues
    assert issue.path == "routes.r3.to"
    assert issue.message == "unknown node 'Turkey'; did you mean 'turkey'?"


# --- Python's True and False in --set -----------------------------------------------------

ENABLED = "policies.sanctions.eo13850_gold_sector.enabled"


@pytest.mark.parametrize(
    "value, meant",
    [
        ("False", "TOML's false?"),
        ("True", "TOML's true?"),
        ("FALSE", "TOML's false?"),
        ("yes", "TOML's true?"),
        ("no", "TOML's false?"),
        ("'false'", "TOML's false, without quotes?"),
        ("None", "TOML has no null: leave the key out"),
    ],
)
def test_a_python_boolean_in_set_hints_at_the_toml_spelling(value, meant):
    code, out, err = call_main(["validate", str(SANCTIONS), "--set", f"{ENABLED}={value}"])
    assert code == 2
    assert err.startswith(f"error: --set: {ENABLED}: Input should be a valid boolean"), err
    assert meant in err and "Traceback" not in err
    assert out == ""


def test_no_hint_for_a_word_that_is_no_boolean():
    _, _, err = call_main(["validate", str(SANCTIONS), "--set", f"{ENABLED}=perhaps"])
    assert err == f"error: --set: {ENABLED}: Input should be a valid boolean (got 'perhaps')\n"


def test_a_python_boolean_in_a_file_hints_at_the_toml_spelling(tiny_toml, write_toml):
    path = write_toml(tiny_toml + "\n[simulation]\ndocuments = False\n")
    code, _, err = call_main(["validate", str(path)])
    assert code == 2
    assert "is not valid TOML: Invalid value (at line" in err
    assert err.rstrip().endswith("did you mean TOML's false?")


# --- validate reports every error in one pass ---------------------------------------------


def test_validate_reports_a_bad_key_and_an_unknown_node_together(tiny_toml, write_toml):
    text = tiny_toml.replace("capacity_kg_per_day = 50.0", "capacity_kg_per_day = -5.0")
    text = text.replace("output_purity = 0.95", "output_purity = 0.95\nservrs = 2")
    path = write_toml(text.replace('to = "turkey"', 'to = "turky"'))
    code, out, err = call_main(["validate", str(path)])
    assert code == 2 and out == ""
    assert err.splitlines() == [
        f"error: {path}: nodes.gangs.capacity_kg_per_day: Input should be greater than 0 "
        "(got -5.0)",
        f"error: {path}: nodes.refinery.servrs: unknown key 'servrs'; did you mean 'servers'?",
        f"error: {path}: routes.r3.to: unknown node 'turky'; did you mean 'turkey'?",
    ]


def test_a_node_that_cannot_be_read_makes_no_error_elsewhere(tiny_toml, write_toml):
    """The mine lacks a required key: the routes from it, the raid on it and the graph
    are not reported as wrong; the unknown partner of the sanction still is."""
    text = tiny_toml.replace("production_kg_per_day = 10.0\n", "")
    text = text.replace("{ turkey = 0.0, swiss = 1.0 }", "{ turkey = 0.0, swiss = 1.0, uk = 1.0 }")
    with pytest.raises(ScenarioError) as info:
        flowsim.load_scenario(write_toml(text))
    assert [(i.path, i.message) for i in info.value.issues] == [
        ("nodes.m1.production_kg_per_day", "is required but missing"),
        # No list of the partners known: the ones of the mine's part are unknown.
        ("policies.sanctions.s1.compliance.uk", "'uk' is not a partner"),
    ]


def test_a_broken_calendar_reports_only_what_the_models_refuse(tiny_toml, write_toml):
    text = tiny_toml.replace("end = 2020-12-31", 'end = "soon"')
    with pytest.raises(ScenarioError) as info:
        flowsim.load_scenario(write_toml(text.replace('to = "turkey"', 'to = "turky"')))
    assert [i.path for i in info.value.issues] == ["calendar.end"]


# --- --quiet and --verbose ----------------------------------------------------------------

EXPECTATIONS = """
[[expect]]
name = "some gold to Turkey"
metric = "exports_kg_by_partner.turkey"
at_least = 1.0

[[expect]]
name = "a million tonnes to Switzerland"
metric = "exports_kg_by_partner.swiss"
at_least = 1e9
"""


def test_quiet_validate_prints_nothing_but_errors(tiny_toml, write_toml):
    path = write_toml(tiny_toml)
    assert call_main(["validate", str(path), "--quiet"]) == (0, "", "")
    bad = write_toml(tiny_toml.replace('to = "turkey"', 'to = "turky"'), "bad.toml")
    code, out, err = call_main(["-q", "validate", str(bad)])
    assert (code, out) == (2, "")
    assert err == f"error: {bad}: routes.r3.to: unknown node 'turky'; did you mean 'turkey'?\n"


def test_verbose_validate_names_every_file_read_and_the_time(tiny_toml, write_toml):
    parent = write_toml(tiny_toml, "parent.toml")
    child = write_toml(f'extends = "{parent.name}"\n[meta]\nname = "child"\n', "child.toml")
    code, out, err = call_main(["--verbose", "validate", str(child)])
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[:2] == [f"read {child}", f"read {parent}"]
    assert lines[2].startswith(f"OK: {child} (child: 5 nodes")
    assert lines[3].startswith("took ") and lines[3].endswith(" s")


def test_quiet_and_verbose_together_are_refused():
    code, _, err = call_main(["-q", "validate", str(SANCTIONS), "-v"])
    assert code == 2
    assert "--quiet and --verbose contradict each other" in err


def test_quiet_run_prints_the_folder_and_the_failed_rules_only(tiny_toml, write_toml, tmp_path):
    path = write_toml(tiny_toml + EXPECTATIONS)
    out_dir = tmp_path / "run"
    code, out, err = call_main(["run", str(path), "--out", str(out_dir), "--quiet"])
    assert code == 1
    assert out.splitlines() == [
        f"wrote {out_dir}",
        f"report: {out_dir / 'report.html'}",
        "expectations:",
        out.splitlines()[3],
    ]
    assert out.splitlines()[3].startswith("  FAIL a million tonnes to Switzerland [tiny]: ")
    assert err == "1 of 2 expectation(s) failed\n"


def test_verbose_run_names_each_file_written(tiny_toml, write_toml, tmp_path):
    out_dir = tmp_path / "run"
    argv = ["run", "-v", str(write_toml(tiny_toml)), "--out", str(out_dir), "--no-report"]
    argv.append("--no-figures")
    code, out, _ = call_main(argv)
    assert code == 0
    assert f"wrote {out_dir / 'summary.json'}\n" in out
    assert f"wrote {out_dir / 'manifest.json'}\n" in out
    assert "report.html" not in out
    assert "exports by partner:" in out and f"\nwrote {out_dir}\ntook " in out


# --- --json -------------------------------------------------------------------------------


def test_run_json_is_one_document_with_the_summary_and_the_verdicts(
    tiny_toml, write_toml, tmp_path
):
    path = write_toml(tiny_toml + EXPECTATIONS)
    out_dir, junit = tmp_path / "run", tmp_path / "run.xml"
    argv = ["run", str(path), "--seed", "3", "--out", str(out_dir), "--junit", str(junit)]
    code, out, err = call_main([*argv, "--json"])
    assert code == 1
    document = json.loads(out)
    summary = json.loads((out_dir / "summary.json").read_text())
    assert document["ok"] is False and document["exit_code"] == 1 and document["errors"] == []
    assert document["file"] == str(path) and document["scenario"] == "tiny"
    assert document["run_folder"] == str(out_dir)
    assert document["report"] == str(out_dir / "report.html")
    assert document["junit"] == str(junit) and junit.is_file()
    assert (document["seed"], document["replications"], document["posterior"]) == (3, 1, None)
    for key in ("start", "end", "totals_kg", "exports_kg_by_partner", "exports_usd_by_partner"):
        assert document[key] == summary[key]
    assert [(v["name"], v["passed"]) for v in document["expectations"]] == [
        ("some gold to Turkey", True),
        ("a million tonnes to Switzerland", False),
    ]
    assert err == "1 of 2 expectation(s) failed\n"


def test_run_json_of_a_mistake_is_a_document_too(tiny_toml, write_toml, tmp_path):
    path = write_toml(tiny_toml)
    argv = ["run", str(path), "--out", str(tmp_path / "r"), "--set", "nodes.gangs.servrs=2"]
    code, out, err = call_main([*argv, "--json"])
    assert code == 2
    assert json.loads(out) == {
        "file": str(path),
        "ok": False,
        "exit_code": 2,
        "errors": [
            {
                "file": "--set",
                "key": "nodes.gangs.servrs",
                "message": "unknown key 'servrs'; did you mean 'servers'?",
            }
        ],
    }
    assert err.startswith("error: --set: nodes.gangs.servrs: unknown key 'servrs'")
    assert not (tmp_path / "r").exists()


def test_validate_json_of_a_valid_file(tiny_toml, write_toml):
    path = write_toml(tiny_toml)
    code, out, err = call_main(["validate", str(path), "--json"])
    assert (code, err) == (0, "")
    assert json.loads(out) == {
        "file": str(path),
        "valid": True,
        "exit_code": 0,
        "errors": [],
        "kind": "scenario",
        "scenario": "tiny",
        "nodes": 5,
        "routes": 4,
        "files": [str(path)],
    }


def test_validate_json_lists_every_error(tiny_toml, write_toml):
    text = tiny_toml.replace("capacity_kg_per_day = 50.0", "capacity_kg_per_day = -5.0")
    path = write_toml(text.replace('to = "turkey"', 'to = "turky"'))
    code, out, err = call_main(["validate", "--json", "--verbose", str(path)])
    assert code == 2
    document = json.loads(out)
    assert document["valid"] is False and document["kind"] == "scenario"
    assert [(e["file"], e["key"]) for e in document["errors"]] == [
        (str(path), "nodes.gangs.capacity_kg_per_day"),
        (str(path), "routes.r3.to"),
    ]
    assert document["errors"][1]["message"] == "unknown node 'turky'; did you mean 'turkey'?"
    assert len(err.splitlines()) == 2


def test_validate_json_of_a_usage_error_is_a_document():
    code, out, err = call_main(["validate", "--json"])
    assert code == 2
    document = json.loads(out)
    assert document["valid"] is False and document["exit_code"] == 2
    assert "required: scenario" in document["errors"][0]["message"]
    assert err.startswith("usage: flowsim validate")


def test_verbose_lines_go_to_stderr_under_json(tiny_toml, write_toml):
    path = write_toml(tiny_toml)
    code, out, err = call_main(["validate", str(path), "--json", "-v"])
    assert code == 0 and json.loads(out)["valid"] is True
    assert err.splitlines()[0] == f"read {path}" and err.splitlines()[1].startswith("took ")
