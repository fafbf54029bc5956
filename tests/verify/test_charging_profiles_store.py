"""Installed profiles: SetChargingProfile acceptance, replacement, ClearChargingProfile."""

from __future__ import annotations

from typing import Any

import pytest

from hil.verify.charging_profiles import ProfileStore, Purpose, Verdict, parse_profile


def _profile(pid: int, purpose: str, stack: int = 0, periods: int = 1, **extra: Any):
    return parse_profile(
        {
            "chargingProfileId": pid,
            "stackLevel": stack,
            "chargingProfilePurpose": purpose,
            "chargingProfileKind": "Relative",
            "chargingSchedule": {
                "chargingRateUnit": extra.pop("unit", "A"),
                "chargingSchedulePeriod": [
                    {"startPeriod": 60 * i, "limit": 16.0} for i in range(periods)
                ],
            },
        }
        | extra
    )


def _ids(store: ProfileStore) -> list[int]:
    return sorted(e.profile.charging_profile_id for e in store)


def test_verdict_is_the_status_string_with_a_reason():
    verdict = ProfileStore(2).install(1, _profile(1, "ChargePointMaxProfile"))
    assert verdict == "Rejected" and isinstance(verdict, str)
    assert "connector 0 only" in verdict.reason
    assert isinstance(Verdict("Accepted"), str) and Verdict("Accepted").reason == ""


def test_charge_point_max_profile_only_on_connector_0():
    store = ProfileStore(2)
    assert store.install(1, _profile(1, "ChargePointMaxProfile")) == "Rejected"
    assert store.install(0, _profile(1, "ChargePointMaxProfile")) == "Accepted"
    assert _ids(store) == [1]


def test_tx_profile_without_a_transaction_is_rejected():
    store = ProfileStore(2)
    verdict = store.install(1, _profile(1, "TxProfile"))
    assert verdict == "Rejected" and "no transaction" in verdict.reason
    assert store.install(0, _profile(1, "TxProfile"), transaction_id_running=7) == "Rejected"
    assert len(store) == 0


def test_tx_profile_with_the_running_transaction_is_accepted_and_bound_to_it():
    store = ProfileStore(2)
    assert store.install(1, _profile(1, "TxProfile"), transaction_id_running=7) == "Accepted"
    assert store.install(1, _profile(2, "TxProfile", 1, transactionId=7), 7) == "Accepted"
    wrong = store.install(1, _profile(3, "TxProfile", 2, transactionId=8), 7)
    assert wrong == "Rejected" and "not the transaction running" in wrong.reason
    assert [e.transaction_id for e in store] == [7, 7]


def test_transaction_id_is_only_for_tx_profiles():
    store = ProfileStore(2)
    verdict = store.install(1, _profile(1, "TxDefaultProfile", transactionId=7), 7)
    assert verdict == "Rejected" and "only valid for a TxProfile" in verdict.reason


def test_tx_default_on_connector_0_or_one_connector():
    store = ProfileStore(2)
    assert store.install(0, _profile(1, "TxDefaultProfile")) == "Accepted"
    assert store.install(2, _profile(2, "TxDefaultProfile")) == "Accepted"
    assert store.install(3, _profile(3, "TxDefaultProfile")) == "Rejected"  # 2 connectors
    assert _ids(store) == [1, 2]


def test_same_purpose_and_stack_level_on_the_same_connector_replaces():
    store = ProfileStore(2)
    store.install(1, _profile(1, "TxDefaultProfile", stack=3))
    verdict = store.install(1, _profile(2, "TxDefaultProfile", stack=3))
    assert verdict == "Accepted" and "replaces profile(s) 1" in verdict.reason
    assert _ids(store) == [2]
    # Same purpose and stack level on another connector: both stay.
    store.install(0, _profile(3, "TxDefaultProfile", stack=3))
    # Another stack level or another purpose on the same connector: both stay.
    store.install(1, _profile(4, "TxDefaultProfile", stack=4))
    store.install(1, _profile(5, "TxProfile", stack=3), transaction_id_running=7)
    assert _ids(store) == [2, 3, 4, 5]


