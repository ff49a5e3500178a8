"""The ledger and the receipts: rows packed into a buffer, moved into columns by flush."""

from __future__ import annotations

import numpy as np
import pytest

from flowsim.ledger import DELIVERED, EXPORTED, PRODUCED, Ledger, Receipts


@pytest.mark.parametrize("size", [8, 2**20], ids=["narrow codes", "wide codes"])
def test_rows_read_back_the_same_whatever_the_flushes(size):
    """Rows come out of to_frame in the order written, with their values, whether they
    were moved into the columns in several flushes or none."""
    nodes = [f"n{i}" for i in range(size)] if size < 100 else None
    ledger = Ledger(size, size)
    written = []
    for k in range(25):
        node, route = k % 7, (k * 3) % 5
        event = (PRODUCED, DELIVERED, EXPORTED)[k % 3]
        usd = 10.0 * k if event == EXPORTED else 0.0
        day, kg = k / 3, 1.0 + k / 7
        code = ledger.code_of(event, node, route)
        if usd:
            ledger.record_valued(day, code, k, kg, usd)
        else:
            ledger.record(day, code, k, kg)
        written.append((day, event, k, node, route, kg, usd))
        if k % 9 == 4:
            ledger.flush()
        assert len(ledger) == k + 1
    event, node, route = ledger.codes()
    assert list(event) == [row[1] for row in written]
    assert list(node) == [row[3] for row in written]
    assert list(route) == [row[4] for row in written]
    if nodes is not None:
        frame = ledger.to_frame(tuple(nodes), tuple(f"r{i}" for i in range(size)))
        assert list(frame["lot"]) == list(range(25))
        assert np.array_equal(frame["day"], [row[0] for row in written])
        assert np.array_equal(frame["kg"], [row[5] for row in written])
        assert np.array_equal(frame["usd"], [row[6] for row in written])
        assert list(frame["node"]) == [f"n{row[3]}" for row in written]
    assert ledger._rows["code"].itemsize == (4 if size < 100 else 8)


def test_receipts_read_back_the_same_whatever_the_flushes():
    receipts = Receipts(300)  # node codes in two bytes
    rows = [
        (k / 2, k % 300, k, k % 4, k % 2 == 0, 0.5 * k, 3.0 * k, k % 3 == 0, k % 5 - 1, k % 7 == 0)
        for k in range(40)
    ]
    for k, row in enumerate(rows):
        receipts.add(*row)
        if k % 11 == 3:
            receipts.flush()
        assert len(receipts) == k + 1
    frame = receipts.to_frame(tuple(f"n{i}" for i in range(300)))
    assert np.array_equal(frame["day"], [r[0] for r in rows])
    assert list(frame["node"]) == [f"n{r[1]}" for r in rows]
    assert list(frame["lot"]) == [r[2] for r in rows]
    assert list(frame["category"]) == [r[3] for r in rows]
    assert list(frame["touched_designated_entity"]) == [r[4] for r in rows]
    assert np.array_equal(frame["kg"], [r[5] for r in rows])
    assert np.array_equal(frame["usd"], [r[6] for r in rows])
    assert list(frame["sanctioned_jurisdiction"]) == [r[7] for r in rows]
    assert [v if isinstance(v, str) else None for v in frame["first_destination"]] == [
        f"n{r[8]}" if r[8] >= 0 else None for r in rows
    ]
    assert list(frame["papers_clean"]) == [r[9] for r in rows]


def test_a_flush_survives_arrays_it_made_being_held_elsewhere(monkeypatch):
    """A profiler that samples frames (Dask's workers run one) can hold the arrays a flush
    reads for a moment after it returns; the buffer must still empty and refill."""
    import flowsim.ledger as ledger_module

    held = []
    append = ledger_module._append

    def holding(column, values):
        held.append(values)  # as a sampled frame would keep it
        append(column, values)

    monkeypatch.setattr(ledger_module, "_append", holding)
    ledger = ledger_module.Ledger(3, 2)
    for flush in range(2):
        for k in range(10):
            ledger.record(float(k), ledger.code_of(0, 1, 0), 10 * flush + k, 1.0)
        ledger.flush()
    assert len(ledger) == 20 and held
