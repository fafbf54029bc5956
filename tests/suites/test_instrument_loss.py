"""The real suites on the virtual bench when an instrument stops working: the reference meter
hangs mid-session (step 6 fails promptly, naming it, and the lab stops the energy; later
steps use the analyser), or is unreachable when the lab opens (the run goes on)."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.suites.runner import run_steps, write_lab

pytestmark = pytest.mark.robot

#: the virtual lab's timings.instrument_grace_s (the config default)
GRACE_S = 3.0
POWER_FLOWING_W = 100.0


def records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def payload(frame: dict[str, Any]) -> dict[str, Any]:
    """The payload of a journaled CALL (its raw text is ``[2, id, action, payload]``)."""
    return json.loads(frame["raw"])[3]


def test_meter_lost_mid_session(tmp_path: Path) -> None:
    lab = write_lab(
        tmp_path, [], virtual={"instrument_faults": [{"role": "energy_meter", "after_wh": 40}]}
    )
    data = yaml.safe_load(lab.read_text())
    assert data["virtual"]["transfer_timeout_s"] == 2  # write_lab kept the other settings
    assert data["timings"].get("instrument_grace_s", GRACE_S) == GRACE_S
    outcomes = run_steps(tmp_path, lab, ["3", "6", "14", "EI1"])
    out = tmp_path / "out"
    status = {step: o.status for step, o in outcomes.items()}
    step6 = outcomes["6"]

    assert status["3"] == "PASS", outcomes["3"].message
    assert step6.status == "FAIL"
    samples = records(out / "samples.jsonl")
    lost = [r for r in samples if r.get("lost")]
    assert [r["source"] for r in lost] == ["energy_meter"], lost
    address = lost[0]["error"].split(" at ", 1)[1].split(": ", 1)[0]
    assert address.startswith("modbus-tcp://127.0.0.1:")
    assert "energy_meter" in step6.message and address in step6.message
    assert "last good reading" in step6.message
    assert "The lab stopped the energy" in step6.message

    # how fast: from the meter's last good sample to the lab's RemoteStopTransaction, sent
    # when the step fails
    meter_good = [r for r in samples if r["source"] == "energy_meter" and "values" in r]
    hang_mono = max(r["mono"] for r in meter_good if r["mono"] < lost[0]["mono"])
    assert GRACE_S <= lost[0]["mono"] - hang_mono < GRACE_S + 1
    journal = records(out / "journal" / "VIRTUAL-CP-001.jsonl")
    stops = [
        f
        for f in journal
        if f.get("action") == "RemoteStopTransaction"
        and f.get("kind") == "CALL"
        and f["mono"] > hang_mono
    ]
    assert stops, "the lab did not stop the session through OCPP"
    failed_mono = stops[0]["mono"]
    assert failed_mono - hang_mono < GRACE_S + 3, f"{failed_mono - hang_mono:.1f} s"
    tx = payload(stops[0])["transactionId"]
    assert any(
        f.get("action") == "StopTransaction"
        and f.get("kind") == "CALL"
        and f["dir"] == "rx"
        and payload(f).get("transactionId") == tx
        and f["mono"] > failed_mono
        for f in journal
    ), "no StopTransaction followed"
    # the energy stopped: the analyser reads next to nothing within a few seconds
    analyser = [r for r in samples if r["source"] == "power_analyser" and "values" in r]
    assert any(r["values"]["power_w"] > 20_000 for r in analyser if r["mono"] < failed_mono)
    off = [
        r["mono"]
        for r in analyser
        if r["mono"] > failed_mono and r["values"]["power_w"] <= POWER_FLOWING_W
    ]
    assert off and off[0] - failed_mono < 3.0

    # later steps: decided from the analyser, never from the dead meter
    assert status["14"] == "PASS", outcomes["14"].message
    # EI1 compares the signed energy with a reference (requires:power_source): the analyser
    assert status["EI1"] == "PASS", outcomes["EI1"].message
    assert "compared with the power analyser" in outcomes["EI1"].message
    assert "energy_meter" in outcomes["EI1"].message


def test_meter_unreachable_at_start(tmp_path: Path) -> None:
    with socket.socket() as sock:  # a port that is certainly closed
        sock.bind(("127.0.0.1", 0))
        dead = f"modbus-tcp://127.0.0.1:{sock.getsockname()[1]}"
    data = yaml.safe_load(write_lab(tmp_path, []).read_text())
    data["instruments"]["energy_meter"]["address"] = dead  # a real address, virtual bench
    lab = tmp_path / "lab.yaml"
    lab.write_text(yaml.safe_dump(data))
    outcomes = run_steps(tmp_path, lab, ["5", "6", "EI1"])
    assert outcomes["5"].status == "PASS", outcomes["5"].message
    # step 6 does not require the meter: it reconciles the energy with the analyser, and
    # says so in a remark
    assert outcomes["6"].status == "PASS", outcomes["6"].message
    assert "Energy reconciled without the energy_meter" in outcomes["6"].message
    # EI1 takes the analyser as its reference, and says the meter cannot be used
    assert outcomes["EI1"].status == "PASS", outcomes["EI1"].message
    assert "energy_meter" in outcomes["EI1"].message and dead in outcomes["EI1"].message
    samples = records(tmp_path / "out" / "samples.jsonl")
    assert {r["source"] for r in samples} == {"power_analyser"}
