"""The adapters' smart charging (SC1-SC3): the lab's profile (1.6's csChargingProfiles) as
each version's SetChargingProfile, ClearChargingProfile and GetCompositeSchedule, every
request valid against the version's schema (the ``ocpp`` library's), the answers read, and
the copy of the station's profiles following the version's rules (OCPP 1.6 §5.16; OCPP
2.0.1 Part 2 K01, K08, K10)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from ocpp.messages import Call, CallResult, _validate_payload

from hil.protocol import adapter_for
from hil.verify.charging_profiles import parse_profile

V16, V201 = adapter_for("1.6"), adapter_for("2.0.1")


def lab_profile(pid=7, purpose="TxDefaultProfile", stack=0, kind="Absolute", **extra):
    """A profile as the lab's keyword builds it (1.6's csChargingProfiles)."""
    schedule = {
        "chargingRateUnit": "A",
        "chargingSchedulePeriod": [
            {"startPeriod": 0, "limit": 16.0},
            {"startPeriod": 60, "limit": 10.0, "numberPhases": 3},
        ],
        "duration": 120,
    }
    if kind != "Relative":
        schedule["startSchedule"] = "2026-01-01T00:00:00Z"
    body = {
        "chargingProfileId": pid,
        "stackLevel": stack,
        "chargingProfilePurpose": purpose,
        "chargingProfileKind": kind,
        "chargingSchedule": schedule,
        **extra,
    }
    return body


def valid(adapter, action, payload):
    _validate_payload(Call("1", action, payload), adapter.version)
    return payload


def test_set_charging_profile_on_16_is_the_labs_profile():
    action, payload = V16.set_profile_request(0, lab_profile(purpose="ChargePointMaxProfile"))
    valid(V16, action, payload)
    assert payload["connectorId"] == 0
    assert payload["csChargingProfiles"]["chargingProfilePurpose"] == "ChargePointMaxProfile"


def test_set_charging_profile_on_201_names_the_evse_id_purpose_schedule_and_transaction():
    """K01: evseId, chargingProfile.id, ChargingStationMaxProfile, chargingSchedule as a
    list of ChargingScheduleType with its own id, transactionId the station's string."""
    action, payload = V201.set_profile_request(0, lab_profile(purpose="ChargePointMaxProfile"))
    valid(V201, action, payload)
    profile = payload["chargingProfile"]
    assert (action, payload["evseId"], profile["id"]) == ("SetChargingProfile", 0, 7)
    assert profile["chargingProfilePurpose"] == "ChargingStationMaxProfile"
    assert "chargingProfileId" not in profile
    (schedule,) = profile["chargingSchedule"]
    assert schedule["id"] == 7 and schedule["chargingRateUnit"] == "A"
    assert schedule["startSchedule"] == "2026-01-01T00:00:00Z" and schedule["duration"] == 120
    assert schedule["chargingSchedulePeriod"][1] == {
        "startPeriod": 60,
        "limit": 10.0,
        "numberPhases": 3,
    }
    tx = lab_profile(8, "TxProfile", transactionId="0b6c-tx")
    _, payload = V201.set_profile_request(1, tx)
    assert valid(V201, "SetChargingProfile", payload)["chargingProfile"]["transactionId"] == (
        "0b6c-tx"
    )
    recurring = lab_profile(9, kind="Recurring", recurrencyKind="Daily")
    _, payload = V201.set_profile_request(1, recurring)
    assert valid(V201, "SetChargingProfile", payload)["chargingProfile"]["recurrencyKind"] == (
        "Daily"
    )


def test_clear_requests_by_id_by_criteria_and_all():
    """1.6 §5.7: one request, none of the fields for all. 2.0.1 K10: chargingProfileId, or
    chargingProfileCriteria; K10.FR.02 wants an id or a criterion, so all is one request per
    purpose the back office sets."""
    assert V16.clear_profile_requests() == [("ClearChargingProfile", {})]
    assert V16.clear_profile_requests(connector=1, purpose="TxDefaultProfile", stack_level=1) == [
        (
            "ClearChargingProfile",
            {"connectorId": 1, "chargingProfilePurpose": "TxDefaultProfile", "stackLevel": 1},
        )
    ]
    assert V201.clear_profile_requests(301) == [
        ("ClearChargingProfile", {"chargingProfileId": 301})
    ]
    (request,) = V201.clear_profile_requests(
        connector=0, purpose="ChargePointMaxProfile", stack_level=2
    )
    assert request[1] == {
        "chargingProfileCriteria": {
            "evseId": 0,
            "chargingProfilePurpose": "ChargingStationMaxProfile",
            "stackLevel": 2,
        }
    }
    everything = V201.clear_profile_requests()
    purposes = [p["chargingProfileCriteria"]["chargingProfilePurpose"] for _, p in everything]
    assert purposes == ["ChargingStationMaxProfile", "TxDefaultProfile", "TxProfile"]
    for adapter in (V16, V201):
        for action, payload in adapter.clear_profile_requests() + adapter.clear_profile_requests(
            3, 1, "TxProfile", 0
        ):
            valid(adapter, action, payload)


