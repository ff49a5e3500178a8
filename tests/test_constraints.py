"""constraints/lowest.txt, which `make test-min` installs the suite under, pins every
runtime dependency of pyproject.toml at its declared floor: the same packages, each at
the version of its `>=` bound, so that the floors the suite proves are the declared ones.
Read offline; packaging comes with pytest."""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
CONSTRAINTS = ROOT / "constraints" / "lowest.txt"


def declared() -> dict[str, Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = [Requirement(line) for line in project["dependencies"]]
    return {canonicalize_name(r.name): r for r in requirements}


def pinned() -> dict[str, Requirement]:
    found: dict[str, Requirement] = {}
    for line in CONSTRAINTS.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        requirement = Requirement(line)
        name = canonicalize_name(requirement.name)
        assert name not in found, f"{name} is pinned twice in {CONSTRAINTS.name}"
        found[name] = requirement
    return found


def floor(requirement: Requirement) -> Version:
    [bound] = [s for s in requirement.specifier if s.operator == ">="]
    return Version(bound.version)


def pin(requirement: Requirement) -> Version:
    [exact] = list(requirement.specifier)
    assert exact.operator == "==", f"{requirement} is not a pin (name==version)"
    return Version(exact.version)


def test_every_runtime_dependency_declares_one_floor():
    for name, requirement in declared().items():
        bounds = [s for s in requirement.specifier if s.operator == ">="]
        assert len(bounds) == 1, f"{name}: {requirement.specifier} has no single >= floor"
        assert requirement.marker is None and not requirement.extras, requirement


def test_the_constraints_pin_exactly_the_runtime_dependencies():
    assert sorted(pinned()) == sorted(declared())


def test_each_pin_is_its_declared_floor():
    floors = declared()
    for name, requirement in pinned().items():
        assert not requirement.extras and requirement.marker is None, requirement
        assert pin(requirement) == floor(floors[name]), (
            f"{name}: pinned at {pin(requirement)}, declared floor {floor(floors[name])}"
        )
        # The floor lies inside the whole range (simpy>=4.0,<5).
        assert floors[name].specifier.contains(pin(requirement)), (name, floors[name])
