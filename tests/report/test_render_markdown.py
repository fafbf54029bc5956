"""The Markdown report: GitHub pipe tables that a ``|`` or a newline in a cell cannot
break, and plots copied beside it under the names it references."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from hil.report.model import Report
from hil.report.render_markdown import copy_plots, md_text, render_markdown
from tests.report.sample import N_REMARK, NA_REASON, sample_report

HEADER = "| Step | OCPP Profile | Action | Pass | Remarks |"


def _cells(line: str) -> list[str]:
    """A table line's cells, split on the pipes that are not escaped."""
    assert line.startswith("| ") and line.endswith(" |"), line
    return [c.strip() for c in re.split(r"(?<!\\)\|", line[1:-1])]


def _step_table(md: str, heading: str) -> list[list[str]]:
    """The body rows of the step table under ``## heading``."""
    section = md[md.index(f"\n## {heading}\n") :]
    lines = section.splitlines()
    start = lines.index(HEADER)
    assert lines[start + 1] == "| --- | --- | --- | --- | --- |"
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append(_cells(line))
    return rows


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Report:
    return sample_report(tmp_path_factory.mktemp("md-model"))


@pytest.fixture(scope="module")
def md(report: Report) -> str:
    return render_markdown(report)


def test_step_tables(md: str, report: Report) -> None:
    assert md.count(HEADER) == 3
    for heading, rows in (
        ("Checklist", report.checklist),
        ("Smart Charging", report.smart_charging),
        ("Eichrecht", report.eichrecht),
    ):
        table = _step_table(md, heading)
        assert len(table) == len(rows)
        for cells, row in zip(table, rows, strict=True):
            assert len(cells) == 5, cells
            assert cells[0] == row.number
            assert cells[3] == (f"**{row.verdict}**" if row.verdict else "")
    checklist = _step_table(md, "Checklist")
    assert [c[0] for c in checklist] == [str(n) for n in range(1, 24)]
    remarks = {c[0]: c[4] for c in checklist}
    assert remarks["23"].startswith(f"{N_REMARK}<br>No BootNotification within 30 s.")
    assert remarks["23"].endswith("<sub>run 2</sub>")
    assert remarks["15"].startswith(NA_REASON)
    assert remarks["21"] == ""


def test_cells_are_escaped(md: str) -> None:
    sc2 = _step_table(md, "Smart Charging")[1][4]
    assert sc2.startswith(r"TxDefaultProfile stack levels 0 \| 1 applied in order")
    assert r"| **Model** | Wallbox W22 \| AC |" in md
    assert "<script>" not in md and r"\<script\>alert('not escaped')\</script\>" in md
    assert r"energy\_meter" in md
    assert md_text("a|b\nc") == r"a\|b<br>c"
    assert md_text("&amp; & ≥ —") == r"\&amp; & ≥ —"


def test_sections_and_evidence(md: str, report: Report) -> None:
    assert md.startswith("# Certificate\n")
    assert "\n## Not certified\n" in md
    assert "> **The run was interrupted" in md
    order = [md.index(h) for h in ("# Certificate", "## Checklist", "# Evidence", "## Runs")]
    assert order == sorted(order)
    assert "| power analyser | — | — | — | — | — | N/A — no power analyser on this bench |" in md
    assert "| pagination contiguous | **FAIL** | T1 then T3 — T2 missing \\<gap\\> |" in md
    assert "```text\nTriggerMessage BootNotification was Accepted" in md
    assert "[log](run-1/log.html)<br>[journal](run-1/journal.jsonl)" in md


def test_plots_copied_and_referenced(md: str, report: Report, tmp_path: Path) -> None:
    copy_plots(report, tmp_path)
    refs = re.findall(r"!\[[^\]]*\]\((report-plots/[^)]+)\)", md)
    # both steps' energy.png kept under distinct names, and the SC1 plot
    assert refs == [
        "report-plots/energy.png",
        "report-plots/energy-2.png",
        "report-plots/current.png",
    ]
    sources = [s.plot for s in report.sessions] + [p.plot for p in report.plots]
    for ref, source in zip(refs, sources, strict=True):
        assert source is not None
        assert (tmp_path / ref).read_bytes() == source.read_bytes()


def test_missing_plot(report: Report, tmp_path: Path) -> None:
    gone = tmp_path / "nowhere.png"
    model = dataclasses.replace(report, plots=[dataclasses.replace(report.plots[0], plot=gone)])
    assert "plot not found: " in render_markdown(model)
    copy_plots(model, tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out" / "report-plots").iterdir()) == [
        "energy-2.png",
        "energy.png",
    ]


def test_image_dir_name(report: Report) -> None:
    assert "](plots/current.png)" in render_markdown(report, image_dir_name="plots")


def test_single_run_has_no_run_labels(report: Report) -> None:
    assert "<sub>" not in render_markdown(dataclasses.replace(report, runs=report.runs[:1]))
