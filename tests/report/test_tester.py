"""The tester's word in the report (hil.report.tester): a person's remarks and verdict
overrides shown as theirs, with who and when, beside what the lab said; the report's
number, tester and authoriser; instruments' calibration; and a report that names no path
of the lab PC and links only inside its own folder."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from pypdf import PdfReader

from hil.cli import main
from hil.report.render_markdown import md_text
from hil.report.sources import read_output_xml
from tests.browser import headless_chromium
from tests.report.runs import robot_output

NEVER_SENT = "The station answered TriggerMessage BootNotification Accepted but never sent it"
HEART = "Remark: HeartbeatInterval 300 was answered NotSupported"

TESTER_FILE = """\
tester: A. Tester
date: 2099-12-01
report_number: CR-2026-0042
authorised_by: Dr. B. Head
steps:
  7:
    - remark: The station's manual gives a 31 s reboot delay; checked by hand.
    - verdict: Y
      reason: BootNotification came 31 s later, within the maker's documented delay
  2:
    - replaces: HeartbeatInterval 300
      remark: NotSupported is allowed for this key on this firmware.
      by: C. Other
      at: 2099-12-02 09:15
"""


def _pdf_text(path: Path) -> str:
    return " ".join(" ".join(p.extract_text().split()) for p in PdfReader(path).pages)


def _run(tmp_path: Path, **kw) -> Path:
    outcomes = {"7": ("FAIL", NEVER_SENT), "2": ("PASS", HEART)}
    return robot_output(tmp_path / "run", outcomes, **kw)


def _facts(output: Path, **facts) -> None:
    """Add to the run marker what the lab writes there from its config."""
    marker = output.parent / "hil-run.json"
    data = json.loads(marker.read_text(encoding="utf-8"))
    marker.write_text(json.dumps({**data, **facts}), encoding="utf-8")


def test_a_persons_remarks_and_override_are_marked_as_theirs_in_every_format(tmp_path, capsys):
    """Harm: a report that mixes a tester's words and verdicts with the lab's, or shows an
    override as if the lab had measured it, certifies on a person's say-so without saying
    whose: the reader can neither see the lab's N nor ask the person who turned it to Y."""
    output = _run(tmp_path)
    (output.parent / "tester-remarks.yaml").write_text(TESTER_FILE, encoding="utf-8")
    assert main(["report", str(output)]) == 0
    out = output.parent
    err = capsys.readouterr().err
    assert "authorised" not in err and "no number" not in err  # the file gave both

    md = (out / "certification-report.md").read_text(encoding="utf-8")
    row7 = next(line for line in md.splitlines() if line.startswith("| 7 |"))
    assert "| **N → Y** |" in row7
    assert NEVER_SENT in row7  # the lab's own remark stays
    assert (
        "*N → Y (override by A. Tester, 2099-12-01: BootNotification came 31 s later, "
        "within the maker's documented delay)*" in row7
    )
    assert "*Remark by A. Tester, 2099-12-01: The station's manual gives" in row7
    row2 = next(line for line in md.splitlines() if line.startswith("| 2 |"))
    assert (
        "*Remark by C. Other, 2099-12-02 09:15, in place of the lab's remark "
        "“HeartbeatInterval 300 was answered NotSupported”: NotSupported is allowed" in row2
    )
    assert "| **Report number** | CR-2026-0042 |" in md
    assert "| **Authorised by** | Dr. B. Head |" in md
    assert "| **Tester's remarks** | tester-remarks.yaml |" in md
    assert "Certified: OCPP 1.6 JSON" in md  # the override counts, and says so in row 7
    assert "## Failure details" in md and NEVER_SENT in md.split("## Failure details")[1]

    pdf = _pdf_text(out / "certification-report.pdf")
    assert "N → Y" in pdf
    assert "override by A. Tester, 2099-12-01: BootNotification came 31 s later" in pdf
    assert "Remark by C. Other, 2099-12-02 09:15, in place of the lab's remark" in pdf
    assert "Report number CR-2026-0042" in pdf and "Authorised by Dr. B. Head" in pdf

    with headless_chromium() as browser:
        page = browser.new_page()
        page.goto((out / "certification-report.html").as_uri(), wait_until="load")
        cell = page.locator('#checklist tr[data-step="7"] td.pass')
        assert cell.inner_text().strip() == "N → Y"
        assert "pass-Y" in (cell.get_attribute("class") or "")
        lab = page.locator('#checklist tr[data-step="7"] p.remark:not(.tester)').all_inner_texts()
        assert lab == [NEVER_SENT]
        person = page.locator('#checklist tr[data-step="7"] p.remark.tester').all_inner_texts()
        assert person == [
            "Remark by A. Tester, 2099-12-01: The station's manual gives a 31 s reboot delay; "
            "checked by hand.",
            "N → Y (override by A. Tester, 2099-12-01: BootNotification came 31 s later, "
            "within the maker's documented delay)",
        ]
        # set apart on screen, not only in words
        style = page.locator('#checklist tr[data-step="7"] p.remark.tester').first
        assert style.evaluate("e => getComputedStyle(e).borderLeftStyle") == "solid"
        replaced = page.locator('#checklist tr[data-step="2"] p.remark')
        assert replaced.all_inner_texts() == [
            "Remark by C. Other, 2099-12-02 09:15, in place of the lab's remark “HeartbeatInterval "
            "300 was answered NotSupported”: NotSupported is allowed for this key on this "
            "firmware."
        ]
        assert "Dr. B. Head" in page.locator("#certificate").inner_text()


