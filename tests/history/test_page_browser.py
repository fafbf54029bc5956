"""The history page in headless Debian Chromium: the tables render with their coloured
cells, a new failure is said in red, the plot image decodes, the report link resolves,
nothing is fetched."""

from __future__ import annotations

from pathlib import Path

from hil.history.db import open_engine
from hil.history.page import write_page
from tests.browser import headless_chromium
from tests.history.test_round_trip import three_nights


def test_page_in_chromium(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'h.sqlite'}"
    three_nights(url, tmp_path / "runs")
    report = tmp_path / "runs" / "r1" / "certification-report.html"
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text("<html><body id='the-report'>report</body></html>")
    page_path = tmp_path / "history.html"
    engine = open_engine(url)
    write_page(engine, page_path)
    engine.dispose()
    with headless_chromium() as browser:
        page = browser.new_page(viewport={"width": 1200, "height": 1200})
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.url))
        page.goto(page_path.as_uri(), wait_until="load")
        assert page.locator("table.verdicts").count() == 2
        assert page.locator("#verdicts-1 tbody tr").count() == 4
        red = page.eval_on_selector_all(
            "#verdicts-1 td.N", "els => els.map(e => getComputedStyle(e).backgroundColor)"
        )
        assert red and all(c == "rgb(246, 196, 196)" for c in red)
        plot = page.eval_on_selector(
            "img.plot", "e => [e.complete, e.naturalWidth, e.getBoundingClientRect().width]"
        )
        assert plot[0] and plot[1] > 100 and plot[2] > 100
        # step 6 of bench a: Y on night 2, N on night 3 — said in red as a new failure
        new = page.locator("#verdicts-1 .new-failure")
        assert new.count() == 1 and new.is_visible()
        assert "new failure (Y on 2026-11-02" in new.inner_text()
        assert new.evaluate("e => getComputedStyle(e).color") == "rgb(176, 0, 32)"
        assert page.locator("p.new-failures").is_visible()
        assert [u for u in requests if not u.startswith(("file:", "data:"))] == []
        page.click("#verdicts-1 thead a")
        page.wait_for_selector("#the-report")
