"""The back office on an OCPP 2.0.1 connection (subprotocol ``ocpp2.0.1``), over real
WebSockets: registration, answers validated against the 2.0.1 schemas, findings with the
frame, a version pinned by the lab config, and back-office CALLs in 2.0.1."""

from __future__ import annotations

import asyncio
import json

import pytest
from ocpp.messages import Call, CallResult, _validate_payload
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from hil.csms.journal import CALL, CALLRESULT, EVENT, RX, TX

BOOT_201 = {
    "reason": "PowerUp",
    "chargingStation": {"vendorName": "V", "model": "M", "firmwareVersion": "1"},
}
STATION = "CP-201"


def run(office, coro, timeout=10):
    return office.loop.run(coro, timeout)


def call(uid, action, payload):
    return json.dumps([2, uid, action, payload])


async def exchange(url, frames, subprotocols=("ocpp2.0.1",)):
    """Connect, send raw frames, collect one reply per frame (None when none comes)."""
    replies = []
    async with connect(url, subprotocols=list(subprotocols)) as ws:
        assert ws.subprotocol == subprotocols[0]
        for frame in frames:
            await ws.send(frame)
            try:
                replies.append(await asyncio.wait_for(ws.recv(), 1.0))
            except TimeoutError:
                replies.append(None)
    return replies


def assert_valid_201_result(action, reply):
    """The reply is a CALLRESULT whose payload the 2.0.1 schema of ``action`` accepts."""
    message = json.loads(reply)
    assert message[0] == 3, reply
    _validate_payload(CallResult(message[1], message[2], action=action), "2.0.1")
    return message[2]


def test_a_201_station_registers_and_its_frames_are_journaled(back_office_any):
    office = back_office_any
    office.policy.set_boot_answer("Accepted", 42)
    (boot,) = run(office, exchange(office.url(STATION), [call("b1", "BootNotification", BOOT_201)]))
    answer = assert_valid_201_result("BootNotification", boot)
    assert answer["status"] == "Accepted" and answer["interval"] == 42
    session = office.session(STATION)
    assert session.ocpp_version == "2.0.1"
    journal = session.journal
    (connect_event,) = journal.find(lambda f: f.dir == EVENT and f.kind == "connect")
    assert connect_event.info["subprotocol"] == "ocpp2.0.1"
    rx = journal.find(lambda f: f.dir == RX and f.kind == CALL)
    tx = journal.find(lambda f: f.dir == TX and f.kind == CALLRESULT)
    assert [(f.action, f.payload) for f in rx] == [("BootNotification", BOOT_201)]
    assert tx[0].action == "BootNotification" and tx[0].payload["status"] == "Accepted"
    assert journal.path is not None and "BootNotification" in journal.path.read_text()
    assert "connected 1 time" in office.connection_summary(STATION)
    assert "answered Accepted" in office.connection_summary(STATION)


def test_the_station_order_of_preference_picks_the_version(back_office_any):
    office = back_office_any
    run(office, exchange(office.url("CP-PREF"), [], subprotocols=("ocpp1.6", "ocpp2.0.1")))
    assert office.session("CP-PREF").ocpp_version == "1.6"
    run(office, exchange(office.url("CP-PREF"), [], subprotocols=("ocpp2.0.1", "ocpp1.6")))
    assert office.session("CP-PREF").ocpp_version == "2.0.1"


NOW = "2026-01-01T00:00:00Z"
STATION_CALLS = [
    ("Heartbeat", {}),
    (
        "StatusNotification",
        {"timestamp": NOW, "connectorStatus": "Available", "evseId": 1, "connectorId": 1},
    ),
    ("NotifyReport", {"requestId": 1, "generatedAt": NOW, "seqNo": 0, "tbc": False}),
    ("Authorize", {"idToken": {"idToken": "GOOD", "type": "ISO14443"}}),
    (
        "TransactionEvent",
        {
            "eventType": "Started",
            "timestamp": NOW,
            "triggerReason": "Authorized",
            "seqNo": 0,
            "transactionInfo": {"transactionId": "tx-1"},
            "idToken": {"idToken": "NOBODY", "type": "ISO14443"},
        },
    ),
    (
        "MeterValues",
        {"evseId": 1, "meterValue": [{"timestamp": NOW, "sampledValue": [{"value": 1.0}]}]},
    ),
    ("FirmwareStatusNotification", {"status": "Downloaded", "requestId": 1}),
    ("LogStatusNotification", {"status": "Uploaded", "requestId": 1}),
    (
        "NotifyEvent",
        {
            "generatedAt": NOW,
            "seqNo": 0,
            "eventData": [
                {
                    "eventId": 1,
                    "timestamp": NOW,
                    "trigger": "Delta",
                    "actualValue": "Faulted",
                    "eventNotificationType": "HardWiredNotification",
                    "component": {"name": "Connector"},
                    "variable": {"name": "AvailabilityState"},
                }
            ],
        },
    ),
]


