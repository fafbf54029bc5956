"""Properties of the composite schedule, checked on generated profiles (hypothesis).

The oracle here evaluates §3.13 point by point, in whole epoch seconds, written
independently of the library's segment machinery; the composite must agree with it at
every boundary, one second before each, and at arbitrary instants.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hil.verify.charging_profiles import (
    ChargingProfile,
    ChargingSchedule,
    InstalledProfile,
    Kind,
    ProfileStore,
    Purpose,
    Recurrency,
    SchedulePeriod,
    amps_to_watts,
    compare_schedules,
    composite,
    limit_at,
    parse_composite,
    parse_profile,
    watts_to_amps,
)

T0 = datetime(2024, 5, 1, tzinfo=UTC)
EPOCH = int(T0.timestamp())
DAY = 86400
V = 230.0
TX_ID = 7
SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
    database=None,
)


# -- generated profiles ----------------------------------------------------------------------


@st.composite
def schedules(draw, kind: str) -> ChargingSchedule:
    unit = draw(st.sampled_from(["A", "W"]))
    count = draw(st.integers(1, 4))
    starts = sorted(draw(st.sets(st.integers(1, DAY - 1), min_size=count - 1, max_size=count - 1)))
    top = 630 if unit == "A" else 300_000  # tenths: 63 A, 30 kW
    periods = [
        SchedulePeriod(s, draw(st.integers(0, top)) / 10, draw(st.sampled_from([None, 1, 3])))
        for s in [0, *starts]
    ]
    duration = draw(st.one_of(st.none(), st.integers(60, 2 * DAY)))
    start = None
    if kind != "Relative" and draw(st.integers(0, 9)) > 0:  # now and then absent
        start = T0 + timedelta(seconds=draw(st.integers(-2 * DAY, 2 * DAY)))
    return ChargingSchedule(unit, tuple(periods), duration, start)


@st.composite
def profiles(draw, pid: int) -> tuple[int, ChargingProfile]:
    purpose = draw(st.sampled_from(list(Purpose)))
    kind = draw(st.sampled_from(list(Kind)))
    connector = {
        Purpose.CHARGE_POINT_MAX: 0,
        Purpose.TX: 1,
        Purpose.TX_DEFAULT: draw(st.sampled_from([0, 1])),
    }[purpose]
    valid_from = valid_to = None
    if draw(st.booleans()):
        valid_from = T0 + timedelta(seconds=draw(st.integers(-DAY, DAY)))
        if draw(st.booleans()):
            valid_to = valid_from + timedelta(seconds=draw(st.integers(1, DAY)))
    profile = ChargingProfile(
        charging_profile_id=pid,
        stack_level=draw(st.integers(0, 3)),
        purpose=purpose,
        kind=kind,
        schedule=draw(schedules(kind)),
        recurrency_kind=Recurrency.DAILY if kind is Kind.RECURRING else None,
        valid_from=valid_from,
        valid_to=valid_to,
    )
    return connector, profile


@st.composite
def scenarios(draw):
    store = ProfileStore(2)
    tx = draw(st.one_of(st.none(), st.integers(-DAY, DAY)))
    for pid in range(1, draw(st.integers(1, 6)) + 1):
        connector, profile = draw(profiles(pid))
        store.install(connector, profile, TX_ID if tx is not None else None)
    start = draw(st.integers(-DAY, DAY))
    duration = draw(st.integers(1, 2 * DAY))
    unit = draw(st.sampled_from([None, "A", "W"]))
    return store, tx, start, duration, unit


# -- the oracle: §3.13 at one instant, in epoch seconds --------------------------------------


def _secs(t: datetime) -> int:
    return int(t.timestamp())


def speaks(p: ChargingProfile, t: int, tx: int | None) -> SchedulePeriod | None:
    if p.valid_from is not None and t < _secs(p.valid_from):
        return None
    if p.valid_to is not None and t >= _secs(p.valid_to):
        return None
    s = p.schedule
    if p.kind is Kind.RELATIVE or s.start_schedule is None:
        if tx is None:
            return None
        off = t - tx
        if off < 0:
            return None
        if p.kind is Kind.RECURRING:
            off %= DAY
    else:
        off = t - _secs(s.start_schedule)
        if p.kind is Kind.RECURRING:
            off %= DAY
        elif off < 0:
            return None
    if s.duration is not None and off >= s.duration:
        return None
    return [q for q in s.periods if q.start_period <= off][-1]


def leading(entries: list[InstalledProfile], t: int, tx: int | None):
    best = None
    for e in entries:
        period = speaks(e.profile, t, tx)
        if period is not None and (best is None or e.profile.stack_level > best[0].stack_level):
            best = (e.profile, period)
    return best


def oracle(
    store: ProfileStore, t: int, tx: int | None, idle_anchor: int | None = None
) -> list[tuple[ChargingProfile, SchedulePeriod]]:
    """The leading profile of each role at ``t`` on connector 1: [cap?, Tx-or-default?].

    Without a transaction a Relative schedule counts from ``idle_anchor`` (the request).
    """
    anchor = tx if tx is not None else idle_anchor
    out = []
    cap = leading(store.profiles(0, Purpose.CHARGE_POINT_MAX), t, anchor)
    if cap:
        out.append(cap)
    inner = (
        (leading(store.profiles(1, Purpose.TX), t, tx) if tx is not None else None)
        or leading(store.profiles(1, Purpose.TX_DEFAULT), t, anchor)
        or leading(store.profiles(0, Purpose.TX_DEFAULT), t, anchor)
    )
    if inner:
        out.append(inner)
    return out


def amps(profile: ChargingProfile, period: SchedulePeriod) -> float:
    """A limit as current per phase: A is per phase, W the total over the period's phases."""
    if profile.unit == "A":
        return period.limit
    return period.limit / ((period.number_phases or 3) * V)


