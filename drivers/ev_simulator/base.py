"""The abstract EV simulator: what every model must do, validated once here.

Public methods check their arguments and call a small set of primitives (``_set_state``,
``_set_fault``, ``_set_cable_rating``, ``_set_ev_limits``, ``_read_pilot``) that each model
implements in its own module. A commercial unit thus needs only those primitives plus
``open``/``close``/``identify``.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass

from drivers.base import Instrument

#: Pilot states the EV itself selects (IEC 61851-1): A unplugged, B plugged, C charge, D vent.
EV_STATES = ("A", "B", "C", "D")
#: Faults: E = CP shorted to PE, diode = EV diode missing, F = pilot pulled to -12 V.
FAULT_KINDS = ("E", "diode", "F")
#: Proximity-pilot cable ratings (IEC 61851-1 / IEC 62196-2 PP resistor codes), in A.
CABLE_RATINGS_A = (13.0, 20.0, 32.0, 63.0)
#: Highest EV current limit accepted (A per phase; IEC 61851-1 PWM tops out at 80 A).
MAX_EV_CURRENT_A = 80.0


@dataclass(frozen=True)
class PilotReading:
    """The control pilot as the EV simulator measures it.

    ``state`` is A-F as seen on the line (a fault overrides the EV's own state);
    ``duty_percent`` is ``None`` when the pilot carries no PWM; ``offered_current_a`` is
    the current per phase that duty offers per IEC 61851-1 Annex A.
    """

    state: str
    duty_percent: float | None
    offered_current_a: float


class EvSimulator(Instrument):
    """An EV simulator on the station's charge connector."""

    role = "ev_simulator"

    # -- what test code calls ------------------------------------------------------------

    def plug_in(self) -> None:
        """Connect the EV (state B): the station sees a vehicle, no charge request."""
        self._set_state("B")

    def unplug(self) -> None:
        """Disconnect the EV (state A)."""
        self._set_state("A")

    def request_charge(self) -> None:
        """Ask for energy (state C)."""
        self._set_state("C")

    def stop_charge_request(self) -> None:
        """Withdraw the charge request but stay plugged (back to state B)."""
        self._set_state("B")

    def request_ventilation(self) -> None:
        """Ask for energy with ventilation required (state D)."""
        self._set_state("D")

    def set_state(self, state: str) -> None:
        """Set the EV-side pilot state directly (A, B, C or D)."""
        state = state.upper()
        if state not in EV_STATES:
            raise ValueError(f"EV state must be one of {', '.join(EV_STATES)}, got {state!r}")
        self._set_state(state)

    def inject_fault(self, kind: str) -> None:
        """Inject ``"E"`` (CP shorted to PE), ``"diode"`` (diode fault) or ``"F"``."""
        canonical = {k.lower(): k for k in FAULT_KINDS}.get(str(kind).lower())
        if canonical is None:
            raise ValueError(f"fault kind must be one of {', '.join(FAULT_KINDS)}, got {kind!r}")
        self._set_fault(canonical)

    def clear_fault(self) -> None:
        """Remove any injected fault; the EV's own state shows again."""
        self._set_fault(None)

    def set_cable_rating(self, amps: float) -> None:
        """Select the proximity-pilot resistor of the simulated cable (13/20/32/63 A)."""
        if float(amps) not in CABLE_RATINGS_A:
            allowed = "/".join(f"{a:g}" for a in CABLE_RATINGS_A)
            raise ValueError(f"cable rating must be one of {allowed} A, got {amps!r}")
        self._set_cable_rating(float(amps))

    def set_ev_limits(self, max_current_a: float | None = None, phases: int | None = None) -> None:
        """Set how much the EV wants to draw (A per phase) and on how many phases."""
        if max_current_a is not None and not 0.0 <= float(max_current_a) <= MAX_EV_CURRENT_A:
            raise ValueError(
                f"EV max current must be 0-{MAX_EV_CURRENT_A:g} A, got {max_current_a!r}"
            )
        if phases is not None and phases not in (1, 2, 3):
            raise ValueError(f"phases must be 1, 2 or 3, got {phases!r}")
        if max_current_a is None and phases is None:
            return
        self._set_ev_limits(
            None if max_current_a is None else float(max_current_a),
            None if phases is None else int(phases),
        )

    def read_pilot(self) -> PilotReading:
        """Measure the pilot: state as seen, PWM duty (None if none), current offered."""
        return self._read_pilot()

    # -- what each model implements --------------------------------------------------------

    @abc.abstractmethod
    def _set_state(self, state: str) -> None:
        """Switch the EV-side pilot load to ``state`` (one of :data:`EV_STATES`)."""

    @abc.abstractmethod
    def _set_fault(self, kind: str | None) -> None:
        """Inject ``kind`` (one of :data:`FAULT_KINDS`) or clear with ``None``."""

    @abc.abstractmethod
    def _set_cable_rating(self, amps: float) -> None:
        """Select the PP resistor for ``amps`` (one of :data:`CABLE_RATINGS_A`)."""

    @abc.abstractmethod
    def _set_ev_limits(self, max_current_a: float | None, phases: int | None) -> None:
        """Apply the given limits; ``None`` leaves that limit unchanged."""

    @abc.abstractmethod
    def _read_pilot(self) -> PilotReading:
        """Measure the pilot line."""
