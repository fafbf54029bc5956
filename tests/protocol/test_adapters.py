"""The protocol adapters: one lab action, each version's message, normalised results.

Every request an adapter builds must pass its version's schema (the ``ocpp`` library's),
and every answer below is a schema-valid answer of that version, so the adapters are
checked against the specification's shapes, not against themselves.
"""

from __future__ import annotations

import pytest
from ocpp.messages import Call, CallResult, _validate_payload

from hil.csms.session import StationSession
from hil.protocol import adapter_for, adapter_for_session
from hil.protocol.base import HEARTBEAT_INTERVAL, LAB_SETTINGS, RULE_BOOT, SettingStatus

V16, V201 = adapter_for("1.6"), adapter_for("2.0.1")


class FakeStation:
    """A ``call`` that checks the request against the version's schema and answers from
    ``answers`` (action -> payload), checking that answer against the schema too."""

    def __init__(self, version: str, answers: dict) -> None:
        self.version, self.answers, self.sent = version, answers, []

    def __call__(self, action: str, payload: dict) -> dict:
        _validate_payload(Call("1", action, payload), self.version)
        self.sent.append((action, payload))
        answer = self.answers[action]
        _validate_payload(CallResult("1", answer, action=action), self.version)
        return answer


def set_result(status, name="HeartbeatInterval", component="OCPPCommCtrlr", **extra):
    result = {"attributeStatus": status, "component": {"name": component}}
    result["variable"] = {"name": name}
    return {"setVariableResult": [{**result, **extra}]}


def test_adapter_is_picked_by_the_negotiated_version():
    session = StationSession("CP", journal=None, policy=None, findings=None)  # type: ignore[arg-type]
    with pytest.raises(AssertionError, match="not connected yet"):
        adapter_for_session(session)
    assert adapter_for_session(session, default="1.6") is V16
    session.ocpp_version = "2.0.1"
    assert adapter_for_session(session, default="1.6") is V201
    with pytest.raises(ValueError, match="not '2.1'"):
        adapter_for("2.1")


def test_names_differ_per_version():
    assert V16.address(HEARTBEAT_INTERVAL).label == "HeartbeatInterval"
    assert V201.address(HEARTBEAT_INTERVAL).label == "OCPPCommCtrlr.HeartbeatInterval"
    assert V16.boot_reason_field is None and V201.boot_reason_field == "reason"
    assert V16.boot_action == V201.boot_action == "BootNotification"
    assert "§4.2" in V16.rule(RULE_BOOT) and "B01" in V201.rule(RULE_BOOT)
    assert V201.certification == "OCPP 2.0.1 Core"
    for setting in LAB_SETTINGS:  # every lab setting has an address in both versions
        assert V16.address(setting) and V201.address(setting)
    with pytest.raises(ValueError, match="Component.Variable"):
        V201.address("HeartbeatInterval")
    assert V201.address("EVSE[2].Connector[1].AvailabilityState").evse == 2


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        ("Accepted", SettingStatus.ACCEPTED),
        ("Rejected", SettingStatus.REJECTED),
        ("RebootRequired", SettingStatus.REBOOT_REQUIRED),
        ("NotSupported", SettingStatus.NOT_SUPPORTED),
    ],
)
def test_change_setting_on_16(raw, status):
    station = FakeStation("1.6", {"ChangeConfiguration": {"status": raw}})
    change = V16.change_setting(station, HEARTBEAT_INTERVAL, "30")
    assert station.sent == [("ChangeConfiguration", {"key": "HeartbeatInterval", "value": "30"})]
    assert change.status is status and change.raw_status == raw


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        ("Accepted", SettingStatus.ACCEPTED),
        ("Rejected", SettingStatus.REJECTED),
        ("RebootRequired", SettingStatus.REBOOT_REQUIRED),
        ("UnknownComponent", SettingStatus.NOT_SUPPORTED),
        ("UnknownVariable", SettingStatus.NOT_SUPPORTED),
        ("NotSupportedAttributeType", SettingStatus.NOT_SUPPORTED),
    ],
)
def test_change_setting_on_201(raw, status):
    station = FakeStation("2.0.1", {"SetVariables": set_result(raw)})
    change = V201.change_setting(station, HEARTBEAT_INTERVAL, "30")
    ((action, payload),) = station.sent
    assert action == "SetVariables"
    assert payload["setVariableData"] == [
        {
            "attributeValue": "30",
            "component": {"name": "OCPPCommCtrlr"},
            "variable": {"name": "HeartbeatInterval"},
        }
    ]
    assert change.status is status and change.raw_status == raw
    assert change.status.applied == (raw in ("Accepted", "RebootRequired"))
    if raw != status:
        assert f"({raw})" in change.describe()


