"""A DC bench whose DC EV emulator or DC meter cannot be used when the lab opens.

As for the AC roles (``test_instrument_loss.py``), an unreachable instrument does not abort
the lab: it is recorded in ``Bench.unreachable`` with a message naming the role and the
address (and the cause), the other instruments open, and every step needing it fails
naming it. ``hil lab check`` names it the same way. The instruments here are the virtual
ones served in this process on 127.0.0.1, a closed port, or a line server answering
garbage; each is stopped by its test.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from hil.cli import main
from hil.lab.bench import Bench
from hil.lab.config import parse_lab_config
from hil.sim.dc_session import SessionTiming
from hil.sim.instruments.dc_ev_emulator import VirtualDcEvEmulator
from hil.sim.instruments.lem_dcbm import VirtualLemDcbm
from tests.clock import FakeClock
from tests.drivers.test_dc_ev_emulator import Scripted

REPO = Path(__file__).resolve().parents[2]


def closed_port() -> int:
    with socket.socket() as sock:  # bound, never listening, then closed: refused
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def dead_emulator() -> str:
    return f"TCPIP0::127.0.0.1::{closed_port()}::SOCKET"


def dead_meter() -> str:
    return f"http://127.0.0.1:{closed_port()}"


def dc_bench_file(tmp_path: Path, emulator: str, meter: str) -> Path:
    """lab_configs/virtual-dc.yaml as a real bench with only the two DC instruments, at
    the given addresses (short timeouts: a dead one fails fast)."""
    data = yaml.safe_load((REPO / "lab_configs" / "virtual-dc.yaml").read_text())
    data["lab"]["bench"] = "real"
    data.pop("virtual", None)
    data["instruments"] = {
        "dc_ev_emulator": {"driver": "hil-dcev", "address": emulator, "options": {"timeout_s": 1}},
        "dc_meter": {"driver": "lem-dcbm", "address": meter, "options": {"timeout_s": 1}},
    }
    path = tmp_path / "bench-dc.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def open_bench(tmp_path: Path, emulator: str, meter: str) -> Bench:
    path = dc_bench_file(tmp_path, emulator, meter)
    bench = Bench(parse_lab_config(yaml.safe_load(path.read_text()), str(path)), tmp_path / "out")
    bench.open()
    return bench


@pytest.fixture
def emulator(sim_loop: Any) -> Iterator[str]:
    virtual = VirtualDcEvEmulator(timing=SessionTiming(cable_check_s=1.0), clock=FakeClock(0.0))
    address = sim_loop.run(virtual.start())
    try:
        yield str(address)
    finally:
        sim_loop.run(virtual.stop())


@pytest.fixture
def meter() -> Iterator[VirtualLemDcbm]:
    virtual = VirtualLemDcbm().start()
    try:
        yield virtual
    finally:
        virtual.stop()


def assert_only_unreachable(bench: Bench, role: str, address: str, cause: str) -> None:
    """``role`` is unreachable, named with its address and cause; the other DC role works."""
    other = {"dc_ev_emulator": "dc_meter", "dc_meter": "dc_ev_emulator"}[role]
    assert list(bench.unreachable) == [role]
    problem = bench.unreachable[role]
    assert problem.startswith(f"{role} unreachable when the lab opened: {role} at {address}: ")
    assert cause in problem, problem
    assert bench.instrument(role) is None and not bench.instrument_works(role)
    assert bench.instrument_problem(role) == problem
    assert bench.instrument_works(other)
    assert bench.addresses[role] == address


def test_an_unreachable_dc_ev_emulator_is_named_and_the_meter_still_opens(
    tmp_path: Path, meter: VirtualLemDcbm
) -> None:
    dead = dead_emulator()
    bench = open_bench(tmp_path, dead, meter.address)
    try:
        assert_only_unreachable(bench, "dc_ev_emulator", dead, "Connection refused")
    finally:
        bench.close()


def test_an_unreachable_dc_meter_is_named_and_the_emulator_still_opens(
    tmp_path: Path, emulator: str
) -> None:
    dead = dead_meter()
    bench = open_bench(tmp_path, emulator, dead)
    try:
        assert_only_unreachable(bench, "dc_meter", dead, "GET /v1/status: cannot connect")
    finally:
        bench.close()


@pytest.mark.parametrize(
    ("fault", "cause"),
    [
        ("malformed_json", "GET /v1/status: reply is not JSON"),
        ("http_status", "GET /v1/status: HTTP 503"),
    ],
)
def test_a_dc_meter_answering_badly_when_the_lab_opens_is_named(
    tmp_path: Path, emulator: str, meter: VirtualLemDcbm, fault: str, cause: str
) -> None:
    """A meter that answers, but not as a LEM DCBM (broken JSON, an HTTP error), is as
    unusable as one that does not: named with role, address and what was wrong."""
    setattr(meter, fault, True if fault == "malformed_json" else 503)
    bench = open_bench(tmp_path, emulator, meter.address)
    try:
        assert_only_unreachable(bench, "dc_meter", meter.address, cause)
    finally:
        bench.close()


def test_a_dc_ev_emulator_answering_garbage_when_the_lab_opens_is_named(
    tmp_path: Path, meter: VirtualLemDcbm, sim_loop: Any
) -> None:
    """Something at the emulator's address that is not one (it answers ``*IDN?`` with
    noise) is named with role, address and the answer."""
    server = Scripted(lambda line: "\x15garbage" if line == "*IDN?" else None)
    address = str(sim_loop.run(server.start()))
    try:
        bench = open_bench(tmp_path, address, meter.address)
        try:
            assert_only_unreachable(bench, "dc_ev_emulator", address, "*IDN? answered")
        finally:
            bench.close()
    finally:
        sim_loop.run(server.stop())


def test_lab_check_names_both_dead_dc_instruments(tmp_path: Path, capsys: Any) -> None:
    """``hil lab check`` on a DC bench: each dead DC instrument is a FAIL line with its
    role and address, and the exit code is 1."""
    emulator, meter = dead_emulator(), dead_meter()
    path = dc_bench_file(tmp_path, emulator, meter)
    assert main(["lab", "check", "--lab", str(path)]) == 1
    out = capsys.readouterr().out
    lines = {line.split()[0]: line for line in out.splitlines() if line.startswith("dc_")}
    assert "FAIL" in lines["dc_ev_emulator"] and f"dc_ev_emulator at {emulator}" in out
    assert "FAIL" in lines["dc_meter"] and f"dc_meter at {meter}: GET /v1/status" in out
    assert "0 of 2 instrument(s) OK" in out
