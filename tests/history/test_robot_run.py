"""A real Robot run on the virtual bench writes its run and steps into the history."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from hil.history.db import open_engine
from hil.history.models import Run, StepResult
from tests.suites.runner import run_steps, write_lab

pytestmark = pytest.mark.robot


def test_robot_run_is_recorded(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'h.sqlite'}"
    outcomes = run_steps(
        tmp_path,
        write_lab(tmp_path),
        ["1", "5"],
        variables=[f"HIL_HISTORY:{url}", "HIL_NIGHT:test-night"],
    )
    assert {s: o.status for s, o in outcomes.items()} == {"1": "PASS", "5": "PASS"}
    engine = open_engine(url, must_exist=True)
    with Session(engine) as s:
        (run,) = s.scalars(select(Run)).all()
        assert (run.night_id, run.status) == ("test-night", "completed")
        assert run.bench and run.station_id and run.ended is not None
        assert Path(run.output_dir) == (tmp_path / "out").resolve()
        steps = s.scalars(select(StepResult).order_by(StepResult.id)).all()
        assert [(r.step, r.verdict) for r in steps] == [("1", "Y"), ("5", "Y")]
    engine.dispose()
