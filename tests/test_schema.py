"""JSON Schemas for editors: valid, current, and agreeing with the shipped files."""

from __future__ import annotations

import datetime
import json
import tomllib
from pathlib import Path

import jsonschema
import pytest

from flowsim.cli import main
from flowsim.schemas import calibration_schema, scenario_schema, summary_schema, sweep_schema

ROOT = Path(__file__).parents[1]


def jsonable(value):
    """TOML dates as the ISO strings an editor's validator sees."""
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


@pytest.mark.parametrize(
    "kind, partial", [("scenario", False), ("scenario", True), ("sweep", False)]
)
def test_flowsim_schema_prints_a_valid_json_schema(kind, partial, capsys):
    assert main(["schema", kind, *(["--partial"] if partial else [])]) == 0
    schema = json.loads(capsys.readouterr().out)
    jsonschema.Draft202012Validator.check_schema(schema)


@pytest.mark.parametrize(
    "name, schema",
    [
        ("scenario.schema.json", scenario_schema()),
        ("scenario.partial.schema.json", scenario_schema(partial=True)),
        ("sweep.schema.json", sweep_schema()),
        ("calibration.schema.json", calibration_schema()),
        ("summary.schema.json", summary_schema()),
    ],
)
def test_committed_schemas_are_current(name, schema):
    committed = json.loads((ROOT / "docs" / "schema" / name).read_text())
    assert committed == schema, f"run: flowsim schema ... > docs/schema/{name}"


@pytest.mark.parametrize("path", sorted((ROOT / "scenarios").rglob("*.toml")), ids=lambda p: p.name)
def test_shipped_files_agree_with_their_schema(path):
    data = jsonable(tomllib.loads(path.read_text()))
    if path.parent.name == "sweeps":
        schema = sweep_schema()
    elif path.name.endswith(".calibration.toml"):
        schema = calibration_schema()
    else:
        schema = scenario_schema(partial="extends" in data)
    errors = list(jsonschema.Draft202012Validator(schema).iter_errors(data))
    assert not errors, [e.message for e in errors]


def test_schema_catches_a_misspelt_key():
    data = jsonable(tomllib.loads((ROOT / "scenarios" / "venezuela_baseline.toml").read_text()))
    data["calendar"]["ending"] = data["calendar"].pop("end")
    assert list(jsonschema.Draft202012Validator(scenario_schema()).iter_errors(data))


def test_committed_reference_is_current():
    from flowsim.reference import reference_markdown

    committed = (ROOT / "docs" / "reference.md").read_text()
    assert committed == reference_markdown(), "run: python -m flowsim.reference > docs/reference.md"


def test_schema_and_validate_agree_on_schedules():
    data = jsonable(tomllib.loads((ROOT / "scenarios" / "venezuela_baseline.toml").read_text()))
    validator = jsonschema.Draft202012Validator(scenario_schema())
    mine = data["nodes"]["el_callao"]
    mine["production_kg_per_day"] = {"2018-01-01": 30.0, "2019-06-01": 22.0}
    data["prices"]["usd_per_oz"]["2019-03"] = 1300.0
    assert not list(validator.iter_errors(data))
    mine["production_kg_per_day"] = {"2018-01-01": 30.0, "interpolation": "cubic"}
    assert list(validator.iter_errors(data))
    mine["production_kg_per_day"] = {"2018-01-01": 30.0, "June": 22.0}
    assert list(validator.iter_errors(data))
    mine["production_kg_per_day"] = {"2018-01-01": -1.0}
    assert list(validator.iter_errors(data))
