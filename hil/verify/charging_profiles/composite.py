"""The composite schedule: the one limit in force at each instant (OCPP 1.6 §3.13, §5.7;
2.0.1 Part 2 K08).

Rules, per instant ``t`` on a connector:

1. A profile speaks at ``t`` when ``t`` is inside ``[validFrom, validTo)`` and inside its
   schedule: Absolute from ``startSchedule``; Relative from the transaction's start (on a
   connector without one, from the request: as a session started now would count, §7.13
   "situation-specific start point"); Recurring from ``startSchedule`` repeated every day or
   week (``t`` taken modulo the cycle); in each case for ``duration`` seconds if one is
   given, else indefinitely.
2. Within a purpose the speaking profile with the highest stack level leads (§3.13.2); a
   higher one that is silent at ``t`` (expired, not yet valid, past its duration) does not
   shadow the lower ones.
3. A TxProfile leads over any TxDefaultProfile; a TxDefaultProfile installed on the
   connector leads over one installed on connector 0 (§3.13.1).
4. The limit is the lower of the leading ChargePointMaxProfile and the leading
   TxProfile-or-TxDefaultProfile (§3.13.3, K08), compared as **current per phase**: a limit
   in A is per phase (§7.12 / ChargingRateUnitType), one in W is the total over the
   period's phases, so it counts as W / (V x numberPhases). The result may use no more
   phases than any merged period allows: the smallest numberPhases (3 where absent, §7.14).
5. Connector 0 is the station (GetCompositeSchedule.req: "the expected consumption for the
   grid connection"; K08 evseId 0): the lower of the ChargePointMaxProfile and the sum of
   what each connector's own profiles allow.
6. No profile speaks: no limit (``limit is None``).

Where stations may legitimately read the specification otherwise, :class:`Reading` names
the alternatives and :func:`open_readings` lists them (a check accepts each with a remark).
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
    round_limit,
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


# -- how a station may read the open clauses ------------------------------------------------


@dataclass(frozen=True)
class Reading:
    """One way of reading the clauses the specifications leave open.

    The lab predicts with :data:`LAB_READING`; :func:`open_readings` lists the others a
    conforming station may take, each accepted with a remark (never silently).
    """

    #: connector 0's sum: an idle connector no profile limits counts as "unlimited" (the
    #: station could start a session there) or is "uncounted" (it draws nothing)
    idle_unprofiled: str = "unlimited"
    #: a Relative (or startSchedule-less) schedule on a connector without a transaction:
    #: anchored at the request ("now", as a session started now) or "silent" (no limit)
    relative_when_idle: str = "now"
    #: TxDefaultProfiles of connector 0 and of the connector form one stack (highest stack
    #: level leads, at equal level the later installed) instead of the connector's own leading
    defaults_one_stack: bool = False


LAB_READING = Reading()

#: (field, value, remark): each reading other than the lab's, and why it is accepted
_OPEN: tuple[tuple[str, Any, str], ...] = (
    (
        "idle_unprofiled",
        "uncounted",
        "connector 0's composite leaves out idle connectors no profile limits (the lab counts "
        "them as unlimited): OCPP 1.6 GetCompositeSchedule.req connectorId 0 asks for the "
        "'expected consumption for the grid connection', 2.0.1 K08 (evseId 0) for the "
        "station's expected consumption; neither says how an idle connector counts",
    ),
    (
        "relative_when_idle",
        "silent",
        "a Relative TxDefaultProfile on a connector without a transaction is reported as no "
        "limit (the lab anchors it at the request, as a session started now would be "
        "limited): OCPP 1.6 §7.13 / 2.0.1 ChargingProfileKindEnumType Relative count "
        "'relative to a situation-specific start point (such as the start of a session)', "
        "and neither §5.7 nor K08 names that point for an idle connector",
    ),
    (
        "defaults_one_stack",
        True,
        "the connector's TxDefaultProfile and connector 0's are stacked together (a "
        "connector-0 one installed later, or at a higher stack level, wins; the lab lets "
        "the connector's own lead): OCPP 1.6 §3.13.2 ranks valid profiles by stack level "
        "alone and §5.16 replaces the same purpose and stack level 'on the Charge Point'; "
        "2.0.1 K01 does not rank evseId 0 against the EVSE's own",
    ),
)


def open_readings() -> list[tuple[Reading, list[str]]]:
    """Every other reading (and combination of them) with the remarks that name it, the
    fewest departures from the lab's reading first."""
    out: list[tuple[Reading, list[str]]] = []
    for mask in range(1, 1 << len(_OPEN)):
        chosen = [item for i, item in enumerate(_OPEN) if mask >> i & 1]
        reading = replace(LAB_READING, **{field: value for field, value, _ in chosen})
        out.append((reading, [remark for _, _, remark in chosen]))
    return sorted(out, key=lambda item: len(item[1]))


