"""The DC EV: the DC EV emulator on the CCS connector (pilot and DIN 70121 / ISO 15118-2).

"Requests charge" starts the EV's high-level session with the first protocol of
``dut.dc.protocols``; the station then runs cable check, pre-charge and CurrentDemand. An
EV-side fault ends a DC session (a real EV does not resume a session after a pilot error
or an insulation fault), so clearing it starts a new session, as a real EV that is still
asking for energy does; the transaction's charging resumes through a new cable check.
"""

from __future__ import annotations

from typing import Any

from hil.lab.ev_side.base import EvSide, Offer

#: EV-side fault kinds of the checklist and how the emulator makes them
PILOT_FAULTS = {"E": "E", "F": "F", "DIODE": "F"}
SESSION_FAULTS = {"INSULATION": "INSULATION", "ESTOP": "ESTOP", "OVERVOLTAGE": "OVERVOLTAGE"}
#: session states in which the EV asks for energy (docs/dc-ev-emulator-protocol.md)
RUNNING = ("setup", "cable_check", "pre_charge", "charging")
#: the EV asks for this share of the station's maximum current, so that a station that
#: delivers more than the EV asks for shows it, and a released limit returns to the EV's
EV_CURRENT_SHARE = 0.8


#: the battery of the lab's sessions (the emulator's power-up battery): they never reach
#: the target SoC
BATTERY = {"capacity_wh": 50_000.0, "initial_soc_pct": 20.0, "target_soc_pct": 80.0}
#: a session the EV ends: this many SoC points from the start to the target
SHORT_SESSION_SOC_PCT = 1.0


class DcEvSide(EvSide):
    role = "dc_ev_emulator"
    insulation_monitored = True
    ends_its_session = True
    instructions = {
        "plug_in": "Plug the DC EV emulator into the station's CCS connector",
        "request_charge": "Start the DC EV emulator's charging session",
        "stop_charging": "Let the DC EV emulator end its charging session",
        "unplug": "Unplug the DC EV emulator",
        "inject_fault": "Inject fault {kind} on the DC EV emulator",
        "clear_fault": "Clear the fault on the DC EV emulator",
    }

    def __init__(
        self, driver: Any, protocol: str = "DIN70121", station_max_current_a: float = 200.0
    ) -> None:
        super().__init__(driver)
        self.protocol = protocol
        #: what the EV asks for at most (DIN 70121 / ISO 15118-2 EVMaximumCurrentLimit)
        self.max_current_a = max(1.0, round(station_max_current_a * EV_CURRENT_SHARE))
        self._wants_energy = False  # the lab asked for charge and not for a stop since

    def plug_in(self) -> None:
        if self.driver.read_status().state not in RUNNING:
            self.driver.set_ev_limits(max_current_a=self.max_current_a)
        self.driver.plug()

    def request_limit_a(self) -> float | None:
        return self.max_current_a

    def delivery_problem(self, current_a: float, tolerance_a: float) -> str | None:
        if current_a > self.max_current_a + tolerance_a:
            return (
                f"the station delivers {current_a:.1f} A, more than the EV asks for at most "
                f"({self.max_current_a:g} A EVMaximumCurrentLimit, ± {tolerance_a:g} A; DIN "
                "70121 / ISO 15118-2: the EVSE delivers no more than the EV's target)"
            )
        return None

    def request_charge(self) -> None:
        self._wants_energy = True
        self._start()

    def _start(self) -> None:
        if self.driver.read_status().state not in RUNNING:
            self.driver.start_session(self.protocol, "EIM")

    def stop_charging(self) -> None:
        self._wants_energy = False
        self.driver.stop_session()

    def unplug(self) -> None:
        self._wants_energy = False
        self.driver.unplug()

    def inject_fault(self, kind: str) -> None:
        key = str(kind).upper()
        if key in PILOT_FAULTS:
            self.driver.set_pilot_state(PILOT_FAULTS[key])
        elif key in SESSION_FAULTS:
            self.driver.inject_fault(SESSION_FAULTS[key])
        else:
            known = ", ".join([*PILOT_FAULTS, *SESSION_FAULTS])
            raise ValueError(f"unknown EV fault {kind!r} on a DC EV; known: {known}")

    def clear_fault(self) -> None:
        self.driver.clear_fault()
        if self.driver.read_pilot_state() in ("E", "F"):
            self.driver.set_pilot_state(None)
        if self._wants_energy and self.plugged():
            self._start()  # the EV asks again: a new session, a new cable check

    def restart_session(self) -> None:
        """The EV tries again, as a real one does after its session failed."""
        if self._wants_energy and self.plugged():
            self._start()

    def read_offer(self) -> Offer:
        offer = self.driver.read_offer()
        return Offer(
            offer.max_current_a,
            offer.max_power_w,
            f"the station offers {offer.max_current_a:g} A / {offer.max_power_w:g} W in its "
            "CurrentDemand responses (EVSEMaximumCurrentLimit / EVSEMaximumPowerLimit)",
        )

    def prepare_short_session(self, wh: float) -> float:
        target = BATTERY["target_soc_pct"]
        self.driver.set_battery(
            capacity_wh=max(1.0, float(wh) * 100.0 / SHORT_SESSION_SOC_PCT),
            initial_soc_pct=target - SHORT_SESSION_SOC_PCT,
            target_soc_pct=target,
        )
        return target

    def restore_battery(self) -> None:
        if self.driver.read_status().state not in RUNNING:
            self.driver.set_battery(**BATTERY)

    def read_soc(self) -> float | None:
        return float(self.driver.read_present().soc_pct)

    def plugged(self) -> bool:
        return self.driver.read_pilot_state() != "A"

    def release(self) -> None:
        self._wants_energy = False
        self.driver.clear_fault()
        self.driver.set_pilot_state(None)
        self.driver.unplug()
        self.restore_battery()
