"""Draws a block at a time: one call to numpy every BLOCK draws, none in between."""

from __future__ import annotations

from collections.abc import Callable
from itertools import chain, repeat

import numpy as np

__all__ = ["BLOCK", "blocks"]

# Draws made at once: enough that a call to the generator is rare, few enough that a
# route that carries little does not hold many.
BLOCK = 256


def blocks(draw: Callable[[int], np.ndarray]) -> Callable[[], float]:
    """A function that returns the next of the draws that ``draw(BLOCK)`` makes a block
    at a time, as a float: iterators written in C, so that a draw calls no Python."""
    return chain.from_iterable(map(np.ndarray.tolist, map(draw, repeat(BLOCK)))).__next__