def test_every_core_station_call_gets_a_valid_201_answer(back_office_any):
    office = back_office_any
    frames = [call(f"u{i}", action, payload) for i, (action, payload) in enumerate(STATION_CALLS)]
    for frame in frames:  # the test's own frames are valid 2.0.1
        uid, action, payload = json.loads(frame)[1:]
        _validate_payload(Call(uid, action, payload), "2.0.1")
    replies = run(office, exchange(office.url(STATION), frames))
    answers = {
        action: assert_valid_201_result(action, reply)
        for (action, _), reply in zip(STATION_CALLS, replies, strict=True)
    }
    assert "currentTime" in answers["Heartbeat"]
    assert answers["Authorize"]["idTokenInfo"]["status"] == "Accepted"
    assert answers["TransactionEvent"]["idTokenInfo"]["status"] == "Invalid"
    assert office.findings.since(0) == []


SCHEMA_CODES = (
    "ProtocolError",
    "OccurrenceConstraintViolation",
    "FormatViolation",
    "PropertyConstraintViolation",
    "TypeConstraintViolation",
)


def test_bad_201_frames_are_findings_with_the_frame_and_service_goes_on(back_office_any):
    office = back_office_any
    frames = [
        # 2.0.1 BootNotification without its reason: a schema violation
        call("s1", "BootNotification", {"chargingStation": {"vendorName": "V", "model": "M"}}),
        # a 1.6 payload on a 2.0.1 connection: a schema violation too
        call("s2", "StatusNotification", {"connectorId": 1, "errorCode": "NoError"}),
        call("n1", "NoSuchAction", {}),
        call("r1", "RequestStartTransaction", {"idToken": {"idToken": "A", "type": "Central"}}),
        "{this is not json",
        '[2,"p1","Heartbeat","not-an-object"]',
        call("h1", "Heartbeat", {}),
    ]
    replies = run(office, exchange(office.url(STATION), frames))
    schema1, schema2, unknown, unaccepted, not_json, not_object, heartbeat = (
        json.loads(r) if r is not None else None for r in replies
    )
    # the ``ocpp`` library answers a missing required field ProtocolError (as on 1.6)
    assert schema1[:2] == [4, "s1"] and schema1[2] in SCHEMA_CODES
    assert schema2[:2] == [4, "s2"] and schema2[2] in SCHEMA_CODES
    assert unknown[:3] == [4, "n1", "NotImplemented"]
    assert unaccepted[:3] == [4, "r1", "NotSupported"]
    assert not_json is None  # no unique id to answer to
    assert not_object[:3] == [4, "p1", "FormatViolation"]  # OCPP-J 2.0.1 spelling
    assert heartbeat[0] == 3 and "currentTime" in heartbeat[2]  # still served
    findings = office.findings.since(0, station=STATION)
    kinds = [f.kind for f in findings]
    assert kinds == [
        "schema-violation",
        "schema-violation",
        "unexpected-call",
        "unexpected-call",
        "malformed-frame",
        "malformed-frame",
    ]
    journal = office.session(STATION).journal
    for finding in findings:  # each finding points at the frame it quotes
        assert finding.seq and journal.frame(finding.seq).dir == RX
    assert journal.frame(findings[0].seq).unique_id == "s1"
    assert "not an OCPP 2.0.1 action" in findings[2].detail
    assert "OCPP 2.0.1 action" in findings[3].detail
    events = journal.find(lambda f: f.dir == EVENT and f.kind == "finding")
    assert len(events) == len(findings)


def test_back_office_call_on_201_is_validated_against_201_schemas(back_office_any):
    office = back_office_any

    async def station():
        async with connect(office.url(STATION), subprotocols=["ocpp2.0.1"]) as ws:
            request = json.loads(await asyncio.wait_for(ws.recv(), 5))
            await ws.send(json.dumps([3, request[1], {"status": "Accepted"}]))
            bad = json.loads(await asyncio.wait_for(ws.recv(), 5))
            await ws.send(json.dumps([3, bad[1], {"status": "Maybe"}]))
            await asyncio.sleep(0.5)
        return request, bad

    async def scenario():
        task = asyncio.ensure_future(station())
        for _ in range(100):
            if office.session(STATION).connected:
                break
            await asyncio.sleep(0.02)
        session = office.session(STATION)
        good = await session.call("Reset", {"type": "OnIdle"})
        with pytest.raises(AssertionError, match="breaks the OCPP 2.0.1 schema"):
            await session.call("Reset", {"type": "Immediate"})
        with pytest.raises(ValueError, match="not an OCPP 2.0.1 action"):
            await session.call("ChangeConfiguration", {"key": "a", "value": "b"})
        return good, await task

    good, (request, bad) = run(office, scenario())
    assert request[2:] == ["Reset", {"type": "OnIdle"}]
    assert good == {"status": "Accepted"}
    assert bad[2] == "Reset"
    (finding,) = office.findings.since(0, station=STATION)
    assert finding.kind == "bad-response" and finding.seq


def test_pinning_16_refuses_a_201_only_station_with_the_reason_journaled(back_office):
    office = back_office  # pinned to 1.6, as dut.ocpp pins it by default
    office.session(STATION)  # the station under test: the lab journals it from the start
    with pytest.raises(InvalidStatus) as err:
        run(office, exchange(office.url(STATION), [], subprotocols=("ocpp2.0.1",)))
    assert err.value.response.status_code == 400
    (refused,) = office.session(STATION).journal.find(lambda f: f.kind == "refused")
    reason = refused.info["reason"]
    assert "subprotocol ocpp1.6 not offered (offered: ocpp2.0.1)" in reason
    assert "pins OCPP 1.6 (dut.ocpp)" in reason and "only OCPP 2.0.1" in reason
    assert refused.info["offered"] == ["ocpp2.0.1"]
    # a station offering both is served in the pinned version
    run(office, exchange(office.url("CP-BOTH"), [], subprotocols=("ocpp1.6", "ocpp2.0.1")))
    assert office.session("CP-BOTH").ocpp_version == "1.6"


def test_an_unknown_message_type_with_a_unique_id_is_answered_message_type_not_supported(
    back_office_any,
):
    """OCPP-J 2.0.1 (Part 4) §4.3, the CALLERROR codes: "MessageTypeNotSupported: A message
    with a Message Type Id received that is not supported by this implementation." Harm
    prevented: a 2.0.1 station that sent such a frame (e.g. an OCPP 2.1 CALLRESULTERROR,
    type 5) waited for an answer that never came. It is still a malformed-frame finding,
    now saying it was answered; a frame without a readable unique id stays unanswered."""
    office = back_office_any
    frames = [
        '[5, "abc", {}]',
        '[7, "id1", "Heartbeat", {}]',
        "[7, 5, {}]",
        call("h1", "Heartbeat", {}),
    ]
    replies = run(office, exchange(office.url(STATION), frames))
    five, seven, no_uid, heartbeat = (json.loads(r) if r is not None else None for r in replies)
    assert five[:3] == [4, "abc", "MessageTypeNotSupported"] and len(five) == 5, five
    assert "MessageTypeId 5" in five[3] and five[4] == {}
    assert seven[:3] == [4, "id1", "MessageTypeNotSupported"], seven
    assert no_uid is None  # no unique id to answer to
    assert heartbeat[0] == 3  # still served
    findings = office.findings.since(0, station=STATION)
    assert [f.kind for f in findings] == ["malformed-frame"] * 3
    assert "MessageTypeId 5 is not 2 (CALL), 3 (CALLRESULT) or 4 (CALLERROR)" in findings[0].detail
    assert findings[0].detail.endswith("answered with CALLERROR MessageTypeNotSupported")
    assert findings[2].detail.endswith("; ignored")
    journal = office.session(STATION).journal
    assert journal.frame(findings[1].seq).unique_id == "id1"
    answers = journal.find(lambda f: f.dir == TX and f.unique_id in ("abc", "id1"))
    assert [f.payload["errorCode"] for f in answers] == ["MessageTypeNotSupported"] * 2


def test_an_unknown_message_type_on_16_stays_a_finding_without_an_answer(back_office):
    """OCPP-J 1.6 has no MessageTypeNotSupported code: on 1.6 the frame stays what it was,
    a malformed-frame finding and no answer."""
    replies = run(
        back_office,
        exchange(
            back_office.url("CP-16"),
            ['[5, "abc", {}]', call("h1", "Heartbeat", {})],
            subprotocols=("ocpp1.6",),
        ),
    )
    assert replies[0] is None and json.loads(replies[1])[0] == 3
    [finding] = back_office.findings.since(0, station="CP-16")
    assert finding.kind == "malformed-frame" and finding.detail.endswith("; ignored")
