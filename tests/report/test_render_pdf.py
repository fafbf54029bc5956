"""The PDF report, read back with pypdf: certificate on page 1, every table row in order,
the remarks, the plots as images, numbered A4 pages and the runs' links."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from pypdf import PdfReader

from hil.report.model import LevelResult, Report
from hil.report.render import STEP_COLUMNS
from hil.report.render_pdf import render_pdf
from tests.report.sample import N_REMARK, NA_REASON, PIPE_REMARK, sample_report


def _flat(text: str) -> str:
    """Text with line wrapping undone: cells wrap long Actions and remarks."""
    return " ".join(text.split())


def _read(report: Report, path: Path) -> PdfReader:
    render_pdf(report, path)
    return PdfReader(path)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Report:
    return sample_report(tmp_path_factory.mktemp("pdf-model"))


@pytest.fixture(scope="module")
def pdf(report: Report, tmp_path_factory: pytest.TempPathFactory) -> PdfReader:
    return _read(report, tmp_path_factory.mktemp("pdf") / "certification-report.pdf")


@pytest.fixture(scope="module")
def pages(pdf: PdfReader) -> list[str]:
    return [_flat(p.extract_text()) for p in pdf.pages]


def test_certificate_is_page_one(pages: list[str], report: Report) -> None:
    first = pages[0]
    assert report.verdict_line == "Not certified"
    assert "Not certified" in first
    for text in ("Volt & Co GmbH", "Wallbox W22 | AC", "2.4.1-rc<3>", "W22-000123", "AC"):
        assert text in first
    assert "HIL OCPP Lab — Bench 2" in first and "2025-03-02" in first
    assert "OCPP 1.6 JSON no step 23 (N), step 21 not run" in first
    assert "Smart Charging 1.6 JSON yes" in first
    assert "interrupted" in first
    assert "Boot charging station" not in first  # the checklist starts on its own page


def test_certified_verdict_line(report: Report, tmp_path: Path) -> None:
    certified = dataclasses.replace(
        report,
        certified=True,
        levels=[LevelResult(lv.title, True) for lv in report.levels],
        runs=[dataclasses.replace(r, interrupted=False) for r in report.runs],
    )
    first = _flat(_read(certified, tmp_path / "c.pdf").pages[0].extract_text())
    assert "Certified: OCPP 1.6 JSON, Smart Charging 1.6 JSON, Eichrecht" in first
    assert "Not certified" not in first and "interrupted" not in first


def test_tables_rows_and_remarks(pages: list[str], report: Report) -> None:
    text = " ".join(pages)
    assert _flat(report.title) in text
    assert text.count(" ".join(STEP_COLUMNS)) >= 3  # the three step tables' headers
    for heading in ("Smart Charging", "Eichrecht", "Evidence"):
        assert heading in text
    assert N_REMARK in text and NA_REASON in text and PIPE_REMARK in text
    for row in report.checklist + report.smart_charging + report.eichrecht:
        for remark in row.remarks:
            assert remark in text, row.step
    # two runs: each row says which one its verdict comes from
    assert text.count("(run 1)") + text.count("(run 2)") == 22 + 3 + 1
    # every row, in order: number, profile, action, then the Pass letter
    at = 0
    for row in report.checklist + report.smart_charging + report.eichrecht:
        cells = f"{row.number} {row.profile} {row.action}"
        found = text.find(cells, at)
        assert found >= 0, f"row {row.step} missing or out of order: {cells!r}"
        at = found + len(cells)
        if row.verdict:
            assert text.startswith(f" {row.verdict} ", at), row.step


def test_evidence(pages: list[str], report: Report) -> None:
    text = " ".join(pages)
    assert "power analyser — — — — — N/A — no power analyser on this bench" in text
    assert "station register (meterStop - meterStart) 10600.00 +390.00 +3.82 52.05 FAIL" in text
    assert "pagination contiguous FAIL T1 then T3 — T2 missing <gap>" in text
    assert "AuthorizationKey — —" in text
    assert "energy_meter sdm630 modbus-tcp://192.168.10.20:502 SDM630 s/n 2207001" in text
    assert "frames: #620 -> TriggerMessage" in text
    assert "20250302-090000-cd34" in text


def test_plots_are_images(pdf: PdfReader, report: Report) -> None:
    images = [img for page in pdf.pages for img in page.images]
    assert len(images) == len(report.sessions) + len(report.plots) == 3
    assert all(img.image is not None and img.image.width >= 400 for img in images)


def test_missing_plot_is_a_note(report: Report, tmp_path: Path) -> None:
    gone = tmp_path / "nowhere.png"
    model = dataclasses.replace(report, plots=[dataclasses.replace(report.plots[0], plot=gone)])
    pdf = _read(model, tmp_path / "m.pdf")
    text = _flat(" ".join(p.extract_text() for p in pdf.pages))
    assert f"plot not found: {gone.parent.name}/nowhere.png" in text
    assert str(tmp_path) not in text.replace(" ", "")  # no path of the lab PC
    assert sum(len(p.images) for p in pdf.pages) == 2


def test_a4_numbered_pages(pdf: PdfReader, pages: list[str]) -> None:
    assert len(pdf.pages) >= 4
    for i, page in enumerate(pdf.pages):
        assert abs(float(page.mediabox.width) - 595.28) < 1
        assert abs(float(page.mediabox.height) - 841.89) < 1
        assert f"page {i + 1} of {len(pdf.pages)}" in pages[i]


def test_run_links_are_hyperlinks(pdf: PdfReader, report: Report) -> None:
    uris = [
        annot.get_object()["/A"]["/URI"]
        for page in pdf.pages
        for annot in page.get("/Annots", [])
        if "/A" in annot.get_object()
    ]
    assert uris == [href for run in report.runs for _, href in run.links]
