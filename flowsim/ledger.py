"""The ledger: every movement of mass, once, in columnar buffers.

Rows are appended to typed arrays during a run (a few bytes a row, no Python
object per row) and turned into a DataFrame once, at the end.
"""

from __future__ import annotations

from array import array

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
    """Rows of (day, event, lot, node, route, kg, usd) in one flat float array.

    One ``extend`` per row is the cheapest way to keep a row in pure Python;
    lot ids and codes stay exact in a double up to 2**53.
    """

    WIDTH = 7
    __slots__ = ("rows",)

    def __init__(self) -> None:
        self.rows = array("d")

    def add(
        self, day: float, event: int, lot: int, node: int, route: int, kg: float, usd: float = 0.0
    ) -> None:
        self.rows.extend((day, event, lot, node, route, kg, usd))

    def __len__(self) -> int:
        return len(self.rows) // self.WIDTH

    def to_frame(self, node_ids: tuple[str, ...], route_ids: tuple[str, ...]) -> pd.DataFrame:
        """Columns: day, event, lot, node, route, kg, usd; node and route are
        categorical ids, missing where a row has none (a seizure in transit
        has a route and no node)."""
        table = np.frombuffer(self.rows, dtype=np.float64).reshape(-1, self.WIDTH)
        codes = table[:, 1:5].astype(np.int64)
        return pd.DataFrame(
            {
                "day": table[:, 0].copy(),
                "event": pd.Categorical.from_codes(codes[:, 0], categories=EVENTS),
                "lot": codes[:, 1],
                "node": pd.Categorical.from_codes(codes[:, 2], categories=node_ids),
                "route": pd.Categorical.from_codes(codes[:, 3], categories=route_ids),
                "kg": table[:, 5].copy(),
                "usd": table[:, 6].copy(),
            }
        )


class Receipts:
    """What partners and refiners received, split by origin category.

    One row per received lot and origin category (jurisdiction x legal status
    of the mine), with ``touched`` set when that gold passed through an entity
    designated under a sanctions regime while it applied, and
    ``sanctioned_jurisdiction`` set when the category's jurisdiction was under
    sanctions on the day of receipt. Kept, like the ledger, in one flat array.
    """

    WIDTH = 8
    __slots__ = ("rows",)

    def __init__(self) -> None:
        self.rows = array("d")

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
        self.rows.extend((day, node, lot, category, touched, kg, usd, sanctioned))

    def to_frame(self, node_ids: tuple[str, ...]) -> pd.DataFrame:
        table = np.frombuffer(self.rows, dtype=np.float64).reshape(-1, self.WIDTH)
        return pd.DataFrame(
            {
                "day": table[:, 0].copy(),
                "node": pd.Categorical.from_codes(
                    table[:, 1].astype(np.int64), categories=node_ids
                ),
                "lot": table[:, 2].astype(np.int64),
                "category": table[:, 3].astype(np.int64),
                "touched_designated_entity": table[:, 4] != 0.0,
                "kg": table[:, 5].copy(),
                "usd": table[:, 6].copy(),
                "sanctioned_jurisdiction": table[:, 7] != 0.0,
            }
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