def test_a_status_the_version_does_not_define_fails_and_the_reason_is_kept():
    station = FakeStation(
        "2.0.1",
        {
            "SetVariables": set_result(
                "Rejected", attributeStatusInfo={"reasonCode": "ReadOnly", "additionalInfo": "x"}
            )
        },
    )
    change = V201.change_setting(station, "OCPPCommCtrlr.HeartbeatInterval", "5")
    assert change.detail == "ReadOnly x" and "ReadOnly" in change.describe()
    with pytest.raises(AssertionError, match="'Maybe'"):
        V16.change_setting(lambda a, p: {"status": "Maybe"}, HEARTBEAT_INTERVAL, "5")


def test_read_settings_on_16():
    station = FakeStation(
        "1.6",
        {
            "GetConfiguration": {
                "configurationKey": [
                    {"key": "HeartbeatInterval", "readonly": False, "value": "60"}
                ],
                "unknownKey": ["Nope"],
            }
        },
    )
    hb, nope = V16.read_settings(station, [HEARTBEAT_INTERVAL, "Nope"])
    assert station.sent == [("GetConfiguration", {"key": ["HeartbeatInterval", "Nope"]})]
    assert (hb.value, hb.known, hb.readonly) == ("60", True, False)
    assert (nope.value, nope.known) == (None, False)


def test_read_settings_on_201():
    station = FakeStation(
        "2.0.1",
        {
            "GetVariables": {
                "getVariableResult": [
                    {
                        "attributeStatus": "UnknownVariable",
                        "component": {"name": "OCPPCommCtrlr"},
                        "variable": {"name": "Nope"},
                    },
                    {
                        "attributeStatus": "Accepted",
                        "attributeValue": "60",
                        "component": {"name": "OCPPCommCtrlr"},
                        "variable": {"name": "HeartbeatInterval"},
                    },
                ]
            }
        },
    )
    hb, nope = V201.read_settings(station, [HEARTBEAT_INTERVAL, "OCPPCommCtrlr.Nope"])
    assert (hb.value, hb.known, hb.raw_status) == ("60", True, "Accepted")
    assert (nope.value, nope.known, nope.raw_status) == (None, False, "UnknownVariable")


def test_full_report_requests_and_parts():
    assert V16.full_report_request(7) == ("GetConfiguration", {})
    action, payload = V201.full_report_request(7)
    _validate_payload(Call("1", action, payload), "2.0.1")
    assert V201.full_report_arrives_in == "NotifyReport" and V16.full_report_arrives_in == "answer"
    part = {
        "requestId": 7,
        "generatedAt": "2026-01-01T00:00:00Z",
        "tbc": False,
        "reportData": [
            {
                "component": {"name": "OCPPCommCtrlr"},
                "variable": {"name": "HeartbeatInterval"},
                "variableAttribute": [{"type": "Actual", "value": "60", "mutability": "ReadWrite"}],
            },
            {
                "component": {"name": "Connector", "evse": {"id": 1, "connectorId": 1}},
                "variable": {"name": "AvailabilityState"},
                "variableAttribute": [{"value": "Available", "mutability": "ReadOnly"}],
            },
        ],
    }
    first = {**part, "seqNo": 1, "reportData": part["reportData"][1:]}
    second = {**part, "seqNo": 0, "tbc": True, "reportData": part["reportData"][:1]}
    for p in (first, second):
        _validate_payload(Call("1", "NotifyReport", p), "2.0.1")
    hb, avail = V201.settings_from_report([first, second])  # seqNo order, not arrival
    assert (hb.address.label, hb.value, hb.readonly) == (
        "OCPPCommCtrlr.HeartbeatInterval",
        "60",
        False,
    )
    assert (avail.address.label, avail.readonly) == ("EVSE[1/1].Connector.AvailabilityState", True)
    (key,) = V16.settings_from_report(
        [{"configurationKey": [{"key": "HeartbeatInterval", "readonly": True, "value": "1"}]}]
    )
    assert (key.address.label, key.readonly) == ("HeartbeatInterval", True)


