"""The composite as the specifications merge it, one clause per test, numbers worked by hand.

OCPP 1.6 edition 2: §3.13.3 (the composite is the lower of ChargePointMaxProfile and
TxProfile-or-TxDefaultProfile), §7.12 ChargingRateUnitType (A per phase, W total), §7.14
ChargingSchedulePeriod.numberPhases (3 where absent), §7.13 / ChargingProfileKindType
Relative, §5.7 GetCompositeSchedule (connectorId 0: "the expected consumption for the grid
connection"). OCPP 2.0.1 Part 2 K08 says the same for EVSEs. 230 V throughout; T0 is a
Wednesday midnight (UTC); connector 1 runs transaction 7 where a test says so.
"""

from __future__ import annotations

from datetime import timedelta

from hil.verify.charging_profiles import (
    LAB_READING,
    CompositePeriod,
    ProfileStore,
    Reading,
    compare_with_readings,
    composite,
    limit_at,
    open_readings,
    parse_composite,
)
from tests.verify.test_charging_profiles_composite import T0, _profile

H = 3600
TX = 7


def _periods(schedule) -> list[tuple[int, float | None, int | None]]:
    return [(p.start_period, p.limit, p.number_phases) for p in schedule.periods]


# -- 1. A is per phase; W merges through V x phases (§3.13.3, §7.12, §7.14) ---------------


def test_ocpp16_3_13_3_and_7_12_cap_in_a_and_tx_profile_in_w_merge_per_phase():
    # ChargePointMaxProfile 32 A (3 phases) and a TxProfile of 11000 W (3 phases):
    # 11000 / (230 x 3) = 15.94 A per phase < 32 A -> 15.9 A per phase on 3 phases; asked
    # in W the TxProfile's own 11000 W.
    store = ProfileStore(2)
    store.install(0, _profile(1, "ChargePointMaxProfile", [(0, 32, 3)]))
    store.install(1, _profile(2, "TxProfile", [(0, 11000, 3)], unit="W"), TX)
    assert _periods(composite(store, 1, T0, H, "A", T0)) == [(0, 15.9, 3)]
    assert _periods(composite(store, 1, T0, H, "W", T0)) == [(0, 11000.0, 3)]


def test_ocpp16_7_12_a_cap_on_one_phase_does_not_grant_the_w_profiles_power_per_phase():
    # ChargePointMaxProfile 32 A on ONE phase (7360 W), TxProfile 11000 W on 3 phases
    # (15.94 A per phase). As power the cap is lower (7360 < 11000) and a station would be
    # allowed 32 A per phase; per phase the TxProfile is lower: 15.9 A, on 1 phase (the
    # cap's), i.e. 15.942 x 230 x 1 = 3666.6 W.
    store = ProfileStore(2)
    store.install(0, _profile(1, "ChargePointMaxProfile", [(0, 32, 1)]))
    store.install(1, _profile(2, "TxProfile", [(0, 11000, 3)], unit="W"), TX)
    assert _periods(composite(store, 1, T0, H, "A", T0)) == [(0, 15.9, 1)]
    assert _periods(composite(store, 1, T0, H, "W", T0)) == [(0, 3666.6, 1)]
    now = limit_at(store, 1, T0, "A", T0)
    assert (now.limit, now.number_phases, now.profile_id) == (15.9, 1, 2)


def test_ocpp16_7_14_number_phases_is_the_smallest_of_the_merged_periods():
    # A 1-phase W period (TxDefault 7360 W on 1 phase = 32 A per phase) merged with a
    # 3-phase A period (ChargePointMax 10 A, numberPhases absent = 3): 10 A per phase is the
    # least current, and the result may use 1 phase only -> 10 A on 1 phase (2300 W).
    store = ProfileStore(2)
    store.install(0, _profile(1, "ChargePointMaxProfile", [(0, 10)]))
    store.install(1, _profile(2, "TxDefaultProfile", [(0, 7360, 1)], unit="W"))
    assert _periods(composite(store, 1, T0, H, "A")) == [(0, 10.0, 1)]
    assert _periods(composite(store, 1, T0, H, "W")) == [(0, 2300.0, 1)]


