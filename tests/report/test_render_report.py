"""write_report: every format into a folder it creates, plots beside the Markdown."""

from __future__ import annotations

from pathlib import Path

import pytest

from hil.report.render import write_report
from tests.report.sample import sample_report


def test_writes_all_formats(tmp_path: Path) -> None:
    report = sample_report(tmp_path / "model")
    out = tmp_path / "results" / "report"  # not there yet
    paths = write_report(report, out)
    assert paths == [out / f"certification-report.{ext}" for ext in ("html", "md", "pdf")]
    html, md, pdf = paths
    assert html.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert md.read_text(encoding="utf-8").startswith("# Certificate")
    assert pdf.read_bytes().startswith(b"%PDF-")
    assert sorted(p.name for p in (out / "report-plots").iterdir()) == [
        "current.png",
        "energy-2.png",
        "energy.png",
    ]


def test_chosen_formats_and_basename(tmp_path: Path) -> None:
    report = sample_report(tmp_path / "model")
    paths = write_report(report, tmp_path / "out", formats=("html",), basename="DUT-42")
    assert paths == [tmp_path / "out" / "DUT-42.html"]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["DUT-42.html"]


def test_unknown_format_writes_nothing(tmp_path: Path) -> None:
    report = sample_report(tmp_path / "model")
    with pytest.raises(ValueError, match="docx"):
        write_report(report, tmp_path / "out", formats=("html", "docx"))
    assert not (tmp_path / "out").exists()
