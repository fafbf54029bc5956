"""Checking a station's GetCompositeSchedule answer against the lab's own composite."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hil.verify.charging_profiles import (
    CompositePeriod,
    CompositeSchedule,
    ProfileStore,
    compare_schedules,
    composite,
    parse_composite,
    parse_profile,
)

T0 = datetime(2024, 5, 1, tzinfo=UTC)


def _expected() -> CompositeSchedule:
    # Two TxDefaultProfiles: stack 0 at 32 A, stack 1 at 10 A from +600 s for 1200 s.
    # Composite over 3600 s: 0 -> 32, 600 -> 10, 1800 -> 32.
    store = ProfileStore(2)
    for pid, stack, start, duration, limit in ((1, 0, T0, None, 32), (2, 1, T0, 1200, 10)):
        schedule: dict[str, Any] = {
            "startSchedule": (start + timedelta(seconds=600 * stack)).isoformat(),
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit}],
        }
        if duration:
            schedule["duration"] = duration
        store.install(
            1,
            parse_profile(
                {
                    "chargingProfileId": pid,
                    "stackLevel": stack,
                    "chargingProfilePurpose": "TxDefaultProfile",
                    "chargingProfileKind": "Absolute",
                    "chargingSchedule": schedule,
                }
            ),
        )
    sched = composite(store, 1, T0, 3600)
    assert [(p.start_period, p.limit) for p in sched.periods] == [(0, 32), (600, 10), (1800, 32)]
    return sched


def _conf(periods: list[tuple[int, float]], start: datetime = T0, **schedule: Any) -> dict:
    return {
        "status": "Accepted",
        "connectorId": 1,
        "scheduleStart": start.isoformat().replace("+00:00", "Z"),
        "chargingSchedule": {
            "duration": 3600,
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [
                {"startPeriod": s, "limit": limit, "numberPhases": 3} for s, limit in periods
            ],
        }
        | schedule,
    }


def test_the_lab_agrees_with_its_own_answer():
    expected = _expected()
    assert compare_schedules(expected, parse_composite(expected.to_conf(1)), 0.1) == []


def test_a_station_answering_a_few_seconds_later_is_aligned_on_the_clock():
    # The station's scheduleStart is T0 + 5 s, so the same instants are 5 s earlier in its
    # own offsets: 600 - 5 = 595 s and 1800 - 5 = 1795 s. Its 3600 s reach 5 s past our
    # window; our first 5 s it does not cover. Compared where both speak: no problem.
    later = _conf([(0, 32), (595, 10), (1795, 32)], start=T0 + timedelta(seconds=5))
    assert compare_schedules(_expected(), parse_composite(later), 0.1) == []


def test_a_missed_boundary_and_a_wrong_limit_are_reported_with_times():
    # The station keeps 10 A until 2400 s instead of 1800 s.
    reported = parse_composite(_conf([(0, 32), (600, 10), (2400, 32)]))
    problems = compare_schedules(_expected(), reported, 0.1)
    assert any(
        "expects the limit to change at +1800 s (2024-05-01T00:30:00Z) from 10 A to 32 A" in p
        and "nearest is at +2400 s" in p
        for p in problems
    ), problems
    assert any("changes at +2400 s" in p and "expects no change" in p for p in problems)
    assert any(
        p.startswith("+1800 s (2024-05-01T00:30:00Z) to +2400 s")
        and "the lab expects 32 A, the station reports 10 A" in p
        for p in problems
    ), problems


def test_a_boundary_within_the_time_tolerance_passes():
    reported = parse_composite(_conf([(0, 32), (602, 10), (1799, 32)]))
    assert compare_schedules(_expected(), reported, 0.1, time_tolerance_s=3) == []
    assert compare_schedules(_expected(), reported, 0.1) != []


def test_limits_within_the_tolerance_pass():
    reported = parse_composite(_conf([(0, 31.9), (600, 10.1), (1800, 32)]))
    assert compare_schedules(_expected(), reported, 0.1) == []
    problems = compare_schedules(_expected(), reported, 0.05)
    assert any("+0 s" in p and "expects 32 A, the station reports 31.9 A" in p for p in problems)


def test_another_unit_is_reported_and_still_compared():
    # 32 A x 3 x 230 = 22080 W; 10 A -> 6900 W.
    watts = _conf([(0, 22080), (600, 6900), (1800, 22080)], chargingRateUnit="W")
    problems = compare_schedules(_expected(), parse_composite(watts), 0.1)
    assert len(problems) == 1 and "reports in W, the lab expects A" in problems[0]


def test_phases_differing_is_reported():
    reported = parse_composite(_expected().to_conf(1))
    one_phase = CompositeSchedule(
        "A",
        tuple(CompositePeriod(p.start_period, p.limit, 1) for p in reported.periods),
        reported.start,
        reported.duration,
    )
    problems = compare_schedules(_expected(), one_phase, 0.1)
    assert problems and "32 A on 3 phase(s)" in problems[0] and "32 A on 1 phase(s)" in problems[0]


def test_shape_problems_of_the_answer():
    reported = parse_composite(_conf([(10, 32), (600, 10), (300, 32)]))
    problems = compare_schedules(_expected(), reported, 0.1)
    assert any("first period starts at 10 s" in p for p in problems)
    assert any("not in ascending order: startPeriod [10, 600, 300]" in p for p in problems)


def test_a_schedule_that_stops_early():
    reported = parse_composite(_conf([(0, 32), (600, 10)], duration=1200))
    problems = compare_schedules(_expected(), reported, 0.1)
    assert any("ends at +1200 s" in p and "until +3600 s" in p for p in problems), problems


def test_no_limit_expected_is_compared_only_with_a_station_maximum():
    expected = CompositeSchedule(
        "A", (CompositePeriod(0, None), CompositePeriod(600, 16.0, 3)), T0, 1200
    )
    reported = parse_composite(_conf([(0, 32), (600, 16)], duration=1200))
    assert compare_schedules(expected, reported, 0.1) == []
    assert compare_schedules(expected, reported, 0.1, unlimited=32.0) == []
    problems = compare_schedules(expected, reported, 0.1, unlimited=16.0)
    # With a 16 A maximum the lab expects no change at 600 s, and 16 A before it.
    assert any("changes at +600 s" in p for p in problems)
    assert any(
        "+0 s" in p and "the lab expects 16 A, the station reports 32 A" in p for p in problems
    )


def test_parse_composite_reads_the_conf_or_a_bare_schedule():
    conf = _conf([(0, 32)], minChargingRate=6)
    sched = parse_composite(conf)
    assert sched.start == T0 and sched.duration == 3600 and sched.min_charging_rate == 6.0
    bare = parse_composite(conf["chargingSchedule"] | {"startSchedule": "2024-05-01T00:00:00Z"})
    assert bare.periods == sched.periods and bare.start == T0


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"status": "Rejected"}, "status: 'Rejected'"),
        ({"status": "Accepted", "chargingSchedule": 5}, "chargingSchedule: expected"),
        (
            {"chargingRateUnit": "kW", "chargingSchedulePeriod": []},
            "chargingRateUnit: expected 'A' or 'W'",
        ),
        (
            {"chargingRateUnit": "A", "chargingSchedulePeriod": [{"startPeriod": "0"}]},
            "chargingSchedulePeriod[0].startPeriod: expected an integer",
        ),
        (
            {"chargingRateUnit": "A", "chargingSchedulePeriod": [{"startPeriod": 0}]},
            "chargingSchedulePeriod[0].limit: expected a number",
        ),
    ],
)
def test_parse_composite_errors_name_the_field(payload: dict, message: str):
    with pytest.raises(ValueError) as info:
        parse_composite(payload)
    assert message in str(info.value)