# -- the speaking profiles and how they merge -----------------------------------------------


@dataclass(frozen=True)
class _Hit:
    """A profile's period in force at one instant."""

    entry: InstalledProfile
    period: SchedulePeriod
    phases: int  # numberPhases, the default where the period leaves it out

    @property
    def unit(self) -> str:
        return self.entry.profile.unit

    def amps(self, voltage_v: float) -> float:
        """The limit as current per phase (exact): a W limit over its own phases."""
        if self.unit == "A":
            return self.period.limit
        return self.period.limit / (voltage_v * self.phases)


@dataclass(frozen=True)
class _Merged:
    """The merged limit at one instant: least current per phase, fewest phases."""

    amps: float  # per phase, exact
    phases: int
    unit: str  # the unit of the profile (or sum) that sets ``amps``
    lead: _Hit | None  # the profile that sets ``amps``; None: a sum over connectors


def _one(hit: _Hit, voltage_v: float) -> _Merged:
    return _Merged(hit.amps(voltage_v), hit.phases, hit.unit, hit)


def _least(parts: Sequence[_Merged]) -> _Merged:
    """§3.13.3 / K08 as amperes per phase: the lowest current wins (the first on a tie: the
    session's side), and the result may use no more phases than any merged period allows."""
    best = parts[0]
    for part in parts[1:]:
        if part.amps < best.amps - 1e-9:
            best = part
    return replace(best, phases=min(p.phases for p in parts))


def _leading(
    group: Sequence[InstalledProfile], t: datetime, anchor: datetime | None, phases: int
) -> _Hit | None:
    for entry in group:
        period = period_at(entry.profile, t, anchor)
        if period is not None:
            return _Hit(entry, period, period.number_phases or phases)
    return None


@dataclass(frozen=True)
class _Session:
    """What one connector's own profiles allow: TxProfile, else TxDefaultProfile."""

    connector_id: int
    running: bool
    anchor: datetime | None  # where a Relative schedule starts
    groups: tuple[tuple[InstalledProfile, ...], ...]

    def leading(self, t: datetime, phases: int) -> _Hit | None:
        for group in self.groups:
            hit = _leading(group, t, self.anchor, phases)
            if hit is not None:
                return hit
        return None


