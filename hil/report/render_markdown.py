"""The certification report as GitHub-flavoured Markdown, for a repository or a ticket.

Plots are referenced by relative path (``report-plots/<file>``); ``copy_plots`` puts them
there. Cell text is escaped so that a ``|`` or a ``<tag>`` in a remark cannot break a
table or vanish as HTML.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Sequence
from pathlib import Path

from hil.report import render as common
from hil.report.model import Report, StepRow

#: characters that start Markdown inline syntax (or end a table cell)
_SPECIAL = re.compile(r"([\\`*_\[\]<>|])")
#: an & that would be read as an HTML entity
_ENTITY = re.compile(r"&(?=#?\w+;)")


def md_text(text: str) -> str:
    """``text`` shown literally in Markdown, on one line (newlines become ``<br>``)."""
    text = _ENTITY.sub(r"\\&", _SPECIAL.sub(r"\\\1", text))
    return "<br>".join(text.splitlines())


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """A pipe table; cells are raw Markdown (escape with md_text first)."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join(" --- " for _ in headers) + "|"]
    lines += ["| " + " | ".join(cells) + " |" for cells in rows]
    return lines + [""]


def plot_names(report: Report) -> dict[Path, str]:
    """The file name each plot gets in the plot folder: its own, unless two plots share
    one (every step's folder may hold an ``energy.png``), then numbered."""
    names: dict[Path, str] = {}
    taken: set[str] = set()
    for path in common.plot_paths(report):
        if path in names:
            continue
        name, n = path.name, 1
        while name in taken:
            n += 1
            name = f"{path.stem}-{n}{path.suffix}"
        names[path] = name
        taken.add(name)
    return names


def copy_plots(report: Report, out_dir: Path, image_dir_name: str = "report-plots") -> None:
    """Copy the report's plots into ``out_dir/<image_dir_name>/`` under the names the
    Markdown uses; a missing plot is left out (the Markdown says it is missing)."""
    target = Path(out_dir) / image_dir_name
    for path, name in plot_names(report).items():
        if path.is_file():
            target.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target / name)


def _image(path: Path, alt: str, names: dict[Path, str], image_dir_name: str) -> str:
    if not path.is_file():
        return f"*{md_text(common.missing_plot(path))}*"
    return f"![{md_text(alt)}]({image_dir_name}/{names[path]})"


def _step_table(report: Report, rows: list[StepRow]) -> list[str]:
    def remarks(row: StepRow) -> str:
        parts = [md_text(r) for r in row.remarks]
        parts += [f"*{md_text(t)}*" for t in row.tester]  # the person's word, set apart
        if run := common.run_of(report, row):
            parts.append(f"<sub>{md_text(run)}</sub>")
        return "<br>".join(parts)

    def verdict(v: str) -> str:
        return f"**{v}**" if v else ""

    return _table(
        common.STEP_COLUMNS,
        [
            [
                md_text(r.number),
                md_text(r.profile),
                md_text(r.action),
                verdict(common.pass_text(r)),
                remarks(r),
            ]
            for r in rows
        ],
    ) + ([md_text(common.LAB_ERROR_LEGEND), ""] if common.has_lab_error(rows) else [])


def _facts(facts: list[tuple[str, str]]) -> list[str]:
    return _table(("", ""), [[f"**{md_text(k)}**", md_text(v)] for k, v in facts])


def _lab_not_opened(report: Report) -> list[str]:
    """A quoted block: the lab could not open, and the lab's own line saying why."""
    lines = common.lab_not_opened_lines(report)
    if not lines:
        return []
    out = [
        f"> **{md_text(common.LAB_NOT_OPENED_HEADING)}.** {md_text(common.LAB_NOT_OPENED_TEXT)}",
        ">",
    ]
    for line in lines:
        out += [f"> {md_text(line)}", ">"]
    return out[:-1] + [""]


def _certificate(report: Report) -> list[str]:
    out = ["# Certificate", "", md_text(report.title), "", f"## {md_text(report.verdict_line)}", ""]
    out += _lab_not_opened(report)
    if report.interrupted:
        out += [f"> **{md_text(common.INTERRUPTED_BANNER)}**", ""]
    for w in report.warnings:
        out += [f"> **{md_text(common.WARNINGS_HEADING)}:** {md_text(w)}", ""]
    out += _facts(common.certificate_facts(report))
    out += _table(
        common.LEVEL_COLUMNS,
        [
            [
                md_text(lv.title),
                f"**{lv.mark}**",
                "" if lv.achieved else md_text(", ".join(lv.blocking)),
            ]
            for lv in report.levels
        ],
    )
    return out + ["---", ""]


