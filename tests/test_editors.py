"""Editors and hooks: schema $ids, .taplo.toml, #:schema lines, the pre-commit hook."""

from __future__ import annotations

import fnmatch
import json
import re
import tomllib
from pathlib import Path

import pytest
import yaml
from fuzz_strategies import call_main

import flowsim
from flowsim._version import __version__

ROOT = Path(__file__).resolve().parents[1]
SCHEMAS = ROOT / "docs" / "schema"
SHIPPED = sorted((ROOT / "scenarios").rglob("*.toml"))


def schema_for(path: Path) -> str:
    """The schema a file takes: sweeps, calibrations, scenarios that extend, the rest."""
    if path.parent.name == "sweeps":
        return "sweep.schema.json"
    if path.name.endswith(".calibration.toml"):
        return "calibration.schema.json"
    extends = "extends" in tomllib.loads(path.read_text())
    return "scenario.partial.schema.json" if extends else "scenario.schema.json"


def test_each_schema_has_an_id_of_its_own_with_the_version():
    ids = [json.loads(p.read_text())["$id"] for p in sorted(SCHEMAS.glob("*.schema.json"))]
    assert len(ids) == 5 and len(set(ids)) == 5  # scenario, partial, sweep, calibration, summary
    assert all(
        re.fullmatch(rf"urn:flowsim:schema:[a-z-]+:{re.escape(__version__)}", i) for i in ids
    )


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_a_shipped_file_names_its_schema_on_its_first_line(path):
    first, second = path.read_text().splitlines()[:2]
    assert first.startswith("#:schema ")
    target = (path.parent / first.removeprefix("#:schema ")).resolve()
    assert target == SCHEMAS / schema_for(path)
    # Apart from the comment block under it, so no assumption starts on it.
    assert second == ""


def taplo_schema(config: Path, name: str) -> str | None:
    """The schema Taplo's rules give a file (by its path from the config's folder): where
    several match, the last one wins."""
    found = None
    for rule in tomllib.loads(config.read_text())["rule"]:
        included = any(fnmatch.fnmatch(name, g) for g in rule["include"])
        if included and not any(fnmatch.fnmatch(name, g) for g in rule.get("exclude", [])):
            found = rule["schema"]["path"]
    return found


def test_the_repository_taplo_config_gives_every_shipped_file_its_schema():
    config = ROOT / ".taplo.toml"
    for path in SHIPPED:
        schema = taplo_schema(config, path.relative_to(ROOT).as_posix())
        assert schema is not None, path
        assert (ROOT / schema).is_file()
        wanted = schema_for(path).replace("scenario.schema", "scenario.partial.schema")
        assert Path(schema).name == wanted, path


def test_a_copy_has_its_schemas_its_taplo_config_and_lines_that_point_into_it(tmp_path):
    flowsim.copy_examples(tmp_path)
    for schema in SCHEMAS.glob("*.schema.json"):
        assert (tmp_path / "schema" / schema.name).read_bytes() == schema.read_bytes()
    copied = [p for p in tmp_path.rglob("*.toml") if p.name != ".taplo.toml"]
    assert len(copied) == len(SHIPPED)
    for path in copied:
        first = path.read_text().splitlines()[0]
        target = (path.parent / first.removeprefix("#:schema ")).resolve()
        assert target.parent == (tmp_path / "schema").resolve(), path
        assert target.is_file(), path
        schema = taplo_schema(tmp_path / ".taplo.toml", path.relative_to(tmp_path).as_posix())
        assert schema is not None and (tmp_path / schema).is_file(), path
    # Still read as before, and a second copy finds every file its own.
    flowsim.load_sweep_file(tmp_path / "sweeps" / "smoke.toml")
    assert flowsim.copy_examples(tmp_path).written == ()


def test_a_taplo_config_of_ones_own_is_not_replaced(tmp_path):
    mine = tmp_path / ".taplo.toml"
    mine.write_text("# mine\n")
    code, _, err = call_main(["examples", "copy", str(tmp_path)])
    assert code == 2 and f"{mine}: a different file is there" in err
    assert mine.read_text() == "# mine\n"


def test_the_pre_commit_hook_runs_flowsim_validate_on_scenario_files():
    [hook] = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == "flowsim-validate"
    assert hook["entry"] == "flowsim validate" and hook["language"] == "python"
    files = re.compile(hook["files"])
    for path in SHIPPED:
        name = path.relative_to(ROOT).as_posix()
        assert bool(files.search(name)) == (path.parent.name != "sweeps"), name
    assert not files.search("pyproject.toml") and files.search("models/scenarios/x.toml")


def test_validate_takes_several_files_and_reports_every_bad_one(tmp_path):
    scenarios = [p for p in SHIPPED if p.parent.name != "sweeps"]
    code, out, err = call_main(["validate", *map(str, scenarios)])
    assert code == 0, err
    assert out.count("OK: ") == len(scenarios)
    bad = tmp_path / "bad.toml"
    bad.write_text("x = [\n")
    unknown = tmp_path / "unknown.toml"
    unknown.write_text("foo = 1\n" + (ROOT / "scenarios" / "venezuela_baseline.toml").read_text())
    code, out, err = call_main(["validate", str(bad), str(scenarios[0]), str(unknown)])
    assert code == 2
    assert f"error: {bad}: is not valid TOML" in err and f"error: {unknown}: foo" in err
    assert out.count("OK: ") == 1 and "Traceback" not in err
    code, _, err = call_main(["validate", str(scenarios[0]), str(bad), "--json"])
    assert code == 2 and "--json reports on one file" in err