def test_ocpp16_5_7_composite_is_presented_in_the_requested_unit_per_phase():
    # GetCompositeSchedule.req chargingRateUnit: the same merged limit in either unit.
    # ChargePointMax 6900 W (3 phases: 10 A per phase), TxDefault 16 A on 2 phases:
    # 10 A per phase on 2 phases -> A: 10.0; W: 10 x 230 x 2 = 4600 W.
    store = ProfileStore(2)
    store.install(0, _profile(1, "ChargePointMaxProfile", [(0, 6900)], unit="W"))
    store.install(1, _profile(2, "TxDefaultProfile", [(0, 16, 2)]))
    assert _periods(composite(store, 1, T0, H, "A")) == [(0, 10.0, 2)]
    assert _periods(composite(store, 1, T0, H, "W")) == [(0, 4600.0, 2)]


# -- 2. connector 0 is the station's total (§5.7 connectorId 0, K08 evseId 0) -------------


def _two_connectors_at_16_a() -> ProfileStore:
    store = ProfileStore(2)
    store.install(0, _profile(1, "ChargePointMaxProfile", [(0, 40)]))
    store.install(1, _profile(2, "TxDefaultProfile", [(0, 16)]))
    store.install(2, _profile(3, "TxDefaultProfile", [(0, 16)]))
    return store


def test_ocpp16_5_7_connector_0_is_the_cap_and_the_sum_of_the_connectors():
    # Cap 40 A; connectors 1 and 2 at 16 A each: min(40, 16 + 16) = 32 A per phase.
    # In W on 3 phases: 32 x 230 x 3 = 22080 W. With the cap at 30 A: min(30, 32) = 30 A.
    store = _two_connectors_at_16_a()
    assert _periods(composite(store, 0, T0, H, "A")) == [(0, 32.0, 3)]
    assert _periods(composite(store, 0, T0, H, "W")) == [(0, 22080.0, 3)]
    store.install(0, _profile(1, "ChargePointMaxProfile", [(0, 30)]))
    assert _periods(composite(store, 0, T0, H, "A")) == [(0, 30.0, 3)]
    # a running transaction's TxProfile counts instead of its connector's default: 10 + 16
    store.install(1, _profile(4, "TxProfile", [(0, 10)]), TX)
    assert _periods(composite(store, 0, T0, H, "A", tx_starts={1: T0})) == [(0, 26.0, 3)]


def test_ocpp16_5_7_connector_0_idle_connector_without_profile_is_an_open_reading():
    # Cap 40 A, connector 1 at 16 A, connector 2 idle without any profile. The lab counts
    # connector 2 as unlimited (a session may start there): the cap, 40 A. A station that
    # leaves it out (it draws nothing) reports 16 A: accepted with a remark.
    store = ProfileStore(2)
    store.install(0, _profile(1, "ChargePointMaxProfile", [(0, 40)]))
    store.install(1, _profile(2, "TxDefaultProfile", [(0, 16)]))
    assert _periods(composite(store, 0, T0, H, "A")) == [(0, 40.0, 3)]
    uncounted = Reading(idle_unprofiled="uncounted")
    assert _periods(composite(store, 0, T0, H, "A", reading=uncounted)) == [(0, 16.0, 3)]
    # a connector with a transaction and no profile is unlimited in every reading
    running = composite(store, 0, T0, H, "A", tx_starts={2: T0}, reading=uncounted)
    assert _periods(running) == [(0, 40.0, 3)]