def test_composite_request_and_answer_of_each_version():
    """1.6 §5.13: connectorId, the schedule in chargingSchedule. 2.0.1 K08: evseId, the
    schedule in ``schedule`` (CompositeScheduleType) for the EVSE asked for."""
    action, payload = V16.composite_request(1, 24, "A")
    assert valid(V16, action, payload) == {
        "connectorId": 1,
        "duration": 24,
        "chargingRateUnit": "A",
    }
    action, payload = V201.composite_request(1, 24)
    assert valid(V201, action, payload) == {"duration": 24, "evseId": 1}
    periods = [
        {"startPeriod": 0, "limit": 10.0, "numberPhases": 3},
        {"startPeriod": 6, "limit": 16},
    ]
    answer201 = {
        "status": "Accepted",
        "schedule": {
            "evseId": 1,
            "duration": 24,
            "scheduleStart": "2026-01-01T00:00:00.500Z",
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": periods,
        },
    }
    _validate_payload(CallResult("1", answer201, action="GetCompositeSchedule"), "2.0.1")
    schedule = V201.composite_schedule(answer201, 1)
    assert schedule.start == datetime(2026, 1, 1, 0, 0, 0, 500_000, tzinfo=UTC)
    assert (schedule.unit, schedule.duration) == ("A", 24)
    assert [(p.start_period, p.limit) for p in schedule.periods] == [(0, 10.0), (6, 16.0)]
    with pytest.raises(ValueError, match=r"schedule\.evseId is 1: the composite of EVSE 2"):
        V201.composite_schedule(answer201, 2)
    with pytest.raises(ValueError, match="status: 'Rejected'"):
        V201.composite_schedule({"status": "Rejected"}, 1)
    with pytest.raises(ValueError, match="an Accepted answer has one"):
        V201.composite_schedule({"status": "Accepted"}, 1)
    answer16 = {
        "status": "Accepted",
        "connectorId": 1,
        "scheduleStart": "2026-01-01T00:00:00Z",
        "chargingSchedule": {"chargingRateUnit": "W", "chargingSchedulePeriod": periods},
    }
    _validate_payload(CallResult("1", answer16, action="GetCompositeSchedule"), "1.6")
    assert V16.composite_schedule(answer16, 1).unit == "W"


def test_names_of_purposes_and_limits():
    assert V16.purpose_name("ChargePointMaxProfile") == "ChargePointMaxProfile"
    assert V201.purpose_name("ChargePointMaxProfile") == "ChargingStationMaxProfile"
    assert V201.purpose_name("TxDefaultProfile") == "TxDefaultProfile"
    assert V16.profile_limit_settings["max_stack_level"] == "ChargeProfileMaxStackLevel"
    assert V201.profile_limit_settings == {
        "max_stack_level": "SmartChargingCtrlr.ProfileStackLevel",
        "max_periods": "SmartChargingCtrlr.PeriodsPerSchedule",
        "max_profiles": None,
    }
    assert all(V201.step_not_checked(s) is None for s in ("SC1", "SC2", "SC3"))
    assert V201.rule("set charging profile").endswith("K01 (SetChargingProfile)")


def test_same_purpose_and_stack_level_replaces_on_16_and_is_rejected_on_201():
    """1.6 §5.16: the same purpose and stack level on the same connector replaces. 2.0.1:
    only the same id replaces (K01.FR.05); another such profile valid at the same time is
    Rejected (K01.FR.06)."""
    first, second = parse_profile(lab_profile(1)), parse_profile(lab_profile(2))
    store16 = V16.profile_store(2)
    assert store16.install(1, first) == "Accepted" and store16.install(1, second) == "Accepted"
    assert [e.profile.charging_profile_id for e in store16] == [2]
    store201 = V201.profile_store(2, max_stack_level=3)
    assert store201.install(1, first) == "Accepted"
    refused = store201.install(1, second)
    assert refused == "Rejected" and "K01.FR.06" in refused.reason
    assert store201.install(2, second) == "Accepted"  # another EVSE
    assert store201.install(1, parse_profile(lab_profile(1, stack=1))) == "Accepted"  # same id
    assert sorted(e.profile.stack_level for e in store201) == [0, 1]
    copy = store201.copy()
    assert type(copy) is type(store201) and len(copy) == 2
    too_high = store201.install(1, parse_profile(lab_profile(4, stack=5)))
    assert "SmartChargingCtrlr.ProfileStackLevel" in too_high.reason  # 2.0.1's words


def test_a_201_tx_profile_names_its_transaction_by_the_stations_string():
    """K01.FR.03: a TxProfile has the transactionId; K01.FR.09: a transaction runs; K01.FR.33:
    it is that transaction; K01.FR.16: on an EVSE."""
    store = V201.profile_store(2)
    without = parse_profile(lab_profile(1, "TxProfile"))
    assert "K01.FR.03" in store.install(1, without, "tx-a").reason
    tx = parse_profile(lab_profile(2, "TxProfile", transactionId="tx-a"))
    assert "K01.FR.09" in store.install(1, tx, None).reason
    assert "K01.FR.33" in store.install(1, tx, "tx-b").reason
    assert "K01.FR.16" in store.install(0, tx, "tx-a").reason
    assert store.install(1, tx, "tx-a") == "Accepted"
    assert [e.transaction_id for e in store] == ["tx-a"]
    same_stack = parse_profile(lab_profile(3, "TxProfile", transactionId="tx-a"))
    assert "K01.FR.39" in store.install(1, same_stack, "tx-a").reason
    assert store.transaction_ended(1)[0].charging_profile_id == 2


def test_a_201_station_max_profile_is_not_relative_and_schedules_say_where_they_start():
    store = V201.profile_store(2)
    relative = parse_profile(lab_profile(1, "ChargePointMaxProfile", kind="Relative"))
    assert "K01.FR.38" in store.install(0, relative).reason
    assert V16.profile_store(2).install(0, relative) == "Accepted"
    no_start = lab_profile(2)
    del no_start["chargingSchedule"]["startSchedule"]
    assert "K01.FR.40" in store.install(1, parse_profile(no_start)).reason
    with_start = lab_profile(3, kind="Relative")
    with_start["chargingSchedule"]["startSchedule"] = "2026-01-01T00:00:00Z"
    assert "K01.FR.41" in store.install(1, parse_profile(with_start)).reason