def test_same_id_replaces_whatever_else_changed():
    store = ProfileStore(2)
    store.install(1, _profile(1, "TxDefaultProfile", stack=1))
    store.install(0, _profile(1, "ChargePointMaxProfile", stack=5))
    [entry] = list(store)
    assert (entry.connector_id, entry.profile.purpose) == (0, Purpose.CHARGE_POINT_MAX)


def test_station_limits_reject():
    store = ProfileStore(2, max_stack_level=3, max_periods=2, max_profiles=2, units=("A",))
    assert store.install(1, _profile(1, "TxDefaultProfile", stack=4)) == "Rejected"
    assert store.install(1, _profile(1, "TxDefaultProfile", periods=3)) == "Rejected"
    assert store.install(1, _profile(1, "TxDefaultProfile", unit="W")) == "Rejected"
    assert store.install(1, _profile(1, "TxDefaultProfile", stack=3, periods=2)) == "Accepted"
    assert store.install(2, _profile(2, "TxDefaultProfile")) == "Accepted"
    full = store.install(0, _profile(3, "TxDefaultProfile"))
    assert full == "Rejected" and "MaxChargingProfilesInstalled" in full.reason
    # A replacement does not add to the count.
    assert store.install(2, _profile(2, "TxDefaultProfile", stack=1)) == "Accepted"
    assert _ids(store) == [1, 2]


def test_clear_by_id_and_unknown():
    store = ProfileStore(2)
    store.install(1, _profile(1, "TxDefaultProfile"))
    assert store.clear(id=99) == "Unknown"
    assert store.clear(id=1) == "Accepted"
    assert store.clear(id=1) == "Unknown"
    assert len(store) == 0


def test_clear_by_id_ignores_the_other_fields():
    # §5.5: "either a specific charging profile (denoted by id) or a selection ..."
    store = ProfileStore(2)
    store.install(1, _profile(1, "TxDefaultProfile"))
    assert store.clear(id=1, connector_id=2, purpose="ChargePointMaxProfile") == "Accepted"
    assert len(store) == 0


def _four() -> ProfileStore:
    store = ProfileStore(2)
    store.install(1, _profile(1, "TxDefaultProfile", stack=0))
    store.install(1, _profile(2, "TxDefaultProfile", stack=1))
    store.install(2, _profile(3, "TxDefaultProfile", stack=1))
    store.install(0, _profile(4, "ChargePointMaxProfile", stack=1))
    return store


def test_clear_by_filters_combines_them_with_and():
    store = _four()
    # connector 1 AND stack level 1: only profile 2 (not 1: stack 0; not 3: connector 2).
    assert store.clear(connector_id=1, stack_level=1) == "Accepted"
    assert _ids(store) == [1, 3, 4]
    # stack level 1 AND TxDefaultProfile: profile 3 (4 is a ChargePointMaxProfile).
    assert store.clear(purpose="TxDefaultProfile", stack_level=1) == "Accepted"
    assert _ids(store) == [1, 4]
    # connector 0 means the profiles installed on connector 0, not all of them.
    assert store.clear(connector_id=0) == "Accepted"
    assert _ids(store) == [1]
    verdict = store.clear(purpose=Purpose.TX)
    assert verdict == "Unknown" and "TxProfile" in verdict.reason
    assert store.clear(connector_id=2, stack_level=0) == "Unknown"  # 1 is on connector 1


def test_clear_without_arguments_clears_all_then_unknown():
    store = _four()
    assert store.clear() == "Accepted"
    assert len(store) == 0
    assert store.clear() == "Unknown"


def test_transaction_end_drops_only_that_connectors_tx_profiles():
    store = ProfileStore(2)
    store.install(1, _profile(1, "TxProfile"), transaction_id_running=7)
    store.install(2, _profile(2, "TxProfile"), transaction_id_running=8)
    store.install(1, _profile(3, "TxDefaultProfile"))
    assert [p.charging_profile_id for p in store.transaction_ended(1)] == [1]
    assert _ids(store) == [2, 3]
    assert store.transaction_ended(1) == []


def test_copy_is_independent():
    store = _four()
    other = store.copy()
    other.clear()
    assert len(store) == 4 and len(other) == 0


def test_a_bad_purpose_filter_is_an_error():
    with pytest.raises(ValueError):
        ProfileStore(2).clear(purpose="Everything")
