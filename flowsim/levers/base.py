"""What a lever can do to a run, as the methods of :class:`Lever`.

Each lever module defines ``SECTION`` (its key under ``[policies]``), ``compile``,
``check``, ``describe`` and a ``Lever`` subclass that overrides the effects it has.
The defaults say "no effect", so a lever writes only what it does. Where several
levers act on one thing, :class:`~flowsim.levers.Levers` combines them in the
order of :data:`~flowsim.levers.LEVERS`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import numpy as np

    from flowsim.network import Network

__all__ = ["Lever", "LeverEvent", "StockHolder", "overrides"]


class StockHolder(Protocol):
    """What a lever may ask of the engine when one of its events happens."""

    def seize_stock(self, node: int, fraction: float) -> None: ...

    def margin(self, mine: int, day: float) -> float:
        """USD a mine earns on a kg of its doré on ``day`` (flowsim.economics)."""
        ...


class LeverEvent(Protocol):
    """Something a lever does on a day (a raid): on that day the engine asks the lever
    that made it to let it happen (:meth:`Lever.happen`)."""

    day: float


class Lever:
    """One lever in one replication; every effect defaults to none."""

    def __init__(self, tables: Any, network: Network, rng: np.random.Generator):
        self.tables = tables

    # Production at a mine: kg a day in, kg a day out.
    def may_touch_production(self, mine: int) -> bool:
        """Whether this lever may, in this replication, change ``mine``'s output at all."""
        return False

    def touches_production(self, mine: int) -> bool:
        """Whether it changes ``mine``'s output now."""
        return False

    def production(self, mine: int, kg_per_day: float, rate: float, day: float) -> float:
        """What the mine makes on ``day``, given what it would make without this lever
        (``kg_per_day``) and its nominal ``rate``."""
        return kg_per_day

    def fuel_premium_usd(self, mine: int, day: float, kg: float) -> float:
        """Extra spent to produce ``kg`` on ``day``."""
        return 0.0

    def costs_production(self, mine: int) -> bool:
        return False

    # A node's capacity.
    def may_change_capacity(self, node: int) -> bool:
        """Whether this lever may, in this replication, change ``node``'s capacity at all."""
        return False

    def capacity_changed(self, node: int) -> bool:
        """Whether it has changed ``node``'s capacity so far."""
        return False

    def capacity_factor(self, node: int, day: float) -> float:
        return 1.0

    # A route's risk.
    def may_change_seizure(self, route: int) -> bool:
        return False

    def seizure_boosts(self, route: int) -> Sequence[tuple[float, float, float]]:
        """(from day, to day, increase) of the route's seizure probability."""
        return ()

    def release_share(self, route: int, day: float) -> float | None:
        """The share of seizures corruption undoes, if this lever sets it on ``day``."""
        return None

    # Events, and the days a closed route may open.
    def events(self) -> Sequence[LeverEvent]:
        """What this lever does on given days of this replication, in order of day."""
        return ()

    def happen(self, event: LeverEvent, stock: StockHolder) -> None:
        """Let one of this lever's events happen, now."""

    def closes_routes(self) -> bool:
        """Whether this lever may close a route (then every lot's routes are filtered)."""
        return False

    def change_days(self) -> Sequence[float]:
        """The days on which a route this lever closed may open again."""
        return ()


def overrides(lever: Lever, effect: str) -> bool:
    """Whether ``lever`` has ``effect`` of its own: a lever that keeps the default is
    never asked for it."""
    return getattr(type(lever), effect) is not getattr(Lever, effect)
