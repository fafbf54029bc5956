"""The AC EV: the EV simulator on the control pilot (IEC 61851-1 states A-F)."""

from __future__ import annotations

from hil.lab.ev_side.base import EvSide, Offer


class AcEvSide(EvSide):
    role = "ev_simulator"
    instructions = {
        "plug_in": "Plug the EV into connector 1 (state B)",
        "request_charge": "Let the EV request charging (state C)",
        "stop_charging": "Let the EV pause charging (state B)",
        "unplug": "Unplug the EV (state A)",
        "inject_fault": "Inject pilot fault {kind} on the EV side",
        "clear_fault": "Clear the pilot fault",
    }

    def plug_in(self) -> None:
        self.driver.plug_in()

    def request_charge(self) -> None:
        self.driver.request_charge()

    def stop_charging(self) -> None:
        self.driver.stop_charge_request()

    def unplug(self) -> None:
        self.driver.unplug()

    def inject_fault(self, kind: str) -> None:
        self.driver.inject_fault(kind)

    def clear_fault(self) -> None:
        self.driver.clear_fault()

    def read_offer(self) -> Offer:
        reading = self.driver.read_pilot()
        return Offer(
            reading.offered_current_a,
            None,
            f"the pilot (state {reading.state}, duty {reading.duty_percent} %) offers "
            f"{reading.offered_current_a:g} A",
        )

    def plugged(self) -> bool:
        return self.driver.read_pilot().state != "A"
