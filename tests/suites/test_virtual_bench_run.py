"""The whole checklist passes on a well-behaved virtual bench, and leaves its evidence."""

from __future__ import annotations

import json

import pytest
import yaml
from pypdf import PdfReader

from hil.report.build import report_for_output_dir, report_from_outputs
from tests.suites.runner import run_steps, write_lab

pytestmark = pytest.mark.robot


def test_all_steps_pass_on_the_virtual_bench(tmp_path):
    outcomes = run_steps(tmp_path, write_lab(tmp_path))
    failed = {s: o.message for s, o in outcomes.items() if o.status == "FAIL"}
    assert not failed, failed
    assert {"1", "2", "3", "4", "5", "EI1", "SC1", "SC2", "SC3"} <= set(outcomes)
    firmware_cache_trigger = {"17", "18", "19", "20", "21", "22", "23"}
    assert firmware_cache_trigger <= set(outcomes)
    assert {o.status for s, o in outcomes.items() if s in firmware_cache_trigger} == {"PASS"}
    journal = tmp_path / "out" / "journal" / "VIRTUAL-CP-001.jsonl"
    frames = [json.loads(line) for line in journal.read_text().splitlines()]
    assert frames[0]["kind"] == "connect"
    actions = {f["action"] for f in frames if f["dir"] == "rx" and f["kind"] == "CALL"}
    assert {"BootNotification", "StatusNotification", "Heartbeat"} <= actions
    assert all({"seq", "wall", "mono", "raw", "dir"} <= set(f) for f in frames)
    # the certification report, as written at the end of the run and from output.xml
    out = tmp_path / "out"
    for report in (report_for_output_dir(out), report_from_outputs([out / "output.xml"], out)):
        assert [r.step for r in report.checklist] == [str(n) for n in range(1, 24)]
        rows = report.checklist + report.smart_charging + report.eichrecht
        assert {r.verdict for r in rows} == {"Y"}, [(r.step, r.verdict, r.remarks) for r in rows]
        assert all(level.achieved for level in report.levels) and report.certified
        assert not report.interrupted
        sessions = {s.step for s in report.sessions}
        assert {"6", "EI1"} <= sessions
        assert report.configuration and report.instruments and report.eichrecht_evidence
        roles = {i.role for i in report.instruments}
        assert roles == {
            "ev_simulator",
            "energy_meter",
            "power_analyser",
            "network_switch",
            "identification",
            "power_relay",
        }
        assert all(p.plot.is_file() for p in report.plots) and report.plots
    for suffix in ("html", "md", "pdf"):
        assert (out / f"certification-report.{suffix}").stat().st_size > 1000
    pdf = PdfReader(out / "certification-report.pdf")
    text = " ".join(page.extract_text() for page in pdf.pages)
    assert "Certified" in pdf.pages[0].extract_text()
    assert all(word in text for word in ("Step", "OCPP Profile", "Action", "Pass", "Remarks"))
    assert "Charging Session - Local - Plugin first" in " ".join(text.split())


def test_a_bench_without_analyser_and_a_tethered_dut_show_na_with_the_reason(tmp_path):
    lab = write_lab(tmp_path, dut={"cable": "tethered"})
    data = yaml.safe_load(lab.read_text())
    del data["instruments"]["power_analyser"]
    lab.write_text(yaml.safe_dump(data))
    outcomes = run_steps(tmp_path, lab, ["6", "15"])
    assert outcomes["6"].status == "PASS", outcomes["6"].message
    report = report_from_outputs([tmp_path / "out" / "output.xml"], tmp_path)
    row15 = report.checklist[14]
    assert (row15.step, row15.verdict, row15.na_by_dut) == ("15", "N/A", True)
    assert "tethered cable" in row15.remarks[0]
    # only two steps ran
    assert report.levels[0].blocking == ["steps 1–5, 7–14, 16–23 were not run"]
    (session,) = report.sessions
    analyser = [r for r in session.rows if r.source.startswith("Power analyser")]
    assert analyser and analyser[0].wh is None
    assert analyser[0].note == "N/A — no power analyser on this bench"


def test_bad_lab_config_fails_suite_setup_with_one_clear_line(tmp_path):
    lab = write_lab(tmp_path, timings={"heartbeat_intervall_s": 3})
    outcomes = run_steps(tmp_path, lab, ["1"])
    message = outcomes["1"].message
    assert outcomes["1"].status == "FAIL"
    assert f"{lab}: field timings.heartbeat_intervall_s: unknown field (value 3)" in message
