"""The field types that scenario, sweep and rule files share: strict numbers with their
bounds, dates that the tables can hold, ids and texts.

Numbers and flags are strict: TOML has real types, and `true` or "10" where a
number belongs is a mistake to report, not a value to convert.
"""

from __future__ import annotations

import re
from datetime import date as Date
from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
)

__all__ = [
    "FIRST_DATE",
    "LAST_DATE",
    "MAGNITUDE",
    "MIN_INTERVAL_DAYS",
    "CalendarDate",
    "Flag",
    "Frozen",
    "Identifier",
    "IntervalDays",
    "Jurisdiction",
    "LegalStatus",
    "NodeKind",
    "NonNegativeFloat",
    "PositiveFloat",
    "PositiveInt",
    "Probability",
    "Purity",
    "Text",
]


class Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


# Numbers and flags are strict: TOML has real types, and `true` or "10" where a
# number belongs is a mistake to report, not a value to convert.
# No real figure comes near 1e12 (kg, days, USD): a bound keeps sums and products
# finite, so a typo of 1e308 is refused here rather than ending in Infinity later.
MAGNITUDE = 1e12
MIN_INTERVAL_DAYS = 1 / 24  # the shortest retry, collection or batch interval
PositiveFloat = Annotated[float, Field(gt=0, le=MAGNITUDE, strict=True)]

# The days that the tables' nanosecond timestamps can hold, whole months included:
# pandas reaches from 1677-09-21 to 2262-04-11.
FIRST_DATE = Date(1677, 10, 1)
LAST_DATE = Date(2262, 4, 11)
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _date_as_written(value: object) -> object:
    """A date is a TOML date or a 'YYYY-MM-DD' string: a number (a Unix timestamp, or
    20201231) or a time of day is a mistake, not a date to convert."""
    if isinstance(value, datetime):
        raise ValueError("give a date such as 2020-12-31, without a time of day")
    if isinstance(value, bool):
        raise ValueError(f"is {str(value).lower()}, not a date: write it as 2020-12-31")
    if isinstance(value, (int, float)):
        raise ValueError(
            "is a number, not a date: write it as 2020-12-31 (a TOML date) or '2020-12-31'"
        )
    if isinstance(value, str) and not _ISO_DATE.match(value):
        raise ValueError("is not a date: write it as 2020-12-31")
    return value


def _date_in_range(value: Date) -> Date:
    if not FIRST_DATE <= value <= LAST_DATE:
        raise ValueError(
            f"{value} is outside the dates flowsim's tables can hold ({FIRST_DATE} to {LAST_DATE})"
        )
    return value


CalendarDate = Annotated[Date, BeforeValidator(_date_as_written), AfterValidator(_date_in_range)]


def _at_least_an_hour(days: float) -> float:
    # Every retry re-offers every held lot and every collection or batch wakes a node,
    # so a tiny interval multiplies the work without changing the answer, and one too
    # small to move the clock never ends.
    if days < MIN_INTERVAL_DAYS:
        raise ValueError("must be at least 1/24 day (an hour)")
    return days


# How often something recurs in the engine, in days.
IntervalDays = Annotated[
    PositiveFloat,
    Field(json_schema_extra={"minimum": MIN_INTERVAL_DAYS}),
    AfterValidator(_at_least_an_hour),
]
NonNegativeFloat = Annotated[float, Field(ge=0, le=MAGNITUDE, strict=True)]
Probability = Annotated[float, Field(ge=0, le=1, strict=True)]
Purity = Annotated[float, Field(gt=0, le=1, strict=True)]
PositiveInt = Annotated[int, Field(gt=0, strict=True)]
Flag = Annotated[bool, Field(strict=True)]
Identifier = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_\-]*$", max_length=64)]
Jurisdiction = Annotated[
    str, StringConstraints(pattern=r"^[A-Z]{3}$"), Field(description="ISO 3166-1 alpha-3 code")
]
Text = Annotated[str, StringConstraints(max_length=10_000)]

NodeKind = Literal["mine", "buyer", "refiner", "partner"]
LegalStatus = Literal["licensed", "informal", "illegal"]
