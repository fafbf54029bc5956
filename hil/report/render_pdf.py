"""The certification report as an A4 PDF, drawn with fpdf2.

fpdf2 is pure Python (no Pango as WeasyPrint needs, no browser to print with). The font
is DejaVu Sans as matplotlib ships it, so ``≥``, ``—`` and umlauts print without a
system font; the certificate is page 1, every page is numbered.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib
from fpdf import FPDF, FontFace

from hil.report import render as common
from hil.report.model import LAB_ERROR, NO, YES, Report, StepRow

_FONT = "DejaVu"
_MONO = "DejaVuMono"
_FONT_DIR = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
_HEADINGS = FontFace(emphasis="BOLD", fill_color=(232, 232, 232))
_GREY_TEXT = (68, 68, 68)
#: Step · OCPP Profile · Action · Pass · Remarks, as fractions of the page width
_STEP_WIDTHS = (8, 17, 31, 8, 36)
_LINE = 4.6  # mm per line of 9 pt table text


class _ReportPDF(FPDF):
    """FPDF with the report's fonts and a numbered footer."""

    def __init__(self, footer_text: str) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self._footer_text = footer_text
        self.set_margins(15, 15, 15)
        self.set_auto_page_break(True, margin=18)
        self.add_font(_FONT, "", _FONT_DIR / "DejaVuSans.ttf")
        self.add_font(_FONT, "B", _FONT_DIR / "DejaVuSans-Bold.ttf")
        self.add_font(_MONO, "", _FONT_DIR / "DejaVuSansMono.ttf")

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(_FONT, size=7.5)
        self.set_text_color(*_GREY_TEXT)
        self.cell(0, 5, f"{self._footer_text}  ·  page {self.page_no()} of {{nb}}", align="C")
        self.set_text_color(0)


def _heading(pdf: FPDF, text: str, size: float) -> None:
    # keep a heading with at least a few lines of what follows it
    if pdf.will_page_break(size * 0.35 + 25):
        pdf.add_page()
    pdf.ln(size * 0.25)
    pdf.set_font(_FONT, "B", size)
    pdf.multi_cell(0, size * 0.5, text, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1.5)
    pdf.set_font(_FONT, size=9)


