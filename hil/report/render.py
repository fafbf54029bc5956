"""Write the certification report in every format, and the cell wording all formats share.

The three renderers lay out the same model; the few words and number formats they print
for it live here so that the HTML, the Markdown and the PDF never disagree on a figure.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from hil.report.model import (
    LAB_ERROR,
    NA,
    NO,
    YES,
    ConfigurationEntry,
    EnergyRow,
    InstrumentEntry,
    LevelResult,
    Report,
    StepRow,
)
from hil.report.portable import copy_attachments, shown_path
from hil.verdict import LAB_ERROR_MEANING

#: what a missing value prints as
DASH = "—"

#: the columns of the three step tables, in the labs' order
STEP_COLUMNS = ("Step", "OCPP Profile", "Action", "Pass", "Remarks")
ENERGY_COLUMNS = (
    "Source",
    "Energy Wh",
    "Deviation Wh",
    "Deviation %",
    "Allowed ±Wh",
    "OK",
    "Window/Note",
)
LEVEL_COLUMNS = ("Certification level", "Achieved", "Not achieved because of")
CHECK_COLUMNS = ("Check", "OK", "Detail")
CONFIG_COLUMNS = ("Key", "Value", "Read-only")
INSTRUMENT_COLUMNS = ("Role", "Driver", "Address", "Identity", "Serial", "Calibration due")
MANUAL_COLUMNS = ("Step", "The operator was asked", "Answer", "Asked", "Answered")
RUN_COLUMNS = ("Run", "Run id", "Source file", "Started", "Ended", "Interrupted", "Links")

INTERRUPTED_BANNER = "The run was interrupted: this report covers only the steps that finished."
LAB_NOT_OPENED_HEADING = "The lab could not open"
LAB_NOT_OPENED_TEXT = (
    "No step ran, so this report says nothing about the station. Mend what the lab names "
    "and run again:"
)

#: above a failing row's remark in full, and above the frames a failure names
FULL_REMARK_LEAD = "The remark in full:"
FRAMES_LEAD = "The frames it names, from the run's OCPP journal:"

#: Pass cell colours (RGB); the letter stays black and bold so it reads in grey print
PASS_COLOURS: dict[str, tuple[int, int, int]] = {
    YES: (198, 239, 206),
    NO: (255, 199, 206),
    NA: (222, 222, 222),
    LAB_ERROR: (255, 224, 138),
}
#: under each step table that has a lab error: what E means
LAB_ERROR_LEGEND = f"{LAB_ERROR}: {LAB_ERROR_MEANING}."


def yes_no(value: bool | None) -> str:
    return DASH if value is None else ("yes" if value else "no")


def ok_fail(value: bool | None) -> str:
    """OK/FAIL of a comparison; the reference itself is compared with nothing."""
    return DASH if value is None else ("OK" if value else "FAIL")


def _num(value: float | None, fmt: str) -> str:
    return DASH if value is None else format(value, fmt)


def energy_cells(row: EnergyRow) -> list[str]:
    """The seven cells of an energy reconciliation row, as ENERGY_COLUMNS names them."""
    return [
        row.source,
        _num(row.wh, ".2f"),
        _num(row.deviation_wh, "+.2f"),
        _num(row.deviation_percent, "+.2f"),
        _num(row.allowed_wh, ".2f"),
        ok_fail(row.ok),
        "\n".join(t for t in (row.window, row.note) if t) or DASH,
    ]


def instrument_cells(entry: InstrumentEntry) -> list[str]:
    """The cells of an instrument row, as INSTRUMENT_COLUMNS names them."""
    return [
        entry.role,
        entry.driver,
        entry.address,
        entry.identity,
        entry.serial or DASH,
        entry.calibration_due or DASH,
    ]


def pass_text(row: StepRow) -> str:
    """The Pass cell: the verdict, or ``N → Y`` when a person overrode the lab's."""
    return f"{row.lab_verdict} → {row.verdict}" if row.lab_verdict else row.verdict


def missing_plot(path: Path) -> str:
    """What a report says in place of a plot it cannot find (no absolute path)."""
    return f"plot not found: {shown_path(path)}"


#: above the warnings of the certificate page
WARNINGS_HEADING = "Warning"


def config_cells(entry: ConfigurationEntry) -> list[str]:
    return [entry.key, DASH if entry.value is None else entry.value, yes_no(entry.readonly)]


def run_of(report: Report, row: StepRow) -> str:
    """The run a row comes from, worth printing only when the report merges several runs."""
    return row.run if len(report.runs) > 1 and row.run else ""


