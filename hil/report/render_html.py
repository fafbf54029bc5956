"""The certification report as one self-contained HTML file.

Self-contained because it travels as a mail attachment: styles inline, every plot inlined
as a data: URI, no fonts or scripts fetched. Laid out to print on A4 from any browser.
"""

from __future__ import annotations

import base64
from functools import cache
from pathlib import Path

import jinja2

from hil.report import render as common
from hil.report.model import Report

_TEMPLATES = Path(__file__).with_name("templates")
_MIME = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".svg": "image/svg+xml"}


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(_TEMPLATES),
        autoescape=True,  # every cell is text from a DUT or a log, never markup
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(c=common, data_uri=data_uri)
    return env


def data_uri(path: Path | None) -> str | None:
    """The image at ``path`` as a data: URI, or None when the file cannot be read (the
    template then says which plot is missing rather than failing the whole report)."""
    if path is None:
        return None
    try:
        data = Path(path).read_bytes()
    except OSError:
        return None
    mime = _MIME.get(Path(path).suffix.lower(), "image/png")
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def render_html(report: Report) -> str:
    """The whole report as an HTML document."""
    return _environment().get_template("report.html.j2").render(report=report)
