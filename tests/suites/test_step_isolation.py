"""A verdict depends only on what the station did during the step.

Each test reproduces one way a station we did not write was judged wrongly: N/A decided
only after a set-up that waited on the station, a leftover transfer of an earlier step
blamed on the next, a measurand probe left in the station's configuration, another
station's bad frames failing the DUT, and a station that reconnects without booting.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from pathlib import Path

import pytest
import websockets
import yaml
from robot.api import ExecutionResult

from hil.robot.keywords.instruments import ROLE_NAMES
from tests.suites.runner import run_steps, write_lab

pytestmark = pytest.mark.robot

DUT = "VIRTUAL-CP-001"


def journal(tmp_path: Path, station: str = DUT) -> list[dict]:
    path = tmp_path / "out" / "journal" / f"{station}.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()]


def calls(frames: list[dict], action: str, direction: str = "rx") -> list[dict]:
    return [
        f for f in frames if f["dir"] == direction and f["kind"] == "CALL" and f["action"] == action
    ]


def payload(frame: dict) -> dict:
    return json.loads(frame["raw"])[3]


def log_messages(tmp_path: Path, level: str) -> list[str]:
    """Messages of ``level`` anywhere in the run's output.xml (keywords and errors)."""
    result = ExecutionResult(str(tmp_path / "out" / "output.xml"))
    found = [m.message for m in result.errors.messages if m.level == level]

    class Visitor:
        def visit(self, item) -> None:
            for child in getattr(item, "body", []):
                if getattr(child, "type", None) == "MESSAGE" and child.level == level:
                    found.append(child.message)
                self.visit(child)
            for part in ("setup", "teardown"):
                if getattr(item, part, None):
                    self.visit(getattr(item, part))
            for sub in getattr(item, "suites", []):
                self.visit(sub)
            for test in getattr(item, "tests", []):
                self.visit(test)

    Visitor().visit(result.suite)
    return found


def test_na_is_decided_before_set_up_waits_on_a_busy_station(tmp_path):
    """Connector 1 is left Unavailable in the station's memory, so the bench is not idle;
    steps whose capability or instrument is absent are N/A all the same."""
    lab = write_lab(
        tmp_path,
        dut={"capabilities": {"signed_meter_values": False}},
        instruments={"ev_simulator": None},
        virtual={"station": {"inoperative_connectors": [1]}},
    )
    outcomes = run_steps(tmp_path, lab, ["6", "EI1"])
    assert outcomes["EI1"].status == "SKIP", outcomes["EI1"].message
    assert "N/A by DUT capability" in outcomes["EI1"].message
    assert outcomes["6"].status == "SKIP", outcomes["6"].message
    assert "ev_simulator" in outcomes["6"].message


def test_a_step_that_applies_fails_on_the_busy_station(tmp_path):
    """The control for the test above: the same busy bench fails a step that applies."""
    lab = write_lab(tmp_path, virtual={"station": {"inoperative_connectors": [1]}})
    outcome = run_steps(tmp_path, lab, ["EI1"])["EI1"]
    assert outcome.status == "FAIL"
    assert "status=Available" in outcome.message


def test_an_earlier_steps_transfer_is_not_blamed_on_the_next(tmp_path):
    """The station's download timeout (10 s) is longer than the lab waits for a status
    (8 s): step 17 fails, and its DownloadFailed arrives during what would be step 18.
    Steps 18 and 19 wait for it to end and pass."""
    lab = write_lab(tmp_path, virtual={"transfer_timeout_s": 10})
    outcomes = run_steps(tmp_path, lab, ["17", "18", "19"])
    assert outcomes["17"].status == "FAIL"
    assert "Missing FirmwareStatusNotification DownloadFailed" in outcomes["17"].message
    assert outcomes["18"].status == "PASS", outcomes["18"].message
    assert outcomes["19"].status == "PASS", outcomes["19"].message
    # step 18 sent its UpdateFirmware only after step 17's late DownloadFailed came
    frames = journal(tmp_path)
    late_failure = next(
        f
        for f in calls(frames, "FirmwareStatusNotification")
        if payload(f)["status"] == "DownloadFailed"
    )
    updates = calls(frames, "UpdateFirmware", "tx")
    assert len(updates) == 3
    assert updates[0]["seq"] < late_failure["seq"] < updates[1]["seq"]


def test_unsupported_measurand_accepted_fails_step_4_and_is_put_back(tmp_path):
    """OCPP 1.6 edition 2 §3.16.4: a measurand list with one the station does not support
    SHALL be Rejected. A station that stores it fails step 4, and the teardown puts the
    original value back."""
    lab = write_lab(tmp_path, ["unsupported_measurand_accepted"])
    outcome = run_steps(tmp_path, lab, ["4"])["4"]
    assert outcome.status == "FAIL"
    assert (
        "ChangeConfiguration(MeterValuesSampledData=Hil.Unknown.Measurand) with Accepted, "
        "expected Rejected" in outcome.message
    )
    changes = [payload(f) for f in calls(journal(tmp_path), "ChangeConfiguration", "tx")]
    sampled = [c["value"] for c in changes if c["key"] == "MeterValuesSampledData"]
    assert sampled == ["Hil.Unknown.Measurand", "Energy.Active.Import.Register"], sampled


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Intruder(threading.Thread):
    """Another station that connects to the lab's back office and keeps sending bad
    frames while the DUT is tested."""

    def __init__(self, port: int) -> None:
        super().__init__(daemon=True)
        self.url = f"ws://127.0.0.1:{port}/INTRUDER-1"
        self.stop = threading.Event()
        self.sent = 0

    def run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        while not self.stop.is_set():
            try:
                async with websockets.connect(
                    self.url, subprotocols=["ocpp1.6"], open_timeout=2
                ) as ws:
                    while not self.stop.is_set():
                        await ws.send("this is not OCPP-J")
                        await ws.send('[2, "x1", "Heartbeat", "not-an-object"]')
                        self.sent += 2
                        await asyncio.sleep(0.5)
            except (OSError, websockets.WebSocketException, TimeoutError):
                await asyncio.sleep(0.3)


