"""Energy meter failures become InstrumentErrors that name the role, address and cause."""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from drivers.base import InstrumentError
from drivers.energy_meter.sdm630 import Sdm630
from hil.sim.instruments.modbus_meter import VirtualEnergyMeter
from hil.sim.physics import BenchPhysics


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _float_words(value: float) -> list[int]:
    data = struct.pack(">f", value)
    return [int.from_bytes(data[:2], "big"), int.from_bytes(data[2:], "big")]


async def _sdm_server(volts: float, energy_kwh: float) -> Any:
    """A pymodbus server with an SDM630-like input block holding given floats."""
    from pymodbus.server import ModbusTcpServer
    from pymodbus.simulator import DataType, SimData, SimDevice

    block = [0] * 0x4A
    block[0:6] = _float_words(volts) * 3
    block[0x48:0x4A] = _float_words(energy_kwh)
    bits = [SimData(0, values=[False] * 16, datatype=DataType.BITS)]
    device = SimDevice(
        id=1,
        simdata=(
            bits,
            list(bits),
            [SimData(0, datatype=DataType.INVALID)],
            [SimData(0, values=block, datatype=DataType.REGISTERS)],
        ),
    )
    server = ModbusTcpServer(device, address=("127.0.0.1", 0))
    await server.serve_forever(background=True)
    return server


@pytest.fixture
def garbage_server() -> Iterator[int]:
    """A TCP server that answers every request with bytes that are not Modbus."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen()
    conns: list[socket.socket] = []

    def serve() -> None:
        while True:
            try:
                conn, _ = srv.accept()
            except OSError:
                return
            conns.append(conn)
            threading.Thread(target=answer, args=(conn,), daemon=True).start()

    def answer(conn: socket.socket) -> None:
        try:
            while conn.recv(256):
                conn.sendall(b"\x00\x01 this is not a Modbus answer \r\n")
        except OSError:
            pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield srv.getsockname()[1]
    finally:
        srv.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        srv.close()
        for conn in conns:
            conn.close()
        thread.join(timeout=5)


def test_refused_port_names_role_and_address() -> None:
    address = f"modbus-tcp://127.0.0.1:{_free_port()}"
    meter = Sdm630(address, timeout_s=0.5, retries=0)
    with pytest.raises(InstrumentError) as err:
        meter.open()
    assert err.value.role == "energy_meter"
    assert err.value.address == address
    assert "cannot connect to 127.0.0.1" in str(err.value)
    assert str(err.value).startswith(f"energy_meter at {address}: ")


def test_garbage_bytes_are_an_error_not_a_reading(garbage_server: int) -> None:
    meter = Sdm630(f"modbus-tcp://127.0.0.1:{garbage_server}", timeout_s=0.3, retries=0)
    with pytest.raises(InstrumentError, match=r"no valid answer within 0.3 s .*0x0048"):
        meter.open()


def test_modbus_exception_response_is_reported(sim_loop: Any) -> None:
    # an SDM630 driver pointed at an ABB meter asks for input registers the ABB lacks
    physics = BenchPhysics()
    abb = VirtualEnergyMeter(physics, model="abb_b23")
    address = sim_loop.run(abb.start())
    meter = Sdm630(address, timeout_s=1.0, retries=0)
    try:
        with pytest.raises(InstrumentError, match=r"Modbus exception 2 \(illegal data address\)"):
            meter.open()
    finally:
        meter.close()
        sim_loop.run(abb.stop())


@pytest.mark.parametrize(
    ("volts", "kwh", "message"),
    [
        (float("nan"), 1.0, r"energy_import|voltage_l1"),
        (230.0, float("nan"), r"energy_import \(0x0048\) not available"),
        (230.0, float("inf"), r"energy_import \(0x0048\) not available"),
        (230.0, -5.0, r"implausible energy_import -5000.0"),
        (1.0e6, 1.0, r"implausible voltage_l1 1000000.0 .*wrong register map or word order"),
    ],
)
def test_implausible_or_missing_values_are_garbage(
    sim_loop: Any, volts: float, kwh: float, message: str
) -> None:
    server = sim_loop.run(_sdm_server(volts, kwh))
    port = server.transport.sockets[0].getsockname()[1]
    meter = Sdm630(f"modbus-tcp://127.0.0.1:{port}", timeout_s=1.0, retries=0)
    try:
        with pytest.raises(InstrumentError, match=message):
            meter.open()
            meter.read_voltages_v()
    finally:
        meter.close()
        sim_loop.run(server.shutdown())


def test_meter_that_stops_mid_session(sim_loop: Any) -> None:
    physics = BenchPhysics()
    virtual = VirtualEnergyMeter(physics)
    address = sim_loop.run(virtual.start())
    meter = Sdm630(address, timeout_s=0.5, retries=0)
    try:
        meter.open()
        assert meter.read_power_w() == 0.0
        sim_loop.run(virtual.stop())
        with pytest.raises(InstrumentError) as err:
            meter.read_power_w()
        assert err.value.address == address
        assert "connection lost" in err.value.reason or "cannot connect" in err.value.reason
        # and it stays an error (reconnect is refused), not a stale value
        with pytest.raises(InstrumentError):
            meter.read_energy_wh()
    finally:
        meter.close()
        sim_loop.run(virtual.stop())


def test_configuration_mistakes_are_reported_at_construction(tmp_path) -> None:
    with pytest.raises(InstrumentError, match=r"unknown option\(s\) unit"):
        Sdm630("modbus-tcp://10.0.0.1", unit=2)
    with pytest.raises(InstrumentError, match="unsupported scheme 'http'"):
        Sdm630("http://10.0.0.1")
    with pytest.raises(InstrumentError, match=r"no_such.yaml: cannot read register map"):
        Sdm630("modbus-tcp://10.0.0.1", register_map=str(tmp_path / "no_such.yaml"))
    with pytest.raises(InstrumentError, match="not open"):
        Sdm630("modbus-tcp://10.0.0.1").read_power_w()


def test_a_custom_register_map_file_replaces_the_bundled_one(sim_loop: Any, tmp_path) -> None:
    # the EM340 map copied under another name drives a "new model" with no code
    from drivers.energy_meter.registers import MAPS_DIR

    custom = tmp_path / "my_meter.yaml"
    custom.write_text((MAPS_DIR / "em340.yaml").read_text().replace("Carlo Gavazzi EM340", "Mine"))
    physics = BenchPhysics()
    virtual = VirtualEnergyMeter(physics, model="em340")
    address = sim_loop.run(virtual.start())
    meter = Sdm630(address, register_map=str(custom), timeout_s=1.0, retries=0)
    try:
        meter.open()
        assert meter.identify() == "Mine identification_code=341"
    finally:
        meter.close()
        sim_loop.run(virtual.stop())
