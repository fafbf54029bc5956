"""The hil-evsim driver against the virtual EV simulator, over a real socket:// link and a pty."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from drivers.ev_simulator import EvSimulator, PilotReading
from drivers.registry import create_driver
from hil.sim.instruments.ev_serial import VirtualEvSimulator
from hil.sim.physics import BenchPhysics
from tests.conftest import SimLoop


@pytest.fixture(scope="module")
def bench_loop() -> Iterator[SimLoop]:
    bench = SimLoop()
    yield bench
    bench.close()


@pytest.fixture(scope="module", params=["socket", "pty"])
def _open_bench(request: pytest.FixtureRequest, bench_loop: SimLoop) -> Iterator[tuple[Any, ...]]:
    # One link per transport for the whole module: pyserial's socket:// close sleeps 0.3 s.
    physics = bench_loop.call(BenchPhysics)
    sim = VirtualEvSimulator(physics, use_pty=request.param == "pty")
    address = bench_loop.run(sim.start())
    driver = create_driver("ev_simulator", "hil-evsim", address, {"timeout": 1.0})
    driver.open()
    yield driver, physics, bench_loop, address
    driver.close()
    bench_loop.run(sim.stop())


@pytest.fixture
def bench(_open_bench: tuple[Any, ...]) -> tuple[Any, ...]:
    """(driver, physics, bench_loop, address), EV and station back at power-up state."""
    driver, physics, bench_loop, _ = _open_bench
    driver.reset()
    bench_loop.call(physics.set_pilot, None)
    bench_loop.call(physics.set_contactor, False)
    return _open_bench


def test_address_is_a_pyserial_url_of_the_chosen_transport(bench: tuple[Any, ...]) -> None:
    driver, _, _, address = bench
    assert isinstance(driver, EvSimulator)
    assert address.startswith("socket://127.0.0.1:") or address.startswith("/dev/pts/")
    assert driver.identify() == VirtualEvSimulator.IDN


def test_ev_states_drive_the_bench_physics(bench: tuple[Any, ...]) -> None:
    driver, physics, _, _ = bench
    steps = [
        (driver.plug_in, "B"),
        (driver.request_charge, "C"),
        (driver.request_ventilation, "D"),
        (driver.stop_charge_request, "B"),
        (driver.unplug, "A"),
    ]
    for action, state in steps:
        action()
        assert physics.ev_state == state
        assert driver.read_pilot().state == state


# Duty cycle -> current per IEC 61851-1 Annex A (the standard's own examples).
@pytest.mark.parametrize(
    ("duty", "amps"),
    [(10.0, 6.0), (16.0, 9.6), (50.0, 30.0), (85.0, 51.0), (90.0, 65.0), (96.0, 80.0)],
)
def test_read_pilot_reports_station_pwm_and_offered_current(
    bench: tuple[Any, ...], duty: float, amps: float
) -> None:
    driver, physics, bench_loop, _ = bench
    driver.plug_in()
    bench_loop.call(physics.set_pilot, duty)  # what the virtual station does
    reading = driver.read_pilot()
    assert reading == PilotReading(state="B", duty_percent=duty, offered_current_a=amps)


def test_read_pilot_without_pwm(bench: tuple[Any, ...]) -> None:
    driver, physics, bench_loop, _ = bench
    driver.plug_in()
    bench_loop.call(physics.set_pilot, 40.0)
    assert driver.read_pilot().offered_current_a == pytest.approx(24.0)
    bench_loop.call(physics.set_pilot, None)
    assert driver.read_pilot() == PilotReading("B", None, 0.0)


@pytest.mark.parametrize(("kind", "seen"), [("E", "E"), ("diode", "F"), ("F", "F")])
def test_faults_override_the_ev_state_until_cleared(
    bench: tuple[Any, ...], kind: str, seen: str
) -> None:
    driver, physics, _, _ = bench
    driver.plug_in()
    driver.request_charge()
    driver.inject_fault(kind)
    assert physics.fault == kind
    assert driver.read_pilot().state == seen
    driver.clear_fault()
    assert physics.fault is None
    assert driver.read_pilot().state == "C"


def test_cable_rating_and_ev_limits(bench: tuple[Any, ...]) -> None:
    driver, physics, _, _ = bench
    for rating in (13, 20, 32, 63):
        driver.set_cable_rating(rating)
        assert physics.ev.cable_rating_a == rating
    driver.set_ev_limits(max_current_a=10.5, phases=1)
    assert (physics.ev.max_current_a, physics.ev.phases) == (10.5, 1)
    driver.set_ev_limits(phases=2)  # the current limit stays as it was
    assert (physics.ev.max_current_a, physics.ev.phases) == (10.5, 2)
    driver.set_ev_limits(max_current_a=16)
    assert (physics.ev.max_current_a, physics.ev.phases) == (16.0, 2)


def test_ev_draws_no_more_than_its_limit(bench: tuple[Any, ...]) -> None:
    driver, physics, bench_loop, _ = bench
    driver.plug_in()
    driver.request_charge()
    driver.set_ev_limits(max_current_a=10, phases=1)
    bench_loop.call(physics.set_pilot, 50.0)  # 30 A offered
    bench_loop.call(physics.set_contactor, True)
    assert driver.read_pilot().offered_current_a == 30.0
    assert bench_loop.call(physics.current_a) == 10.0


def test_reset_restores_power_up_defaults(bench: tuple[Any, ...]) -> None:
    driver, physics, _, _ = bench
    driver.request_charge()
    driver.inject_fault("E")
    driver.set_cable_rating(13)
    driver.set_ev_limits(6, 1)
    driver.reset()
    assert (physics.ev_state, physics.fault) == ("A", None)
    assert (physics.ev.cable_rating_a, physics.ev.max_current_a, physics.ev.phases) == (
        32.0,
        32.0,
        3,
    )


def test_arguments_are_checked_before_anything_is_sent(bench: tuple[Any, ...]) -> None:
    driver, physics, _, _ = bench
    with pytest.raises(ValueError, match="fault kind"):
        driver.inject_fault("X")
    with pytest.raises(ValueError, match="cable rating"):
        driver.set_cable_rating(16)
    with pytest.raises(ValueError, match="phases"):
        driver.set_ev_limits(phases=4)
    with pytest.raises(ValueError, match="max current"):
        driver.set_ev_limits(max_current_a=81)
    assert (physics.fault, physics.ev.cable_rating_a, physics.ev.phases) == (None, 32.0, 3)


def test_concurrent_callers_get_their_own_replies(bench: tuple[Any, ...]) -> None:
    driver, _, _, _ = bench
    errors: list[BaseException] = []

    def hammer() -> None:
        try:
            for _ in range(40):
                assert driver.identify() == VirtualEvSimulator.IDN
                assert isinstance(driver.read_pilot(), PilotReading)
        except BaseException as exc:  # collected and re-raised in the test thread
            errors.append(exc)

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors[0]


# -- the virtual simulator's protocol, byte for byte (docs/ev-simulator-protocol.md) -------


@pytest.fixture
def raw_link(bench_loop: SimLoop) -> Iterator[tuple[Any, BenchPhysics]]:
    physics = bench_loop.call(BenchPhysics)
    sim = VirtualEvSimulator(physics)
    host, port = bench_loop.run(sim.start()).removeprefix("socket://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=2)
    lines = sock.makefile("rwb")
    yield lines, physics
    lines.close()
    sock.close()
    bench_loop.run(sim.stop())


def _ask(lines: Any, command: bytes) -> bytes:
    lines.write(command)
    lines.flush()
    return lines.readline()


@pytest.mark.parametrize(
    ("command", "reply"),
    [
        (b"*IDN?\n", VirtualEvSimulator.IDN.encode() + b"\n"),
        (b"state c\r\n", b"OK\n"),  # case-insensitive, CR ignored
        (b"STATE?\n", b"A\n"),
        (b"FAULT?\n", b"NONE\n"),
        (b"CABLE?\n", b"32\n"),
        (b"EVLIMIT?\n", b"32.0\n"),
        (b"PHASES?\n", b"3\n"),
        (b"PILOT?\n", b"STATE=A DUTY=NONE CURRENT=0.00\n"),
        (b"FROB 1\n", b"ERR 100 unknown command FROB\n"),
        (b"STATE\n", b"ERR 101 expected 1 argument, got 0\n"),
        (b"EVLIMIT ten\n", b"ERR 101 not a number: TEN\n"),
        (b"STATE? X\n", b"ERR 101 this query takes no argument\n"),
        (b"STATE E\n", b"ERR 102 state must be A, B, C or D, got E\n"),
        (b"FAULT X\n", b"ERR 102 fault must be E, DIODE, F or NONE, got X\n"),
        (b"CABLE 16\n", b"ERR 102 cable rating must be 13, 20, 32 or 63, got 16\n"),
        (b"EVLIMIT 81\n", b"ERR 102 EV limit must be 0-80 A, got 81\n"),
        (b"PHASES 0\n", b"ERR 102 phases must be 1, 2 or 3, got 0\n"),
        (b"STATE " + b"B" * 70 + b"\n", b"ERR 103 line longer than 64 characters\n"),
        (b"\xff\xfe\n", b"ERR 100 unknown command ??\n"),
    ],
)
def test_virtual_simulator_speaks_the_documented_protocol(
    raw_link: tuple[Any, BenchPhysics], command: bytes, reply: bytes
) -> None:
    lines, _ = raw_link
    assert _ask(lines, command) == reply


def test_empty_lines_get_no_reply(raw_link: tuple[Any, BenchPhysics]) -> None:
    lines, _ = raw_link
    # Two empty lines, then a query: the first reply line must be the query's.
    assert _ask(lines, b"\n\r\n*IDN?\n") == VirtualEvSimulator.IDN.encode() + b"\n"


def test_a_refused_command_changes_nothing(raw_link: tuple[Any, BenchPhysics]) -> None:
    lines, physics = raw_link
    assert _ask(lines, b"STATE B\n") == b"OK\n"
    assert _ask(lines, b"STATE X\n").startswith(b"ERR 102")
    assert physics.ev_state == "B"
