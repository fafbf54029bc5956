"""Driver for the lab's reference EV simulator ("hil-evsim").

Speaks the ASCII line protocol of docs/ev-simulator-protocol.md (115200 8N1, ``\\n``
terminated, one reply line per command) over any pyserial URL: a USB serial adapter
(``/dev/ttyUSB0``), a terminal server (``socket://host:port``, ``rfc2217://host:port``) or
the virtual bench's simulator (a pty or ``socket://127.0.0.1:<port>``).
"""

from __future__ import annotations

from typing import Any

from drivers.ev_simulator.base import EvSimulator, PilotReading
from drivers.serial_line import LineDevice, reject_unknown_options

_PILOT_STATES = ("A", "B", "C", "D", "E", "F")
_FAULT_WORDS = {"E": "E", "diode": "DIODE", "F": "F", None: "NONE"}


class HilEvSim(LineDevice, EvSimulator):
    """The reference EV simulator. Options: ``baudrate`` (115200), ``timeout`` (s, 1.0)."""

    def __init__(
        self, address: str, *, baudrate: int = 115200, timeout: float = 1.0, **unknown: Any
    ) -> None:
        super().__init__(address, baudrate=baudrate, timeout=timeout)
        reject_unknown_options(self, unknown, "baudrate, timeout")
        if timeout <= 0:
            raise self.error(f"option timeout must be > 0 s, got {timeout!r}")
        self._attach_link(baudrate, timeout)

    def identify(self) -> str:
        idn = super().identify()
        if idn.count(",") != 3:
            raise self.error(f"*IDN? answered {idn!r}, expected maker,model,serial,firmware")
        return idn

    def reset(self) -> None:
        """Back to power-up defaults: state A, no fault, cable 32 A, EV 32 A on 3 phases."""
        self._link.command("*RST")

    # -- primitives ------------------------------------------------------------------------

    def _set_state(self, state: str) -> None:
        self._link.command(f"STATE {state}")

    def _set_fault(self, kind: str | None) -> None:
        self._link.command(f"FAULT {_FAULT_WORDS[kind]}")

    def _set_cable_rating(self, amps: float) -> None:
        self._link.command(f"CABLE {amps:g}")

    def _set_ev_limits(self, max_current_a: float | None, phases: int | None) -> None:
        if max_current_a is not None:
            self._link.command(f"EVLIMIT {max_current_a:.1f}")
        if phases is not None:
            self._link.command(f"PHASES {phases}")

    def _read_pilot(self) -> PilotReading:
        reply = self._link.query("PILOT?")
        try:
            fields = dict(part.split("=", 1) for part in reply.split())
            state = fields["STATE"]
            duty_text = fields["DUTY"]
            duty = None if duty_text == "NONE" else float(duty_text)
            current = float(fields["CURRENT"])
        except (KeyError, ValueError):
            raise self.error(
                f"garbage reply to 'PILOT?': {reply!r} "
                "(expected STATE=<A-F> DUTY=<percent|NONE> CURRENT=<amps>)"
            ) from None
        if state not in _PILOT_STATES or (duty is not None and not 0.0 <= duty <= 100.0):
            raise self.error(f"implausible reply to 'PILOT?': {reply!r}")
        return PilotReading(state=state, duty_percent=duty, offered_current_a=current)