class _Plan:
    """The profiles that can speak for a connector (connector 0: for every connector)."""

    def __init__(
        self,
        store: ProfileStore,
        connector_id: int,
        tx_starts: Mapping[int, datetime],
        idle_anchor: datetime | None,
        reading: Reading,
    ) -> None:
        order = list(store)

        def ranked(entries: Iterable[InstalledProfile]) -> tuple[InstalledProfile, ...]:
            # highest stack level first; at an equal level the later installed first
            return tuple(
                sorted(entries, key=lambda e: (e.profile.stack_level, order.index(e)), reverse=True)
            )

        def anchor_of(connector: int) -> datetime | None:
            tx = tx_starts.get(connector)
            if tx is not None:
                return tx
            return idle_anchor if reading.relative_when_idle == "now" else None

        self.cap = ranked(store.profiles(0, Purpose.CHARGE_POINT_MAX))
        self.cap_anchor = anchor_of(connector_id)
        zero_defaults = store.profiles(0, Purpose.TX_DEFAULT)
        if connector_id:
            connectors = [connector_id]
        else:
            # connector 0 is the station: every connector's own allowance, summed
            known = store.connectors or max(
                [e.connector_id for e in store] + list(tx_starts), default=0
            )
            connectors = list(range(1, known + 1))
        self.connector_id = connector_id
        self.reading = reading
        self.sessions: list[_Session] = []
        for c in connectors:
            running = tx_starts.get(c) is not None
            tx = ranked(store.profiles(c, Purpose.TX)) if running else ()
            own = store.profiles(c, Purpose.TX_DEFAULT)
            if reading.defaults_one_stack:
                defaults: tuple[tuple[InstalledProfile, ...], ...] = (
                    ranked([*own, *zero_defaults]),
                )
            else:
                defaults = (ranked(own), ranked(zero_defaults))
            self.sessions.append(_Session(c, running, anchor_of(c), (tx, *defaults)))

    def entries(self) -> Iterable[tuple[InstalledProfile, datetime | None]]:
        """Every profile that may speak, with the anchor its schedule counts from."""
        for entry in self.cap:
            yield entry, self.cap_anchor
        for session in self.sessions:
            for group in session.groups:
                for entry in group:
                    yield entry, session.anchor

    def at(self, t: datetime, voltage_v: float, phases: int) -> _Merged | None:
        """The merged limit at ``t``; None: nothing limits."""
        cap = _leading(self.cap, t, self.cap_anchor, phases)
        parts = []
        if self.connector_id:
            inner = self.sessions[0].leading(t, phases)
            if inner is not None:
                parts.append(_one(inner, voltage_v))
        else:
            total = self._sum(t, voltage_v, phases)
            if total is not None:
                parts.append(total)
        if cap is not None:
            parts.append(_one(cap, voltage_v))
        return _least(parts) if parts else None

    def _sum(self, t: datetime, voltage_v: float, phases: int) -> _Merged | None:
        """Connector 0: the connectors' allowances added per phase (as if all drew on the
        same phases: the worst phase), over the most phases any of them uses. A connector
        nothing limits makes the sum unlimited, unless it is idle and the reading leaves
        such connectors out. None: no limit from the connectors."""
        hits = []
        for session in self.sessions:
            hit = session.leading(t, phases)
            if hit is None:
                if session.running or self.reading.idle_unprofiled == "unlimited":
                    return None
                continue
            hits.append(hit)
        if not hits:
            return None
        if len(hits) == 1:
            return _one(hits[0], voltage_v)
        return _Merged(
            sum(h.amps(voltage_v) for h in hits), max(h.phases for h in hits), hits[0].unit, None
        )


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
        if self.profile_id is None:
            return (
                f"{self.limit:g} {self.unit} on {self.number_phases} phase(s), the sum of "
                "the connectors' profiles"
            )
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


def _starts(
    connector_id: int, tx_start: datetime | None, tx_starts: Mapping[int, datetime] | None
) -> dict[int, datetime]:
    """Transaction starts by connector, in UTC (``tx_start`` is ``connector_id``'s)."""
    out = {c: utc(t, f"tx_starts[{c}]") for c, t in (tx_starts or {}).items() if t is not None}
    if connector_id and tx_start is not None:
        out[connector_id] = utc(tx_start, "tx_start")
    return out


def _value(m: _Merged, unit: str, voltage_v: float) -> float:
    """The merged limit in ``unit``: A per phase, or W over the merged phases; rounded down.

    A profile already in ``unit`` on the same phases gives its own figure (no round trip).
    """
    lead = m.lead
    if lead is not None and lead.unit == unit and lead.phases == m.phases:
        return round_limit(lead.period.limit)
    if unit == "A":
        return round_limit(m.amps)
    return round_limit(m.amps * voltage_v * m.phases)


def _min_rate(m: _Merged, unit: str, voltage_v: float) -> float | None:
    """minChargingRate of the profile that sets the limit, per phase, in ``unit``."""
    if m.lead is None or m.lead.entry.profile.schedule.min_charging_rate is None:
        return None
    lead = m.lead
    rate = lead.entry.profile.schedule.min_charging_rate
    if lead.unit == unit and lead.phases == m.phases:
        return round_limit(rate)
    amps = rate if lead.unit == "A" else rate / (voltage_v * lead.phases)
    return round_limit(amps if unit == "A" else amps * voltage_v * m.phases)


