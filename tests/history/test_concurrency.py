"""Three benches write one database at once (each its own process, as pabot runs them),
on SQLite (one file) and PostgreSQL: none fails, every step is there. The first open of an
empty database races the migration too."""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hil.history.db import open_engine
from hil.history.models import Run, StepResult

STEPS = 40


def _bench(url: str, out: str, bench: str, start: multiprocessing.synchronize.Event) -> None:
    from hil.history.recorder import HistoryRecorder
    from tests.history.helpers import energy_evidence, facts, step

    start.wait(30)
    rec = HistoryRecorder.open(
        url, facts(bench, "2026-11-01T01:00:00+00:00", bench), "n1", Path(out)
    )
    for i in range(STEPS):
        rec.step(step(str(i % 23 + 1), "PASS"), energy_evidence(1.0))
    rec.end()


def test_three_processes_write_one_database(db_url: str, tmp_path: Path) -> None:
    """SQLite: one file; PostgreSQL: one empty database, its schema created by whichever
    process takes the advisory lock first."""
    url = db_url
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Event()
    procs = [
        ctx.Process(target=_bench, args=(url, str(tmp_path / b), b, start)) for b in ("a", "b", "c")
    ]
    for p in procs:
        p.start()
    time.sleep(0.5)  # all three imported and waiting: they open the empty file together
    start.set()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0, 0, 0]
    engine = open_engine(url)
    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(StepResult)) == 3 * STEPS
        assert sorted(s.scalars(select(Run.status))) == ["completed"] * 3
    engine.dispose()
