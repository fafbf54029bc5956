"""An RFID reader that takes tags over the ``PRESENT <idTag>`` line protocol ("virtual").

The virtual station's reader serves this protocol on a ``socket://`` URL; a tag emulator box
with a serial port could speak it too (docs/ev-simulator-protocol.md, "RFID reader").
"""

from __future__ import annotations

from typing import Any

from drivers.identification.base import Identification
from drivers.serial_line import LineDevice, reject_unknown_options


class LineRfidReader(LineDevice, Identification):
    """Options: ``baudrate`` (115200; ignored on ``socket://``), ``timeout`` (s, 1.0)."""

    def __init__(
        self, address: str, *, baudrate: int = 115200, timeout: float = 1.0, **unknown: Any
    ) -> None:
        super().__init__(address, baudrate=baudrate, timeout=timeout)
        reject_unknown_options(self, unknown, "baudrate, timeout")
        self._attach_link(baudrate, timeout)

    def present(self, tag: str) -> None:
        if not tag or not tag.isascii() or any(c.isspace() for c in tag):
            raise ValueError(f"idTag must be non-empty ASCII without spaces, got {tag!r}")
        self._link.command(f"PRESENT {tag}")
