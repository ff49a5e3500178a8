"""The reference of scenario, sweep and calibration files, generated from the models.

``python -m flowsim.reference > docs/reference.md`` writes it; a test checks
that the committed copy is current, so the reference cannot drift from what
``flowsim validate`` accepts.
"""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from flowsim import schema as S
from flowsim.calibration import spec as C
from flowsim.schedules import Schedulable
from flowsim.sweepfile import Linked, Range, SideBySide, Sweep, SweepSettings

__all__ = ["reference_markdown"]

SECTIONS: list[tuple[str, type[BaseModel], str]] = [
    ("[meta]", S.Meta, "What the scenario is and where its figures come from."),
    ("[calendar]", S.Calendar, "The simulated period; simulation time runs in days."),
    ("[prices]", S.Prices, "Prices that turn kilograms into dollars."),
    ("[simulation]", S.SimulationSettings, "Settings of the engine."),
    ("[behaviour]", S.Behaviour, "Route choice and learning of risk (docs/behaviour.md)."),
    ('[nodes.<id>] kind = "mine"', S.Mine, "A mining site."),
    ('[nodes.<id>] kind = "buyer" or "refiner"', S.Processor, "A queue before servers."),
    ('[nodes.<id>] kind = "partner"', S.Partner, "An export destination."),
    ("initial_stock entries", S.StockLot, "Gold already at a buyer or refiner at the start."),
    ("reserve", S.Reserve, "Gold a buyer or refiner holds outside its queue, sold over time."),
    ("reserve.sales entries", S.ReserveSale, "A dated one-off sale out of a reserve."),
    ("[routes.<id>]", S.Route, "A directed route between two nodes."),
    ("[policies.sanctions.<name>]", S.Sanction, "A sanctions regime."),
    ("compliance_changes entries", S.ComplianceChange, "A partner's compliance from a date on."),
    ("[policies.raids.<name>]", S.Raid, "Interdiction raids on nodes."),
    ("[policies.fuel_restrictions.<name>]", S.FuelRestriction, "Cuts of fuel to a region."),
    ("[policies.interdictions.<name>]", S.Interdiction, "Stronger checks on routes for a while."),
    ("[[expect]]", S.Expectation, "Rules for CI (docs/expectations.md)."),
]
DISTRIBUTIONS = [S.Fixed, S.Exponential, S.Uniform, S.Triangular, S.Lognormal]
SWEEP_SECTIONS: list[tuple[str, type[BaseModel], str]] = [
    ("[sweep]", SweepSettings, "The sweep as a whole."),
    ("[parameters] <key.path> = { low, high }", Range, "A range to sample."),
    ("[parameters.<name>]", Linked, "One parameter that sets several key paths."),
    ("[[scenarios]]", SideBySide, "Scenarios run side by side."),
]
CALIBRATION_SECTIONS: list[tuple[str, type[BaseModel], str]] = [
    ("[calibration]", C.CalibrationSettings, "The calibration as a whole."),
    ("[method]", C.Method, "ABC-SMC's settings."),
    ("[[parameters]]", C.CalibrationParameter, "An unknown of the scenario, with its prior."),
    ("[[targets]]", C.CalibrationTarget, "A published figure to fit, or to hold out."),
]
PRIORS = [C.Uniform, C.LogUniform, C.Normal, C.TruncatedNormal]


