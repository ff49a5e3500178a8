"""Dated schedules: a rate that changes over the calendar.

A rate that takes a schedule is written either as one number, for every day, or as
a table of dates and values::

    production_kg_per_day = 30.0
    production_kg_per_day = { 2018-01-01 = 30.0, 2019-06-01 = 22.0 }
    production_kg_per_day = { 2018-01-01 = 30.0, 2019-06-01 = 22.0, interpolation = "linear" }

With ``step`` interpolation (the default) each value holds from its date until the
next one; with ``linear`` the value moves in a straight line from one date's value
to the next. The first date is the calendar's first day, so that every day has a
value, and the dates are written in order, inside the calendar. After the last
date its value holds to the end.

The engine reads a schedule once a day: :meth:`Schedule.daily` gives its value at
the start of each day of the run, and a rate changes at the start of a day. A run
whose rates are all plain numbers is the run of a scenario without schedules.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date as Date
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union

from pydantic import (
    BaseModel,
    PlainSerializer,
    PlainValidator,
    TypeAdapter,
    ValidationError,
    WithJsonSchema,
)

if TYPE_CHECKING:
    from flowsim.findings import Finding

__all__ = [
    "INTERPOLATIONS",
    "Schedulable",
    "Schedule",
    "calendar_months",
    "check_schedules",
    "daily_values",
    "initial",
    "is_date_key",
    "iter_schedules",
    "put_dates_in_order",
    "scheduled",
]

INTERPOLATIONS = ("step", "linear")
_DATE_KEY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DATE_KEY_PATTERN = _DATE_KEY.pattern


@dataclass(frozen=True)
class Schedule:
    """Values on dates, in date order, and how to fill the days between them."""

    points: tuple[tuple[Date, float], ...]
    interpolation: Literal["step", "linear"] = "step"

    @property
    def first(self) -> float:
        """The value on the first day."""
        return self.points[0][1]

    def daily(self, start: Date, days: int) -> tuple[float, ...]:
        """The value at the start of each of ``days`` days from ``start``."""
        offsets = [(when - start).days for when, _ in self.points]
        values = [value for _, value in self.points]
        out = []
        k = 0
        for day in range(days):
            while k + 1 < len(offsets) and offsets[k + 1] <= day:
                k += 1
            if self.interpolation == "linear" and k + 1 < len(offsets) and day >= offsets[k]:
                d0, d1 = offsets[k], offsets[k + 1]
                out.append(values[k] + (values[k + 1] - values[k]) * (day - d0) / (d1 - d0))
            else:
                out.append(values[k])
        return tuple(out)

    def as_table(self) -> dict[str, Any]:
        """The schedule as a scenario file writes it (dates as 'YYYY-MM-DD' keys)."""
        table: dict[str, Any] = {when.isoformat(): value for when, value in self.points}
        if self.interpolation != "step":
            table["interpolation"] = self.interpolation
        return table

    @classmethod
    def from_table(cls, table: Mapping[Any, Any], point: TypeAdapter[Any]) -> Schedule:
        """Read a table of dates and values; raise ``ValueError`` naming the point."""
        interpolation = "step"
        points: list[tuple[Date, float]] = []
        for key, value in table.items():
            if key == "interpolation":
                if value not in INTERPOLATIONS:
                    raise ValueError(f"interpolation is {value!r}: it is 'step' or 'linear'")
                interpolation = value
                continue
            when = _date_of(key)
            try:
                number = point.validate_python(value)
            except ValidationError as exc:
                message = exc.errors(include_url=False)[0]["msg"]
                raise ValueError(f"at {when}: {message} (got {value!r})") from None
            if points and when <= points[-1][0]:
                raise ValueError(
                    f"{when} is written after {points[-1][0]}: write a schedule's dates in order"
                )
            points.append((when, number))
        if not points:
            raise ValueError("a schedule needs at least one date, the calendar's first day")
        return cls(tuple(points), interpolation)  # type: ignore[arg-type]


def _date_of(key: Any) -> Date:
    if isinstance(key, Date):
        return key
    if isinstance(key, str) and _DATE_KEY.match(key):
        try:
            return Date.fromisoformat(key)
        except ValueError:
            raise ValueError(f"{key!r} is not a date of the calendar") from None
    raise ValueError(
        f"{key!r} is not a date: a schedule's keys are dates such as 2019-06-01, "
        "and 'interpolation'"
    )


def is_date_key(key: object) -> bool:
    """Whether ``key`` is written as a schedule's date ('YYYY-MM-DD')."""
    return isinstance(key, str) and bool(_DATE_KEY.match(key))


