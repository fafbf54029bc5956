"""The hil-dcev driver against the virtual DC EV emulator over SCPI on TCP (pyvisa-py).

The emulator's clock is a fake one the tests move forward, so a whole session takes a few
round trips. Every server listens on 127.0.0.1 and is stopped by its test.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from drivers.base import InstrumentError
from drivers.dc_ev_emulator.base import MESSAGES, Battery, DcEvEmulator, EvLimits
from drivers.dc_ev_emulator.hil_dcev import HilDcEv
from hil.sim.dc_session import SessionTiming
from hil.sim.instruments.dc_ev_emulator import VirtualDcEvEmulator
from tests.clock import FakeClock

ROLE = "dc_ev_emulator"
IDN = "HIL-LAB,DCEV-1,000001,1.0.0"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(100.0)


@pytest.fixture
def emulator(sim_loop: Any, clock: FakeClock) -> Iterator[VirtualDcEvEmulator]:
    virtual = VirtualDcEvEmulator(timing=SessionTiming(cable_check_s=1.0), clock=clock)
    sim_loop.run(virtual.start())
    try:
        yield virtual
    finally:
        sim_loop.run(virtual.stop())


@pytest.fixture
def ev(emulator: VirtualDcEvEmulator) -> Iterator[HilDcEv]:
    driver = HilDcEv(emulator.address, timeout_s=1.0)
    driver.open()
    try:
        yield driver
    finally:
        driver.close()


def charging(ev: HilDcEv, clock: FakeClock, target_soc_pct: float = 90.0) -> None:
    ev.plug()
    ev.configure(Battery(capacity_wh=5_000, initial_soc_pct=40, target_soc_pct=target_soc_pct))
    ev.start_session("DIN70121")
    for _ in range(100):
        clock.advance(0.5)
        if ev.read_status().state == "charging":
            return
    raise AssertionError(f"never charging: {ev.read_status()}")


def test_a_session_over_the_wire_is_read_back_and_traced(
    ev: HilDcEv, emulator: VirtualDcEvEmulator, clock: FakeClock, sim_loop: Any
) -> None:
    """Rule: the driver plugs, starts a session, reads the present values and the state,
    and decodes the trace into typed records, exactly as the emulator played them; the
    values respect the limits the station side sets."""
    assert isinstance(ev, DcEvEmulator)
    assert ev.identify() == "HIL-LAB,DCEV-1,VIRTUAL0001,1.0.0"
    assert ev.read_pilot_state() == "A"
    ev.configure(limits=EvLimits(max_voltage_v=500, max_current_a=150, max_power_w=100_000))
    sim_loop.call(emulator.set_evse_limits, 30_000.0, 100.0)
    charging(ev, clock, target_soc_pct=50.0)
    assert ev.read_pilot_state() == "C"
    clock.advance(5.0)
    now = ev.read_present()
    assert 400.0 < now.voltage_v < 475.0  # between 80 % and 95 % of the EV's 500 V
    assert now.current_a == pytest.approx(30_000.0 / now.voltage_v, abs=0.01)
    assert now.power_w == pytest.approx(30_000.0, abs=1.0)
    assert 40.0 < now.soc_pct < 50.0
    clock.advance(120.0)
    status = ev.read_status()
    assert (status.state, status.fault) == ("stopped", None)
    assert ev.read_present().soc_pct >= 50.0
    assert ev.read_pilot_state() == "B"

    trace = ev.read_trace()
    assert len(trace) > 100  # more than one TRAC:DATA? page
    assert [r.index for r in trace] == list(range(len(trace)))
    assert {r.message for r in trace} <= set(MESSAGES)
    assert [r.message for r in trace[:5]] == [
        "SessionSetup",
        "ServiceDiscovery",
        "ServicePaymentSelection",
        "ContractAuthentication",
        "ChargeParameterDiscovery",
    ]
    assert trace[-1].message == "SessionStop"
    demand = [r for r in trace if r.message == "CurrentDemand"]
    assert all(r.present_current_a <= 100.0 for r in demand)
    assert all(r.present_current_a * r.present_voltage_v <= 30_000.5 for r in demand)
    expected = sim_loop.call(lambda: emulator.session.trace)
    assert [(r.message, r.time_s, r.soc_pct) for r in trace] == [
        (r.message, r.time_s, r.soc_pct) for r in expected
    ]
    assert ev.read_trace(len(trace) - 2) == trace[-2:]


def test_the_ev_stops_the_session(ev: HilDcEv, clock: FakeClock) -> None:
    """Rule: a stop from the EV side ends the session normally: PowerDelivery(stop),
    WeldingDetection, SessionStop, and no current."""
    charging(ev, clock)
    clock.advance(2.0)
    assert ev.read_present().current_a > 0
    ev.stop_session()
    clock.advance(2.0)
    assert ev.read_status().state == "stopped"
    assert ev.read_status().fault is None
    assert ev.read_present().current_a == 0.0
    tail = [r.message for r in ev.read_trace()][-3:]
    assert tail == ["WeldingDetection", "WeldingDetection", "SessionStop"]
    assert any(r.detail == "stop: EV stop" for r in ev.read_trace())
    ev.set_pilot_state("e")
    assert ev.read_pilot_state() == "E"
    ev.set_pilot_state(None)
    assert ev.read_pilot_state() == "B"


@pytest.mark.parametrize(
    ("fault", "when", "last_messages"),
    [
        ("INSULATION", "before", ["CableCheck", "SessionStop"]),
        ("ESTOP", "charging", ["PowerDelivery", "SessionStop"]),
        ("OVERVOLTAGE", "charging", ["CurrentDemand", "PowerDelivery", "SessionStop"]),
    ],
)
def test_injected_faults_change_the_flow(
    ev: HilDcEv, clock: FakeClock, fault: str, when: str, last_messages: list[str]
) -> None:
    """Rule: each injected fault ends the session with that fault (insulation: the cable
    check fails; emergency stop: at once; overvoltage: the EV reports the voltage out of
    range), and clearing it lets the next session start."""
    if when == "before":
        ev.plug()
        ev.inject_fault(fault.lower())
        ev.start_session()
        clock.advance(10.0)
    else:
        charging(ev, clock)
        ev.inject_fault(fault)
        clock.advance(0.1)
    status = ev.read_status()
    assert (status.state, status.fault) == ("stopped", fault)
    assert ev.read_present().current_a == 0.0
    trace = ev.read_trace()
    assert [r.message for r in trace[-len(last_messages) :]] == last_messages
    if fault == "INSULATION":
        assert trace[-2].response_code == "FAILED"
    if fault == "OVERVOLTAGE":
        assert trace[-3].ev_error_code == "FAILED_ChargingVoltageOutOfRange"
    ev.clear_fault()
    ev.start_session()
    assert ev.read_status().state == "setup"


def test_refused_settings_are_errors_naming_role_address_and_reason(ev: HilDcEv) -> None:
    """Harm: a setting the emulator refused but the driver let pass would run the test on
    a different EV than asked. Plug & Charge is refused clearly, not run as EIM."""
    with pytest.raises(ValueError, match="Plug & Charge"):
        ev.start_session("ISO15118-2", auth="PnC")
    with pytest.raises(InstrumentError, match="Plug & Charge") as err:
        ev.command("SESS:AUTH PNC")
    assert (err.value.role, err.value.address) == (ROLE, ev.address)
    with pytest.raises(InstrumentError, match=r"refused 'SESS:STAR'.*-221.*plug the EV in"):
        ev.start_session()
    ev.plug()
    ev.start_session("ISO15118-2")
    with pytest.raises(InstrumentError, match=r"refused 'BATT:CAP 1000'.*while a session runs"):
        ev.set_battery(capacity_wh=1000)
    with pytest.raises(InstrumentError, match=r"error -222 Data out of range; max_current_a"):
        ev.command("LIM:CURR 5000")
    with pytest.raises(InstrumentError, match=r"error -113 Undefined header"):
        ev.command("FROB:NICATE")
    with pytest.raises(ValueError, match="max_current_a must be 1-1000"):
        ev.set_ev_limits(max_current_a=5000)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_unreachable_emulator_names_role_and_address() -> None:
    """Rule: an emulator that cannot be reached is an InstrumentError naming the role and
    the address (a closed loopback port), raised by open(), not a pyvisa traceback."""
    address = f"TCPIP0::127.0.0.1::{_free_port()}::SOCKET"
    driver = HilDcEv(address, timeout_s=0.5)
    with pytest.raises(InstrumentError) as err:
        driver.open()
    assert (err.value.role, err.value.address) == (ROLE, address)
    assert str(err.value).startswith(f"{ROLE} at {address}: ")
    assert "refused" in err.value.reason.lower()
    with pytest.raises(InstrumentError, match="not open"):
        driver.read_status()


class Scripted:
    """A line server answering each line with ``answer(line)`` (None: stay silent)."""

    def __init__(self, answer: Callable[[str], str | None]) -> None:
        self.answer = answer
        self.server: asyncio.Server | None = None

    async def start(self) -> str:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        return f"TCPIP0::127.0.0.1::{port}::SOCKET"

    async def stop(self) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while line := await reader.readline():
                reply = self.answer(line.decode().strip())
                if reply is not None:
                    writer.write(reply.encode("latin-1") + b"\n")
                    await writer.drain()
        finally:
            writer.close()


GOOD_RECORD = (
    '{"index":0,"time_s":0.1,"message":"SessionSetup","response_code":"OK",'
    '"ev_error_code":"NO_ERROR","soc_pct":20.0,"target_voltage_v":null,'
    '"target_current_a":null,"present_voltage_v":0.0,"present_current_a":0.0,"detail":""}'
)


@pytest.mark.parametrize(
    ("query", "answer", "message", "call"),
    [
        (
            "TRAC:DATA? 0",
            '[{"index":0,"time_s":0.1,"mess',
            r"garbled answer to 'TRAC:DATA\? 0'.*JSON array of trace records",
            lambda ev: ev.read_trace(),
        ),
        (
            "TRAC:DATA? 0",
            '{"index":0}',
            r"garbled answer to 'TRAC:DATA\? 0': not a JSON array",
            lambda ev: ev.read_trace(),
        ),
        (
            "TRAC:DATA? 0",
            "[" + GOOD_RECORD.replace('"soc_pct":20.0', '"soc_pct":"high"') + "]",
            r"bad soc_pct 'high' in record 0",
            lambda ev: ev.read_trace(),
        ),
        (
            "TRAC:DATA? 0",
            "[" + GOOD_RECORD.replace('"index":0', '"index":5') + "]",
            r"answered record 5 where 0 was due",
            lambda ev: ev.read_trace(),
        ),
        (
            "MEAS:ALL?",
            "400.0,banana,1.0,20.0",
            r"garbled answer to 'MEAS:ALL\?'.*expected 4 number",
            lambda ev: ev.read_present(),
        ),
        (
            "SESS:STAT?",
            "SNOOZING,NONE",
            r"garbled answer to 'SESS:STAT\?'",
            lambda ev: ev.read_status(),
        ),
    ],
)
def test_a_malformed_answer_is_an_error_naming_role_and_address(
    sim_loop: Any, query: str, answer: str, message: str, call: Callable[[HilDcEv], Any]
) -> None:
    """Harm: a malformed answer (bad JSON in the trace, a non-number in a reading) must not
    become a wrong value or a bare JSONDecodeError; it is an InstrumentError with the role,
    the address and the query."""
    replies = {"*IDN?": IDN, "TRAC:COUN?": "1", "SYST:ERR?": '0,"No error"', query: answer}
    server = Scripted(lambda line: replies.get(line))
    address = sim_loop.run(server.start())
    driver = HilDcEv(address, timeout_s=0.5)
    try:
        driver.open()
        with pytest.raises(InstrumentError, match=message) as err:
            call(driver)
        assert (err.value.role, err.value.address) == (ROLE, address)
    finally:
        driver.close()
        sim_loop.run(server.stop())


def test_the_driver_refuses_unknown_options() -> None:
    """Rule: like every driver, an option it does not take is an error naming it."""
    with pytest.raises(InstrumentError, match="no_such_option"):
        HilDcEv("TCPIP0::127.0.0.1::5025::SOCKET", no_such_option=1)
