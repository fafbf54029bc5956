"""What the history says, as plain data: per bench and step the last nights' verdicts,
since when a step fails (and on which firmware), which steps are flaky, the energy error
over time. Pure queries: nothing here writes or prints."""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Engine, select, true
from sqlalchemy.orm import Session

from hil.checklist import BY_ID
from hil.history.models import COMPLETED, INTERRUPTED, EnergyFigure, Run, StepResult
from hil.history.recorder import parse_time, utc_now
from hil.lab.evidence import process_alive

#: a "running" run on another host older than this is taken as interrupted
STALE_AFTER = timedelta(hours=24)
#: the energy sources that are the station's own register (the trend plots these)
STATION_SOURCES = ("meterStop - meterStart", "MeterValues register")


@dataclass
class RunInfo:
    run_id: str
    night: str
    bench: str
    firmware: str
    software_version: str
    started: datetime
    ended: datetime | None
    #: "running", "completed" or "interrupted"
    state: str
    output_dir: str
    report_path: str
    lab_config: str = ""
    lab_config_digest: str = ""
    deviations: list[str] = field(default_factory=list)

    @property
    def setup(self) -> tuple[str, str]:
        """What must stay the same for a verdict change to count as flakiness: the
        firmware and the lab config (its digest; "" for runs recorded before it was)."""
        return (self.firmware, self.lab_config_digest)


def run_changes(before: RunInfo, after: RunInfo) -> list[str]:
    """What differs between two runs of a bench, as short phrases: the firmware, the lab
    config, the deviations switched on, the lab software's version. [] when none does
    (what is unknown for an older run is not compared)."""
    changes = []
    if before.firmware != after.firmware:
        changes.append(f"firmware {before.firmware or '?'} → {after.firmware or '?'}")
    known = before.lab_config_digest and after.lab_config_digest
    if known and before.lab_config_digest != after.lab_config_digest:
        what = "lab config changed"
        if before.lab_config != after.lab_config:
            what += f" ({before.lab_config} → {after.lab_config})"
        changes.append(what)
    on = [d for d in after.deviations if d not in before.deviations]
    off = [d for d in before.deviations if d not in after.deviations]
    if on or off:
        changes.append("deviations " + ", ".join([*(f"+{d}" for d in on), *(f"-{d}" for d in off)]))
    if before.software_version != after.software_version:
        changes.append(f"lab software {before.software_version} → {after.software_version}")
    return changes


@dataclass
class StepTrend:
    step: str
    name: str
    #: night -> "Y" / "N" / "N/A" / "" (not run that night), for the bench's table nights
    verdicts: dict[str, str]
    #: the failing streak the step is in now: its first night and firmware (None: passing)
    failing_since: str | None = None
    failing_firmware: str | None = None
    #: firmware versions on which the Y/N verdict flipped more than once with the same
    #: firmware and lab config (empty: not flaky)
    flaky_on: list[str] = field(default_factory=list)
    #: the failing streak began on the step's latest night: it was Y before (or never ran)
    new_failure: bool = False
    #: for a new failure: the night of the run before it that passed (None: first run)
    passed_before: str | None = None
    #: what differs between that run and the failing one (run_changes)
    changed: list[str] = field(default_factory=list)


def new_failure_text(s: StepTrend) -> str:
    """How the console, the page and the nightly summary say a new failure."""
    if s.passed_before is None:
        return f"new failure (first run: {s.failing_since}, firmware {s.failing_firmware})"
    changed = "; ".join(s.changed) if s.changed else "nothing recorded changed"
    return f"new failure (Y on {s.passed_before}; changed: {changed})"


@dataclass
class BenchTrend:
    bench: str
    nights: list[str]
    #: night -> the run whose verdicts the column shows (the night's latest on this bench)
    runs: dict[str, RunInfo]
    steps: list[StepTrend]

    @property
    def failing(self) -> list[StepTrend]:
        return [s for s in self.steps if s.failing_since]

    @property
    def flaky(self) -> list[StepTrend]:
        return [s for s in self.steps if s.flaky_on]

    @property
    def new_failures(self) -> list[StepTrend]:
        return [s for s in self.steps if s.new_failure]


