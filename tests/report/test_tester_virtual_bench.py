"""The tester's word on a real run of the virtual bench: the lab config's instrument
serials, calibration dates and report section reach the report, a tester's file beside
the run is read, and no path of the lab PC is printed."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from pypdf import PdfReader

from hil.cli import main
from tests.suites.runner import run_steps, write_lab

pytestmark = pytest.mark.robot


def test_a_virtual_bench_run_with_a_tester_file_and_an_overdue_meter(tmp_path, capsys):
    """Harm: what the lab config says of its instruments and of the report never reaches
    the certificate (an overdue meter signs unnoticed), and the report mailed from the lab
    PC names its folders."""
    lab = write_lab(
        tmp_path,
        instruments={
            "energy_meter": {
                "driver": "sdm630",
                "address": "virtual",
                "options": {"unit_id": 1},
                "serial": "EM-77",
                "calibration_due": "2020-01-31",
            },
            "power_analyser": {
                "driver": "wt300",
                "address": "virtual",
                "serial": "PA-1",
                "calibration_due": "2999-12-31",
            },
        },
        report={"number": "CR-2026-0042"},
    )
    out = tmp_path / "out"
    out.mkdir()
    # left from an earlier run in this folder: the report at the end of the run is the
    # lab's alone (no person has seen this run yet)
    (out / "tester-remarks.yaml").write_text(
        "tester: A. Tester\ndate: 2020-01-01\nsteps: {1: [{verdict: N, reason: stale}]}\n",
        encoding="utf-8",
    )
    outcomes = run_steps(tmp_path, lab, ["1"])
    assert outcomes["1"].status == "PASS", outcomes["1"].message
    at_end = (out / "certification-report.md").read_text(encoding="utf-8")
    assert "stale" not in at_end and "Tester's remarks" not in at_end
    assert "Calibration overdue: the energy\\_meter sdm630 (serial EM-77)" in at_end
    assert str(tmp_path) not in at_end

    (out / "tester-remarks.yaml").write_text(
        f"tester: A. Tester\ndate: {date.today() + timedelta(days=1)}\n"
        "authorised_by: Dr. B. Head\n"
        "steps:\n  '1':\n    - remark: The boot screen showed the new firmware too.\n",
        encoding="utf-8",
    )
    assert main(["report", str(out / "output.xml")]) == 0
    err = capsys.readouterr().err
    assert "warning: Calibration overdue: the energy_meter sdm630 (serial EM-77)" in err
    assert "PA-1" not in err and "authorised" not in err and "no number" not in err
    md = (out / "certification-report.md").read_text(encoding="utf-8")
    assert "| PA-1 | 2999-12-31 |" in md and "| EM-77 | 2020-01-31 |" in md
    assert "| **Report number** | CR-2026-0042 |" in md
    assert "*Remark by A. Tester, " in md and ": The boot screen showed the new firmware" in md
    assert "Warning:** The tester's file" not in md  # written after the run: no warning
    html = (out / "certification-report.html").read_text(encoding="utf-8")
    pdf = " ".join(p.extract_text() for p in PdfReader(out / "certification-report.pdf").pages)
    for text in (md.replace("\\_", "_"), html, pdf):
        assert str(tmp_path) not in re.sub(r"\s+", "", text)
    for href in re.findall(r'href="([^"]+)"', html):
        assert not href.startswith(("/", "..", "file:")) and (out / href).is_file(), href
