"""The balloon effect: enforcement at one mining site moves mining next door.

Squeezing illicit supply in one place pushes it out elsewhere (coca in the
Andes; illegal gold mining in Madre de Dios, where Operation Mercurio in La
Pampa in 2019 was followed by new mining along nearby rivers). In flowsim a
raid takes ``capacity_loss`` of a mine's output; with ``displacement_share``
> 0 that share of the lost output reappears at the mines in
``displacement_to``, in proportion to their own output, after
``displacement_delay_days``, and it follows the raid's hold-and-recovery
profile. Mines make one lot a day, so each day's lot is that day's output.
"""

from __future__ import annotations

import pytest
from networks import chain, node, route, rows, run

DAYS = 240
RAID_DAY = 60  # 2018-03-02
DELAY = 30.0
HOLD = 30.0
RECOVERY = 60.0
LOSS = 0.6


def three_mines(displacement_share: float) -> dict:
    """Mines a (10 kg/day), b (10) and c (30) sell to one buyer; a is raided."""
    data = chain(days=DAYS)
    data["nodes"] = {
        "a": node(
            "mine",
            displacement_to=["b", "c"],
            displacement_share=displacement_share,
            displacement_delay_days=DELAY,
        ),
        "b": node("mine", production_kg_per_day=10.0),
        "c": node("mine", production_kg_per_day=30.0),
        "buyer": node("buyer"),
        "partner": node("partner"),
    }
    data["routes"] = {
        "a_buyer": route("a", "buyer"),
        "b_buyer": route("b", "buyer"),
        "c_buyer": route("c", "buyer"),
        "buyer_partner": route("buyer", "partner"),
    }
    data["policies"] = {
        "raids": {
            "mercurio": {
                "date": "2018-03-02",
                "nodes": ["a"],
                "capacity_loss": LOSS,
                "hold_days": HOLD,
                "recovery_days": RECOVERY,
            }
        }
    }
    return data


def daily_output(results) -> dict[str, dict[float, float]]:
    produced = rows(results, "produced")
    return {
        mine: produced[produced["node"] == mine].set_index("day")["kg"].to_dict()
        for mine in ("a", "b", "c")
    }


def test_raid_raises_output_at_neighbours_after_the_delay_and_not_before():
    """Balloon effect, timing: the neighbours' output is unchanged from the
    raid until the displaced miners arrive (the delay), then rises by their
    part of the displaced output (b 1/4, c 3/4: in proportion to their own
    output), holds, and falls back linearly as the raided mine recovers."""
    out = daily_output(run(three_mines(displacement_share=0.5)))
    moved = 10.0 * LOSS * 0.5  # kg/day of a's output that moves, while the raid holds
    start = RAID_DAY + DELAY
    assert out["a"][RAID_DAY] == pytest.approx(10.0 * (1 - LOSS))
    for mine, base, part in (("b", 10.0, 0.25), ("c", 30.0, 0.75)):
        before = [out[mine][d] for d in range(0, int(start))]
        assert before == pytest.approx([base] * len(before))  # nothing before the delay
        assert out[mine][start] == pytest.approx(base + moved * part)
        assert out[mine][start + HOLD - 1] == pytest.approx(base + moved * part)
        halfway = start + HOLD + RECOVERY / 2
        assert out[mine][halfway] == pytest.approx(base + moved * part / 2)
        after = [out[mine][d] for d in range(int(start + HOLD + RECOVERY), DAYS)]
        assert after == pytest.approx([base] * len(after))


def test_displaced_output_is_the_displacement_share_of_what_the_raid_removed():
    """Balloon effect, size: summed over the episode, the extra output at the
    neighbours is exactly ``displacement_share`` times the output the raid
    took from the raided mine, so total output falls by (1 - share) of the
    raid's direct effect, not by all of it."""
    share = 0.5
    out = daily_output(run(three_mines(displacement_share=share)))
    lost_at_a = sum(10.0 - kg for kg in out["a"].values())
    gained = sum(out["b"].values()) - 10.0 * DAYS + sum(out["c"].values()) - 30.0 * DAYS
    assert lost_at_a == pytest.approx(10.0 * LOSS * (HOLD + RECOVERY / 2), rel=0.02)
    assert gained == pytest.approx(share * lost_at_a)
    total = sum(sum(kg.values()) for kg in out.values())
    assert 50.0 * DAYS - total == pytest.approx((1 - share) * lost_at_a)


def test_without_displacement_the_neighbours_do_not_change():
    """Control: with displacement_share 0 the raid only removes output; the
    neighbours produce exactly as they would without it (no balloon)."""
    out = daily_output(run(three_mines(displacement_share=0.0)))
    assert set(out["b"].values()) == {10.0}
    assert set(out["c"].values()) == {30.0}
    assert min(out["a"].values()) == pytest.approx(10.0 * (1 - LOSS))
