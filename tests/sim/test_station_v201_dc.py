"""A 2.0.1 DC station as an ISO 15118 station: NotifyEVChargingNeeds and its device model.

Expectations come from OCPP 2.0.1 Part 2 (K15 NotifyEVChargingNeeds; the appendix of
standardized components and variables: ISO15118Ctrlr, EVSE, Connector), not from the
station's code. The bench runs against the lab's real back office (as in
test_virtual_dc_bench.py); the EV is driven only through the hil-dcev driver.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from ocpp.messages import MessageType, get_validator

from hil.csms.journal import CALL, CALLRESULT, RX, TX, Frame
from hil.lab.config import LabConfig, parse_lab_config
from hil.sim.dc_session import DcSession
from hil.sim.instruments.dc_ev_emulator import VirtualDcEvEmulator
from hil.sim.physics import BenchPhysics
from hil.sim.station.power_stage import DcPowerStage, make_power_stage
from hil.sim.station.station import VirtualStation
from hil.sim.station.v201.device_model import ComponentKey
from hil.sim.station.v201.station import VirtualStation201
from tests.sim.test_virtual_dc_bench import DcRig

REPO = Path(__file__).resolve().parents[2]
NEEDS = "NotifyEVChargingNeeds"
WAIT_S = 8.0


def lab(name: str) -> LabConfig:
    return parse_lab_config(yaml.safe_load((REPO / "lab_configs" / name).read_text()), name)


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[DcRig]:
    made = DcRig(tmp_path / "rig", "virtual-dc-201.yaml")
    try:
        yield made
    finally:
        made.close()


def needs_frames(rig: DcRig, after: int = 0) -> list[Frame]:
    return [
        f for f in rig.journal.frames(after) if f.dir == RX and f.kind == CALL and f.action == NEEDS
    ]


def wait_until(check: Callable[[], Any], what: str, timeout: float = WAIT_S) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def schema_errors(payload: dict[str, Any]) -> list[str]:
    validator = get_validator(MessageType.Call, NEEDS, "2.0.1")
    return [e.message for e in validator.iter_errors(payload)]


def answer_to(rig: DcRig, request: Frame) -> Frame:
    return wait_until(
        lambda: next(
            (
                f
                for f in rig.journal.frames(request.seq)
                if f.dir == TX and f.kind == CALLRESULT and f.unique_id == request.unique_id
            ),
            None,
        ),
        f"the back office's answer to {NEEDS}",
    )


def test_notify_ev_charging_needs_once_per_session_with_the_evs_values(rig: DcRig) -> None:
    """K15: at the EV's ChargeParameterDiscovery a 2.0.1 DC station sends
    NotifyEVChargingNeedsRequest with the EV's DC parameters, schema-valid, and the back
    office answers Accepted; once per session (a station that repeated it every exchange
    would flood the CSMS; one that sent stale values would make it plan with the wrong
    battery). A second session with another SoC sends its own, new values."""
    rig.wait_for("BootNotification")
    findings_mark = rig.office.findings.mark
    rig.ev.set_battery(capacity_wh=60_000, initial_soc_pct=30, target_soc_pct=90)
    rig.ev.set_ev_limits(max_voltage_v=500, max_current_a=150, max_power_w=90_000)
    rig.ev.plug()
    mark = rig.journal.cursor
    rig.ev.start_session("ISO15118-2")

    first = rig.wait_for(NEEDS, mark)
    assert first.payload == {
        "evseId": 1,
        "chargingNeeds": {
            "requestedEnergyTransfer": "DC",
            "dcChargingParameters": {
                "evMaxCurrent": 150,
                "evMaxVoltage": 500,
                "evMaxPower": 90_000,
                "evEnergyCapacity": 60_000,
                "energyAmount": 36_000,  # 60 % of 60 kWh, from 30 % to the 90 % target
                "stateOfCharge": 30,
                "fullSoC": 90,
            },
        },
    }
    assert schema_errors(first.payload) == []
    assert answer_to(rig, first).payload == {"status": "Accepted"}
    trace = rig.ev.read_trace()
    assert "ChargeParameterDiscovery" in [r.message for r in trace]

    # the session goes on (cable check, pre-charge...): no second notification
    wait_until(
        lambda: [r for r in rig.ev.read_trace() if r.message in ("CableCheck", "PreCharge")][5:],
        "the session to pass ChargeParameterDiscovery by several exchanges",
    )
    assert len(needs_frames(rig, mark)) == 1

    rig.ev.stop_session()
    wait_until(lambda: rig.ev.read_status().state == "stopped", "the EV's session to stop")
    rig.ev.set_battery(initial_soc_pct=50)
    rig.ev.start_session("DIN70121")
    second = rig.wait_for(NEEDS, first.seq)
    params = second.payload["chargingNeeds"]["dcChargingParameters"]
    assert params["stateOfCharge"] == 50
    assert params["energyAmount"] == 24_000
    assert len(needs_frames(rig, mark)) == 2
    assert rig.office.findings.since(findings_mark) == []  # nothing the back office refused


def get_variables(rig: DcRig, wanted: list[tuple[dict[str, Any], str, str | None]]) -> list:
    data = [
        {"component": comp, "variable": {"name": name}, **({"attributeType": at} if at else {})}
        for comp, name, at in wanted
    ]
    return rig.call("GetVariables", {"getVariableData": data})["getVariableResult"]


def test_get_variables_reads_the_iso15118_controller_and_dc_ratings(rig: DcRig) -> None:
    """Appendix: a station with ISO 15118 has ISO15118Ctrlr (ContractValidationOffline
    required); a DC EVSE has no AC phases, a CCS2 connector and its DC power as
    EVSE.Power MaxSet. Plug & Charge is not offered, so switching it on is Rejected
    (a station that said Accepted and then ignored it would mislead the CSMS)."""
    rig.wait_for("BootNotification")
    iso = {"name": "ISO15118Ctrlr"}
    evse = {"name": "EVSE", "evse": {"id": 1}}
    conn = {"name": "Connector", "evse": {"id": 1, "connectorId": 1}}
    results = get_variables(
        rig,
        [
            (iso, "ContractValidationOffline", None),
            (iso, "SeccId", None),
            (iso, "PnCEnabled", None),
            (iso, "V2GCertificateInstallationEnabled", None),
            ({"name": "ISO15118Ctrlr", "evse": {"id": 1}}, "ISO15118EvseId", None),
            (evse, "SupplyPhases", None),
            (evse, "Power", "MaxSet"),
            (conn, "ConnectorType", None),
            (conn, "SupplyPhases", None),
            ({"name": "ChargingStation"}, "SupplyPhases", None),
        ],
    )
    values = [(r["attributeStatus"], r.get("attributeValue")) for r in results]
    assert values == [
        ("Accepted", "false"),
        ("Accepted", "VIRTUAL-DC-001"),
        ("Accepted", "false"),
        ("Accepted", "false"),
        ("Accepted", "VIRTUAL-DC-001*1"),
        ("Accepted", "0"),
        ("Accepted", "50000"),
        ("Accepted", "cCCS2"),
        ("Accepted", "0"),
        ("Accepted", "0"),
    ]
    answer = rig.call(
        "SetVariables",
        {
            "setVariableData": [
                {"component": iso, "variable": {"name": "PnCEnabled"}, "attributeValue": "true"},
                {
                    "component": iso,
                    "variable": {"name": "ContractValidationOffline"},
                    "attributeValue": "true",
                },
            ]
        },
    )
    assert [r["attributeStatus"] for r in answer["setVariableResult"]] == ["Rejected", "Accepted"]
    (offline,) = get_variables(rig, [(iso, "ContractValidationOffline", None)])
    assert offline["attributeValue"] == "true"


def test_full_inventory_reports_iso15118ctrlr_and_no_ac_phases(rig: DcRig) -> None:
    """B08 FullInventory of a DC station: the ISO15118Ctrlr variables are in it, EVSE.Power
    carries maxLimit = dut.dc.max_power_w (required by the appendix) and every
    SupplyPhases is 0: a DC station reporting 3 AC phases would be planned by a CSMS as
    an AC one."""
    rig.wait_for("BootNotification")
    mark = rig.journal.cursor
    answer = rig.call("GetBaseReport", {"requestId": 42, "reportBase": "FullInventory"})
    assert answer["status"] == "Accepted"
    data: list[dict[str, Any]] = []

    def complete() -> bool:
        data.clear()
        pages = [
            f.payload
            for f in rig.journal.frames(mark)
            if f.dir == RX and f.kind == CALL and f.action == "NotifyReport"
        ]
        for page in pages:
            data.extend(page["reportData"])
        return bool(pages) and not pages[-1]["tbc"]

    wait_until(complete, "the last NotifyReport page")
    by_name = {}
    for item in data:
        by_name.setdefault((item["component"]["name"], item["variable"]["name"]), []).append(item)
    iso_names = {name for comp, name in by_name if comp == "ISO15118Ctrlr"}
    assert {
        "ContractValidationOffline",
        "CentralContractValidationAllowed",
        "SeccId",
        "PnCEnabled",
        "V2GCertificateInstallationEnabled",
        "ContractCertificateInstallationEnabled",
        "ISO15118EvseId",
        "OrganizationName",
    } <= iso_names
    phases = [
        item["variableAttribute"][0]["value"]
        for (_, name), items in by_name.items()
        if name == "SupplyPhases"
        for item in items
    ]
    # ChargingStation, then each EVSE and its connector: no AC phases anywhere
    assert phases == ["0"] * (1 + 2 * rig.cfg.dut.connectors), phases
    powers = by_name[("EVSE", "Power")]
    assert [p["variableCharacteristics"]["maxLimit"] for p in powers] == [50_000] * len(powers)
    assert {p["variableCharacteristics"]["unit"] for p in powers} == {"W"}


# -- without a bench: the hook, AC and 1.6 stations --------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_power_stage_calls_its_hooks_once_per_session_at_charge_parameter_discovery():
    """DcPowerStage's hook fires when the trace reaches ChargeParameterDiscovery (the
    fifth setup message, 0.5 s of session time), not before, and not again in the same
    session however many ticks follow; a new session fires it again."""
    cfg = lab("virtual-dc-201.yaml")
    stage = make_power_stage(cfg, BenchPhysics())
    assert isinstance(stage, DcPowerStage)
    clock = FakeClock()
    emulator = VirtualDcEvEmulator(clock=clock)
    stage.attach(emulator=emulator)
    calls: list[tuple[DcSession, str, float | None]] = []
    stage.charge_parameter_hooks.append(lambda s, r: calls.append((s, r.message, r.soc_pct)))
    session = emulator.session
    session.plug()
    session.start()
    for now in (0.1, 0.2, 0.3, 0.45):
        clock.now = now
        stage.tick()
    assert calls == []
    for step in range(30):  # into the cable check
        clock.now = 0.55 + step * 0.1
        stage.tick()
    assert [(m, soc) for _, m, soc in calls] == [("ChargeParameterDiscovery", 20.0)]
    session.stop()
    clock.now += 1.0
    stage.tick()
    session.set_battery(initial_soc_pct=60.0, target_soc_pct=80.0)
    session.start()
    clock.now += 1.0
    stage.tick()
    assert [(m, soc) for _, m, soc in calls] == [
        ("ChargeParameterDiscovery", 20.0),
        ("ChargeParameterDiscovery", 60.0),
    ]


def test_an_ac_station_device_model_has_no_iso15118ctrlr_and_sends_no_ev_needs():
    """An AC 2.0.1 station is unchanged: three phases, cType2, EVSE.Power MaxSet from
    230 V x 3 x 32 A without maxLimit, no ISO15118Ctrlr, nothing hooked on its power stage."""
    cfg = lab("virtual-201.yaml")
    station = VirtualStation201(cfg, BenchPhysics(), "ws://127.0.0.1:1")
    dm = station.device_model
    assert not any(c.name == "ISO15118Ctrlr" for c in dm.components())
    assert dm.value(dm.find(ComponentKey("EVSE", evse=1), "SupplyPhases")) == str(cfg.dut.phases)
    conn = ComponentKey("Connector", evse=1, connector=1)
    assert dm.value(dm.find(conn, "ConnectorType")) == "cType2"
    power = dm.find(ComponentKey("EVSE", evse=1), "Power")
    assert power.attributes["MaxSet"].value == str(
        round(230 * cfg.dut.phases * cfg.dut.max_current_a)
    )
    assert power.max_limit is None
    assert not hasattr(station.charging.power_stage, "charge_parameter_hooks")


def test_a_dc_station_on_ocpp_16_hooks_nothing():
    """NotifyEVChargingNeeds is OCPP 2.0.1 only: a 1.6 DC station registers no hook, so
    it never tries to send it."""
    station = VirtualStation(lab("virtual-dc.yaml"), BenchPhysics(), "ws://127.0.0.1:1")
    stage = station.charging.power_stage
    assert isinstance(stage, DcPowerStage)
    assert stage.charge_parameter_hooks == []
    dc201 = VirtualStation201(lab("virtual-dc-201.yaml"), BenchPhysics(), "ws://127.0.0.1:1")
    assert len(dc201.charging.power_stage.charge_parameter_hooks) == 1
