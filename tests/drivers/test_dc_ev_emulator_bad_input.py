"""A DC EV emulator that answers garbage or dies during a session.

``test_dc_ev_emulator.py`` covers an unreachable emulator and malformed trace, reading
and state answers. Here: the emulator going away mid-session (the virtual one stopped
while charging), going silent, something else answering at its address (a wrong
``*IDN?``), bytes that are not ASCII, a garbled error-queue answer after a setting, and a
trace count the trace does not keep. Each must be an ``InstrumentError`` naming the role
and the address, within the driver's timeout. Every server listens on 127.0.0.1 and is
stopped by its test.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from drivers.base import InstrumentError
from drivers.dc_ev_emulator.base import Battery
from drivers.dc_ev_emulator.hil_dcev import HilDcEv
from hil.sim.dc_session import SessionTiming
from hil.sim.instruments.dc_ev_emulator import VirtualDcEvEmulator
from tests.clock import FakeClock
from tests.drivers.test_dc_ev_emulator import IDN, Scripted

ROLE = "dc_ev_emulator"
TIMEOUT_S = 0.5


def named(err: InstrumentError, address: str) -> str:
    assert (err.role, err.address) == (ROLE, address)
    assert str(err).startswith(f"{ROLE} at {address}: "), str(err)
    return err.reason


@pytest.fixture
def scripted(sim_loop: Any) -> Iterator[Callable[[dict[str, str | None]], str]]:
    """Start a line server answering from a dict (a missing line: no answer)."""
    servers: list[Scripted] = []

    def start(replies: dict[str, str | None]) -> str:
        server = Scripted(lambda line: replies.get(line))
        servers.append(server)
        return str(sim_loop.run(server.start()))

    yield start
    for server in servers:
        sim_loop.run(server.stop())


def test_the_emulator_dying_mid_session_names_role_and_address(sim_loop: Any) -> None:
    """Harm prevented: the emulator powered off or its link cut while the station
    delivers power. The next read is an error naming the emulator and where it was, not a
    hang or a reading of zero that a step would take for "energy stopped"; so are the
    reads after it, and closing does not raise."""
    clock = FakeClock(100.0)
    virtual = VirtualDcEvEmulator(timing=SessionTiming(cable_check_s=1.0), clock=clock)
    address = sim_loop.run(virtual.start())
    ev = HilDcEv(address, timeout_s=TIMEOUT_S)
    stopped = False
    try:
        ev.open()
        ev.plug()
        ev.configure(Battery(capacity_wh=5_000, initial_soc_pct=40, target_soc_pct=90))
        ev.start_session("DIN70121")
        for _ in range(100):
            clock.advance(0.5)
            if ev.read_status().state == "charging":
                break
        assert ev.read_present().current_a > 0
        sim_loop.run(virtual.stop())
        stopped = True
        for call in (ev.read_present, ev.read_status, ev.read_trace, ev.stop_session):
            started = time.monotonic()
            with pytest.raises(InstrumentError) as err:
                call()
            assert time.monotonic() - started < TIMEOUT_S + 1.5
            reason = named(err.value, address)
            assert reason.startswith(("connection failed on ", "VISA error on ", "no answer ")), (
                reason
            )
    finally:
        ev.close()
        ev.close()
        if not stopped:
            sim_loop.run(virtual.stop())


def test_a_silent_emulator_times_out_naming_the_query(scripted: Any) -> None:
    """An emulator that hangs (firmware stuck) mid-session fails the read after the
    driver's timeout, naming the query, instead of blocking the run."""
    address = scripted({"*IDN?": IDN, "SYST:ERR?": '0,"No error"'})  # MEAS:ALL?: silence
    ev = HilDcEv(address, timeout_s=TIMEOUT_S)
    try:
        ev.open()
        started = time.monotonic()
        with pytest.raises(InstrumentError) as err:
            ev.read_present()
        assert time.monotonic() - started < TIMEOUT_S + 1.5
        assert named(err.value, address) == f"no answer within {TIMEOUT_S} s to 'MEAS:ALL?'"
    finally:
        ev.close()


def test_something_else_at_the_address_is_refused_when_opened(scripted: Any) -> None:
    """Harm prevented: the lab config points at another instrument (a power analyser's
    five-field identity, or a device answering garbage). ``open()`` refuses it, naming
    what answered, and leaves the driver closed."""
    address = scripted({"*IDN?": "YOKOGAWA,WT310,C2XXXX,F1.0,extra"})
    ev = HilDcEv(address, timeout_s=TIMEOUT_S)
    with pytest.raises(InstrumentError) as err:
        ev.open()
    reason = named(err.value, address)
    assert reason == (
        "*IDN? answered 'YOKOGAWA,WT310,C2XXXX,F1.0,extra', expected maker,model,serial,firmware"
    )
    with pytest.raises(InstrumentError, match="not open"):
        ev.read_status()


def test_non_ascii_garbage_is_named(scripted: Any) -> None:
    """Line noise (bytes that are not ASCII) is a garbled answer to the query, not a
    UnicodeDecodeError."""
    address = scripted({"*IDN?": IDN, "SYST:ERR?": '0,"No error"', "SESS:STAT?": "CHARG\xffNG"})
    ev = HilDcEv(address, timeout_s=TIMEOUT_S)
    try:
        ev.open()
        with pytest.raises(InstrumentError) as err:
            ev.read_status()
        reason = named(err.value, address)
        assert "'SESS:STAT?'" in reason and "garbled" in reason, reason
    finally:
        ev.close()


def test_a_garbled_error_queue_answer_after_a_setting_is_an_error(scripted: Any) -> None:
    """A setting whose outcome cannot be read (``SYST:ERR?`` answers garbage) is not
    taken as accepted: the battery the EV would charge with would be unknown."""
    address = scripted({"*IDN?": IDN, "SYST:ERR?": "ok!"})
    ev = HilDcEv(address, timeout_s=TIMEOUT_S)
    try:
        ev.open()
        with pytest.raises(InstrumentError) as err:
            ev.configure(Battery(capacity_wh=5_000, initial_soc_pct=40, target_soc_pct=90))
        assert named(err.value, address) == "garbled answer 'ok!' to 'SYST:ERR?'"
    finally:
        ev.close()


def test_a_trace_shorter_than_its_count_is_an_error(scripted: Any) -> None:
    """An emulator whose trace count promises records it does not hand out (a trace lost
    in a reboot) fails the read, instead of a trace silently missing its end."""
    address = scripted(
        {"*IDN?": IDN, "SYST:ERR?": '0,"No error"', "TRAC:COUN?": "3", "TRAC:DATA? 0": "[]"}
    )
    ev = HilDcEv(address, timeout_s=TIMEOUT_S)
    try:
        ev.open()
        with pytest.raises(InstrumentError) as err:
            ev.read_trace()
        assert named(err.value, address) == "'TRAC:DATA? 0' answered no records of 3"
    finally:
        ev.close()
