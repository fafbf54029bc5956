"""The DC session model, run on session time (no clock, no I/O): flow, physics and faults."""

from __future__ import annotations

import pytest

from hil.sim.dc_session import (
    Battery,
    DcSession,
    SessionError,
    SessionState,
    SessionTiming,
)

DIN_FLOW = [
    "SessionSetup",
    "ServiceDiscovery",
    "ServicePaymentSelection",
    "ContractAuthentication",
    "ChargeParameterDiscovery",
    "CableCheck",
    "PreCharge",
    "PowerDelivery",
    "CurrentDemand",
    "PowerDelivery",
    "WeldingDetection",
    "SessionStop",
]


def session(**battery: float) -> DcSession:
    values = {"capacity_wh": 2_000.0, "initial_soc_pct": 20.0, "target_soc_pct": 30.0}
    values.update(battery)
    model = DcSession(battery=Battery(**values))
    model.plug()
    return model


def flow(model: DcSession) -> list[str]:
    """The messages in order, repeats collapsed."""
    names: list[str] = []
    for record in model.trace:
        if not names or names[-1] != record.message:
            names.append(record.message)
    return names


def run_until(model: DcSession, state: SessionState, limit_s: float = 600.0) -> None:
    while model.state is not state:
        assert model.session_time_s < limit_s, f"never reached {state}: {model.present()}"
        model.step(0.1)


def test_a_din_session_runs_every_phase_to_the_target_soc() -> None:
    """Rule: a DC session passes SessionSetup .. SessionStop in order and ends by itself at
    the target SoC, with no fault; a model that skips a phase would let the station skip it."""
    model = session()
    model.start()
    states = set()
    while model.state is not SessionState.STOPPED:
        assert model.session_time_s < 600
        model.step(0.1)
        states.add(model.state)
    assert flow(model) == DIN_FLOW
    assert model.fault is None
    assert model.soc_pct >= 30.0
    assert states >= {
        SessionState.SETUP,
        SessionState.CABLE_CHECK,
        SessionState.PRE_CHARGE,
        SessionState.CHARGING,
        SessionState.WELDING_DETECTION,
    }
    deliveries = [r.detail for r in model.trace if r.message == "PowerDelivery"]
    assert deliveries == ["start", "stop: target SoC reached"]
    assert model.trace[-2].message == "WeldingDetection"
    assert [r.index for r in model.trace] == list(range(len(model.trace)))
    times = [r.time_s for r in model.trace]
    assert times == sorted(times)
    assert model.pilot() == "B"


def test_iso15118_2_eim_names_its_payment_messages() -> None:
    """Rule: ISO 15118-2 with EIM exchanges PaymentServiceSelection and Authorization where
    DIN 70121 has ServicePaymentSelection and ContractAuthentication."""
    model = session()
    model.set_protocol("ISO15118-2")
    model.start()
    run_until(model, SessionState.STOPPED)
    assert flow(model)[:5] == [
        "SessionSetup",
        "ServiceDiscovery",
        "PaymentServiceSelection",
        "Authorization",
        "ChargeParameterDiscovery",
    ]
    with pytest.raises(SessionError, match="EIM"):
        model.set_protocol("ISO15118-2", auth="PnC")


def test_cable_check_lasts_its_duration_and_precharge_reaches_the_battery_voltage() -> None:
    """Harm: a cable check that takes no time, or a pre-charge that closes the contactors
    below the battery voltage, would hide a station that does not wait for either."""
    model = DcSession(timing=SessionTiming(cable_check_s=2.0, precharge_ramp_v_per_s=500.0))
    model.plug()
    model.start()
    run_until(model, SessionState.CHARGING)
    checks = [r for r in model.trace if r.message == "CableCheck"]
    assert checks[-1].time_s - checks[0].time_s == pytest.approx(1.9)
    assert [r.detail for r in checks[-2:]] == ["Ongoing", "Finished"]
    precharge = [r for r in model.trace if r.message == "PreCharge"]
    assert len(precharge) > 3
    volts = [r.present_voltage_v for r in precharge]
    assert volts == sorted(volts)
    assert volts[-1] == pytest.approx(precharge[-1].target_voltage_v)
    assert volts[-1] == pytest.approx(model.battery_voltage(20.0), abs=0.01)


def test_soc_rises_with_the_delivered_energy() -> None:
    """Rule: SoC rises by energy / capacity; a model off by a factor would make the lab's
    SoC@EV and energy checks compare against wrong numbers."""
    model = session(capacity_wh=10_000.0, initial_soc_pct=20.0, target_soc_pct=90.0)
    model.start()
    run_until(model, SessionState.CHARGING)
    for _ in range(300):
        model.step(0.1)
    assert model.state is SessionState.CHARGING
    assert model.energy_wh > 100
    assert model.soc_pct - 20.0 == pytest.approx(100.0 * model.energy_wh / 10_000.0, rel=1e-9)
    socs = [r.soc_pct for r in model.trace if r.message == "CurrentDemand"]
    assert socs == sorted(socs)


