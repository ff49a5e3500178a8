"""The scenario files shipped in scenarios/: every TOML file there but the calibration
files that sit beside them."""

from __future__ import annotations

from pathlib import Path

SCENARIO_FOLDER = Path(__file__).resolve().parents[1] / "scenarios"
SHIPPED_SCENARIOS = sorted(
    p for p in SCENARIO_FOLDER.glob("*.toml") if not p.name.endswith(".calibration.toml")
)
