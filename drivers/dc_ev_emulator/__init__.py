"""DC EV emulator role: plays the car on a CCS connector (pilot, DIN 70121 / ISO 15118-2, load).

The abstract interface lives in :mod:`drivers.dc_ev_emulator.base`; one module per model
(``hil_dcev`` for the lab's reference emulator, SCPI over TCP as in
docs/dc-ev-emulator-protocol.md). Importing this package is cheap: pyvisa is imported only
when a driver opens its connection.
"""

from drivers.dc_ev_emulator.base import (
    FAULT_KINDS,
    MESSAGES,
    PILOT_STATES,
    PROTOCOLS,
    SESSION_STATES,
    Battery,
    DcEvEmulator,
    EvLimits,
    PresentValues,
    SessionStatus,
    TraceRecord,
)

__all__ = [
    "FAULT_KINDS",
    "MESSAGES",
    "PILOT_STATES",
    "PROTOCOLS",
    "SESSION_STATES",
    "Battery",
    "DcEvEmulator",
    "EvLimits",
    "PresentValues",
    "SessionStatus",
    "TraceRecord",
]