def test_boot_and_status_notification_shapes():
    boot16 = {"chargePointVendor": "V", "chargePointModel": "M", "firmwareVersion": "1"}
    boot201 = {
        "reason": "PowerUp",
        "chargingStation": {"vendorName": "V", "model": "M", "firmwareVersion": "1"},
    }
    _validate_payload(Call("1", "BootNotification", boot16), "1.6")
    _validate_payload(Call("1", "BootNotification", boot201), "2.0.1")
    f16, f201 = V16.boot_facts(boot16), V201.boot_facts(boot201)
    assert (f16.vendor, f16.model, f16.firmware, f16.reason) == ("V", "M", "1", None)
    assert (f201.vendor, f201.model, f201.firmware, f201.reason) == ("V", "M", "1", "PowerUp")
    s16 = V16.connector_status({"connectorId": 2, "status": "Available", "errorCode": "NoError"})
    s201 = V201.connector_status(
        {"timestamp": "t", "connectorStatus": "Occupied", "evseId": 2, "connectorId": 1}
    )
    assert (s16.connector, s16.status, s16.error_code) == (2, "Available", "NoError")
    assert (s201.connector, s201.evse_id, s201.connector_id, s201.status) == (2, 2, 1, "Occupied")
    assert V16.status_fields(1, "Faulted") == {"connectorId": 1, "status": "Faulted"}
    assert V201.status_fields(1, "Faulted") == {"evseId": 1, "connectorStatus": "Faulted"}


@pytest.mark.parametrize("adapter", [V16, V201], ids=["1.6", "2.0.1"])
def test_availability_requests_are_valid_for_station_and_connector(adapter):
    for connector in (0, 1):
        for operative in (True, False):
            action, payload = adapter.availability_request(connector, operative)
            _validate_payload(Call("1", action, payload), adapter.version)
    assert V16.availability_request(0, False)[1] == {"connectorId": 0, "type": "Inoperative"}
    assert V201.availability_request(0, False)[1] == {"operationalStatus": "Inoperative"}
    assert V201.availability_request(2, True)[1] == {
        "operationalStatus": "Operative",
        "evse": {"id": 2},
    }


def test_status_connectors_include_the_station_only_on_16():
    assert V16.status_connectors(2) == [0, 1, 2]
    assert V201.status_connectors(2) == [1, 2]


def test_a_silently_dropped_setting_is_told_from_an_unknown_one():
    """1.6 §5.8: an unknown key is listed in unknownKey; 2.0.1 B06.FR.01: one result per
    requested variable. A name in neither is 'not answered', not 'unknown'."""
    v16 = FakeStation("1.6", {"GetConfiguration": {"unknownKey": ["HilNoSuchKey1"]}})
    one, two = V16.read_settings(v16, V16.unknown_settings(2))
    assert (one.known, one.answered) == (False, True)
    assert (two.known, two.answered) == (False, False)
    first, second = V201.unknown_settings(2)
    result = {
        "attributeStatus": "UnknownVariable",
        "component": {"name": "OCPPCommCtrlr"},
        "variable": {"name": "HilNoSuchVariable1"},
    }
    v201 = FakeStation("2.0.1", {"GetVariables": {"getVariableResult": [result]}})
    one, two = V201.read_settings(v201, [first, second])
    assert (one.known, one.answered, one.raw_status) == (False, True, "UnknownVariable")
    assert (two.known, two.answered) == (False, False)


def test_variable_instances_and_connectors_round_trip_through_labels():
    for label in (
        "DeviceDataCtrlr.ItemsPerMessage[GetVariables]",
        "EVSE[1/1].Connector.AvailabilityState",
        "EVSE[2].EVSE.Power",
        "OCPPCommCtrlr.HeartbeatInterval",
    ):
        assert V201.parse_address(label).label == label
    limit = V201.address("settings per read")
    call = FakeStation(
        "2.0.1",
        {
            "GetVariables": {
                "getVariableResult": [
                    {
                        "attributeStatus": "Accepted",
                        "attributeValue": "20",
                        "component": {"name": "DeviceDataCtrlr"},
                        "variable": {"name": "ItemsPerMessage", "instance": "GetVariables"},
                    }
                ]
            }
        },
    )
    (value,) = V201.read_settings(call, ["settings per read"])
    assert value.value == "20" and value.address == limit
    assert call.sent[0][1]["getVariableData"][0]["variable"] == {
        "name": "ItemsPerMessage",
        "instance": "GetVariables",
    }


def test_required_settings_cover_every_evse_and_connector_on_201():
    labels = V201.required_settings_for(2)
    assert "EVSE[2].EVSE.Power" in labels and "EVSE[2/1].Connector.ConnectorType" in labels
    assert "OCPPCommCtrlr.MessageTimeout[Default]" in labels
    assert V16.required_settings_for(2) == list(V16.required_settings)
    assert "HeartbeatInterval" in V16.required_settings


def test_steps_not_checked_on_a_version_say_why():
    from hil.protocol.v201 import Ocpp201

    class PartlyChecked201(Ocpp201):
        checked_steps = frozenset({"1"})

    partly = PartlyChecked201()
    assert V16.step_not_checked("7") is None
    assert partly.step_not_checked("1") is None
    assert "does not yet check this step on OCPP 2.0.1" in (partly.step_not_checked("7") or "")


