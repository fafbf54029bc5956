"""The energy table shows each source beside the reference over the same window, or says
plainly that the windows differ, with each window (issue 20, item 8)."""

from __future__ import annotations

import json
from html import unescape

import pytest
from pypdf import PdfReader

from hil.report.build import report_from_outputs
from hil.report.render import write_report
from tests.report.runs import robot_output

START, STOP = "2026-11-30T10:00:04.872832+00:00", "2026-11-30T10:00:28.607106+00:00"
MV_FIRST, MV_LAST = "2026-11-30T10:00:06.800000+00:00", "2026-11-30T10:00:26.800000+00:00"
TX_WINDOW = "StartTransaction to StopTransaction"
MV_WINDOW = "MeterValues #26 to #56"


def _check(source: str, wh: float, ref: str, ref_wh: float, window: str, span: tuple) -> dict:
    return {
        "source": source,
        "wh": wh,
        "reference_wh": ref_wh,
        "diff_wh": wh - ref_wh,
        "diff_percent": 100 * (wh - ref_wh) / ref_wh,
        "allowed_wh": 2.0,
        "ok": True,
        "reference": ref,
        "window": window,
        "window_start": span[0],
        "window_end": span[1],
    }


#: an energy record as `Verify Session Energy` writes it (figures of a virtual-bench run)
ENERGY = {
    "kind": "energy",
    "step": "6",
    "transaction_id": 1,
    "reference": {
        "source": "energy_meter delta",
        "wh": 145.5078125,
        "window": TX_WINDOW,
        "window_start": START,
        "window_end": STOP,
    },
    "tolerance": "0.5 % + 0 Wh + resolutions",
    "checks": [
        _check(
            "meterStop - meterStart",
            146.0,
            "energy_meter delta",
            145.5078,
            TX_WINDOW,
            (START, STOP),
        ),
        _check(
            "MeterValues register",
            122.7,
            "energy_meter interpolated",
            122.7549,
            MV_WINDOW,
            (MV_FIRST, MV_LAST),
        ),
    ],
    "missing": {},
    "plot": None,
}
TX_TEXT = f"{TX_WINDOW}, 10:00:04.8 to 10:00:28.6 UTC (23.7 s)"
MV_TEXT = f"{MV_WINDOW}, 10:00:06.8 to 10:00:26.8 UTC (20.0 s)"


def test_a_source_over_another_window_stands_beside_the_reference_over_that_window(tmp_path):
    """The harm: the table showed the MeterValues register's 122.7 Wh beside the reference
    meter's 145.5 Wh with a deviation of −0.05 Wh, and a reader took it for an error (the
    deviation was against the reference over the readings' own, shorter window, which the
    table did not show)."""
    out = robot_output(tmp_path / "run", steps=["6"])
    (out.parent / "evidence.jsonl").write_text(json.dumps(ENERGY) + "\n", encoding="utf-8")
    report = report_from_outputs([out], tmp_path)
    (session,) = report.sessions
    rows = [(r.source, round(r.wh, 2), r.window, r.note) for r in session.rows]
    assert rows == [
        ("Reference meter", 145.51, TX_TEXT, "reference"),
        ("Station register (meterStop − meterStart)", 146.0, TX_TEXT, ""),
        ("Reference meter", 122.75, MV_TEXT, "reference over this window"),
        ("Station MeterValues register", 122.7, MV_TEXT, ""),
    ]
    assert session.windows_note.startswith(
        "The windows differ: Reference meter and Station register (meterStop − meterStart) "
        f"cover {TX_TEXT}; Station MeterValues register covers {MV_TEXT}."
    )
    paths = {p.suffix: p for p in write_report(report, tmp_path / "r")}
    html = unescape(paths[".html"].read_text())
    assert session.windows_note in html and MV_TEXT in html
    md = paths[".md"].read_text()
    assert "The windows differ" in md and "reference over this window" in md
    pdf = " ".join(" ".join(p.extract_text().split()) for p in PdfReader(paths[".pdf"]).pages)
    assert " ".join(session.windows_note.split()) in pdf
    assert "122.75" in pdf and "reference over this window" in pdf


def test_one_window_needs_no_note(tmp_path):
    """The harm: a note of differing windows where every figure covers the same one."""
    record = {**ENERGY, "checks": ENERGY["checks"][:1]}
    out = robot_output(tmp_path / "run", steps=["6"])
    (out.parent / "evidence.jsonl").write_text(json.dumps(record) + "\n", encoding="utf-8")
    (session,) = report_from_outputs([out], tmp_path).sessions
    assert session.windows_note == "" and len(session.rows) == 2


@pytest.mark.robot
def test_the_session_energy_records_each_window_with_its_times(tmp_path):
    """Step 6 on the virtual bench: the energy evidence names each figure's window with its
    start and end, and the report shows them. The harm: windows recorded by name only, so
    the report could not tell a reader when two figures cover different spans of time."""
    from tests.suites.runner import run_steps, write_lab

    outcome = run_steps(tmp_path, write_lab(tmp_path), ["6"])["6"]
    assert outcome.status == "PASS", outcome.message
    folder = tmp_path / "out"
    records = [json.loads(line) for line in (folder / "evidence.jsonl").open()]
    (energy,) = [r for r in records if r["kind"] == "energy"]
    for figure in [energy["reference"], *energy["checks"]]:
        assert figure["window_start"] <= figure["window_end"], figure
    windows = {c["window"] for c in energy["checks"]}
    assert TX_WINDOW in windows and any(w.startswith("MeterValues #") for w in windows)
    (session,) = [
        s for s in report_from_outputs([folder / "output.xml"], tmp_path).sessions if s.step == "6"
    ]
    assert session.windows_note.startswith("The windows differ: ")
    assert all(" UTC (" in r.window for r in session.rows if r.wh is not None)
