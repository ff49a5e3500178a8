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

    def __init__(self) -> None:
        self.day = array("d")
        self.event = array("b")
        self.lot = array("q")
        self.node = array("i")
        self.route = array("i")
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
                "day": _view(self.day, np.float64),
                "event": pd.Categorical.from_codes(_view(self.event, np.int8), categories=EVENTS),
                "lot": _view(self.lot, np.int64),
                "node": pd.Categorical.from_codes(_view(self.node, np.int32), categories=node_ids),
                "route": pd.Categorical.from_codes(
                    _view(self.route, np.int32), categories=route_ids
                ),
                "kg": _view(self.kg, np.float64),
                "usd": usd,
            },
            copy=False,
        )


def _view(column: array, dtype: type) -> np.ndarray:
    return np.frombuffer(column, dtype=dtype) if len(column) else np.zeros(0, dtype=dtype)


class Receipts:
    """What partners and refiners received, split by origin category.

    One row per received lot and origin category (jurisdiction x legal status
    of the mine), with ``touched`` set when that gold passed through an entity
    designated under a sanctions regime while it applied, and
    ``sanctioned_jurisdiction`` set when the category's jurisdiction was under
    sanctions on the day of receipt. Typed columns, like the ledger.
    """

    __slots__ = ("category", "day", "kg", "lot", "node", "sanctioned", "touched", "usd")

    def __init__(self) -> None:
        self.day = array("d")
        self.node = array("i")
        self.lot = array("q")
        self.category = array("i")
        self.touched = array("b")
        self.kg = array("d")
        self.usd = array("d")
        self.sanctioned = array("b")

    def add(
        self,
        day: float,
        node: int,
        lot: int,
        category: int,
        touched: bool,
        kg: float,
        usd: float,
        sanctioned: bool,
    ) -> None:
        self.day.append(day)
        self.node.append(node)
        self.lot.append(lot)
        self.category.append(category)
        self.touched.append(touched)
        self.kg.append(kg)
        self.usd.append(usd)
        self.sanctioned.append(sanctioned)

    def to_frame(self, node_ids: tuple[str, ...]) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "day": _view(self.day, np.float64),
                "node": pd.Categorical.from_codes(_view(self.node, np.int32), categories=node_ids),
                "lot": _view(self.lot, np.int64),
                "category": _view(self.category, np.int32).astype(np.int64),
                "touched_designated_entity": _view(self.touched, np.int8) != 0,
                "kg": _view(self.kg, np.float64),
                "usd": _view(self.usd, np.float64),
                "sanctioned_jurisdiction": _view(self.sanctioned, np.int8) != 0,
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
