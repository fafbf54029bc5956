"""The composite schedule: the one limit in force at each instant (OCPP 1.6 §3.13, §5.13).

Rules, per instant ``t`` on a connector:

1. A profile speaks at ``t`` when ``t`` is inside ``[validFrom, validTo)`` and inside its
   schedule: Absolute from ``startSchedule``; Relative from the transaction's start;
   Recurring from ``startSchedule`` repeated every day or week (``t`` taken modulo the
   cycle); in each case for ``duration`` seconds if one is given, else indefinitely.
2. Within a purpose the speaking profile with the highest stack level leads (§3.13.2); a
   higher one that is silent at ``t`` (expired, not yet valid, past its duration) does not
   shadow the lower ones.
3. A TxProfile leads over any TxDefaultProfile; a TxDefaultProfile installed on the
   connector leads over one installed on connector 0 (§3.13.1).
4. The limit is the lower of the leading ChargePointMaxProfile and the leading
   TxProfile-or-TxDefaultProfile (§3.13.3), compared as power (A x phases x voltage).
5. No profile speaks: no limit (``limit is None``).

The composite is exact between the instants where some profile's period starts or ends, so
it is evaluated once per such segment. Pure logic; times are aware datetimes in UTC.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from hil.verify.charging_profiles.model import (
    ChargingProfile,
    Kind,
    Purpose,
    Recurrency,
    SchedulePeriod,
    format_datetime,
    is_number,
    parse_datetime,
    utc,
)
from hil.verify.charging_profiles.store import InstalledProfile, ProfileStore
from hil.verify.charging_profiles.units import (
    DEFAULT_PHASES,
    DEFAULT_VOLTAGE_V,
    UNITS,
    convert,
    to_watts,
)

CYCLE = {Recurrency.DAILY: timedelta(days=1), Recurrency.WEEKLY: timedelta(weeks=1)}
_ZERO = timedelta(0)
_SECOND = timedelta(seconds=1)


# -- one profile at one instant ------------------------------------------------------------


def schedule_anchor(profile: ChargingProfile, tx_start: datetime | None) -> datetime | None:
    """Where the profile's schedule starts (second 0 of its first period), if anywhere.

    Relative: the transaction's start. Absolute and Recurring: ``startSchedule``; without
    one, §7.13 says the schedule "will be relative to start of charging", so the
    transaction's start as well. No transaction then means no anchor: the profile is silent.
    """
    if profile.kind is Kind.RELATIVE or profile.schedule.start_schedule is None:
        return tx_start
    return profile.schedule.start_schedule


def schedule_offset(
    profile: ChargingProfile, instant: datetime, tx_start: datetime | None
) -> timedelta | None:
    """How far into its schedule the profile is at ``instant``; None when it is silent."""
    if not profile.is_valid_at(instant):
        return None
    anchor = schedule_anchor(profile, tx_start)
    if anchor is None:
        return None
    offset = instant - anchor
    if profile.kind is Kind.RECURRING and (
        profile.schedule.start_schedule is not None or offset >= _ZERO
    ):
        # A startSchedule fixes the cycle's phase (time of day / of week), before and after
        # it; a recurrence anchored at the transaction's start begins there.
        offset %= CYCLE[profile.recurrency_kind]  # type: ignore[index]
    if offset < _ZERO:
        return None
    duration = profile.schedule.duration
    if duration is not None and offset >= timedelta(seconds=duration):
        return None
    return offset


def period_at(
    profile: ChargingProfile, instant: datetime, tx_start: datetime | None
) -> SchedulePeriod | None:
    """The profile's period in force at ``instant``, or None when the profile is silent."""
    offset = schedule_offset(profile, instant, tx_start)
    if offset is None:
        return None
    current = None
    for period in profile.schedule.periods:
        if timedelta(seconds=period.start_period) > offset:
            break
        current = period
    return current


