"""JSON Schemas of scenario, sweep and calibration files, for editors that check TOML.

Generated from the same pydantic models that validate the files, so that an
editor and ``flowsim validate`` agree on keys, types and ranges. Checks that
need the whole scenario (the graph, dates inside the calendar) are only in
``flowsim validate``.
"""

from __future__ import annotations

import copy
from typing import Any

from flowsim._version import __version__
from flowsim.calibration.spec import Calibration
from flowsim.schema import Scenario
from flowsim.sweepfile import Sweep

__all__ = ["calibration_schema", "scenario_schema", "summary_schema", "sweep_schema"]

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
# Each schema's $id: a name, not an address (flowsim has no web site to fetch it
# from), and the version whose files it describes (docs/editors.md).
SCHEMA_ID = "urn:flowsim:schema:{kind}:" + __version__


def _named(schema: dict[str, Any], kind: str) -> dict[str, Any]:
    return {"$schema": SCHEMA_DIALECT, "$id": SCHEMA_ID.format(kind=kind), **schema}


def scenario_schema(partial: bool = False) -> dict[str, Any]:
    """The schema of a scenario file. ``partial`` drops every required key: for
    files that ``extends`` another and state only what differs."""
    schema = Scenario.model_json_schema(by_alias=True, mode="validation")
    schema["properties"]["extends"] = {
        "anyOf": [
            {"type": "string"},
            {"type": "array", "items": {"type": "string"}, "minItems": 1, "uniqueItems": True},
        ],
        "description": "Scenario file this one extends, or several, merged in order, "
        "relative to this file.",
    }
    schema["title"] = "flowsim scenario file" + (" (partial, for extends)" if partial else "")
    if partial:
        return _named(_without_required(schema), "scenario-partial")
    return _named(schema, "scenario")


def sweep_schema() -> dict[str, Any]:
    schema = Sweep.model_json_schema(by_alias=True, mode="validation")
    schema["title"] = "flowsim sweep file"
    return _named(schema, "sweep")


def calibration_schema() -> dict[str, Any]:
    schema = Calibration.model_json_schema(by_alias=True, mode="validation")
    schema["title"] = "flowsim calibration file"
    return _named(schema, "calibration")


def _without_required(schema: Any) -> Any:
    schema = copy.deepcopy(schema)

    def strip(node: Any) -> None:
        if isinstance(node, dict):
            node.pop("required", None)
            # Without its kind, a partial node may match several kinds: any will do.
            if "oneOf" in node:
                node["anyOf"] = node.pop("oneOf")
                node.pop("discriminator", None)
            for value in node.values():
                strip(value)
        elif isinstance(node, list):
            for value in node:
                strip(value)

    strip(schema)
    return schema


def summary_schema() -> dict[str, Any]:
    """The schema of a run folder's ``summary.json``: what a reader of it may rely on."""
    from flowsim.summaryschema import summary_schema as schema

    return _named(schema(), "summary")
