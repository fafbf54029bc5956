"""The history completed from a run's own step records after the run (hil nightly does it
once pabot is over): a Robot process killed between its step record and its history row
loses no step from the history."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hil.history.backfill import backfill_run
from hil.history.db import open_engine
from hil.history.models import EnergyFigure, Run, StepResult
from hil.history.recorder import HistoryRecorder
from hil.lab.evidence import EVIDENCE_FILE, MARKER, STEPS_FILE
from tests.history.helpers import energy_evidence, facts, step

N1 = "2026-11-01"


def write_run(out: Path, run: dict[str, Any], steps: list[dict[str, Any]]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text(json.dumps(run) + "\n", encoding="utf-8")
    lines = [json.dumps({**s, "run_id": run["run_id"]}) for s in steps]
    (out / STEPS_FILE).write_text("\n".join(lines) + "\n", encoding="utf-8")


def stored(url: str, run_id: str) -> tuple[Run | None, dict[str, str], int]:
    engine = open_engine(url)
    try:
        with Session(engine) as s:
            run = s.get(Run, run_id)
            if run is not None:
                s.expunge(run)
            steps = dict(
                s.execute(
                    select(StepResult.step, StepResult.verdict).where(StepResult.run_id == run_id)
                ).all()
            )
            figures = len(
                s.scalars(select(EnergyFigure).where(EnergyFigure.run_id == run_id)).all()
            )
        return run, steps, figures
    finally:
        engine.dispose()


def test_a_run_the_history_never_saw_is_added_as_interrupted(db_url: str, tmp_path: Path) -> None:
    out = tmp_path / "bench"
    write_run(out, facts("k1", f"{N1}T01:00:00+00:00"), [step("1", "PASS"), step("2", "FAIL")])
    # the killed run's half line at the end is skipped, not an error
    with (out / STEPS_FILE).open("a", encoding="utf-8") as fh:
        fh.write('{"run_id": "k1", "step": "3", "sta')
    assert backfill_run(db_url, out, N1) == 2
    run, steps, _ = stored(db_url, "k1")
    assert run is not None and run.status == "interrupted" and run.night_id == N1
    assert run.bench == "bench-a" and run.ended is not None
    assert steps == {"1": "Y", "2": "N"}
    # a second pass adds nothing and changes nothing
    assert backfill_run(db_url, out, N1) == 0
    assert stored(db_url, "k1")[1] == steps


def test_only_the_missing_steps_are_added_with_their_energy_figures(
    db_url: str, tmp_path: Path
) -> None:
    out = tmp_path / "bench"
    run = facts("k2", f"{N1}T01:00:00+00:00")
    rec = HistoryRecorder.open(db_url, run, N1, out)
    rec.step({**step("1", "PASS"), "run_id": "k2"}, [])
    rec.engine.dispose()  # the Robot process is killed before its next step's row
    six = step("6", "PASS")
    write_run(out, run, [step("1", "PASS"), six])
    evidence = [{**e, "test": six["test"]} for e in energy_evidence(1.0)]
    (out / EVIDENCE_FILE).write_text(
        "".join(json.dumps(e) + "\n" for e in evidence), encoding="utf-8"
    )
    assert backfill_run(db_url, out, N1) == 1
    run_row, steps, figures = stored(db_url, "k2")
    assert steps == {"1": "Y", "6": "Y"}
    assert figures == 2  # the energy check and the signed (OCMF) energy of step 6
    # the run marker has no end: the Robot process is gone without one
    assert run_row is not None and run_row.status == "interrupted"


def test_a_run_that_ended_is_completed_or_interrupted_as_its_marker_says(
    db_url: str, tmp_path: Path
) -> None:
    ended = f"{N1}T02:00:00+00:00"
    for run_id, stopped, status in (("e1", False, "completed"), ("e2", True, "interrupted")):
        out = tmp_path / run_id
        write_run(
            out,
            {**facts(run_id, f"{N1}T01:00:00+00:00"), "ended": ended, "stopped": stopped},
            [step("1", "PASS")],
        )
        assert backfill_run(db_url, out, N1) == 1
        run, _, _ = stored(db_url, run_id)
        assert run is not None and run.status == status


def test_a_run_already_ended_in_the_history_keeps_its_status(db_url: str, tmp_path: Path) -> None:
    out = tmp_path / "bench"
    run = facts("c1", f"{N1}T01:00:00+00:00")
    rec = HistoryRecorder.open(db_url, run, N1, out)
    rec.step({**step("1", "PASS"), "run_id": "c1"}, [])
    rec.end()
    write_run(out, run, [step("1", "PASS")])
    assert backfill_run(db_url, out, N1) == 0
    row, _, _ = stored(db_url, "c1")
    assert row is not None and row.status == "completed"


def test_a_folder_without_a_run_or_steps_adds_nothing(db_url: str, tmp_path: Path) -> None:
    assert backfill_run(db_url, tmp_path / "nothing", N1) == 0
    out = tmp_path / "no-steps"
    write_run(out, facts("n1", f"{N1}T01:00:00+00:00"), [])
    assert backfill_run(db_url, out, N1) == 0
    assert stored(db_url, "n1")[0] is None