def profile_boundaries(
    profile: ChargingProfile, start: datetime, end: datetime, tx_start: datetime | None
) -> set[datetime]:
    """Every instant in ``(start, end)`` where the profile's limit may change."""
    out = {b for b in (profile.valid_from, profile.valid_to) if b is not None}
    anchor = schedule_anchor(profile, tx_start)
    if anchor is not None:
        schedule = profile.schedule
        offsets = [timedelta(seconds=p.start_period) for p in schedule.periods]
        if schedule.duration is not None:
            offsets.append(timedelta(seconds=schedule.duration))
        if profile.kind is Kind.RECURRING:
            cycle = CYCLE[profile.recurrency_kind]  # type: ignore[index]
            offsets = [o for o in offsets if o < cycle]
            first = (start - anchor) // cycle
            if schedule.start_schedule is None:
                first = max(first, 0)
            for k in range(first, (end - anchor) // cycle + 1):
                out.update(anchor + k * cycle + o for o in offsets)
        else:
            out.update(anchor + o for o in offsets)
    return {b for b in out if start < b < end}


# -- the leading profiles of a connector ---------------------------------------------------


@dataclass(frozen=True)
class _Hit:
    entry: InstalledProfile
    period: SchedulePeriod

    @property
    def unit(self) -> str:
        return self.entry.profile.unit

    def phases(self, default: int) -> int:
        return self.period.number_phases or default


class _Groups:
    """The profiles that can speak for a connector, each group highest stack level first."""

    def __init__(self, store: ProfileStore, connector_id: int, tx_start: datetime | None):
        def group(connector: int, purpose: Purpose) -> list[InstalledProfile]:
            entries = store.profiles(connector, purpose)
            return sorted(entries, key=lambda e: e.profile.stack_level, reverse=True)

        self.cp_max = group(0, Purpose.CHARGE_POINT_MAX)
        if connector_id == 0:
            # Connector 0 stands for the grid connection: only the station-wide cap applies.
            self.inner: list[list[InstalledProfile]] = []
        else:
            tx = group(connector_id, Purpose.TX) if tx_start is not None else []
            self.inner = [
                tx,
                group(connector_id, Purpose.TX_DEFAULT),
                group(0, Purpose.TX_DEFAULT),
            ]

    def all(self) -> Iterable[InstalledProfile]:
        yield from self.cp_max
        for g in self.inner:
            yield from g


def _leading(group: Sequence[InstalledProfile], t: datetime, tx: datetime | None) -> _Hit | None:
    for entry in group:
        period = period_at(entry.profile, t, tx)
        if period is not None:
            return _Hit(entry, period)
    return None


def _winner(
    groups: _Groups, t: datetime, tx_start: datetime | None, voltage_v: float, phases: int
) -> _Hit | None:
    cap = _leading(groups.cp_max, t, tx_start)
    inner = None
    for g in groups.inner:  # TxProfile, else the connector's default, else connector 0's
        inner = _leading(g, t, tx_start)
        if inner is not None:
            break
    if cap is None or inner is None:
        return inner or cap

    def watts(hit: _Hit) -> float:
        return to_watts(hit.period.limit, hit.unit, hit.phases(phases), voltage_v)

    # a tie goes to the session's own profile, whatever unit was asked for, so that the
    # composite and limit_at always name the same profile (and its numberPhases)
    return cap if watts(cap) < watts(inner) - 1e-9 else inner


# -- results -------------------------------------------------------------------------------


@dataclass(frozen=True)
class AppliedLimit:
    """The limit in force at one instant, and the profile it comes from."""

    limit: float | None  # None: no profile limits the connector now
    unit: str | None
    number_phases: int | None = None
    profile_id: int | None = None
    purpose: Purpose | None = None
    installed_on: int | None = None  # the connector the profile was installed on

    def describe(self) -> str:
        if self.limit is None:
            return "no limit (no charging profile applies)"
        return (
            f"{self.limit:g} {self.unit} on {self.number_phases} phase(s), from {self.purpose} "
            f"{self.profile_id} (connector {self.installed_on})"
        )


@dataclass(frozen=True)
class CompositePeriod:
    """One period of a composite schedule; ``limit`` None means no profile limits it."""

    start_period: int
    limit: float | None
    number_phases: int | None = None


@dataclass(frozen=True)
class CompositeSchedule:
    """A composite schedule: ``periods`` start ``start_period`` seconds after ``start``."""

    unit: str
    periods: tuple[CompositePeriod, ...]
    start: datetime | None = None
    duration: int | None = None
    min_charging_rate: float | None = None

    @property
    def has_limit(self) -> bool:
        return any(p.limit is not None for p in self.periods)

    def period_at(self, offset_s: float) -> CompositePeriod | None:
        """The period in force ``offset_s`` seconds after ``start`` (None: outside)."""
        if offset_s < 0 or (self.duration is not None and offset_s >= self.duration):
            return None
        current = None
        for p in self.periods:
            if p.start_period > offset_s:
                break
            current = p
        return current

    def limit_at(self, offset_s: float) -> float | None:
        period = self.period_at(offset_s)
        return None if period is None else period.limit

    def filled(self, no_limit: float, number_phases: int | None = None) -> CompositeSchedule:
        """Periods without a limit given ``no_limit`` (the station's maximum), re-merged."""
        periods = [
            p if p.limit is not None else CompositePeriod(p.start_period, no_limit, number_phases)
            for p in self.periods
        ]
        return replace(self, periods=merge_periods(periods))

    def to_json(self, no_limit: float | None = None) -> dict[str, Any]:
        """The ``chargingSchedule`` object of GetCompositeSchedule.conf.

        OCPP cannot say "no limit"; periods without one need ``no_limit`` (the station's
        maximum in this unit), else ``ValueError``.
        """
        schedule = self
        if any(p.limit is None for p in self.periods):
            if no_limit is None:
                raise ValueError(
                    "the composite has periods without a limit, which OCPP cannot express; "
                    "pass no_limit= (the station's maximum)"
                )
            schedule = self.filled(no_limit)
        out: dict[str, Any] = {}
        if schedule.duration is not None:
            out["duration"] = schedule.duration
        if schedule.start is not None:
            out["startSchedule"] = format_datetime(schedule.start)
        out["chargingRateUnit"] = schedule.unit
        out["chargingSchedulePeriod"] = [
            {"startPeriod": p.start_period, "limit": p.limit}
            | ({"numberPhases": p.number_phases} if p.number_phases is not None else {})
            for p in schedule.periods
        ]
        if schedule.min_charging_rate is not None:
            out["minChargingRate"] = schedule.min_charging_rate
        return out

    def to_conf(self, connector_id: int, no_limit: float | None = None) -> dict[str, Any]:
        """A whole GetCompositeSchedule.conf payload (status Accepted)."""
        out: dict[str, Any] = {"status": "Accepted", "connectorId": connector_id}
        if self.start is not None:
            out["scheduleStart"] = format_datetime(self.start)
        out["chargingSchedule"] = self.to_json(no_limit)
        return out


def merge_periods(periods: Iterable[CompositePeriod]) -> tuple[CompositePeriod, ...]:
    """Adjacent periods with the same limit and phases become one."""
    out: list[CompositePeriod] = []
    for p in periods:
        if out and (out[-1].limit, out[-1].number_phases) == (p.limit, p.number_phases):
            continue
        out.append(p)
    return tuple(out)


# -- the computation -----------------------------------------------------------------------


def _check_args(connector_id: int, unit: str | None, voltage_v: float, phases: int) -> None:
    if not isinstance(connector_id, int) or connector_id < 0:
        raise ValueError(f"connector_id: expected an integer >= 0, got {connector_id!r}")
    if unit is not None and unit not in UNITS:
        raise ValueError(f"unit: expected 'A', 'W' or None, got {unit!r}")
    if not voltage_v > 0:
        raise ValueError(f"voltage_v: must be positive, got {voltage_v!r}")
    if phases not in (1, 2, 3):
        raise ValueError(f"phases: expected 1, 2 or 3, got {phases!r}")


def _express(
    hit: _Hit, unit: str, voltage_v: float, phases: int
) -> tuple[float, int, float | None]:
    ph = hit.phases(phases)
    limit = convert(hit.period.limit, hit.unit, unit, ph, voltage_v)
    rate = hit.entry.profile.schedule.min_charging_rate
    return limit, ph, None if rate is None else convert(rate, hit.unit, unit, ph, voltage_v)


def limit_at(
    store: ProfileStore,
    connector_id: int,
    instant: datetime,
    unit: str | None = None,
    tx_start: datetime | None = None,
    voltage_v: float = DEFAULT_VOLTAGE_V,
    phases: int = DEFAULT_PHASES,
) -> AppliedLimit:
    """The single limit in force on ``connector_id`` at ``instant``: what the output obeys.

    ``unit`` None keeps the leading profile's own unit. ``tx_start`` None means no
    transaction runs (TxProfiles and Relative profiles are then silent). ``phases`` is the
    numberPhases assumed where a period leaves it out (the specification says 3).
    """
    _check_args(connector_id, unit, voltage_v, phases)
    instant = utc(instant, "instant")
    tx_start = None if tx_start is None else utc(tx_start, "tx_start")
    hit = _winner(_Groups(store, connector_id, tx_start), instant, tx_start, voltage_v, phases)
    if hit is None:
        return AppliedLimit(None, unit)
    out_unit = unit or hit.unit
    limit, ph, _ = _express(hit, out_unit, voltage_v, phases)
    profile = hit.entry.profile
    return AppliedLimit(
        limit, out_unit, ph, profile.charging_profile_id, profile.purpose, hit.entry.connector_id
    )


def composite(
    store: ProfileStore,
    connector_id: int,
    start: datetime,
    duration_s: int,
    unit: str | None = None,
    tx_start: datetime | None = None,
    voltage_v: float = DEFAULT_VOLTAGE_V,
    phases: int = DEFAULT_PHASES,
) -> CompositeSchedule:
    """The composite schedule of ``connector_id`` over ``[start, start + duration_s)``.

    As GetCompositeSchedule asks for it (§5.13): periods relative to ``start``, in ``unit``
    (None: the unit of the profile that sets the first limit in the window; "A" if none
    does), adjacent equal periods merged, ``limit`` None where no profile applies. A
    converted limit is rounded down to 0.1. Boundaries fall on whole seconds after
    ``start`` (OCPP's startPeriod is an integer): a sub-second one is rounded down.
    ``minChargingRate`` is that of the profile that sets the first limit, converted.
    Connector 0 gives the ChargePointMaxProfile cap alone.
    """
    _check_args(connector_id, unit, voltage_v, phases)
    if not isinstance(duration_s, int) or isinstance(duration_s, bool) or duration_s < 1:
        raise ValueError(f"duration_s: expected whole seconds >= 1, got {duration_s!r}")
    start = utc(start, "start")
    tx_start = None if tx_start is None else utc(tx_start, "tx_start")
    end = start + timedelta(seconds=duration_s)
    groups = _Groups(store, connector_id, tx_start)
    cuts = {start}
    for entry in groups.all():
        cuts |= profile_boundaries(entry.profile, start, end, tx_start)
    hits = [(t, _winner(groups, t, tx_start, voltage_v, phases)) for t in sorted(cuts)]
    out_unit = unit or next((h.unit for _, h in hits if h is not None), "A")
    raw: list[CompositePeriod] = []
    min_rate: float | None = None
    first_limit = True
    for t, hit in hits:
        offset = (t - start) // _SECOND
        if hit is None:
            period = CompositePeriod(offset, None, None)
        else:
            limit, ph, rate = _express(hit, out_unit, voltage_v, phases)
            period = CompositePeriod(offset, limit, ph)
            if first_limit:
                min_rate, first_limit = rate, False
        if raw and raw[-1].start_period == offset:
            raw[-1] = period  # two boundaries within one second: the later one holds
        else:
            raw.append(period)
    return CompositeSchedule(out_unit, merge_periods(raw), start, duration_s, min_rate)


# -- a station's answer ----------------------------------------------------------------------


def parse_composite(data: Mapping[str, Any]) -> CompositeSchedule:
    """A GetCompositeSchedule.conf payload (or its bare ``chargingSchedule``) as a schedule.

    Lenient by design: this is a station's answer to be judged, so out-of-order periods or
    limits off the 0.1 grid are kept for :func:`compare_schedules` to report. Only what
    cannot be read at all raises ``ValueError`` (naming the field); so does a status other
    than Accepted, which has no schedule to compare.
    """
    if not isinstance(data, Mapping):
        raise ValueError(f"GetCompositeSchedule.conf: expected a JSON object, got {data!r}")
    start = None
    where = ""
    if "status" in data or "chargingSchedule" in data:
        status = data.get("status", "Accepted")
        if status != "Accepted":
            raise ValueError(f"status: {status!r}, so there is no schedule to read")
        if data.get("scheduleStart") is not None:
            start = parse_datetime(data["scheduleStart"], "scheduleStart")
        schedule = data.get("chargingSchedule")
        where = "chargingSchedule."
        if not isinstance(schedule, Mapping):
            raise ValueError(f"chargingSchedule: expected a JSON object, got {schedule!r}")
    else:
        schedule = data
    unit = schedule.get("chargingRateUnit")
    if unit not in UNITS:
        raise ValueError(f"{where}chargingRateUnit: expected 'A' or 'W', got {unit!r}")
    if schedule.get("startSchedule") is not None:
        own = parse_datetime(schedule["startSchedule"], f"{where}startSchedule")
        start = start or own
    raw_periods = schedule.get("chargingSchedulePeriod")
    if not isinstance(raw_periods, list):
        raise ValueError(f"{where}chargingSchedulePeriod: expected a list, got {raw_periods!r}")
    periods = []
    for i, raw in enumerate(raw_periods):
        here = f"{where}chargingSchedulePeriod[{i}]"
        if not isinstance(raw, Mapping):
            raise ValueError(f"{here}: expected a JSON object, got {raw!r}")
        sp, limit, ph = raw.get("startPeriod"), raw.get("limit"), raw.get("numberPhases")
        if isinstance(sp, float) and sp.is_integer():
            sp = int(sp)
        if not isinstance(sp, int) or isinstance(sp, bool):
            raise ValueError(f"{here}.startPeriod: expected an integer, got {sp!r}")
        if not is_number(limit):
            raise ValueError(f"{here}.limit: expected a number, got {limit!r}")
        if ph is not None and (not isinstance(ph, int) or isinstance(ph, bool)):
            raise ValueError(f"{here}.numberPhases: expected an integer, got {ph!r}")
        periods.append(CompositePeriod(sp, float(limit), ph))
    duration = schedule.get("duration")
    if duration is not None and (not isinstance(duration, int) or isinstance(duration, bool)):
        raise ValueError(f"{where}duration: expected an integer, got {duration!r}")
    rate = schedule.get("minChargingRate")
    if rate is not None and not is_number(rate):
        raise ValueError(f"{where}minChargingRate: expected a number, got {rate!r}")
    return CompositeSchedule(
        unit, tuple(periods), start, duration, None if rate is None else float(rate)
    )
