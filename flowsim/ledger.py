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
)
OPENING, PRODUCED, SHIPPED, DELIVERED, EXPORTED, SEIZED, LOST, REFUSED, RELEASED = range(
    len(EVENTS)
)
EVENT_BITS = 4  # room for 16 kinds of event in a row's code
EVENT_MASK = (1 << EVENT_BITS) - 1
UNPACK_CHUNK = 1 << 18  # rows unpacked at a time


class Ledger:
    """Rows of (day, event, lot, node, route, kg, usd) in typed columns.

    Event, node and route of a row are packed into one integer, its ``code``
    (:meth:`code_of`): the engine computes the few codes a route or a node
    writes once. The hot path packs each row into a small buffer with one call
    (:mod:`struct`: one C call a row, where appending to five columns takes five);
    :meth:`flush`, which the engine calls once a simulated week, moves the buffer
    into the columns. A row takes 32 bytes; :meth:`to_frame` unpacks the codes
    once into Categorical columns and shares the other columns' memory.
    """

    __slots__ = (
        "_buffer",
        "_rows",
        "_unpacked",
        "code",
        "day",
        "kg",
        "lot",
        "node_bits",
        "nodes",
        "record",
        "record_valued",
        "routes",
        "usd",
    )

    def __init__(self, nodes: int = 2**20, routes: int = 2**20) -> None:
        self.nodes, self.routes = nodes, routes
        # Node and route are stored plus one, so that -1 (none) packs as 0.
        self.node_bits = (nodes + 1).bit_length()
        bits = EVENT_BITS + self.node_bits + (routes + 1).bit_length()
        wide = bits >= 32
        self.day = array("d")
        self.code = array("q" if wide else "i")
        self.lot = array("i")  # a run makes at most 100 million lots (flowsim.checks)
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
        self._unpacked: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def code_of(self, event: int, node: int, route: int) -> int:
        """The packed (event, node, route) of a row; -1 for no node or no route."""
        return event | (node + 1) << EVENT_BITS | (route + 1) << (EVENT_BITS + self.node_bits)

    def flush(self) -> None:
        """Move the rows packed since the last flush into the columns."""
        _move(self._buffer, self._rows, (self.day, self.code, self.lot, self.kg, self.usd))

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

    def unpacked(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The event, node and route codes of every row (-1 for none), in the integer
        types of their Categoricals. Unpacked once: the packed codes are then freed
        (rows recorded later are packed until the next call)."""
        self.flush()
        if self._unpacked is None or len(self.code):
            new = self._unpack()
            del self.code[:]  # those rows now live unpacked: free the packed copy
            if self._unpacked is None:
                self._unpacked = new
            else:
                self._unpacked = tuple(  # type: ignore[assignment]
                    np.concatenate([old, more])
                    for old, more in zip(self._unpacked, new, strict=True)
                )
        return self._unpacked

    def _unpack(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Unpack the codes still packed, in chunks, so that the temporaries stay small."""
        codes = _view(self.code)
        event = np.empty(len(codes), dtype=np.int8)
        node = np.empty(len(codes), dtype=np.dtype(code_type(self.nodes)))
        route = np.empty(len(codes), dtype=np.dtype(code_type(self.routes)))
        node_mask = (1 << self.node_bits) - 1
        for start in range(0, len(codes), UNPACK_CHUNK):
            chunk = codes[start : start + UNPACK_CHUNK]
            rows = slice(start, start + len(chunk))
            event[rows] = chunk & EVENT_MASK
            node[rows] = ((chunk >> EVENT_BITS) & node_mask) - 1
            route[rows] = (chunk >> (EVENT_BITS + self.node_bits)) - 1
        return event, node, route

    def to_frame(self, node_ids: tuple[str, ...], route_ids: tuple[str, ...]) -> pd.DataFrame:
        """Columns: day, event, lot, node, route, kg, usd; node and route are
        categorical ids, missing where a row has none (a seizure in transit
        has a route and no node). Day, lot and kg share the ledger's memory."""
        event, node, route = self.unpacked()
        return pd.DataFrame(
            {
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


def _move(buffer: bytearray, rows: np.dtype, columns: tuple[array, ...]) -> None:
    """Append the packed rows of ``buffer`` to ``columns`` (one per field of ``rows``),
    and empty it."""
    if not buffer:
        return
    packed = np.frombuffer(buffer, dtype=rows)
    for name, column in zip(rows.names, columns, strict=True):
        column.frombytes(np.ascontiguousarray(packed[name]).view(np.uint8))
    del packed  # the buffer can be resized only once no array looks at it
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
    designated under a sanctions regime while it applied, and
    ``sanctioned_jurisdiction`` set when the category's jurisdiction was under
    sanctions on the day of receipt. Typed columns, like the ledger.
    """

    __slots__ = (
        "_buffer",
        "_rows",
        "add",
        "category",
        "day",
        "kg",
        "lot",
        "node",
        "sanctioned",
        "touched",
        "usd",
    )

    def __init__(self, nodes: int = 2**20) -> None:
        node_type = code_type(nodes)
        self.day = array("d")
        self.node = array(node_type)
        self.lot = array("i")
        self.category = array("i")
        self.touched = array("b")
        self.kg = array("d")
        self.usd = array("d")
        self.sanctioned = array("b")
        # Rows are packed into a buffer with one call, and moved into the columns by
        # flush (as the ledger's are).
        self._rows = np.dtype(
            [("day", "<f8"), ("node", "<" + node_type), ("lot", "<i4"), ("category", "<i4"),
             ("touched", "<i1"), ("kg", "<f8"), ("usd", "<f8"), ("sanctioned", "<i1")]
        )  # fmt: skip
        self._buffer = bytearray()
        pack = struct.Struct(f"<d{node_type}ii?dd?").pack
        extend = self._buffer.extend

        def add(d: float, n: int, lt: int, c: int, t: bool, k: float, u: float, s: bool) -> None:
            """``add(day, node, lot, category, touched, kg, usd, sanctioned)``: one row."""
            extend(pack(d, n, lt, c, t, k, u, s))

        self.add = add

    def flush(self) -> None:
        """Move the rows packed since the last flush into the columns."""
        columns = (self.day, self.node, self.lot, self.category, self.touched, self.kg,
                   self.usd, self.sanctioned)  # fmt: skip
        _move(self._buffer, self._rows, columns)

    def __len__(self) -> int:
        return len(self.day) + len(self._buffer) // self._rows.itemsize

    def to_frame(self, node_ids: tuple[str, ...]) -> pd.DataFrame:
        self.flush()
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
