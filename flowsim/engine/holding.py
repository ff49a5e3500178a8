"""Lots that no route takes now: where they wait, and when they are offered again.

The engine's side of holding (:class:`Holding`, a base of
:class:`~flowsim.engine.core.Engine`): whether a route leads somewhere that will take
a lot (room aside), and, when none does, keeping the lot at its node until the next
day a lever may open a route, or, when an open route was only full, until the routes'
daily capacity renews. Held lots wait for those events; nothing retries them on a
clock.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import simpy

from flowsim.lots import Lot
from flowsim.network import PARTNER

if TYPE_CHECKING:
    from flowsim.engine.state import Site
    from flowsim.levers import Levers
    from flowsim.network import Network

__all__ = ["Holding"]


class Holding:
    """Holding lots and judging routes open: the part of an engine that decides what
    waits. It reads the engine's network, levers, sites and clock."""

    network: Network
    policy: Levers
    env: simpy.Environment
    sites: list[Site]
    horizon: float
    reopen_days: Sequence[float]
    _out: Sequence[Sequence[int]]
    _room_on: list[Callable[[simpy.Event], None]]
    _reoffer_on: list[Callable[[simpy.Event], None]]
    _reach_cache: dict[tuple[int, int], bool]
    _reach_epoch: int
    _launders: list[bool]
    _keep: Callable[[Lot, int, float], None]

    def dispatch(self, lot: Lot, i: int) -> None:
        raise NotImplementedError

    def _hold(self, lot: Lot, i: int, day: float, for_room: bool | None = None) -> None:
        """Keep ``lot`` at node ``i``: until the routes have room again if an open route
        was full (``for_room``), else until the next day a lever may open a route."""
        site = self.sites[i]
        if site.kind == PARTNER:  # a hub that can sell it on nowhere keeps it
            self._keep(lot, i, day)
            return
        site.present[lot.id] = lot
        if for_room is None:
            for_room = any(self._route_open(r, lot, day) for r in self._out[i])
        if for_room:
            site.waiting_for_room.append(lot)
            if not site.room_scheduled:
                renewed = math.floor(day) + 1.0  # daily capacities renew at midnight
                if renewed < self.horizon:
                    site.room_scheduled = True
                    self.env.timeout(renewed - day).callbacks.append(self._room_on[i])
            return
        site.held.append(lot)
        if not site.reoffer_scheduled:
            k = bisect_right(self.reopen_days, day)
            if k < len(self.reopen_days) and self.reopen_days[k] < self.horizon:
                site.reoffer_scheduled = True
                reopen = self.reopen_days[k]
                self.env.timeout(reopen - day).callbacks.append(self._reoffer_on[i])

    def _reoffer_held(self, i: int, event: simpy.Event) -> None:
        """A day on which a lever may have opened a route: offer the held lots again."""
        site = self.sites[i]
        site.reoffer_scheduled = False
        waiting, site.held = site.held, []
        for lot in waiting:
            del site.present[lot.id]
            self.dispatch(lot, i)

    def _offer_room(self, i: int, event: simpy.Event) -> None:
        """The routes' capacity has renewed: send the lots that waited for room, in the
        order they came, until one finds no room again; the rest wait behind it."""
        site = self.sites[i]
        site.room_scheduled = False
        queue = site.waiting_for_room
        while queue:
            lot = queue.popleft()
            del site.present[lot.id]
            self.dispatch(lot, i)
            if queue and queue[-1] is lot:  # no room again: it keeps its place in line
                queue.pop()
                queue.appendleft(lot)
                break

    def _route_open(self, r: int, lot: Lot, day: float) -> bool:
        """Whether route ``r`` leads where ``lot`` is taken, room aside."""
        target = self.network.route_target[r]
        if self.sites[target].kind == PARTNER:
            if target in lot.refused_by:
                return False
            return not (lot.seen and self.policy.refusal(target, lot.seen, day)[0] >= 1.0)
        if self.policy.capacity_factor(target, day) <= 0.0:
            return False
        if self.policy.has_sanctions:
            return self._can_export(target, lot.seen, day)
        return True

    def _can_export(self, node: int, taint: int, day: float) -> bool:
        """Whether some path from ``node`` ends at a partner that would take gold
        with this taint on its papers under the sanctions in force today. A node that
        re-papers gold may clear its papers of what it touched before."""
        epoch = self.policy.sanctions_epoch(day)
        if epoch != self._reach_epoch:
            self._reach_cache.clear()
            self._reach_epoch = epoch
        key = (node, taint)
        found = self._reach_cache.get(key)
        if found is None:
            before = 0 if self._launders[node] else taint
            taint_here = before | self.policy.node_taint_now(node, day)
            found = False
            for r in self.network.out_routes[node]:
                target = self.network.route_target[r]
                if self.sites[target].kind == PARTNER:
                    found = self.policy.refusal(target, taint_here, day)[0] < 1.0
                else:
                    found = self._can_export(target, taint_here, day)
                if found:
                    break
            self._reach_cache[key] = found
        return found
