"""The lab's own integrity: nobody on the network can stop the back office, no evidence
overwrites other evidence, and a second connection for a station is known.

Every server listens on 127.0.0.1 and is stopped by the test that started it; the flood is
bounded in count and time and comes from another process (a real one comes from other
hosts, and a client in the back office's own process would measure itself).
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from hil.csms.journal import EVENT, RX
from hil.csms.refusals import BURST, LOG_FIRST, RATE_PER_S
from hil.csms.security import ServerSecurity
from hil.csms.server import (
    MAX_JOURNAL_NAME_BYTES,
    BackOffice,
    journal_file_name,
)

REPO = Path(__file__).resolve().parents[2]
DUT = "CP-DUT"
PASSWORD = "integrity-key-0123456789"
BOOT = {"chargePointVendor": "V", "chargePointModel": "M", "firmwareVersion": "1"}


def _auth(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
    return {"Authorization": f"Basic {token}"}


@pytest.fixture
def office_of(start_office):
    """Start a back office with a security profile (the DUT's password known)."""

    def start(profile: int = 0, **kwargs) -> BackOffice:
        security = ServerSecurity(profile=profile, passwords={DUT: PASSWORD})
        return start_office(DUT, security=security, **kwargs)

    return start


def _open_files() -> int:
    return len(os.listdir("/proc/self/fd"))


def _heartbeat_while(url: str, headers: dict[str, str], stop: threading.Event) -> list[float]:
    """The DUT: boot, then a Heartbeat every 0.1 s until ``stop``; the round trips."""
    latencies: list[float] = []

    async def beat() -> None:
        async with connect(url, subprotocols=["ocpp1.6"], additional_headers=headers) as ws:
            await ws.send(json.dumps([2, "b", "BootNotification", BOOT]))
            await asyncio.wait_for(ws.recv(), 5)
            n = 0
            while not stop.is_set():
                n += 1
                started = time.monotonic()
                await ws.send(json.dumps([2, f"h{n}", "Heartbeat", {}]))
                reply = json.loads(await asyncio.wait_for(ws.recv(), 5))
                assert reply[:2] == [3, f"h{n}"], reply
                latencies.append(time.monotonic() - started)
                await asyncio.sleep(0.1)

    asyncio.run(beat())
    return latencies


def _flood(url: str, count: int, kind: str, limit_s: float = 60) -> dict[str, int]:
    """Flood ``url`` from another process (benchmarks/handshake_flood.py --url)."""
    done = subprocess.run(
        [
            sys.executable,
            str(REPO / "benchmarks" / "handshake_flood.py"),
            "--url",
            url,
            "--count",
            str(count),
            "--concurrency",
            "50",
            "--kind",
            kind,
            "--limit-s",
            str(limit_s),
        ],
        capture_output=True,
        text=True,
        timeout=limit_s + 60,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def _dut_served_during(office: BackOffice, headers: dict[str, str], flood) -> list[float]:
    stop = threading.Event()
    result: list[list[float]] = []
    dut = threading.Thread(
        target=lambda: result.append(_heartbeat_while(office.url(DUT), headers, stop))
    )
    dut.start()
    try:
        flood()
    finally:
        time.sleep(0.3)  # a few beats after the flood too
        stop.set()
        dut.join(15)
    assert result, "the DUT's heartbeat client failed"
    return result[0]


# -- a flood of refused handshakes -------------------------------------------------------


def test_a_flood_of_refused_handshakes_opens_no_journal_and_the_dut_is_served(office_of, caplog):
    """Harm prevented: 1,100 wrong-password handshakes in 15 s each opened a journal file
    that stayed open, exhausted the process's file descriptors, and the DUT's next
    BootNotification was answered InternalError. Now refusals go to one bounded log, and
    the DUT's heartbeat is answered within 1 s throughout."""
    office = office_of(profile=1)
    files_before = _open_files()
    started = time.monotonic()
    outcomes: dict[str, int] = {}
    latencies = _dut_served_during(
        office,
        _auth(DUT, PASSWORD),
        lambda: outcomes.update(_flood(office.url(), 1100, "wrong-password")),
    )
    elapsed = time.monotonic() - started
    assert outcomes == {"401": 1100}, outcomes
    assert latencies and max(latencies) < 1.0, f"slowest heartbeat {max(latencies):.3f} s"
    # no journal for any refused station id, and no file left open for them
    assert [p.name for p in office.journal_dir.iterdir()] == [f"{DUT}.jsonl"]
    assert _open_files() <= files_before + 10
    assert office.sessions.keys() == {DUT}
    # the refusals log is bounded (a burst, then a rate) and counts every refusal
    lines = office.refusals.path.read_text().splitlines()
    assert len(lines) <= BURST + RATE_PER_S * elapsed + 1
    assert office.refusals.total == 1100
    logged = [r for r in caplog.records if "refused connection" in r.getMessage()]
    assert len(logged) <= LOG_FIRST + 1
    # the DUT's own frames are all there
    frames = office.session(DUT).journal.frames()
    beats = [f for f in frames if f.dir == RX and f.action == "Heartbeat"]
    assert len(beats) == len(latencies)


def test_the_refusals_log_ends_with_the_count_of_every_refusal(office_of):
    office = office_of(profile=1)

    async def knock(n: int) -> None:
        for i in range(n):
            with pytest.raises(InvalidStatus):
                async with connect(
                    office.url(f"X-{i}"),
                    subprotocols=["ocpp1.6"],
                    additional_headers=_auth(f"X-{i}", "nope"),
                ):
                    pass

    office.refusals._bucket.burst = office.refusals._bucket.tokens = 3  # a small burst
    office.refusals._bucket.rate = 0.001
    asyncio.run(knock(10))
    office.refusals.close()
    records = [json.loads(line) for line in office.refusals.path.read_text().splitlines()]
    *written, summary = records
    assert [r["station_id"] for r in written] == ["X-0", "X-1", "X-2"]
    assert summary["summary"] and summary["refused"] == 10 and summary["held_back"] == 7
    assert sum(c["count"] for c in summary["causes"]) == 10


def test_made_up_station_ids_get_at_most_the_limit_of_journals_and_the_dut_is_served(
    office_of,
):
    """Profile 0 lets any id in: the number of stations besides the DUT that get a journal
    is bounded; the rest are refused (503) into the refusals log."""
    office = office_of(profile=0, max_other_stations=5)
    outcomes: dict[str, int] = {}
    latencies = _dut_served_during(
        office, {}, lambda: outcomes.update(_flood(office.url(), 200, "new-ids"))
    )
    assert outcomes == {"accepted": 5, "503": 195}, outcomes
    assert max(latencies) < 1.0
    assert len(list(office.journal_dir.iterdir())) == 6
    summary = office.connection_summary(DUT)
    assert "the lab's limit is 5" in summary


# -- journal file names ------------------------------------------------------------------


@given(st.text(min_size=1, max_size=40), st.text(min_size=1, max_size=40))
def test_journal_file_names_are_injective(a: str, b: str):
    """Harm prevented: ``CP:0042`` and ``CP_0042`` wrote the same file."""
    if a != b:
        assert journal_file_name(a) != journal_file_name(b)


@given(st.text(min_size=1, max_size=40))
def test_a_journal_file_name_is_one_plain_file_name(station_id: str):
    name = journal_file_name(station_id)
    assert "/" not in name and "\0" not in name and not name.startswith(".")
    assert name.endswith(".jsonl") and name.isascii()


def test_journal_file_names_keep_plain_ids_readable():
    assert journal_file_name("CP_0042-a.b") == "CP_0042-a.b.jsonl"
    assert journal_file_name("CP:0042") == "CP%3A0042.jsonl"
    assert journal_file_name("100%") == "100%25.jsonl"
    assert journal_file_name("..") == "%2E..jsonl"


def test_two_station_ids_that_used_to_share_a_file_keep_their_own_frames(office_of):
    """Harm prevented: the second station wiped the DUT's frames (12 of 20 gone, a torn
    line) because both ids mapped to one file."""
    office = office_of(profile=0)

    async def station(sid: str, n: int) -> None:
        async with connect(office.url(sid), subprotocols=["ocpp1.6"]) as ws:
            for i in range(n):
                await ws.send(json.dumps([2, f"{sid}-{i}", "Heartbeat", {}]))
                await asyncio.wait_for(ws.recv(), 5)

    async def both() -> None:
        await asyncio.gather(station(DUT, 10), station("CP:DUT", 10))

    office.session("CP_DUT")  # a lab station whose old file name "CP:DUT" also produced
    asyncio.run(both())
    files = {p.name: p for p in office.journal_dir.iterdir()}
    assert set(files) == {f"{DUT}.jsonl", "CP%3ADUT.jsonl", "CP_DUT.jsonl"}
    for sid, name in ((DUT, f"{DUT}.jsonl"), ("CP:DUT", "CP%3ADUT.jsonl")):
        records = [json.loads(line) for line in files[name].read_text().splitlines()]
        assert {r["station"] for r in records} == {sid}
        assert sum(1 for r in records if r["dir"] == "rx") == 10


def test_a_station_id_too_long_for_a_journal_file_is_refused(office_of):
    office = office_of(profile=0)
    long_id = "é" * 60  # 60 characters, 360 bytes escaped

    async def go() -> None:
        async with connect(office.url(long_id), subprotocols=["ocpp1.6"]):
            pass

    with pytest.raises(InvalidStatus) as err:
        asyncio.run(go())
    assert err.value.response.status_code == 503
    assert f"the lab's limit is {MAX_JOURNAL_NAME_BYTES}" in office.refusals.path.read_text()
    assert long_id not in office.sessions


# -- a second connection -----------------------------------------------------------------


@pytest.mark.parametrize("profile", [0, 1])
def test_a_second_connection_for_a_connected_station_is_a_remark(office_of, profile):
    """It replaces the first (the station may have reconnected before the back office saw
    the old connection die), and the lab is told: a remark, not a failure."""
    office = office_of(profile=profile)
    headers = _auth(DUT, PASSWORD) if profile else {}

    async def twice() -> int | None:
        async with (
            connect(office.url(DUT), subprotocols=["ocpp1.6"], additional_headers=headers) as first,
            connect(
                office.url(DUT), subprotocols=["ocpp1.6"], additional_headers=headers
            ) as second,
        ):
            await second.send(json.dumps([2, "1", "Heartbeat", {}]))
            await asyncio.wait_for(second.recv(), 5)
            await asyncio.wait_for(first.wait_closed(), 5)
            return first.close_code

    assert asyncio.run(twice()) == 1000
    (finding,) = office.findings.since(0, station=DUT)
    assert finding.kind == "second-connection" and finding.remark
    assert "while the first" in finding.detail
    kinds = [f.kind for f in office.session(DUT).journal.frames() if f.dir == EVENT]
    assert kinds[:4] == ["connect", "connect", "finding", "superseded"] or (
        kinds.count("connect") == 2 and "superseded" in kinds
    )


def test_a_wrong_password_for_the_connected_dut_never_displaces_it(office_of):
    office = office_of(profile=1)

    async def scenario() -> list:
        async with connect(
            office.url(DUT), subprotocols=["ocpp1.6"], additional_headers=_auth(DUT, PASSWORD)
        ) as dut:
            with pytest.raises(InvalidStatus):
                async with connect(
                    office.url(DUT),
                    subprotocols=["ocpp1.6"],
                    additional_headers=_auth(DUT, "wrong"),
                ):
                    pass
            await dut.send(json.dumps([2, "1", "Heartbeat", {}]))
            return json.loads(await asyncio.wait_for(dut.recv(), 5))

    assert asyncio.run(scenario())[:2] == [3, "1"]
    assert not office.findings.since(0)
    kinds = [f.kind for f in office.session(DUT).journal.frames() if f.dir == EVENT]
    assert kinds.count("connect") == 1 and "superseded" not in kinds
    assert "refused" in kinds  # the DUT's journal has the attempt under its name


def test_findings_in_memory_are_bounded_and_marks_stay_valid():
    from hil.csms.findings import Finding, FindingLog

    log = FindingLog(max_kept=100)
    for i in range(250):
        log.record(Finding(DUT, i, "malformed-frame", str(i)))
    assert log.mark == 250
    assert [f.seq for f in log.since(240)] == list(range(240, 250))
    assert len(log.since(0)) == 100 and log.since(0)[0].seq == 150
    assert log.since(250) == []
