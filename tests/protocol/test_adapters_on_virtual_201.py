"""The adapters against real stations through the real back office: the 2.0.1 virtual
station (subprotocol ocpp2.0.1) and the 1.6 one, the same lab actions on both."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
import yaml

from hil.csms.journal import CALL, RX
from hil.csms.loop import BackgroundLoop
from hil.csms.policy import ResponsePolicy
from hil.csms.server import BackOffice
from hil.lab.config import parse_lab_config
from hil.protocol import adapter_for_session
from hil.protocol.base import HEARTBEAT_INTERVAL, SettingStatus
from hil.sim.physics import BenchPhysics

REPO = Path(__file__).resolve().parents[2]


def _station(version: str, cfg, url: str):
    if version == "2.0.1":
        from hil.sim.station.v201.station import VirtualStation201

        return VirtualStation201(cfg, BenchPhysics(supply_phases=3), url)
    from hil.sim.station.station import VirtualStation

    return VirtualStation(cfg, BenchPhysics(supply_phases=3), url)


@pytest.fixture(params=["1.6", "2.0.1"])
def rig(request, tmp_path):
    version = request.param
    data = yaml.safe_load((REPO / "lab_configs" / "virtual.yaml").read_text())
    data["virtual"].update(boot_delay_s=0)
    data["dut"].update(ocpp=version)
    cfg = parse_lab_config(data, "test")
    loop = BackgroundLoop("test-protocol").start()
    office = BackOffice(
        ResponsePolicy(heartbeat_interval=30),
        tmp_path / "journal",
        call_timeout=5,
        ping_interval=None,
        versions=(version,),
    )
    loop.run(office.start(), timeout=5)
    station = _station(version, cfg, office.url())
    task = asyncio.run_coroutine_threadsafe(station.run(), loop.loop)
    end = time.monotonic() + 10
    while True:  # the session the station's connection made (asked anew: it may replace one)
        session = office.session(cfg.dut.station_id)
        if session.journal.find(
            lambda f: f.dir == RX and f.kind == CALL and f.action == "StatusNotification"
        ):
            break
        assert time.monotonic() < end, "the virtual station did not boot"
        time.sleep(0.05)
    yield version, session, lambda action, payload: loop.run(session.call(action, payload), 10)
    loop.run(station.stop(), timeout=10)
    task.cancel()
    loop.run(office.stop(), timeout=5)
    loop.stop()


def test_the_same_lab_actions_on_each_version(rig):
    version, session, call = rig
    protocol = adapter_for_session(session)
    assert protocol.version == version == session.ocpp_version
    boot = session.journal.find(lambda f: f.dir == RX and f.action == "BootNotification")[0]
    facts = protocol.boot_facts(boot.payload)
    assert facts.vendor and facts.model
    assert (facts.reason is None) == (version == "1.6")
    status = session.journal.find(lambda f: f.dir == RX and f.action == "StatusNotification")
    assert protocol.connector_status(status[-1].payload).status

    change = protocol.change_setting(call, HEARTBEAT_INTERVAL, "17")
    assert change.status is SettingStatus.ACCEPTED, change.describe()
    (value,) = protocol.read_settings(call, [HEARTBEAT_INTERVAL])
    assert (value.known, value.value) == (True, "17")
    bad = protocol.change_setting(call, HEARTBEAT_INTERVAL, "not-a-number")
    assert bad.status is SettingStatus.REJECTED, bad.describe()
    unknown = protocol.read_settings(
        call, ["HilNoSuchKey" if version == "1.6" else "OCPPCommCtrlr.HilNoSuchVariable"]
    )
    assert unknown[0].known is False


def test_the_whole_configuration_on_each_version(rig):
    version, session, call = rig
    protocol = adapter_for_session(session)
    mark = session.journal.cursor
    action, payload = protocol.full_report_request(9)
    answer = call(action, payload)
    if protocol.full_report_arrives_in == "answer":
        parts = [answer]
    else:
        assert answer["status"] == "Accepted"

        def report_parts():
            return [
                f.payload
                for f in session.journal.find(
                    lambda f: (
                        f.dir == RX
                        and f.kind == CALL
                        and f.action == protocol.full_report_arrives_in
                        and f.payload.get("requestId") == 9
                    ),
                    after=mark,
                )
            ]

        end = time.monotonic() + 10
        while not any(not p.get("tbc", False) for p in report_parts()):
            assert time.monotonic() < end, "the report did not end (tbc false never came)"
            time.sleep(0.05)
        parts = report_parts()
    settings = {s.address.label: s for s in protocol.settings_from_report(parts)}
    heartbeat = settings[protocol.address(HEARTBEAT_INTERVAL).label]
    assert heartbeat.value and heartbeat.readonly is False
