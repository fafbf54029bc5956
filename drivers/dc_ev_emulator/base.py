"""The abstract DC EV emulator: what every model must do, validated once here.

A DC EV emulator plays the car on a CCS connector: it plugs in, drives the control pilot,
runs the high-level communication (DIN 70121 or ISO 15118-2) with the station, sinks the
DC power and records the decoded messages. Public methods check their arguments and call
a small set of primitives (the ``_`` methods below) that each model implements in its own
module, so a commercial unit needs only those primitives plus ``open``/``close``/``identify``.
"""

from __future__ import annotations

import abc
import math
from dataclasses import dataclass

from drivers.base import Instrument

#: high-level protocols a session can be started with
PROTOCOLS = ("DIN70121", "ISO15118-2")
#: identification: external identification means (EIM) only; Plug & Charge is not supported
AUTH_MODES = ("EIM",)
#: control-pilot states (IEC 61851-1): A unplugged, B plugged, C charge, E CP-PE short, F error
PILOT_STATES = ("A", "B", "C", "E", "F")
#: faults an emulator injects
FAULT_KINDS = ("INSULATION", "ESTOP", "OVERVOLTAGE")
#: session states, in the order a normal session passes them
SESSION_STATES = (
    "idle",
    "setup",
    "cable_check",
    "pre_charge",
    "charging",
    "welding_detection",
    "stopped",
)
#: the messages a DC session exchanges (DIN 70121 names; ISO 15118-2 EIM names the
#: payment pair PaymentServiceSelection / Authorization)
MESSAGES = (
    "SessionSetup",
    "ServiceDiscovery",
    "ServicePaymentSelection",
    "PaymentServiceSelection",
    "ContractAuthentication",
    "Authorization",
    "ChargeParameterDiscovery",
    "CableCheck",
    "PreCharge",
    "PowerDelivery",
    "CurrentDemand",
    "WeldingDetection",
    "SessionStop",
)

#: accepted ranges of the EV's settings (CCS: up to 1000 V)
RANGES = {
    "capacity_wh": (1.0, 1_000_000.0),
    "soc_pct": (0.0, 100.0),
    "max_voltage_v": (50.0, 1000.0),
    "max_current_a": (1.0, 1000.0),
    "max_power_w": (100.0, 1_000_000.0),
}


@dataclass(frozen=True)
class Battery:
    """The emulated EV's battery: capacity and the SoC a session starts from and ends at."""

    capacity_wh: float
    initial_soc_pct: float
    target_soc_pct: float


@dataclass(frozen=True)
class EvLimits:
    """The most the emulated EV accepts."""

    max_voltage_v: float
    max_current_a: float
    max_power_w: float


@dataclass(frozen=True)
class PresentValues:
    """What the running session reports now (the EVSE's present values, the EV's SoC)."""

    voltage_v: float
    current_a: float
    power_w: float
    soc_pct: float


@dataclass(frozen=True)
class EvseOffer:
    """What the station offers the EV now: the maximum power and current of its last
    response (ISO 15118-2 / DIN 70121 EVSEMaximumPowerLimit, EVSEMaximumCurrentLimit); the
    DC counterpart of the AC pilot's duty cycle. Zero outside a session."""

    max_power_w: float
    max_current_a: float


@dataclass(frozen=True)
class SessionStatus:
    """The session's state (one of :data:`SESSION_STATES`) and the fault that ended it
    (one of :data:`FAULT_KINDS`, ``UNPLUGGED`` or ``PILOT``; None: none)."""

    state: str
    fault: str | None


@dataclass(frozen=True)
class TraceRecord:
    """One decoded exchange (an EV request and the station's response).

    ``time_s`` counts from the session's start; ``response_code`` is the station's
    (``OK``, ``FAILED``...), ``ev_error_code`` the EV's (``NO_ERROR``, or e.g.
    ``FAILED_ChargingVoltageOutOfRange``). Targets are what the EV asked for, present
    values what the station reported; None where the message carries none.
    """

    index: int
    time_s: float
    message: str
    response_code: str
    ev_error_code: str
    soc_pct: float | None
    target_voltage_v: float | None
    target_current_a: float | None
    present_voltage_v: float | None
    present_current_a: float | None
    detail: str