@pytest.mark.parametrize("adapter", [V16, V201], ids=["1.6", "2.0.1"])
def test_trigger_and_reset_requests_are_valid(adapter):
    for message in ("BootNotification", "Heartbeat", "FirmwareStatusNotification"):
        action, payload = adapter.trigger_request(message, None)
        _validate_payload(Call("1", action, payload), adapter.version)
    for message in ("StatusNotification", "MeterValues"):
        action, payload = adapter.trigger_request(message, 1)
        _validate_payload(Call("1", action, payload), adapter.version)
    action, payload = adapter.trigger_request("DiagnosticsStatusNotification", None)
    _validate_payload(Call("1", action, payload), adapter.version)
    for kind in ("Hard", "Soft"):
        action, payload = adapter.reset_request(kind)
        _validate_payload(Call("1", action, payload), adapter.version)
    with pytest.raises(ValueError, match="reset type"):
        adapter.reset_request("Sideways")


def test_trigger_names_and_answers_differ_where_201_says_so():
    assert V201.trigger_request("DiagnosticsStatusNotification", None)[1] == {
        "requestedMessage": "LogStatusNotification"
    }
    assert V201.trigger_request("StatusNotification", 2)[1]["evse"] == {"id": 2, "connectorId": 1}
    assert V16.trigger_request("StatusNotification", 2)[1] == {
        "requestedMessage": "StatusNotification",
        "connectorId": 2,
    }
    assert V201.trigger_expected_answer("BootNotification") == "Rejected"  # F06.FR.17
    assert V16.trigger_expected_answer("BootNotification") is None
    assert V201.reset_request("Hard")[1] == {"type": "Immediate"}
    assert V201.reset_request("Soft")[1] == {"type": "OnIdle"}
    assert V201.message_connector({"evseId": 2, "connectorId": 1}) == 2
    assert V16.message_connector({"connectorId": 2}) == 2


def test_transaction_facts_of_each_version():
    start16 = {"connectorId": 1, "idTag": "T1", "meterStart": 1200, "timestamp": "x"}
    facts = V16.transaction_facts("StartTransaction", start16, {"transactionId": 7})
    assert (facts.event, facts.transaction_id, facts.tag, facts.meter_wh) == (
        "started",
        7,
        "T1",
        1200.0,
    )
    stop16 = {"transactionId": 7, "meterStop": 1500, "timestamp": "x"}
    assert V16.transaction_facts("StopTransaction", stop16).reason is None  # absent: Local
    assert V16.transaction_facts("MeterValues", {"connectorId": 1, "meterValue": []}) is None
    begin = {"value": 1.2, "context": "Transaction.Begin", "unitOfMeasure": {"unit": "kWh"}}
    started = {
        "eventType": "Started",
        "seqNo": 0,
        "transactionInfo": {"transactionId": "t-1"},
        "evse": {"id": 1, "connectorId": 1},
        "idToken": {"idToken": "T1", "type": "ISO14443"},
        "meterValue": [{"timestamp": "x", "sampledValue": [begin]}],
    }
    facts = V201.transaction_facts("TransactionEvent", started)
    assert (facts.event, facts.transaction_id, facts.connector, facts.tag) == (
        "started",
        "t-1",
        1,
        "T1",
    )
    assert facts.meter_wh == 1200.0 and facts.seq_no == 0 and not facts.offline
    ended = {
        "eventType": "Ended",
        "seqNo": 3,
        "offline": True,
        "transactionInfo": {"transactionId": "t-1", "stoppedReason": "ImmediateReset"},
    }
    facts = V201.transaction_facts("TransactionEvent", ended)
    assert (facts.reason, facts.offline, facts.meter_wh) == ("HardReset", True, None)
    del ended["transactionInfo"]["stoppedReason"]
    assert V201.transaction_facts("TransactionEvent", ended).reason is None  # absent: Local
    assert V201.authorize_tag({"idToken": {"idToken": "T1", "type": "ISO14443"}}) == "T1"
    assert V16.authorize_tag({"idTag": "T1"}) == "T1"


def test_the_boot_status_rule_is_the_versions_own():
    """Step 1's StatusNotification after boot: 1.6 has connector 0, the main controller
    (§4.9, §6.47); 2.0.1 reports per EVSE and connector (B01, G01) and has no connector 0, so
    its failure must not cite 1.6's connector 0."""
    from hil.protocol.base import RULE_BOOT_STATUS

    assert 0 in V16.status_connectors(2) and 0 not in V201.status_connectors(2)
    assert "connectorId 0 is the Charge Point main controller" in V16.rule(RULE_BOOT_STATUS)
    v201 = V201.rule(RULE_BOOT_STATUS)
    assert "B01" in v201 and "G01" in v201 and "no connector 0" in v201
    assert "1.6" not in v201
