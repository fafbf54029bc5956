"""What every instrument driver shares: its role, its address, and clear errors."""

from __future__ import annotations

import abc
import logging
import os
from typing import Any

#: Loggers of the libraries the drivers talk through. Their own lines ("Connection to
#: (127.0.0.1, 502) failed: [Errno 111] Connection refused" from pymodbus) only repeat,
#: second-hand and without the instrument's role, what the driver's InstrumentError says
#: ("energy_meter at modbus-tcp://...: cannot connect to ..."), and land beside it in the
#: console and the log. pysnmp logs only when its own debugging is switched on.
SECOND_HAND_LOGGERS = ("pymodbus.logging", "pyvisa")
#: Set (to anything) to keep those libraries' own log lines, e.g. to debug a driver.
KEEP_LIBRARY_LOGS_ENV = "HIL_LIBRARY_LOGS"


class _SecondHand(logging.Filter):
    """Drops a library's records below CRITICAL; the driver reports the failure itself."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.CRITICAL


_SECOND_HAND = _SecondHand()


def quiet_library_logs() -> None:
    """Filter the :data:`SECOND_HAND_LOGGERS` (a filter on those loggers only: logging as a
    whole, and the lab's own loggers, are untouched; a filter, unlike a level, survives the
    library resetting its level, e.g. ``pymodbus_apply_logging_config``). Idempotent;
    nothing is filtered when ``HIL_LIBRARY_LOGS`` is set."""
    if os.environ.get(KEEP_LIBRARY_LOGS_ENV):
        return
    for name in SECOND_HAND_LOGGERS:
        logger = logging.getLogger(name)
        if _SECOND_HAND not in logger.filters:
            logger.addFilter(_SECOND_HAND)


quiet_library_logs()  # every driver imports this module before it imports its library


class InstrumentError(RuntimeError):
    """An instrument failed; the message always names its role and address."""

    def __init__(self, role: str, address: str, reason: str) -> None:
        super().__init__(f"{role} at {address}: {reason}")
        self.role = role
        self.address = address
        self.reason = reason


class Instrument(abc.ABC):
    """Base of all drivers. ``open()`` connects, ``close()`` is safe to call twice."""

    #: the bench role, e.g. ``energy_meter``; set by each role's abstract interface
    role: str = "instrument"

    def __init__(self, address: str, **options: Any) -> None:
        self.address = address
        self.options = options

    def error(self, reason: str) -> InstrumentError:
        """An :class:`InstrumentError` naming this instrument's role and address."""
        return InstrumentError(self.role, self.address, reason)

    @abc.abstractmethod
    def open(self) -> None:
        """Connect to the instrument; raise :class:`InstrumentError` if unreachable."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release the connection; idempotent."""

    @abc.abstractmethod
    def identify(self) -> str:
        """A short identity string (model, serial, firmware) read from the instrument."""

    def __enter__(self) -> Instrument:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
