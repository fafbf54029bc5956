"""The abstract power relay: the contact the station's mains supply runs through."""

from __future__ import annotations

import abc
import time

from drivers.base import Instrument

#: How often a read-back is repeated while waiting for the contact to follow a command.
_POLL_S = 0.05


class PowerRelay(Instrument):
    """A switched outlet or relay channel feeding the station.

    Drivers implement :meth:`switch` and :meth:`is_on`; the role's behaviour (switch, then
    read back until the relay agrees, or fail naming role and address) lives here.
    """

    role = "power_relay"

    #: How long a read-back may take to agree with a command (driver option
    #: ``readback_timeout_s``): PDUs switch through a sequencer, relays have to settle.
    readback_timeout_s: float = 5.0

    @abc.abstractmethod
    def switch(self, on: bool) -> None:
        """Command the relay on or off; return once the device acknowledged the command."""

    @abc.abstractmethod
    def is_on(self) -> bool:
        """Whether the relay reads back as on (power flows to the station)."""

    def power_on(self) -> None:
        """Switch on and wait until the relay reads back on."""
        self.switch(True)
        self._wait_for(True)

    def power_off(self) -> None:
        """Switch off and wait until the relay reads back off."""
        self.switch(False)
        self._wait_for(False)

    def power_cycle(self, off_s: float = 5.0) -> None:
        """Switch off, wait until it reads back off, hold ``off_s``, switch on, read back on.

        ``off_s`` must be long enough for the station's supply capacitors to drain: a short
        dip is a brown-out, not a boot (``timings.power_off_s`` in the lab config).
        """
        if off_s < 0:
            raise ValueError(f"off_s must be >= 0, got {off_s!r}")
        self.power_off()
        time.sleep(off_s)
        self.power_on()

    def _wait_for(self, on: bool) -> None:
        wanted = "on" if on else "off"
        deadline = time.monotonic() + self.readback_timeout_s
        while True:
            state = self.is_on()
            if state == on:
                return
            if time.monotonic() >= deadline:
                raise self.error(
                    f"switched {wanted}, but the relay still reads back "
                    f"{'on' if state else 'off'} after {self.readback_timeout_s:g} s "
                    "(stuck contact, outlet locked, or a command the device ignored)"
                )
            time.sleep(_POLL_S)
