"""The charging profiles of an OCPP 2.0.1 station (Part 2 K01, K10): where its rules differ
from 1.6's.

The composite maths are the same in both versions (K08 combines ChargingStationMaxProfile
with TxProfile-or-TxDefaultProfile as 1.6 §3.13 does), and so are most acceptance rules.
2.0.1 adds or changes these, all checked by :class:`ProfileStore201` before the shared ones:

- K01.FR.05: a profile with the id of an installed one replaces it; unlike 1.6, another
  profile with the same purpose and stack level on the same EVSE does *not* get replaced:
  while their validity periods overlap the new one is refused (K01.FR.06; for TxProfiles
  the same stack level and transaction, K01.FR.39).
- K01.FR.03: a TxProfile names its transaction (``transactionId``, the station's string);
  K01.FR.16: only on an EVSE (evseId > 0); K01.FR.09: only while a transaction runs there;
  K01.FR.33: a transactionId that is not that transaction is refused.
- K01.FR.38: a ChargingStationMaxProfile is not Relative.
- K01.FR.40 / K01.FR.41: an Absolute or Recurring schedule has a startSchedule, a Relative
  one has none.

The lab's words stay 1.6's (:class:`~hil.verify.charging_profiles.model.Purpose`:
``ChargePointMaxProfile`` is 2.0.1's ChargingStationMaxProfile; a "connector" is an EVSE);
reasons are told in 2.0.1's words.
"""

from __future__ import annotations

from datetime import datetime

from hil.verify.charging_profiles.model import ChargingProfile, Kind, Purpose
from hil.verify.charging_profiles.store import InstalledProfile, ProfileStore, Verdict

#: the lab's (1.6) purpose names -> 2.0.1 ChargingProfilePurposeEnumType
PURPOSES_201 = {
    "ChargePointMaxProfile": "ChargingStationMaxProfile",
    "TxDefaultProfile": "TxDefaultProfile",
    "TxProfile": "TxProfile",
}
#: and back (ChargingStationExternalConstraints has no 1.6 word: only a local system sets it)
PURPOSES_16 = {v: k for k, v in PURPOSES_201.items()}
#: what a 1.6 reason names, as 2.0.1 names it
_WORDS_201 = (
    ("ChargePointMaxProfile", "ChargingStationMaxProfile"),
    ("ChargeProfileMaxStackLevel", "SmartChargingCtrlr.ProfileStackLevel"),
    ("ChargingScheduleMaxPeriods", "SmartChargingCtrlr.PeriodsPerSchedule"),
    ("MaxChargingProfilesInstalled", "SmartChargingCtrlr.Entries[ChargingProfiles] maxLimit"),
    ("ChargingScheduleAllowedChargingRateUnit", "SmartChargingCtrlr.RateUnit"),
    ("connectorId", "evseId"),
    ("connector 0", "EVSE 0"),
    ("connector(s)", "EVSE(s)"),
    ("on connector", "on EVSE"),
    ("a connector", "an EVSE"),
)


def words_201(reason: str) -> str:
    """A reason the shared (1.6) rules gave, in 2.0.1's words."""
    for old, new in _WORDS_201:
        reason = reason.replace(old, new)
    return reason


def _overlap(a: ChargingProfile, b: ChargingProfile) -> bool:
    """Do the validity periods [validFrom, validTo) of ``a`` and ``b`` overlap?"""
    start = max(a.valid_from or datetime.min, b.valid_from or datetime.min, key=_key)
    end = min(a.valid_to or datetime.max, b.valid_to or datetime.max, key=_key)
    return _key(start) < _key(end)


def _key(value: datetime) -> float:
    if value is datetime.min:
        return float("-inf")
    if value is datetime.max:
        return float("inf")
    return value.timestamp()


class ProfileStore201(ProfileStore):
    """:class:`ProfileStore` with OCPP 2.0.1's acceptance and replacement rules (K01)."""

    def install(
        self,
        connector_id: int,
        profile: ChargingProfile,
        transaction_id_running: int | str | None = None,
    ) -> Verdict:
        verdict = super().install(connector_id, profile, transaction_id_running)
        return Verdict(str(verdict), words_201(verdict.reason))

    def clear(
        self,
        id: int | None = None,  # noqa: A002 - the field's name in ClearChargingProfile
        connector_id: int | None = None,
        purpose: Purpose | str | None = None,
        stack_level: int | None = None,
    ) -> Verdict:
        """K10: as 1.6 §5.5 (by id, or by the criteria together; nothing matched:
        Unknown)."""
        verdict = super().clear(id, connector_id, purpose, stack_level)
        return Verdict(str(verdict), words_201(verdict.reason))

    def _replaces(self, profile: ChargingProfile, connector: int, entry: InstalledProfile) -> bool:
        """K01.FR.05: only a profile with the same id is replaced."""
        return entry.profile.charging_profile_id == profile.charging_profile_id

    def _refusal(
        self, connector_id: int, profile: ChargingProfile, tx_running: int | str | None
    ) -> str | None:
        reason = self._refusal_201(connector_id, profile, tx_running)
        return reason or super()._refusal(connector_id, profile, tx_running)

    def _refusal_201(
        self, evse: int, profile: ChargingProfile, tx_running: int | str | None
    ) -> str | None:
        purpose, kind = profile.purpose, profile.kind
        if purpose is Purpose.CHARGE_POINT_MAX and kind is Kind.RELATIVE:
            return "a ChargingStationMaxProfile cannot be Relative (K01.FR.38)"
        if purpose is Purpose.TX:
            if evse == 0:
                return "a TxProfile needs an EVSE, not evseId 0 (K01.FR.16)"
            if profile.transaction_id is None:
                return "a TxProfile needs the transactionId of its transaction (K01.FR.03)"
            if tx_running is None:
                return f"no transaction runs on EVSE {evse} for a TxProfile (K01.FR.09)"
            if profile.transaction_id != tx_running:
                return (
                    f"transactionId {profile.transaction_id} is not the transaction running "
                    f"on EVSE {evse} ({tx_running}) (K01.FR.33)"
                )
        has_start = profile.schedule.start_schedule is not None
        if kind is Kind.RELATIVE and has_start:
            return "a Relative schedule has no startSchedule (K01.FR.41)"
        if kind is not Kind.RELATIVE and not has_start:
            return f"a {kind} profile needs a startSchedule (K01.FR.40)"
        for entry in self:
            other = entry.profile
            if other.charging_profile_id == profile.charging_profile_id:
                continue  # replaced (K01.FR.05)
            same_stack = other.purpose is purpose and other.stack_level == profile.stack_level
            if not same_stack or not _overlap(other, profile):
                continue
            if purpose is Purpose.TX and entry.transaction_id == tx_running:
                return (
                    f"TxProfile {other.charging_profile_id} of the same transaction has stack "
                    f"level {profile.stack_level} already (K01.FR.39)"
                )
            if purpose is not Purpose.TX and entry.connector_id == evse:
                return (
                    f"{PURPOSES_201[purpose]} {other.charging_profile_id} has stack level "
                    f"{profile.stack_level} on EVSE {evse} already, valid at the same time "
                    "(K01.FR.06)"
                )
        return None