def _in_range(name: str, value: float, key: str | None = None) -> float:
    low, high = RANGES[key or name]
    number = float(value)
    if math.isnan(number) or not low <= number <= high:
        raise ValueError(f"{name} must be {low:g}-{high:g}, got {value!r}")
    return number


class DcEvEmulator(Instrument):
    """A DC EV emulator on the station's CCS connector."""

    role = "dc_ev_emulator"

    # -- what test code calls ------------------------------------------------------------

    def plug(self) -> None:
        """Connect the EV: the pilot goes to B."""
        self._plug(True)

    def unplug(self) -> None:
        """Disconnect the EV (pilot A); a running session ends with fault ``UNPLUGGED``."""
        self._plug(False)

    def set_pilot_state(self, state: str | None) -> None:
        """Force the EV's pilot to A, B, C, E or F; ``None`` gives it back to the session.

        A forced state the running session does not expect ends it at once (fault ``PILOT``).
        """
        if state is not None:
            state = str(state).upper()
            if state not in PILOT_STATES:
                raise ValueError(
                    f"pilot state must be one of {', '.join(PILOT_STATES)}, got {state!r}"
                )
        self._force_pilot(state)

    def read_pilot_state(self) -> str:
        """The pilot state as the emulator sees it (A-F)."""
        return self._read_pilot()

    def set_battery(
        self,
        capacity_wh: float | None = None,
        initial_soc_pct: float | None = None,
        target_soc_pct: float | None = None,
    ) -> None:
        """Set the battery (only between sessions); ``None`` leaves a value unchanged."""
        battery = {
            "capacity_wh": capacity_wh,
            "initial_soc_pct": initial_soc_pct,
            "target_soc_pct": target_soc_pct,
        }
        checked = {
            name: _in_range(name, value, "soc_pct" if name.endswith("soc_pct") else None)
            for name, value in battery.items()
            if value is not None
        }
        if (
            initial_soc_pct is not None
            and target_soc_pct is not None
            and checked["initial_soc_pct"] >= checked["target_soc_pct"]
        ):
            raise ValueError(
                f"initial SoC must be below the target SoC, got {initial_soc_pct!r} "
                f">= {target_soc_pct!r}"
            )
        if checked:
            self._set_battery(checked)

    def set_ev_limits(
        self,
        max_voltage_v: float | None = None,
        max_current_a: float | None = None,
        max_power_w: float | None = None,
    ) -> None:
        """Set the EV's maximum voltage (between sessions), current and power (any time)."""
        limits = {
            "max_voltage_v": max_voltage_v,
            "max_current_a": max_current_a,
            "max_power_w": max_power_w,
        }
        checked = {n: _in_range(n, v) for n, v in limits.items() if v is not None}
        if checked:
            self._set_ev_limits(checked)

    def configure(self, battery: Battery | None = None, limits: EvLimits | None = None) -> None:
        """Set the whole battery and/or all the EV's limits at once (between sessions)."""
        if battery is not None:
            self.set_battery(battery.capacity_wh, battery.initial_soc_pct, battery.target_soc_pct)
        if limits is not None:
            self.set_ev_limits(limits.max_voltage_v, limits.max_current_a, limits.max_power_w)

    def start_session(self, protocol: str = "DIN70121", auth: str = "EIM") -> None:
        """Start a DC session with ``protocol`` (DIN70121 or ISO15118-2), identifying by EIM.

        Plug & Charge (``auth="PnC"``) is refused: no emulator driver supports it yet.
        """
        protocol = str(protocol).upper().replace("ISO15118_2", "ISO15118-2")
        if protocol not in PROTOCOLS:
            raise ValueError(f"protocol must be one of {', '.join(PROTOCOLS)}, got {protocol!r}")
        auth = str(auth).upper()
        if auth in ("PNC", "PLUG&CHARGE", "PLUG_AND_CHARGE", "CONTRACT"):
            raise ValueError(
                "Plug & Charge (PnC) is not supported yet; start the session with auth='EIM'"
            )
        if auth not in AUTH_MODES:
            raise ValueError(f"auth must be EIM, got {auth!r}")
        self._start_session(protocol, auth)

    def stop_session(self) -> None:
        """The EV ends the session (PowerDelivery stop, WeldingDetection, SessionStop)."""
        self._stop_session()

    def inject_fault(self, kind: str) -> None:
        """Arm ``INSULATION``, ``ESTOP`` or ``OVERVOLTAGE``; it stays until cleared."""
        canonical = str(kind).upper()
        if canonical not in FAULT_KINDS:
            raise ValueError(f"fault kind must be one of {', '.join(FAULT_KINDS)}, got {kind!r}")
        self._set_fault(canonical)

    def clear_fault(self) -> None:
        """Disarm any injected fault."""
        self._set_fault(None)

    def read_present(self) -> PresentValues:
        """Voltage, current, power and SoC the session reports now (one snapshot)."""
        return self._read_present()

    def read_sample(self) -> dict[str, float]:
        """What the lab samples through a session: the session's present values."""
        now = self.read_present()
        return {
            "voltage_v": now.voltage_v,
            "current_a": now.current_a,
            "power_w": now.power_w,
            "soc_pct": now.soc_pct,
        }

    def read_offer(self) -> EvseOffer:
        """The station's present maximum power and current, as the EV receives them."""
        return self._read_offer()

    def read_status(self) -> SessionStatus:
        """The session state and, once stopped by a fault, which."""
        return self._read_status()

    def read_trace(self, start: int = 0) -> list[TraceRecord]:
        """The decoded messages of the present (or last) session, from index ``start``."""
        if int(start) < 0:
            raise ValueError(f"start must be >= 0, got {start!r}")
        return self._read_trace(int(start))

    # -- what each model implements --------------------------------------------------------

    @abc.abstractmethod
    def _plug(self, plugged: bool) -> None:
        """Plug in (True) or unplug (False)."""

    @abc.abstractmethod
    def _force_pilot(self, state: str | None) -> None:
        """Force the pilot to ``state`` (one of :data:`PILOT_STATES`), or release it."""

    @abc.abstractmethod
    def _read_pilot(self) -> str:
        """The pilot state now."""

    @abc.abstractmethod
    def _set_battery(self, values: dict[str, float]) -> None:
        """Apply the given :class:`Battery` fields (validated)."""

    @abc.abstractmethod
    def _set_ev_limits(self, values: dict[str, float]) -> None:
        """Apply the given :class:`EvLimits` fields (validated)."""

    @abc.abstractmethod
    def _start_session(self, protocol: str, auth: str) -> None:
        """Select ``protocol`` / ``auth`` and start the session."""

    @abc.abstractmethod
    def _stop_session(self) -> None:
        """Stop from the EV side."""

    @abc.abstractmethod
    def _set_fault(self, kind: str | None) -> None:
        """Arm ``kind`` (one of :data:`FAULT_KINDS`) or disarm with ``None``."""

    @abc.abstractmethod
    def _read_present(self) -> PresentValues:
        """Read the present values."""

    @abc.abstractmethod
    def _read_offer(self) -> EvseOffer:
        """Read the station's present maximum power and current."""

    @abc.abstractmethod
    def _read_status(self) -> SessionStatus:
        """Read the state; a model maps its own words to :data:`SESSION_STATES`."""

    @abc.abstractmethod
    def _read_trace(self, start: int) -> list[TraceRecord]:
        """Read and decode the trace from ``start``; garbage is an :class:`InstrumentError`."""
