"""The discrete-event engine: one replication of a compiled network, in one of two modes.

:mod:`flowsim.engine.core` holds what both modes share; :mod:`~flowsim.engine.per_lot`
and :mod:`~flowsim.engine.shipments` what each does its own way. ``Engine(network,
rng)`` makes the mode the network asks for.
"""

from flowsim.engine.core import Engine, EngineOutput, sampler
from flowsim.engine.per_lot import LotEngine
from flowsim.engine.shipments import ShipmentEngine

__all__ = ["Engine", "EngineOutput", "LotEngine", "ShipmentEngine", "sampler"]