@dataclass
class EnergyPoint:
    night: str
    bench: str
    source: str
    step: str
    diff_percent: float
    #: the tolerance of that check in percent of the reference (None: not known)
    allowed_percent: float | None = None


@dataclass
class History:
    nights: list[str]
    benches: list[BenchTrend]
    energy: list[EnergyPoint]


def run_state(run: Run, later_run_on_bench: bool, now: datetime | None = None) -> str:
    """A run's state as shown: a run that never ended and whose process is gone (or that
    another run of its bench followed, or that is older than a day on another host) is
    interrupted."""
    if run.status == INTERRUPTED:  # Robot was stopped before all its steps ran
        return INTERRUPTED
    if run.status == COMPLETED or run.ended is not None:
        return COMPLETED
    if later_run_on_bench:
        return INTERRUPTED
    if run.host == socket.gethostname():
        return "running" if process_alive(run.pid) else INTERRUPTED
    started = parse_time(run.started) or utc_now()
    return INTERRUPTED if (now or utc_now()) - started > STALE_AFTER else "running"


def _step_order(step: str) -> tuple[int, str]:
    ids = list(BY_ID)
    return (ids.index(step), "") if step in BY_ID else (len(ids), step)


def history(engine: Engine, nights: int = 7, bench: str | None = None) -> History:
    """The trends of the last ``nights`` nights (columns), over every bench or one."""
    with Session(engine) as session:
        q = select(Run).order_by(Run.started)
        if bench:
            q = q.where(Run.bench == bench)
        runs = list(session.scalars(q))
        results = list(
            session.execute(
                select(StepResult.run_id, StepResult.step, StepResult.name, StepResult.verdict)
                .join(Run)
                .where(Run.bench == bench if bench else true())
                .order_by(StepResult.id)
            )
        )
        figures = list(
            session.execute(
                select(
                    Run.night_id,
                    Run.bench,
                    EnergyFigure.source,
                    EnergyFigure.step,
                    EnergyFigure.diff_percent,
                    EnergyFigure.allowed_wh,
                    EnergyFigure.reference_wh,
                )
                .join(Run, EnergyFigure.run_id == Run.run_id)
                .where(EnergyFigure.diff_percent.is_not(None))
                .where(Run.bench == bench if bench else true())
                .order_by(Run.started, EnergyFigure.id)
            )
        )
    all_nights = _nights_in_order(runs)
    shown = all_nights[-nights:] if nights > 0 else all_nights
    infos = _run_infos(runs)
    by_run: dict[str, list[tuple[str, str, str]]] = {}
    for run_id, step, name, verdict in results:
        by_run.setdefault(run_id, []).append((step, name, verdict))
    benches = [
        _bench_trend(name, [i for i in infos if i.bench == name], by_run, shown)
        for name in sorted({i.bench for i in infos})
    ]
    energy = [
        EnergyPoint(n, b, src, st, float(pct), _percent_of(allowed, ref))
        for n, b, src, st, pct, allowed, ref in figures
        if n in shown
    ]
    return History(shown, benches, energy)


def _percent_of(allowed: float | None, ref: float | None) -> float | None:
    return None if allowed is None or not ref else 100.0 * abs(allowed) / abs(ref)


def _nights_in_order(runs: list[Run]) -> list[str]:
    """Nights by their first run's start (ids are free text: "2026-11-30", "rerun-2")."""
    first: dict[str, datetime] = {}
    for r in runs:
        t = parse_time(r.started) or utc_now()
        first[r.night_id] = min(t, first.get(r.night_id, t))
    return sorted(first, key=lambda n: first[n])


def _run_infos(runs: list[Run]) -> list[RunInfo]:
    infos = []
    last_of_bench = {run.bench: i for i, run in enumerate(runs)}  # runs are in start order
    for i, run in enumerate(runs):
        later = last_of_bench[run.bench] > i
        infos.append(
            RunInfo(
                run.run_id,
                run.night_id,
                run.bench,
                run.firmware,
                run.software_version,
                parse_time(run.started) or utc_now(),
                parse_time(run.ended),
                run_state(run, later),
                run.output_dir,
                run.report_path,
                run.lab_config or "",
                run.lab_config_digest or "",
                [str(d) for d in run.deviations or []],
            )
        )
    return infos


