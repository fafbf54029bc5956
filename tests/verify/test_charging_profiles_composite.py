"""The composite schedule, on examples worked by hand (OCPP 1.6 §3.13, §5.7).

Each test shows its arithmetic in a comment. T0 is a Wednesday midnight (UTC); a "Tx" on
connector 1 is transaction 7. Voltage 230 V, three phases unless a period says otherwise.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hil.verify.charging_profiles import (
    CompositePeriod,
    ProfileStore,
    composite,
    limit_at,
    parse_profile,
)

T0 = datetime(2024, 5, 1, tzinfo=UTC)
H = 3600


def _at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def _profile(
    pid: int,
    purpose: str,
    periods: list[tuple[int, float] | tuple[int, float, int]],
    *,
    stack: int = 0,
    kind: str = "Absolute",
    unit: str = "A",
    start: datetime | None = T0,
    duration: int | None = None,
    **extra: Any,
) -> Any:
    schedule: dict[str, Any] = {
        "chargingRateUnit": unit,
        "chargingSchedulePeriod": [
            {"startPeriod": p[0], "limit": p[1]} | ({"numberPhases": p[2]} if len(p) > 2 else {})
            for p in periods
        ],
    }
    if start is not None and kind != "Relative":
        schedule["startSchedule"] = start.isoformat()
    if duration is not None:
        schedule["duration"] = duration
    return parse_profile(
        {
            "chargingProfileId": pid,
            "stackLevel": stack,
            "chargingProfilePurpose": purpose,
            "chargingProfileKind": kind,
            "chargingSchedule": schedule,
        }
        | extra
    )


def _periods(schedule) -> list[tuple[int, float | None]]:
    return [(p.start_period, p.limit) for p in schedule.periods]


# -- the specification's daily example (§3.13.4) -------------------------------------------


def _daily_11_6_11() -> ProfileStore:
    # A charge point limited to 6 kW from 08:00 to 20:00 and 11 kW otherwise, every day:
    # Recurring Daily, startSchedule 2013-01-01T00:00Z, duration 86400, W,
    # periods 0 s (00:00) 11000 W, 28800 s (08:00) 6000 W, 72000 s (20:00) 11000 W.
    store = ProfileStore(2)
    profile = _profile(
        100,
        "TxDefaultProfile",
        [(0, 11000, 3), (28800, 6000, 3), (72000, 11000, 3)],
        kind="Recurring",
        unit="W",
        start=datetime(2013, 1, 1, tzinfo=UTC),
        duration=86400,
        recurrencyKind="Daily",
    )
    assert store.install(0, profile) == "Accepted"
    return store


def test_spec_daily_recurring_profile_over_one_day():
    # 2024-05-01 is 4138 whole days after 2013-01-01, so the day starts a fresh cycle:
    # the periods come back unchanged: 0 -> 11000, 28800 -> 6000, 72000 -> 11000.
    sched = composite(_daily_11_6_11(), 1, T0, 86400)
    assert sched.unit == "W"
    assert _periods(sched) == [(0, 11000.0), (28800, 6000.0), (72000, 11000.0)]
    assert all(p.number_phases == 3 for p in sched.periods)


def test_spec_daily_recurring_profile_from_six_across_midnight():
    # From 06:00 for two days: 08:00 is +2 h = 7200 s, 20:00 is +14 h = 50400 s; from
    # 20:00 to the next 08:00 it is 11000 W on both sides of midnight (one merged period);
    # the next day's 08:00 is 7200 + 86400 = 93600 s, its 20:00 is 50400 + 86400 = 136800 s.
    sched = composite(_daily_11_6_11(), 1, _at(6 * H), 2 * 86400)
    assert _periods(sched) == [
        (0, 11000.0),
        (7200, 6000.0),
        (50400, 11000.0),
        (93600, 6000.0),
        (136800, 11000.0),
    ]


def test_spec_daily_recurring_profile_asked_in_amperes():
    # W is total, A per phase: 11000 W / (3 x 230 V) = 15.94 A -> 15.9 A (rounded down);
    # 6000 W / 690 V = 8.695 A -> 8.6 A.
    sched = composite(_daily_11_6_11(), 1, T0, 86400, unit="A")
    assert _periods(sched) == [(0, 15.9), (28800, 8.6), (72000, 15.9)]
    # limit_at gives the one limit in force: 09:00 is inside 08:00-20:00.
    now = limit_at(_daily_11_6_11(), 1, _at(9 * H))
    assert (now.limit, now.unit, now.profile_id) == (6000.0, "W", 100)


# -- stacking within a purpose (§3.13.2) ---------------------------------------------------


def test_higher_stack_level_wins_while_it_lasts_then_the_lower_one_shows():
    # Stack 0: 32 A from T0, open-ended. Stack 1: 10 A from T0 + 1 h for 7200 s.
    # 0..3600: stack 1 not started -> 32; 3600..3600+7200=10800: stack 1 -> 10;
    # from 10800 stack 1 is past its duration -> stack 0 again, 32.
    store = ProfileStore(2)
    store.install(1, _profile(1, "TxDefaultProfile", [(0, 32)], stack=0))
    store.install(
        1, _profile(2, "TxDefaultProfile", [(0, 10)], stack=1, start=_at(H), duration=7200)
    )
    sched = composite(store, 1, T0, 4 * H)
    assert _periods(sched) == [(0, 32.0), (3600, 10.0), (10800, 32.0)]


def test_a_higher_stack_level_outside_its_validity_does_not_shadow():
    # Stack 2: 6 A, but validTo T0 + 30 min; stack 0: 16 A. 0..1800: 6, then 16.
    store = ProfileStore(2)
    store.install(1, _profile(1, "TxDefaultProfile", [(0, 16)]))
    store.install(
        1,
        _profile(2, "TxDefaultProfile", [(0, 6)], stack=2, validTo=_at(1800).isoformat()),
    )
    assert _periods(composite(store, 1, T0, H)) == [(0, 6.0), (1800, 16.0)]


def test_a_profile_not_yet_valid_lets_the_lower_one_lead_until_valid_from():
    # Stack 3: 8 A valid from T0 + 20 min; before that stack 0's 16 A leads.
    store = ProfileStore(2)
    store.install(1, _profile(1, "TxDefaultProfile", [(0, 16)]))
    store.install(
        1,
        _profile(2, "TxDefaultProfile", [(0, 8)], stack=3, validFrom=_at(1200).isoformat()),
    )
    assert _periods(composite(store, 1, T0, H)) == [(0, 16.0), (1200, 8.0)]


# -- combining purposes (§3.13.3) ------------------------------------------------------------


def test_tx_profile_overrides_the_default_for_its_transaction():
    # TxDefault (connector 0, all connectors): 32 A. The transaction starts at T0 + 1 h;
    # its TxProfile is Relative: 0 s -> 10 A, 1800 s -> 20 A, duration 3600 s.
    # 0..3600: no transaction yet -> 32; 3600..3600+1800=5400: 10; 5400..7200: 20;
    # from 3600+3600=7200 the TxProfile is past its duration -> the default's 32 again.
    store = ProfileStore(2)
    store.install(0, _profile(1, "TxDefaultProfile", [(0, 32)]))
    tx = _profile(2, "TxProfile", [(0, 10), (1800, 20)], kind="Relative", duration=3600)
    assert store.install(1, tx, transaction_id_running=7) == "Accepted"
    sched = composite(store, 1, T0, 3 * H, tx_start=_at(H))
    assert _periods(sched) == [(0, 32.0), (3600, 10.0), (5400, 20.0), (7200, 32.0)]
    # A TxProfile can raise the limit above the default too: it replaces, it does not cap.
    assert limit_at(store, 1, _at(6000), tx_start=_at(H)).limit == 20.0
    # Connector 2 has no transaction: the default alone.
    assert _periods(composite(store, 2, T0, 3 * H)) == [(0, 32.0)]


def test_charge_point_max_profile_caps_the_default():
    # ChargePointMax 16 A on 3 phases = 16 x 3 x 230 = 11040 W.
    # TxDefault in W: 0 s -> 22000 W, 3600 s -> 7000 W.
    # 0..3600: min(11040, 22000) = 11040 W (16.0 A); from 3600: min(11040, 7000) = 7000 W,
    # which is 7000 / 690 = 10.14 A -> 10.1 A.
    store = ProfileStore(2)
    assert store.install(0, _profile(1, "ChargePointMaxProfile", [(0, 16)])) == "Accepted"
    store.install(1, _profile(2, "TxDefaultProfile", [(0, 22000), (3600, 7000)], unit="W"))
    assert _periods(composite(store, 1, T0, 2 * H, unit="W")) == [(0, 11040.0), (3600, 7000.0)]
    assert _periods(composite(store, 1, T0, 2 * H, unit="A")) == [(0, 16.0), (3600, 10.1)]
    # No unit asked: the unit of the profile that sets the first limit (the cap, in A).
    assert composite(store, 1, T0, 2 * H).unit == "A"
    # Connector 0 is the station: the cap, and connector 2 has no profile (unlimited).
    assert _periods(composite(store, 0, T0, 2 * H)) == [(0, 16.0)]


def test_units_are_compared_per_phase_with_each_periods_phases():
    # TxDefault 32 A on ONE phase; ChargePointMax 11000 W on 3 phases = 11000 / 690 = 15.94 A
    # per phase. A is per phase (§7.12), so the cap is the lower current: 15.9 A, on no more
    # phases than the default allows (1). In W over that one phase: 15.942 x 230 = 3666.6 W.
    store = ProfileStore(2)
    store.install(0, _profile(1, "ChargePointMaxProfile", [(0, 11000)], unit="W"))
    store.install(1, _profile(2, "TxDefaultProfile", [(0, 32, 1)]))
    sched = composite(store, 1, T0, H, unit="W")
    assert sched.periods == (CompositePeriod(0, 3666.6, 1),)
    now = limit_at(store, 1, T0, unit="A")
    assert (now.limit, now.number_phases, now.profile_id) == (15.9, 1, 1)


def test_default_on_the_connector_overrides_the_one_on_connector_0():
    # Connector 0: 10 A at stack 5; connector 1: 20 A at stack 0. Connector 1 takes its own
    # (20 A) despite the lower stack level; connector 2 has none and takes connector 0's.
    store = ProfileStore(2)
    store.install(0, _profile(1, "TxDefaultProfile", [(0, 10)], stack=5))
    store.install(1, _profile(2, "TxDefaultProfile", [(0, 20)], stack=0))
    assert _periods(composite(store, 1, T0, H)) == [(0, 20.0)]
    assert _periods(composite(store, 2, T0, H)) == [(0, 10.0)]
    # Where the connector's own default is silent (here: after its 1800 s), connector 0's
    # default applies.
    store.install(1, _profile(2, "TxDefaultProfile", [(0, 20)], duration=1800))
    assert _periods(composite(store, 1, T0, H)) == [(0, 20.0), (1800, 10.0)]


# -- kinds -------------------------------------------------------------------------------------


def test_relative_profile_counts_from_the_transaction_start():
    # Relative TxDefault: 0 s -> 6 A, 900 s -> 16 A, duration 3600 s. The transaction
    # starts at T0 + 600 s. Window T0..T0+5400:
    # 0..600 no transaction yet -> no limit; 600..600+900=1500 -> 6; 1500..600+3600=4200
    # -> 16; from 4200 the profile is over -> no limit.
    store = ProfileStore(2)
    store.install(
        1, _profile(1, "TxDefaultProfile", [(0, 6), (900, 16)], kind="Relative", duration=3600)
    )
    sched = composite(store, 1, T0, 5400, tx_start=_at(600))
    assert _periods(sched) == [(0, None), (600, 6.0), (1500, 16.0), (4200, None)]
    # Without a transaction the composite counts from the request, as a session started
    # then would be limited (§7.13 Relative: "a situation-specific start point"): 6 A,
    # 16 A from 900 s, none from 3600 s. The output (limit_at) offers nothing without one.
    idle = composite(store, 1, T0, 5400)
    assert _periods(idle) == [(0, 6.0), (900, 16.0), (3600, None)]
    assert limit_at(store, 1, T0).limit is None


def test_absolute_without_start_schedule_is_relative_to_the_transaction():
    # §7.13 startSchedule: "If absent the schedule will be relative to start of charging."
    store = ProfileStore(2)
    store.install(1, _profile(1, "TxDefaultProfile", [(0, 6), (600, 12)], start=None))
    assert _periods(composite(store, 1, T0, H, tx_start=_at(300))) == [
        (0, None),
        (300, 6.0),
        (900, 12.0),  # 300 + 600
    ]
    # no transaction: counted from the request (see the Relative case above)
    assert _periods(composite(store, 1, T0, H)) == [(0, 6.0), (600, 12.0)]


def test_weekly_recurring_profile_repeats_after_seven_days():
    # Weekly from Monday 2024-04-29 00:00: 0 s -> 10 A, 5 days (432000 s) -> 32 A (weekend).
    # T0 is Wednesday 2024-05-01, 2 days (172800 s) into the week: 10 A until Saturday, i.e.
    # 432000 - 172800 = 259200 s; then 32 A until next Monday, 604800 - 172800 = 432000 s.
    store = ProfileStore(2)
    monday = datetime(2024, 4, 29, tzinfo=UTC)
    store.install(
        0,
        _profile(
            1,
            "TxDefaultProfile",
            [(0, 10), (432000, 32)],
            kind="Recurring",
            start=monday,
            recurrencyKind="Weekly",
        ),
    )
    sched = composite(store, 1, T0, 7 * 86400)
    assert _periods(sched) == [(0, 10.0), (259200, 32.0), (432000, 10.0)]


def test_daily_recurring_with_a_duration_is_silent_for_the_rest_of_the_day():
    # Daily from 12:00 for 18000 s (5 h): 0 -> 32 A, 3600 -> 6 A. Window from 11:50 for 6 h:
    # 11:50..12:00 silent (600 s); 12:00..13:00 32 A; 13:00..17:00 6 A; after 17:00 silent.
    store = ProfileStore(2)
    store.install(
        1,
        _profile(
            1,
            "TxDefaultProfile",
            [(0, 32), (3600, 6)],
            kind="Recurring",
            start=datetime(2024, 1, 1, 12, tzinfo=UTC),
            duration=18000,
            recurrencyKind="Daily",
        ),
    )
    sched = composite(store, 1, _at(11 * H + 3000), 6 * H)
    assert _periods(sched) == [(0, None), (600, 32.0), (4200, 6.0), (18600, None)]


def test_min_charging_rate_is_carried_through():
    store = ProfileStore(2)
    store.install(
        1,
        parse_profile(
            {
                "chargingProfileId": 1,
                "stackLevel": 0,
                "chargingProfilePurpose": "TxDefaultProfile",
                "chargingProfileKind": "Absolute",
                "chargingSchedule": {
                    "startSchedule": "2024-05-01T00:00:00Z",
                    "chargingRateUnit": "A",
                    "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16}],
                    "minChargingRate": 6.0,
                },
            }
        ),
    )
    assert composite(store, 1, T0, H).min_charging_rate == 6.0
    # In W: 6 A x 3 x 230 V = 4140 W.
    assert composite(store, 1, T0, H, unit="W").min_charging_rate == 4140.0


def test_a_stopped_transaction_takes_its_tx_profile_along():
    store = ProfileStore(2)
    store.install(0, _profile(1, "TxDefaultProfile", [(0, 32)]))
    store.install(1, _profile(2, "TxProfile", [(0, 8)]), transaction_id_running=7)
    assert limit_at(store, 1, _at(60), tx_start=T0).limit == 8.0
    assert [p.charging_profile_id for p in store.transaction_ended(1)] == [2]
    assert limit_at(store, 1, _at(60)).limit == 32.0


# -- output for GetCompositeSchedule ---------------------------------------------------------


def test_to_json_needs_a_value_for_unlimited_periods():
    store = ProfileStore(2)
    store.install(1, _profile(1, "TxDefaultProfile", [(0, 16)], start=_at(1800)))
    sched = composite(store, 1, T0, H)
    assert _periods(sched) == [(0, None), (1800, 16.0)]
    with pytest.raises(ValueError, match="no_limit"):
        sched.to_json()
    assert sched.to_conf(1, no_limit=32.0) == {
        "status": "Accepted",
        "connectorId": 1,
        "scheduleStart": "2024-05-01T00:00:00Z",
        "chargingSchedule": {
            "duration": 3600,
            "startSchedule": "2024-05-01T00:00:00Z",
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [
                {"startPeriod": 0, "limit": 32.0},
                {"startPeriod": 1800, "limit": 16.0, "numberPhases": 3},
            ],
        },
    }


def test_composite_arguments_are_checked():
    store = ProfileStore(2)
    with pytest.raises(ValueError, match="timezone-aware"):
        composite(store, 1, datetime(2024, 5, 1), 60)
    with pytest.raises(ValueError, match="duration_s"):
        composite(store, 1, T0, 0)
    with pytest.raises(ValueError, match="unit"):
        composite(store, 1, T0, 60, unit="kW")
    # A non-UTC zone is fine: the same instant.
    cest = datetime(2024, 5, 1, 2, tzinfo=UTC).astimezone()
    assert composite(store, 1, cest, 60).start == datetime(2024, 5, 1, 2, tzinfo=UTC)
