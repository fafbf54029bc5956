"""The 2.0.1 virtual station's smart charging (OCPP 2.0.1 Part 2 K01, K08, K10), driven by
the small 2.0.1 back office of ``test_station_v201`` (the ``ocpp`` library's
``v201.ChargePoint``, which validates every frame against the 2.0.1 schemas).

The profiles reach the one station model: the limit is read where the EV sees it, at the
pilot (the bench physics). Expectations come from OCPP 2.0.1 Part 2, not from the suites.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ocpp.v201 import call

from tests.sim.test_station_v201 import Rig, run

MAX_A = 32.0  # dut.max_current_a of lab_configs/virtual.yaml


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def profile(
    pid: int,
    limit: float,
    *,
    purpose: str = "TxDefaultProfile",
    stack: int = 0,
    kind: str = "Absolute",
    **extra: Any,
) -> dict[str, Any]:
    """A 2.0.1 ChargingProfileType (snake_case, as the library's request dataclass takes it)."""
    schedule: dict[str, Any] = {
        "id": pid,
        "charging_rate_unit": "A",
        "charging_schedule_period": [{"start_period": 0, "limit": limit}],
    }
    if kind != "Relative":
        schedule["start_schedule"] = now()
    body = {
        "id": pid,
        "stack_level": stack,
        "charging_profile_purpose": purpose,
        "charging_profile_kind": kind,
        "charging_schedule": [schedule],
    }
    return body | extra


async def set_profile(rig: Rig, evse: int, body: dict[str, Any]) -> dict[str, Any]:
    return await rig.call(call.SetChargingProfile(evse_id=evse, charging_profile=body))


async def start_session(rig: Rig) -> str:
    """An EV plugged, a valid tag, charging: the transaction's id (the station's)."""
    rig.station.physics.set_ev_state("B")
    rig.station.charging.present_tag(rig.cfg.tags.valid[0])
    await rig.wait_for(lambda: rig.of("TransactionEvent"))
    rig.station.physics.set_ev_state("C")
    await rig.wait_for(lambda: rig.station.physics.offered_current_a() > 0)
    return rig.of("TransactionEvent")[0]["transactionInfo"]["transactionId"]


async def pilot(rig: Rig, amps: float) -> None:
    await rig.wait_for(lambda: abs(rig.station.physics.offered_current_a() - amps) < 0.5, 2.0)


def test_profiles_limit_the_pilot_and_the_composite_and_clearing_releases_it():
    """K01: a TxDefaultProfile on the EVSE limits a running transaction at once; a
    ChargingStationMaxProfile (evseId 0) caps it. K08: the composite of the EVSE is the
    minimum, as CompositeScheduleType of that EVSE. K10: cleared by criteria or by id, the
    limit goes; nothing left to clear: Unknown."""

    async def body() -> None:
        async with Rig([], heartbeat_interval=3600) as rig:
            await start_session(rig)
            await pilot(rig, MAX_A)
            answer = await set_profile(rig, 1, profile(11, 16))
            assert answer == {"status": "Accepted"}
            await pilot(rig, 16)
            answer = await set_profile(rig, 0, profile(12, 10, purpose="ChargingStationMaxProfile"))
            assert answer == {"status": "Accepted"}
            await pilot(rig, 10)
            composite = await rig.call(call.GetCompositeSchedule(duration=60, evse_id=1))
            schedule = composite["schedule"]
            assert composite["status"] == "Accepted"
            assert (schedule["evseId"], schedule["duration"]) == (1, 60)
            assert schedule["chargingRateUnit"] == "A" and schedule["scheduleStart"]
            assert [float(p["limit"]) for p in schedule["chargingSchedulePeriod"]] == [10.0]
            entries = await rig.get("SmartChargingCtrlr", "Entries")
            assert entries["attributeStatus"] == "UnknownVariable"  # it has an instance
            count = await rig.call(
                call.GetVariables(
                    get_variable_data=[
                        {
                            "component": {"name": "SmartChargingCtrlr"},
                            "variable": {"name": "Entries", "instance": "ChargingProfiles"},
                        }
                    ]
                )
            )
            assert count["getVariableResult"][0]["attributeValue"] == "2"
            criteria = {"charging_profile_purpose": "ChargingStationMaxProfile"}
            cleared = await rig.call(call.ClearChargingProfile(charging_profile_criteria=criteria))
            assert cleared == {"status": "Accepted"}
            await pilot(rig, 16)
            cleared = await rig.call(call.ClearChargingProfile(charging_profile_id=11))
            assert cleared == {"status": "Accepted"}
            await pilot(rig, MAX_A)
            cleared = await rig.call(call.ClearChargingProfile(charging_profile_id=11))
            assert cleared == {"status": "Unknown"}

    run(body())


def test_k01_refusals_say_why():
    """Rejected with statusInfo: a TxProfile without its transactionId (K01.FR.03) or for
    another transaction (K01.FR.33), a ChargingStationMaxProfile on an EVSE, a second
    profile with the same purpose and stack level on the EVSE (K01.FR.06), phaseToUse on a
    station that cannot switch phases (K01.FR.20), ChargingStationExternalConstraints from
    the back office, more than one schedule. A TxProfile naming the running transaction is
    Accepted, and a profile with an installed id replaces it (K01.FR.05)."""

    async def body() -> None:
        async with Rig([], heartbeat_interval=3600) as rig:
            tx = await start_session(rig)

            async def refused(evse: int, body: dict[str, Any], why: str) -> None:
                answer = await set_profile(rig, evse, body)
                assert answer["status"] == "Rejected", answer
                assert why in answer["statusInfo"]["additionalInfo"], answer
                assert answer["statusInfo"]["reasonCode"] == "InvalidProfile"

            await refused(1, profile(1, 10, purpose="TxProfile"), "K01.FR.03")
            await refused(1, profile(1, 10, purpose="TxProfile", transaction_id="x"), "K01.FR.33")
            await refused(1, profile(2, 10, purpose="ChargingStationMaxProfile"), "EVSE 0 only")
            await refused(0, profile(3, 10, purpose="ChargingStationExternalConstraints"), "local")
            phase = profile(4, 10)
            phase["charging_schedule"][0]["charging_schedule_period"][0]["phase_to_use"] = 1
            await refused(1, phase, "K01.FR.20")
            two = profile(5, 10)
            two["charging_schedule"].append(dict(two["charging_schedule"][0], id=6))
            await refused(1, two, "2 chargingSchedules")
            assert rig.station.nv.charging_profiles.profiles() == []

            answer = await set_profile(
                rig, 1, profile(7, 12, purpose="TxProfile", transaction_id=tx)
            )
            assert answer == {"status": "Accepted"}
            await pilot(rig, 12)
            await refused(1, profile(8, 8, purpose="TxProfile", transaction_id=tx), "K01.FR.39")
            assert (await set_profile(rig, 1, profile(9, 20)))["status"] == "Accepted"
            await refused(1, profile(10, 8), "K01.FR.06")
            answer = await set_profile(rig, 1, profile(9, 20, stack=1))  # replaces id 9
            assert answer == {"status": "Accepted"}
            installed = rig.station.nv.charging_profiles.profiles()
            assert sorted(e.profile.charging_profile_id for e in installed) == [7, 9]
            assert (
                next(e for e in installed if e.profile.charging_profile_id == 7).transaction_id
                == tx
            )

    run(body())


def test_smart_charging_ctrlr_variables_are_the_stations_limits():
    """The SmartChargingCtrlr variables (2.0.1 appendix) say the station model's 1.6 Smart
    Charging keys: ProfileStackLevel, PeriodsPerSchedule, RateUnit (A,W), Entries with its
    maxLimit in a report; all read-only."""

    async def body() -> None:
        async with Rig([], heartbeat_interval=3600) as rig:
            config = rig.station.nv.config
            level = await rig.get("SmartChargingCtrlr", "ProfileStackLevel")
            assert level["attributeValue"] == config.get("ChargeProfileMaxStackLevel")
            periods = await rig.get("SmartChargingCtrlr", "PeriodsPerSchedule")
            assert periods["attributeValue"] == config.get("ChargingScheduleMaxPeriods")
            assert (await rig.get("SmartChargingCtrlr", "RateUnit"))["attributeValue"] == "A,W"
            assert (await rig.get("SmartChargingCtrlr", "Available"))["attributeValue"] == "true"
            written = await rig.set("SmartChargingCtrlr", "ProfileStackLevel", "3")
            assert written["attributeStatus"] == "Rejected"
            significance = await rig.set("SmartChargingCtrlr", "LimitChangeSignificance", "0.5")
            assert significance["attributeStatus"] == "Accepted"
            report = await rig.base_report("FullInventory")
            data = [d for part in report for d in part["reportData"]]
            entries = next(
                d
                for d in data
                if d["component"]["name"] == "SmartChargingCtrlr"
                and d["variable"] == {"name": "Entries", "instance": "ChargingProfiles"}
            )
            maximum = float(entries["variableCharacteristics"]["maxLimit"])
            assert maximum == config.get_int("MaxChargingProfilesInstalled")

    run(body())


def test_composite_of_an_unknown_evse_is_rejected_and_the_wrong_evse_deviation():
    async def body() -> None:
        async with Rig(["composite_wrong_evse"], heartbeat_interval=3600) as rig:
            rejected = await rig.call(call.GetCompositeSchedule(duration=60, evse_id=3))
            assert rejected["status"] == "Rejected"
            assert rejected["statusInfo"]["reasonCode"] == "UnknownEvse"
            answer = await rig.call(call.GetCompositeSchedule(duration=60, evse_id=2))
            assert answer["schedule"]["evseId"] == 0  # the defect
            # nothing installed: the station's maximum, in the unit asked for
            answer = await rig.call(
                call.GetCompositeSchedule(duration=60, evse_id=1, charging_rate_unit="W")
            )
            (period,) = answer["schedule"]["chargingSchedulePeriod"]
            assert float(period["limit"]) == MAX_A * 3 * 230

    run(body())


def test_clear_without_id_or_criteria_clears_everything():
    """K10.FR.02 asks the back office for an id or a criterion; a station given neither
    clears every profile (as 1.6 does)."""

    async def body() -> None:
        async with Rig([], heartbeat_interval=3600) as rig:
            assert (await set_profile(rig, 1, profile(1, 10)))["status"] == "Accepted"
            assert (await set_profile(rig, 2, profile(2, 10)))["status"] == "Accepted"
            assert await rig.call(call.ClearChargingProfile()) == {"status": "Accepted"}
            assert rig.station.nv.charging_profiles.profiles() == []

    run(body())
