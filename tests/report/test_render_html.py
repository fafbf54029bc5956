"""The HTML report: self-contained, escaped, the labs' tables; and in a real Chromium it
shows every table row and plot, screenshots and prints to A4 with the certificate first."""

from __future__ import annotations

import dataclasses
import io
import re
import time
import unicodedata
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from hil.report.model import Report
from hil.report.render import STEP_COLUMNS
from hil.report.render_html import render_html
from tests.browser import headless_chromium
from tests.report.sample import N_REMARK, NA_REASON, SCRIPT_REMARK, sample_report

TABLE_IDS = ("checklist", "smart-charging", "eichrecht")
SECTION_IDS = ("certificate", "evidence")


class _Tables(HTMLParser):
    """Element ids, each table's header cells and body row count, and the img tags."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.headers: dict[str, list[str]] = {}
        self.body_rows: dict[str, int] = {}
        self.imgs: list[dict[str, str | None]] = []
        self._table: str | None = None
        self._in_tbody = self._in_th = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.ids.append(a["id"] or "")
        if tag == "table":
            self._table = a.get("id") or ""
            self.headers[self._table] = []
            self.body_rows[self._table] = 0
        elif tag == "tbody":
            self._in_tbody = True
        elif tag == "tr" and self._in_tbody and self._table is not None:
            self.body_rows[self._table] += 1
        elif tag == "th" and not self._in_tbody and self._table is not None:
            self._in_th = True
            self.headers[self._table].append("")
        elif tag == "img":
            self.imgs.append(a)

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._table = None
        elif tag == "tbody":
            self._in_tbody = False
        elif tag == "th":
            self._in_th = False

    def handle_data(self, data: str) -> None:
        if self._in_th and self._table is not None:
            self.headers[self._table][-1] += data.strip()


def _parse(html: str) -> _Tables:
    parser = _Tables()
    parser.feed(html)
    return parser


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Report:
    return sample_report(tmp_path_factory.mktemp("html-model"))


@pytest.fixture(scope="module")
def html(report: Report) -> str:
    return render_html(report)


def test_self_contained(html: str, report: Report) -> None:
    assert 'src="http' not in html
    assert "<link" not in html
    assert "<script" not in html  # not even inline: the sample's <script> remark is escaped
    assert "@import" not in html and "url(" not in html
    srcs = [img["src"] or "" for img in _parse(html).imgs]
    # two session plots and the smart-charging plot, each inlined
    assert len(srcs) == len(report.sessions) + len(report.plots) == 3
    assert all(s.startswith("data:image/png;base64,") and len(s) > 5000 for s in srcs)


def test_cell_text_is_escaped(html: str) -> None:
    assert SCRIPT_REMARK not in html
    assert "&lt;script&gt;alert(" in html
    assert "Volt &amp; Co GmbH" in html
    assert "HeartbeatInterval &lt;300&gt; &amp; MeterValueSampleInterval ≥ 60 s | both" in html
    assert "HIL OCPP Lab — Bench 2" in html
    assert N_REMARK in html and NA_REASON in html


def test_ids_tables_and_headers(html: str, report: Report) -> None:
    parsed = _parse(html)
    for element_id in TABLE_IDS + SECTION_IDS:
        assert parsed.ids.count(element_id) == 1, element_id
    for table_id in TABLE_IDS:
        assert parsed.headers[table_id] == list(STEP_COLUMNS)
    assert parsed.body_rows["checklist"] == len(report.checklist) == 23
    assert parsed.body_rows["smart-charging"] == 3
    assert parsed.body_rows["eichrecht"] == 1
    # the certificate comes first, the evidence after the tables
    order = [html.index(f'id="{i}"') for i in ("certificate", *TABLE_IDS, "evidence")]
    assert order == sorted(order)


def test_rows_in_checklist_order_with_verdicts(html: str, report: Report) -> None:
    steps = re.findall(r'<tr data-step="([^"]+)">', html)
    expected = [r.step for r in report.checklist + report.smart_charging + report.eichrecht]
    assert steps == expected
    verdict_cells = re.findall(r'<td class="pass (pass-[A-Za-z]+)">([^<]*)</td>', html)
    assert ("pass-N", "N") in verdict_cells
    assert ("pass-NA", "N/A") in verdict_cells
    assert ("pass-none", "") in verdict_cells
    assert verdict_cells.count(("pass-Y", "Y")) == 20 + 3 + 1


def test_certificate_levels_and_banner(html: str, report: Report) -> None:
    cert = html[html.index('id="certificate"') : html.index('id="test-report"')]
    assert report.verdict_line == "Not certified"
    assert "Not certified" in cert
    for text in ("Volt &amp; Co GmbH", "W22-000123", "2025-03-02", "AC", "step 23 (N)"):
        assert text in cert
    assert "interrupted" in cert
    finished = dataclasses.replace(
        report, runs=[dataclasses.replace(r, interrupted=False) for r in report.runs]
    )
    assert "interrupted:" not in render_html(finished)


def test_run_label_only_when_several_runs(html: str, report: Report) -> None:
    assert '<div class="run">run 2</div>' in html
    single = dataclasses.replace(report, runs=report.runs[:1])
    assert 'class="run"' not in render_html(single)


def test_missing_plot_is_a_note_not_a_crash(report: Report, tmp_path: Path) -> None:
    gone = tmp_path / "nowhere" / "energy.png"
    sessions = [dataclasses.replace(report.sessions[0], plot=gone), *report.sessions[1:]]
    html = render_html(dataclasses.replace(report, sessions=sessions))
    assert "plot not found: nowhere/energy.png" in html
    assert str(tmp_path) not in html  # the lab PC's path means nothing to the reader
    assert len(_parse(html).imgs) == 2


def test_prints_to_a4(html: str) -> None:
    css = html[html.index("<style>") : html.index("</style>")]
    for rule in ("size: A4", "margin: 15mm", "break-after: page", "break-inside: avoid"):
        assert rule in css
    assert "display: table-header-group" in css and "max-width: 100%" in css


# --- in a real browser ----------------------------------------------------------------------


@dataclasses.dataclass
class Opened:
    page: Any  # playwright.sync_api.Page
    #: every URL the page asked for
    requests: list[str]


@pytest.fixture(scope="module")
def opened(html: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Opened]:
    """The report opened from disk in headless Debian Chromium, as a mail attachment
    would be. One browser for the module; closed whatever the tests do."""
    path = tmp_path_factory.mktemp("html") / "certification-report.html"
    path.write_text(html, encoding="utf-8")
    started = time.monotonic()
    with headless_chromium() as browser:
        pg = browser.new_page(viewport={"width": 1000, "height": 1400})
        requests: list[str] = []
        pg.on("request", lambda r: requests.append(r.url))
        pg.goto(path.as_uri(), wait_until="load")
        yield Opened(pg, requests)
    print(f"browser checks took {time.monotonic() - started:.1f} s")


@pytest.fixture
def page(opened: Opened) -> Any:
    return opened.page


def test_browser_fetches_nothing(opened: Opened) -> None:
    assert opened.requests  # the page itself, at least: the listener works
    assert [u for u in opened.requests if not u.startswith(("file:", "data:"))] == []


def test_browser_tables(page: Any, report: Report) -> None:
    for table_id, count in (("checklist", 23), ("smart-charging", 3), ("eichrecht", 1)):
        headers = page.eval_on_selector_all(
            f"table#{table_id} thead th", "els => els.map(e => e.textContent.trim())"
        )
        assert headers == list(STEP_COLUMNS), table_id
        assert page.locator(f"table#{table_id} > tbody > tr").count() == count, table_id
    steps = page.eval_on_selector_all(
        "#checklist tbody tr td:first-child", "els => els.map(e => e.textContent.trim())"
    )
    assert steps == [r.number for r in report.checklist]
    assert page.locator("#certificate").inner_text().count(report.verdict_line) == 1
    assert page.locator("#evidence table.energy").count() == 2


def test_browser_plots_load(page: Any) -> None:
    plots = page.eval_on_selector_all(
        "img.plot",
        "els => els.map(e => [e.complete, e.naturalWidth, e.getBoundingClientRect().width])",
    )
    assert len(plots) == 3
    for complete, natural_width, shown_width in plots:
        assert complete and natural_width > 0 and shown_width > 0


def test_browser_screenshot(page: Any, tmp_path: Path) -> None:
    import numpy as np
    from PIL import Image

    shot = tmp_path / "report.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 20_000
    with Image.open(shot) as img:
        rgb = img.convert("RGB")
        assert rgb.height > 3000  # the whole report, not one screen
        colours = rgb.getcolors(maxcolors=1 << 16)
        assert colours is None or len(colours) > 16
        # the Pass cells are painted: pixels of the Y (green) and N (red) fills
        pixels = np.asarray(rgb)
        for fill in ((198, 239, 206), (255, 199, 206)):
            assert np.all(pixels == fill, axis=-1).sum() > 500, fill


def test_browser_prints_a4_certificate_first(page: Any) -> None:
    from pypdf import PdfReader

    page.emulate_media(media="print")
    pdf = PdfReader(io.BytesIO(page.pdf(format="A4", print_background=True)))
    assert len(pdf.pages) >= 4
    width, height = float(pdf.pages[0].mediabox.width), float(pdf.pages[0].mediabox.height)
    assert abs(width - 595.3) < 2 and abs(height - 841.9) < 2  # A4 in points

    def text(i: int) -> str:
        return " ".join(unicodedata.normalize("NFKC", pdf.pages[i].extract_text()).split())

    assert "Not certified" in text(0) and "Certificate" in text(0)
    assert f"Page 1 of {len(pdf.pages)}" in text(0)  # the @page footer
    assert "Boot charging station" not in text(0)  # the certificate has its page
    assert "Boot charging station" in text(1)