def test_k08_a_station_taking_an_open_reading_gets_a_remark_not_a_failure():
    # The station of the case above answers 16 A for connector 0: not the lab's 40 A, but a
    # reading the specification leaves open -> no problem, one remark naming the clause.
    store = ProfileStore(2)
    store.install(0, _profile(1, "ChargePointMaxProfile", [(0, 40)]))
    store.install(1, _profile(2, "TxDefaultProfile", [(0, 16)]))

    def predict(reading: Reading):
        return composite(store, 0, T0, 60, "A", reading=reading)

    answer = parse_composite(
        {
            "status": "Accepted",
            "scheduleStart": "2024-05-01T00:00:00Z",
            "chargingSchedule": {
                "duration": 60,
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0, "numberPhases": 3}],
            },
        }
    )
    problems, remarks = compare_with_readings(predict, answer, 0.1)
    assert problems == [] and len(remarks) == 1 and "idle connectors" in remarks[0]
    # 20 A is no reading at all: a failure against the lab's 40 A, and no remark
    twenty = parse_composite(
        {
            "status": "Accepted",
            "scheduleStart": "2024-05-01T00:00:00Z",
            "chargingSchedule": {
                "duration": 60,
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 20.0}],
            },
        }
    )
    problems, remarks = compare_with_readings(predict, twenty, 0.1)
    assert problems and remarks == []
    assert "40" in problems[0]


def test_ocpp16_3_13_2_connector_0_default_installed_later_is_an_open_reading():
    # Connector 1's TxDefault 20 A (stack 0), then connector 0's TxDefault 10 A (stack 0).
    # The lab lets the connector's own lead: 20 A. A station stacking them together lets
    # the later one win: 10 A, accepted with a remark. Installed the other way round, both
    # readings give 20 A (the connector's own is then the later one).
    later = ProfileStore(2)
    later.install(1, _profile(1, "TxDefaultProfile", [(0, 20)]))
    later.install(0, _profile(2, "TxDefaultProfile", [(0, 10)]))
    one_stack = Reading(defaults_one_stack=True)
    assert _periods(composite(later, 1, T0, H, "A")) == [(0, 20.0, 3)]
    assert _periods(composite(later, 1, T0, H, "A", reading=one_stack)) == [(0, 10.0, 3)]
    earlier = ProfileStore(2)
    earlier.install(0, _profile(2, "TxDefaultProfile", [(0, 10)]))
    earlier.install(1, _profile(1, "TxDefaultProfile", [(0, 20)]))
    assert _periods(composite(earlier, 1, T0, H, "A")) == [(0, 20.0, 3)]
    assert _periods(composite(earlier, 1, T0, H, "A", reading=one_stack)) == [(0, 20.0, 3)]


# -- 3. a Relative TxDefaultProfile on an idle connector (§7.13 Relative, K08) -------------


def test_ocpp16_7_13_relative_tx_default_on_an_idle_connector_counts_from_the_request():
    # Relative TxDefault: 0 s -> 10 A, 600 s -> 16 A, duration 1200 s; no transaction.
    # Asked at T0 + 100 s for 1800 s, it is reported as a session started then would be
    # limited: 10 A from +0, 16 A from +600, no limit from +1200 (not "no limit" at all).
    store = ProfileStore(2)
    store.install(
        1, _profile(1, "TxDefaultProfile", [(0, 10), (600, 16)], kind="Relative", duration=1200)
    )
    asked = T0 + timedelta(seconds=100)
    sched = composite(store, 1, asked, 1800, "A")
    assert sched.periods == (
        CompositePeriod(0, 10.0, 3),
        CompositePeriod(600, 16.0, 3),
        CompositePeriod(1200, None, None),
    )
    # The other reading ("silent": no limit) is the spec's open point, accepted with a remark
    silent = composite(store, 1, asked, 1800, "A", reading=Reading(relative_when_idle="silent"))
    assert not silent.has_limit
    # Connector 0 counts it the same way for connector 1 (connector 2: no profile, so the
    # lab reading's sum is unlimited and nothing limits the station)
    assert not composite(store, 0, asked, 1800, "A").has_limit


def test_open_readings_are_every_departure_from_the_lab_reading_once():
    readings = open_readings()
    assert len(readings) == 7 and LAB_READING not in [r for r, _ in readings]
    assert len({r for r, _ in readings}) == 7
    assert [len(remarks) for _, remarks in readings] == sorted(len(m) for _, m in readings)
