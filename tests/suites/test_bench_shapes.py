"""Bench shapes the default virtual bench does not have (issue 18, item 1): a 2.0.1 station
on a bench without a power relay, an EV simulator or a tag reader. The lab then restarts
the station with a Reset (2.0.1: Immediate, built by the adapter) and every request it
sends on these paths must be valid 2.0.1; the steps that need no missing role pass, the
others are N/A (never N, never a lab error)."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest
import yaml
from ocpp.messages import Call, validate_payload

from hil.robot.keywords.cache_trigger import UNKNOWN_MESSAGE
from tests.suites.runner import run_steps, write_lab

pytestmark = pytest.mark.robot


def test_a_201_bench_without_relay_ev_simulator_or_tag_reader(tmp_path):
    data = yaml.safe_load(write_lab(tmp_path, dut={"ocpp": "2.0.1"}).read_text())
    for role in ("power_relay", "ev_simulator", "identification"):
        del data["instruments"][role]
    lab = tmp_path / "lab.yaml"
    lab.write_text(yaml.safe_dump(data))
    outcomes = run_steps(tmp_path, lab, ["1", "2", "6", "10", "23"])

    for step in ("1", "2", "10", "23"):  # the reset-restart paths: the seed's three N
        assert outcomes[step].status == "PASS", (step, outcomes[step].message)
    assert outcomes["6"].status == "SKIP" and "EV simulator" in outcomes["6"].message
    assert not [s for s, o in outcomes.items() if "lab-error" in o.tags]

    journal = tmp_path / "out" / "journal" / "VIRTUAL-CP-001.jsonl"
    frames = [json.loads(line) for line in journal.read_text().splitlines()]
    sent = [f for f in frames if f["dir"] == "tx" and f["kind"] == "CALL"]
    resets = [json.loads(f["raw"])[3] for f in sent if f["action"] == "Reset"]
    assert {"type": "Immediate"} in resets, resets  # the lab's restart, as 2.0.1 says it
    for frame in sent:  # what went on the wire is 2.0.1, every request
        _, uid, action, payload = json.loads(frame["raw"])
        if payload.get("requestedMessage") == UNKNOWN_MESSAGE:
            continue  # step 23 asks for a message no station knows, on purpose
        asyncio.run(validate_payload(Call(uid or str(uuid.uuid4()), action, payload), "2.0.1"))
