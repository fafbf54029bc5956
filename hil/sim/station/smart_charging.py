"""The virtual station's smart charging (OCPP 1.6 §3.13, §5.5, §5.7, §5.16).

The rules are not re-implemented here: the station keeps a
:class:`~hil.verify.charging_profiles.ProfileStore` in its non-volatile memory (the same
logic the lab predicts with) and asks :func:`~hil.verify.charging_profiles.limit_at` and
:func:`~hil.verify.charging_profiles.composite` what is in force. This module adds what a
station does with it:

- SetChargingProfile: accepted or rejected by the store, with the station's limits from its
  configuration keys (ChargeProfileMaxStackLevel, ChargingScheduleMaxPeriods,
  MaxChargingProfilesInstalled, ChargingScheduleAllowedChargingRateUnit); a TxProfile binds
  to the transaction running on its connector. ClearChargingProfile: the store's rules.
  GetCompositeSchedule: the composite from now over ``duration``, "no limit" reported as the
  station's maximum (``dut.max_current_a``, or in W over ``dut.phases`` at
  ``smart_charging.voltage_v``), with ``numberPhases`` = ``dut.phases`` on those stretches;
  limits merged per phase, connector 0 the cap and the sum over the connectors, a Relative
  TxDefaultProfile on an idle connector counted from the request (the lab's reading).
- The output: :meth:`SmartCharging.limit_a` is the limit in force now in A per phase (a W
  limit converted with its period's numberPhases, default 3); the pilot offers
  min(station max, cable, limit), no PWM below 6 A (``Charging.offered_current_a``).
- Timing: one ``call_later`` on the station loop, set for the next instant the limit may
  change (a period boundary, a schedule's end, a recurrence, validFrom/validTo), recomputed
  whenever profiles change, a transaction starts or ends, or the wake-up fires. No polling.
- A station without the Smart Charging profile (``dut.capabilities.smart_charging: false``)
  still answers: SetChargingProfile NotSupported, GetCompositeSchedule Rejected,
  ClearChargingProfile Unknown.

Deviations (``hil/lab/deviations.py``, steps SC1-SC3) each switch on one defect; see
:data:`DEVIATIONS` and the docstrings of the methods that implement them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ocpp.charge_point import snake_to_camel_case
from ocpp.routing import after, on
from ocpp.v16 import call_result
from ocpp.v16.enums import Action

from hil.sim.station.extensions import EXTENSIONS, StationExtension
from hil.verify.charging_profiles import (
    DEFAULT_PHASES,
    InstalledProfile,
    Kind,
    ProfileStore,
    Purpose,
    Verdict,
    amps_to_watts,
    composite,
    format_datetime,
    limit_at,
    parse_datetime,
    parse_set_charging_profile,
    profile_boundaries,
    watts_to_amps,
)

if TYPE_CHECKING:
    from hil.sim.station.charging import Transaction
    from hil.sim.station.station import VirtualStation
    from hil.verify.charging_profiles import AppliedLimit

LOG = logging.getLogger("hil.sim.station")

#: The deviations this module implements.
DEVIATIONS = (
    "limit_not_applied_to_pilot",
    "stack_level_ignored",
    "composite_misreported",
    "watts_read_as_amps",
    "phases_ignored",
    "profiles_lost_after_reboot",
    "tx_default_not_applied_to_running",
    "only_stack_level_0",
    "recurring_wrong_time",
    "clear_keeps_limit",
)
#: ChargingScheduleAllowedChargingRateUnit values and the units they allow.
RATE_UNITS = {"Current": "A", "Power": "W"}
#: The wake-up fires this long after a boundary, so that the new period is in force.
WAKE_MARGIN_S = 0.01
#: How far ahead the next boundary is looked for; with none in sight, the station looks
#: again then (a profile valid from next week has no boundary today).
HORIZON = timedelta(days=1)


def _plain(data: Any) -> Any:
    """The payload with Decimals as floats (the library parses SetChargingProfile's floats
    as Decimal to check ``multipleOf 0.1``; the profile model takes numbers)."""
    if isinstance(data, Decimal):
        return (
            int(data) if data == data.to_integral_value() and "." not in str(data) else float(data)
        )
    if isinstance(data, dict):
        return {k: _plain(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_plain(v) for v in data]
    return data


class ProfileView(ProfileStore):
    """A read-only set of installed profiles for the composite maths.

    What the station's output (or its report) works from when a deviation makes it differ
    from the installed profiles; the composite maths read a store only through
    :meth:`profiles`.
    """

    def __init__(self, entries: Iterable[InstalledProfile], connectors: int | None = None) -> None:
        super().__init__(connectors)  # connector 0's composite sums over every connector
        self._entries = list(entries)

    def __iter__(self) -> Iterator[InstalledProfile]:
        return iter(list(self._entries))

    def __len__(self) -> int:
        return len(self._entries)

    def profiles(
        self, connector_id: int | None = None, purpose: Purpose | str | None = None
    ) -> list[InstalledProfile]:
        return [
            e
            for e in self._entries
            if (connector_id is None or e.connector_id == connector_id)
            and (purpose is None or e.profile.purpose == purpose)
        ]


def _inverted_stacks(entries: list[InstalledProfile]) -> list[InstalledProfile]:
    """``stack_level_ignored``: stack levels mirrored, so that the lowest one leads."""
    if not entries:
        return entries
    top = max(e.profile.stack_level for e in entries)
    return [
        replace(e, profile=replace(e.profile, stack_level=top - e.profile.stack_level))
        for e in entries
    ]


class SmartCharging(StationExtension):
    """The station's smart-charging manager: installed profiles, the limit, its timing."""

    def __init__(self, station: VirtualStation) -> None:
        super().__init__(station)
        self.store.connectors = station.n_connectors
        self._timer: asyncio.TimerHandle | None = None
        #: clear_keeps_limit: per connector with a transaction, the profiles cleared during
        #: it that its output still obeys until it ends (volatile)
        self._ghosts: dict[int, list[InstalledProfile]] = {}
        #: tx_default_not_applied_to_running: per connector with a transaction, the
        #: TxDefaultProfiles in force when it started (volatile)
        self._tx_defaults: dict[int, list[InstalledProfile]] = {}

    # -- basics ----------------------------------------------------------------------

    @property
    def supported(self) -> bool:
        return self.station.cfg.dut.capabilities.smart_charging

    @property
    def store(self) -> ProfileStore:
        """The installed profiles (in the station's non-volatile memory)."""
        return self.station.nv.charging_profiles

    @property
    def voltage_v(self) -> float:
        dc = self.station.cfg.dut.dc
        return dc.nominal_voltage_v if dc is not None else self.station.cfg.smart_charging.voltage_v

    def _has(self, deviation: str) -> bool:
        return deviation in self.station.deviations

    def _tx(self, connector: int) -> Transaction | None:
        return self.station.charging.transaction(connector) if connector > 0 else None

    def tx_start(self, connector: int) -> datetime | None:
        """Start of the transaction running on ``connector`` (Relative profiles count
        from it), None without one."""
        tx = self._tx(connector)
        return None if tx is None else parse_datetime(tx.started, "transaction start")

    def tx_starts(self) -> dict[int, datetime]:
        """The running transactions' starts by connector (connector 0's composite sums the
        connectors, each limited by its transaction's profiles)."""
        starts = {c: self.tx_start(c) for c in range(1, self.station.n_connectors + 1)}
        return {c: t for c, t in starts.items() if t is not None}

    def max_in(self, unit: str) -> float:
        """The station's maximum in ``unit``: what "no limit" is reported as."""
        amps = float(self.station.cfg.dut.max_current_a)
        if unit == "A":
            return amps
        return amps_to_watts(amps, self.station.cfg.dut.phases, self.voltage_v)

    def _configure_limits(self) -> None:
        """The store's acceptance limits, from the station's configuration keys."""
        cfg = self.station.nv.config
        store = self.store
        store.connectors = self.station.n_connectors
        store.max_stack_level = cfg.get_int("ChargeProfileMaxStackLevel")
        store.max_periods = cfg.get_int("ChargingScheduleMaxPeriods")
        store.max_profiles = cfg.get_int("MaxChargingProfilesInstalled")
        store.units = tuple(
            RATE_UNITS[u] for u in cfg.get_list("ChargingScheduleAllowedChargingRateUnit")
        )

    # -- hooks -----------------------------------------------------------------------

    def power_on(self) -> None:
        self._cancel()
        self._ghosts.clear()
        self._tx_defaults.clear()
        if self._has("profiles_lost_after_reboot") and len(self.store):
            LOG.info("deviation: %d charging profile(s) lost in the reboot", len(self.store))
            self.store.clear()
        self._reschedule()

    def transaction_started(self, tx: Transaction) -> None:
        if self._has("tx_default_not_applied_to_running"):
            self._tx_defaults[tx.connector] = [
                e
                for e in self.store.profiles(purpose=Purpose.TX_DEFAULT)
                if e.connector_id in (0, tx.connector)
            ]
        self._reschedule()  # the caller applies the outputs

    def transaction_ended(self, connector: int) -> None:
        """§7.8: the transaction's TxProfiles cease to be valid; the caller applies the
        outputs."""
        gone = self.store.transaction_ended(connector)
        if gone:
            LOG.info(
                "TxProfile(s) %s ended with the transaction on connector %s",
                ", ".join(str(p.charging_profile_id) for p in gone),
                connector,
            )
        self._ghosts.pop(connector, None)
        self._tx_defaults.pop(connector, None)
        self._reschedule()

    def changed(self) -> None:
        """Profiles changed (after the answer went out): outputs now, next wake-up anew."""
        self.station.charging.apply_outputs()
        self.station.refresh_status()
        self._reschedule()

    # -- SetChargingProfile / ClearChargingProfile -------------------------------------

    def set_profile(self, payload: dict[str, Any]) -> str:
        """SetChargingProfile.req (camelCase) -> Accepted / Rejected / NotSupported."""
        if not self.supported:
            return "NotSupported"
        return str(self.install(payload))

    def install(self, payload: dict[str, Any]) -> Verdict:
        """A SetChargingProfile.req (1.6's camelCase shape; another version's front-end
        translates to it) installed as the store's rules say: Accepted or Rejected, with
        why."""
        try:
            connector, profile = parse_set_charging_profile(_plain(payload))
        except ValueError as exc:
            LOG.info("SetChargingProfile Rejected: %s", exc)
            return Verdict("Rejected", str(exc))
        if self._has("only_stack_level_0") and profile.stack_level > 0:
            LOG.info("deviation: stackLevel %s refused (only 0 supported)", profile.stack_level)
            return Verdict("Rejected", f"stackLevel {profile.stack_level}: only 0 is supported")
        if self._has("recurring_wrong_time") and profile.kind is Kind.RECURRING:
            # the defect: the cycle is anchored where the profile arrived, not at the time
            # of day (week) its startSchedule names
            installed_at = datetime.now(UTC).replace(microsecond=0)
            LOG.info("deviation: recurring profile anchored at %s", format_datetime(installed_at))
            profile = replace(
                profile, schedule=replace(profile.schedule, start_schedule=installed_at)
            )
        self._configure_limits()
        tx = self._tx(connector)
        verdict = self.store.install(
            connector, profile, tx.transaction_id if tx is not None else None
        )
        LOG.info(
            "SetChargingProfile %s (connector %s): %s - %s",
            profile.charging_profile_id,
            connector,
            verdict,
            verdict.reason,
        )
        return verdict

    def clear(
        self,
        id: int | None = None,  # noqa: A002 - the field's name in ClearChargingProfile.req
        connector_id: int | None = None,
        purpose: str | None = None,
        stack_level: int | None = None,
    ) -> str:
        """ClearChargingProfile.req -> Accepted / Unknown."""
        if not self.supported:
            return "Unknown"
        before = list(self.store)
        verdict = self.store.clear(id, connector_id, purpose, stack_level)
        after = list(self.store)
        gone = [e for e in before if e not in after]
        if gone and self._has("clear_keeps_limit"):
            for connector in range(1, self.station.n_connectors + 1):
                kept = [e for e in gone if e.connector_id in (0, connector)]
                if kept and self._tx(connector) is not None:
                    LOG.info("deviation: the cleared limit stays on connector %s", connector)
                    self._ghosts.setdefault(connector, []).extend(kept)
        for connector, defaults in self._tx_defaults.items():
            self._tx_defaults[connector] = [e for e in defaults if e not in gone]
        LOG.info("ClearChargingProfile: %s - %s", verdict, verdict.reason)
        return str(verdict)

    # -- GetCompositeSchedule ----------------------------------------------------------

    def composite_conf(
        self, connector_id: int, duration: int, unit: str | None = None
    ) -> dict[str, Any]:
        """GetCompositeSchedule.conf (camelCase) from now over ``duration`` seconds.

        ``unit`` None: the unit of the profile that sets the first limit in the window
        ("A" when none does). Stretches without a limit carry the station's maximum.
        """
        if not self.supported:
            return {"status": "Rejected"}
        if not 0 <= connector_id <= self.station.n_connectors or duration < 1:
            return {"status": "Rejected"}
        now = datetime.now(UTC)
        start = now.replace(microsecond=now.microsecond // 1000 * 1000)
        schedule = composite(
            self.report_view(connector_id),
            connector_id,
            start,
            int(duration),
            unit or None,
            voltage_v=self.voltage_v,
            phases=DEFAULT_PHASES,
            tx_starts=self.tx_starts(),
        )
        filled = schedule.filled(self.max_in(schedule.unit), self.station.cfg.dut.phases)
        conf = filled.to_conf(connector_id)
        stamp = start.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        conf["scheduleStart"] = conf["chargingSchedule"]["startSchedule"] = stamp
        return conf

    def report_view(self, connector: int) -> ProfileStore:
        """The profiles GetCompositeSchedule is computed from: the installed ones, unless

        - ``stack_level_ignored``: stack levels mirrored (the lowest leads, as in the output);
        - ``composite_misreported``: the highest-stack TxDefaultProfile for the connector
          (its own before connector 0's at equal level) alone, when there is one: no
          ChargePointMaxProfile, no TxProfile, no lower stack showing through.
        """
        entries = list(self.store)
        if not (self._has("stack_level_ignored") or self._has("composite_misreported")):
            return self.store
        if self._has("stack_level_ignored"):
            entries = _inverted_stacks(entries)
        if self._has("composite_misreported") and connector > 0:
            defaults = [
                e
                for e in entries
                if e.profile.purpose is Purpose.TX_DEFAULT and e.connector_id in (0, connector)
            ]
            if defaults:
                entries = [
                    max(defaults, key=lambda e: (e.profile.stack_level, e.connector_id != 0))
                ]
        return ProfileView(entries, self.station.n_connectors)

    # -- the output ------------------------------------------------------------------

    def output_view(self, connector: int) -> ProfileStore:
        """The profiles the output obeys: the installed ones, unless

        - ``clear_keeps_limit``: profiles cleared while a transaction ran on the connector
          stay in force on its output until that transaction ends;
        - ``tx_default_not_applied_to_running``: during a transaction, the TxDefaultProfiles
          as they were when it started (a new or replacing one waits for the next session;
          a cleared one goes);
        - ``stack_level_ignored``: stack levels mirrored (the lowest leads).
        """
        tx_defaults = self._tx_defaults.get(connector)
        ghosts = self._ghosts.get(connector, [])
        if not ghosts and tx_defaults is None and not self._has("stack_level_ignored"):
            return self.store
        entries = list(self.store)
        entries += [g for g in ghosts if g not in entries]
        if tx_defaults is not None:
            entries = [e for e in entries if e.profile.purpose is not Purpose.TX_DEFAULT]
            entries += tx_defaults
        if self._has("stack_level_ignored"):
            entries = _inverted_stacks(entries)
        return ProfileView(entries, self.station.n_connectors)

    def applied(self, connector: int, instant: datetime | None = None) -> AppliedLimit:
        """The limit the output obeys on ``connector`` at ``instant`` (now), as given."""
        return limit_at(
            self.output_view(connector),
            connector,
            instant or datetime.now(UTC),
            None,
            tx_start=self.tx_start(connector),
            voltage_v=self.voltage_v,
            phases=DEFAULT_PHASES,
        )

    def limit_a(self, connector: int, *, at_pilot: bool = False) -> float | None:
        """The limit in force now in A per phase; None when no profile applies.

        A W limit is converted with its period's numberPhases (default 3) at
        ``smart_charging.voltage_v``, rounded down to 0.1 A. ``at_pilot``: the value the
        pilot obeys, which ``limit_not_applied_to_pilot`` drops (MeterValues still report
        the limit as Current.Offered). ``watts_read_as_amps``: a W limit taken as A.
        ``phases_ignored``: a W limit divided by the voltage only.
        """
        if not self.supported or connector <= 0:
            return None
        if not (len(self.store) or self._ghosts.get(connector)):
            return None
        if at_pilot and self._has("limit_not_applied_to_pilot"):
            return None
        hit = self.applied(connector)
        if hit.limit is None:
            return None
        if hit.unit == "A":
            return hit.limit
        if self._has("watts_read_as_amps"):
            return hit.limit
        phases = 1 if self._has("phases_ignored") else hit.number_phases or DEFAULT_PHASES
        return watts_to_amps(hit.limit, phases, self.voltage_v)

    # -- the wake-up at the next boundary ------------------------------------------------

    def _cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = None

    def next_boundary(self, now: datetime) -> datetime | None:
        """The next instant after ``now`` where the output's limit may change."""
        end = now + HORIZON
        soonest: datetime | None = None
        for connector in range(1, self.station.n_connectors + 1):
            if self._tx(connector) is None:
                continue  # nothing is offered without a transaction
            tx_start = self.tx_start(connector)
            for entry in self.output_view(connector):
                if entry.connector_id not in (0, connector):
                    continue
                for b in profile_boundaries(entry.profile, now, end, tx_start):
                    if soonest is None or b < soonest:
                        soonest = b
        return soonest

    def _reschedule(self) -> None:
        self._cancel()
        if not self.supported or not (len(self.store) or self._ghosts):
            return
        if not any(self._tx(c) for c in range(1, self.station.n_connectors + 1)):
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # not running (a station built outside its loop)
        now = datetime.now(UTC)
        due = self.next_boundary(now) or now + HORIZON
        delay = max(0.0, (due - now).total_seconds()) + WAKE_MARGIN_S
        self._timer = loop.call_later(delay, self._wake)

    def _wake(self) -> None:
        self._timer = None
        LOG.info("charging schedule boundary: outputs re-applied")
        self.changed()


class SmartChargingHandlers:
    """StationLink mixin: SetChargingProfile, ClearChargingProfile, GetCompositeSchedule."""

    station: VirtualStation

    def _smart(self) -> SmartCharging:
        manager = self.station.extension(SmartCharging)
        assert isinstance(manager, SmartCharging)
        return manager

    @on(Action.set_charging_profile)
    def on_set_charging_profile(
        self, connector_id: int, cs_charging_profiles: dict[str, Any], **_: Any
    ) -> call_result.SetChargingProfile:
        payload = {
            "connectorId": connector_id,
            "csChargingProfiles": snake_to_camel_case(cs_charging_profiles),
        }
        return call_result.SetChargingProfile(status=self._smart().set_profile(payload))

    @after(Action.set_charging_profile)
    def after_set_charging_profile(self, **_: Any) -> None:
        self._smart().changed()

    @on(Action.clear_charging_profile)
    def on_clear_charging_profile(
        self,
        id: int | None = None,  # noqa: A002 - the field's name in ClearChargingProfile.req
        connector_id: int | None = None,
        charging_profile_purpose: str | None = None,
        stack_level: int | None = None,
        **_: Any,
    ) -> call_result.ClearChargingProfile:
        status = self._smart().clear(id, connector_id, charging_profile_purpose, stack_level)
        return call_result.ClearChargingProfile(status=status)

    @after(Action.clear_charging_profile)
    def after_clear_charging_profile(self, **_: Any) -> None:
        self._smart().changed()

    @on(Action.get_composite_schedule)
    def on_get_composite_schedule(
        self, connector_id: int, duration: int, charging_rate_unit: str | None = None, **_: Any
    ) -> call_result.GetCompositeSchedule:
        conf = self._smart().composite_conf(connector_id, duration, charging_rate_unit)
        return call_result.GetCompositeSchedule(
            status=conf["status"],
            connector_id=conf.get("connectorId"),
            schedule_start=conf.get("scheduleStart"),
            charging_schedule=conf.get("chargingSchedule"),
        )


if SmartCharging not in EXTENSIONS:
    EXTENSIONS.append(SmartCharging)