def _dt(t: int) -> datetime:
    return datetime.fromtimestamp(t, UTC)


def _instants(sched, start: int, duration: int, extra: list[int]) -> list[int]:
    points = {start, start + duration - 1}
    for p in sched.periods:
        points |= {start + p.start_period, start + p.start_period - 1}
    points |= {start + x % duration for x in extra}
    return sorted(t for t in points if start <= t < start + duration)


# -- properties --------------------------------------------------------------------------------


@SETTINGS
@given(scenarios(), st.lists(st.integers(0, 10 * DAY), max_size=20))
def test_composite_is_the_least_current_per_phase_and_never_above_any(scenario, extra):
    # §3.13.3 / K08 merge as current per phase (§7.12: A is per phase, W the total over
    # numberPhases): the composite never exceeds any speaking profile's per-phase limit, is
    # the least of them (rounded down), and uses no more phases than any merged period.
    store, tx, start, duration, unit = scenario
    tx_abs = None if tx is None else EPOCH + tx
    sched = composite(
        store, 1, T0 + timedelta(seconds=start), duration, unit, None if tx is None else _dt(tx_abs)
    )
    start_abs = EPOCH + start
    for t in _instants(sched, start_abs, duration, extra):
        got = sched.limit_at(t - start_abs)
        lead = oracle(store, t, tx_abs, start_abs)
        if not lead:
            assert got is None, (t, got)
            continue
        period = sched.period_at(t - start_abs)
        phases = period.number_phases
        got_a = got if sched.unit == "A" else got / (phases * V)
        step_a = 0.1 if sched.unit == "A" else 0.1 / (phases * V)  # one rounding step
        values = [amps(p, q) for p, q in lead]
        for v in values:  # never above any merged (speaking) profile's per-phase limit
            assert got_a <= v + 1e-6, (t, got, sched.unit, phases, values)
        assert got_a >= min(values) - step_a - 1e-6, (t, got, values)  # the least, rounded
        # never more phases than any merged period allows: the fewest of them
        assert phases == min(q.number_phases or 3 for _, q in lead), (t, phases, lead)
        # limit_at (what the output obeys) agrees with the schedule; without a transaction
        # the composite counts Relative schedules from the request, as a session started then
        anchor = _dt(tx_abs) if tx is not None else _dt(start_abs)
        now = limit_at(store, 1, _dt(t), sched.unit, anchor)
        assert (now.limit, now.number_phases) == (got, phases)


