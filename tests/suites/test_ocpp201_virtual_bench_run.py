"""The whole checklist on a 2.0.1 virtual station: the same suites as for 1.6; the steps the
lab checks on 2.0.1 pass over a real ``ocpp2.0.1`` connection, every other step is N/A
saying why, and the report names the 2.0.1 level, not achieved while steps are N/A."""

from __future__ import annotations

import json

import pytest

from hil.protocol import adapter_for
from hil.report.build import report_for_output_dir
from tests.suites.runner import run_steps, write_lab

pytestmark = pytest.mark.robot


def test_the_whole_checklist_on_a_201_station(tmp_path):
    outcomes = run_steps(tmp_path, write_lab(tmp_path, dut={"ocpp": "2.0.1"}))
    checked = adapter_for("2.0.1").checked_steps or frozenset()
    passed = {s for s, o in outcomes.items() if o.status == "PASS"}
    assert passed == set(checked), {s: (o.status, o.message) for s, o in outcomes.items()}
    for step, outcome in outcomes.items():
        if step not in checked:
            assert outcome.status == "SKIP", (step, outcome.status, outcome.message)
            assert "does not yet check this step on OCPP 2.0.1" in outcome.message
    journal = tmp_path / "out" / "journal" / "VIRTUAL-CP-001.jsonl"
    frames = [json.loads(line) for line in journal.read_text().splitlines()]
    connects = [f for f in frames if f["dir"] == "event" and f["kind"] == "connect"]
    assert connects and {f["info"]["subprotocol"] for f in connects} == {"ocpp2.0.1"}
    actions = {f["action"] for f in frames if f["dir"] == "rx" and f["kind"] == "CALL"}
    assert {"BootNotification", "StatusNotification", "Heartbeat", "NotifyReport"} <= actions
    assert "ChangeConfiguration" not in {f.get("action") for f in frames}
    report = report_for_output_dir(tmp_path / "out")
    core = report.levels[0]
    assert core.title == "OCPP 2.0.1 Core" and not core.achieved and not report.certified
    assert report.title.endswith("using OCPP2.0.1 via JSON")
    assert report.configuration, "the whole configuration (NotifyReport) is evidence"