def test_remarks_option_and_tester_line(tmp_path):
    """Harm: a tester's file kept elsewhere (``--remarks``) is ignored, or the Tester line
    names the lab config's default instead of the person who wrote the file."""
    output = _run(tmp_path)
    remarks = tmp_path / "review" / "mine.yaml"
    remarks.parent.mkdir()
    remarks.write_text(TESTER_FILE, encoding="utf-8")
    out = tmp_path / "report"
    assert main(["report", str(output), "-o", str(out), "--remarks", str(remarks)]) == 0
    md = (out / "certification-report.md").read_text(encoding="utf-8")
    assert "| **Tester** | A. Tester |" in md and "J. Doe" not in md
    assert "| **Tester's remarks** | mine.yaml |" in md
    assert main(["report", str(output), "-o", str(out), "--tester", "Z. Lab"]) == 0
    md = (out / "certification-report.md").read_text(encoding="utf-8")
    assert "| **Tester** | Z. Lab |" in md and "override" not in md  # no file given or found


def test_missing_authoriser_and_number_warn_in_report_and_on_console(tmp_path, capsys):
    """Harm: a report nobody authorised (or without a number) goes out looking final; the
    reader must see it on the first page and the person running ``hil report`` at once."""
    output = _run(tmp_path)
    assert main(["report", str(output), "-o", str(tmp_path / "out")]) == 0
    err = capsys.readouterr().err
    assert "warning: No one has authorised this report" in err
    assert "warning: The report has no number" in err
    md = (tmp_path / "out" / "certification-report.md").read_text(encoding="utf-8")
    certificate = md.split("\n---\n")[0]
    assert "> **Warning:** No one has authorised this report" in certificate
    assert "| **Authorised by** | — |" in certificate
    pdf = _pdf_text(tmp_path / "out" / "certification-report.pdf")
    assert "Warning: No one has authorised this report" in pdf.split("Boot charging station")[0]
    html = (tmp_path / "out" / "certification-report.html").read_text(encoding="utf-8")
    cert = html[html.index('id="certificate"') : html.index('id="test-report"')]
    assert 'id="warnings"' in cert and "No one has authorised this report" in cert

    # from the lab config's report section (the marker the lab writes): no warning
    _facts(output, report={"number": "CR-7", "authorised_by": "Dr. B. Head"})
    assert main(["report", str(output), "-o", str(tmp_path / "out")]) == 0
    assert "warning" not in capsys.readouterr().err
    md = (tmp_path / "out" / "certification-report.md").read_text(encoding="utf-8")
    assert "Warning" not in md and "| **Report number** | CR-7 |" in md


