"""The virtual PDU's outlet is the virtual station's mains: off is a power cut, on a boot.

A real back office, the virtual station and the virtual PDU on loopback; the outlet is
switched with the lab's own snmp-pdu driver, as step 1 does through ``Restart Station``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from drivers.registry import create_driver
from hil.csms.journal import EVENT, TX
from hil.sim.instruments.snmp_pdu import VirtualPdu
from tests.sim.maintenance_rig import MaintenanceRig, iso_in

TAG = "VALID-TAG-01"


@pytest.fixture
def bench(tmp_path: Path) -> Iterator[tuple[MaintenanceRig, VirtualPdu, Any]]:
    rig = MaintenanceRig(tmp_path, [], {})
    pdu = VirtualPdu({1: rig.station.set_mains})
    url = rig.loop.run(pdu.start(), timeout=5)
    relay = create_driver(
        "power_relay", "snmp-pdu", url, {"outlet": 1, "timeout": 0.5, "retries": 0}
    )
    relay.open()
    try:
        yield rig, pdu, relay
    finally:
        relay.close()
        rig.loop.run(pdu.stop(), timeout=5)
        rig.close()


def _charging(rig: MaintenanceRig) -> int:
    """Start a session (plug in, tag, state C) and return the journal mark after it."""
    physics = rig.physics
    rig.on_loop(physics.set_ev_state, "B")
    rig.on_loop(rig.station.charging.present_tag, TAG)
    rig.wait_for("StartTransaction", kinds=("CALLRESULT",), direction=TX)
    rig.on_loop(physics.set_ev_state, "C")
    frame = rig.wait_for("StatusNotification", connectorId=1, status="Charging")
    assert physics.contactor_closed and physics.pilot_duty is not None
    return frame.seq


def test_power_off_is_a_cut_and_power_on_a_boot(
    bench: tuple[MaintenanceRig, VirtualPdu, Any],
) -> None:
    rig, pdu, relay = bench
    station, physics = rig.station, rig.physics
    assert rig.call("ChangeConfiguration", {"key": "MeterValueSampleInterval", "value": "7"}) == {
        "status": "Accepted"
    }
    mark = _charging(rig)

    relay.power_off()

    # the connection drops without a close frame, and nothing was said before it
    gone = rig.journal.wait_for(
        lambda f: f.dir == EVENT and f.kind == "disconnect", mark, 5, "the disconnect"
    )
    info = gone.info
    assert info["code"] == 1006 and info["remote_code"] is None, info
    assert rig.calls("StopTransaction", mark) == []
    # power stops in the physics model: no PWM, contactor open; RAM is gone
    assert physics.pilot_duty is None and not physics.contactor_closed
    assert rig.on_loop(lambda: station.powered) is False
    assert rig.on_loop(lambda: station.charging.sessions) == {}
    assert pdu.outlets[1] is False

    cut = rig.journal.cursor
    relay.power_on()

    boot = rig.wait_for("BootNotification", cut)
    rig.wait_for("BootNotification", boot.seq, kinds=("CALLRESULT",), direction=TX)
    rig.wait_for("StatusNotification", boot.seq, connectorId=1)
    # flash survived: the changed key; RAM did not: no transaction, and never a StopTransaction
    answer = rig.call("GetConfiguration", {"key": ["MeterValueSampleInterval"]})
    assert answer["configurationKey"][0]["value"] == "7"
    assert rig.calls("StopTransaction", mark) == []
    assert rig.on_loop(lambda: station.charging.transaction(1)) is None
    assert physics.pilot_duty is None and not physics.contactor_closed


def test_unavailable_survives_a_power_cut(bench: tuple[MaintenanceRig, VirtualPdu, Any]) -> None:
    rig, _, relay = bench
    assert rig.call("ChangeAvailability", {"connectorId": 1, "type": "Inoperative"}) == {
        "status": "Accepted"
    }
    rig.wait_for("StatusNotification", connectorId=1, status="Unavailable")
    mark = rig.journal.cursor
    relay.power_cycle(0.1)
    boot = rig.wait_for("BootNotification", mark)
    rig.wait_for("StatusNotification", boot.seq, connectorId=1, status="Unavailable")


def test_a_tag_at_a_dead_station_does_nothing(
    bench: tuple[MaintenanceRig, VirtualPdu, Any],
) -> None:
    rig, _, relay = bench
    relay.power_off()
    mark = rig.journal.cursor
    rig.on_loop(rig.physics.set_ev_state, "B")
    rig.on_loop(rig.station.charging.present_tag, TAG)
    relay.power_on()
    boot = rig.wait_for("BootNotification", mark)
    rig.wait_for("StatusNotification", boot.seq, connectorId=1, status="Preparing")
    assert rig.calls("StartTransaction", mark) == []


def test_charging_profiles_survive_a_power_cut(tmp_path: Path) -> None:
    rig = MaintenanceRig(tmp_path, [], {"smart_charging": True})
    pdu = VirtualPdu({1: rig.station.set_mains})
    url = rig.loop.run(pdu.start(), timeout=5)
    relay = create_driver("power_relay", "snmp-pdu", url, {"timeout": 0.5, "retries": 0})
    relay.open()
    try:
        profile = {
            "chargingProfileId": 7,
            "stackLevel": 0,
            "chargingProfilePurpose": "TxDefaultProfile",
            "chargingProfileKind": "Absolute",
            "chargingSchedule": {
                "startSchedule": iso_in(-5),
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 10.0}],
            },
        }
        answer = rig.call("SetChargingProfile", {"connectorId": 0, "csChargingProfiles": profile})
        assert answer == {"status": "Accepted"}
        before = rig.call("GetCompositeSchedule", {"connectorId": 1, "duration": 60})
        assert before["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"] == 10.0, before
        mark = rig.journal.cursor
        relay.power_cycle(0.1)
        boot = rig.wait_for("BootNotification", mark)
        rig.wait_for("BootNotification", boot.seq, kinds=("CALLRESULT",), direction=TX)
        schedule = rig.call("GetCompositeSchedule", {"connectorId": 1, "duration": 60})
        assert schedule["status"] == "Accepted", schedule
        periods = schedule["chargingSchedule"]["chargingSchedulePeriod"]
        assert periods[0]["limit"] == 10.0, schedule
    finally:
        relay.close()
        rig.loop.run(pdu.stop(), timeout=5)
        rig.close()
