"""The report's "Steps done by hand" in all three formats: which step, what the operator
was asked, the answer and when (from the ``manual`` evidence records)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from pypdf import PdfReader

from hil.report.model import ManualStep
from hil.report.render_html import render_html
from hil.report.render_markdown import render_markdown
from hil.report.render_pdf import render_pdf
from tests.report.sample import sample_report

STEPS = [
    ManualStep(
        "8",
        "Present the card VALID-TAG-01 at the station's reader",
        "Done",
        "2025-03-02 18:52:20 UTC",
        "2025-03-02 18:52:26 UTC",
    ),
    ManualStep(
        "13",
        "Plug the EV into connector 1 (state B)",
        "No answer within 300 s (lab error)",
        "2025-03-02 19:01:02 UTC",
        "",
    ),
]


def test_steps_done_by_hand_in_html_markdown_and_pdf(tmp_path: Path) -> None:
    """Harm prevented: a certificate whose steps were partly done by a person (a card held
    to the reader, an EV plugged by hand) read exactly like one of a fully instrumented
    bench; the reader of the report could not tell which steps rest on an operator's word,
    nor when. Now every format lists them, and says when there were none."""
    report = dataclasses.replace(sample_report(tmp_path), manual_steps=STEPS)

    markdown = render_markdown(report)
    section = markdown.split("## Steps done by hand\n", 1)[1].split("\n## ", 1)[0]
    assert "| Step | The operator was asked | Answer | Asked | Answered |" in section
    assert (
        "| 8 | Present the card VALID-TAG-01 at the station's reader | Done | "
        "2025-03-02 18:52:20 UTC | 2025-03-02 18:52:26 UTC |"
    ) in section
    assert "| 13 | Plug the EV into connector 1 (state B) | No answer within 300 s" in section
    assert section.rstrip().endswith("| 2025-03-02 19:01:02 UTC | — |"), section

    html = render_html(report)
    table = html.split("<h2>Steps done by hand</h2>", 1)[1].split("</table>", 1)[0]
    assert "<td>8</td>" in table and "Present the card VALID-TAG-01 at the station&#39;s" in table
    assert "No answer within 300 s (lab error)" in table and "<td>—</td>" in table

    render_pdf(report, tmp_path / "r.pdf")
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(tmp_path / "r.pdf").pages).split())
    assert "Steps done by hand" in text and "No answer within 300 s (lab error)" in text

    none = dataclasses.replace(report, manual_steps=[])
    assert "No step was done by hand." in render_markdown(none)
    assert "No step was done by hand." in render_html(none)
