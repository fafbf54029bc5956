"""The whole checklist on a 2.0.1 virtual station: the same suites as for 1.6, every step
passes over a real ``ocpp2.0.1`` connection, and the report certifies the 2.0.1 levels."""

from __future__ import annotations

import json

import pytest

from hil.checklist import BY_ID
from hil.report.build import report_for_output_dir
from tests.suites.runner import run_steps, write_lab

pytestmark = pytest.mark.robot


def test_the_whole_checklist_on_a_201_station(tmp_path):
    outcomes = run_steps(tmp_path, write_lab(tmp_path, dut={"ocpp": "2.0.1"}))
    assert set(outcomes) == set(BY_ID), sorted(set(BY_ID) - set(outcomes))
    failed = {s: (o.status, o.message) for s, o in outcomes.items() if o.status != "PASS"}
    assert not failed, failed
    journal = tmp_path / "out" / "journal" / "VIRTUAL-CP-001.jsonl"
    frames = [json.loads(line) for line in journal.read_text().splitlines()]
    connects = [f for f in frames if f["dir"] == "event" and f["kind"] == "connect"]
    assert connects and {f["info"]["subprotocol"] for f in connects} == {"ocpp2.0.1"}
    actions = {f["action"] for f in frames if f["dir"] == "rx" and f["kind"] == "CALL"}
    assert {
        "BootNotification",
        "StatusNotification",
        "Heartbeat",
        "NotifyReport",
        "TransactionEvent",
        "NotifyEvent",
        "FirmwareStatusNotification",
        "LogStatusNotification",
    } <= actions
    assert not actions & {"StartTransaction", "StopTransaction", "ChangeConfiguration"}
    report = report_for_output_dir(tmp_path / "out")
    assert [(lv.title, lv.achieved) for lv in report.levels] == [
        ("OCPP 2.0.1 Core", True),
        ("Smart Charging 2.0.1", True),
        ("Eichrecht", True),
    ]
    assert report.certified
    assert report.title.endswith("using OCPP2.0.1 via JSON")
    assert report.configuration, "the whole configuration (NotifyReport) is evidence"
