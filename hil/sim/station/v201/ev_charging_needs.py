"""NotifyEVChargingNeeds of a 2.0.1 DC station (OCPP 2.0.1 Part 2 K15, K17).

K15: a station that receives the EV's ChargeParameterDiscoveryReq over ISO 15118
(the lab's DIN 70121 sessions too: the message and its content are the same) tells the
CSMS what the EV needs in NotifyEVChargingNeedsRequest, so the CSMS can answer with a
charging profile that fits (load levelling). The EV's values come from the session the
DC power stage drives (:class:`~hil.sim.station.power_stage.DcPowerStage`), through its
once-per-session ChargeParameterDiscovery hook. K17 (renegotiation) sends the same
message again with the EV's new values; the message-level session has no renegotiation,
so each session sends it once.

Values the EV does not state in the modelled session are left out (they are optional in
the schema): ``departureTime`` (the emulator has no departure time) and ``bulkSoC``.
``fullSoC`` is the EV's target SoC, where it stops charging. Numbers are integers on the
wire; the EV's maxima are rounded down, so the CSMS is never told more than the EV takes.
"""

from __future__ import annotations

import logging
import math
from typing import TYPE_CHECKING, Any

from hil.sim.station.power_stage import DcPowerStage

if TYPE_CHECKING:
    from hil.sim.dc_session import DcSession, TraceRecord
    from hil.sim.station.v201.station import VirtualStation201

LOG = logging.getLogger("hil.sim.station")

ACTION = "NotifyEVChargingNeeds"


def _floor(value: float) -> int:
    return math.floor(value + 1e-9)


def _percent(value: float) -> int:
    return min(100, max(0, round(value)))


def charging_needs(evse_id: int, session: DcSession, record: TraceRecord) -> dict[str, Any]:
    """The NotifyEVChargingNeedsRequest payload for the EV of ``session`` as it was at the
    ChargeParameterDiscovery ``record`` (K15): requestedEnergyTransfer DC and the
    DC charging parameters; energyAmount is the energy from the SoC then to the target."""
    ev, battery = session.ev_limits, session.battery
    soc = record.soc_pct if record.soc_pct is not None else session.soc_pct
    energy_wh = battery.capacity_wh * max(0.0, battery.target_soc_pct - soc) / 100.0
    return {
        "evseId": evse_id,
        "chargingNeeds": {
            "requestedEnergyTransfer": "DC",
            "dcChargingParameters": {
                "evMaxCurrent": _floor(ev.max_current_a),
                "evMaxVoltage": _floor(ev.max_voltage_v),
                "evMaxPower": _floor(ev.max_power_w),
                "evEnergyCapacity": round(battery.capacity_wh),
                "energyAmount": round(energy_wh),
                "stateOfCharge": _percent(soc),
                "fullSoC": _percent(battery.target_soc_pct),
            },
        },
    }


def attach(station: VirtualStation201) -> bool:
    """On a DC station, send NotifyEVChargingNeeds when an EV session reaches
    ChargeParameterDiscovery (K15); False (nothing attached) on an AC station."""
    stage = station.charging.power_stage
    if not isinstance(stage, DcPowerStage):
        return False

    def send(session: DcSession, record: TraceRecord) -> None:
        evse_id = station.charging.ev_connector
        payload = charging_needs(evse_id, session, record)
        LOG.info("EV at ChargeParameterDiscovery on EVSE %d: %s", evse_id, payload)

        def answered(answer: dict[str, Any]) -> None:
            # Accepted / Processing: a profile may follow (K15); Rejected: none will
            LOG.info("NotifyEVChargingNeeds answered %s", answer.get("status"))

        station.enqueue(ACTION, lambda: payload, on_result=answered)

    stage.charge_parameter_hooks.append(send)
    return True
