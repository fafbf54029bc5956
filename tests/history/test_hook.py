"""The seam as the listener uses it (hil/robot/history_hook.py): the run's facts come from
hil-run.json; a database that cannot be written costs the run nothing but one line."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from hil.history.db import open_engine
from hil.history.models import EnergyFigure, Run, StepResult
from hil.lab.evidence import start_run
from hil.robot.history_hook import HistoryHook
from hil.verdict import LAB_ERROR_TAG
from tests.history.helpers import energy_evidence, facts, step


def test_hook_records_a_run(db_url: str, tmp_path: Path) -> None:
    f = facts("ignored", "")
    run_id = start_run(tmp_path, "lab.yaml", {"lab": f["lab"], "dut": f["dut"]})
    hook = HistoryHook(db_url, "night-7", tmp_path)
    hook.step(step("6", "PASS"), energy_evidence(0.4))
    hook.step(step("7", "FAIL"), [])
    lab_error = step("8", "FAIL") | {"tags": ["step:8", LAB_ERROR_TAG]}
    hook.step(lab_error, [])
    hook.end()
    engine = open_engine(db_url)
    with Session(engine) as s:
        run = s.get(Run, run_id)
        assert run is not None and (run.night_id, run.bench, run.status) == (
            "night-7",
            "bench-a",
            "completed",
        )
        assert [r.verdict for r in s.scalars(select(StepResult).order_by(StepResult.id))] == [
            "Y",
            "N",
            "E",  # the lab's failure: never a failure of the station in the history
        ]
        assert len(s.scalars(select(EnergyFigure)).all()) == 2
    engine.dispose()


def test_unwritable_database_costs_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hook = HistoryHook("nosuchdialect://x", "", tmp_path)
    hook.step(step("1", "PASS"), [])
    hook.step(step("2", "PASS"), [])
    hook.end()
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "nosuchdialect://x" in err[0]
