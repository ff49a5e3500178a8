"""Validity tests: put the parent ``tests/`` folder on ``sys.path`` so that
``from networks import ...`` and ``from test_properties import ...`` work here."""

from __future__ import annotations

import sys
from pathlib import Path

TESTS = str(Path(__file__).resolve().parent.parent)
if TESTS not in sys.path:
    sys.path.insert(0, TESTS)
