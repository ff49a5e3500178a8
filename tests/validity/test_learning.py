"""Smugglers learn the risk of a route from seizures, and forget it.

Adaptive expectations about enforcement: a crackdown on one smuggling route
diverts traffic to others while it lasts, and traffic drifts back once
seizures stop (interdiction effects decay; e.g. cocaine routes through the
Caribbean and Central America). In flowsim each sender updates its perceived
risk of a route by exponential smoothing over what happens to its lots, and
the perceived risk relaxes back to the route's published risk with time
constant ``risk_memory_days``; the logit choice weighs routes by value x (1 -
perceived risk).

Network: mine -> buyer, then two identical three-day routes (north, south)
from the buyer to one partner; ten 1 kg lots a day. An interdiction adds 0.8
to the seizure probability on north from day 100 to day 159.
"""

from __future__ import annotations

import pytest
from networks import chain, route, rows, run

DAYS = 400
BURST_START, BURST_END = 100, 160  # the interdiction is in force on days [100, 160)


def two_routes(memory_days: float, days: int = DAYS) -> dict:
    data = chain(days=days)
    data["nodes"]["mine"]["lot_interval_days"] = 0.1
    del data["routes"]["buyer_partner"]
    data["routes"]["north"] = route("buyer", "partner", transit_days=3.0)
    data["routes"]["south"] = route("buyer", "partner", transit_days=3.0)
    data["behaviour"] = {"route_choice": "logit", "risk_memory_days": memory_days}
    data["policies"] = {
        "interdictions": {
            "crackdown": {
                "start": "2018-04-11",  # day 100
                "end": "2018-06-09",  # day 159, the last day in force
                "routes": ["north"],
                "seizure_increase": 0.8,
            }
        }
    }
    return data


def north_share(results, first: float, last: float) -> float:
    """Share of the lots the buyer sent north, among those it sent on days [first, last)."""
    shipped = rows(results, "shipped")
    sent = shipped[(shipped["node"] == "buyer") & shipped["day"].between(first, last, "left")]
    assert len(sent) > 50
    return float((sent["route"] == "north").mean())


def test_route_share_falls_during_a_seizure_burst_and_recovers_after():
    """Adaptive expectations: the two equal routes share the traffic evenly;
    within days of the crackdown the north route's share collapses (most of its
    lots are seized, so its perceived risk rises towards 1), it stays low while
    the crackdown lasts, and it is back to an even split within three
    risk_memory_days (20 days) of the crackdown's end."""
    memory = 20.0
    results = run(two_routes(memory), seed=0)
    seized = results.seizures
    assert set(seized["route"]) == {"north"}
    assert seized["day"].between(BURST_START, BURST_END, "left").all()
    assert north_share(results, 0, BURST_START) == pytest.approx(0.5, abs=0.05)
    assert north_share(results, BURST_START + 10, BURST_END) < 0.05
    assert north_share(results, BURST_END - 10, BURST_END) < 0.1  # no recovery during it
    assert north_share(results, BURST_END + 3 * memory, DAYS) == pytest.approx(0.5, abs=0.05)


def test_a_longer_memory_delays_the_recovery():
    """Adaptive expectations, time constant: the longer actors remember a
    seizure burst (risk_memory_days 80 instead of 10), the slower traffic
    returns to the route after it, yet it does return within a few memories.
    Three replications pooled: when the first probe after the crackdown goes
    north is a matter of chance."""
    shares = {}
    for memory in (10.0, 80.0):
        results = run(two_routes(memory, days=500), seed=0, replications=3)
        shares[memory] = (
            north_share(results, BURST_END, BURST_END + 40),
            north_share(results, BURST_END + 3 * memory, 500),
        )
    assert shares[80.0][0] < shares[10.0][0] - 0.15
    assert shares[10.0][1] == pytest.approx(0.5, abs=0.05)
    assert shares[80.0][1] == pytest.approx(0.5, abs=0.05)
