"""One certificate for one station run on OCPP 1.6 and on OCPP 2.0.1 (issue 20, item 1):
the version belongs to the run, not to the station, so runs of the same station on both
versions make one report with a level row per version and a step-table set per version."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pypdf import PdfReader

from hil.cli import main
from hil.report.build import report_from_outputs
from hil.report.model import NO, YES
from hil.report.sources import ReportInputError
from tests.browser import headless_chromium
from tests.report.runs import robot_output

GETLOG_FAILS = ("FAIL", "The station answered GetLog Rejected: it will not upload")


def _two_runs(tmp_path: Path) -> tuple[Path, Path]:
    """The same station (vendor, model, serial, firmware) run on 1.6, then on 2.0.1 with
    step 20 failing."""
    r16 = robot_output(tmp_path / "r16")
    r201 = robot_output(tmp_path / "r201", {"20": GETLOG_FAILS}, dut={"ocpp": "2.0.1"})
    return r16, r201


def test_runs_on_16_and_201_of_one_station_make_one_certificate_with_both_levels(tmp_path):
    """The harm: a maker who certified one station on both versions was refused ("a run of
    another DUT: dut.ocpp …") and got no certificate listing what it achieved; and, the
    other way, two stations' results merged into one certificate."""
    r16, r201 = _two_runs(tmp_path)
    report = report_from_outputs([r201, r16], tmp_path)
    assert [(lv.title, lv.mark) for lv in report.levels] == [
        ("OCPP 1.6 JSON", "yes"),
        ("OCPP 2.0.1 Core", "no"),
        ("Smart Charging 1.6 JSON", "yes"),
        ("Smart Charging 2.0.1", "yes"),
        ("Eichrecht", "yes"),
    ]
    assert report.certified
    assert report.verdict_line == (
        "Certified: OCPP 1.6 JSON, Smart Charging 1.6 JSON, Smart Charging 2.0.1, Eichrecht"
    )
    assert report.title.endswith("using OCPP1.6 and OCPP2.0.1 via JSON")
    v16, v201 = report.versions
    assert (v16.ocpp, v201.ocpp) == ("1.6", "2.0.1")
    assert {r.verdict for r in v16.checklist} == {YES}
    row20 = next(r for r in v201.checklist if r.step == "20")
    assert row20.verdict == NO and row20.run == "run 2"
    # 2.0.1's own names where the action differs; the same where it does not
    assert row20.action.startswith("GetLog") and "Remote get diagnostics" not in row20.action
    assert next(r for r in v16.checklist if r.step == "20").action == (
        "Remote get diagnostics report"
    )
    assert next(r for r in v201.checklist if r.step == "4").action == "Set Variables"
    assert next(r for r in v201.checklist if r.step == "1").action == "Boot charging station"
    assert [(f.step, f.ocpp, f.action) for f in report.failures] == [("20", "2.0.1", row20.action)]
    # another station (here: another serial) is still refused, naming the field
    other = robot_output(tmp_path / "b", steps=["2"], dut={"ocpp": "2.0.1", "serial": "S-2"})
    with pytest.raises(ReportInputError, match=r"another DUT: dut.serial is 'S-2' here but 'S-1'"):
        report_from_outputs([r16, other], tmp_path)


def test_hil_report_writes_one_certificate_html_in_a_browser_and_pdf(tmp_path, capsys):
    """`hil report r16/output.xml r201/output.xml` writes one certificate naming the levels
    of both versions and a checklist table per version, in the browser and in the PDF.
    The harm: a certificate that a reader's browser or PDF viewer shows with one version's
    levels or one version's checklist only."""
    r16, r201 = _two_runs(tmp_path)
    out = tmp_path / "report"
    assert main(["report", str(r16), str(r201), "-o", str(out)]) == 0, capsys.readouterr().err
    with headless_chromium() as browser:
        page = browser.new_page(viewport={"width": 1000, "height": 1400})
        page.goto((out / "certification-report.html").as_uri(), wait_until="load")
        levels = page.eval_on_selector_all(
            "#certificate table.levels tbody tr",
            "els => els.map(e => [...e.cells].slice(0, 2).map(c => c.textContent.trim()))",
        )
        assert levels == [
            ["OCPP 1.6 JSON", "yes"],
            ["OCPP 2.0.1 Core", "no"],
            ["Smart Charging 1.6 JSON", "yes"],
            ["Smart Charging 2.0.1", "yes"],
            ["Eichrecht", "yes"],
        ]
        headings = page.eval_on_selector_all(
            "#test-report h2", "els => els.map(e => e.textContent.trim())"
        )
        assert headings[:2] == ["Checklist — OCPP 1.6", "Smart Charging — OCPP 1.6"]
        assert "Checklist — OCPP 2.0.1" in headings
        for table_id in ("checklist-1-6", "checklist-2-0-1"):
            assert page.locator(f"table#{table_id} > tbody > tr").count() == 23, table_id
        actions = page.eval_on_selector_all(
            "table#checklist-2-0-1 tbody tr td:nth-child(3)",
            "els => els.map(e => e.textContent.trim())",
        )
        assert actions[19].startswith("GetLog") and actions[3] == "Set Variables"
        assert page.locator("table#checklist-2-0-1 tr[data-step='20'] td.pass").inner_text() == "N"
    pages = PdfReader(out / "certification-report.pdf").pages
    first = " ".join(pages[0].extract_text().split())
    for level in ("OCPP 1.6 JSON yes", "OCPP 2.0.1 Core no", "Smart Charging 2.0.1 yes"):
        assert level in first
    text = " ".join(" ".join(p.extract_text().split()) for p in pages)
    assert text.count("Step OCPP Profile Action Pass Remarks") >= 6  # 3 tables per version
    assert re.search(r"Checklist — OCPP 1\.6 .*Checklist — OCPP 2\.0\.1", text)
    assert "20 Firmware Management GetLog - Diagnostics log upload N" in text
