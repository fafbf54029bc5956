"""The run listener turns the back office's findings about the DUT into the verdict of the
test that was running: a defect fails it, a remark-level finding (a second connection)
becomes a remark and the step still passes."""

from __future__ import annotations

import json
from types import SimpleNamespace

from hil.csms.findings import Finding, FindingLog
from hil.csms.journal import Journal
from hil.robot.context import LabContext
from hil.robot.listener import RunListener

DUT = "CP-1"


def _listener(tmp_path) -> tuple[RunListener, FindingLog]:
    findings = FindingLog()
    ctx = LabContext()
    ctx.bench = SimpleNamespace(  # type: ignore[assignment]
        back_office=SimpleNamespace(findings=findings),
        cfg=SimpleNamespace(dut=SimpleNamespace(station_id=DUT)),
        station=SimpleNamespace(journal=Journal(DUT)),
    )
    listener = RunListener(ctx)
    listener.output_dir = tmp_path
    return listener, findings


def _run_test(listener: RunListener, finding: Finding) -> SimpleNamespace:
    data = SimpleNamespace(tags=[])
    result = SimpleNamespace(name="Connection Loss", status="PASS", message="", tags=set())
    listener.start_test(data, result)
    listener.ctx.bench.back_office.findings.record(finding)  # type: ignore[union-attr]
    listener.end_test(data, result)
    return result


def test_a_remark_level_finding_is_a_remark_and_the_step_passes(tmp_path):
    listener, _ = _listener(tmp_path)
    finding = Finding(DUT, 7, "second-connection", "a second connection for 'CP-1'", True)
    result = _run_test(listener, finding)
    assert result.status == "PASS"
    assert "Remark: CP-1: second-connection (frame #7)" in result.message
    (line,) = (tmp_path / "remarks.jsonl").read_text().splitlines()
    assert json.loads(line)["test"] == "Connection Loss"


def test_a_defect_finding_still_fails_the_step(tmp_path):
    listener, _ = _listener(tmp_path)
    result = _run_test(listener, Finding(DUT, 3, "schema-violation", "connectorId"))
    assert result.status == "FAIL" and "Finding: CP-1: schema-violation" in result.message
    assert not (tmp_path / "remarks.jsonl").exists()
