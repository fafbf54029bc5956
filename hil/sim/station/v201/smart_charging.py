"""The 2.0.1 station's smart charging (OCPP 2.0.1 Part 2 K01, K08, K10) over the one model.

The station model's :class:`~hil.sim.station.smart_charging.SmartCharging` keeps the
installed profiles in flash, puts the limit in force on the pilot and in the readings, and
computes the composite schedule; this front-end translates 2.0.1's messages to it and back,
so a 2.0.1 station's output behaves exactly as a 1.6 station's. The profile store is a
:class:`~hil.verify.charging_profiles.v201.ProfileStore201`: the same rules, with K01's
differences (a profile with the same id replaces; another with the same purpose and stack
level on the same EVSE is Rejected, K01.FR.06; a TxProfile names its transaction).

- K01 SetChargingProfile: ``evseId`` is the model's connector (0: the station);
  ``chargingProfile.id`` its chargingProfileId; ChargingStationMaxProfile its
  ChargePointMaxProfile; ``transactionId`` the station's own transaction id (a string). This
  station holds one ``chargingSchedule`` per profile (more, which only ISO 15118 uses, are
  Rejected), cannot switch phases (``phaseToUse``: Rejected, K01.FR.20) and takes no
  ChargingStationExternalConstraints from the back office (a local system sets those).
  A Rejected answer says why in ``statusInfo``.
- K10 ClearChargingProfile: ``chargingProfileId``, or ``chargingProfileCriteria`` (evseId,
  purpose, stackLevel together): Accepted when something was cleared, else Unknown. A
  request with neither (K10.FR.02 says the back office names one) clears every profile.
- K08 GetCompositeSchedule: the model's composite of ``evseId`` from now over ``duration``
  as CompositeScheduleType (evseId, duration, scheduleStart, chargingRateUnit, periods);
  an EVSE the station does not have: Rejected.
- A station without smart charging (``dut.capabilities.smart_charging`` false) answers these
  requests with CALLERROR NotImplemented.

The model's deviations (``hil/sim/station/smart_charging.py``) act on a 2.0.1 station too;
``composite_wrong_evse`` (2.0.1 only) labels the composite with another evseId.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from ocpp.charge_point import camel_to_snake_case, snake_to_camel_case
from ocpp.routing import after, on
from ocpp.v201 import call_result
from ocpp.v201.enums import Action

from hil.sim.station.extensions import supported_extension
from hil.sim.station.smart_charging import SmartCharging
from hil.verify.charging_profiles.v201 import PURPOSES_16

if TYPE_CHECKING:
    from hil.sim.station.v201.station import VirtualStation201

LOG = logging.getLogger("hil.sim.station")

#: reasonCode (statusInfo, at most 20 characters) of a refused request
REFUSED = "InvalidProfile"
UNKNOWN_EVSE = "UnknownEvse"


#: the ChargingSchedulePeriodType fields 1.6 has too
_PERIOD_FIELDS = ("startPeriod", "limit", "numberPhases")


class Unsupported(ValueError):
    """A 2.0.1 profile this station cannot take, whatever else is installed."""


def profile_16(evse_id: int, profile: dict[str, Any]) -> dict[str, Any]:
    """A 2.0.1 SetChargingProfileRequest (``evseId``, ``chargingProfile``, camelCase) as the
    station model's SetChargingProfile.req; :class:`Unsupported` says what it cannot take."""
    purpose = profile.get("chargingProfilePurpose")
    if purpose not in PURPOSES_16:
        raise Unsupported(
            f"chargingProfilePurpose {purpose}: set by a local system, not the back office"
        )
    schedules = profile.get("chargingSchedule") or []
    if len(schedules) != 1:
        raise Unsupported(
            f"{len(schedules)} chargingSchedules: this station takes one (more are for ISO 15118)"
        )
    schedule = dict(schedules[0])
    periods = []
    for i, period in enumerate(schedule.pop("chargingSchedulePeriod", None) or []):
        if period.get("phaseToUse") is not None:
            raise Unsupported(
                f"chargingSchedulePeriod[{i}].phaseToUse: the station cannot switch phases "
                "(ACPhaseSwitchingSupported false, K01.FR.20)"
            )
        periods.append({k: period[k] for k in _PERIOD_FIELDS if k in period})
    cs_schedule = {
        k: schedule[k]
        for k in ("duration", "startSchedule", "chargingRateUnit", "minChargingRate")
        if k in schedule
    }
    cs_schedule["chargingSchedulePeriod"] = periods
    cs: dict[str, Any] = {
        "chargingProfileId": profile.get("id"),
        "stackLevel": profile.get("stackLevel"),
        "chargingProfilePurpose": PURPOSES_16[purpose],
        "chargingProfileKind": profile.get("chargingProfileKind"),
        "chargingSchedule": cs_schedule,
    }
    for key in ("transactionId", "recurrencyKind", "validFrom", "validTo"):
        if profile.get(key) is not None:
            cs[key] = profile[key]
    return {"connectorId": evse_id, "csChargingProfiles": cs}


