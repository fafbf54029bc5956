"""``hil history`` on the console and as a page; the one-line answers to bad input."""

from __future__ import annotations

import json
import sqlite3
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest

from hil.cli import main
from hil.history.db import head_revision, open_engine
from hil.history.page import write_page
from tests.history.helpers import record_run
from tests.history.test_round_trip import N1, N2, N3, three_nights


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.links: list[str] = []
        self.imgs: list[str] = []
        self.cells: list[str] = []
        self._td = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.ids.append(a["id"] or "")
        if tag == "a":
            self.links.append(a.get("href") or "")
        if tag == "img":
            self.imgs.append(a.get("src") or "")
        self._td = tag == "td" and "v" in (a.get("class") or "").split()

    def handle_data(self, data: str) -> None:
        if self._td:
            self.cells.append(data.strip())
            self._td = False


def test_console_table(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "250")  # rich wraps cells at a captured stdout's 80
    three_nights(db_url, tmp_path)
    assert main(["history", "--db", db_url, "--nights", "3"]) == 0
    out = capsys.readouterr().out
    assert "Bench bench-a" in out and "Bench bench-b" in out
    assert f"{N3} (firmware 2.0)" in out  # step 6 failing since night 3
    assert f"{N2} (firmware 9.2)" in out  # bench b step 1
    assert "interrupted" in out
    assert "Boot charging station" in out
    assert main(["history", "--db", db_url, "--bench", "bench-b", "--nights", "1"]) == 0
    out = capsys.readouterr().out
    assert "bench-a" not in out and N1 not in out and N3 in out


def test_page(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite"
    url = f"sqlite:///{db}"
    three_nights(url, tmp_path / "runs")
    (tmp_path / "runs" / "r1").mkdir(parents=True, exist_ok=True)
    (tmp_path / "runs" / "r1" / "certification-report.html").write_text("<html></html>")
    status = [
        {
            "bench": "bench-a",
            "step": "5",
            "name": "Heartbeat",
            "done": 4,
            "total": 27,
            "verdicts": {"Y": 3, "N": 1, "N/A": 0},
            "state": "running",
        },
    ]
    (tmp_path / "nightly-status.json").write_text(json.dumps(status))
    page = tmp_path / "history.html"
    engine = open_engine(url)
    timing = write_page(engine, page, nights=7)
    engine.dispose()
    html = page.read_text()
    parsed = _Page()
    parsed.feed(html)
    assert {"live-status", "verdicts-1", "verdicts-2", "energy"} <= set(parsed.ids)
    assert parsed.links == ["runs/r1/certification-report.html"]  # only r1 has its report
    assert len(parsed.imgs) == 1 and parsed.imgs[0].startswith("data:image/png;base64,")
    assert "failing since 2026-11-02 (firmware 9.2)" in html  # bench b step 1
    # step 6: Y on night 2, N on night 3 with the same set-up; one flip of step 5 is a fix
    assert "new failure (Y on 2026-11-02; changed: nothing recorded changed)" in html
    assert "flaky on" not in html and "<strong>Flaky" not in html
    assert "interrupted" in html and "Heartbeat" in html
    # bench a: 4 steps × 3 nights, bench b: 1 × 3
    assert len(parsed.cells) == 15 and parsed.cells[:3] == ["Y", "Y", "Y"]
    assert "http://" not in html and "https://" not in html  # self-contained
    assert timing.render_s < 10


def test_write_history_page_from_a_url(tmp_path: Path) -> None:
    from hil.history.db import HistoryDbError
    from hil.history.page import write_history_page

    db = tmp_path / "h.sqlite"
    record_run(f"sqlite:///{db}", tmp_path, "r1", N1, "1.0", {"1": "PASS"})
    write_history_page(str(db), tmp_path / "p.html")
    assert "Bench bench-a" in (tmp_path / "p.html").read_text()
    with pytest.raises(HistoryDbError, match="missing.sqlite"):
        write_history_page(str(tmp_path / "missing.sqlite"), tmp_path / "q.html")


def test_page_without_status_file_and_via_cli(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "h.sqlite"
    record_run(f"sqlite:///{db}", tmp_path, "r1", N1, "1.0", {"1": "PASS"})
    page = tmp_path / "out" / "page.html"
    assert main(["history", "--db", str(db), "--html", str(page)]) == 0
    assert "No energy figures" in page.read_text()
    assert "live-status" not in page.read_text()
    assert f"{page} written" in capsys.readouterr().out


@pytest.mark.parametrize(
    "make, expect",
    [
        (lambda tmp: str(tmp / "nope.sqlite"), "nope.sqlite: no such history database file"),
        (lambda tmp: "notaurl://x", "notaurl://x"),
        (lambda tmp: "a b://", "a b://: not a database URL"),
        (lambda tmp: "postgresql+psycopg://nobody@127.0.0.1:1/x", "127.0.0.1:1"),
    ],
)
def test_bad_input_is_one_line(
    make, expect: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:  # type: ignore[no-untyped-def]
    assert main(["history", "--db", make(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith("hil history: ") and expect in err


def test_foreign_database_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "other.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE customers (id INTEGER)")
    assert main(["history", "--db", str(path)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "not a history database" in err


def test_a_file_that_is_no_database_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello\n")
    assert main(["history", "--db", str(path)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "notes.txt" in err and "not a database" in err


def test_older_schema_is_upgraded(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A database at an older revision (here: none yet, an empty Alembic history) is
    brought to head, not refused."""
    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
    assert main(["history", "--db", str(path)]) == 0
    assert "no runs in this history yet" in capsys.readouterr().out
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [
            (head_revision(),)
        ]


def test_page_build_time(tmp_path: Path) -> None:
    """30 nights × 3 benches × 27 steps: the page is built in well under a few seconds."""
    url = f"sqlite:///{tmp_path / 'h.sqlite'}"
    steps = {str(i): "PASS" for i in range(1, 24)} | {
        "SC1": "PASS",
        "SC2": "FAIL",
        "SC3": "PASS",
        "EI1": "SKIP",
    }
    t0 = time.perf_counter()
    for night in range(30):
        for bench in ("a", "b", "c"):
            record_run(
                url,
                tmp_path,
                f"{bench}{night}",
                f"2026-10-{night + 1:02d}",
                "1",
                steps,
                bench=bench,
            )
    insert_s = time.perf_counter() - t0
    engine = open_engine(url)
    timing = write_page(engine, tmp_path / "p.html", nights=14)
    engine.dispose()
    print(
        f"\n90 runs × 27 steps recorded in {insert_s:.2f} s "
        f"({1000 * insert_s / (90 * 27):.1f} ms/step incl. run open/end); "
        f"page: query {timing.query_s:.3f} s, render {timing.render_s:.3f} s"
    )
    assert timing.query_s + timing.render_s < 10


def test_failures_view_fits_80_columns(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The harm: the morning's failures in a full steps × nights table wrap into an
    unreadable mess on an 80-column terminal (or a mail), and the green rows hide them."""
    monkeypatch.setenv("COLUMNS", "80")
    three_nights(db_url, tmp_path)
    assert main(["history", "--db", db_url, "--failures"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 80, out
    assert not [line for line in lines if line.split()[:1] == ["5"]]  # it passes now
    text = " ".join(" ".join(lines).split())
    assert "new failure (Y on 2026-11-02; changed: nothing recorded changed)" in text
    row = next(line for line in lines if line.split()[:1] == ["1"])  # bench b, step 1
    assert "2026-11-02" in row and "9.2" in row and "failing" in row
