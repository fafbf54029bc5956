"""A night against the one before it, per bench: the morning's questions. Which steps
fail that passed the night before (and what changed between the two runs), which were
fixed, which still fail (since when, on which firmware), which are flaky. Pure queries on
the trends (hil/history/trends.py); nothing here writes or prints."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine

from hil.history.trends import BenchTrend, RunInfo, StepTrend, history, run_changes


@dataclass
class BenchComparison:
    bench: str
    night: str
    run: RunInfo | None
    #: the latest earlier night this bench ran (None: its first night in this history)
    previous: str | None = None
    previous_run: RunInfo | None = None
    #: what differs between the previous night's run and this one (run_changes)
    changed: list[str] = field(default_factory=list)
    #: N tonight, and the step's failing streak began tonight, not flaky (StepTrend.changed
    #: says what changed since its last Y)
    new_failures: list[StepTrend] = field(default_factory=list)
    #: Y tonight, N the previous night
    fixed: list[StepTrend] = field(default_factory=list)
    #: N tonight and before (StepTrend.failing_since / failing_firmware)
    still_failing: list[StepTrend] = field(default_factory=list)
    #: flaky steps that ran tonight (StepTrend.flaky_on), whatever their verdict
    flaky: list[StepTrend] = field(default_factory=list)


def compare_bench(b: BenchTrend, night: str) -> BenchComparison:
    """``night`` against the bench's previous night. Meant for the bench's newest night
    (failing streaks and new failures are the trends' of the latest verdicts)."""
    cmp = BenchComparison(b.bench, night, b.runs.get(night))
    earlier = b.nights[: b.nights.index(night)] if night in b.nights else []
    cmp.previous = next((n for n in reversed(earlier) if n in b.runs), None)
    if cmp.previous is not None:
        cmp.previous_run = b.runs[cmp.previous]
        if cmp.run is not None:
            cmp.changed = run_changes(cmp.previous_run, cmp.run)
    for s in b.steps:
        now = s.verdicts.get(night, "")
        before = s.verdicts.get(cmp.previous, "") if cmp.previous else ""
        if now == "N" and s.failing_since == night:
            if s.new_failure:  # else it is flaky: listed there
                cmp.new_failures.append(s)
        elif now == "N":
            cmp.still_failing.append(s)
        elif now == "Y" and before == "N":
            cmp.fixed.append(s)
        if s.flaky_on and now:
            cmp.flaky.append(s)
    return cmp


def compare_night(engine: Engine, night: str, bench: str | None = None) -> list[BenchComparison]:
    """Every bench that ran ``night`` against its previous night (bench name order)."""
    h = history(engine, nights=0, bench=bench)
    return [compare_bench(b, night) for b in h.benches if night in b.runs]
