"""The wheel's example files, copied in at build time; everything else is in pyproject.toml.

The repository keeps one copy of the examples where its README, Makefile and tests name
them: scenarios/ (with scenarios/sweeps/) and the sources table they cite,
docs/sources.md. A wheel gets them as flowsim/example_files/, laid out as a user's copy
is (``flowsim examples copy``): the scenarios at the top with sources.md, the sweeps in
sweeps/, so that ``extends``, ``meta.baseline``, a sweep's ``../`` and a calibration's
scenario, all relative to their own file, still find each other.
"""

from __future__ import annotations

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
SCENARIOS = ROOT / "scenarios"
SOURCES_TABLE = ROOT / "docs" / "sources.md"
# The JSON Schemas, for editors: in a copy, schema/ beside the scenarios.
SCHEMAS = ROOT / "docs" / "schema"
# Where the examples go in the package; flowsim/examples.py reads them from there.
EXAMPLE_FILES = "example_files"


def example_files() -> dict[str, Path]:
    """Each example file by its path under flowsim/example_files/ (POSIX separators)."""
    found = {p.relative_to(SCENARIOS).as_posix(): p for p in sorted(SCENARIOS.rglob("*.toml"))}
    if not found or not SOURCES_TABLE.is_file():
        # An sdist without them would build a wheel whose `flowsim examples` has nothing.
        raise SystemExit(f"cannot build flowsim: no scenarios in {SCENARIOS} or no {SOURCES_TABLE}")
    schemas = {f"schema/{p.name}": p for p in sorted(SCHEMAS.glob("*.schema.json"))}
    return {**found, **schemas, "sources.md": SOURCES_TABLE}


class BuildPyWithExamples(build_py):
    """build_py, then the example files into the built package."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads them from the checkout itself
        for name, source in example_files().items():
            target = self._target(name)
            self.mkpath(str(target.parent))
            self.copy_file(str(source), str(target))

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        outputs = super().get_outputs(include_bytecode)
        if getattr(self, "editable_mode", False):
            return outputs
        return [*outputs, *(str(self._target(name)) for name in example_files())]

    def _target(self, name: str) -> Path:
        return Path(self.build_lib) / "flowsim" / EXAMPLE_FILES / name


setup(cmdclass={"build_py": BuildPyWithExamples})
