"""The JSON Schema of ``summary.json`` (docs/summary.md), from the results contract.

The figures' sections, their keys and their ranges come from
:mod:`flowsim.contract`, the exposure keys from :mod:`flowsim.provenance` and the
due-diligence outcomes from :mod:`flowsim.papers`, so that the schema describes
what :func:`flowsim.summary.summary` writes and changes with it. ``sd``, ``ci95``
and ``interval90`` are trees of the figures' shape: a number (or ``null`` with one
replication) and a ``[low, high]`` pair (or ``null``) at each figure's key path.
"""

from __future__ import annotations

from typing import Any

from flowsim.contract import SIGNED_SECTIONS, SUMMARY_FORMAT_VERSION, SUMMARY_TOTALS
from flowsim.papers import OUTCOMES
from flowsim.provenance import EXPOSURES

__all__ = ["summary_schema"]

_EXPOSURE_KEYS = (
    "received_kg",
    "received_usd",
    *(f"{name}_{part}" for name in EXPOSURES for part in ("share", "kg", "usd")),
)
# Each section of figures: its description, and the shape of its value.
_SECTIONS: dict[str, tuple[str, str]] = {
    "totals_kg": ("The terms of the mass balance, kg.", "totals"),
    "exports_kg_by_partner": ("Gold taken by each partner, kg.", "map"),
    "exports_usd_by_partner": ("Value of each partner's exports, USD.", "map"),
    "exports_usd_total": ("Sum of exports_usd_by_partner, USD.", "number"),
    "exposure_by_partner": ("What each partner received, and how much is exposed.", "exposure"),
    "exposure_by_refiner": ("What each refiner received, and how much is exposed.", "exposure"),
    "seized_kg_by_place": ("Seized in transit and from stock, kg.", "places"),
    "transport_cost_usd": ("Cost of shipping, USD.", "number"),
    "black_market_fuel_premium_usd": ("Extra paid for black-market fuel, USD.", "number"),
    "production_kg_by_mine": ("Gold each mine produced, kg.", "map"),
    "reserve_kg_end_by_node": ("What is left of each reserve, kg.", "map"),
    "rents_usd_by_node": ("What each node earned, USD.", "map"),
    "laundered_kg_by_node": ("Gold each node re-papered as its own, kg.", "map"),
    "due_diligence_kg_by_partner": ("Each partner's due-diligence outcomes, kg.", "outcomes"),
    "declared_exports_kg_by_jurisdiction": ("Exports customs recorded, kg.", "map"),
    "declared_imports_kg_by_jurisdiction": ("Imports customs recorded, kg.", "map"),
    "declared_exports_less_production_kg_by_jurisdiction": (
        "Declared exports of own gold less modelled production, kg.",
        "map",
    ),
    "mirror_gap_kg_by_pair": ("Importer's imports less exporter's exports, kg.", "map"),
}


def _fixed(keys: tuple[str, ...], leaf: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {k: leaf for k in keys},
        "required": list(keys),
        "additionalProperties": False,
    }


def _by_id(leaf: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "additionalProperties": leaf}


def _shape(shape: str, leaf: dict[str, Any], share: dict[str, Any]) -> dict[str, Any]:
    """The value of one section, with ``leaf`` at each figure (``share`` at shares)."""
    if shape == "number":
        return leaf
    if shape == "totals":
        return _fixed(SUMMARY_TOTALS, leaf)
    if shape == "places":
        return _fixed(("transit", "stock"), leaf)
    if shape == "map":
        return _by_id(leaf)
    if shape == "outcomes":
        return _by_id(_fixed(OUTCOMES, leaf))
    exposure = _fixed(_EXPOSURE_KEYS, leaf)
    for key in _EXPOSURE_KEYS:
        if key.endswith("_share"):
            exposure["properties"][key] = share
    return _by_id(exposure)


def _figures(kind: str) -> dict[str, Any]:
    """Every section with a figure, an ``sd`` or an interval at each leaf."""
    sections = {}
    for name, (about, shape) in _SECTIONS.items():
        signed = name in SIGNED_SECTIONS
        if kind == "mean":
            leaf: dict[str, Any] = (
                {"type": "number"} if signed else {"type": "number", "minimum": 0}
            )
            share = {"type": "number", "minimum": 0, "maximum": 1}
        elif kind == "sd":
            leaf = share = {"type": ["number", "null"], "minimum": 0}
        else:
            pair = {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2}
            leaf = share = {"anyOf": [pair, {"type": "null"}]}
        sections[name] = {"description": about, **_shape(shape, leaf, share)}
    return sections


def _tree(kind: str, about: str) -> dict[str, Any]:
    sections = _figures(kind)
    return {
        "description": about,
        "type": "object",
        "properties": sections,
        "required": list(sections),
        "additionalProperties": False,
    }


def summary_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of ``summary.json``, before
    :func:`flowsim.schemas.summary_schema` names it (``$schema``, ``$id``)."""
    figures = _figures("mean")
    text = {"type": "string"}
    policy = {
        "type": "object",
        "properties": {
            "kind": {"enum": ["sanction", "raid", "fuel_restriction", "interdiction"]},
            "name": text,
            "enabled": {"type": "boolean"},
            "from": text,
        },
        "required": ["kind", "name", "enabled", "from"],
    }
    posterior = {
        "description": "Only over a calibration's posterior: what was drawn.",
        "type": "object",
        "properties": {
            "calibration": text,
            "folder": text,
            "draws": {"type": "integer", "minimum": 1},
            "parameters": {
                "type": "object",
                "additionalProperties": {
                    "type": "object",
                    "properties": {
                        "key": text,
                        "mean": {"type": "number"},
                        "interval90": {"type": "array", "items": {"type": "number"}},
                    },
                    "required": ["key", "mean", "interval90"],
                },
            },
        },
        "required": ["calibration", "folder", "draws", "parameters"],
    }
    properties = {
        "format_version": {"const": SUMMARY_FORMAT_VERSION},
        "scenario": text,
        "description": text,
        "seed": {"type": "integer", "minimum": 0},
        "replications": {"type": "integer", "minimum": 1},
        "start": {"type": "string", "format": "date"},
        "end": {"type": "string", "format": "date"},
        "flowsim_version": text,
        "scenario_hash": {"type": ["string", "null"], "pattern": "^[0-9a-f]{64}$"},
        **figures,
        "policies": {"type": "array", "items": policy},
        "sd": _tree("sd", "Standard deviation over replications of every figure."),
        "ci95": _tree("ci95", "95% confidence interval of the mean of every figure."),
        "posterior": posterior,
        "interval90": _tree("interval", "Over a posterior: 5th and 95th percentiles."),
    }
    required = [k for k in properties if k not in ("posterior", "interval90")]
    return {
        "title": "flowsim summary.json",
        "description": "The figures of a run folder's summary.json (docs/summary.md).",
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }
