"""The back office over real WebSockets: handshake rules, answers, findings, journal."""

from __future__ import annotations

import asyncio
import json
import socket

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from hil.csms.journal import WaitTimeout, message_matcher
from hil.csms.link import CallErrorReceived
from hil.csms.policy import ResponsePolicy
from hil.csms.server import BackOffice, BackOfficeError

BOOT = {"chargePointVendor": "V", "chargePointModel": "M", "firmwareVersion": "1"}


def run(office, coro, timeout=10):
    return office.loop.run(coro, timeout)


async def exchange(url, frames, subprotocols=("ocpp1.6",), answers=None):
    """Connect, send raw frames, collect one reply per frame (None when none comes)."""
    replies = []
    async with connect(url, subprotocols=list(subprotocols)) as ws:
        for frame in frames:
            await ws.send(frame)
            try:
                replies.append(await asyncio.wait_for(ws.recv(), 1.0))
            except TimeoutError:
                replies.append(None)
    return replies


def call(uid, action, payload):
    return json.dumps([2, uid, action, payload])


def test_boot_authorize_and_transactions_are_answered_by_policy(back_office):
    url = back_office.url("CP-1")
    back_office.policy.set_boot_answer("Pending", 7)
    replies = run(
        back_office,
        exchange(
            url,
            [
                call("1", "BootNotification", BOOT),
                call("2", "Authorize", {"idTag": "GOOD"}),
                call("3", "Authorize", {"idTag": "NOBODY"}),
                call(
                    "4",
                    "StartTransaction",
                    {
                        "connectorId": 1,
                        "idTag": "GOOD",
                        "meterStart": 5,
                        "timestamp": "2026-01-01T00:00:00Z",
                    },
                ),
            ],
        ),
    )
    boot, good, unknown, start = (json.loads(r) for r in replies)
    assert boot[2]["status"] == "Pending" and boot[2]["interval"] == 7
    assert good[2]["idTagInfo"]["status"] == "Accepted"
    assert unknown[2]["idTagInfo"]["status"] == "Invalid"
    assert start[2]["transactionId"] == 1


def test_wrong_subprotocol_is_refused_with_a_journaled_reason(back_office):
    back_office.session("CP-2")  # the station under test: the lab journals it from the start
    with pytest.raises(InvalidStatus) as err:
        run(back_office, exchange(back_office.url("CP-2"), [], subprotocols=("ocpp2.0.1",)))
    assert err.value.response.status_code == 400
    refused = back_office.session("CP-2").journal.find(lambda f: f.kind == "refused")
    assert refused and "ocpp1.6 not offered (offered: ocpp2.0.1)" in refused[0].info["reason"]


def test_malformed_and_schema_breaking_frames_are_findings_and_service_goes_on(back_office):
    bad_url, good_url = back_office.url("CP-BAD"), back_office.url("CP-GOOD")

    async def scenario():
        async with connect(bad_url, subprotocols=["ocpp1.6"]) as bad:
            await bad.send("{this is not json")
            await bad.send(call("s1", "StatusNotification", {"connectorId": "one"}))
            schema_reply = await asyncio.wait_for(bad.recv(), 2)
            await bad.send(call("r1", "Reset", {"type": "Hard"}))
            unexpected_reply = await asyncio.wait_for(bad.recv(), 2)
            other = await exchange(good_url, [call("g1", "Heartbeat", {})])
            await bad.send(call("h1", "Heartbeat", {}))
            still = await asyncio.wait_for(bad.recv(), 2)
        return schema_reply, unexpected_reply, other, still

    schema_reply, unexpected_reply, other, still = run(back_office, scenario())
    assert json.loads(schema_reply)[0] == 4  # CALLERROR for the schema violation
    # OCPP-J 1.6 §4.2.3: an action the receiver knows but does not support is NotSupported
    # (NotImplemented is for an action it does not know at all)
    assert json.loads(unexpected_reply)[2] == "NotSupported"
    assert json.loads(other[0])[0] == 3  # the other station is served meanwhile
    assert json.loads(still)[0] == 3  # and so is the misbehaving one
    kinds = [f.kind for f in back_office.findings.since(0)]
    assert kinds == ["malformed-frame", "schema-violation", "unexpected-call"]
    finding = back_office.findings.since(0)[1]
    assert finding.station == "CP-BAD" and "StatusNotification" in finding.detail
    frame = back_office.session("CP-BAD").journal.frame(finding.seq)
    assert '"connectorId":"one"' in frame.raw.replace(" ", "")


def test_every_frame_is_journaled_and_flushed_at_once(back_office, tmp_path):
    run(back_office, exchange(back_office.url("CP-J"), [call("1", "Heartbeat", {})]))
    path = tmp_path / "journal" / "CP-J.jsonl"
    lines = [json.loads(x) for x in path.read_text().splitlines()]
    assert [(x["dir"], x["kind"]) for x in lines[:3]] == [
        ("event", "connect"),
        ("rx", "CALL"),
        ("tx", "CALLRESULT"),
    ]
    assert lines[2]["action"] == "Heartbeat"  # results carry the action they answer
    assert lines[1]["raw"] == call("1", "Heartbeat", {})


def test_back_office_calls_return_results_and_raise_call_errors(back_office):
    async def station():
        async with connect(back_office.url("CP-C"), subprotocols=["ocpp1.6"]) as ws:
            for reply in (
                '[3,"{id}",{{"status":"Accepted"}}]',
                '[4,"{id}","NotSupported","no way",{{}}]',
            ):
                msg = json.loads(await ws.recv())
                await ws.send(reply.format(id=msg[1]))
            await asyncio.sleep(0.2)

    session = back_office.session("CP-C")
    task = asyncio.run_coroutine_threadsafe(station(), back_office.loop.loop)
    session.journal.wait_for(lambda f: f.kind == "connect", 0, 5)
    ok = run(back_office, session.call("ClearCache", {}))
    assert ok == {"status": "Accepted"}
    with pytest.raises(CallErrorReceived, match="CALLERROR NotSupported: no way"):
        run(back_office, session.call("ClearCache", {}))
    task.result(5)


def test_wait_timeout_names_what_was_awaited_and_what_came(back_office):
    run(back_office, exchange(back_office.url("CP-W"), [call("1", "Heartbeat", {})]))
    journal = back_office.session("CP-W").journal
    with pytest.raises(WaitTimeout) as err:
        journal.wait_for(
            message_matcher("StatusNotification"), 0, 0.2, "StatusNotification from the station"
        )
    text = str(err.value)
    assert "waiting for StatusNotification from the station" in text
    assert "rx CALL Heartbeat" in text


def test_busy_port_is_a_clear_error(tmp_path):
    from hil.csms.loop import BackgroundLoop

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        loop = BackgroundLoop().start()
        try:
            office = BackOffice(ResponsePolicy(30), None, port=port)
            with pytest.raises(BackOfficeError, match=rf"127.0.0.1:{port}: address already in use"):
                loop.run(office.start(), 5)
        finally:
            loop.stop()


def test_data_transfer_is_answered_as_the_lab_sets_it(back_office):
    back_office.policy.set_data_transfer_status("Accepted")
    (reply,) = run(
        back_office,
        exchange(
            back_office.url("CP-D"),
            [call("1", "DataTransfer", {"vendorId": "ACME", "messageId": "x"})],
        ),
    )
    assert json.loads(reply)[2] == {"status": "Accepted"}
    with pytest.raises(ValueError, match="DataTransfer status must be one of"):
        back_office.policy.set_data_transfer_status("Maybe")
