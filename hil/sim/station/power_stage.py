"""The virtual station's power stage: what flows to the EV and what its meter reads.

Two implementations, chosen by :func:`make_power_stage` from ``dut.current_type``:

* :class:`AcPowerStage`: the AC path of the bench physics (pilot PWM, contactor, phases).
* :class:`DcPowerStage`: a DC output driven through the virtual DC EV emulator's session
  (DIN 70121 / ISO 15118-2 at message level). The EV's pilot is mirrored into the bench
  physics, so the station's charging logic (plug, pilot state C, contactor) is the same for
  both; while the contactor is closed (an authorised transaction, EV in state C) the stage
  offers the least of ``dut.dc`` and the active charging limit (W, or A as DC current)
  through :meth:`~hil.sim.dc_session.DcSession.set_evse_limits`; the energy delivered
  feeds the station's register and the virtual LEM DCBM.

The station's meter asks the stage for energy and for the sampled values of MeterValues.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from hil.lab.config import DC_MEASURANDS
from hil.sim.dc_session import DcSession, SessionState
from hil.sim.physics import BenchPhysics

if TYPE_CHECKING:
    from hil.lab.config import DcLimits, LabConfig
    from hil.sim.dc_session import TraceRecord
    from hil.sim.instruments.dc_ev_emulator import VirtualDcEvEmulator
    from hil.sim.instruments.lem_dcbm import VirtualLemDcbm

LOG = logging.getLogger("hil.sim.station")

REGISTER = "Energy.Active.Import.Register"

#: the measurands an AC station can sample
AC_MEASURANDS = (
    REGISTER,
    "Power.Active.Import",
    "Current.Import",
    "Current.Offered",
    "Voltage",
)

#: how often the DC stage plays the session forward and counts its energy (s)
DC_TICK_S = 0.1
#: how long a station with ``energy_after_ev_stop`` keeps its current after the EV's stop
EV_STOP_OVERRUN_S = 6.0

#: the active charging limit: (limit, "W" or "A"), None without one
LimitSource = Callable[[], "tuple[float, str] | None"]
#: called once per EV session when its trace reaches ChargeParameterDiscovery, with the
#: session (the EV's battery and limits) and that record (the EV's SoC then); a 2.0.1
#: station sends NotifyEVChargingNeeds from it (OCPP 2.0.1 Part 2 K15)
ChargeParameterHook = Callable[["DcSession", "TraceRecord"], None]


class PowerStage(Protocol):
    #: measurands this stage can report, and those sampled by default
    measurands: tuple[str, ...]
    default_sampled: tuple[str, ...]
    limit_source: LimitSource

    def energy_wh(self) -> float:
        """Energy delivered since the bench started (Wh)."""

    def power_w(self) -> float: ...

    def readings(
        self, measurands: list[str], offered_a: float
    ) -> list[tuple[str, float, str, str | None, str]]:
        """``(measurand, value, unit, phase, location)`` for each known measurand."""

    async def run(self) -> None:
        """Background work while the bench runs (none on AC)."""


class AcPowerStage:
    """The AC power path: the bench physics."""

    measurands = AC_MEASURANDS
    default_sampled = (REGISTER,)

    def __init__(self, physics: BenchPhysics) -> None:
        self.physics = physics
        self.limit_source: LimitSource = lambda: None  # the pilot's PWM carries the limit

    def energy_wh(self) -> float:
        return self.physics.energy_wh()

    def power_w(self) -> float:
        return self.physics.power_w()

    def readings(
        self, measurands: list[str], offered_a: float
    ) -> list[tuple[str, float, str, str | None, str]]:
        out: list[tuple[str, float, str, str | None, str]] = []
        for m in measurands:
            if m == "Current.Offered":
                out.append((m, offered_a, "A", None, "Outlet"))
            elif m == "Current.Import":
                for phase, amps in zip(
                    ("L1", "L2", "L3"), self.physics.phase_currents_a(), strict=True
                ):
                    out.append((m, amps, "A", phase, "Outlet"))
            elif m == "Voltage":
                for phase, volts in zip(
                    ("L1-N", "L2-N", "L3-N"), self.physics.phase_voltages_v(), strict=True
                ):
                    out.append((m, volts, "V", phase, "Outlet"))
        return out

    async def run(self) -> None:
        return None


class DcPowerStage:
    """A DC output through the virtual DC EV emulator's session (see the module doc)."""

    #: what a DC station can sample (SoC is the EV's, over ISO 15118 / DIN 70121): the
    #: lab config's DC measurands, all sampled by default
    measurands = DC_MEASURANDS
    default_sampled = DC_MEASURANDS

    def __init__(
        self, limits: DcLimits, physics: BenchPhysics, deviations: frozenset[str] = frozenset()
    ) -> None:
        self.limits = limits
        self.physics = physics
        self.deviations = deviations
        #: told when the station's insulation monitor finds a fault (True) and when a
        #: later cable check passes (False); the station reports it (charging.py)
        self.insulation_listener: Callable[[bool], None] = lambda fault: None
        self.insulation_fault = False
        #: told once per session when the EV ended it normally (PowerDelivery stop at its
        #: target SoC or on its own), while still plugged
        self.ev_end_listener: Callable[[], None] = lambda: None
        self._charged_trace: list[object] | None = None  # the session seen charging
        self._overrun: tuple[float, float, float] | None = None  # (until, V, A): a defect
        self._overrun_at = 0.0
        self._last_flow = (0.0, 0.0)  # (V, A) while the last session charged
        self.emulator: VirtualDcEvEmulator | None = None
        self.meter: VirtualLemDcbm | None = None
        self.limit_source: LimitSource = lambda: None
        self._energy_wh = 0.0
        self._ticked = time.monotonic()  # when _energy_wh was last brought up to date
        self._shown_wh = 0.0  # the most energy_wh() has returned (it never goes back)
        self._session_wh = 0.0  # the session's energy counted so far
        self._session_trace: list[TraceRecord] | None = None  # the session counted
        self.offered_w = 0.0
        self.offered_a = 0.0
        self.voltage_v = 0.0
        self.current_a = 0.0
        self.soc_pct: float | None = None
        self.charge_parameter_hooks: list[ChargeParameterHook] = []
        self._hooked_trace: list[TraceRecord] | None = None  # the session already told
        self._settling = False
        self._output_closed = physics.contactor_closed
        physics.subscribe(self._on_physics)

    def attach(
        self, emulator: VirtualDcEvEmulator | None = None, meter: VirtualLemDcbm | None = None
    ) -> None:
        if emulator is not None:
            self.emulator = emulator
        if meter is not None:
            self.meter = meter

    # -- what is offered -------------------------------------------------------------

    def offer(self, voltage_v: float) -> tuple[float, float]:
        """``(W, A)`` the station offers now: ``dut.dc`` and the active charging limit
        (a W limit as power; an A limit as DC current), zero while not authorised."""
        if not self.physics.contactor_closed:
            return 0.0, 0.0
        watts, amps = float(self.limits.max_power_w), float(self.limits.max_current_a)
        limit = self.limit_source()
        if limit is not None:
            value, unit = limit
            if unit == "W":
                watts = min(watts, max(0.0, value))
            else:
                amps = min(amps, max(0.0, value))
        if voltage_v > 0:
            amps = min(amps, watts / voltage_v)
            watts = min(watts, amps * voltage_v)
        return watts, amps

    # -- one step --------------------------------------------------------------------

    def tick(self) -> None:
        """Play the EV's session forward, set what is offered, count the energy."""
        if self.emulator is None:
            return
        session = self.emulator.sync()
        session.evse_ignores_ev_request = "dc_current_above_ev_request" in self.deviations
        pilot = session.pilot()
        ev_state = pilot if pilot in ("A", "B", "C") else "B"
        fault = pilot if pilot in ("E", "F") else None
        if self.physics.fault != fault:
            self.physics.set_fault(fault)  # a pilot fault: the station sees state E / F
        if self.physics.ev_state != ev_state:
            self.physics.set_ev_state(ev_state)  # the station's charging logic follows
        self._watch_insulation(session)
        self._watch_ev_end(session)
        present = session.present()
        self.voltage_v = present.voltage_v
        self.offered_w, self.offered_a = self.offer(present.voltage_v or session.battery_voltage())
        session.set_evse_limits(self.offered_w, self.offered_a)
        present = session.present()
        self.current_a = present.current_a
        self.soc_pct = present.soc_pct if session.plugged else None
        if session.trace is not self._session_trace:  # a new session starts a new trace
            self._session_trace, self._session_wh = session.trace, 0.0
        delta = present.energy_wh - self._session_wh
        self._session_wh = max(self._session_wh, present.energy_wh)
        if delta > 0:
            self._energy_wh += delta
        if not session.plugged:
            self._overrun = None  # no EV, no load: nothing can flow
        delta += self._overrun_energy()
        self._ticked = time.monotonic()
        if self.meter is not None:
            if delta > 0:
                self.meter.add_energy(delta, present.voltage_v, present.current_a)
            else:
                self.meter.set_present(present.voltage_v, present.current_a)
        self._charge_parameters_reached(session)

    def _charge_parameters_reached(self, session: DcSession) -> None:
        """Call each hook once per session, when its trace holds ChargeParameterDiscovery
        (a new session has a new trace list, so the list tells sessions apart)."""
        if not self.charge_parameter_hooks or session.trace is self._hooked_trace:
            return
        record = next((r for r in session.trace if r.message == "ChargeParameterDiscovery"), None)
        if record is None:
            return
        self._hooked_trace = session.trace
        for hook in self.charge_parameter_hooks:
            try:
                hook(session, record)
            except Exception:  # one bad listener must not stop the power stage
                LOG.exception("ChargeParameterDiscovery hook failed")

    def _watch_insulation(self, session: DcSession) -> None:
        """The insulation monitor: a cable check (or a later exchange) that failed on an
        insulation fault is a fault until a cable check passes or the EV is unplugged."""
        found = self.insulation_fault
        if session.state is SessionState.STOPPED and session.fault == "INSULATION":
            found = True
        elif session.state in (SessionState.PRE_CHARGE, SessionState.CHARGING):
            found = False
        if not session.plugged:
            found = False
        if found != self.insulation_fault:
            self.insulation_fault = found
            LOG.info("DC insulation fault %s", "found" if found else "cleared")
            self.insulation_listener(found)

    def _watch_ev_end(self, session: DcSession) -> None:
        """The EV ended a session that charged (its own PowerDelivery stop): tell the
        station once. With ``energy_after_ev_stop`` the output keeps its last current for
        ``EV_STOP_OVERRUN_S`` (the defect: it ignores the EV's stop)."""
        if session.state is SessionState.CHARGING:
            if self._charged_trace is not session.trace:
                self._charged_trace = session.trace
            self._last_flow = (self.voltage_v, self.current_a)
            return
        if self._charged_trace is not session.trace or session.fault is not None:
            return
        if session.state not in (SessionState.WELDING_DETECTION, SessionState.STOPPED):
            return
        self._charged_trace = None  # told once
        if "energy_after_ev_stop" in self.deviations:
            volts, amps = self._last_flow
            now = time.monotonic()
            self._overrun, self._overrun_at = (now + EV_STOP_OVERRUN_S, volts, amps), now
        if session.plugged:
            self.ev_end_listener()

    def _overrun_energy(self) -> float:
        """The defect's energy since the last tick (Wh); it also shows on the output."""
        if self._overrun is None:
            return 0.0
        until, volts, amps = self._overrun
        now = min(time.monotonic(), until)
        wh = volts * amps * max(0.0, now - self._overrun_at) / 3600.0
        self._overrun_at = now
        if now >= until:
            self._overrun = None
        else:
            self.voltage_v, self.current_a = volts, amps
        self._energy_wh += wh
        return wh

    def settle(self) -> None:
        """Play the session forward to now, between ticks.

        The model counts energy per tick (:data:`DC_TICK_S`); a real output's meter counts
        continuously and its current stops when its contactor opens. Called when the
        station reads its legal register (a DC station's meterStart/meterStop are its DC
        meter's) and when the contactor opens, so that no energy is counted on the wrong
        side of a transaction's end."""
        if self._settling:
            return
        self._settling = True
        try:
            self.tick()
        except Exception:  # as in run(): a bad step must not break the caller
            LOG.exception("DC power stage: settling failed")
        finally:
            self._settling = False

    def _on_physics(self) -> None:
        closed = self.physics.contactor_closed
        opened, self._output_closed = self._output_closed and not closed, closed
        if opened:
            self.settle()  # the output opened: its current stops now, not at the next tick

    async def run(self) -> None:
        while True:
            try:
                self.tick()
            except Exception:  # a bad tick must not end the bench's power stage
                LOG.exception("DC power stage step failed")
            await asyncio.sleep(DC_TICK_S)

    # -- what the meter reads ----------------------------------------------------------

    def energy_wh(self) -> float:
        """The energy delivered, up to now: the last tick's count and the present power
        since (a register and an analyser read between ticks agree to the instant)."""
        since = max(0.0, time.monotonic() - self._ticked)
        now = self._energy_wh + self.power_w() * min(since, 2 * DC_TICK_S) / 3600.0
        self._shown_wh = max(self._shown_wh, now)
        return self._shown_wh

    def power_w(self) -> float:
        return self.voltage_v * self.current_a

    def readings(
        self, measurands: list[str], offered_a: float
    ) -> list[tuple[str, float, str, str | None, str]]:
        out: list[tuple[str, float, str, str | None, str]] = []
        for m in measurands:
            if m == "Current.Offered":
                out.append((m, self.offered_a, "A", None, "Outlet"))
            elif m == "Power.Offered":
                shown = self.offered_w
                if "power_offered_ignores_profile" in self.deviations:
                    shown = float(self.limits.max_power_w) if self.offered_w > 0 else 0.0
                out.append((m, shown, "W", None, "Outlet"))
            elif m == "Current.Import":
                out.append((m, self.current_a, "A", None, "Outlet"))
            elif m == "Voltage":
                out.append((m, self.voltage_v, "V", None, "Outlet"))
            elif m == "SoC" and self.soc_pct is not None and "soc_missing" not in self.deviations:
                out.append((m, self.soc_pct, "Percent", None, "EV"))
        return out