def _evidence(report: Report, image_dir_name: str) -> list[str]:
    names = plot_names(report)
    out = ["# Evidence", "", "## Energy reconciliation", ""]
    for s in report.sessions:
        out += [
            f"### Step {md_text(s.step)}{md_text(common.of_version(s.ocpp))} · "
            f"transaction {md_text(str(s.transaction_id))}",
            "",
        ]
        out += [f"Reference: {md_text(s.reference)}. Tolerance: {md_text(s.tolerance)}.", ""]
        out += _table(
            common.ENERGY_COLUMNS, [[md_text(c) for c in common.energy_cells(r)] for r in s.rows]
        )
        if s.windows_note:
            out += [md_text(s.windows_note), ""]
        if s.plot is not None:
            out += [
                _image(
                    s.plot, f"Step {s.step} transaction {s.transaction_id}", names, image_dir_name
                ),
                "",
            ]
    if not report.sessions:
        out += ["No charging session recorded.", ""]
    if report.plots:
        out += ["## Plots", ""]
        for p in report.plots:
            out += [_image(p.plot, p.title, names, image_dir_name), ""]
            out += [
                f"Step {md_text(p.step)}{md_text(common.of_version(p.ocpp))}: {md_text(p.title)}",
                "",
            ]
    out += ["## Eichrecht verification", ""]
    for e in report.eichrecht_evidence:
        out += [
            f"### Step {md_text(e.step)}{md_text(common.of_version(e.ocpp))} · "
            f"transaction {md_text(str(e.transaction_id))}: "
            f"{md_text(e.title)}",
            "",
        ]
        out += _table(
            common.CHECK_COLUMNS,
            [[md_text(c.name), f"**{common.ok_fail(c.ok)}**", md_text(c.detail)] for c in e.checks],
        )
    if not report.eichrecht_evidence:
        out += ["No Eichrecht verification recorded.", ""]
    out += ["## DUT configuration (step 3)", ""]
    if report.configuration:
        out += _table(
            common.CONFIG_COLUMNS,
            [[md_text(c) for c in common.config_cells(e)] for e in report.configuration],
        )
    else:
        out += ["No configuration read.", ""]
    out += ["## Instruments", ""]
    if report.instruments:
        out += _table(
            common.INSTRUMENT_COLUMNS,
            [[md_text(c) for c in common.instrument_cells(i)] for i in report.instruments],
        )
    else:
        out += ["No instruments recorded.", ""]
    out += ["## Steps done by hand", ""]
    if report.manual_steps:
        out += _table(
            common.MANUAL_COLUMNS,
            [
                [md_text(c) for c in (m.step, m.prompt, m.answer, m.asked, m.answered or "—")]
                for m in report.manual_steps
            ],
        )
    else:
        out += ["No step was done by hand.", ""]
    out += ["## Failure details", ""]
    for f in report.failures:
        fence = "`" * max(3, _longest_backtick_run(f.message) + 1)
        out += [
            f"### Step {md_text(f.step)}{md_text(common.of_version(f.ocpp))}: {md_text(f.action)}",
            "",
            fence + "text",
        ]
        out += [f.message, fence, ""]
        if f.remark:
            out += [md_text(common.FULL_REMARK_LEAD), "", md_text(f.remark), ""]
        if f.frames:
            frames = "\n".join(f.frames)
            fence = "`" * max(3, _longest_backtick_run(frames) + 1)
            out += [md_text(common.FRAMES_LEAD), "", fence + "text", frames, fence, ""]
    if not report.failures:
        out += ["No failures.", ""]
    out += ["## Runs", ""]
    out += _table(
        common.RUN_COLUMNS,
        [
            [
                md_text(r.label),
                md_text(r.run_id),
                md_text(r.source),
                md_text(r.started),
                md_text(r.ended),
                common.yes_no(r.interrupted),
                "<br>".join(f"[{md_text(name)}]({_url(href)})" for name, href in r.links),
            ]
            for r in report.runs
        ],
    )
    return out


def _longest_backtick_run(text: str) -> int:
    return max((len(m) for m in re.findall(r"`+", text)), default=0)


def _url(href: str) -> str:
    """A link target Markdown keeps whole: spaces and parentheses percent-encoded."""
    return href.replace(" ", "%20").replace("(", "%28").replace(")", "%29").replace("|", "%7C")


def render_markdown(report: Report, image_dir_name: str = "report-plots") -> str:
    """The whole report as Markdown; plots referenced under ``image_dir_name/``."""
    out = _certificate(report)
    out += [f"# {md_text(report.title)}", ""]
    if report.lab_not_opened:
        out += [f"## {md_text(common.LAB_NOT_OPENED_HEADING)}", ""] + _lab_not_opened(report)
    if report.interrupted:
        out += [f"> **{md_text(common.INTERRUPTED_BANNER)}**", ""]
    out += _facts(common.header_facts(report))
    for heading, _, rows in common.step_tables(report):
        out += [f"## {md_text(heading)}", ""] + _step_table(report, rows)
    out += _evidence(report, image_dir_name)
    return "\n".join(out).rstrip("\n") + "\n"
