"""The virtual station's smart charging (OCPP 1.6 §3.13) against a real back office.

Everything on loopback: profiles go out as SetChargingProfile from the back office, the
answers come back over the wire, and the limit is read where the EV sees it, at the pilot
(the bench physics), within ~0.5 s of each period boundary.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from hil.sim.physics import current_to_duty, duty_to_current
from hil.verify.charging_profiles import amps_to_watts, composite, parse_datetime, parse_profile
from tests.sim.maintenance_rig import MaintenanceRig, rig_factory_for

CONNECTOR = 1
MAX_A = 32.0  # dut.max_current_a of lab_configs/virtual.yaml (3 phases, 230 V)
#: How late the pilot may follow a period boundary.
REACTION_S = 0.5
MEASURANDS = "Energy.Active.Import.Register,Current.Offered,Current.Import"


@pytest.fixture
def rig_factory(tmp_path) -> Iterator[Any]:
    yield from rig_factory_for(tmp_path)


# -- helpers ---------------------------------------------------------------------------


def iso(stamp: datetime) -> str:
    return stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def plain(data: Any) -> Any:
    """A back-office answer with its Decimals (the library's float parsing) as floats."""
    if isinstance(data, Decimal):
        return float(data)
    if isinstance(data, dict):
        return {k: plain(v) for k, v in data.items()}
    if isinstance(data, list):
        return [plain(v) for v in data]
    return data


def profile(
    pid: int,
    periods: list[tuple[int, float]] | list[tuple[int, float, int]],
    *,
    stack: int = 0,
    purpose: str = "TxDefaultProfile",
    kind: str = "Absolute",
    unit: str = "A",
    start: datetime | None = None,
    duration: int | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A csChargingProfiles object; Absolute profiles start now unless ``start`` says."""
    schedule: dict[str, Any] = {
        "chargingRateUnit": unit,
        "chargingSchedulePeriod": [
            {"startPeriod": p[0], "limit": p[1]} | ({"numberPhases": p[2]} if len(p) > 2 else {})
            for p in periods
        ],
    }
    if kind != "Relative":
        schedule["startSchedule"] = iso(start or datetime.now(UTC))
    if duration is not None:
        schedule["duration"] = duration
    return {
        "chargingProfileId": pid,
        "stackLevel": stack,
        "chargingProfilePurpose": purpose,
        "chargingProfileKind": kind,
        "chargingSchedule": schedule,
    } | extra


def set_profile(rig: MaintenanceRig, connector: int, prof: dict[str, Any]) -> str:
    answer = rig.call("SetChargingProfile", {"connectorId": connector, "csChargingProfiles": prof})
    return answer["status"]


def clear(rig: MaintenanceRig, **fields: Any) -> str:
    return rig.call("ClearChargingProfile", fields)["status"]


def get_composite(rig: MaintenanceRig, connector: int, duration: int, **extra: Any) -> dict:
    return plain(
        rig.call("GetCompositeSchedule", {"connectorId": connector, "duration": duration} | extra)
    )


def limits(conf: dict[str, Any]) -> list[tuple[int, float]]:
    return [
        (p["startPeriod"], p["limit"]) for p in conf["chargingSchedule"]["chargingSchedulePeriod"]
    ]


def installed(rig: MaintenanceRig) -> list[tuple[int, int, str]]:
    """(connector, chargingProfileId, purpose) of every profile the station keeps."""
    return rig.on_loop(
        lambda: sorted(
            (e.connector_id, e.profile.charging_profile_id, str(e.profile.purpose))
            for e in rig.station.nv.charging_profiles
        )
    )


def pilot_a(rig: MaintenanceRig) -> float:
    """The current the pilot offers now, as the EV reads it from the duty cycle."""
    return duty_to_current(rig.on_loop(lambda: rig.physics.pilot_duty))


def offers(amps: float) -> float:
    """What the EV reads from the pilot when the station offers ``amps``."""
    return duty_to_current(current_to_duty(amps))


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.02)


def wait_pilot(rig: MaintenanceRig, amps: float, timeout: float = 3.0) -> None:
    expected = offers(amps) if amps >= 6 else 0.0
    try:
        wait_until(lambda: abs(pilot_a(rig) - expected) < 0.01, timeout, f"pilot {amps} A")
    except AssertionError:
        raise AssertionError(f"the pilot offers {pilot_a(rig)} A, not {expected} A") from None


def hold_pilot(rig: MaintenanceRig, amps: float, seconds: float) -> None:
    """The pilot keeps offering ``amps`` for ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert pilot_a(rig) == pytest.approx(offers(amps), abs=0.01)
        time.sleep(0.05)


class PilotLog:
    """Every change of the pilot duty, with its wall-clock time (recorded on the loop)."""

    def __init__(self, rig: MaintenanceRig) -> None:
        self.physics = rig.physics
        self.changes: list[tuple[float, float | None]] = []
        self._last = rig.on_loop(lambda: rig.physics.pilot_duty)
        rig.on_loop(rig.physics.subscribe, self._on_change)

    def _on_change(self) -> None:
        duty = self.physics.pilot_duty
        if duty != self._last:
            self._last = duty
            self.changes.append((time.time(), duty))

    def first_change_to(self, amps: float, after: float) -> float:
        """When the pilot first offered ``amps`` at or after wall time ``after``."""
        duty = current_to_duty(amps)
        for stamp, d in list(self.changes):
            if stamp >= after and d == duty:
                return stamp
        raise AssertionError(f"the pilot never offered {amps} A after {after}: {self.changes}")


def start_charging(rig: MaintenanceRig, tag_index: int = 0) -> int:
    """Plug, present a tag, charge (EV in state C); the transaction id once the station
    knows it."""
    tag = rig.cfg.tags.valid[tag_index]
    mark = rig.journal.cursor
    rig.on_loop(rig.physics.set_ev_state, "B")
    rig.on_loop(rig.station.charging.present_tag, tag)
    conf = rig.wait_for("StartTransaction", mark, ("CALLRESULT",), "tx")
    tx_id = conf.payload["transactionId"]

    def known() -> bool:
        tx = rig.on_loop(lambda: rig.station.charging.transaction(CONNECTOR))
        return tx is not None and tx.transaction_id == tx_id

    wait_until(known, 5, "the transaction id at the station")
    rig.on_loop(rig.physics.set_ev_state, "C")
    rig.wait_for("StatusNotification", mark, connectorId=CONNECTOR, status="Charging")
    return tx_id


def stop_charging(rig: MaintenanceRig, tag_index: int = 0) -> None:
    mark = rig.journal.cursor
    rig.on_loop(rig.station.charging.present_tag, rig.cfg.tags.valid[tag_index])
    rig.wait_for("StopTransaction", mark)
    rig.on_loop(rig.physics.set_ev_state, "A")
    rig.wait_for("StatusNotification", mark, connectorId=CONNECTOR, status="Available")


def meter_values(rig: MaintenanceRig) -> dict[str, float]:
    """A triggered MeterValues of the connector: measurand -> value (L1 for per-phase)."""
    assert rig.call("ChangeConfiguration", {"key": "MeterValuesSampledData", "value": MEASURANDS})[
        "status"
    ] in ("Accepted", "RebootRequired")
    mark = rig.journal.cursor
    assert rig.call("TriggerMessage", {"requestedMessage": "MeterValues", "connectorId": 1}) == {
        "status": "Accepted"
    }
    frame = rig.wait_for("MeterValues", mark, connectorId=CONNECTOR)
    out: dict[str, float] = {}
    for sv in frame.payload["meterValue"][0]["sampledValue"]:
        if sv.get("phase") in (None, "L1"):
            out[sv["measurand"]] = float(sv["value"])
    return out


def reboot(rig: MaintenanceRig) -> None:
    mark = rig.journal.cursor
    assert rig.call("Reset", {"type": "Hard"}) == {"status": "Accepted"}
    rig.wait_for("BootNotification", mark, ("CALLRESULT",), "tx", status="Accepted")
    rig.wait_for("StatusNotification", mark, connectorId=CONNECTOR)


def expected_conf(rig: MaintenanceRig, conf: dict[str, Any], unit: str | None) -> dict:
    """The lab's composite of the station's own store over the window the station chose,
    written as the station must (no limit = the station's maximum on dut.phases)."""

    def compute() -> dict[str, Any]:
        station = rig.station
        start = parse_datetime(conf["scheduleStart"])
        running = {c: station.charging.transaction(c) for c in range(1, station.n_connectors + 1)}
        schedule = composite(
            station.nv.charging_profiles,
            conf["connectorId"],
            start,
            conf["chargingSchedule"]["duration"],
            unit,
            voltage_v=rig.cfg.smart_charging.voltage_v,
            tx_starts={c: parse_datetime(tx.started) for c, tx in running.items() if tx},
        )
        no_limit = (
            MAX_A
            if schedule.unit == "A"
            else amps_to_watts(MAX_A, rig.cfg.dut.phases, rig.cfg.smart_charging.voltage_v)
        )
        return schedule.filled(no_limit, rig.cfg.dut.phases).to_conf(conf["connectorId"])

    return rig.on_loop(compute)


def same_conf(reported: dict[str, Any], expected: dict[str, Any]) -> None:
    """Equal, the timestamps compared as instants (the station writes milliseconds)."""
    r, e = dict(reported), dict(expected)
    r_sched, e_sched = dict(r.pop("chargingSchedule")), dict(e.pop("chargingSchedule"))
    for a, b in ((r, e), (r_sched, e_sched)):
        for key in ("scheduleStart", "startSchedule"):
            if key in a or key in b:
                assert parse_datetime(a.pop(key)) == parse_datetime(b.pop(key))
    assert r == e
    assert r_sched == e_sched


# -- SetChargingProfile and the output ---------------------------------------------------


def test_limit_follows_period_boundaries_at_the_pilot_and_in_meter_values(rig_factory):
    rig = rig_factory()
    start_charging(rig)
    assert pilot_a(rig) == offers(MAX_A)
    log = PilotLog(rig)
    t0 = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=2)
    prof = profile(1, [(0, 16), (2, 10), (4, 20)], start=t0)
    assert set_profile(rig, CONNECTOR, prof) == "Accepted"
    assert pilot_a(rig) == offers(MAX_A)  # not started yet: no limit
    wait_until(lambda: time.time() > t0.timestamp() + 4.6, 10, "the last boundary")
    delays = []
    for offset, amps in ((0, 16), (2, 10), (4, 20)):
        boundary = t0.timestamp() + offset
        changed = log.first_change_to(amps, boundary - 1.0)
        delays.append(changed - boundary)
    assert all(0 <= d <= REACTION_S for d in delays), delays
    print(f"boundary -> pilot delays: {[f'{d * 1000:.0f} ms' for d in delays]}")
    # the EV draws what is offered; MeterValues say so
    values = meter_values(rig)
    assert values["Current.Offered"] == 20.0
    assert values["Current.Import"] == pytest.approx(offers(20), abs=0.01)
    assert rig.on_loop(rig.physics.current_a) == pytest.approx(offers(20), abs=0.01)


def test_relative_profile_counts_from_the_transaction_start(rig_factory):
    rig = rig_factory()
    prof = profile(1, [(0, 10), (2, 16)], kind="Relative")
    assert set_profile(rig, 0, prof) == "Accepted"
    log = PilotLog(rig)
    start_charging(rig)
    started = rig.on_loop(lambda: parse_datetime(rig.station.charging.transaction(1).started))
    wait_pilot(rig, 16, timeout=4)
    first = log.first_change_to(10, started.timestamp() - 0.1)
    second = log.first_change_to(16, started.timestamp())
    assert 0 <= first - started.timestamp() <= REACTION_S
    assert 0 <= second - (started.timestamp() + 2) <= REACTION_S


def test_below_six_amps_the_pilot_offers_no_pwm(rig_factory):
    rig = rig_factory()
    start_charging(rig)
    mark = rig.journal.cursor
    assert set_profile(rig, CONNECTOR, profile(1, [(0, 5)])) == "Accepted"
    wait_until(lambda: rig.on_loop(lambda: rig.physics.pilot_duty) is None, 3, "no PWM")
    assert rig.on_loop(rig.physics.current_a) == 0.0
    rig.wait_for("StatusNotification", mark, connectorId=CONNECTOR, status="SuspendedEVSE")
    assert meter_values(rig)["Current.Offered"] == 0.0
    mark = rig.journal.cursor
    assert set_profile(rig, CONNECTOR, profile(1, [(0, 6)])) == "Accepted"
    wait_pilot(rig, 6)
    rig.wait_for("StatusNotification", mark, connectorId=CONNECTOR, status="Charging")


@pytest.mark.parametrize(
    ("number_phases", "ev_phases", "amps"),
    [
        (None, 3, 10.0),  # numberPhases absent: 3; 6900 W / (3 x 230 V)
        (3, 3, 10.0),
        (1, 3, 30.0),  # 6900 W / 230 V
        (3, 1, 10.0),  # the EV's own phase count does not change the conversion
    ],
)
def test_watt_limits_are_converted_with_the_period_phases(
    rig_factory, number_phases, ev_phases, amps
):
    rig = rig_factory()
    rig.on_loop(lambda: rig.physics.set_ev_limits(phases=ev_phases))
    start_charging(rig)
    period = (0, 6900) if number_phases is None else (0, 6900, number_phases)
    assert set_profile(rig, CONNECTOR, profile(1, [period], unit="W")) == "Accepted"
    wait_pilot(rig, amps)
    assert rig.on_loop(lambda: rig.station.charging_limit_a(CONNECTOR)) == amps


def test_higher_stack_level_leads_while_it_speaks(rig_factory):
    rig = rig_factory()
    start_charging(rig)
    t0 = datetime.now(UTC)
    assert set_profile(rig, 0, profile(1, [(0, 20)], stack=0, start=t0)) == "Accepted"
    wait_pilot(rig, 20)
    assert set_profile(rig, 0, profile(2, [(0, 10)], stack=1, start=t0, duration=3)) == "Accepted"
    wait_pilot(rig, 10, timeout=1)
    # past its duration the higher one is silent and the lower one shows through
    wait_pilot(rig, 20, timeout=3.5)
    assert time.time() >= t0.timestamp() + 3


def test_connector_default_leads_over_connector_0_and_tx_profile_over_both(rig_factory):
    rig = rig_factory()
    tx_id = start_charging(rig)
    assert set_profile(rig, 0, profile(1, [(0, 12)], stack=5)) == "Accepted"
    wait_pilot(rig, 12)
    assert set_profile(rig, CONNECTOR, profile(2, [(0, 20)], stack=0)) == "Accepted"
    wait_pilot(rig, 20)
    tx_prof = profile(3, [(0, 25)], purpose="TxProfile", transactionId=tx_id)
    assert set_profile(rig, CONNECTOR, tx_prof) == "Accepted"
    wait_pilot(rig, 25)
    # a ChargePointMaxProfile caps whatever the session's profile says
    assert set_profile(rig, 0, profile(4, [(0, 16)], purpose="ChargePointMaxProfile")) == (
        "Accepted"
    )
    wait_pilot(rig, 16)


def test_tx_profile_needs_a_running_transaction_and_ends_with_it(rig_factory):
    rig = rig_factory()
    tx_prof = profile(3, [(0, 10)], purpose="TxProfile")
    assert set_profile(rig, CONNECTOR, tx_prof) == "Rejected"
    tx_id = start_charging(rig)
    assert set_profile(rig, 0, tx_prof) == "Rejected"  # never on connector 0
    wrong = profile(3, [(0, 10)], purpose="TxProfile", transactionId=tx_id + 1)
    assert set_profile(rig, CONNECTOR, wrong) == "Rejected"
    assert set_profile(rig, CONNECTOR, tx_prof) == "Accepted"
    wait_pilot(rig, 10)
    assert installed(rig) == [(1, 3, "TxProfile")]
    stop_charging(rig)
    assert installed(rig) == []
    start_charging(rig)
    assert pilot_a(rig) == offers(MAX_A)


def test_configuration_limits_are_enforced(rig_factory):
    rig = rig_factory()
    keys = {
        k["key"]: k["value"]
        for k in rig.call(
            "GetConfiguration",
            {"key": ["ChargeProfileMaxStackLevel", "MaxChargingProfilesInstalled"]},
        )["configurationKey"]
    }
    assert keys == {"ChargeProfileMaxStackLevel": "10", "MaxChargingProfilesInstalled": "10"}
    assert set_profile(rig, 0, profile(1, [(0, 16)], stack=11)) == "Rejected"
    for level in range(10):
        assert set_profile(rig, 0, profile(10 + level, [(0, 16)], stack=level)) == "Accepted"
    assert set_profile(rig, 0, profile(30, [(0, 16)], stack=10)) == "Rejected"  # an 11th
    assert set_profile(rig, 0, profile(10, [(0, 12)], stack=0)) == "Accepted"  # replaces
    assert len(installed(rig)) == 10
    many = profile(40, [(i * 10, 16) for i in range(25)], stack=0)
    assert set_profile(rig, CONNECTOR, many) == "Rejected"  # ChargingScheduleMaxPeriods 24
    assert set_profile(rig, 3, profile(41, [(0, 16)])) == "Rejected"  # no connector 3
    cap = profile(42, [(0, 16)], purpose="ChargePointMaxProfile")
    assert set_profile(rig, CONNECTOR, cap) == "Rejected"  # connector 0 only


def test_malformed_profile_is_rejected(rig_factory):
    rig = rig_factory()
    assert set_profile(rig, 0, profile(1, [(5, 16)])) == "Rejected"  # first period not at 0
    assert installed(rig) == []


# -- ClearChargingProfile ---------------------------------------------------------------


def test_clear_by_id_by_filters_and_all(rig_factory):
    rig = rig_factory()
    start_charging(rig)
    assert set_profile(rig, 0, profile(1, [(0, 20)], stack=0)) == "Accepted"
    assert set_profile(rig, 0, profile(2, [(0, 10)], stack=1)) == "Accepted"
    assert set_profile(rig, CONNECTOR, profile(3, [(0, 8)], stack=1)) == "Accepted"
    assert set_profile(rig, 0, profile(4, [(0, 30)], purpose="ChargePointMaxProfile")) == (
        "Accepted"
    )
    wait_pilot(rig, 8)
    assert clear(rig, id=3) == "Accepted"
    assert [p for _, p, _ in installed(rig)] == [1, 2, 4]
    wait_pilot(rig, 10)  # released on the output, not just in the messages
    assert clear(rig, id=3) == "Unknown"
    # filters combine with AND: connector 0, TxDefaultProfile, stack level 2 matches nothing
    assert clear(rig, connectorId=0, chargingProfilePurpose="TxDefaultProfile", stackLevel=2) == (
        "Unknown"
    )
    assert clear(rig, connectorId=0, chargingProfilePurpose="TxDefaultProfile", stackLevel=1) == (
        "Accepted"
    )
    assert [p for _, p, _ in installed(rig)] == [1, 4]
    wait_pilot(rig, 20)
    assert clear(rig, chargingProfilePurpose="TxProfile") == "Unknown"
    assert clear(rig) == "Accepted"
    assert installed(rig) == []
    wait_pilot(rig, MAX_A)
    assert clear(rig) == "Unknown"


# -- GetCompositeSchedule ----------------------------------------------------------------


@pytest.mark.parametrize("unit", [None, "A", "W"])
def test_composite_schedule_is_the_composite_of_the_installed_profiles(rig_factory, unit):
    rig = rig_factory()
    tx_id = start_charging(rig)
    t0 = datetime.now(UTC)
    assert set_profile(rig, 0, profile(1, [(0, 11000), (3, 6000)], unit="W")) == "Accepted"
    assert set_profile(rig, 0, profile(2, [(0, 20), (2, 8)], stack=1, duration=5)) == "Accepted"
    assert set_profile(rig, 0, profile(3, [(0, 18)], purpose="ChargePointMaxProfile")) == (
        "Accepted"
    )
    tx_prof = profile(4, [(0, 30), (6, 12)], purpose="TxProfile", kind="Relative", stack=2)
    tx_prof["chargingSchedule"]["duration"] = 8
    assert set_profile(rig, CONNECTOR, tx_prof | {"transactionId": tx_id}) == "Accepted"
    extra = {} if unit is None else {"chargingRateUnit": unit}
    conf = get_composite(rig, CONNECTOR, 20, **extra)
    assert conf["status"] == "Accepted"
    now = datetime.now(UTC)
    assert t0 <= parse_datetime(conf["scheduleStart"]) <= now  # scheduleStart = now
    same_conf(conf, expected_conf(rig, conf, unit))
    assert len(conf["chargingSchedule"]["chargingSchedulePeriod"]) >= 3
    assert conf["chargingSchedule"]["chargingRateUnit"] == (unit or "A")


def test_composite_schedule_without_profiles_reports_the_station_maximum(rig_factory):
    rig = rig_factory()
    conf = get_composite(rig, CONNECTOR, 60)
    assert conf["chargingSchedule"]["chargingRateUnit"] == "A"
    assert conf["chargingSchedule"]["chargingSchedulePeriod"] == [
        {"startPeriod": 0, "limit": MAX_A, "numberPhases": 3}
    ]
    conf = get_composite(rig, 0, 60, chargingRateUnit="W")
    assert limits(conf) == [(0, 22080.0)]  # 32 A x 3 x 230 V
    # no unit asked: the unit of the profile that sets the first limit
    assert set_profile(rig, 0, profile(1, [(0, 11000)], unit="W")) == "Accepted"
    conf = get_composite(rig, CONNECTOR, 60)
    assert conf["chargingSchedule"]["chargingRateUnit"] == "W"
    assert limits(conf) == [(0, 11000.0)]
    assert limits(get_composite(rig, CONNECTOR, 60, chargingRateUnit="A")) == [(0, 15.9)]


def test_composite_schedule_for_an_unknown_connector_is_rejected(rig_factory):
    rig = rig_factory()
    assert get_composite(rig, 3, 60) == {"status": "Rejected"}


def test_relative_profile_without_transaction_counts_from_the_request(rig_factory):
    # §7.13 Relative, "a situation-specific start point": on an idle connector the station
    # reports what a session started now would get (the lab's reading), not "no limit"
    rig = rig_factory()
    assert set_profile(rig, 0, profile(1, [(0, 10)], kind="Relative")) == "Accepted"
    assert limits(get_composite(rig, CONNECTOR, 30)) == [(0, 10.0)]
    conf = get_composite(rig, CONNECTOR, 30)
    same_conf(conf, expected_conf(rig, conf, None))


def test_connector_0_composite_is_the_cap_and_the_sum_of_the_connectors(rig_factory):
    # GetCompositeSchedule.req connectorId 0: the station's total, min(cap, sum)
    rig = rig_factory()
    assert set_profile(rig, 0, profile(1, [(0, 40)], purpose="ChargePointMaxProfile")) == (
        "Accepted"
    )
    assert set_profile(rig, 1, profile(2, [(0, 16)])) == "Accepted"
    assert limits(get_composite(rig, 0, 30)) == [(0, 40.0)]  # connector 2 unlimited: the cap
    assert set_profile(rig, 2, profile(3, [(0, 10)])) == "Accepted"
    assert limits(get_composite(rig, 0, 30)) == [(0, 26.0)]  # 16 + 10 < 40


# -- non-volatile, capability ----------------------------------------------------------------


def test_profiles_survive_a_hard_reset(rig_factory):
    rig = rig_factory()
    assert set_profile(rig, 0, profile(1, [(0, 16)])) == "Accepted"
    assert set_profile(rig, 0, profile(2, [(0, 20)], purpose="ChargePointMaxProfile")) == (
        "Accepted"
    )
    before = installed(rig)
    reboot(rig)
    assert installed(rig) == before
    assert limits(get_composite(rig, CONNECTOR, 30)) == [(0, 16.0)]
    start_charging(rig)
    wait_pilot(rig, 16)


def test_station_without_smart_charging_answers_not_supported(rig_factory):
    rig = rig_factory(smart_charging=False)
    assert set_profile(rig, 0, profile(1, [(0, 16)])) == "NotSupported"
    assert get_composite(rig, CONNECTOR, 60) == {"status": "Rejected"}
    assert clear(rig) == "Unknown"
    assert clear(rig, id=1) == "Unknown"


# -- deviations --------------------------------------------------------------------------


def test_limit_not_applied_to_pilot(rig_factory):
    rig = rig_factory(deviations=("limit_not_applied_to_pilot",))
    start_charging(rig)
    assert set_profile(rig, CONNECTOR, profile(1, [(0, 10)])) == "Accepted"
    values = meter_values(rig)
    assert values["Current.Offered"] == 10.0  # reported
    hold_pilot(rig, MAX_A, 0.5)  # not applied
    assert values["Current.Import"] == pytest.approx(offers(MAX_A), abs=0.01)


def test_stack_level_ignored(rig_factory):
    rig = rig_factory(deviations=("stack_level_ignored",))
    start_charging(rig)
    assert set_profile(rig, 0, profile(1, [(0, 20)], stack=0)) == "Accepted"
    assert set_profile(rig, 0, profile(2, [(0, 10)], stack=1)) == "Accepted"
    wait_pilot(rig, 20)  # the lower stack level wins
    hold_pilot(rig, 20, 0.3)
    assert limits(get_composite(rig, CONNECTOR, 30)) == [(0, 20.0)]


def test_composite_misreported(rig_factory):
    rig = rig_factory(deviations=("composite_misreported",))
    start_charging(rig)
    t0 = datetime.now(UTC).replace(microsecond=0)
    assert set_profile(rig, 0, profile(1, [(0, 20)], stack=0, start=t0)) == "Accepted"
    assert set_profile(rig, 0, profile(2, [(0, 10)], stack=1, start=t0, duration=60)) == (
        "Accepted"
    )
    assert set_profile(rig, 0, profile(3, [(0, 8)], purpose="ChargePointMaxProfile")) == (
        "Accepted"
    )
    conf = get_composite(rig, CONNECTOR, 120)
    reported = limits(conf)
    # the highest-stack TxDefaultProfile alone: 10 A, then "no limit" after its duration
    assert [limit for _, limit in reported] == [10.0, MAX_A]
    assert 58 <= reported[1][0] <= 60
    expected = expected_conf(rig, conf, None)
    assert limits(expected) == [(0, 8.0)]  # the cap is lowest throughout
    wait_pilot(rig, 8)  # the output obeys the true composite


def test_watts_read_as_amps(rig_factory):
    rig = rig_factory(deviations=("watts_read_as_amps",))
    start_charging(rig)
    assert set_profile(rig, CONNECTOR, profile(1, [(0, 11000)], unit="W")) == "Accepted"
    hold_pilot(rig, MAX_A, 0.5)  # 11000 "A": only the station maximum caps it (not 15.9 A)
    assert set_profile(rig, CONNECTOR, profile(1, [(0, 10)], unit="A")) == "Accepted"
    wait_pilot(rig, 10)  # A limits are right
    assert limits(get_composite(rig, CONNECTOR, 30, chargingRateUnit="A")) == [(0, 10.0)]


def test_phases_ignored(rig_factory):
    rig = rig_factory(deviations=("phases_ignored",))
    start_charging(rig)
    assert set_profile(rig, CONNECTOR, profile(1, [(0, 4140, 3)], unit="W")) == "Accepted"
    wait_pilot(rig, 18)  # 4140 W / 230 V; 6 A per phase on three phases expected
    conf = get_composite(rig, CONNECTOR, 30, chargingRateUnit="A")
    assert limits(conf) == [(0, 6.0)]  # reported right


def test_profiles_lost_after_reboot(rig_factory):
    rig = rig_factory(deviations=("profiles_lost_after_reboot",))
    assert set_profile(rig, 0, profile(1, [(0, 16)])) == "Accepted"
    reboot(rig)
    assert installed(rig) == []
    assert limits(get_composite(rig, CONNECTOR, 30)) == [(0, MAX_A)]
    assert clear(rig, id=1) == "Unknown"


def test_tx_default_not_applied_to_running(rig_factory):
    rig = rig_factory(deviations=("tx_default_not_applied_to_running",))
    start_charging(rig)
    assert set_profile(rig, 0, profile(1, [(0, 10)])) == "Accepted"
    hold_pilot(rig, MAX_A, 0.5)  # the running session keeps the old default (none)
    assert limits(get_composite(rig, CONNECTOR, 30)) == [(0, 10.0)]  # reported right
    stop_charging(rig)
    start_charging(rig)
    wait_pilot(rig, 10)  # the next session takes it


def test_only_stack_level_0(rig_factory):
    rig = rig_factory(deviations=("only_stack_level_0",))
    assert set_profile(rig, 0, profile(1, [(0, 16)], stack=1)) == "Rejected"
    assert set_profile(rig, 0, profile(1, [(0, 16)], stack=0)) == "Accepted"


def test_recurring_wrong_time(rig_factory):
    """A Daily profile started two hours ago: 10 A for an hour, then 20 A, each day."""
    two_hours_ago = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
    prof = profile(
        1,
        [(0, 10), (3600, 20)],
        kind="Recurring",
        start=two_hours_ago,
        recurrencyKind="Daily",
    )
    right = rig_factory()
    start_charging(right)
    assert set_profile(right, CONNECTOR, prof) == "Accepted"
    wait_pilot(right, 20)
    wrong = rig_factory(deviations=("recurring_wrong_time",))
    start_charging(wrong)
    assert set_profile(wrong, CONNECTOR, prof) == "Accepted"
    wait_pilot(wrong, 10)  # its day starts now
    reported = limits(get_composite(wrong, CONNECTOR, 7200))
    assert reported[0] == (0, 10.0) and reported[1][1] == 20.0
    assert 3595 <= reported[1][0] <= 3600


def test_clear_keeps_limit(rig_factory):
    rig = rig_factory(deviations=("clear_keeps_limit",))
    start_charging(rig)
    assert set_profile(rig, CONNECTOR, profile(1, [(0, 10)])) == "Accepted"
    wait_pilot(rig, 10)
    assert clear(rig, id=1) == "Accepted"
    assert limits(get_composite(rig, CONNECTOR, 30)) == [(0, MAX_A)]  # forgotten here
    hold_pilot(rig, 10, 0.5)  # but not on the output
    assert clear(rig, id=1) == "Unknown"
    assert clear(rig) == "Unknown"
    hold_pilot(rig, 10, 0.3)
    stop_charging(rig)  # the session's copy of the limit ends with it
    start_charging(rig)
    assert pilot_a(rig) == offers(MAX_A)


def test_the_station_keeps_the_profile_it_was_sent(rig_factory):
    rig = rig_factory()
    prof = profile(7, [(0, 16.5, 1), (10, 8)], unit="A", duration=100, stack=3)
    assert set_profile(rig, 0, prof) == "Accepted"
    kept = rig.on_loop(
        lambda: [(e.connector_id, e.profile) for e in rig.station.nv.charging_profiles]
    )
    assert kept == [(0, parse_profile(prof))]
