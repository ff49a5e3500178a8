"""The callback engine against the engine it replaced (tests/store_engine.py), in
distribution: for each shipped scenario, exports by partner, seizures and exposure
shares over many seeds, compared with the spread that chance alone gives.

The two engines draw the same distributions in another order, so no run is the same
draw for draw; what must agree is each figure's distribution. For each figure the
test measures what chance alone gives by permutation: the two engines' runs are pooled
and split at random 4,000 times, and the gap between the two halves' means (and the
ratio of their standard deviations) is counted each time. The gap between the engines
must be one that chance gives at least once in a thousand splits (p >= 0.001), for the
mean and for the spread; seizures, a few large lots taken or not, are far from normal,
so a test that assumes normality (t, F) would not measure chance here. Welch's t of the
means is printed beside it, and, for scale, the same t between the old engine and itself
on other seeds. The seeds are fixed: the test gives the same answer at every run.

``make test`` runs two scenarios on 12 seeds; ``FLOWSIM_EQUIVALENCE=1`` runs every
shipped scenario on 30 (``make equivalence``), and prints the table.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pytest
from shipped import SHIPPED_SCENARIOS
from store_engine import StoreLotEngine

import flowsim
from flowsim import engine

ROOT = Path(__file__).resolve().parents[1]
FULL = os.environ.get("FLOWSIM_EQUIVALENCE") == "1"
SCENARIOS = [p.stem for p in SHIPPED_SCENARIOS]
QUICK = ("venezuela_sanctions", "peru_madre_de_dios_2014")
SEEDS = 30 if FULL else 12
PERMUTATIONS = 4000
P_MIN = 0.001


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


def permutation_p(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """How often chance alone (the runs pooled and split at random) gives a gap between
    the means, and a ratio of the standard deviations, as large as ``a``'s and ``b``'s."""
    pooled = np.concatenate([a, b])
    rng = np.random.default_rng(12345)
    order = np.argsort(rng.random((PERMUTATIONS, len(pooled))), axis=1)
    halves = pooled[order]
    first, second = halves[:, : len(a)], halves[:, len(a) :]
    gaps = np.abs(first.mean(axis=1) - second.mean(axis=1))
    gap = abs(a.mean() - b.mean())
    p_mean = (np.sum(gaps >= gap - 1e-12 * max(1.0, gap)) + 1) / (PERMUTATIONS + 1)
    sd_a, sd_b = a.std(ddof=1), b.std(ddof=1)
    if sd_a == 0.0 or sd_b == 0.0:
        return float(p_mean), 1.0 if sd_a == sd_b else 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = np.abs(np.log(first.std(axis=1, ddof=1) / second.std(axis=1, ddof=1)))
    ratio = abs(np.log(sd_a / sd_b))
    p_sd = (np.sum(np.nan_to_num(ratios, posinf=np.inf) >= ratio - 1e-12) + 1) / (PERMUTATIONS + 1)
    return float(p_mean), float(p_sd)


@pytest.mark.parametrize("name", SCENARIOS if FULL else QUICK)
def test_the_callback_engine_agrees_with_the_store_engine_within_chance(name):
    old = figures(name, StoreLotEngine, seed=101)
    again = figures(name, StoreLotEngine, seed=202)  # chance alone: other seeds, same engine
    new = figures(name, engine.LotEngine, seed=303)
    chance = compare(old, again)
    engines = compare(old, new)
    p_values = {key: permutation_p(old[key], new[key]) for key in engines}
    lines = [f"{name}: {len(engines)} figures, {SEEDS} seeds each"]
    lines.append(
        f"  {'figure':<44}{'old':>11}{'new':>11}{'p mean':>8}{'p sd':>7}"
        f"{'t engines':>10}{'t chance':>9}"
    )
    for key in sorted(engines):
        p_mean, p_sd = p_values[key]
        lines.append(
            f"  {key:<44}{old[key].mean():>11.4g}{new[key].mean():>11.4g}{p_mean:>8.3f}"
            f"{p_sd:>7.3f}{engines[key]:>10.2f}{chance.get(key, 0.0):>9.2f}"
        )
    over_2 = sum(abs(t) > 2 for t in engines.values()) / max(1, len(engines))
    chance_over_2 = sum(abs(t) > 2 for t in chance.values()) / max(1, len(chance))
    lines.append(
        f"  |t| > 2: {over_2:.0%} of figures between the engines, {chance_over_2:.0%} by chance "
        f"alone; smallest p {min(min(p) for p in p_values.values()):.4f}"
    )
    print("\n".join(lines))
    failing = {k: p for k, p in p_values.items() if min(p) < P_MIN}
    assert not failing, failing
