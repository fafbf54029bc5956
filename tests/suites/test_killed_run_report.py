"""A run killed halfway (SIGKILL: no teardown, no listener close, output.xml cut off) still
gets a certification report of the steps that finished, marked interrupted."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from hil.cli import main
from hil.lab.evidence import read_json_lines
from tests.suites.runner import SUITES, write_lab

pytestmark = pytest.mark.robot


def test_a_killed_run_still_gets_a_report_of_the_steps_that_finished(tmp_path, capsys):
    out = tmp_path / "out"
    lab = write_lab(tmp_path)
    cmd = [sys.executable, "-m", "robot", "--outputdir", str(out), "--variable", f"LAB:{lab}"]
    for step in ("1", "2", "3", "4", "5"):
        cmd += ["--include", f"step:{step}"]
    proc = subprocess.Popen(
        [*cmd, str(SUITES)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own group: the kill takes the virtual bench too
    )
    try:
        deadline = time.monotonic() + 240
        while len(read_json_lines(out / "steps.jsonl")) < 2:
            assert proc.poll() is None, "the run ended before two steps finished"
            assert time.monotonic() < deadline, "two steps did not finish within 240 s"
            time.sleep(0.2)  # polling a file another process writes; no event to wait on
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finished = {r["step"]: r["status"] for r in read_json_lines(out / "steps.jsonl")}
    assert len(finished) in (2, 3) and set(finished.values()) == {"PASS"}, finished

    assert main(["report", str(out / "output.xml"), "-o", str(tmp_path / "report")]) == 0
    printed = capsys.readouterr().out
    assert "interrupted" in printed
    html = (tmp_path / "report" / "certification-report.html").read_text(encoding="utf-8")
    assert "interrupted" in html.lower()
    from hil.report.build import report_from_outputs

    report = report_from_outputs([out / "output.xml"], tmp_path / "report")
    assert report.interrupted and not report.certified
    verdicts = {r.step: r.verdict for r in report.checklist}
    assert {s for s, v in verdicts.items() if v == "Y"} == set(finished)
    assert {s for s, v in verdicts.items() if v == ""} == {str(n) for n in range(1, 24)} - set(
        finished
    )
