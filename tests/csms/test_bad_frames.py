"""A raw WebSocket client probes the back office with bad frames.

Every frame the prober sends must be in the journal FILE, each bad frame must give exactly
one finding against the prober's id, the prober's connection must stay up and be served
after each bad frame (except the one over the size limit, which websockets closes with
1009), and a second station connected throughout must be answered promptly all along.

The clients run on this thread's own event loop; the back office runs on its background
loop, as in a lab run, so a back office stalled by a frame shows up as a slow answer.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed
from websockets.protocol import State

from hil.csms.server import MAX_FRAME_BYTES

PROBE, OTHER = "CP-PROBE", "CP-OTHER"
STEP = 10.0  # bound on every single await
PROMPT = 3.0  # the other station's Heartbeat must be answered within this
BURST = 1_000


def hb(uid: str) -> str:
    return json.dumps([2, uid, "Heartbeat", {}])


# name, frame, finding kind, expected CALLERROR code for the frame (None: no answer;
# "*": a CALLERROR, code not checked), a fragment of the finding's detail
BAD_FRAMES: list[tuple[str, str | bytes, str, str | None, str]] = [
    ("not-json", "{this is not json", "malformed-frame", None, "not JSON"),
    ("json-object", '{"a": 1}', "malformed-frame", None, "not an array"),
    ("unknown-type-id", '[7,"u1","Heartbeat",{}]', "malformed-frame", None, "MessageTypeId 7"),
    ("unhashable-type-id", '[[2],"x"]', "malformed-frame", None, "MessageTypeId"),
    ("nested-1000", "[" * 1_000 + "]" * 1_000, "malformed-frame", None, "nested too deeply"),
    ("nested-100000", "[" * 100_000 + "]" * 100_000, "malformed-frame", None, "nested too deeply"),
    (
        "payload-not-object",
        '[2,"p1","Heartbeat","not-an-object"]',
        "malformed-frame",
        "FormationViolation",
        "payload",
    ),
    (
        "missing-payload",
        '[2,"m1","Heartbeat"]',
        "malformed-frame",
        "FormationViolation",
        "4 elements",
    ),
    ("numeric-unique-id", '[2,5,"Heartbeat",{}]', "malformed-frame", None, "unique id"),
    ("unknown-result", '[3,"unknown-id",{}]', "unexpected-response", None, "unknown-id"),
    ("short-error", '[4,"x"]', "malformed-frame", None, "CALLERROR"),
    ("unknown-action", '[2,"a1","FooBar",{}]', "unexpected-call", "NotImplemented", "FooBar"),
    (
        "not-for-a-central-system",
        '[2,"r1","Reset",{"type":"Hard"}]',
        "unexpected-call",
        "NotSupported",
        "Reset",
    ),
    (
        "schema",
        '[2,"s1","StatusNotification",{"connectorId":"one"}]',
        "schema-violation",
        "*",
        "StatusNotification",
    ),
    ("binary-garbage", b"\x00\xff\xfe\x80 not text", "binary-frame", None, "text frames"),
    ("binary-call", b'[2,"b1","Heartbeat",{}]', "binary-frame", "FormationViolation", "text"),
]


async def answer(ws, uid: str, within: float = STEP) -> tuple[list, float]:
    """Replies on ``ws`` up to the CALLRESULT for ``uid``: (the replies before it, seconds)."""
    start = time.monotonic()
    before = []
    while True:
        msg = json.loads(await asyncio.wait_for(ws.recv(), within))
        if msg[0] == 3 and msg[1] == uid:
            return before, time.monotonic() - start
        before.append(msg)


async def heartbeat(ws, uid: str) -> float:
    """Send a Heartbeat, return how long its answer took (nothing else may come first)."""
    await asyncio.wait_for(ws.send(hb(uid)), STEP)
    before, took = await answer(ws, uid, PROMPT)
    assert before == [], f"unexpected frames before the Heartbeat answer: {before}"
    return took


def test_bad_frames_are_journaled_findings_and_nobody_is_dropped(back_office, tmp_path):
    journal_dir = tmp_path / "journal"
    sent: list[str | bytes] = []  # every frame the prober sent, in order

    async def scenario() -> dict:
        out: dict = {"other_took": []}
        async with connect(
            back_office.url(OTHER), subprotocols=["ocpp1.6"], compression=None
        ) as other:
            probe = await asyncio.wait_for(
                connect(back_office.url(PROBE), subprotocols=["ocpp1.6"], compression=None), STEP
            )
            try:
                await probe_all(probe, other, out)
            finally:
                # Not `async with` for the prober: after the 1009 its transport is gone, and
                # close() on it then trips over a CPython 3.11 transport quirk (abort()
                # after connection_lost while a big write was pending).
                if probe.state is not State.CLOSED:
                    await asyncio.wait_for(probe.close(), STEP)
        return out

    async def probe_all(probe, other, out: dict) -> None:
        out["other_took"].append(await heartbeat(other, "o-start"))

        for name, frame, kind, code, fragment in BAD_FRAMES:
            mark = back_office.findings.mark
            await asyncio.wait_for(probe.send(frame), STEP)
            sent.append(frame)
            out["other_took"].append(await heartbeat(other, f"o-{name}"))
            await asyncio.wait_for(probe.send(hb(f"after-{name}")), STEP)
            sent.append(hb(f"after-{name}"))
            before, _ = await answer(probe, f"after-{name}")
            assert probe.state is State.OPEN, name
            if code is None:
                assert before == [], f"{name}: nothing should answer it, got {before}"
            else:
                assert len(before) == 1 and before[0][0] == 4, f"{name}: {before}"
                if code != "*":
                    assert before[0][2] == code, f"{name}: {before}"
            new = back_office.findings.since(mark)
            assert [(f.station, f.kind) for f in new] == [(PROBE, kind)], (name, new)
            assert fragment in new[0].detail, (name, new[0].detail)
            shown = back_office.session(PROBE).journal.frame(new[0].seq)
            if isinstance(frame, bytes):
                assert shown.raw_bytes == frame, name
            else:
                assert shown.raw == frame, name

        # a 2 MiB CALL (a diagnostics-sized DataTransfer) is served and journaled whole
        big = json.dumps([2, "big-1", "DataTransfer", {"vendorId": "ACME", "data": "x" * 2**21}])
        assert len(big) > 2**21
        mark = back_office.findings.mark
        await asyncio.wait_for(probe.send(big), STEP)
        sent.append(big)
        out["other_took"].append(await heartbeat(other, "o-big"))
        before, _ = await answer(probe, "big-1")
        assert before == []
        assert back_office.findings.since(mark) == []

        # a burst of Heartbeats: all answered, in order, while the other is served
        ids = [f"burst-{i}" for i in range(BURST)]

        async def send_burst() -> None:
            for uid in ids:
                await probe.send(hb(uid))
                sent.append(hb(uid))

        async def read_burst() -> list[str]:
            return [json.loads(await probe.recv())[1] for _ in ids]

        sending = asyncio.create_task(send_burst())
        reading = asyncio.create_task(read_burst())
        for i in range(3):
            out["other_took"].append(await heartbeat(other, f"o-burst-{i}"))
        await asyncio.wait_for(sending, 60)
        assert await asyncio.wait_for(reading, 60) == ids
        assert back_office.findings.since(mark) == []

        # over the limit: websockets closes the prober with 1009; the other goes on
        over = json.dumps(
            [2, "over-1", "DataTransfer", {"vendorId": "ACME", "data": "y" * MAX_FRAME_BYTES}]
        )
        sending = asyncio.create_task(probe.send(over))
        out["other_took"].append(await heartbeat(other, "o-over"))
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(probe.recv(), STEP)
        out["probe_closed"] = closed.value
        await asyncio.gather(asyncio.wait_for(sending, STEP), return_exceptions=True)
        await asyncio.wait_for(probe.wait_closed(), STEP)
        out["other_took"].append(await heartbeat(other, "o-after-over"))

    out = asyncio.run(asyncio.wait_for(scenario(), 180))

    # the other station was answered promptly throughout, and never had a finding
    assert max(out["other_took"]) < PROMPT, out["other_took"]
    assert back_office.findings.since(0, station=OTHER) == []

    # the oversize frame: 1009 on the wire, the close journaled as an event and a finding
    assert out["probe_closed"].rcvd is not None and out["probe_closed"].rcvd.code == 1009
    journal = back_office.session(PROBE).journal
    disconnect = journal.wait_for(lambda f: f.kind == "disconnect", 0, STEP, "the disconnect")
    assert disconnect.info["local_code"] == 1009
    assert disconnect.info["closed_by"] == "back office"
    assert disconnect.info["code"] == 1009
    too_big = journal.wait_for(
        lambda f: f.kind == "finding" and f.info["kind"] == "frame-too-big", 0, STEP, "finding"
    )
    assert "10 MiB" in too_big.info["detail"] and "1009" in too_big.info["detail"]
    over_findings = [f for f in back_office.findings.since(0, PROBE) if f.kind == "frame-too-big"]
    assert len(over_findings) == 1 and over_findings[0].seq == disconnect.seq

    # one finding per bad frame, plus the oversize one, all against the prober
    kinds = [f.kind for f in back_office.findings.since(0, station=PROBE)]
    assert kinds == [kind for _, _, kind, _, _ in BAD_FRAMES] + ["frame-too-big"]

    # every frame the prober sent is in the journal FILE, whole and in order
    lines = [json.loads(x) for x in (journal_dir / f"{PROBE}.jsonl").read_text().splitlines()]
    received = [x for x in lines if x["dir"] == "rx"]
    assert len(received) == len(sent)
    for line, frame in zip(received, sent, strict=True):
        if isinstance(frame, bytes):
            assert line["raw"] == "" and line["info"]["binary"] is True
            assert base64.b64decode(line["raw_b64"]) == frame
        else:
            assert line["raw"] == frame
    answered = {x["unique_id"] for x in lines if x["dir"] == "tx" and x["kind"] == "CALLRESULT"}
    assert {f"burst-{i}" for i in range(BURST)} <= answered and "big-1" in answered
    findings_in_file = [x for x in lines if x["kind"] == "finding"]
    assert len(findings_in_file) == len(BAD_FRAMES) + 1
    closes = [x for x in lines if x["kind"] == "disconnect"]
    assert len(closes) == 1 and closes[0]["info"]["local_code"] == 1009

    # the other station closed normally: its own side's close is what the journal shows
    other_closes = back_office.session(OTHER).journal.find(lambda f: f.kind == "disconnect")
    assert other_closes and other_closes[0].info["closed_by"] == "station"
    assert other_closes[0].info["remote_code"] == 1000 and other_closes[0].info["code"] == 1000