@SETTINGS
@given(scenarios())
def test_boundaries_are_where_some_profile_changes(scenario):
    store, tx, start, duration, unit = scenario
    tx_abs = None if tx is None else EPOCH + tx
    anchor = tx_abs if tx_abs is not None else EPOCH + start
    sched = composite(
        store, 1, T0 + timedelta(seconds=start), duration, unit, None if tx is None else _dt(tx_abs)
    )
    assert sched.periods[0].start_period == 0
    starts = [p.start_period for p in sched.periods]
    assert starts == sorted(set(starts)) and all(0 <= s < duration for s in starts)
    for a, b in zip(sched.periods, sched.periods[1:], strict=False):  # merged: all differ
        assert (a.limit, a.number_phases) != (b.limit, b.number_phases)
    for s in starts[1:]:
        t = EPOCH + start + s
        changed = [
            e.profile.charging_profile_id
            for e in store
            if speaks(e.profile, t - 1, anchor) != speaks(e.profile, t, anchor)
        ]
        assert changed, f"composite changes at +{s} s where no profile's period starts or ends"


def _shadowed_by(store: ProfileStore, gone: InstalledProfile) -> list[InstalledProfile]:
    """The profiles that ``gone`` could have been hiding (its fall-backs)."""
    p = gone.profile
    same_role = [
        e
        for e in store
        if e.connector_id == gone.connector_id
        and e.profile.purpose is p.purpose
        and e.profile.stack_level < p.stack_level
    ]
    if p.purpose is Purpose.TX:
        same_role += store.profiles(purpose=Purpose.TX_DEFAULT)
    elif p.purpose is Purpose.TX_DEFAULT and gone.connector_id == 1:
        same_role += store.profiles(0, Purpose.TX_DEFAULT)
    return same_role


@SETTINGS
@given(scenarios(), st.data())
def test_removing_a_profile_never_lowers_the_composite_unless_it_uncovers_another(scenario, data):
    # Taken literally ("removing a profile never lowers the composite") this is false under
    # §3.13.2: removing a higher stack level uncovers the lower one, which may be lower (see
    # test_removing_a_higher_stack_level_may_lower_the_limit). What holds: it can only go
    # down where the removed profile was hiding another one that speaks at that instant.
    store, tx, start, duration, _ = scenario
    if not len(store):
        return
    gone = data.draw(st.sampled_from(list(store)))
    after = store.copy()
    assert after.clear(id=gone.profile.charging_profile_id) == "Accepted"
    tx_dt = None if tx is None else T0 + timedelta(seconds=tx)
    begin = T0 + timedelta(seconds=start)
    unit = "A"  # per phase, as the merge compares
    before_s = composite(store, 1, begin, duration, unit, tx_dt)
    after_s = composite(after, 1, begin, duration, unit, tx_dt)
    fallbacks = _shadowed_by(after, gone)
    cuts = {p.start_period for p in before_s.periods} | {p.start_period for p in after_s.periods}
    anchor = EPOCH + tx if tx is not None else EPOCH + start
    for s in sorted(cuts):
        old, new = before_s.limit_at(s), after_s.limit_at(s)
        inf = float("inf")
        if (new if new is not None else inf) >= (old if old is not None else inf):
            continue
        t = EPOCH + start + s
        assert any(speaks(e.profile, t, anchor) for e in fallbacks), (
            f"+{s} s: removing profile {gone.profile.charging_profile_id} lowered the "
            f"limit from {old} to {new} without uncovering any other profile"
        )


def test_removing_a_higher_stack_level_may_lower_the_limit():
    # Stack 1 at 32 A over stack 0 at 10 A: the composite is 32 A; clear stack 1 and the
    # composite drops to 10 A. Conformant (§3.13.2), and why the property above is qualified.
    store = ProfileStore(2)
    for pid, stack, limit in ((1, 0, 10), (2, 1, 32)):
        store.install(
            1,
            parse_profile(
                {
                    "chargingProfileId": pid,
                    "stackLevel": stack,
                    "chargingProfilePurpose": "TxDefaultProfile",
                    "chargingProfileKind": "Absolute",
                    "chargingSchedule": {
                        "startSchedule": "2024-05-01T00:00:00Z",
                        "chargingRateUnit": "A",
                        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit}],
                    },
                }
            ),
        )
    assert limit_at(store, 1, T0).limit == 32.0
    store.clear(id=2)
    assert limit_at(store, 1, T0).limit == 10.0


