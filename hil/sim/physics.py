"""One physical model of the virtual bench, shared by the virtual station and instruments.

The virtual station drives the control pilot (PWM duty) and the contactor; the virtual EV
simulator drives the EV side (plug, charge request, faults, how much it wants to draw); the
virtual energy meter and power analyser read voltage, current, power and integrated energy.
Everything runs on the virtual bench's single asyncio loop, so no locking is needed.
Suites and keyword libraries never import this module: they see it only through the wire
protocols of the virtual instruments.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

#: EV-side pilot states of IEC 61851-1 that the EV itself selects.
EV_STATES = ("A", "B", "C", "D")
#: Faults the EV simulator can inject: E = CP shorted to PE, diode = missing EV diode,
#: F = pilot pulled to -12 V (EV-side error).
FAULTS = ("E", "diode", "F")


def duty_to_current(duty_percent: float | None) -> float:
    """Current (A per phase) that a PWM duty cycle offers, per IEC 61851-1 Annex A.

    ``None`` means no PWM (a steady +12 V pilot): nothing is offered.
    """
    if duty_percent is None:
        return 0.0
    d = float(duty_percent)
    if d < 8.0:
        return 0.0  # 3-7 % is digital communication, below that charging is not allowed
    if d < 10.0:
        return 6.0
    if d <= 85.0:
        return round(d * 0.6, 3)
    if d <= 96.0:
        return round((d - 64.0) * 2.5, 3)
    if d <= 97.0:
        return 80.0
    return 0.0


def current_to_duty(current_a: float) -> float | None:
    """PWM duty cycle (%) that offers ``current_a``, per IEC 61851-1 Annex A.

    Below 6 A nothing can be offered, so the pilot carries no PWM (``None``).
    """
    if current_a < 6.0:
        return None
    if current_a <= 51.0:
        return round(current_a / 0.6, 2)
    if current_a <= 80.0:
        return round(current_a / 2.5 + 64.0, 2)
    return 96.0


@dataclass
class EvProfile:
    """What the simulated EV wants: its own current limit and phase count, and the cable."""

    max_current_a: float = 32.0
    phases: int = 3
    cable_rating_a: float = 32.0  # proximity-pilot (PP) rating of the plugged cable


class BenchPhysics:
    """Pilot, contactor, EV draw and energy integration for the connector the EV is on.

    Energy is integrated lazily: power is piecewise constant between changes, so every
    change (and every read) first integrates up to now.
    """

    def __init__(
        self,
        voltage_v: float = 230.0,
        supply_phases: int = 3,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.voltage_v = voltage_v
        self.supply_phases = supply_phases
        self._clock = clock
        self.ev = EvProfile()
        self.ev_state = "A"
        self.fault: str | None = None
        self.pilot_duty: float | None = None  # set by the station; None = +12 V, no PWM
        self.contactor_closed = False
        self._energy_wh = 0.0
        self._power_w = 0.0
        self._last_t = clock()
        self._listeners: list[Callable[[], None]] = []

    # -- observers ---------------------------------------------------------------------

    def subscribe(self, listener: Callable[[], None]) -> None:
        """Call ``listener()`` after every change of pilot, contactor or EV state."""
        self._listeners.append(listener)

    def _changed(self) -> None:
        self._integrate()
        self._power_w = self._compute_power()
        for listener in list(self._listeners):
            listener()

    # -- EV side (driven by the EV simulator) ------------------------------------------

    def set_ev_state(self, state: str) -> None:
        if state not in EV_STATES:
            raise ValueError(f"EV state must be one of {EV_STATES}, got {state!r}")
        self.ev_state = state
        self._changed()

    def set_fault(self, fault: str | None) -> None:
        if fault is not None and fault not in FAULTS:
            raise ValueError(f"fault must be one of {FAULTS} or None, got {fault!r}")
        self.fault = fault
        self._changed()

    def set_ev_limits(
        self,
        max_current_a: float | None = None,
        phases: int | None = None,
        cable_rating_a: float | None = None,
    ) -> None:
        if max_current_a is not None:
            self.ev.max_current_a = float(max_current_a)
        if phases is not None:
            if phases not in (1, 2, 3):
                raise ValueError(f"phases must be 1, 2 or 3, got {phases}")
            self.ev.phases = phases
        if cable_rating_a is not None:
            self.ev.cable_rating_a = float(cable_rating_a)
        self._changed()

    # -- station side (driven by the virtual station) ----------------------------------

    def set_pilot(self, duty_percent: float | None) -> None:
        self.pilot_duty = duty_percent
        self._changed()

    def set_contactor(self, closed: bool) -> None:
        self.contactor_closed = closed
        self._changed()

    # -- what can be observed ----------------------------------------------------------

    @property
    def plugged(self) -> bool:
        return self.ev_state != "A"

    def pilot_state(self) -> str:
        """The pilot state the station measures: A-F, with faults overriding the EV."""
        if self.fault == "E":
            return "E"
        if self.fault in ("F", "diode"):
            return "F"
        return self.ev_state

    def offered_current_a(self) -> float:
        return duty_to_current(self.pilot_duty)

    def phases_in_use(self) -> int:
        return min(self.supply_phases, self.ev.phases)

    def current_a(self) -> float:
        """Current per phase the EV draws: what is offered, and no more than it wants."""
        if not self.contactor_closed or self.fault is not None:
            return 0.0
        if self.ev_state not in ("C", "D"):
            return 0.0
        return min(self.offered_current_a(), self.ev.max_current_a)

    def phase_currents_a(self) -> tuple[float, float, float]:
        amps = self.current_a()
        n = self.phases_in_use()
        return tuple(amps if i < n else 0.0 for i in range(3))  # type: ignore[return-value]

    def phase_voltages_v(self) -> tuple[float, float, float]:
        live = self.voltage_v if self.contactor_closed else 0.0
        return (live, live, live)

    def _compute_power(self) -> float:
        return self.voltage_v * self.current_a() * self.phases_in_use()

    def power_w(self) -> float:
        return self._power_w

    def _integrate(self) -> None:
        now = self._clock()
        self._energy_wh += self._power_w * (now - self._last_t) / 3600.0
        self._last_t = now

    def energy_wh(self) -> float:
        """True energy delivered to the EV since the bench started (Wh)."""
        self._integrate()
        return self._energy_wh