def stage_class(cfg: LabConfig) -> type[AcPowerStage] | type[DcPowerStage]:
    """The power stage ``dut.current_type`` asks for."""
    return DcPowerStage if cfg.dut.current_type == "DC" else AcPowerStage


def make_power_stage(cfg: LabConfig, physics: BenchPhysics) -> AcPowerStage | DcPowerStage:
    if stage_class(cfg) is DcPowerStage:
        assert cfg.dut.dc is not None  # never None on a DC station (hil.lab.config)
        return DcPowerStage(cfg.dut.dc, physics, frozenset(cfg.virtual.deviations))
    return AcPowerStage(physics)


class DcOutput:
    """The DC output as an instrument across DC+/DC- measures it: what the virtual power
    analyser reads (the bench physics' interface, one element, DC)."""

    def __init__(self, stage: DcPowerStage) -> None:
        self.stage = stage

    def phase_voltages_v(self) -> tuple[float, float, float]:
        return (self.stage.voltage_v, 0.0, 0.0)

    def phase_currents_a(self) -> tuple[float, float, float]:
        return (self.stage.current_a, 0.0, 0.0)

    def phases_in_use(self) -> int:
        return 1

    def energy_wh(self) -> float:
        return self.stage.energy_wh()

    def power_w(self) -> float:
        return self.stage.power_w()
