"""EV simulator role: plugs in, sets the control-pilot state, injects faults, reads the pilot.

The abstract interface lives in :mod:`drivers.ev_simulator.base`; one module per real model
(``hil_evsim`` for the lab's reference simulator). Importing this package is cheap: pyserial
is imported only when a driver opens its port.
"""

from drivers.ev_simulator.base import (
    CABLE_RATINGS_A,
    EV_STATES,
    FAULT_KINDS,
    EvSimulator,
    PilotReading,
)

__all__ = ["CABLE_RATINGS_A", "EV_STATES", "FAULT_KINDS", "EvSimulator", "PilotReading"]
