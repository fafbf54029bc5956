"""What every instrument driver shares: its role, its address, and clear errors."""

from __future__ import annotations

import abc
from typing import Any


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