def test_overdue_calibration_warns(tmp_path, capsys):
    """Harm: a measurement by an instrument past its calibration date is evidence no lab
    may sign; a report that lists it without a word lets it through."""
    output = _run(tmp_path)
    _facts(output, report={"number": "CR-7", "authorised_by": "Dr. B. Head"})
    day = read_output_xml(output).ended[:10]  # the run's date, as the report has it
    items = [
        {"role": "energy_meter", "driver": "sdm630", "address": "modbus-tcp://m:502",
         "identity": "SDM630", "serial": "EM-77", "calibration_due": "2020-01-31"},
        {"role": "power_analyser", "driver": "wt300", "address": "TCPIP0::a::1::SOCKET",
         "identity": "WT310", "serial": "PA-1", "calibration_due": day},
    ]  # fmt: skip
    (output.parent / "evidence.jsonl").write_text(
        json.dumps({"kind": "instruments", "items": items}) + "\n", encoding="utf-8"
    )
    assert main(["report", str(output)]) == 0
    err = capsys.readouterr().err
    expected = (
        "Calibration overdue: the energy_meter sdm630 (serial EM-77) was due for calibration "
        f"on 2020-01-31, but run 1 used it on {day}."
    )
    assert f"warning: {expected}" in err
    assert "PA-1" not in err  # due on the day of the run: still in calibration
    md = (output.parent / "certification-report.md").read_text(encoding="utf-8")
    assert f"> **Warning:** {md_text(expected)}" in md
    assert "| energy\\_meter | sdm630 | modbus-tcp://m:502 | SDM630 | EM-77 | 2020-01-31 |" in md
    assert "| PA-1 | " + day + " |" in md
    pdf = _pdf_text(output.parent / "certification-report.pdf")
    assert expected in pdf and "EM-77 2020-01-31" in pdf


BAD_FILES = [
    ("steps: {7: [{verdict: maybe, reason: x}]}", "field steps.7.0.verdict", "'maybe'"),
    ("steps: {7: [{verdict: yes, reason: x}]}", "field steps.7.0.verdict", "write Y, N"),
    ("tester: A\ndate: 2099-12-01\nsteps: {7: [{verdict: Y}]}", "field steps.7.0.reason", "None"),
    ("tester: A\ndate: 2099-12-01\nsteps: {7: [{verdict: Y, reason: ' '}]}",
     "field steps.7.0.reason", "' '"),
    ("tester: A\ndate: 2099-12-01\nsteps: {99: [{remark: x}]}", "field steps.99", "'99'"),
    ("tester: A\ndate: 2099-12-01\nsteps: {7: [{remakr: x}]}", "field steps.7.0.remakr",
     "'x'"),
    ("date: 2099-12-01\nsteps: {7: [{remark: x}]}", "field steps.7.0.by", "tester at the top"),
    ("tester: A\nsteps: {7: [{remark: x}]}", "field steps.7.0.at", "date at the top"),
    ("tester: A\nsteps: {7: [{remark: x, at: yesterday}]}", "field steps.7.0.at",
     "'yesterday'"),
    ("tester: A\ndate: 2099-12-01\nsteps: {7: [{replaces: HeartbeatInterval, remark: x}]}",
     "field steps.7.0.replaces", "'HeartbeatInterval'"),
    ("tester: A\ndate: 2099-12-01\nsteps: {21: [{verdict: N/A, reason: r}]}",
     "field steps.21.0.verdict", "not run"),
    ("tester: A\ndate: 2099-12-01\nsteps: {7: [{verdict: Y, reason: a}, {verdict: N, reason: b}]}",
     "field steps.7.1.verdict", "'N'"),
    ("tester: A\ndate: 2099-12-01\nsteps: {7: [{verdict: N, reason: a}]}",
     "field steps.7.0.verdict", "already N"),
    ("tester: A\ndate: 2099-12-01\nsteps: {7: [{reason: a, remark: b}]}",
     "field steps.7.0.reason", "'a'"),
    ("tester: [A\n", "line 2, column 1 is not valid YAML", ""),
    ("tester: A\ntester: B\n", "field tester is given twice", ""),
]  # fmt: skip