def _paragraph(pdf: FPDF, text: str, size: float = 9, style: str = "") -> None:
    pdf.set_font(_FONT, style, size)
    pdf.multi_cell(0, size * 0.5, text, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(_FONT, size=9)


def _table(
    pdf: FPDF,
    headers: Sequence[str] | None,
    rows: Sequence[Sequence[str]],
    widths: Sequence[float] | None = None,
    size: float = 9,
    align: str | Sequence[str] = "LEFT",
) -> None:
    """A plain bordered table; a None header means a key/value table with bold keys."""
    pdf.set_font(_FONT, size=size)
    with pdf.table(
        col_widths=widths,
        headings_style=_HEADINGS,
        first_row_as_headings=headers is not None,
        line_height=size * 0.51,
        text_align=align,
        v_align="TOP",
        padding=1.2,
        repeat_headings=1,
    ) as table:
        if headers is not None:
            table.row(list(headers))
        for cells in rows:
            row = table.row()
            for i, text in enumerate(cells):
                row.cell(text, style=_HEADINGS if headers is None and i == 0 else None)
    pdf.ln(3)


#: a level's Achieved cell takes the tint of the verdict it is like
_LEVEL_TINT = {"ok": YES, "fail": NO, "open": LAB_ERROR}


def _verdict_style(verdict: str) -> FontFace:
    """The Pass cell: tinted, the letter bold black so it reads in grey print too."""
    return FontFace(emphasis="BOLD", fill_color=common.PASS_COLOURS.get(verdict))


def _step_table(pdf: FPDF, report: Report, rows: list[StepRow]) -> None:
    pdf.set_font(_FONT, size=9)
    with pdf.table(
        col_widths=_STEP_WIDTHS,
        headings_style=_HEADINGS,
        line_height=_LINE,
        text_align=("CENTER", "LEFT", "LEFT", "CENTER", "LEFT"),
        v_align="TOP",
        padding=1.2,
        repeat_headings=1,
    ) as table:
        table.row(list(common.STEP_COLUMNS))
        for r in rows:
            row = table.row()
            row.cell(r.number)
            row.cell(r.profile)
            row.cell(r.action)
            row.cell(common.pass_text(r), style=_verdict_style(r.verdict))
            remarks = list(r.remarks) + list(r.tester)  # the tester's lines say whose
            if run := common.run_of(report, r):
                remarks.append(f"({run})")
            row.cell("\n".join(remarks))
    if common.has_lab_error(rows):
        _paragraph(pdf, common.LAB_ERROR_LEGEND, size=8)
    pdf.ln(3)


def _image(pdf: FPDF, path: Path, caption: str = "") -> None:
    if not Path(path).is_file():
        _paragraph(pdf, common.missing_plot(path), style="")
        pdf.ln(2)
        return
    pdf.image(str(path), w=pdf.epw)  # flowing: breaks the page itself when it does not fit
    if caption:
        _paragraph(pdf, caption, size=8)
    pdf.ln(3)


def _certificate(pdf: FPDF, report: Report) -> None:
    pdf.add_page()
    pdf.set_font(_FONT, "B", 20)
    pdf.ln(10)
    pdf.cell(0, 12, "Certificate", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(_FONT, size=10)
    pdf.multi_cell(0, 5, report.title, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(10)
    pdf.set_font(_FONT, "B", 18)
    pdf.multi_cell(0, 9, report.verdict_line, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(8)
    _lab_not_opened(pdf, report)
    if report.interrupted:
        _banner(pdf)
    if report.warnings:
        _banner(pdf, "\n".join(f"{common.WARNINGS_HEADING}: {w}" for w in report.warnings))
    _table(pdf, None, common.certificate_facts(report), widths=(35, 65))
    pdf.set_font(_FONT, size=9)
    with pdf.table(
        col_widths=(35, 15, 50),
        headings_style=_HEADINGS,
        line_height=_LINE,
        text_align=("LEFT", "CENTER", "LEFT"),
        v_align="TOP",
        padding=1.2,
    ) as table:
        table.row(list(common.LEVEL_COLUMNS))
        for lv in report.levels:
            row = table.row()
            row.cell(lv.title)
            row.cell(lv.mark, style=_verdict_style(_LEVEL_TINT[common.level_class(lv)]))
            row.cell("" if lv.achieved else ", ".join(lv.blocking))


def _lab_not_opened(pdf: FPDF, report: Report) -> None:
    lines = common.lab_not_opened_lines(report)
    if lines:
        head = f"{common.LAB_NOT_OPENED_HEADING}. {common.LAB_NOT_OPENED_TEXT}"
        _banner(pdf, "\n".join([head, *lines]))


def _banner(pdf: FPDF, text: str = common.INTERRUPTED_BANNER) -> None:
    pdf.set_font(_FONT, "B", 10)
    pdf.set_fill_color(255, 224, 138)
    pdf.set_line_width(0.6)
    pdf.multi_cell(
        0,
        6,
        text,
        border=1,
        fill=True,
        padding=2,
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.set_line_width(0.2)
    pdf.set_fill_color(255)  # fpdf2 tables fill unstyled cells with the current colour
    pdf.ln(4)
    pdf.set_font(_FONT, size=9)


def _test_report(pdf: FPDF, report: Report) -> None:
    pdf.add_page()
    _heading(pdf, report.title, 14)
    _lab_not_opened(pdf, report)
    if report.interrupted:
        _banner(pdf)
    _table(pdf, None, common.header_facts(report), widths=(35, 65))
    for heading, _, rows in common.step_tables(report):
        _heading(pdf, heading, 12)
        _step_table(pdf, report, rows)


def _evidence(pdf: FPDF, report: Report) -> None:
    pdf.add_page()
    _heading(pdf, "Evidence", 16)
    _heading(pdf, "Energy reconciliation", 12)
    for s in report.sessions:
        _heading(
            pdf, f"Step {s.step}{common.of_version(s.ocpp)} · transaction {s.transaction_id}", 10
        )
        _paragraph(pdf, f"Reference: {s.reference}. Tolerance: {s.tolerance}.")
        pdf.ln(1)
        _table(
            pdf,
            common.ENERGY_COLUMNS,
            [common.energy_cells(r) for r in s.rows],
            widths=(24, 12, 12, 11, 11, 8, 22),
            align=("LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT", "CENTER", "LEFT"),
        )
        if s.windows_note:
            _paragraph(pdf, s.windows_note)
            pdf.ln(2)
        if s.plot is not None:
            _image(pdf, s.plot)
    if not report.sessions:
        _paragraph(pdf, "No charging session recorded.")
    if report.plots:
        _heading(pdf, "Plots", 12)
        for p in report.plots:
            _image(pdf, p.plot, f"Step {p.step}{common.of_version(p.ocpp)}: {p.title}")
    _heading(pdf, "Eichrecht verification", 12)
    for e in report.eichrecht_evidence:
        _heading(
            pdf,
            f"Step {e.step}{common.of_version(e.ocpp)} · transaction {e.transaction_id}: {e.title}",
            10,
        )
        _table(
            pdf,
            common.CHECK_COLUMNS,
            [[c.name, common.ok_fail(c.ok), c.detail] for c in e.checks],
            widths=(40, 10, 50),
        )
    if not report.eichrecht_evidence:
        _paragraph(pdf, "No Eichrecht verification recorded.")
    _heading(pdf, "DUT configuration (step 3)", 12)
    if report.configuration:
        _table(
            pdf,
            common.CONFIG_COLUMNS,
            [common.config_cells(c) for c in report.configuration],
            widths=(35, 52, 13),
        )
    else:
        _paragraph(pdf, "No configuration read.")
    _heading(pdf, "Instruments", 12)
    if report.instruments:
        _table(
            pdf,
            common.INSTRUMENT_COLUMNS,
            [common.instrument_cells(i) for i in report.instruments],
            widths=(14, 10, 31, 19, 11, 15),
        )
    else:
        _paragraph(pdf, "No instruments recorded.")
    _heading(pdf, "Steps done by hand", 12)
    if report.manual_steps:
        _table(
            pdf,
            common.MANUAL_COLUMNS,
            [
                [m.step, m.prompt, m.answer, m.asked, m.answered or common.DASH]
                for m in report.manual_steps
            ],
            widths=(8, 34, 24, 17, 17),
        )
    else:
        _paragraph(pdf, "No step was done by hand.")
    _heading(pdf, "Failure details", 12)
    for f in report.failures:
        _heading(pdf, f"Step {f.step}{common.of_version(f.ocpp)}: {f.action}", 10)
        if f.remark:
            _paragraph(pdf, common.FULL_REMARK_LEAD, style="B")
            _paragraph(pdf, f.remark)
            pdf.ln(2)
        _quoted(pdf, f.message)
        if f.frames:
            _paragraph(pdf, common.FRAMES_LEAD)
            pdf.ln(1)
            _quoted(pdf, "\n".join(f.frames))
    if not report.failures:
        _paragraph(pdf, "No failures.")
    _heading(pdf, "Runs", 12)
    _runs(pdf, report)


def _quoted(pdf: FPDF, text: str) -> None:
    """Robot's text or journal frames in a grey box. Wrapped at word ends, so that the
    words of ordinary text stay whole; fpdf2 breaks a token wider than the box (a frame's
    JSON, a URL) where the line ends."""
    pdf.set_font(_MONO, size=7.5)
    pdf.set_fill_color(244, 244, 244)
    pdf.multi_cell(
        0,
        3.6,
        text,
        border=1,
        fill=True,
        padding=1.5,
        wrapmode="WORD",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.set_fill_color(255)
    pdf.set_font(_FONT, size=9)
    pdf.ln(3)


def _runs(pdf: FPDF, report: Report) -> None:
    """The runs table, then each run's links as hyperlinks that also print their target
    (fpdf2 links a whole table cell, and a printed link is no use without it)."""
    _table(
        pdf,
        common.RUN_COLUMNS[:-1],
        [
            [r.label, r.run_id, r.source, r.started, r.ended, common.yes_no(r.interrupted)]
            for r in report.runs
        ],
        widths=(9, 25, 26, 15, 15, 13),
        size=8,
    )
    for r in report.runs:
        if not r.links:
            continue
        pdf.set_font(_FONT, "B", 9)
        pdf.write(_LINE, f"{r.label}:")
        pdf.set_font(_FONT, size=9)
        for name, href in r.links:
            pdf.write(_LINE, f"  {name}: ")
            pdf.set_text_color(0, 0, 180)
            pdf.write(_LINE, href, link=href)
            pdf.set_text_color(0)
        pdf.ln(_LINE)


def render_pdf(report: Report, path: Path) -> None:
    """Write the report to ``path``: certificate (page 1), test report, evidence."""
    pdf = _ReportPDF(f"{report.manufacturer} {report.model} · firmware {report.firmware}")
    pdf.set_title(report.title)
    pdf.set_author(report.lab_name)
    pdf.set_subject(report.verdict_line)
    pdf.set_creator("hil-ocpp-lab")
    _certificate(pdf, report)
    _test_report(pdf, report)
    _evidence(pdf, report)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    pdf.output(str(path))