@SETTINGS
@given(
    st.integers(0, 5000).map(lambda x: x / 10),
    st.sampled_from([1, 2, 3]),
    st.floats(100, 400).map(lambda v: round(v, 1)),
)
def test_amperes_to_watts_and_back_within_rounding(amps, phases, voltage):
    back = watts_to_amps(amps_to_watts(amps, phases, voltage), phases, voltage)
    # both conversions round down to 0.1: at most one step lost, never gained
    assert amps - 0.1 - 1e-9 <= back <= amps + 1e-9
    watts = amps * 100 // 1 / 10 * phases  # some W value on the 0.1 grid
    again = amps_to_watts(watts_to_amps(watts, phases, voltage), phases, voltage)
    assert watts - 0.1 * phases * voltage - 0.1 - 1e-6 <= again <= watts + 1e-6


@st.composite
def daily_profiles(draw):
    count = draw(st.integers(1, 4))
    starts = sorted(draw(st.sets(st.integers(1, DAY - 1), min_size=count - 1, max_size=count - 1)))
    limits = [draw(st.integers(0, 320)) / 10 for _ in range(count)]
    if draw(st.booleans()):
        limits[-1] = limits[0]  # the last period runs into the next day's first
    time_of_day = draw(st.one_of(st.just(0), st.integers(0, DAY - 1)))  # 0: midnight
    return ChargingProfile(
        1,
        0,
        Purpose.TX_DEFAULT,
        Kind.RECURRING,
        ChargingSchedule(
            "A",
            tuple(SchedulePeriod(s, lim) for s, lim in zip([0, *starts], limits, strict=True)),
            start_schedule=datetime(2023, 1, 1, tzinfo=UTC) + timedelta(seconds=time_of_day),
        ),
        recurrency_kind=Recurrency.DAILY,
    )


@SETTINGS
@given(daily_profiles(), st.integers(0, 30 * DAY))
def test_daily_recurring_repeats_and_wraps_at_the_cycle_start(profile, t):
    store = ProfileStore(1)
    store.install(1, profile)
    instant = T0 + timedelta(seconds=t)
    assert (
        limit_at(store, 1, instant).limit
        == limit_at(store, 1, instant + timedelta(days=1)).limit
        == limit_at(store, 1, instant + timedelta(days=7)).limit
    )
    # Across the wrap (the schedule's time of day): the last period runs until it, then the
    # first begins. Equal limits: no boundary at all; different: a boundary exactly there.
    wrap = profile.schedule.start_schedule + timedelta(
        days=(T0 - datetime(2023, 1, 1, tzinfo=UTC)).days + 1
    )
    before, after = wrap - timedelta(seconds=1), wrap
    assert limit_at(store, 1, before).limit == profile.schedule.periods[-1].limit
    assert limit_at(store, 1, after).limit == profile.schedule.periods[0].limit
    window = composite(store, 1, wrap - timedelta(hours=1), 7200)
    has_boundary = 3600 in [p.start_period for p in window.periods]
    first, last = profile.schedule.periods[0].limit, profile.schedule.periods[-1].limit
    assert has_boundary == (first != last)


@SETTINGS
@given(scenarios())
def test_profiles_survive_a_json_round_trip(scenario):
    store = scenario[0]
    for entry in store:
        assert parse_profile(entry.profile.to_json()) == entry.profile


@SETTINGS
@given(scenarios(), st.integers(0, 10_000).map(lambda x: x / 10))
def test_the_lab_accepts_its_own_composite_as_a_station_answer(scenario, station_max):
    store, tx, start, duration, unit = scenario
    tx_dt = None if tx is None else T0 + timedelta(seconds=tx)
    sched = composite(store, 1, T0 + timedelta(seconds=start), duration, unit, tx_dt)
    answer = parse_composite(sched.to_conf(1, no_limit=station_max))
    assert compare_schedules(sched, answer, 0.0, unlimited=station_max) == []


