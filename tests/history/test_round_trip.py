"""Recorder -> trends on SQLite and PostgreSQL: verdicts per night, failing since, flaky
steps, energy figures, runs that never ended."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from hil.history.db import open_engine
from hil.history.models import EnergyFigure, Run, StepResult
from hil.history.trends import history
from tests.history.helpers import record_run, record_run_in_process

N1, N2, N3 = "2026-11-01", "2026-11-02", "2026-11-03"


def three_nights(url: str, out: Path) -> None:
    record_run(url, out, "r1", N1, "1.0", {"1": "PASS", "5": "PASS", "6": "PASS", "17": "SKIP"})
    record_run(
        url,
        out,
        "r2",
        N2,
        "2.0",
        {"1": "PASS", "5": "FAIL", "6": "PASS", "17": "SKIP"},
        diff_percent=2.5,
    )
    record_run(
        url, out, "r3", N3, "2.0", {"1": "PASS", "5": "PASS", "6": "FAIL"}, diff_percent=-0.5
    )
    # another bench: step 1 failing since night 2 on its firmware, and a run that never ended
    record_run(url, out, "b1", N1, "9.1", {"1": "PASS"}, bench="bench-b")
    record_run(url, out, "b2", N2, "9.2", {"1": "FAIL"}, bench="bench-b")
    record_run_in_process(url, out, "b3", N3, "9.2", {"1": "FAIL"}, bench="bench-b", end=False)


def test_round_trip(db_url: str, tmp_path: Path) -> None:
    three_nights(db_url, tmp_path)
    engine = open_engine(db_url)
    h = history(engine, nights=7)
    assert h.nights == [N1, N2, N3]
    a, b = h.benches
    assert (a.bench, b.bench) == ("bench-a", "bench-b")
    rows = {s.step: s for s in a.steps}
    assert [s.step for s in a.steps] == ["1", "5", "6", "17"]  # checklist order
    assert rows["5"].verdicts == {N1: "Y", N2: "N", N3: "Y"}
    assert rows["17"].verdicts == {N1: "N/A", N2: "N/A", N3: ""}
    # step 5 failed on night 2 (new firmware) and passed again on night 3: not failing now,
    # and one flip on firmware 2.0 is a fix, not flakiness; step 6 fails since night 3 on
    # 2.0, a new failure after a pass on night 2 with nothing recorded changed
    assert rows["5"].failing_since is None
    assert rows["5"].flaky_on == [] and not rows["5"].new_failure
    assert (rows["6"].failing_since, rows["6"].failing_firmware) == (N3, "2.0")
    assert rows["6"].new_failure and rows["6"].passed_before == N2 and rows["6"].changed == []
    assert rows["1"].flaky_on == [] and rows["1"].failing_since is None
    assert rows["1"].name == "Boot charging station"
    # bench b: failing since night 2 on firmware 9.2; its last run never ended
    (b1,) = b.steps
    assert (b1.failing_since, b1.failing_firmware) == (N2, "9.2")
    assert [b.runs[n].state for n in h.nights] == ["completed", "completed", "interrupted"]
    assert a.runs[N3].state == "completed"
    # energy: the station register per night, and the signed Eichrecht figure
    station = [(p.night, p.diff_percent) for p in h.energy if p.source == "meterStop - meterStart"]
    assert station == [(N1, 1.0), (N2, 2.5), (N3, -0.5)]
    with Session(engine) as s:
        figs = s.scalars(select(EnergyFigure).where(EnergyFigure.run_id == "r2")).all()
        signed = next(f for f in figs if f.kind == "eichrecht")
        assert (signed.wh, signed.reference_wh, signed.diff_wh) == (1010.0, 1000.0, 10.0)
        assert signed.allowed_wh == 30.0 and signed.ok is True
        energy = next(f for f in figs if f.kind == "energy")
        assert energy.transaction_id == "7" and energy.ok is True and energy.step == "6"
        run = s.get(Run, "r1")
        assert run is not None
        assert (run.bench, run.firmware, run.vendor, run.status) == (
            "bench-a",
            "1.0",
            "ACME",
            "completed",
        )
        assert run.ended is not None and run.software_version
        assert run.report_path.endswith("r1/certification-report.html")
        five = s.scalars(
            select(StepResult).where(StepResult.run_id == "r1", StepResult.step == "5")
        ).one()
        assert (five.verdict, five.remarks, five.elapsed_s) == ("Y", ["a remark"], 1.5)
    # one bench only, last two nights
    h2 = history(engine, nights=2, bench="bench-b")
    assert h2.nights == [N2, N3] and [x.bench for x in h2.benches] == ["bench-b"]
    engine.dispose()


def test_killed_run_keeps_its_finished_steps(db_url: str, tmp_path: Path) -> None:
    record_run(db_url, tmp_path, "k1", N1, "1.0", {"1": "PASS", "2": "FAIL"}, end=False)
    engine = open_engine(db_url)
    with Session(engine) as s:
        run = s.get(Run, "k1")
        assert run is not None and run.status == "running" and run.ended is None
        assert len(s.scalars(select(StepResult)).all()) == 2
    # its process (this one) is still there: shown running, not interrupted
    (bench,) = history(engine).benches
    assert bench.runs[N1].state == "running"
    engine.dispose()


def test_a_run_robot_stopped_is_interrupted_with_its_finished_steps(
    db_url: str, tmp_path: Path
) -> None:
    from hil.history.recorder import HistoryRecorder
    from tests.history.helpers import facts, step

    rec = HistoryRecorder.open(db_url, facts("s1", f"{N1}T01:00:00+00:00"), N1, tmp_path)
    rec.step(step("1", "PASS"), [])
    rec.end(interrupted=True)
    engine = open_engine(db_url)
    try:
        with Session(engine) as s:
            run = s.get(Run, "s1")
            assert run is not None and run.status == "interrupted" and run.ended is not None
        (bench,) = history(engine).benches
        assert bench.runs[N1].state == "interrupted"
        assert bench.steps[0].verdicts[N1] == "Y"
    finally:
        engine.dispose()


def test_night_empty_is_todays_utc_date(db_url: str, tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from hil.history.recorder import HistoryRecorder
    from tests.history.helpers import facts

    rec = HistoryRecorder.open(db_url, facts("t1", "2026-11-30T01:00:00+00:00"), "", tmp_path)
    rec.end()
    engine = open_engine(db_url)
    with Session(engine) as s:
        run = s.get(Run, "t1")
        assert run is not None and run.night_id == datetime.now(UTC).date().isoformat()
    engine.dispose()


def test_energy_plot_has_one_series_per_bench_and_the_tolerance_band(
    db_url: str, tmp_path: Path
) -> None:
    """The harm: a line per bench and energy source (the signed OCMF figure, the power
    analyser) crowds the plot, and without the allowed band nobody sees whether a drift is
    still within tolerance or already a failure."""
    from hil.history.plot import energy_error_plot, energy_series

    three_nights(db_url, tmp_path)
    record_run(db_url, tmp_path, "b4", N3, "9.2", {"6": "PASS"}, bench="bench-b", diff_percent=4)
    engine = open_engine(db_url)
    try:
        h = history(engine, nights=7)
    finally:
        engine.dispose()
    series = energy_series(h.energy, h.nights)
    assert series.benches == {
        "bench-a": [(0, 1.0), (1, 2.5), (2, -0.5)],
        "bench-b": [(2, 4.0)],
    }
    # the helper's checks allow 30 Wh of 1000 Wh: ±3 % on every night
    assert series.band == [(0, 3.0), (1, 3.0), (2, 3.0)]
    assert (energy_error_plot(h.energy, h.nights) or "").startswith("data:image/png;base64,")