def put_dates_in_order(table: dict[Any, Any]) -> dict[Any, Any]:
    """``table`` with its date keys in order, the other keys after them."""
    dates = sorted(k for k in table if is_date_key(k))
    return {**{k: table[k] for k in dates}, **{k: v for k, v in table.items() if k not in dates}}


class Schedulable:
    """Marks a field that takes a schedule, in its type's metadata (for the reference)."""

    def __init__(self, number: Any):
        self.number = number


def scheduled(number: Any, points: Any = None) -> Any:
    """The type of a rate that is ``number`` every day, or a :class:`Schedule` whose
    values are ``points`` (``number`` unless given: a bound may differ, as for a mine
    that may produce nothing for a while)."""
    one = TypeAdapter(number)
    each = TypeAdapter(points if points is not None else number)

    def validate(value: Any) -> float | Schedule:
        if isinstance(value, Schedule):
            return value
        if isinstance(value, Mapping):
            return Schedule.from_table(value, each)
        try:
            return one.validate_python(value)
        except ValidationError as exc:
            raise ValueError(exc.errors(include_url=False)[0]["msg"]) from None

    def serialize(value: float | Schedule) -> Any:
        return value.as_table() if isinstance(value, Schedule) else value

    return Annotated[
        Union[float, Schedule],
        PlainValidator(validate),
        PlainSerializer(serialize),
        WithJsonSchema(_json_schema(one, each)),
        Schedulable(number),
    ]


def _json_schema(one: TypeAdapter[Any], each: TypeAdapter[Any]) -> dict[str, Any]:
    return {
        "anyOf": [
            one.json_schema(),
            {
                "type": "object",
                "description": (
                    "A schedule: dates (the calendar's first day first, in order) and "
                    "their values; interpolation 'step' (default) or 'linear'."
                ),
                "properties": {"interpolation": {"enum": list(INTERPOLATIONS)}},
                "patternProperties": {DATE_KEY_PATTERN: each.json_schema()},
                "additionalProperties": False,
                "minProperties": 1,
            },
        ]
    }


def calendar_months(start: Date, end: Date) -> list[tuple[int, int]]:
    """The (year, month) of every month the calendar touches, in order."""
    months = []
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):
        months.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def initial(value: float | Schedule) -> float:
    """The value of a rate on the calendar's first day."""
    return value.first if isinstance(value, Schedule) else value


def daily_values(value: float | Schedule, start: Date, days: int) -> tuple[float, ...] | None:
    """A scheduled rate's value on each day of the run; None for a plain number."""
    return value.daily(start, days) if isinstance(value, Schedule) else None


def iter_schedules(model: Any, path: tuple[str | int, ...] = ()) -> Iterator[tuple[Any, Schedule]]:
    """Every schedule in a model (a scenario, or a part of one), with its key path."""
    if isinstance(model, Schedule):
        yield path, model
    elif isinstance(model, BaseModel):
        for name, field in type(model).model_fields.items():
            yield from iter_schedules(getattr(model, name), (*path, field.alias or name))
    elif isinstance(model, Mapping):
        for key, value in model.items():
            yield from iter_schedules(value, (*path, key))
    elif isinstance(model, (list, tuple)):
        for k, value in enumerate(model):
            yield from iter_schedules(value, (*path, k))


def check_schedules(scenario: Any) -> Iterator[Finding]:
    """Every schedule starts on the calendar's first day and stays inside the calendar."""
    start, end = scenario.calendar.start, scenario.calendar.end
    for path, schedule in iter_schedules(scenario):
        first = schedule.points[0][0]
        if first != start:
            yield (
                (*path, first.isoformat()),
                f"a schedule starts on the calendar's first day ({start}), so that every "
                f"day has a value: add a point for {start}"
                + (" or move this one to it" if first > start else ""),
            )
        for when, _ in schedule.points:
            if when > end:
                yield (
                    (*path, when.isoformat()),
                    f"{when} is after the calendar's end ({end})",
                )
