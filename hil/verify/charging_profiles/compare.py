"""Judging a station's GetCompositeSchedule answer against the lab's own composite.

Both schedules are read as step functions of time. The station picks its own
``scheduleStart`` (its clock when it answered), so the two are aligned on absolute time and
compared where both speak. What is reported, in words a lab engineer can act on:

- the answer's own shape: a first period not at 0, periods not in ascending order;
- a unit other than the one expected (limits are then converted and still compared);
- a change of limit the lab expects that the station does not show, or one it shows that
  the lab does not expect (within ``time_tolerance_s``);
- every stretch where the limits differ by more than ``tolerance``, or the phases differ;
- a schedule that stops before the window while the lab still expects a limit.

Where the lab expects no limit at all (no profile applies), the station must report
*something* (OCPP cannot say "unlimited"); that stretch is compared only when the caller
gives ``unlimited``, the station's maximum in the expected unit.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from hil.verify.charging_profiles.composite import (
    LAB_READING,
    CompositePeriod,
    CompositeSchedule,
    Reading,
    open_readings,
)
from hil.verify.charging_profiles.model import format_datetime
from hil.verify.charging_profiles.units import DEFAULT_PHASES, DEFAULT_VOLTAGE_V

_INF = float("inf")


def _exact(value: float, from_unit: str, to_unit: str, phases: int, voltage_v: float) -> float:
    if from_unit == to_unit:
        return value
    if to_unit == "W":
        return value * phases * voltage_v
    return value / (phases * voltage_v)


def compare_schedules(
    expected: CompositeSchedule,
    reported: CompositeSchedule,
    tolerance: float,
    *,
    time_tolerance_s: float = 0,
    unlimited: float | None = None,
    voltage_v: float = DEFAULT_VOLTAGE_V,
    phases: int = DEFAULT_PHASES,
) -> list[str]:
    """What is wrong with ``reported`` against ``expected`` (empty: they agree).

    ``tolerance`` is in the expected unit; ``phases`` is assumed where a period omits
    numberPhases (for converting a reported schedule in the other unit).
    """
    problems: list[str] = []
    unit = expected.unit
    base = expected.start

    def label(offset: float) -> str:
        text = f"+{offset:g} s"
        if base is not None and abs(offset) != _INF:
            text += f" ({format_datetime(base + timedelta(seconds=offset))})"
        return text

    def show(value: float | None, ph: int | None = None) -> str:
        if value is None:
            return "no limit"
        return f"{value:g} {unit}" + (f" on {ph} phase(s)" if ph is not None else "")

    # -- the answer's own shape ---------------------------------------------------------
    starts = [p.start_period for p in reported.periods]
    if not starts:
        return ["the station's schedule has no periods"]
    if starts[0] != 0:
        problems.append(
            f"the station's first period starts at {starts[0]} s, not 0 (§7.13: it SHALL be 0)"
        )
    if any(b <= a for a, b in zip(starts, starts[1:], strict=False)):
        problems.append(f"the station's periods are not in ascending order: startPeriod {starts}")
    ordered: dict[int, CompositePeriod] = {}
    for p in sorted(reported.periods, key=lambda p: p.start_period):
        ordered[p.start_period] = p  # a repeated start: the later period holds
    rep_periods = list(ordered.values())

    # -- unit -----------------------------------------------------------------------------
    if reported.unit != unit:
        problems.append(
            f"the station reports in {reported.unit}, the lab expects {unit} "
            f"(compared after converting at {voltage_v:g} V)"
        )
        rep_periods = [
            CompositePeriod(
                p.start_period,
                None
                if p.limit is None
                else _exact(p.limit, reported.unit, unit, p.number_phases or phases, voltage_v),
                p.number_phases,
            )
            for p in rep_periods
        ]
    rep = CompositeSchedule(unit, tuple(rep_periods), reported.start, reported.duration)

    # -- windows, on the expected schedule's time axis ----------------------------------
    shift = 0.0
    if base is not None and reported.start is not None:
        shift = (reported.start - base).total_seconds()
    exp_end = (
        float(expected.duration)
        if expected.duration is not None
        else float(max(p.start_period for p in expected.periods) + 1)
    )
    rep_end = _INF if reported.duration is None else shift + reported.duration
    lo, hi = max(0.0, shift), min(exp_end, rep_end)
    if lo >= hi:
        problems.append(
            f"the station's schedule ({label(shift)} to {label(rep_end)}) does not overlap "
            f"the lab's window ({label(0)} to {label(exp_end)})"
        )
        return problems

    def exp_at(x: float) -> CompositePeriod | None:
        return expected.period_at(x)

    def rep_at(x: float) -> CompositePeriod | None:
        return rep.period_at(x - shift)

    if rep_end < exp_end:
        lacking = [
            p
            for p in expected.periods
            if p.limit is not None
            and p.start_period < exp_end
            and _period_end(expected, p, exp_end) > rep_end
        ]
        if lacking:
            problems.append(
                f"the station's schedule ends at {label(rep_end)}; the lab expects a limit "
                f"({show(lacking[0].limit)}) until {label(exp_end)}"
            )

    # -- boundaries -------------------------------------------------------------------------
    def value(p: CompositePeriod | None, expected_side: bool) -> float | None:
        if p is None:
            return None
        if p.limit is None and expected_side:
            return unlimited
        return p.limit

    def changes(at: float, step: float, expected_side: bool) -> bool:
        fn = exp_at if expected_side else rep_at
        before, after = fn(at - step), fn(at)
        a, b = value(before, expected_side), value(after, expected_side)
        if (a is None) != (b is None):
            return True
        if a is not None and b is not None and abs(a - b) > tolerance:
            return True
        return (
            before is not None
            and after is not None
            and None not in (before.number_phases, after.number_phases)
            and before.number_phases != after.number_phases
        )

    eps = 1e-3
    exp_cuts = sorted(
        float(p.start_period)
        for p in expected.periods[1:]
        if lo < p.start_period < hi and changes(p.start_period, eps, True)
    )
    rep_cuts = sorted(
        p.start_period + shift
        for p in rep.periods[1:]
        if lo < p.start_period + shift < hi and changes(p.start_period + shift, eps, False)
    )
    for e in exp_cuts:
        if not any(abs(r - e) <= time_tolerance_s for r in rep_cuts):
            near = min(rep_cuts, key=lambda r: abs(r - e), default=None)
            hint = "" if near is None else f" (its nearest is at {label(near)})"
            problems.append(
                f"the lab expects the limit to change at {label(e)} from "
                f"{show(value(exp_at(e - eps), True))} to {show(value(exp_at(e), True))}; "
                f"the station's schedule has no change there{hint}"
            )
    for r in rep_cuts:
        if not any(abs(r - e) <= time_tolerance_s for e in exp_cuts):
            problems.append(
                f"the station's schedule changes at {label(r)} from "
                f"{show(value(rep_at(r - eps), False))} to {show(value(rep_at(r), False))}; "
                "the lab expects no change there"
            )

    # -- limits, stretch by stretch -------------------------------------------------------------
    cuts = sorted({lo, hi, *exp_cuts, *rep_cuts})
    all_cuts = set(exp_cuts) | set(rep_cuts)
    mismatches: list[list[Any]] = []  # [from, to, (expected, reported, phases...)]
    for a, b in zip(cuts, cuts[1:], strict=False):
        a2 = a + time_tolerance_s if a in all_cuts else a
        b2 = b - time_tolerance_s if b in all_cuts else b
        if a2 >= b2:
            continue
        e, r = exp_at(a2), rep_at(a2)
        ev, rv = value(e, True), value(r, False)
        if ev is None or rv is None:
            continue
        e_ph = e.number_phases if e else None
        r_ph = r.number_phases if r else None
        differs = abs(ev - rv) > tolerance + 1e-9 or (
            e_ph is not None and r_ph is not None and e_ph != r_ph
        )
        if not differs:
            continue
        key = (ev, rv, e_ph, r_ph)
        if mismatches and mismatches[-1][2] == key and mismatches[-1][1] == a:
            mismatches[-1][1] = b
        else:
            mismatches.append([a, b, key])
    for a, b, (ev, rv, e_ph, r_ph) in mismatches:
        phases_differ = e_ph is not None and r_ph is not None and e_ph != r_ph
        lab = show(ev, e_ph if phases_differ else None)
        station = show(rv, r_ph if phases_differ else None)
        problems.append(
            f"{label(a)} to {label(b)}: the lab expects {lab}, the station reports {station}"
            + ("" if phases_differ else f" (tolerance {tolerance:g} {unit})")
        )
    return problems


def _period_end(schedule: CompositeSchedule, period: CompositePeriod, end: float) -> float:
    later = [p.start_period for p in schedule.periods if p.start_period > period.start_period]
    return float(min(later)) if later else end


def compare_with_readings(
    predict: Callable[[Reading], CompositeSchedule],
    reported: CompositeSchedule,
    tolerance: float,
    **options: Any,
) -> tuple[list[str], list[str]]:
    """``(problems, remarks)`` for a station's composite, open clauses allowed for.

    ``predict(reading)`` is the lab's composite under a :class:`Reading`. The answer is
    judged against the lab's reading (:data:`LAB_READING`); where it differs but matches
    another reading the specification leaves open (:func:`open_readings`), there is no
    problem, and the remarks say which reading the station took and the clause that allows
    it (a SHOULD/open point is a remark, never a failure). ``options`` go to
    :func:`compare_schedules`.
    """
    expected = predict(LAB_READING)
    problems = compare_schedules(expected, reported, tolerance, **options)
    if not problems:
        return [], []
    for reading, remarks in open_readings():
        alternative = predict(reading)
        if alternative == expected:
            continue  # this reading changes nothing here
        if not compare_schedules(alternative, reported, tolerance, **options):
            return [], remarks
    return problems, []