def composite_201(conf: dict[str, Any], evse_id: int, evses: int) -> dict[str, Any]:
    """The model's GetCompositeSchedule.conf as a 2.0.1 GetCompositeScheduleResponse
    (``evses``: how many EVSEs the station has)."""
    if conf.get("status") != "Accepted":
        known = 0 <= evse_id <= evses
        return {
            "status": "Rejected",
            "statusInfo": {
                "reasonCode": "InvalidValue" if known else UNKNOWN_EVSE,
                "additionalInfo": "duration below 1 s" if known else f"no EVSE {evse_id}",
            },
        }
    schedule = conf["chargingSchedule"]
    return {
        "status": "Accepted",
        "schedule": {
            "evseId": evse_id,
            "duration": schedule["duration"],
            "scheduleStart": conf["scheduleStart"],
            "chargingRateUnit": schedule["chargingRateUnit"],
            "chargingSchedulePeriod": schedule["chargingSchedulePeriod"],
        },
    }


def _status_info(code: str, why: str) -> dict[str, Any]:
    """StatusInfoType (snake_case, for the library's answer dataclasses)."""
    return {"reason_code": code, "additional_info": why[:512]}


class SmartChargingHandlers201:
    """StationLink201 mixin: K01 SetChargingProfile, K10 ClearChargingProfile, K08
    GetCompositeSchedule, translated to the station model's smart charging."""

    station: VirtualStation201

    def _smart_201(self) -> SmartCharging:
        return supported_extension(self.station, SmartCharging, "smart charging")

    @on(Action.set_charging_profile)
    def on_set_charging_profile_201(
        self, evse_id: int, charging_profile: dict[str, Any], **_: Any
    ) -> Any:
        smart = self._smart_201()
        profile = snake_to_camel_case(charging_profile)
        try:
            payload = profile_16(int(evse_id), profile)
        except Unsupported as exc:
            LOG.info("SetChargingProfile %s Rejected: %s", profile.get("id"), exc)
            return call_result.SetChargingProfile(
                status="Rejected", status_info=_status_info(REFUSED, str(exc))
            )
        verdict = smart.install(payload)
        if verdict == "Accepted":
            return call_result.SetChargingProfile(status="Accepted")
        return call_result.SetChargingProfile(
            status="Rejected", status_info=_status_info(REFUSED, verdict.reason)
        )

    @after(Action.set_charging_profile)
    def after_set_charging_profile_201(self, **_: Any) -> None:
        self._smart_201().changed()

    @on(Action.clear_charging_profile)
    def on_clear_charging_profile_201(
        self,
        charging_profile_id: int | None = None,
        charging_profile_criteria: dict[str, Any] | None = None,
        **_: Any,
    ) -> Any:
        smart = self._smart_201()
        criteria = charging_profile_criteria or {}
        purpose = criteria.get("charging_profile_purpose")
        if charging_profile_id is None and purpose is not None and purpose not in PURPOSES_16:
            # K10: ChargingStationExternalConstraints are not the back office's to clear
            return call_result.ClearChargingProfile(status="Unknown")
        status = smart.clear(
            charging_profile_id,
            None if charging_profile_id is not None else criteria.get("evse_id"),
            None if charging_profile_id is not None or purpose is None else PURPOSES_16[purpose],
            None if charging_profile_id is not None else criteria.get("stack_level"),
        )
        return call_result.ClearChargingProfile(status=status)

    @after(Action.clear_charging_profile)
    def after_clear_charging_profile_201(self, **_: Any) -> None:
        self._smart_201().changed()

    @on(Action.get_composite_schedule)
    def on_get_composite_schedule_201(
        self, duration: int, evse_id: int, charging_rate_unit: str | None = None, **_: Any
    ) -> Any:
        smart = self._smart_201()
        conf = composite_201(
            smart.composite_conf(int(evse_id), int(duration), charging_rate_unit),
            int(evse_id),
            self.station.n_connectors,
        )
        schedule = conf.get("schedule")
        if schedule is not None and "composite_wrong_evse" in self.station.deviations:
            # the defect: the EVSE's composite, labelled as the station's (or EVSE 1's)
            schedule["evseId"] = 0 if int(evse_id) else 1
        return call_result.GetCompositeSchedule(**camel_to_snake_case(conf))
