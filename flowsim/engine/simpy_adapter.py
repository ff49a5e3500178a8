"""The one place that reads SimPy's private state, where SimPy offers no public way.

- What is in transit: the values of the pending timeouts that carry lots. SimPy
  keeps its event queue private (``Environment._queue``) and a timeout's value in
  ``Event._value`` (``Event.value`` raises until the event is processed).
- How many events a run scheduled: SimPy numbers events with a private counter
  (``Environment._eid``); the benchmarks report it.

``tests/test_simpy_adapter.py`` checks both against the SimPy installed, so that a
SimPy that changes them fails a test rather than a run.
"""

from __future__ import annotations

from typing import Any

import simpy

__all__ = ["events_scheduled", "pending_timeout_values"]


def pending_timeout_values(env: simpy.Environment, kind: type) -> list[Any]:
    """The values of type ``kind`` carried by the timeouts not yet processed."""
    return [
        event._value
        for *_, event in env._queue
        if isinstance(event, simpy.Timeout) and isinstance(event._value, kind)
    ]


def events_scheduled(env: simpy.Environment) -> int:
    """How many events the environment has scheduled so far (the counter moves on by
    one, which changes no event's order: only the gaps between numbers)."""
    return next(env._eid)
