"""What a replication holds at run time, and what it hands back.

:class:`Site` is one node's runtime state (the lots present, held, or waiting for
room); :class:`EngineOutput` is a finished replication's tables and end state;
:func:`sampler` draws durations from a compiled distribution.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
import simpy

from flowsim.ledger import Ledger, Melts, Receipts
from flowsim.lots import Lot
from flowsim.network import Duration

__all__ = ["MIN_CAPACITY_FACTOR", "EngineOutput", "Site", "sampler"]

# A node whose capacity a raid destroyed outright still works this slowly,
# rather than holding a lot forever.
MIN_CAPACITY_FACTOR = 0.01


@dataclass
class Site:
    """Runtime state of one node."""

    index: int
    kind: int
    present: dict[int, Lot]  # every lot physically here: queued, in service or held
    # Lots that no route takes: offered again on the next day that a lever may open one.
    held: list[Lot] = field(default_factory=list)
    reoffer_scheduled: bool = False
    # Lots that an open route had no room for: offered again, first come first served,
    # when the routes' capacity renews (the next day).
    waiting_for_room: deque[Lot] = field(default_factory=deque)
    room_scheduled: bool = False
    store: simpy.Store | None = None  # per-lot mode with stores: the queue servers pull from
    waiting: list[Lot] | None = None  # shipment mode: what the next batch takes
    processor: Any = None  # per-lot mode: the node's queue and servers


@dataclass(frozen=True)
class EngineOutput:
    ledger: Ledger
    receipts: Receipts
    melts: Melts
    stock_kg_by_node: tuple[float, ...]
    in_transit_kg: float
    fuel_premium_usd: float
    lots: int
    # (month of the run from 0, node, kg) of each reserve at the end of each month.
    reserve_levels: tuple[tuple[int, int, float], ...] = ()
    # (month, node, USD a kg, margin USD a kg, output factor) on the first of each month.
    prices: tuple[tuple[int, int, float, float, float], ...] = ()
    # With the books kept: USD each node earned by (month, node), and the terms of the
    # identity they meet: rents = exports - production - transport + books unsold.
    rents: tuple[tuple[int, int, float], ...] = ()
    # (month, partner, kg sent to it, its appetite) of each partner with an appetite.
    appetite: tuple[tuple[int, int, float, float], ...] = ()
    # With papers on lots: (month, reporter, partner, flow, HS code, declared origin, kg,
    # USD) of the customs records, and (month, partner, outcome, kg, USD) of due diligence.
    trade: tuple[tuple, ...] = ()
    diligence: tuple[tuple, ...] = ()
    production_cost_usd: float = 0.0
    transport_usd: float = 0.0
    unsold_book_usd: float = 0.0


def sampler(dist: Duration, rng: np.random.Generator) -> Callable[[], float]:
    """A function that draws one duration in days from a compiled distribution."""
    p = dist.params
    if dist.kind == "fixed":
        value = p[0]
        return lambda: value
    if dist.kind == "exponential":
        return partial(rng.exponential, p[0])
    if dist.kind == "lognormal":
        mean, cv = p
        if cv == 0:
            return lambda: mean
        sigma = math.sqrt(math.log1p(cv**2))
        return partial(rng.lognormal, math.log(mean) - sigma**2 / 2, sigma)
    if dist.kind == "triangular":
        low, mode, high = p
        if low == high:
            return lambda: low
        return partial(rng.triangular, low, mode, high)
    return partial(rng.uniform, p[0], p[1])