def limit_at(
    store: ProfileStore,
    connector_id: int,
    instant: datetime,
    unit: str | None = None,
    tx_start: datetime | None = None,
    voltage_v: float = DEFAULT_VOLTAGE_V,
    phases: int = DEFAULT_PHASES,
    *,
    tx_starts: Mapping[int, datetime] | None = None,
    reading: Reading = LAB_READING,
) -> AppliedLimit:
    """The single limit in force on ``connector_id`` at ``instant``: what the output obeys.

    ``unit`` None keeps the unit of the profile that sets the limit. ``tx_start`` None
    means no transaction runs (TxProfiles and Relative profiles are then silent: nothing is
    offered without a session). ``phases`` is the numberPhases assumed where a period leaves
    it out (the specification says 3). Connector 0 (the station) needs ``tx_starts``, the
    transactions running on the connectors.
    """
    _check_args(connector_id, unit, voltage_v, phases)
    instant = utc(instant, "instant")
    starts = _starts(connector_id, tx_start, tx_starts)
    plan = _Plan(store, connector_id, starts, None, reading)
    merged = plan.at(instant, voltage_v, phases)
    if merged is None:
        return AppliedLimit(None, unit)
    out_unit = unit or merged.unit
    limit = _value(merged, out_unit, voltage_v)
    if merged.lead is None:
        return AppliedLimit(limit, out_unit, merged.phases)
    profile = merged.lead.entry.profile
    return AppliedLimit(
        limit,
        out_unit,
        merged.phases,
        profile.charging_profile_id,
        profile.purpose,
        merged.lead.entry.connector_id,
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
    *,
    tx_starts: Mapping[int, datetime] | None = None,
    reading: Reading = LAB_READING,
) -> CompositeSchedule:
    """The composite schedule of ``connector_id`` over ``[start, start + duration_s)``.

    As GetCompositeSchedule asks for it (1.6 §5.7, 2.0.1 K08): periods relative to
    ``start``, in ``unit`` (None: the unit of the profile that sets the first limit in the
    window; "A" if none does), adjacent equal periods merged, ``limit`` None where no
    profile applies. Limits merge per phase (see the module's rules); a converted limit is
    rounded down to 0.1. Boundaries fall on whole seconds after ``start`` (OCPP's
    startPeriod is an integer): a sub-second one is rounded down. ``minChargingRate`` is
    that of the profile that sets the first limit, converted. On a connector without a
    transaction a Relative schedule counts from ``start`` (``reading`` may say otherwise).
    Connector 0 is the station: ``tx_starts`` gives the transactions on its connectors.
    """
    _check_args(connector_id, unit, voltage_v, phases)
    if not isinstance(duration_s, int) or isinstance(duration_s, bool) or duration_s < 1:
        raise ValueError(f"duration_s: expected whole seconds >= 1, got {duration_s!r}")
    start = utc(start, "start")
    starts = _starts(connector_id, tx_start, tx_starts)
    end = start + timedelta(seconds=duration_s)
    plan = _Plan(store, connector_id, starts, start, reading)
    cuts = {start}
    for entry, anchor in plan.entries():
        cuts |= profile_boundaries(entry.profile, start, end, anchor)
    merged = [(t, plan.at(t, voltage_v, phases)) for t in sorted(cuts)]
    out_unit = unit or next((m.unit for _, m in merged if m is not None), "A")
    raw: list[CompositePeriod] = []
    min_rate: float | None = None
    first_limit = True
    for t, m in merged:
        offset = (t - start) // _SECOND
        if m is None:
            period = CompositePeriod(offset, None, None)
        else:
            period = CompositePeriod(offset, _value(m, out_unit, voltage_v), m.phases)
            if first_limit:
                min_rate, first_limit = _min_rate(m, out_unit, voltage_v), False
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