def step_tables(report: Report) -> list[tuple[str, str, list[StepRow]]]:
    """(heading, element id, rows) of each step table, in report order: the checklist, the
    smart-charging table and the Eichrecht row; one set per OCPP version when the report
    certifies the station on several ("Checklist — OCPP 2.0.1", id ``checklist-2-0-1``)."""
    names = (
        ("Checklist", "checklist"),
        ("Smart Charging", "smart-charging"),
        ("Eichrecht", "eichrecht"),
    )
    if len(report.versions) <= 1:
        rows = (report.checklist, report.smart_charging, report.eichrecht)
        return [(h, i, r) for (h, i), r in zip(names, rows, strict=True)]
    out = []
    for v in report.versions:
        slug = v.ocpp.replace(".", "-")
        rows = (v.checklist, v.smart_charging, v.eichrecht)
        out += [
            (f"{h} — OCPP {v.ocpp}", f"{i}-{slug}", r)
            for (h, i), r in zip(names, rows, strict=True)
        ]
    return out


def of_version(ocpp: str) -> str:
    """What an evidence heading adds when the report certifies several versions."""
    return f" (OCPP {ocpp})" if ocpp else ""


def pass_class(verdict: str) -> str:
    """CSS class of a Pass cell: pass-Y, pass-N, pass-NA, pass-E, pass-none."""
    return {YES: "pass-Y", NO: "pass-N", NA: "pass-NA", LAB_ERROR: "pass-E"}.get(
        verdict, "pass-none"
    )


def level_class(level: LevelResult) -> str:
    """CSS class of a level's Achieved cell: ok, fail (not achieved), open (not decided,
    not shown)."""
    if level.achieved:
        return "ok"
    return "open" if level.mark in ("not decided", "not shown") else "fail"


def has_lab_error(rows: Iterable[StepRow]) -> bool:
    """A table needs the E legend."""
    return any(r.verdict == LAB_ERROR for r in rows)


def lab_not_opened_lines(report: Report) -> list[str]:
    """What stopped `Open Lab`, one line per run (prefixed with the run when the report
    merges several); empty when the lab opened."""
    several = len(report.runs) > 1
    return [f"{f.run}: {f.message}" if several else f.message for f in report.lab_not_opened]


def certificate_facts(report: Report) -> list[tuple[str, str]]:
    """The device and lab lines of the certificate page, in the order labs print them."""
    return [
        ("Manufacturer", report.manufacturer),
        ("Model", report.model),
        ("Firmware", report.firmware),
        ("Serial number", report.serial),
        ("Current type", report.current_type),
        ("Certification date", report.date),
        ("Lab", report.lab_name),
        ("Report number", report.report_number or DASH),
        ("Tester", report.tester),
        ("Authorised by", report.authorised_by or DASH),
    ]


def header_facts(report: Report) -> list[tuple[str, str]]:
    """The small table above the checklist."""
    return [
        ("Manufacturer Name", report.manufacturer),
        ("Hardware model", report.model),
        ("Firmware", report.firmware),
        ("Tester", report.tester),
        ("Date", report.date),
        ("Report number", report.report_number or DASH),
        ("Authorised by", report.authorised_by or DASH),
    ] + ([("Tester's remarks", report.tester_file)] if report.tester_file else [])


def plot_paths(report: Report) -> list[Path]:
    """Every image the report shows, sessions first, in report order."""
    paths = [s.plot for s in report.sessions if s.plot is not None]
    return paths + [p.plot for p in report.plots]


def write_report(
    report: Report,
    out_dir: Path,
    formats: Iterable[str] = ("html", "md", "pdf"),
    basename: str = "certification-report",
) -> list[Path]:
    """Write ``basename.<format>`` for each format into ``out_dir`` (created if missing);
    the Markdown gets its plots copied beside it. Returns the written paths."""
    formats = list(formats)
    unknown = [f for f in formats if f not in ("html", "md", "pdf")]
    if unknown:
        raise ValueError(f"unknown report format(s) {unknown}; known: html, md, pdf")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    copy_attachments(report, out_dir)  # the files its links point at, into its folder
    written: list[Path] = []
    for fmt in formats:
        # imported here: the renderers import this module, and a caller wanting only
        # HTML need not load fpdf
        if fmt == "html":
            from hil.report.render_html import render_html

            path = out_dir / f"{basename}.html"
            path.write_text(render_html(report), encoding="utf-8")
        elif fmt == "md":
            from hil.report.render_markdown import copy_plots, render_markdown

            path = out_dir / f"{basename}.md"
            path.write_text(render_markdown(report), encoding="utf-8")
            copy_plots(report, out_dir)
        else:
            from hil.report.render_pdf import render_pdf

            path = out_dir / f"{basename}.pdf"
            render_pdf(report, path)
        written.append(path)
    return written
