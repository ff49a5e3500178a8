"""The ledger: every movement of mass, once, in columnar buffers.

Rows are packed into a small buffer during a run, moved into typed columns once a
simulated week (a few bytes a row, no Python object per row), and turned into a
DataFrame once, at the end.
"""

from __future__ import annotations

import struct
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
    "laundered",  # a node re-papered a lot as its own (mass unchanged)
)
(
    OPENING, PRODUCED, SHIPPED, DELIVERED, EXPORTED, SEIZED, LOST, REFUSED, RELEASED, LAUNDERED
) = range(len(EVENTS))  # fmt: skip
EVENT_BITS = 4  # room for 16 kinds of event in a row's code
EVENT_MASK = (1 << EVENT_BITS) - 1
REPLICATION_TYPE = np.int32  # up to flowsim.limits.MAX_REPLICATIONS


class Ledger:
    """Rows of (day, event, lot, node, route, kg, usd) in typed columns.

    Event, node and route of a row are packed into one integer, its ``code``
    (:meth:`code_of`): the engine computes the few codes a route or a node
    writes once. The hot path packs each row into a small buffer with one call
    (:mod:`struct`: one C call a row, where appending to seven columns takes
    seven); :meth:`flush`, which the engine calls once a simulated week, unpacks
    the buffer into the columns. A row then takes 31 to 37 bytes, the codes of
    event, node and route in the integer types of their Categoricals, which
    :meth:`to_frame` makes without a copy.
    """

    __slots__ = (
        "_buffer",
        "_rows",
        "day",
        "event",
        "kg",
        "lot",
        "node",
        "node_bits",
        "record",
        "record_valued",
        "route",
        "usd",
    )

    def __init__(self, nodes: int = 2**20, routes: int = 2**20) -> None:
        # Node and route are packed plus one, so that -1 (none) packs as 0.
        self.node_bits = (nodes + 1).bit_length()
        bits = EVENT_BITS + self.node_bits + (routes + 1).bit_length()
        wide = bits >= 32
        self.day = array("d")
        self.event = array("b")
        self.lot = array("i")  # a run makes at most 100 million lots (flowsim.checks)
        self.node = array(code_type(nodes))
        self.route = array(code_type(routes))
        self.kg = array("d")
        self.usd = array("d")
        # The buffer's row: day, code, lot, kg, usd, little-endian and unpadded.
        self._rows = np.dtype(
            [("day", "<f8"), ("code", "<i8" if wide else "<i4"), ("lot", "<i4"), ("kg", "<f8"),
             ("usd", "<f8")]
        )  # fmt: skip
        self._buffer = bytearray()
        pack = struct.Struct("<dqidd" if wide else "<diidd").pack
        extend = self._buffer.extend

        def record(d: float, c: int, lt: int, k: float) -> None:
            """Append one row: ``record(day, code, lot, kg)``."""
            extend(pack(d, c, lt, k, 0.0))

        def record_valued(d: float, c: int, lt: int, k: float, u: float) -> None:
            """Append one row with a USD value (an export)."""
            extend(pack(d, c, lt, k, u))

        self.record = record
        self.record_valued = record_valued

    def code_of(self, event: int, node: int, route: int) -> int:
        """The packed (event, node, route) of a row; -1 for no node or no route."""
        return event | (node + 1) << EVENT_BITS | (route + 1) << (EVENT_BITS + self.node_bits)

    def flush(self) -> None:
        """Move the rows packed since the last flush into the columns, the codes unpacked."""
        if not self._buffer:
            return
        # A copy to read from: an array that looked at the buffer itself would keep it from
        # being emptied for as long as anything held it (a profiler's sampled frame, say).
        packed = np.frombuffer(bytes(self._buffer), dtype=self._rows)
        code = packed["code"]
        node_mask = (1 << self.node_bits) - 1
        unpacked = (
            (self.event, code & EVENT_MASK),
            (self.node, ((code >> EVENT_BITS) & node_mask) - 1),
            (self.route, (code >> (EVENT_BITS + self.node_bits)) - 1),
        )
        for column, values in unpacked:
            _append(column, values)
        for name in ("day", "lot", "kg", "usd"):
            _append(getattr(self, name), packed[name])
        self._buffer.clear()

    def add(
        self, day: float, event: int, lot: int, node: int, route: int, kg: float, usd: float = 0.0
    ) -> None:
        """Append a row given by its parts (off the hot path)."""
        if usd:
            self.record_valued(day, self.code_of(event, node, route), lot, kg, usd)
        else:
            self.record(day, self.code_of(event, node, route), lot, kg)

    def __len__(self) -> int:
        return len(self.day) + len(self._buffer) // self._rows.itemsize

    def codes(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The event, node and route codes of every row (-1 for none), in the integer
        types of their Categoricals, sharing the ledger's memory."""
        self.flush()
        return _view(self.event), _view(self.node), _view(self.route)

    def to_frame(
        self, node_ids: tuple[str, ...], route_ids: tuple[str, ...], replication: int = 0
    ) -> pd.DataFrame:
        """Columns: replication, day, event, lot, node, route, kg, usd; node and route
        are categorical ids, missing where a row has none (a seizure in transit has a
        route and no node). Every column but the replication shares the ledger's memory."""
        event, node, route = self.codes()
        return pd.DataFrame(
            {
                "replication": np.full(len(event), replication, dtype=REPLICATION_TYPE),
                "day": _view(self.day),
                "event": pd.Categorical.from_codes(event, categories=EVENTS),
                "lot": _view(self.lot),
                "node": pd.Categorical.from_codes(node, categories=node_ids),
                "route": pd.Categorical.from_codes(route, categories=route_ids),
                "kg": _view(self.kg),
                "usd": _view(self.usd),
            },
            copy=False,
        )


def _append(column: array, values: np.ndarray) -> None:
    """Append ``values`` to ``column``, in the column's type."""
    typed = np.ascontiguousarray(values, dtype=np.dtype(column.typecode))
    column.frombytes(typed.view(np.uint8))


def _move(buffer: bytearray, rows: np.dtype, columns: tuple[array, ...]) -> None:
    """Append the packed rows of ``buffer`` to ``columns`` (one per field of ``rows``),
    and empty it."""
    if not buffer:
        return
    packed = np.frombuffer(bytes(buffer), dtype=rows)  # a copy, as in Ledger.flush
    for name, column in zip(rows.names, columns, strict=True):
        _append(column, packed[name])
    buffer.clear()


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
    designated under a sanctions regime while it applied,
    ``sanctioned_jurisdiction`` set when the category's jurisdiction was under
    sanctions on the day of receipt, ``first_destination`` the partner a hub bought
    it from (-1: none), and ``papers_clean`` set when its papers, as the receiver
    saw them, showed legal gold that touched no one designated. Typed columns, like
    the ledger.
    """

    __slots__ = (
        "_buffer",
        "_rows",
        "add",
        "category",
        "clean",
        "day",
        "kg",
        "lot",
        "node",
        "sanctioned",
        "touched",
        "usd",
        "via",
    )

    def __init__(self, nodes: int = 2**20, categories: int = 2**20) -> None:
        node_type, category_type = code_type(nodes), code_type(categories)
        self.day = array("d")
        self.node = array(node_type)
        self.lot = array("i")
        self.category = array(category_type)
        self.touched = array("b")
        self.kg = array("d")
        self.usd = array("d")
        self.sanctioned = array("b")
        self.via = array(node_type)
        self.clean = array("b")
        # Rows are packed into a buffer with one call, and moved into the columns by
        # flush (as the ledger's are).
        self._rows = np.dtype(
            [("day", "<f8"), ("node", "<" + node_type), ("lot", "<i4"),
             ("category", "<" + category_type), ("touched", "<i1"), ("kg", "<f8"),
             ("usd", "<f8"), ("sanctioned", "<i1"), ("via", "<" + node_type),
             ("clean", "<i1")]
        )  # fmt: skip
        self._buffer = bytearray()
        pack = struct.Struct(f"<d{node_type}i{category_type}?dd?{node_type}?").pack
        extend = self._buffer.extend

        def add(
            d: float, n: int, lt: int, c: int, t: bool, k: float, u: float, s: bool,
            v: int = -1, p: bool = False,
        ) -> None:  # fmt: skip
            """``add(day, node, lot, category, touched, kg, usd, sanctioned, via, clean)``:
            one row."""
            extend(pack(d, n, lt, c, t, k, u, s, v, p))

        self.add = add

    def flush(self) -> None:
        """Move the rows packed since the last flush into the columns."""
        columns = (self.day, self.node, self.lot, self.category, self.touched, self.kg,
                   self.usd, self.sanctioned, self.via, self.clean)  # fmt: skip
        _move(self._buffer, self._rows, columns)

    def __len__(self) -> int:
        return len(self.day) + len(self._buffer) // self._rows.itemsize

    def to_frame(self, node_ids: tuple[str, ...], replication: int = 0) -> pd.DataFrame:
        """One row per receipt and origin category; every column but the replication
        shares the receipts' memory."""
        self.flush()
        return pd.DataFrame(
            {
                "replication": np.full(len(self.day), replication, dtype=REPLICATION_TYPE),
                "day": _view(self.day),
                "node": pd.Categorical.from_codes(_view(self.node), categories=node_ids),
                "lot": _view(self.lot),
                "category": _view(self.category),
                "touched_designated_entity": _view(self.touched).view(np.bool_),
                "kg": _view(self.kg),
                "usd": _view(self.usd),
                "sanctioned_jurisdiction": _view(self.sanctioned).view(np.bool_),
                "first_destination": pd.Categorical.from_codes(
                    _view(self.via), categories=node_ids
                ),
                "papers_clean": _view(self.clean).view(np.bool_),
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

    def to_frame(self, node_ids: tuple[str, ...], replication: int = 0) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "replication": np.full(len(self.day), replication, dtype=REPLICATION_TYPE),
                "day": np.frombuffer(self.day, dtype=np.float64).copy(),
                "node": pd.Categorical.from_codes(
                    np.frombuffer(self.node, dtype=np.int32).astype(np.int64), categories=node_ids
                ),
                "batch": np.frombuffer(self.batch, dtype=np.int64).copy(),
                "lot": np.frombuffer(self.lot, dtype=np.int64).copy(),
                "kg": np.frombuffer(self.kg, dtype=np.float64).copy(),
            }
        )
