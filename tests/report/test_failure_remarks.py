"""A failing row's remark a maker can act on (issue 20, item 2): in full, never cut inside
a sentence (a long one points to the failure details, which hold it whole), with the rule's
clause, and the frames it names quoted from the run's journal, so the PDF alone is the
evidence."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from pypdf import PdfReader

from hil.report.build import report_from_outputs
from hil.report.model import NO, Report
from hil.report.render import write_report
from tests.report.runs import robot_output

#: a failure longer than a Remarks cell holds, naming two frames by number only
LONG_FAIL = (
    "Queued messages after the connection loss: missing readings: 7.0 s between "
    "2026-11-30T10:00:58.854000+00:00 (#28) and 2026-11-30T10:01:05.878000+00:00 "
    "(StopTransaction #32), about 3 sample(s) of 2 s missing; only 0 reading(s) taken while "
    "offline were delivered; 7 s of charging offline at 2 s means at least 2; connector 1 "
    "replayed 3 different StatusNotifications after reconnecting: Charging, SuspendedEV, "
    "Finishing (OCPP 1.6 §4.7 and §4.10: transaction messages queued while offline are "
    "delivered in order once the connection is back, none dropped)"
)
FRAME_28 = '[2,"m28","MeterValues",{"connectorId":1,"transactionId":7,"meterValue":[]}]'


def _journal(folder: Path, station: str = "CP-1") -> None:
    (folder / "journal").mkdir(exist_ok=True)
    frames = [
        {
            "seq": n,
            "wall": f"2026-11-30T10:00:{n:02d}.500000+00:00",
            "dir": "rx",
            "kind": "CALL",
            "action": "MeterValues" if n == 28 else "Heartbeat",
            "raw": FRAME_28 if n == 28 else f'[2,"h{n}","Heartbeat",{{}}]',
        }
        for n in range(1, 40)
    ]
    (folder / "journal" / f"{station}.jsonl").write_text(
        "".join(json.dumps(f) + "\n" for f in frames), encoding="utf-8"
    )


def _words(text: str) -> set[str]:
    return set(re.findall(r"[A-Za-z]+", text))


def _pdf_text(report: Report, out: Path) -> tuple[str, set[str]]:
    """The PDF's text with its line breaks undone, and every word as the PDF lines hold it
    (a word split across two lines shows as two fragments, not as the word)."""
    paths = {p.suffix: p for p in write_report(report, out, formats=("pdf",))}
    raw = [p.extract_text() for p in PdfReader(paths[".pdf"]).pages]
    return " ".join(" ".join(t.split()) for t in raw), set().union(*map(_words, raw))


def test_a_long_failure_is_never_cut_and_its_frames_are_quoted(tmp_path):
    """The harm: the Remarks cell ended "… main controller…" mid-sentence, and the failure
    details gave frame numbers into a journal the maker does not have."""
    out = robot_output(tmp_path / "run", {"7": ("FAIL", LONG_FAIL)})
    _journal(out.parent)
    report = report_from_outputs([out], tmp_path)
    row = next(r for r in report.checklist if r.step == "7")
    assert row.verdict == NO
    (cell,) = row.remarks
    assert "…" not in cell and len(cell) <= 420
    assert cell.endswith("; and more (see failure details, step 7)")
    (detail,) = report.failures
    assert detail.remark.startswith(cell.removesuffix("; and more (see failure details, step 7)"))
    assert detail.remark.endswith("none dropped)") and "OCPP 1.6 §4.7" in detail.remark
    assert [f.split(" at ")[0] for f in detail.frames] == [
        "#28 rx CALL MeterValues",
        "#32 rx CALL Heartbeat",
    ]
    assert detail.frames[0].endswith(FRAME_28)
    text, words = _pdf_text(report, tmp_path / "r")
    assert " ".join(detail.remark.split()) in text
    assert _words(detail.remark) <= words  # no word of the remark split across lines
    assert "#28 rx CALL MeterValues at 10:00:28.500 UTC" in text


def test_a_short_failure_is_the_whole_cell_and_needs_no_pointer(tmp_path):
    """The harm: a pointer to the details where the cell already says it all."""
    short = "The station answered Reset Rejected (frame #3) (OCPP 1.6 §5.14 (Reset))"
    out = robot_output(tmp_path / "run", {"10": ("FAIL", short)})
    report = report_from_outputs([out], tmp_path)
    row = next(r for r in report.checklist if r.step == "10")
    assert row.remarks == [short] and report.failures[0].remark == ""
    assert report.failures[0].frames == []  # no journal beside this run: nothing to quote


@pytest.mark.robot
def test_a_station_defect_gives_a_row_citing_its_clause_and_details_quoting_its_frames(tmp_path):
    """Step 1 on a virtual station that never reports connector 0: the N row's remark says
    what the station did, the clause it breaks and the frames, whole; the failure details
    quote those frames; the PDF has the whole remark, no word of it split across lines.
    The harm: a remark cut mid-clause and evidence only a lab with the journal can read."""
    from tests.suites.runner import run_steps, write_lab

    outcome = run_steps(tmp_path, write_lab(tmp_path, ["no_status_connector_0"]), ["1"])["1"]
    assert outcome.status == "FAIL", outcome.message
    report = report_from_outputs([tmp_path / "out" / "output.xml"], tmp_path)
    row = report.checklist[0]
    assert row.verdict == NO
    remark = row.remarks[0]
    assert "…" not in remark and remark.endswith("(§4.2))")
    assert "OCPP 1.6 §4.9 and §6.47" in remark and "connector 1 Available (#12)" in remark
    (detail,) = report.failures
    quoted = {f.split(" ")[0]: f for f in detail.frames}
    assert set(quoted) >= {"#12", "#14"}
    assert quoted["#12"].startswith("#12 rx CALL StatusNotification at ")
    assert '"connectorId":1' in quoted["#12"] and '"status":"Available"' in quoted["#12"]
    text, words = _pdf_text(report, tmp_path / "r")
    assert " ".join(remark.split()) in text
    assert _words(remark) <= words
    assert "#12 rx CALL StatusNotification" in text
