"""The ledger: every movement of mass, once, in columnar buffers.

Rows are appended to typed arrays during a run (a few bytes a row, no Python
object per row) and turned into a DataFrame once, at the end.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable

import numpy as np
import pandas as pd

__all__ = ["EVENTS", "Ledger", "Melts", "Receipts"]

# The order is the stored code; append new kinds at the end only.
EVENTS = (
    "opening_stock",  # gold already at a node when the run starts
    "produced",  # a mine produced a lot
    "shipped",  # a lot left a node onto a route
    "delivered",  # a lot arrived at a buyer or refiner (or back at its sender)
    "exported",  # a partner took a lot
    "seized",  # mass taken out of the flow, in transit or from a node's stock
    "lost",  # mass lost in processing
    "refused",  # a partner turned a lot back; it travels back to its sender
    "released",  # a seizure undone by corruption; the lot goes on
)
OPENING, PRODUCED, SHIPPED, DELIVERED, EXPORTED, SEIZED, LOST, REFUSED, RELEASED = range(
    len(EVENTS)
)


class Ledger:
    """Rows of (day, event, lot, node, route, kg), one typed array per column,
    and the USD value of the rows that have one (exports) on the side.

    Typed columns take about 33 bytes a row, and become DataFrame columns
    without a copy.
    """

    __slots__ = ("day", "event", "kg", "lot", "node", "record", "route", "usd", "usd_row")

    def __init__(self, nodes: int = 2**31 - 1, routes: int = 2**31 - 1) -> None:
        self.day = array("d")
        self.event = array("b")
        self.lot = array("i")  # a run makes at most 100 million lots (flowsim.checks)
        self.node = array(code_type(nodes))
        self.route = array(code_type(routes))
        self.kg = array("d")
        self.usd_row = array("q")
        self.usd = array("d")
        self.record = self._recorder()

    def _recorder(self) -> Callable[[float, int, int, int, int, float], None]:
        """``record(day, event, lot, node, route, kg)`` appends one row; the engine's hot
        path calls it, with the appends bound once."""
        day, event, lot = self.day.append, self.event.append, self.lot.append
        node, route, kg = self.node.append, self.route.append, self.kg.append

        def record(d: float, e: int, lt: int, n: int, r: int, k: float) -> None:
            day(d)
            event(e)
            lot(lt)
            node(n)
            route(r)
            kg(k)

        return record

    def add(
        self, day: float, event: int, lot: int, node: int, route: int, kg: float, usd: float = 0.0
    ) -> None:
        self.record(day, event, lot, node, route, kg)
        if usd:
            self.value(usd)

    def value(self, usd: float) -> None:
        """Give the row just added its USD value."""
        self.usd_row.append(len(self.day) - 1)
        self.usd.append(usd)

    def __len__(self) -> int:
        return len(self.day)

    def to_frame(self, node_ids: tuple[str, ...], route_ids: tuple[str, ...]) -> pd.DataFrame:
        """Columns: day, event, lot, node, route, kg, usd; node and route are
        categorical ids, missing where a row has none (a seizure in transit
        has a route and no node). Day, lot and kg share the ledger's memory."""
        usd = np.zeros(len(self.day))
        usd[np.frombuffer(self.usd_row, dtype=np.int64)] = np.frombuffer(self.usd, dtype=np.float64)
        return pd.DataFrame(
            {
                "day": _view(self.day),
                "event": pd.Categorical.from_codes(_view(self.event), categories=EVENTS),
                "lot": _view(self.lot),
                "node": pd.Categorical.from_codes(_view(self.node), categories=node_ids),
                "route": pd.Categorical.from_codes(_view(self.route), categories=route_ids),
                "kg": _view(self.kg),
                "usd": usd,
            },
            copy=False,
        )


def _view(column: array) -> np.ndarray:
    """The column as a numpy array sharing its memory."""
    dtype = np.dtype(column.typecode)
    return np.frombuffer(column, dtype=dtype) if len(column) else np.zeros(0, dtype=dtype)


def code_type(categories: int) -> str:
    """The array typecode of the smallest signed integer pandas uses for the codes of
    that many categories (with -1 for missing): the codes then become a Categorical
    without a copy, at 1 or 2 bytes a row on most networks."""
    if categories < 2**7:
        return "b"
    if categories < 2**15:
        return "h"
    return "i"


class Receipts:
    """What partners and refiners received, split by origin category.

    One row per received lot and origin category (jurisdiction x legal status
    of the mine), with ``touched`` set when that gold passed through an entity
    designated under a sanctions regime while it applied, and
    ``sanctioned_jurisdiction`` set when the category's jurisdiction was under
    sanctions on the day of receipt. Typed columns, like the ledger.
    """

    __slots__ = ("add", "category", "day", "kg", "lot", "node", "sanctioned", "touched", "usd")

    def __init__(self, nodes: int = 2**31 - 1) -> None:
        self.day = array("d")
        self.node = array(code_type(nodes))
        self.lot = array("i")
        self.category = array("i")
        self.touched = array("b")
        self.kg = array("d")
        self.usd = array("d")
        self.sanctioned = array("b")
        self.add = self._recorder()

    def _recorder(self) -> Callable[[float, int, int, int, bool, float, float, bool], None]:
        """``add(day, node, lot, category, touched, kg, usd, sanctioned)`` appends one
        row; called once or twice a lot, so the appends are bound once."""
        day, node, lot = self.day.append, self.node.append, self.lot.append
        category, touched, kg = self.category.append, self.touched.append, self.kg.append
        usd, sanctioned = self.usd.append, self.sanctioned.append

        def add(d: float, n: int, lt: int, c: int, t: bool, k: float, u: float, s: bool) -> None:
            day(d)
            node(n)
            lot(lt)
            category(c)
            touched(t)
            kg(k)
            usd(u)
            sanctioned(s)

        return add

    def to_frame(self, node_ids: tuple[str, ...]) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "day": _view(self.day),
                "node": pd.Categorical.from_codes(_view(self.node), categories=node_ids),
                "lot": _view(self.lot),
                "category": _view(self.category).astype(np.int64),
                "touched_designated_entity": _view(self.touched).view(np.bool_),
                "kg": _view(self.kg),
                "usd": _view(self.usd),
                "sanctioned_jurisdiction": _view(self.sanctioned).view(np.bool_),
            },
            copy=False,
        )


class Melts:
    """Lots melted together at a refiner: which went into which batch."""

    __slots__ = ("batch", "day", "kg", "lot", "node")

    def __init__(self) -> None:
        self.day = array("d")
        self.node = array("i")
        self.batch = array("q")
        self.lot = array("q")
        self.kg = array("d")

    def add(self, day: float, node: int, batch: int, lot: int, kg: float) -> None:
        self.day.append(day)
        self.node.append(node)
        self.batch.append(batch)
        self.lot.append(lot)
        self.kg.append(kg)

    def to_frame(self, node_ids: tuple[str, ...]) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "day": np.frombuffer(self.day, dtype=np.float64).copy(),
                "node": pd.Categorical.from_codes(
                    np.frombuffer(self.node, dtype=np.int32).astype(np.int64), categories=node_ids
                ),
                "batch": np.frombuffer(self.batch, dtype=np.int64).copy(),
                "lot": np.frombuffer(self.lot, dtype=np.int64).copy(),
                "kg": np.frombuffer(self.kg, dtype=np.float64).copy(),
            }
        )