@st.composite
def installations(draw):
    """Profiles for two connectors with a transaction on connector 1, as install requests."""
    tx = draw(st.integers(-DAY, DAY))
    requests = []
    for pid in range(1, draw(st.integers(1, 7)) + 1):
        connector, profile = draw(profiles(pid))
        if profile.purpose is Purpose.TX_DEFAULT and draw(st.booleans()):
            connector = draw(st.sampled_from([0, 1, 2]))
        requests.append((connector, profile))
    start = draw(st.integers(-DAY, DAY))
    duration = draw(st.integers(1, 2 * DAY))
    unit = draw(st.sampled_from([None, "A", "W"]))
    return requests, tx, start, duration, unit


def _role(request: tuple[int, ChargingProfile]) -> tuple[int, str, int]:
    """Where install order matters (§5.16, K01.FR.05): the same connector, purpose and stack
    level, where a later profile replaces the earlier one."""
    connector, profile = request
    return connector, str(profile.purpose), profile.stack_level


def _reorder(requests: list, permutation: list[int]) -> list:
    """``requests`` shuffled by ``permutation``, keeping the order within each role."""
    shuffled = [requests[i] for i in permutation]
    queues: dict[tuple[int, str, int], list] = {}
    for request in requests:
        queues.setdefault(_role(request), []).append(request)
    return [queues[_role(request)].pop(0) for request in shuffled]


@SETTINGS
@given(installations(), st.data())
def test_install_order_across_purposes_and_connectors_does_not_change_the_composite(
    installation, data
):
    # §3.13.1-§3.13.3 (K08) rank profiles by purpose, connector and stack level, never by
    # when they arrived; only a profile of the same purpose and stack level on the same
    # connector replaces (§5.16), so that order is kept. Every connector and connector 0
    # (the station) must come out the same.
    requests, tx, start, duration, unit = installation
    permutation = data.draw(st.permutations(range(len(requests))))
    tx_dt = T0 + timedelta(seconds=tx)
    stores = []
    for order in (requests, _reorder(requests, permutation)):
        store = ProfileStore(2)
        for connector, profile in order:
            store.install(connector, profile, TX_ID if connector == 1 else None)
        stores.append(store)
    begin = T0 + timedelta(seconds=start)
    for connector in (0, 1, 2):
        a, b = (
            composite(s, connector, begin, duration, unit, tx_starts={1: tx_dt}) for s in stores
        )
        assert a == b, (connector, a, b)


@SETTINGS
@given(installations())
def test_connector_0_is_the_cap_and_the_sum_of_the_connectors(installation):
    # GetCompositeSchedule.req connectorId 0 (1.6) / K08 evseId 0: the station's total. Per
    # phase it never exceeds the cap, nor the sum of the connectors' own composites.
    requests, tx, start, duration, _ = installation
    store = ProfileStore(2)
    for connector, profile in requests:
        store.install(connector, profile, TX_ID if connector == 1 else None)
    begin = T0 + timedelta(seconds=start)
    starts = {1: T0 + timedelta(seconds=tx)}
    total = composite(store, 0, begin, duration, "A", tx_starts=starts)
    each = [composite(store, c, begin, duration, "A", tx_starts=starts) for c in (1, 2)]
    caps = ProfileStore(2)
    for entry in store.profiles(0, Purpose.CHARGE_POINT_MAX):
        caps.install(0, entry.profile)
    cap = composite(caps, 0, begin, duration, "A")
    for s in sorted({p.start_period for x in (total, cap, *each) for p in x.periods}):
        got = total.limit_at(s)
        bounds = [cap.limit_at(s)]
        parts = [x.limit_at(s) for x in each]
        if None not in parts:
            bounds.append(sum(parts) + 0.1 * len(parts))  # each part rounded down once
        for bound in bounds:
            if bound is not None:
                assert got is not None and got <= bound + 1e-6, (s, got, bounds)
