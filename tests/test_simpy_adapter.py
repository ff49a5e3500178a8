"""The SimPy internals that flowsim reads, checked against the SimPy installed: a SimPy
that changes them fails here, not in a run."""

from __future__ import annotations

import simpy

from flowsim.engine.simpy_adapter import events_scheduled, pending_timeout_values


class Parcel:
    pass


def test_pending_timeouts_give_back_the_values_they_carry():
    env = simpy.Environment()
    first, second = Parcel(), Parcel()
    env.timeout(1.0, first)
    env.timeout(3.0, second)
    env.timeout(2.0, "not a parcel")
    assert set(map(id, pending_timeout_values(env, Parcel))) == {id(first), id(second)}
    env.run(until=2.5)
    assert pending_timeout_values(env, Parcel) == [second]


def test_events_scheduled_counts_the_events_made():
    env = simpy.Environment()
    before = events_scheduled(env)
    for _ in range(5):
        env.timeout(1.0)
    assert events_scheduled(env) - before == 6  # five timeouts, and the count itself


def test_a_processed_timeout_gives_its_value_through_the_public_property():
    env = simpy.Environment()
    seen = []
    env.timeout(1.0, "lot").callbacks.append(lambda event: seen.append(event.value))
    env.run()
    assert seen == ["lot"]
