"""Charging profiles from and to OCPP 1.6 JSON; amperes and watts."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest

from hil.verify.charging_profiles import (
    ChargingProfile,
    ChargingSchedule,
    Kind,
    Purpose,
    Recurrency,
    SchedulePeriod,
    amps_to_watts,
    convert,
    parse_profile,
    parse_set_charging_profile,
    round_limit,
    watts_to_amps,
)

SPEC_DAILY: dict[str, Any] = {
    "chargingProfileId": 100,
    "stackLevel": 0,
    "chargingProfilePurpose": "TxDefaultProfile",
    "chargingProfileKind": "Recurring",
    "recurrencyKind": "Daily",
    "chargingSchedule": {
        "duration": 86400,
        "startSchedule": "2013-01-01T00:00Z",
        "chargingRateUnit": "W",
        "chargingSchedulePeriod": [
            {"startPeriod": 0, "limit": 11000.0, "numberPhases": 3},
            {"startPeriod": 28800, "limit": 6000.0, "numberPhases": 3},
            {"startPeriod": 72000, "limit": 11000.0, "numberPhases": 3},
        ],
    },
}


def test_parse_the_specification_daily_example():
    p = parse_profile(SPEC_DAILY)
    assert p.charging_profile_id == 100 and p.stack_level == 0
    assert p.purpose is Purpose.TX_DEFAULT and p.kind is Kind.RECURRING
    assert p.recurrency_kind is Recurrency.DAILY
    s = p.schedule
    assert s.charging_rate_unit == "W" and s.duration == 86400
    assert s.start_schedule == datetime(2013, 1, 1, tzinfo=UTC)
    assert s.periods[1] == SchedulePeriod(28800, 6000.0, 3)


def test_to_json_round_trip_keeps_absent_fields_absent():
    p = parse_profile(SPEC_DAILY)
    out = p.to_json()
    assert out["chargingSchedule"]["startSchedule"] == "2013-01-01T00:00:00Z"
    assert "validFrom" not in out and "transactionId" not in out
    assert parse_profile(out) == p
    minimal = {
        "chargingProfileId": 1,
        "stackLevel": 2,
        "chargingProfilePurpose": "TxProfile",
        "chargingProfileKind": "Relative",
        "chargingSchedule": {
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16}],
        },
    }
    assert parse_profile(minimal).to_json() == minimal | {
        "chargingSchedule": {
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0}],
        }
    }
    assert parse_profile(minimal).schedule.periods[0].number_phases is None


def test_times_are_utc_and_an_offset_is_converted():
    data = copy.deepcopy(SPEC_DAILY)
    data["validFrom"] = "2024-05-01T02:00:00+02:00"
    data["validTo"] = "2024-06-01T00:00:00"  # no offset: read as UTC
    p = parse_profile(data)
    assert p.valid_from == datetime(2024, 5, 1, tzinfo=UTC)
    assert p.valid_to == datetime(2024, 6, 1, tzinfo=UTC)


def _broken(path: str, value: Any) -> dict[str, Any]:
    data = copy.deepcopy(SPEC_DAILY)
    node: Any = data
    *parents, last = path.split(".")
    for key in parents:
        node = node[int(key)] if key.isdigit() else node[key]
    if value is KeyError:
        del node[last]
    elif last.isdigit():
        node[int(last)] = value
    else:
        node[last] = value
    return data


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("chargingProfileId", KeyError, "chargingProfileId: required"),
        ("chargingProfileId", "100", "chargingProfileId: expected an integer"),
        ("stackLevel", -1, "stackLevel: expected an integer >= 0"),
        ("chargingProfilePurpose", "TxMax", "chargingProfilePurpose: expected one of"),
        ("chargingProfileKind", "Daily", "chargingProfileKind: expected one of"),
        ("recurrencyKind", KeyError, "recurrencyKind: required for a Recurring"),
        ("recurrencyKind", "Monthly", "recurrencyKind: expected one of"),
        ("validFrom", "yesterday", "validFrom: not an ISO 8601"),
        ("chargingSchedule", KeyError, "chargingSchedule: required"),
        ("chargingSchedule.chargingRateUnit", "kW", "chargingSchedule.chargingRateUnit"),
        ("chargingSchedule.duration", 0, "chargingSchedule.duration: expected seconds >= 1"),
        ("chargingSchedule.startSchedule", 5, "chargingSchedule.startSchedule: expected"),
        ("chargingSchedule.chargingSchedulePeriod", [], "needs at least one period"),
        (
            "chargingSchedule.chargingSchedulePeriod.0.startPeriod",
            5,
            "chargingSchedulePeriod[0].startPeriod: the first period must start at 0",
        ),
        (
            "chargingSchedule.chargingSchedulePeriod.2.startPeriod",
            28800,
            "chargingSchedulePeriod[2].startPeriod: must be after",
        ),
        (
            "chargingSchedule.chargingSchedulePeriod.1.limit",
            -1,
            "chargingSchedulePeriod[1].limit: must not be negative",
        ),
        (
            "chargingSchedule.chargingSchedulePeriod.1.limit",
            16.05,
            "chargingSchedulePeriod[1].limit: at most one decimal",
        ),
        (
            "chargingSchedule.chargingSchedulePeriod.1.limit",
            KeyError,
            "chargingSchedulePeriod[1].limit: required",
        ),
        (
            "chargingSchedule.chargingSchedulePeriod.1.numberPhases",
            4,
            "chargingSchedulePeriod[1].numberPhases: expected 1, 2 or 3",
        ),
        ("chargingSchedule.chargingSchedulePeriod.1", "x", "chargingSchedulePeriod[1]: expected"),
        ("chargingSchedule.minChargingRate", -2, "chargingSchedule.minChargingRate"),
        ("chargingSchedule.limit", 5, "chargingSchedule.limit: unknown field"),
        ("chargingProfileID", 5, "chargingProfileID: unknown field"),
    ],
)
def test_malformed_profiles_name_the_field(path: str, value: Any, message: str):
    with pytest.raises(ValueError) as info:
        parse_profile(_broken(path, value))
    assert message in str(info.value)


def test_valid_to_must_follow_valid_from():
    data = SPEC_DAILY | {"validFrom": "2024-05-02T00:00:00Z", "validTo": "2024-05-01T00:00:00Z"}
    with pytest.raises(ValueError, match="validTo: must be after validFrom"):
        parse_profile(data)


def test_not_an_object():
    with pytest.raises(ValueError, match="csChargingProfiles: expected a JSON object"):
        parse_profile([1, 2])


def test_set_charging_profile_payload():
    connector, profile = parse_set_charging_profile(
        {"connectorId": 0, "csChargingProfiles": SPEC_DAILY}
    )
    assert connector == 0 and profile.charging_profile_id == 100
    with pytest.raises(ValueError, match="csChargingProfiles.stackLevel"):
        parse_set_charging_profile(
            {"connectorId": 0, "csChargingProfiles": SPEC_DAILY | {"stackLevel": "x"}}
        )
    with pytest.raises(ValueError, match="connectorId"):
        parse_set_charging_profile({"connectorId": -1, "csChargingProfiles": SPEC_DAILY})


def test_profiles_built_in_code_are_checked_too():
    schedule = ChargingSchedule("A", (SchedulePeriod(0, 16.0),))
    with pytest.raises(ValueError, match="timezone-aware"):
        ChargingProfile(1, 0, Purpose.TX, Kind.ABSOLUTE, schedule, valid_from=datetime(2024, 1, 1))
    with pytest.raises(ValueError, match="startPeriod"):
        SchedulePeriod(-5, 1.0)
    profile = ChargingProfile(1, 0, "TxProfile", "Relative", schedule)  # type: ignore[arg-type]
    assert profile.purpose is Purpose.TX and profile.unit == "A"


# -- units -----------------------------------------------------------------------------------


def test_amperes_per_phase_and_watts_total():
    # 16 A on each of 3 phases at 230 V: 16 x 3 x 230 = 11040 W.
    assert amps_to_watts(16) == 11040.0
    # 32 A on one phase: 32 x 230 = 7360 W.
    assert amps_to_watts(32, phases=1) == 7360.0
    # 11000 W over 3 phases: 11000 / 690 = 15.942 A, rounded down to 15.9 A.
    assert watts_to_amps(11000) == 15.9
    # 7383 W / 690 = 10.7 exactly, despite binary floating point (10.699999...).
    assert watts_to_amps(7383) == 10.7
    # 3680 W on one phase at 230 V: 16 A.
    assert watts_to_amps(3680, 1, 230) == 16.0
    assert amps_to_watts(10, 3, 240) == 7200.0


def test_rounding_is_down_to_one_decimal():
    assert round_limit(15.94) == 15.9 and round_limit(15.99) == 15.9
    assert round_limit(16.0) == 16.0 and round_limit(0.1 + 0.2) == 0.3
    assert convert(16.04, "A", "A", 3, 230) == 16.0
    assert convert(16, "A", "W", 3, 230) == 11040.0


def test_unit_arguments_are_checked():
    with pytest.raises(ValueError, match="phases"):
        amps_to_watts(16, phases=0)
    with pytest.raises(ValueError, match="voltage"):
        watts_to_amps(1000, 3, 0)
    with pytest.raises(ValueError, match="'A' or 'W'"):
        convert(1, "A", "kW", 3, 230)