@pytest.mark.parametrize(("content", "field", "value"), BAD_FILES)
def test_a_bad_tester_file_is_one_line_naming_file_field_and_value(
    tmp_path, capsys, content, field, value
):
    """Harm: a mistyped override (``verdict: yes``, a missing reason, a step that does not
    exist) silently dropped would certify, or fail to, without the tester knowing."""
    output = robot_output(tmp_path / "run", {"7": ("FAIL", NEVER_SENT)}, steps=["1", "7"])
    bad = tmp_path / "bad.yaml"
    bad.write_text(content, encoding="utf-8")
    assert main(["report", str(output), "--remarks", str(bad)]) == 2
    (err,) = capsys.readouterr().err.strip().splitlines()
    assert err.startswith(f"error: {bad}: {field}"), err
    assert value in err
    assert not (output.parent / "certification-report.html").exists()


def test_a_tester_file_beside_the_run_that_is_bad_stops_the_report(tmp_path, capsys):
    """Harm: the default file (``tester-remarks.yaml`` beside the run) is as much the
    tester's word as ``--remarks``: a bad one must not be skipped quietly."""
    output = robot_output(tmp_path / "run", steps=["1"])
    (output.parent / "tester-remarks.yaml").write_text("steps: {1: [{verdict: X}]}\n")
    assert main(["report", str(output)]) == 2
    err = capsys.readouterr().err
    assert "tester-remarks.yaml: field steps.1.0.verdict" in err and "'X'" in err


def test_no_absolute_path_of_the_lab_pc_and_links_inside_the_report_folder(tmp_path):
    """Harm: a report mailed to the maker names /home/lab/... paths and links to
    ``../core/log.html`` that break once it leaves the lab PC."""
    core = robot_output(
        tmp_path / "core",
        {"7": ("FAIL", f"{NEVER_SENT}; see {tmp_path / 'core' / 'journal' / 'CP-1.jsonl'}")},
    )
    retest = robot_output(tmp_path / "retest", steps=["8"])
    for run in (core.parent, retest.parent):
        (run / "log.html").write_text("<html>log</html>", encoding="utf-8")
        (run / "journal").mkdir()
        (run / "journal" / "CP-1.jsonl").write_text("{}\n", encoding="utf-8")
    out = tmp_path / "report"
    assert main(["report", str(core), str(retest), "-o", str(out)]) == 0

    html = (out / "certification-report.html").read_text(encoding="utf-8")
    md = (out / "certification-report.md").read_text(encoding="utf-8")
    pdf = _pdf_text(out / "certification-report.pdf")
    for text in (html, md.replace("\\_", "_"), pdf):
        flat = re.sub(r"\s+", "", text)
        assert str(tmp_path) not in flat and str(tmp_path.resolve()) not in flat
    assert "see core/journal/CP-1.jsonl" in md  # the path, from its own folder
    hrefs = re.findall(r'href="([^"]+)"', html)
    assert sorted(hrefs) == [
        "run-files/run-1/journal/CP-1.jsonl",
        "run-files/run-1/log.html",
        "run-files/run-1/output.xml",
        "run-files/run-2/journal/CP-1.jsonl",
        "run-files/run-2/log.html",
        "run-files/run-2/output.xml",
    ]
    for href in hrefs:  # taken along: the folder can be zipped and mailed as it is
        assert (out / href).is_file(), href
    assert (out / "run-files/run-1/log.html").read_text() == "<html>log</html>"
    md_links = re.findall(r"\]\(([^)]+)\)", md)
    assert all(not link.startswith(("/", "..")) for link in md_links), md_links
    assert "| run 1 | core | core/output.xml |" in md


def test_a_tester_file_older_than_the_run_warns(tmp_path, capsys):
    """Harm: a run folder used again keeps the tester's file of the earlier run; its
    overrides would land on new results nobody has looked at, unannounced."""
    output = _run(tmp_path)
    (output.parent / "tester-remarks.yaml").write_text(
        "tester: A. Tester\ndate: 2020-01-01\nsteps: {7: [{verdict: Y, reason: seen}]}\n",
        encoding="utf-8",
    )
    assert main(["report", str(output)]) == 0
    day = read_output_xml(output).started[:10]
    expected = (
        "The tester's file tester-remarks.yaml has an entry of 2020-01-01, before run 1 "
        f"started ({day}): check that it is about these runs."
    )
    assert f"warning: {expected}" in capsys.readouterr().err
    md = (output.parent / "certification-report.md").read_text(encoding="utf-8")
    assert f"> **Warning:** {md_text(expected)}" in md
