"""BackOffice.connection_summary: what the back office saw, for a clear boot-timeout hint."""

from __future__ import annotations

import asyncio
import json

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

DUT = "CP-DUT"
STEP = 5.0


async def attempt(url: str, subprotocols=("ocpp1.6",), frames=()) -> list:
    """Connect (refusal raises InvalidStatus), send CALLs, return their answers."""
    answers = []
    async with connect(url, subprotocols=list(subprotocols), open_timeout=STEP) as ws:
        for frame in frames:
            await asyncio.wait_for(ws.send(frame), STEP)
            answers.append(json.loads(await asyncio.wait_for(ws.recv(), STEP)))
    return answers


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 30))


def test_nothing_seen_says_so(back_office):
    text = back_office.connection_summary(DUT)
    assert f"'{DUT}' never connected" in text
    assert back_office.url(DUT) in text
    assert "no connection attempt at all" in text
    assert DUT not in back_office.sessions  # asking creates no session (nor journal file)


def test_wrong_subprotocol_is_named(back_office):
    with pytest.raises(InvalidStatus):
        run(attempt(back_office.url(DUT), subprotocols=("ocpp2.0.1",)))
    text = back_office.connection_summary(DUT)
    assert f"'{DUT}' tried to connect 1 time" in text  # refused, not "never connected"
    assert "refused" in text.lower()
    assert f"/{DUT}" in text and "ocpp2.0.1" in text
    assert "subprotocol ocpp1.6 not offered" in text


def test_no_station_id_in_the_path_is_named(back_office):
    with pytest.raises(InvalidStatus):
        run(attempt(back_office.url("")))
    text = back_office.connection_summary(DUT)
    assert "no station id in the URL path '/'" in text
    assert "offered: ocpp1.6" in text


def test_another_station_id_is_named_with_a_hint(back_office):
    url = back_office.url("ocpp/CP-1")
    run(attempt(url, frames=[json.dumps([2, "1", "Heartbeat", {}])]))
    text = back_office.connection_summary(DUT)
    assert f"'{DUT}' never connected" in text
    assert "A station connected as 'CP-1' at /ocpp/CP-1" in text
    assert "is dut.station_id right?" in text
    # the station that did connect is not called "another station" in its own summary
    assert "is dut.station_id right?" not in back_office.connection_summary("CP-1")


def test_right_id_connected_without_boot_notification(back_office):
    run(attempt(back_office.url(DUT), frames=[json.dumps([2, "1", "Heartbeat", {}])]))
    text = back_office.connection_summary(DUT)
    assert f"'{DUT}' connected 1 time" in text
    assert "no BootNotification" in text
    assert "Heartbeat" in text
    assert "never connected" not in text


def test_boot_notification_and_its_answer_are_named(back_office):
    back_office.policy.set_boot_answer("Pending", 5)
    boot = {"chargePointVendor": "V", "chargePointModel": "M"}
    run(attempt(back_office.url(DUT), frames=[json.dumps([2, "1", "BootNotification", boot])]))
    text = back_office.connection_summary(DUT)
    assert "BootNotification 1 time" in text and "Pending" in text
    assert "no BootNotification" not in text


def test_refusals_and_other_ids_are_all_listed_together(back_office):
    with pytest.raises(InvalidStatus):
        run(attempt(back_office.url(DUT), subprotocols=()))
    with pytest.raises(InvalidStatus):
        run(attempt(back_office.url("CP-2"), subprotocols=("ocpp2.0.1",)))
    run(attempt(back_office.url("CP-3")))
    text = back_office.connection_summary(DUT)
    assert "offered: none" in text
    assert "as 'CP-2'" in text
    assert "A station connected as 'CP-3' at /CP-3 — is dut.station_id right?" in text
    # once the expected id has connected, other ids are listed without the hint
    run(attempt(back_office.url(DUT)))
    text = back_office.connection_summary(DUT)
    assert "A station connected as 'CP-3' at /CP-3" in text
    assert "is dut.station_id right?" not in text


def test_refused_attempts_are_counted_not_called_never_connected(back_office):
    """Issue 18: a station refused at every handshake did try; the summary says how often
    and why, and the boot-timeout hint built on it no longer says it never connected."""
    for _ in range(3):
        with pytest.raises(InvalidStatus):
            run(attempt(back_office.url(DUT), subprotocols=("ocpp2.0.1",)))
    text = back_office.connection_summary(DUT)
    first = text.splitlines()[0]
    assert first.startswith(f"'{DUT}' tried to connect 3 times (at {back_office.url(DUT)}"), text
    assert "every attempt was refused: subprotocol ocpp1.6 not offered" in first, text
    assert "never connected" not in text
