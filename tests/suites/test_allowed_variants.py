"""Behaviours OCPP 1.6 allows either way pass, with a remark where the lab should know.

The virtual station shows them as station settings (``virtual.station``), not as
deviations: a station that supports fewer measurands, refuses a short ConnectionTimeOut,
repeats its status notifications, reports Finishing before StopTransaction or sends no
Unavailable before a hard reboot did nothing wrong.
"""

from __future__ import annotations

import pytest

from hil.report.build import report_from_outputs
from tests.suites.runner import run_steps, write_lab

pytestmark = pytest.mark.robot

VARIANTS = {
    "supported_measurands": ["Energy.Active.Import.Register", "Power.Active.Import"],
    "min_connection_timeout_s": 20,
    "repeat_statuses": True,
    "finishing_before_stop": True,
}


def remark_lines(message: str) -> list[str]:
    return [line for line in message.splitlines() if line.startswith("Remark:")]


def test_the_whole_checklist_passes_on_a_station_with_every_allowed_variant(tmp_path):
    outcomes = run_steps(tmp_path, write_lab(tmp_path, virtual={"station": VARIANTS}))
    not_passed = {s: (o.status, o.message) for s, o in outcomes.items() if o.status != "PASS"}
    assert not not_passed, not_passed
    remarked = {s for s, o in outcomes.items() if "remark" in o.tags}
    # without Current.Offered the smart-charging steps check Power.Active.Import instead
    assert remarked == {"4", "8", "10", "SC1", "SC2", "SC3"}, {
        s: outcomes[s].message for s in remarked
    }
    assert "no Current.Offered" in outcomes["SC1"].message
    assert any(
        "does not sample Current.Offered, Current.Import" in line
        for line in remark_lines(outcomes["4"].message)
    ), outcomes["4"].message
    assert any(
        "refused ConnectionTimeOut=5; the step uses 20 s" in line
        for line in remark_lines(outcomes["8"].message)
    ), outcomes["8"].message
    assert any(
        "No StatusNotification Unavailable" in line for line in remark_lines(outcomes["10"].message)
    ), outcomes["10"].message
    # the report: Y everywhere, every level achieved, the remarks shown on the passing rows
    report = report_from_outputs([tmp_path / "out" / "output.xml"], tmp_path)
    rows = {r.step: r for r in report.checklist + report.smart_charging + report.eichrecht}
    assert {r.verdict for r in rows.values()} == {"Y"} and report.certified
    assert {s for s, r in rows.items() if r.remarks} == remarked
    assert "the step uses 20 s" in " ".join(rows["8"].remarks)


def test_a_station_that_reports_unavailable_before_a_hard_reset_gets_no_remark(tmp_path):
    lab = write_lab(tmp_path, virtual={"station": {"unavailable_before_hard_reset": True}})
    outcome = run_steps(tmp_path, lab, ["10"])["10"]
    assert outcome.status == "PASS", outcome.message
    assert "remark" not in outcome.tags, outcome.message
