"""The discrete-event engine: one replication of a compiled network, in one of two modes.

:mod:`flowsim.engine.core` holds what both modes share; :mod:`~flowsim.engine.per_lot`
and :mod:`~flowsim.engine.shipments` what each does its own way. :func:`make_engine`
makes the mode the network asks for.
"""

from __future__ import annotations

import numpy as np

from flowsim.choice import RouteChooser
from flowsim.engine.core import Engine, EngineOutput, sampler
from flowsim.engine.per_lot import LotEngine
from flowsim.engine.shipments import ShipmentEngine
from flowsim.network import Network

__all__ = ["Engine", "EngineOutput", "LotEngine", "ShipmentEngine", "make_engine", "sampler"]

MODES: dict[str, type[Engine]] = {"lot": LotEngine, "shipment": ShipmentEngine}


def make_engine(
    network: Network, rng: np.random.Generator, chooser: RouteChooser | None = None
) -> Engine:
    """One replication of ``network``, in the mode its ``simulation.granularity`` names."""
    return MODES[network.granularity](network, rng, chooser)
