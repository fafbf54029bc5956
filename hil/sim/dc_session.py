"""A DC charging session (DIN 70121 / ISO 15118-2 EIM) at message level: plain Python, no I/O.

The virtual DC EV emulator (:mod:`hil.sim.instruments.dc_ev_emulator`) serves it over SCPI,
and the virtual station side (a later change) will drive its EVSE half: it sets the limits
the station offers with :meth:`DcSession.set_evse_limits` and reads what flows with
:meth:`DcSession.present`. Both sides play out one exchange (an EV request and the EVSE's
response) every ``SessionTiming.message_interval_s`` of *session time*; time moves only
when :meth:`DcSession.step` / :meth:`DcSession.advance_to` is called, so tests run a whole
session in microseconds and every run is the same.

The flow (names as in DIN 70121; ISO 15118-2 EIM uses PaymentServiceSelection and
Authorization for the two payment messages)::

    SessionSetup, ServiceDiscovery, ServicePaymentSelection, ContractAuthentication,
    ChargeParameterDiscovery, CableCheck (repeated for cable_check_s),
    PreCharge (repeated while the EVSE's voltage ramps to the battery's), PowerDelivery(start),
    CurrentDemand (repeated; SoC rises with the energy), PowerDelivery(stop),
    WeldingDetection (repeated for welding_detection_s), SessionStop

Physics, deliberately simple: the battery's voltage rises linearly with SoC from
``BATTERY_V_AT_EMPTY`` to ``BATTERY_V_AT_FULL`` of the EV's maximum voltage; the current is
the least of what the EV asks (its current limit and power limit at the present voltage),
what the EVSE offers (its current and power limits) and the ramp from the last value; it
ramps up at ``current_ramp_a_per_s`` and drops at once. Energy is ``V * I * dt``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace

PROTOCOLS = ("DIN70121", "ISO15118-2")
#: identification modes; only external identification (EIM) is modelled
AUTH_MODES = ("EIM",)
PILOT_STATES = ("A", "B", "C", "E", "F")
FAULTS = ("INSULATION", "ESTOP", "OVERVOLTAGE")
#: why a session ended with a fault: an injected fault, or the EV unplugged / pilot forced
STOP_FAULTS = (*FAULTS, "UNPLUGGED", "PILOT")

BATTERY_V_AT_EMPTY = 0.80
BATTERY_V_AT_FULL = 0.95
#: DIN 70121 / ISO 15118-2: the EV's target current during PreCharge is at most 2 A
PRECHARGE_CURRENT_A = 2.0
#: the EV reports this when its voltage is out of range (DC_EVErrorCodeType)
VOLTAGE_OUT_OF_RANGE = "FAILED_ChargingVoltageOutOfRange"


class SessionState(enum.StrEnum):
    IDLE = "idle"
    SETUP = "setup"  # SessionSetup .. ChargeParameterDiscovery
    CABLE_CHECK = "cable_check"
    PRE_CHARGE = "pre_charge"
    CHARGING = "charging"  # PowerDelivery(start) and the CurrentDemand loop
    WELDING_DETECTION = "welding_detection"  # PowerDelivery(stop) and WeldingDetection
    STOPPED = "stopped"


_RUNNING = frozenset(
    {
        SessionState.SETUP,
        SessionState.CABLE_CHECK,
        SessionState.PRE_CHARGE,
        SessionState.CHARGING,
        SessionState.WELDING_DETECTION,
    }
)

_SETUP_MESSAGES = {
    "DIN70121": (
        "SessionSetup",
        "ServiceDiscovery",
        "ServicePaymentSelection",
        "ContractAuthentication",
        "ChargeParameterDiscovery",
    ),
    "ISO15118-2": (
        "SessionSetup",
        "ServiceDiscovery",
        "PaymentServiceSelection",
        "Authorization",
        "ChargeParameterDiscovery",
    ),
}


class SessionError(ValueError):
    """A request the EV cannot carry out now, or a value out of range."""


class RangeError(SessionError):
    """A setting outside its range."""


@dataclass(frozen=True)
class SessionTiming:
    """How long the phases take, in session seconds."""

    message_interval_s: float = 0.1
    cable_check_s: float = 2.0
    precharge_ramp_v_per_s: float = 1000.0
    current_ramp_a_per_s: float = 100.0
    welding_detection_s: float = 0.5


@dataclass(frozen=True)
class Battery:
    capacity_wh: float = 50_000.0
    initial_soc_pct: float = 20.0
    target_soc_pct: float = 80.0


@dataclass(frozen=True)
class EvLimits:
    max_voltage_v: float = 450.0
    max_current_a: float = 200.0
    max_power_w: float = 75_000.0


@dataclass(frozen=True)
class EvseLimits:
    """What the station offers; set by the station side."""

    max_power_w: float = 50_000.0
    max_current_a: float = 125.0


@dataclass(frozen=True)
class Present:
    """The values of the last exchange, as the EV sees them."""

    state: SessionState
    voltage_v: float
    current_a: float
    power_w: float
    soc_pct: float
    energy_wh: float
    fault: str | None


@dataclass(frozen=True)
class TraceRecord:
    """One exchange: the EV's request and the EVSE's response, at ``time_s`` after start."""

    index: int
    time_s: float
    message: str
    response_code: str = "OK"
    ev_error_code: str = "NO_ERROR"
    soc_pct: float | None = None
    target_voltage_v: float | None = None
    target_current_a: float | None = None
    present_voltage_v: float | None = None
    present_current_a: float | None = None
    detail: str = ""


LIMITS = {
    "capacity_wh": (1.0, 1_000_000.0),
    "soc_pct": (0.0, 100.0),
    "max_voltage_v": (50.0, 1000.0),
    "max_current_a": (1.0, 1000.0),
    "max_power_w": (100.0, 1_000_000.0),
}


def _check(name: str, value: float, key: str | None = None) -> float:
    low, high = LIMITS[key or name]
    value = float(value)
    if not low <= value <= high:  # also refuses NaN
        raise RangeError(f"{name} must be {low:g}-{high:g}, got {value:g}")
    return value


@dataclass
class DcSession:
    """The EV (and the EVSE's half of the messages) of one DC charge connector."""

    timing: SessionTiming = field(default_factory=SessionTiming)
    battery: Battery = field(default_factory=Battery)
    ev_limits: EvLimits = field(default_factory=EvLimits)
    evse_limits: EvseLimits = field(default_factory=EvseLimits)

    def __post_init__(self) -> None:
        self.now = 0.0  # session-model seconds; advanced by step() / advance_to()
        self.protocol = "DIN70121"
        self.plugged = False
        self.forced_pilot: str | None = None
        self.armed_fault: str | None = None
        #: a station defect: the EVSE delivers what it offers, above the EV's request
        self.evse_ignores_ev_request = False
        self._clear_session()

    def _clear_session(self) -> None:
        self.state = SessionState.IDLE
        self.fault: str | None = None
        self.trace: list[TraceRecord] = []
        self.soc_pct = self.battery.initial_soc_pct
        self.voltage_v = 0.0
        self.current_a = 0.0
        self.energy_wh = 0.0
        self._start = self.now
        self._ticks = 0  # exchanges played since start
        self._phase_ticks = 0  # exchanges played in the present phase
        self._setup_step = 0

    # -- the EV's settings -------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.state in _RUNNING

    def _not_running(self, what: str) -> None:
        if self.running:
            raise SessionError(f"cannot change {what} while a session runs")

    def set_battery(
        self,
        capacity_wh: float | None = None,
        initial_soc_pct: float | None = None,
        target_soc_pct: float | None = None,
    ) -> None:
        self._not_running("the battery")
        new = self.battery
        if capacity_wh is not None:
            new = replace(new, capacity_wh=_check("capacity_wh", capacity_wh))
        if initial_soc_pct is not None:
            new = replace(
                new, initial_soc_pct=_check("initial_soc_pct", initial_soc_pct, "soc_pct")
            )
        if target_soc_pct is not None:
            new = replace(new, target_soc_pct=_check("target_soc_pct", target_soc_pct, "soc_pct"))
        self.battery = new
        if self.state is SessionState.IDLE:
            self.soc_pct = new.initial_soc_pct

    def set_ev_limits(
        self,
        max_voltage_v: float | None = None,
        max_current_a: float | None = None,
        max_power_w: float | None = None,
    ) -> None:
        """The EV's limits; the current and power limits may change while charging."""
        new = self.ev_limits
        if max_voltage_v is not None:
            self._not_running("the EV's maximum voltage")
            new = replace(new, max_voltage_v=_check("max_voltage_v", max_voltage_v))
        if max_current_a is not None:
            new = replace(new, max_current_a=_check("max_current_a", max_current_a))
        if max_power_w is not None:
            new = replace(new, max_power_w=_check("max_power_w", max_power_w))
        self.ev_limits = new
        self._clamp()

    def set_protocol(self, protocol: str, auth: str = "EIM") -> None:
        self._not_running("the protocol")
        if protocol not in PROTOCOLS:
            raise SessionError(f"protocol must be one of {', '.join(PROTOCOLS)}, got {protocol!r}")
        if auth not in AUTH_MODES:
            raise SessionError(f"identification must be EIM, got {auth!r}")
        self.protocol = protocol

    # -- the station's side ------------------------------------------------------------

    def set_evse_limits(self, max_power_w: float, max_current_a: float) -> None:
        """What the station offers from now on; a lower limit applies at once."""
        if not (max_power_w >= 0 and max_current_a >= 0):
            raise SessionError("EVSE limits must be >= 0")
        self.evse_limits = EvseLimits(float(max_power_w), float(max_current_a))
        self._clamp()

    def offered(self) -> tuple[float, float]:
        """``(W, A)``: the EVSE's maximum power and current as its responses carry them
        (EVSEMaximumPowerLimit / EVSEMaximumCurrentLimit of ChargeParameterDiscovery and
        CurrentDemand); nothing outside a running session."""
        if not self.running:
            return 0.0, 0.0
        return self.evse_limits.max_power_w, self.evse_limits.max_current_a

    def present(self) -> Present:
        """The present values; the energy up to ``now``, not just to the last exchange
        (the current between two exchanges is the one the last exchange set)."""
        energy = self.energy_wh
        if self.state is SessionState.CHARGING:
            last = self._start + self._ticks * self.timing.message_interval_s
            energy += self.voltage_v * self.current_a * max(0.0, self.now - last) / 3600.0
        return Present(
            state=self.state,
            voltage_v=self.voltage_v,
            current_a=self.current_a,
            power_w=self.voltage_v * self.current_a,
            soc_pct=self.soc_pct,
            energy_wh=energy,
            fault=self.fault,
        )

    # -- connector and pilot -----------------------------------------------------------

    def plug(self) -> None:
        self.plugged = True

    def unplug(self) -> None:
        if self.running:
            self._abort("UNPLUGGED", "EV unplugged")
        self.plugged = False
        self.forced_pilot = None

    def pilot(self) -> str:
        """The control-pilot state: forced, else A unplugged, C while power is asked, else B."""
        if self.forced_pilot is not None:
            return self.forced_pilot
        if not self.plugged:
            return "A"
        if self.state in (SessionState.CABLE_CHECK, SessionState.PRE_CHARGE, SessionState.CHARGING):
            return "C"
        return "B"

    def force_pilot(self, state: str | None) -> None:
        """Force the EV's pilot to ``state`` (None: back to automatic). A forced state the
        session does not expect ends a running session at once with fault ``PILOT``."""
        if state is not None and state not in PILOT_STATES:
            raise SessionError(f"pilot state must be one of {', '.join(PILOT_STATES)}")
        if state is not None and self.running and state != self.pilot():
            self._abort("PILOT", f"pilot forced to {state}")
        self.forced_pilot = state

    # -- the session -------------------------------------------------------------------

    def start(self) -> None:
        if not self.plugged:
            raise SessionError("plug the EV in first")
        if self.running:
            raise SessionError("a session is already running")
        if self.forced_pilot is not None:
            raise SessionError("the pilot is forced; set it back to automatic first")
        if self.armed_fault == "ESTOP":
            raise SessionError("the EV's emergency stop is active; clear the fault first")
        if self.battery.initial_soc_pct >= self.battery.target_soc_pct:
            raise SessionError("the initial SoC must be below the target SoC")
        self._clear_session()
        self.state = SessionState.SETUP

    def stop(self) -> None:
        """The EV ends the session: normally if charging, else straight to SessionStop."""
        if self.state is SessionState.CHARGING:
            self._begin_stop("EV stop")
        elif self.state in (SessionState.SETUP, SessionState.CABLE_CHECK, SessionState.PRE_CHARGE):
            self._record("SessionStop", detail="EV stop")
            self._end(None)

    def inject_fault(self, kind: str) -> None:
        """Arm ``kind``: it stays until :meth:`clear_fault` (or a new fault replaces it).

        INSULATION: the EVSE's isolation check reports a fault: CableCheck fails, or, in
        PreCharge or CurrentDemand, the next exchange fails; the session stops with it.
        ESTOP: the EV stops at once (current zero, PowerDelivery(stop), SessionStop) and
        refuses to start until cleared. OVERVOLTAGE: the EV sees the voltage above its
        maximum; its next request reports FAILED_ChargingVoltageOutOfRange and it stops.
        """
        if kind not in FAULTS:
            raise SessionError(f"fault must be one of {', '.join(FAULTS)}, got {kind!r}")
        self.armed_fault = kind
        if kind == "ESTOP" and self.running:
            self.current_a = 0.0
            if self.state is SessionState.CHARGING:
                self._record("PowerDelivery", detail="stop: EV emergency stop")
            self._record("SessionStop", detail="EV emergency stop")
            self._end("ESTOP")

    def clear_fault(self) -> None:
        self.armed_fault = None

    # -- time --------------------------------------------------------------------------

    def advance_to(self, now: float) -> None:
        """Play every exchange due up to model time ``now`` (never backwards)."""
        if now > self.now:
            self.step(now - self.now)

    def step(self, dt: float) -> None:
        """Let ``dt`` seconds pass: one exchange per message interval of a running session."""
        if dt < 0:
            raise ValueError("time does not run backwards")
        target = self.now + dt
        interval = self.timing.message_interval_s
        while self.running:
            due = self._start + (self._ticks + 1) * interval
            if due > target + 1e-9:
                break
            self.now = due
            self._ticks += 1
            self._exchange(interval)
        self.now = target

    @property
    def session_time_s(self) -> float:
        return self.now - self._start

    def battery_voltage(self, soc_pct: float | None = None) -> float:
        soc = self.soc_pct if soc_pct is None else soc_pct
        share = BATTERY_V_AT_EMPTY + (BATTERY_V_AT_FULL - BATTERY_V_AT_EMPTY) * soc / 100.0
        return self.ev_limits.max_voltage_v * share

    def current_limit_a(self, voltage_v: float | None = None) -> float:
        """The least of the EV's and the EVSE's current and power limits at ``voltage_v``."""
        volts = self.voltage_v if voltage_v is None else voltage_v
        ev = not self.evse_ignores_ev_request
        limits = [self.evse_limits.max_current_a] + ([self.ev_limits.max_current_a] if ev else [])
        if volts > 0:
            limits.append(self.evse_limits.max_power_w / volts)
            if ev:
                limits.append(self.ev_limits.max_power_w / volts)
        return max(0.0, min(limits))

    # -- inside ------------------------------------------------------------------------

    def _clamp(self) -> None:
        if self.state is SessionState.CHARGING:
            self.current_a = min(self.current_a, self.current_limit_a())

    def _record(self, message: str, **values: object) -> None:
        self.trace.append(
            TraceRecord(
                index=len(self.trace),
                time_s=round(self.session_time_s, 6),
                message=message,
                soc_pct=round(self.soc_pct, 4),
                present_voltage_v=round(self.voltage_v, 3),
                present_current_a=round(self.current_a, 3),
                **values,  # type: ignore[arg-type]
            )
        )

    def _enter(self, state: SessionState) -> None:
        self.state = state
        self._phase_ticks = 0

    def _end(self, fault: str | None) -> None:
        self.current_a = 0.0
        self.voltage_v = 0.0
        self.fault = fault
        self._enter(SessionState.STOPPED)

    def _abort(self, fault: str, why: str) -> None:
        self.current_a = 0.0
        self._record("SessionStop", response_code="FAILED", detail=why)
        self._end(fault)

    def _begin_stop(self, why: str) -> None:
        self.current_a = 0.0
        self._record("PowerDelivery", detail=f"stop: {why}")
        self._enter(SessionState.WELDING_DETECTION)

    def _exchange(self, dt: float) -> None:
        self._phase_ticks += 1
        fault = self.armed_fault
        state = self.state
        if state is SessionState.SETUP:
            messages = _SETUP_MESSAGES[self.protocol]
            self._record(messages[self._setup_step], detail=self._setup_detail())
            self._setup_step += 1
            if self._setup_step == len(messages):
                self._enter(SessionState.CABLE_CHECK)
        elif fault == "OVERVOLTAGE" and state in (
            SessionState.CABLE_CHECK,
            SessionState.PRE_CHARGE,
            SessionState.CHARGING,
        ):
            self._overvoltage(state)
        elif state is SessionState.CABLE_CHECK:
            self._cable_check(fault)
        elif state is SessionState.PRE_CHARGE:
            self._pre_charge(fault, dt)
        elif state is SessionState.CHARGING:
            self._current_demand(fault, dt)
        elif state is SessionState.WELDING_DETECTION:
            self.voltage_v = max(0.0, self.voltage_v - self.timing.precharge_ramp_v_per_s * dt)
            self._record("WeldingDetection")
            if self._phase_ticks * dt >= self.timing.welding_detection_s - 1e-9:
                self._record("SessionStop")
                self._end(None)

    def _setup_detail(self) -> str:
        message = _SETUP_MESSAGES[self.protocol][self._setup_step]
        if message == "ChargeParameterDiscovery":
            ev, evse = self.ev_limits, self.evse_limits
            return (
                f"EV max {ev.max_voltage_v:g} V {ev.max_current_a:g} A {ev.max_power_w:g} W, "
                f"EVSE max {evse.max_current_a:g} A {evse.max_power_w:g} W"
            )
        if message in ("ServicePaymentSelection", "PaymentServiceSelection"):
            return "ExternalPayment (EIM)"
        return ""

    def _cable_check(self, fault: str | None) -> None:
        if fault == "INSULATION":
            self._record("CableCheck", response_code="FAILED", detail="EVSE isolation: Fault")
            self._record("SessionStop", detail="cable check failed")
            self._end("INSULATION")
            return
        done = self._phase_ticks * self.timing.message_interval_s >= self.timing.cable_check_s
        self._record("CableCheck", detail="Finished" if done else "Ongoing")
        if done:
            self._enter(SessionState.PRE_CHARGE)

    def _pre_charge(self, fault: str | None, dt: float) -> None:
        target = self.battery_voltage()
        if fault == "INSULATION":
            self._insulation_failure("PreCharge", target, PRECHARGE_CURRENT_A)
            return
        step = self.timing.precharge_ramp_v_per_s * dt
        self.voltage_v = min(target, self.voltage_v + step)
        self._record("PreCharge", target_voltage_v=round(target, 3), target_current_a=2.0)
        if self.voltage_v >= target:
            self._record("PowerDelivery", detail="start")
            self._enter(SessionState.CHARGING)

    def _current_demand(self, fault: str | None, dt: float) -> None:
        ev_request = self.ev_limits.max_current_a
        if fault == "INSULATION":
            self._insulation_failure("CurrentDemand", self.voltage_v, ev_request)
            return
        # energy of the interval just passed, at the values the last exchange set
        energy_wh = self.voltage_v * self.current_a * dt / 3600.0
        self.energy_wh += energy_wh
        self.soc_pct = min(100.0, self.soc_pct + 100.0 * energy_wh / self.battery.capacity_wh)
        self.voltage_v = self.battery_voltage()
        ramped = self.current_a + self.timing.current_ramp_a_per_s * dt
        self.current_a = min(ramped, self.current_limit_a())
        target = self.battery_voltage(self.battery.target_soc_pct)
        self._record(
            "CurrentDemand",
            target_voltage_v=round(target, 3),
            target_current_a=round(min(ev_request, self.ev_limits.max_power_w / self.voltage_v), 3),
        )
        if self.soc_pct >= self.battery.target_soc_pct:
            self._begin_stop("target SoC reached")

    def _insulation_failure(self, message: str, volts: float, amps: float) -> None:
        self.current_a = 0.0
        self._record(
            message,
            response_code="FAILED",
            target_voltage_v=round(volts, 3),
            target_current_a=round(amps, 3),
            detail="EVSE isolation: Fault",
        )
        self._record("SessionStop", detail="EVSE isolation fault")
        self._end("INSULATION")

    def _overvoltage(self, state: SessionState) -> None:
        message = {
            SessionState.CABLE_CHECK: "CableCheck",
            SessionState.PRE_CHARGE: "PreCharge",
            SessionState.CHARGING: "CurrentDemand",
        }[state]
        self.current_a = 0.0
        # the EV measures its inlet above its maximum voltage
        self.voltage_v = self.ev_limits.max_voltage_v * 1.1
        self._record(
            message,
            ev_error_code=VOLTAGE_OUT_OF_RANGE,
            detail=f"EV measures {self.voltage_v:.1f} V > max {self.ev_limits.max_voltage_v:g} V",
        )
        if state is SessionState.CHARGING:
            self._record("PowerDelivery", detail="stop: voltage out of range")
        self._record("SessionStop", detail="voltage out of range")
        self._end("OVERVOLTAGE")