def test_current_never_exceeds_any_limit() -> None:
    """Rule: the current is the least of the EV's current and power limits, the station's
    current and power limits and the ramp; it drops at once when the station lowers a limit."""
    model = session(capacity_wh=20_000.0, target_soc_pct=95.0)
    model.set_ev_limits(max_voltage_v=500.0, max_current_a=150.0, max_power_w=60_000.0)
    model.set_evse_limits(max_power_w=40_000.0, max_current_a=200.0)
    model.start()
    run_until(model, SessionState.CHARGING)
    ramp = model.timing.current_ramp_a_per_s * model.timing.message_interval_s
    evse_plan = {5.0: (40_000.0, 60.0), 10.0: (15_000.0, 200.0), 15.0: (80_000.0, 300.0)}
    last = 0.0
    start = model.session_time_s
    while model.session_time_s - start < 20.0:
        for at, limits in list(evse_plan.items()):
            if model.session_time_s - start >= at:
                model.set_evse_limits(*limits)
                del evse_plan[at]
                now = model.present()
                assert now.current_a <= limits[1] + 1e-9
                assert now.power_w <= limits[0] + 1e-6
                last = now.current_a
        model.step(0.1)
        now = model.present()
        evse = model.evse_limits
        assert now.current_a <= 150.0 + 1e-9
        assert now.current_a <= evse.max_current_a + 1e-9
        assert now.power_w <= 60_000.0 + 1e-6
        assert now.power_w <= evse.max_power_w + 1e-6
        assert now.current_a <= last + ramp + 1e-9
        last = now.current_a
    # the EV's own limits bind once the station offers more (60 kW at ~ 420 V is > 140 A)
    assert model.present().power_w == pytest.approx(60_000.0, rel=1e-6)


def test_insulation_fault_fails_the_cable_check() -> None:
    """Rule: an insulation fault makes CableCheck fail and the session stop with the fault,
    before any voltage is put on the cable."""
    model = session()
    model.inject_fault("INSULATION")
    model.start()
    run_until(model, SessionState.STOPPED)
    assert model.fault == "INSULATION"
    assert flow(model)[-2:] == ["CableCheck", "SessionStop"]
    failed = model.trace[-2]
    assert (failed.response_code, failed.detail) == ("FAILED", "EVSE isolation: Fault")
    assert "PreCharge" not in flow(model)
    assert max(r.present_voltage_v for r in model.trace) == 0.0


def test_insulation_fault_while_charging_stops_the_session() -> None:
    """Rule: an isolation fault during CurrentDemand fails the exchange; the current stops."""
    model = session()
    model.start()
    run_until(model, SessionState.CHARGING)
    model.step(2.0)
    model.inject_fault("INSULATION")
    model.step(0.1)
    assert (model.state, model.fault) == (SessionState.STOPPED, "INSULATION")
    assert model.trace[-2].message == "CurrentDemand"
    assert model.trace[-2].response_code == "FAILED"
    assert model.present().current_a == 0.0


def test_emergency_stop_stops_at_once_and_blocks_a_new_session() -> None:
    """Rule: an EV emergency stop ends the session at the moment it is injected (not at the
    next exchange) and no new session starts until it is cleared."""
    model = session()
    model.start()
    run_until(model, SessionState.CHARGING)
    model.step(2.0)
    assert model.present().current_a > 0
    stopped_at = model.session_time_s
    model.inject_fault("ESTOP")
    assert (model.state, model.fault) == (SessionState.STOPPED, "ESTOP")
    assert model.present().current_a == 0.0
    assert flow(model)[-2:] == ["PowerDelivery", "SessionStop"]
    assert model.trace[-1].time_s == pytest.approx(stopped_at)
    assert "WeldingDetection" not in flow(model)
    with pytest.raises(SessionError, match="emergency stop"):
        model.start()
    model.clear_fault()
    model.start()
    assert model.state is SessionState.SETUP


def test_overvoltage_makes_the_ev_report_voltage_out_of_range() -> None:
    """Rule: an EV that sees a voltage above its maximum reports
    FAILED_ChargingVoltageOutOfRange in its next request and stops."""
    model = session()
    model.start()
    run_until(model, SessionState.CHARGING)
    model.step(1.0)
    model.inject_fault("OVERVOLTAGE")
    model.step(0.1)
    assert (model.state, model.fault) == (SessionState.STOPPED, "OVERVOLTAGE")
    report = next(r for r in model.trace if r.ev_error_code != "NO_ERROR")
    assert report.message == "CurrentDemand"
    assert report.ev_error_code == "FAILED_ChargingVoltageOutOfRange"
    assert report.present_voltage_v > model.ev_limits.max_voltage_v
    assert flow(model)[-2:] == ["PowerDelivery", "SessionStop"]


def test_unplugging_or_forcing_the_pilot_aborts_a_running_session() -> None:
    """Harm: a session that goes on after the cable is pulled or the pilot shorted would
    let a station that ignores it pass."""
    model = session()
    model.start()
    run_until(model, SessionState.CHARGING)
    assert model.pilot() == "C"
    model.unplug()
    assert (model.state, model.fault, model.pilot()) == (SessionState.STOPPED, "UNPLUGGED", "A")
    model = session()
    model.start()
    run_until(model, SessionState.CABLE_CHECK)
    model.force_pilot("E")
    assert (model.state, model.fault, model.pilot()) == (SessionState.STOPPED, "PILOT", "E")
    assert model.present().current_a == 0.0


def test_settings_are_checked_and_the_battery_is_fixed_during_a_session() -> None:
    """Rule: out-of-range settings are refused, the battery cannot change mid-session, and
    a session needs a plugged EV and an initial SoC below the target."""
    model = DcSession()
    with pytest.raises(SessionError, match="plug"):
        model.start()
    model.plug()
    with pytest.raises(SessionError, match="max_current_a must be 1-1000"):
        model.set_ev_limits(max_current_a=5000)
    model.set_battery(initial_soc_pct=80, target_soc_pct=80)
    with pytest.raises(SessionError, match="below the target"):
        model.start()
    model.set_battery(initial_soc_pct=20)
    model.start()
    with pytest.raises(SessionError, match="while a session runs"):
        model.set_battery(capacity_wh=1000)
    model.set_ev_limits(max_current_a=50)  # the EV may lower its current any time
    with pytest.raises(SessionError, match="already running"):
        model.start()
