"""Shared fixtures: a small valid scenario, written as TOML text into tmp_path."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

# A mine sells to a gang of buyers, who sell to a refiner, who exports to two
# partners; a sanction on the refiner, a raid on the mine and a fuel cut in its
# region. Every line a test edits is unique in the text, so a test can change
# it with str.replace.
TINY_SCENARIO = """\
[meta]
name = "tiny"
description = "A mine, a buyer, a refiner and two partners."

[calendar]
start = 2020-01-01
end = 2020-12-31

[prices]
usd_per_oz = { 2020 = 1770.0 }
dore_purity = 0.9

[nodes.m1]
kind = "mine"
jurisdiction = "VEN"
entity = "artisanal miners"
legal_status = "illegal"
region = "bolivar"
production_kg_per_day = 10.0
fuel_dependence = 0.5
fuel_gal_per_kg = 100.0

[nodes.gangs]
kind = "buyer"
jurisdiction = "VEN"
entity = "sindicatos"
legal_status = "illegal"
region = "bolivar"
capacity_kg_per_day = 50.0

[nodes.refinery]
kind = "refiner"
jurisdiction = "VEN"
entity = "state refiner"
legal_status = "licensed"
region = "bolivar"
capacity_kg_per_day = 40.0
output_purity = 0.95

[nodes.turkey]
kind = "partner"
jurisdiction = "TUR"
entity = "Turkish refiners"
legal_status = "licensed"
region = "turkey"

[nodes.swiss]
kind = "partner"
jurisdiction = "CHE"
entity = "Swiss refiners"
legal_status = "licensed"
region = "switzerland"

[routes.r1]
from = "m1"
to = "gangs"
transit_days = 1.0

[routes.r2]
from = "gangs"
to = "refinery"
transit_days = { dist = "lognormal", mean = 2.0, cv = 0.5 }
seizure_probability = 0.02

[routes.r3]
from = "refinery"
to = "turkey"
weight = 0.7

[routes.r4]
from = "refinery"
to = "swiss"
weight = 0.3

[policies.sanctions.s1]
issuer = "USA"
effective = 2020-06-01
target_entities = ["state refiner"]
compliance = { turkey = 0.0, swiss = 1.0 }

[policies.raids.raid1]
date = 2020-03-01
nodes = ["m1"]

[policies.fuel_restrictions.f1]
region = "bolivar"
start = 2020-04-01
end = 2020-05-01
supply_cut = 0.5
"""


@pytest.fixture
def tiny_toml() -> str:
    """The text of a small valid scenario."""
    return TINY_SCENARIO


@pytest.fixture
def write_toml(tmp_path: Path) -> Callable[..., Path]:
    """Write text (or bytes) to a file in tmp_path and return its path."""

    def write(content: str | bytes, name: str = "scenario.toml") -> Path:
        path = tmp_path / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return path

    return write
