"""The nightly report: one self-contained HTML page. First what the morning needs: the
night against the previous one in the history (new failures with what changed between the
two runs, fixed steps, steps still failing since when and on which firmware); then a table
across benches, then per bench its checklist table linking to that bench's full
certification report.

Each bench's table is its own certification report's model (``report_for_output_dir`` on
the bench's output folder), so the page and the bench's report can never disagree.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2

from hil.history.compare import BenchComparison
from hil.history.trends import new_failure_text
from hil.lab.evidence import STEPS_FILE, read_json_lines, read_run
from hil.nightly.benches import Bench
from hil.report.model import LAB_ERROR, NA, NO, NOT_RUN, YES, StepRow

SUMMARY_FILE = "nightly-summary.html"
HISTORY_PAGE = "history.html"
STATE_TEXT = {
    "finished": "finished",
    "interrupted": "interrupted",
    "running": "interrupted",  # a page is written once pabot is over
    "preflight-failed": "preflight failed",
}


@dataclass
class BenchSummary:
    name: str
    model: str
    firmware: str
    state: str  # finished / interrupted / preflight failed
    counts: dict[str, int] = field(default_factory=dict)  # Y, N, N/A, not run
    duration: str = ""
    message: str = ""  # why preflight failed, or the report's problem
    report_link: str = ""  # the bench's certification report, relative to the page
    verdict_line: str = ""
    rows: list[StepRow] = field(default_factory=list)

    @property
    def failed(self) -> list[StepRow]:
        """The steps that ended N, then those that ended as a lab error (E)."""
        return [r for r in self.rows if r.verdict == NO] + [
            r for r in self.rows if r.verdict == LAB_ERROR
        ]


def reason(row: StepRow) -> str:
    """A failed step's reason in one line: its first remark (the report's sentence)."""
    text = row.remarks[0] if row.remarks else row.detail
    return " ".join(text.split())


@dataclass
class Morning:
    """The night against the previous one, from the history (empty when it has none)."""

    comparisons: list[BenchComparison] = field(default_factory=list)
    #: why there is no comparison (the history could not be read); "" when there is one
    problem: str = ""

    def of(self, bench: str) -> BenchComparison | None:
        return next((c for c in self.comparisons if c.bench == bench), None)


def morning(history: str | None, night: str) -> Morning:
    """Compare ``night`` with the previous one in the history database ``history``."""
    if not history:
        return Morning(problem="no history database was given")
    from hil.history.compare import compare_night
    from hil.history.db import HistoryDbError, as_url, open_engine

    try:
        engine = open_engine(as_url(history), must_exist=True)
    except HistoryDbError as exc:
        return Morning(problem=str(exc))
    try:
        return Morning(compare_night(engine, night))
    except Exception as exc:  # the summary must be written whatever the history says
        return Morning(problem=f"{history}: {exc}")
    finally:
        engine.dispose()


def _seconds(start: str, end: str) -> float | None:
    try:
        return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()
    except ValueError:
        return None


def _duration(folder: Path) -> str:
    run = read_run(folder) or {}
    end = str(run.get("ended") or "")
    if not end:  # interrupted: up to its last finished step
        steps = read_json_lines(folder / STEPS_FILE)
        end = str(steps[-1].get("ended", "")) if steps else ""
    seconds = _seconds(str(run.get("started", "")), end) if end else None
    if seconds is None:
        return ""
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"


def bench_summary(bench: Bench, folder: Path | None, state: str, page_dir: Path) -> BenchSummary:
    """A bench's summary line and checklist table (from its own report model)."""
    summary = BenchSummary(bench.name, bench.model, bench.firmware, STATE_TEXT.get(state, state))
    if not bench.ok:
        summary.message = "; ".join(bench.problems)
        return summary
    if folder is None:
        summary.message = "the bench's run never started"
        return summary
    from hil.report.build import report_for_output_dir

    try:
        report = report_for_output_dir(folder)
    except Exception as exc:  # one bench's unreadable records must not cost the page
        summary.message = f"its report could not be built: {exc}"
        return summary
    summary.model, summary.firmware = report.model, report.firmware
    summary.rows = report.checklist + report.smart_charging + report.eichrecht
    summary.counts = {
        label: sum(1 for r in summary.rows if r.verdict == verdict)
        for label, verdict in (
            ("Y", YES),
            ("N", NO),
            ("N/A", NA),
            ("E", LAB_ERROR),
            ("not run", NOT_RUN),
        )
    }
    summary.verdict_line = report.verdict_line
    summary.duration = _duration(folder)
    html = folder / "certification-report.html"
    if not html.is_file():  # a run that was killed never wrote its own report
        try:
            from hil.report.render import write_report

            write_report(report, folder, formats=("html",))
        except Exception as exc:  # the page still links what exists
            summary.message = f"its report could not be written: {exc}"
    if html.is_file():
        summary.report_link = Path(os.path.relpath(html, page_dir)).as_posix()
    return summary


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Nightly run {{ night }}</title>
<style>
body { font-family: sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin-bottom: 1.5em; }
th, td { border: 1px solid #bbb; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
th { background: #eee; }
.Y { background: #d9f2d9; } .N { background: #f7d4d4; } .NA { background: #eee; }
.finished { color: #1a7f1a; } .interrupted { color: #b36b00; }
.preflight-failed { color: #b00020; font-weight: bold; }
#new-failures li { color: #b00020; } .muted { color: #777; }
</style></head><body>
<h1>Nightly run {{ night }}</h1>
<p>{{ benches|length }} bench(es); results: <code>{{ results }}</code>; merged Robot log:
<a href="log.html">log.html</a>, <a href="report.html">report.html</a>
{%- if history_page %}; the benches' history:
<a href="{{ history_page }}">{{ history_page }}</a>{% endif %}.</p>
<section id="morning">
<h2>Against the previous night</h2>
{% if morning.problem %}<p class="muted">No comparison: {{ morning.problem }}.</p>{% endif %}
{% set news = [] %}
{% for c in morning.comparisons %}
{% for s in c.new_failures %}{% do news.append((c, s)) %}{% endfor %}
{% endfor %}
{% if news %}
<h3>New failures</h3>
<ul id="new-failures">
{% for c, s in news %}
<li><strong>{{ c.bench }}: step {{ s.step }} {{ s.name }}</strong> — {{ new_failure_text(s) }}
{%- if reasons.get((c.bench, s.step)) %}. Reason: {{ reasons[(c.bench, s.step)] }}{% endif %}</li>
{% endfor %}
</ul>
{% endif %}
{% for c in morning.comparisons %}
<p class="bench-change"><strong>{{ c.bench }}</strong>:
{% if c.previous is none %}its first night in this history.
{% else %}against {{ c.previous }}
{%- if c.changed %} (changed: {{ c.changed|join("; ") }})
{%- else %} (nothing recorded changed){% endif %}:
{{ c.new_failures|length }} new failure(s), {{ c.fixed|length }} fixed,
{{ c.still_failing|length }} still failing.{% endif %}</p>
{% if c.fixed %}
<p>Fixed: {% for s in c.fixed %}step {{ s.step }} {{ s.name }}
{{- "; " if not loop.last }}{% endfor %}</p>
{% endif %}
{% if c.still_failing %}
<p>Still failing: {% for s in c.still_failing %}step {{ s.step }} {{ s.name }} since
{{ s.failing_since }} (firmware {{ s.failing_firmware }}){{ "; " if not loop.last }}
{%- endfor %}</p>
{% endif %}
{% if c.flaky %}
<p>Flaky (Y/N flipped more than once with the same firmware and lab config):
{% for s in c.flaky %}step {{ s.step }} on firmware {{ s.flaky_on|join(", ") }}
{{- "; " if not loop.last }}{% endfor %}</p>
{% endif %}
{% endfor %}
</section>
<h2>Benches</h2>
<table>
<tr><th>Bench</th><th>DUT model</th><th>Firmware</th><th>Y</th><th>N</th><th>N/A</th>
<th title="lab error: not the station's verdict">E</th><th>Not run</th><th>Duration</th>
<th>State</th></tr>
{% for b in benches %}
<tr><td><a href="#bench-{{ loop.index }}">{{ b.name }}</a></td><td>{{ b.model }}</td>
<td>{{ b.firmware }}</td>
{% for key in ("Y", "N", "N/A", "E", "not run") %}<td>{{ b.counts.get(key, "") }}</td>{% endfor %}
<td>{{ b.duration }}</td>
<td class="{{ b.state|replace(' ', '-') }}">{{ b.state }}
{%- if b.message %}: {{ b.message }}{% endif %}</td></tr>
{% endfor %}
</table>
{% for b in benches %}
<h2 id="bench-{{ loop.index }}">{{ b.name }} — {{ b.model }} {{ b.firmware }}</h2>
<p class="{{ b.state|replace(' ', '-') }}">{{ b.state }}
{%- if b.message %}: {{ b.message }}{% endif %}
{% if b.verdict_line %} · {{ b.verdict_line }}{% endif %}
{% if b.report_link %} · <a href="{{ b.report_link }}">full certification report</a>{% endif %}</p>
{% if b.rows %}
<table>
<tr><th>Step</th><th>OCPP Profile</th><th>Action</th><th>Pass</th><th>Remarks</th></tr>
{% for r in b.rows %}
<tr><td>{{ r.step }}</td><td>{{ r.profile }}</td><td>{{ r.action }}</td>
<td class="{{ r.verdict|replace('/', '') }}">{{ r.verdict }}</td>
<td>{{ r.remarks|join(' ') }}</td></tr>
{% endfor %}
</table>
{% endif %}
{% endfor %}
</body></html>
"""


def render_summary(
    benches: list[BenchSummary],
    night: str,
    results: Path,
    morning: Morning | None = None,
    history_page: str = "",
) -> str:
    env = jinja2.Environment(
        autoescape=True, trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.do"]
    )
    reasons = {(b.name, r.step): reason(r) for b in benches for r in b.failed}
    return env.from_string(_PAGE).render(
        benches=benches,
        night=night,
        results=str(results),
        morning=morning or Morning(problem="no history database was given"),
        reasons=reasons,
        new_failure_text=new_failure_text,
        history_page=history_page,
    )


def write_summary(
    results: Path,
    night: str,
    benches: list[Bench],
    folders: dict[str, Path],
    states: dict[str, str],
    history: str | None = None,
) -> tuple[Path, list[BenchSummary]]:
    """Write ``nightly-summary.html`` into ``results``; returns it and the summaries.
    ``history``: the history database to compare the night with the previous one."""
    path, summaries, _ = write_morning_summary(results, night, benches, folders, states, history)
    return path, summaries


def write_morning_summary(
    results: Path,
    night: str,
    benches: list[Bench],
    folders: dict[str, Path],
    states: dict[str, str],
    history: str | None = None,
) -> tuple[Path, list[BenchSummary], Morning]:
    """``write_summary``, also returning the comparison with the previous night."""
    summaries = [
        bench_summary(b, folders.get(b.name), states.get(b.name, "interrupted"), results)
        for b in benches
    ]
    found = morning(history, night)
    page = HISTORY_PAGE if (results / HISTORY_PAGE).is_file() else ""
    path = results / SUMMARY_FILE
    path.write_text(render_summary(summaries, night, results, found, page), encoding="utf-8")
    return path, summaries, found


def failed_steps_lines(summaries: list[BenchSummary], found: Morning | None = None) -> list[str]:
    """What ``hil nightly`` prints first at the end: per bench the steps that failed (N,
    then lab errors E), each with its reason; a new failure says so."""
    lines: list[str] = []
    for s in summaries:
        rows = s.failed
        if not rows:
            continue
        cmp = found.of(s.name) if found else None
        new = {t.step for t in cmp.new_failures} if cmp else set()
        flaky = {t.step for t in cmp.flaky} if cmp else set()
        lines.append(f"{s.name} ({s.firmware}):")
        for r in rows:
            mark = "E (lab error)" if r.verdict == LAB_ERROR else "N"
            if r.step in new:
                mark += ", new"
            elif r.step in flaky:
                mark += ", flaky"
            lines.append(f"  step {r.step} {r.action}: {mark}: {reason(r)}")
    return lines


def any_failure(summaries: list[BenchSummary]) -> bool:
    """A night fails when a step failed, a lab error needs mending, a bench failed
    preflight or did not finish."""
    return any(s.counts.get("N") or s.counts.get("E") or s.state != "finished" for s in summaries)


def as_dict(summary: BenchSummary) -> dict[str, Any]:
    return {k: v for k, v in summary.__dict__.items() if k != "rows"}