def _bench_trend(
    bench: str,
    runs: list[RunInfo],
    by_run: dict[str, list[tuple[str, str, str]]],
    shown: list[str],
) -> BenchTrend:
    # every step result of the bench in run order: (run, step, name, verdict)
    seq = [(run, s, n, v) for run in runs for s, n, v in by_run.get(run.run_id, [])]
    names: dict[str, str] = {}
    for _run, s, n, _v in seq:
        names[s] = n
    columns = {run.night: run for run in runs if run.night in shown}  # the night's latest
    steps: list[StepTrend] = []
    for step in sorted(names, key=_step_order):
        mine = [(run, v) for run, s, _n, v in seq if s == step]
        per_night: dict[str, tuple[RunInfo, str]] = {}
        for run, v in mine:  # the night's latest verdict of the step
            per_night[run.night] = (run, v)
        trend = StepTrend(
            step,
            BY_ID[step].action if step in BY_ID else names[step],
            {n: per_night[n][1] if n in per_night else "" for n in shown},
        )
        by_night = [per_night[n] for n in _ordered(per_night, runs)]
        _failing_streak(trend, by_night)
        trend.flaky_on = _flaky(mine)
        _new_failure(trend, by_night)
        steps.append(trend)
    return BenchTrend(bench, [n for n in shown], columns, steps)


def _ordered(per_night: dict[str, tuple[RunInfo, str]], runs: list[RunInfo]) -> list[str]:
    order = {}
    for run in runs:
        order.setdefault(run.night, run.started)
    return sorted(per_night, key=lambda n: order[n])


def _failing_streak(trend: StepTrend, by_night: list[tuple[RunInfo, str]]) -> None:
    """The current run of N verdicts, back to its first night (nights where the step did
    not run, or was N/A, do not break it)."""
    first: RunInfo | None = None
    for run, verdict in reversed(by_night):
        if verdict == "N":
            first = run
        elif verdict == "Y":
            break
    if first is not None and by_night and _last_real(by_night) == "N":
        trend.failing_since, trend.failing_firmware = first.night, first.firmware


def _last_real(by_night: list[tuple[RunInfo, str]]) -> str:
    return next((v for _r, v in reversed(by_night) if v in ("Y", "N")), "")


def _new_failure(trend: StepTrend, by_night: list[tuple[RunInfo, str]]) -> None:
    """A failing streak one night long is a new failure: say what changed since the run
    before it that passed (a single Y→N change is news, not flakiness)."""
    if trend.failing_since is None:
        return
    real = [(run, v) for run, v in by_night if v in ("Y", "N")]
    if len(real) >= 2 and real[-2][1] == "N":
        return  # failing on more than one night: not new
    if real and real[-1][0].firmware in trend.flaky_on:
        return  # the flakiness once more, not news
    trend.new_failure = True
    if len(real) >= 2:
        before, after = real[-2][0], real[-1][0]
        trend.passed_before = before.night
        trend.changed = run_changes(before, after)


def _flaky(mine: list[tuple[RunInfo, str]]) -> list[str]:
    """Firmware versions on which the step's Y/N verdict flipped more than once between
    runs with the same firmware and lab config. One flip is a change (a new failure, or a
    fix); a change that comes with another firmware or lab config is theirs."""
    last: dict[tuple[str, str], str] = {}
    flips: dict[tuple[str, str], int] = {}
    flaky: list[str] = []
    for run, verdict in mine:
        if verdict not in ("Y", "N"):
            continue
        before = last.get(run.setup)
        if before is not None and before != verdict:
            flips[run.setup] = flips.get(run.setup, 0) + 1
            if flips[run.setup] > 1 and run.firmware not in flaky:
                flaky.append(run.firmware)
        last[run.setup] = verdict
    return flaky
