"""The charging profiles a station keeps, and the answers it owes (§5.5, §5.16, §3.13.1).

:class:`ProfileStore` is what a conforming station holds after a series of
SetChargingProfile / ClearChargingProfile requests and transaction ends. The lab runs one
alongside the station to predict every answer and every limit; the virtual station can run
one as its own. Pure: no clock, no I/O; the caller says which transaction runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from hil.verify.charging_profiles.model import ChargingProfile, Purpose


class Verdict(str):
    """A status as OCPP spells it (``"Accepted"``...), with the reason the lab predicts it.

    It *is* the status string, so ``store.install(...) == "Accepted"`` reads as it should;
    ``.reason`` says why, for a log line or a failed step.
    """

    reason: str

    def __new__(cls, status: str, reason: str = "") -> Verdict:
        obj = super().__new__(cls, status)
        obj.reason = reason
        return obj

    def __repr__(self) -> str:
        return f"Verdict({str(self)!r}, {self.reason!r})"


@dataclass(frozen=True)
class InstalledProfile:
    """A profile as installed: on which connector, and for a TxProfile which transaction."""

    connector_id: int
    profile: ChargingProfile
    transaction_id: int | str | None = None  # the transaction a TxProfile belongs to


class ProfileStore:
    """The installed profiles of one station, with SetChargingProfile's acceptance rules.

    Optional limits mirror the station's configuration keys: ``max_stack_level``
    (ChargeProfileMaxStackLevel), ``max_periods`` (ChargingScheduleMaxPeriods),
    ``max_profiles`` (MaxChargingProfilesInstalled), ``units``
    (ChargingScheduleAllowedChargingRateUnit); ``connectors`` is the number of connectors.
    None means "no limit".
    """

    def __init__(
        self,
        connectors: int | None = None,
        *,
        max_stack_level: int | None = None,
        max_periods: int | None = None,
        max_profiles: int | None = None,
        units: tuple[str, ...] = ("A", "W"),
    ) -> None:
        self.connectors = connectors
        self.max_stack_level = max_stack_level
        self.max_periods = max_periods
        self.max_profiles = max_profiles
        self.units = tuple(units)
        self._installed: list[InstalledProfile] = []

    # -- reading ------------------------------------------------------------------------

    def __iter__(self) -> Iterator[InstalledProfile]:
        return iter(list(self._installed))

    def __len__(self) -> int:
        return len(self._installed)

    def profiles(
        self, connector_id: int | None = None, purpose: Purpose | str | None = None
    ) -> list[InstalledProfile]:
        """Installed profiles, optionally of one connector (exactly) and one purpose."""
        return [
            e
            for e in self._installed
            if (connector_id is None or e.connector_id == connector_id)
            and (purpose is None or e.profile.purpose == purpose)
        ]

    def copy(self) -> ProfileStore:
        other = type(self)(
            self.connectors,
            max_stack_level=self.max_stack_level,
            max_periods=self.max_periods,
            max_profiles=self.max_profiles,
            units=self.units,
        )
        other._installed = list(self._installed)
        return other

    # -- SetChargingProfile -------------------------------------------------------------

    def install(
        self,
        connector_id: int,
        profile: ChargingProfile,
        transaction_id_running: int | str | None = None,
    ) -> Verdict:
        """Install ``profile`` as a station must: ``Accepted`` or ``Rejected`` (with why).

        ``transaction_id_running`` is the transaction on ``connector_id``, if one runs.
        A profile with the same chargingProfileId (anywhere), or the same purpose and stack
        level on the same connector, is replaced (§5.16). A rejected request changes nothing.
        """
        reason = self._refusal(connector_id, profile, transaction_id_running)
        if reason:
            return Verdict("Rejected", reason)
        kept = [e for e in self._installed if not self._replaces(profile, connector_id, e)]
        if self.max_profiles is not None and len(kept) + 1 > self.max_profiles:
            return Verdict(
                "Rejected",
                f"{len(kept)} profiles installed already; the station holds at most "
                f"{self.max_profiles} (MaxChargingProfilesInstalled)",
            )
        replaced = [e.profile.charging_profile_id for e in self._installed if e not in kept]
        tx = transaction_id_running if profile.purpose is Purpose.TX else None
        self._installed = [*kept, InstalledProfile(connector_id, profile, tx)]
        note = f"; replaces profile(s) {', '.join(map(str, replaced))}" if replaced else ""
        return Verdict("Accepted", f"{profile.purpose} installed on connector {connector_id}{note}")

    def _replaces(self, profile: ChargingProfile, connector: int, entry: InstalledProfile) -> bool:
        """Does installing ``profile`` on ``connector`` replace ``entry`` (§5.16)?"""
        return _replaced_by(entry, connector, profile)

    def _refusal(
        self, connector_id: int, profile: ChargingProfile, tx_running: int | str | None
    ) -> str | None:
        if not isinstance(connector_id, int) or connector_id < 0:
            return f"connectorId {connector_id!r} is not a connector"
        if self.connectors is not None and connector_id > self.connectors:
            return f"connectorId {connector_id}: the station has {self.connectors} connector(s)"
        purpose = profile.purpose
        if purpose is Purpose.CHARGE_POINT_MAX and connector_id != 0:
            return f"a ChargePointMaxProfile applies to connector 0 only, not {connector_id}"
        if purpose is not Purpose.TX and profile.transaction_id is not None:
            return f"transactionId is only valid for a TxProfile, not a {purpose} (§7.9)"
        if purpose is Purpose.TX:
            if connector_id == 0:
                return "a TxProfile needs a connector with a transaction, not connector 0"
            if tx_running is None:
                return f"no transaction runs on connector {connector_id} for a TxProfile (§3.13.1)"
            if profile.transaction_id is not None and profile.transaction_id != tx_running:
                return (
                    f"transactionId {profile.transaction_id} is not the transaction running "
                    f"on connector {connector_id} ({tx_running})"
                )
        if self.max_stack_level is not None and profile.stack_level > self.max_stack_level:
            return (
                f"stackLevel {profile.stack_level} is above the station's maximum "
                f"{self.max_stack_level} (ChargeProfileMaxStackLevel)"
            )
        periods = len(profile.schedule.periods)
        if self.max_periods is not None and periods > self.max_periods:
            return (
                f"{periods} schedule periods; the station takes at most {self.max_periods} "
                "(ChargingScheduleMaxPeriods)"
            )
        if profile.unit not in self.units:
            return (
                f"chargingRateUnit {profile.unit} is not allowed "
                f"(ChargingScheduleAllowedChargingRateUnit: {','.join(self.units)})"
            )
        return None

    # -- ClearChargingProfile -----------------------------------------------------------

    def clear(
        self,
        id: int | None = None,  # noqa: A002 - the field's name in ClearChargingProfile.req
        connector_id: int | None = None,
        purpose: Purpose | str | None = None,
        stack_level: int | None = None,
    ) -> Verdict:
        """Remove profiles as ClearChargingProfile asks: ``Accepted``, or ``Unknown``.

        With ``id`` only that profile goes, whatever the other fields say (§5.5: "either a
        specific charging profile (denoted by id) or a selection"). Otherwise the given
        fields select together (AND); none given clears everything. Nothing matched:
        ``Unknown``.
        """
        if id is not None:
            gone = [e for e in self._installed if e.profile.charging_profile_id == id]
            what = f"id {id}"
        else:
            if purpose is not None:
                purpose = Purpose(purpose)
            gone = [
                e
                for e in self._installed
                if (connector_id is None or e.connector_id == connector_id)
                and (purpose is None or e.profile.purpose is purpose)
                and (stack_level is None or e.profile.stack_level == stack_level)
            ]
            parts = [
                f"{name} {value}"
                for name, value in (
                    ("connectorId", connector_id),
                    ("chargingProfilePurpose", purpose),
                    ("stackLevel", stack_level),
                )
                if value is not None
            ]
            what = " and ".join(parts) or "all profiles"
        if not gone:
            return Verdict("Unknown", f"no installed profile matches {what}")
        self._installed = [e for e in self._installed if e not in gone]
        ids = ", ".join(str(e.profile.charging_profile_id) for e in gone)
        return Verdict("Accepted", f"cleared profile(s) {ids} ({what})")

    # -- transactions -------------------------------------------------------------------

    def transaction_ended(self, connector_id: int) -> list[ChargingProfile]:
        """Drop the TxProfiles of the connector's transaction (§7.8); returns them."""
        gone = [
            e
            for e in self._installed
            if e.connector_id == connector_id and e.profile.purpose is Purpose.TX
        ]
        self._installed = [e for e in self._installed if e not in gone]
        return [e.profile for e in gone]


def _replaced_by(entry: InstalledProfile, connector_id: int, new: ChargingProfile) -> bool:
    old = entry.profile
    if old.charging_profile_id == new.charging_profile_id:
        return True
    return (
        entry.connector_id == connector_id
        and old.purpose is new.purpose
        and old.stack_level == new.stack_level
    )
