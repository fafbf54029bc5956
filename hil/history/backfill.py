"""Bringing the history up to a run's own step records after the run is over.

The step records (``steps.jsonl``) are written and flushed first when a step ends; the
history row comes right after, from the same process. A Robot process that is killed in
between (``hil nightly`` stopped, pabot's kill after its grace time), or whose history
writes failed, leaves the history short of steps the run did finish. ``hil nightly`` calls
:func:`backfill_run` for every bench once pabot is over, so the history always holds every
finished step, and a run that never said it ended is recorded as interrupted.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from hil.history.db import open_engine
from hil.history.models import RUNNING, Run, StepResult
from hil.history.recorder import HistoryRecorder, parse_time
from hil.lab.evidence import EVIDENCE_FILE, STEPS_FILE, read_json_lines, read_run


def backfill_run(url: str, output_dir: Path, night: str) -> int:
    """Add the steps of ``output_dir``'s run that the history lacks (and the run's row if
    it has none); end a run the history still shows running. Returns the steps added."""
    facts = read_run(output_dir) or {}
    run_id = str(facts.get("run_id") or "")
    if not run_id:
        return 0
    records = [
        r
        for r in read_json_lines(output_dir / STEPS_FILE)
        if str(r.get("run_id") or "") == run_id and r.get("step")
    ]
    engine = open_engine(url, write=True)
    try:
        with Session(engine) as session:
            run = session.get(Run, run_id)
            status = run.status if run is not None else None
            stored = set(
                session.scalars(select(StepResult.step).where(StepResult.run_id == run_id))
            )
        if status is None and not records:
            return 0
        recorder = (
            HistoryRecorder.insert(engine, facts, night, output_dir)
            if status is None
            else HistoryRecorder(engine, run_id)
        )
        missing = [r for r in records if str(r["step"]) not in stored]
        if missing:
            evidence = read_json_lines(output_dir / EVIDENCE_FILE)
            for record in missing:
                test = record.get("test")
                recorder.step(record, [e for e in evidence if test and e.get("test") == test])
        if status in (None, RUNNING):
            # the Robot process is over (pabot ended): a run without its end is interrupted
            ended = parse_time(facts.get("ended"))
            ends = [t for r in records if (t := parse_time(r.get("ended"))) is not None]
            last = max(ends, default=None)
            recorder.end(
                interrupted=ended is None or bool(facts.get("stopped")), ended=ended or last
            )
        return len(missing)
    finally:
        engine.dispose()