def _type_name(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        base, *meta = args
        for item in meta:
            if isinstance(item, Schedulable):
                return f"{_type_name(item.number)}, or a schedule"
        name = _type_name(base)
        bounds = []
        for item in meta:
            for attr, symbol in (("gt", ">"), ("ge", ">="), ("lt", "<"), ("le", "<=")):
                for constraint in getattr(item, "metadata", [item]):
                    value = getattr(constraint, attr, None)
                    if value is not None:
                        bounds.append(f"{symbol} {value}")
        if any(getattr(m, "discriminator", None) == "dist" for m in meta):
            return "duration (number or distribution)"
        return f"{name} {', '.join(dict.fromkeys(bounds))}".strip()
    if origin in (typing.Union, types.UnionType):
        if set(DISTRIBUTIONS) <= set(args):
            return "duration in days: a number or a distribution"
        names = [_type_name(a) for a in args if a is not type(None)]
        text = " or ".join(dict.fromkeys(names))
        return text + (" (optional)" if type(None) in args else "")
    if origin is typing.Literal:
        return " / ".join(f'"{a}"' for a in args)
    if origin in (list, tuple):
        return f"list of {_type_name(args[0])}" if args else "list"
    if origin is dict:
        return f"table of {_type_name(args[1])}"
    if isinstance(annotation, type):
        return {"str": "text", "float": "number", "int": "integer", "bool": "true/false",
                "date": "date"}.get(annotation.__name__, annotation.__name__)  # fmt: skip
    return str(annotation)


def _default(field: FieldInfo) -> str:
    if field.is_required():
        return "required"
    value = field.default_factory() if field.default_factory is not None else field.default
    if value is PydanticUndefined:
        return "required"
    if isinstance(value, S.Fixed):
        return f"`{value.value!r}` days"
    if isinstance(value, BaseModel):
        return "see its section"
    if value is None:
        return "none"
    return f"`{value!r}`".replace("'", '"')


def _table(model: type[BaseModel]) -> list[str]:
    lines = ["| key | type | default | meaning |", "|---|---|---|---|"]
    for name, field in model.model_fields.items():
        key = field.alias or name
        meaning = (field.description or "").replace("|", "\\|").replace("\n", " ")
        kind = _type_name(field.annotation if not field.metadata else
                          typing.Annotated[field.annotation, *field.metadata])  # fmt: skip
        lines.append(f"| `{key}` | {kind.replace('|', '/')} | {_default(field)} | {meaning} |")
    return lines


def reference_markdown() -> str:
    out = [
        "# Reference of scenario, sweep and calibration files",
        "",
        "Generated from flowsim's models by `python -m flowsim.reference`; do not edit by hand.",
        "Explanations and examples are in [scenarios.md](scenarios.md), "
        "[behaviour.md](behaviour.md), [sweeps.md](sweeps.md), "
        "[expectations.md](expectations.md) and [calibration.md](calibration.md). "
        "Editors can check files as they are typed with the JSON Schemas in "
        "[schema/](schema/).",
        "",
        'A scenario file may start with `extends = "other.toml"` to inherit another file, or '
        '`extends = ["a.toml", "b.toml"]` to compose several '
        "([scenarios.md](scenarios.md#extends)).",
        "",
        "## Scenario files",
    ]
    for title, model, summary in SECTIONS:
        out += ["", f"### {title}", "", summary, "", *_table(model)]
    out += [
        "",
        "### Schedules",
        "",
        'A rate whose type says "or a schedule" is a number for every day, or a table of',
        "dates and values: `{ 2018-01-01 = 30.0, 2019-06-01 = 22.0 }`. Each value holds from",
        'its date (`interpolation = "step"`, the default) or moves in a straight line to the',
        'next (`interpolation = "linear"`). The first date is the calendar\'s first day; the',
        "dates are in order and inside the calendar. See [scenarios.md](scenarios.md#schedules).",
        "",
        "### Durations",
        "",
        "A duration in days is a number (fixed) or one of these tables, told apart by `dist`:",
    ]
    for model in DISTRIBUTIONS:
        keys = ", ".join(f"`{k}`" for k in model.model_fields if k != "dist")
        tag = typing.get_args(model.model_fields["dist"].annotation)[0]
        out.append(f'- `{{ dist = "{tag}", ... }}` with {keys}')
    out += ["", "## Sweep files"]
    for title, model, summary in SWEEP_SECTIONS:
        out += ["", f"### {title}", "", summary, "", *_table(model)]
    out += ["", f"A sweep file also holds `[[expect]]` rules (above). Top-level keys: "
            f"{', '.join(f'`{k}`' for k in Sweep.model_fields)}."]  # fmt: skip
    out += ["", "## Calibration files"]
    for title, model, summary in CALIBRATION_SECTIONS:
        out += ["", f"### {title}", "", summary, "", *_table(model)]
    out += ["", "### Priors", "", "A prior is one of these tables, told apart by `dist`:"]
    for model in PRIORS:
        keys = ", ".join(f"`{k}`" for k in model.model_fields if k != "dist")
        tag = typing.get_args(model.model_fields["dist"].annotation)[0]
        out.append(f'- `{{ dist = "{tag}", ... }}` with {keys}')
    out.append("")
    return "\n".join(out)


if __name__ == "__main__":  # pragma: no cover
    print(reference_markdown(), end="")