def test_another_stations_findings_do_not_fail_the_dut(tmp_path):
    port = _free_port()
    lab = write_lab(tmp_path, back_office={"port": port})
    intruder = Intruder(port)
    intruder.start()
    try:
        outcomes = run_steps(tmp_path, lab, ["3", "5"])
    finally:
        intruder.stop.set()
        intruder.join(10)
    assert intruder.sent > 4, "the intruder never reached the back office"
    assert {s: o.status for s, o in outcomes.items()} == {"3": "PASS", "5": "PASS"}, outcomes
    theirs = [f for f in journal(tmp_path, "INTRUDER-1") if f["kind"] == "finding"]
    assert theirs, "the intruder's findings are not in its own journal"
    assert not [f for f in journal(tmp_path) if f["kind"] == "finding"]
    warnings = log_messages(tmp_path, "WARN")
    assert any("INTRUDER-1" in w and "not the DUT" in w for w in warnings), warnings


@pytest.mark.parametrize("relay", [True, False], ids=["power-relay", "no-relay"])
def test_a_registered_station_that_reconnects_without_booting_is_restarted(tmp_path, relay):
    """With a power relay the restart is a power cycle (no Reset sent: the station drops
    without a word and boots); without one it is a Reset Hard. The log says which."""
    lab = write_lab(tmp_path, virtual={"station": {"registered_before": True}})
    if not relay:
        data = yaml.safe_load(lab.read_text())
        del data["instruments"]["power_relay"]
        lab.write_text(yaml.safe_dump(data))
    outcome = run_steps(tmp_path, lab, ["3"])["3"]
    assert outcome.status == "PASS", outcome.message
    frames = journal(tmp_path)
    first_call = next(f for f in frames if f["dir"] == "rx" and f["kind"] == "CALL")
    assert first_call["action"] != "BootNotification"
    resets = calls(frames, "Reset", "tx")
    boots = calls(frames, "BootNotification")
    assert boots and boots[0]["seq"] > first_call["seq"]
    infos = log_messages(tmp_path, "INFO")
    if relay:
        assert not resets
        cut = next(f for f in frames if f["kind"] == "disconnect")
        assert first_call["seq"] < cut["seq"] < boots[0]["seq"]
        assert any(
            m.startswith("Restart: a real power cycle through the power relay") for m in infos
        )
    else:
        assert resets and boots[0]["seq"] > resets[0]["seq"]
        assert "Restart: Reset Hard (the bench has no power relay)" in infos
    warnings = log_messages(tmp_path, "WARN")
    assert any("did not register with a BootNotification" in w for w in warnings), warnings


class WrongStation(threading.Thread):
    """A station configured wrongly: it offers OCPP 2.0.1 only, then connects under
    another id."""

    def __init__(self, port: int) -> None:
        super().__init__(daemon=True)
        self.port = port
        self.stop = threading.Event()

    def run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        base = f"ws://127.0.0.1:{self.port}"
        while not self.stop.is_set():
            try:
                async with websockets.connect(
                    f"{base}/{DUT}", subprotocols=["ocpp2.0.1"], open_timeout=2
                ):
                    pass
            except (OSError, websockets.WebSocketException, TimeoutError):
                pass
            try:
                async with websockets.connect(
                    f"{base}/ocpp/CP-TYPO", subprotocols=["ocpp1.6"], open_timeout=2
                ):
                    await asyncio.sleep(0.5)
            except (OSError, websockets.WebSocketException, TimeoutError):
                pass
            await asyncio.sleep(0.3)


def test_a_boot_timeout_says_what_the_back_office_saw(tmp_path):
    port = _free_port()
    lab = write_lab(
        tmp_path,
        lab={"bench": "real"},
        back_office={"port": port},
        timings={"boot_timeout_s": 3},
        instruments=dict.fromkeys(ROLE_NAMES),  # a real bench with no instruments
    )
    station = WrongStation(port)
    station.start()
    try:
        outcome = run_steps(tmp_path, lab, ["3"])["3"]
    finally:
        station.stop.set()
        station.join(10)
    assert outcome.status == "FAIL"
    assert "did not register" in outcome.message
    assert "subprotocol ocpp1.6 not offered (offered: ocpp2.0.1)" in outcome.message
    assert "'CP-TYPO'" in outcome.message


def test_a_rerun_in_the_same_output_folder_starts_fresh(tmp_path):
    """Two runs into one output folder: the evidence afterwards is the second run's only."""
    lab = write_lab(tmp_path)
    run_steps(tmp_path, lab, ["10"])
    first = json.loads((tmp_path / "out" / "hil-run.json").read_text())
    outcome = run_steps(tmp_path, lab, ["10"])["10"]
    assert outcome.status == "PASS", outcome.message
    second = json.loads((tmp_path / "out" / "hil-run.json").read_text())
    assert first["run_id"] != second["run_id"]
    frames = journal(tmp_path)
    assert [f["seq"] for f in frames] == list(range(1, len(frames) + 1))
    # one lab opening and the step's two resets: three connections, not six
    assert len([f for f in frames if f["kind"] == "connect"]) == 3
    remarks = (tmp_path / "out" / "remarks.jsonl").read_text().splitlines()
    assert len(remarks) == 1, remarks
    started = second["started"]
    samples = (tmp_path / "out" / "samples.jsonl").read_text().splitlines()
    assert samples and all(json.loads(line)["wall"] >= started for line in samples)
