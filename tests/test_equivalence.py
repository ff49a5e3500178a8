"""The callback engine against the engine it replaced (tests/store_engine.py), in
distribution: for each shipped scenario, exports by partner, seizures and exposure
shares over many seeds, compared with the spread that chance alone gives.

The two engines draw the same distributions in another order, so no run is the same
draw for draw; what must agree is each figure's distribution. For each figure the
test computes Welch's t of the two engines' means, and, as the measure of chance,
the same statistic between the old engine and itself on other seeds. Both sets of
statistics must look like chance: no |t| above 4.5, and no more than a quarter of the
figures above 2 (chance alone puts about 5% there, more with few seeds). Standard
deviations must agree within a factor the F distribution allows.

``make test`` runs two scenarios on 12 seeds; ``FLOWSIM_EQUIVALENCE=1`` runs every
shipped scenario on 30 (``make equivalence``), and prints the table.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pytest
from store_engine import StoreLotEngine

import flowsim
from flowsim import engine

ROOT = Path(__file__).resolve().parents[1]
FULL = os.environ.get("FLOWSIM_EQUIVALENCE") == "1"
SCENARIOS = sorted(p.stem for p in (ROOT / "scenarios").glob("*.toml"))
QUICK = ("venezuela_sanctions", "peru_madre_de_dios_2014")
SEEDS = 30 if FULL else 12
T_LIMIT = 4.5
SHARE_OVER_2 = 0.25


def figures(name: str, lot_engine: type, seed: int) -> dict[str, np.ndarray]:
    """Each figure over ``SEEDS`` replications: exports by partner, seizures by place,
    exposure shares by partner."""
    original = engine.MODES["lot"]
    engine.MODES["lot"] = lot_engine
    try:
        results = flowsim.simulate(
            ROOT / "scenarios" / f"{name}.toml", seed=seed, replications=SEEDS
        )
    finally:
        engine.MODES["lot"] = original
    table: dict[str, list[float]] = {}
    for figure in results.figures_by_replication():
        found = {f"exports_kg.{p}": v for p, v in figure["exports_kg_by_partner"].items()}
        found.update({f"seized_kg.{w}": v for w, v in figure["seized_kg_by_place"].items()})
        for partner, exposure in figure["exposure_by_partner"].items():
            for key in ("illegal_origin_share", "sanctioned_entity_share"):
                found[f"{key}.{partner}"] = exposure[key]
            found[f"sanctioned_jurisdiction_share.{partner}"] = exposure[
                "sanctioned_jurisdiction_share"
            ]
        for key, value in found.items():
            table.setdefault(key, []).append(value)
    return {key: np.asarray(values) for key, values in table.items()}


def welch_t(a: np.ndarray, b: np.ndarray) -> float | None:
    """Welch's t of two samples' means; None if both are constant and equal."""
    se = math.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
    gap = float(a.mean() - b.mean())
    if se == 0.0:
        return None if abs(gap) <= 1e-9 * max(1.0, abs(float(a.mean()))) else math.inf
    return gap / se


def compare(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> dict[str, float]:
    assert set(a) == set(b)
    return {k: t for k in sorted(a) if (t := welch_t(a[k], b[k])) is not None}


def sd_ratio_bound() -> float:
    """The F distribution's two-sided 99.9% bound for the ratio of two variances."""
    from scipy.stats import f

    return float(f.ppf(0.9995, SEEDS - 1, SEEDS - 1))


@pytest.mark.parametrize("name", SCENARIOS if FULL else QUICK)
def test_the_callback_engine_agrees_with_the_store_engine_within_chance(name):
    old = figures(name, StoreLotEngine, seed=101)
    again = figures(name, StoreLotEngine, seed=202)  # chance alone: other seeds, same engine
    new = figures(name, engine.LotEngine, seed=303)
    chance = compare(old, again)
    engines = compare(old, new)
    bound = sd_ratio_bound()
    lines = [f"{name}: {len(engines)} figures, {SEEDS} seeds each"]
    lines.append(f"  {'figure':<46}{'old':>12}{'new':>12}{'t engines':>11}{'t chance':>10}")
    for key in sorted(engines):
        lines.append(
            f"  {key:<46}{old[key].mean():>12.4g}{new[key].mean():>12.4g}"
            f"{engines[key]:>11.2f}{chance.get(key, 0.0):>10.2f}"
        )
    print("\n".join(lines))
    over_2 = sum(abs(t) > 2 for t in engines.values()) / max(1, len(engines))
    chance_over_2 = sum(abs(t) > 2 for t in chance.values()) / max(1, len(chance))
    print(
        f"  |t| > 2: {over_2:.0%} of figures between the engines, {chance_over_2:.0%} by chance "
        f"alone; largest |t| {max(map(abs, engines.values()), default=0):.2f} and "
        f"{max(map(abs, chance.values()), default=0):.2f}"
    )
    assert all(abs(t) <= T_LIMIT for t in engines.values()), {
        k: t for k, t in engines.items() if abs(t) > T_LIMIT
    }
    assert over_2 <= SHARE_OVER_2
    for key in engines:
        sd_old, sd_new = old[key].std(ddof=1), new[key].std(ddof=1)
        if sd_old > 0 and sd_new > 0:
            ratio = (sd_new / sd_old) ** 2
            assert 1 / bound <= ratio <= bound, (key, sd_old, sd_new)
