"""The history as one self-contained HTML page: a verdict table per bench (steps in
checklist order × the last nights), failing-since and flaky steps, the energy error plot,
each night linking to its run's certification report, and the live night status when
``hil nightly`` left a ``nightly-status.json`` beside it.

Self-contained (styles inline, the plot a data: URI) so it can be mailed or served as a
single file; links to the reports are relative when they can be."""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
from sqlalchemy import Engine

from hil.history.plot import energy_error_plot
from hil.history.trends import History, history, new_failure_text

_TEMPLATES = Path(__file__).with_name("templates")
STATUS_FILE = "nightly-status.json"


@dataclass
class PageTiming:
    query_s: float
    render_s: float


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(_TEMPLATES),
        autoescape=True,  # bench names, step names and messages are data, never markup
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def read_status(path: Path | None) -> list[dict[str, Any]]:
    """The live night status (``hil nightly``'s file), [] when absent or unreadable: the
    page is the history's, the status only an extra."""
    if path is None or not path.is_file():
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return [r for r in data if isinstance(r, dict)] if isinstance(data, list) else []


def report_link(report_path: str, page: Path) -> str | None:
    """The run's certification report relative to the page (absolute when on another
    drive); None when the report is not there (a run that died before writing it)."""
    if not report_path or not Path(report_path).is_file():
        return None
    try:
        return Path(os.path.relpath(report_path, page.resolve().parent)).as_posix()
    except ValueError:
        return Path(report_path).as_uri()


def render_page(h: History, page: Path, status: list[dict[str, Any]]) -> str:
    links = {
        run.run_id: report_link(run.report_path, page)
        for bench in h.benches
        for run in bench.runs.values()
    }
    return (
        _environment()
        .get_template("history.html.j2")
        .render(
            h=h,
            links=links,
            status=status,
            plot=energy_error_plot(h.energy, h.nights),
            new_failure_text=new_failure_text,
            generated=time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        )
    )


def write_page(
    engine: Engine,
    page: Path,
    nights: int = 7,
    bench: str | None = None,
    status_file: Path | None = None,
) -> PageTiming:
    """Write the page to ``page``. The status file defaults to ``nightly-status.json``
    beside the page (where ``hil nightly`` writes it)."""
    t0 = time.perf_counter()
    h = history(engine, nights, bench)
    t1 = time.perf_counter()
    status = read_status(status_file or page.parent / STATUS_FILE)
    html = render_page(h, page, status)
    page.parent.mkdir(parents=True, exist_ok=True)
    tmp = page.with_name(page.name + f".{os.getpid()}.tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(page)  # a browser reloading it never sees half a page
    return PageTiming(t1 - t0, time.perf_counter() - t1)


def write_history_page(
    url: str, page: Path, nights: int = 7, bench: str | None = None
) -> PageTiming:
    """``write_page`` from a database URL or SQLite file (for the nightly summary): opens,
    upgrades, writes, closes. Raises HistoryDbError (one line, names the database)."""
    from hil.history.db import as_url, open_engine

    engine = open_engine(as_url(url), must_exist=True)
    try:
        return write_page(engine, page, nights, bench)
    finally:
        engine.dispose()
