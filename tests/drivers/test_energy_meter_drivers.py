"""Energy meter drivers against Modbus servers over real TCP on loopback.

The SDM630, ABB B23 and EM340 drivers read the virtual meter driven by the physics; the ABB
and EM340 maps are also read from a plain pymodbus server holding registers written out by
hand from the manuals' encodings, so a symmetric codec bug cannot hide.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from drivers.energy_meter.abb_b23 import AbbB23
from drivers.energy_meter.em340 import Em340
from drivers.energy_meter.modbus import ModbusEnergyMeter
from drivers.energy_meter.sdm630 import Sdm630
from drivers.registry import create_driver
from hil.sim.instruments.modbus_meter import VirtualEnergyMeter
from hil.sim.physics import BenchPhysics
from tests.clock import FakeClock

DRIVERS: dict[str, type[ModbusEnergyMeter]] = {"sdm630": Sdm630, "abb_b23": AbbB23, "em340": Em340}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(1000.0)


@pytest.fixture
def physics(clock: FakeClock) -> BenchPhysics:
    return BenchPhysics(voltage_v=230.0, supply_phases=3, clock=clock)


def charge(sim_loop: Any, physics: BenchPhysics, duty: float = 50.0, phases: int = 3) -> None:
    """EV plugged and charging (state C, contactor closed, pilot at ``duty``)."""

    def go() -> None:
        physics.set_ev_limits(phases=phases)
        physics.set_ev_state("C")
        physics.set_contactor(True)
        physics.set_pilot(duty)

    sim_loop.call(go)


@pytest.fixture(params=sorted(DRIVERS))
def model(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def virtual_meter(sim_loop: Any, physics: BenchPhysics, model: str) -> Iterator[VirtualEnergyMeter]:
    meter = VirtualEnergyMeter(physics, model=model, energy_offset_wh=500_000.0)
    sim_loop.run(meter.start())
    try:
        yield meter
    finally:
        sim_loop.run(meter.stop())


@pytest.fixture
def driver(virtual_meter: VirtualEnergyMeter, model: str) -> Iterator[ModbusEnergyMeter]:
    meter = DRIVERS[model](virtual_meter.address, timeout_s=1.0, retries=0)
    meter.open()
    try:
        yield meter
    finally:
        meter.close()


def test_port_zero_gives_a_real_port(virtual_meter: VirtualEnergyMeter) -> None:
    assert virtual_meter.port > 0
    assert virtual_meter.address == f"modbus-tcp://127.0.0.1:{virtual_meter.port}"


def test_idle_bench_reads_zero_power_and_the_register_history(driver: ModbusEnergyMeter) -> None:
    assert driver.read_voltages_v() == (0.0, 0.0, 0.0)  # contactor open
    assert driver.read_currents_a() == (0.0, 0.0, 0.0)
    assert driver.read_power_w() == 0.0
    assert driver.read_energy_wh() == pytest.approx(500_000.0, abs=1.0)


def test_charging_reads_volts_amps_watts_and_energy_rises(
    sim_loop: Any, physics: BenchPhysics, clock: FakeClock, driver: ModbusEnergyMeter, model: str
) -> None:
    charge(sim_loop, physics, duty=50.0)  # 50 % duty offers 30 A
    assert driver.read_voltages_v() == pytest.approx((230.0, 230.0, 230.0))
    assert driver.read_currents_a() == pytest.approx((30.0, 30.0, 30.0))
    assert driver.read_power_w() == pytest.approx(3 * 230.0 * 30.0)
    before = driver.read_energy_wh()
    sim_loop.call(clock.advance, 3600.0)  # one hour at 20.7 kW
    after = driver.read_energy_wh()
    resolution = {"sdm630": 1.0, "abb_b23": 10.0, "em340": 100.0}[model]  # float / 0.01 / 0.1 kWh
    assert after - before == pytest.approx(20_700.0, abs=resolution)
    assert driver.read_sample() == pytest.approx(
        {
            "energy_wh": after,
            "power_w": 20_700.0,
            "current_l1_a": 30.0,
            "current_l2_a": 30.0,
            "current_l3_a": 30.0,
        },
        abs=resolution,
    )


def test_single_phase_ev_at_a_lower_pilot(
    sim_loop: Any, physics: BenchPhysics, driver: ModbusEnergyMeter
) -> None:
    charge(sim_loop, physics, duty=16.0, phases=1)  # 16 % -> 9.6 A, one phase
    assert driver.read_currents_a() == pytest.approx((9.6, 0.0, 0.0), abs=0.01)
    assert driver.read_power_w() == pytest.approx(230.0 * 9.6, abs=0.1)


def test_identify_reads_the_identity_registers(driver: ModbusEnergyMeter, model: str) -> None:
    ident = driver.identify()
    expected = {
        "sdm630": "Eastron SDM630 serial_number=20240001",
        "abb_b23": "ABB B23/B24 serial_number=20240001",
        "em340": "Carlo Gavazzi EM340 identification_code=341",
    }[model]
    assert ident == expected


@pytest.mark.parametrize("model", ["sdm630"])
def test_concurrent_readers_share_one_connection_safely(
    sim_loop: Any, physics: BenchPhysics, driver: ModbusEnergyMeter
) -> None:
    charge(sim_loop, physics)
    failures: list[BaseException] = []
    results: list[tuple] = []

    def reader() -> None:
        try:
            for _ in range(40):
                results.append(driver.read_voltages_v())
                results.append(driver.read_currents_a())
        except BaseException as exc:  # pragma: no cover - reported below
            failures.append(exc)

    threads = [threading.Thread(target=reader) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert failures == []
    assert len(results) == 4 * 80
    assert set(results) == {(230.0, 230.0, 230.0), (30.0, 30.0, 30.0)}


def test_registry_builds_the_drivers() -> None:
    meter = create_driver("energy_meter", "sdm630", "modbus-tcp://10.0.0.1:502", {"unit_id": 3})
    assert isinstance(meter, Sdm630)
    assert meter.unit_id == 3
    assert isinstance(create_driver("energy_meter", "abb_b23", "modbus-tcp://h", {}), AbbB23)
    assert isinstance(create_driver("energy_meter", "em340", "modbus-tcp://h", {}), Em340)


# -- hand-encoded registers: the manuals' encodings over the wire ----------------------


async def _raw_server(holding: dict[int, list[int]], unit_id: int = 1, rtu: bool = False) -> Any:
    """A pymodbus server holding exactly ``holding`` (address -> words); returns server."""
    from pymodbus.framer import FramerType
    from pymodbus.server import ModbusTcpServer
    from pymodbus.simulator import DataType, SimData, SimDevice

    blocks = [
        SimData(address, values=words, datatype=DataType.REGISTERS)
        for address, words in sorted(holding.items())
    ]
    bits = [SimData(0, values=[False] * 16, datatype=DataType.BITS)]
    device = SimDevice(
        id=unit_id,
        simdata=(bits, list(bits), blocks, [SimData(0, datatype=DataType.INVALID)]),
    )
    server = ModbusTcpServer(
        device,
        address=("127.0.0.1", 0),
        framer=FramerType.RTU if rtu else FramerType.SOCKET,
    )
    await server.serve_forever(background=True)
    return server


def _port(server: Any) -> int:
    return server.transport.sockets[0].getsockname()[1]


ABB_REGISTERS = {
    0x5000: [0x0000, 0x0000, 0x0001, 0xE240],  # 123456 * 0.01 kWh = 1234.56 kWh
    # 0x5B00.. V L1-N 230.1 V, L2 229.9 V, L3 231.0 V (0.1 V); L-L voltages unused
    0x5B00: [0, 2301, 0, 2299, 0, 2310, 0, 0, 0, 0, 0, 0],
    # 0x5B0C.. currents 16.00 A, 15.50 A, 0.00 A (0.01 A); neutral unused
    0x5B0C: [0, 1600, 0, 1550, 0, 0, 0, 0],
    0x5B14: [0x0000, 0xE100],  # total power 57600 * 0.01 W = 576.00 W (signed 32 bit)
    0x8900: [0x0131, 0x2D00],  # serial number 0x01312D00 = 20000000
}


@pytest.mark.parametrize("rtu", [False, True], ids=["tcp", "rtu-over-tcp"])
def test_abb_b23_reads_hand_encoded_registers(sim_loop: Any, rtu: bool) -> None:
    server = sim_loop.run(_raw_server(ABB_REGISTERS, unit_id=5, rtu=rtu))
    scheme = "modbus-rtu-over-tcp" if rtu else "modbus-tcp"
    meter = AbbB23(f"{scheme}://127.0.0.1:{_port(server)}", unit_id=5, timeout_s=1.0, retries=0)
    try:
        meter.open()
        assert meter.read_energy_wh() == pytest.approx(1_234_560.0)
        assert meter.read_voltages_v() == pytest.approx((230.1, 229.9, 231.0))
        assert meter.read_currents_a() == pytest.approx((16.0, 15.5, 0.0))
        assert meter.read_power_w() == pytest.approx(576.0)
        assert meter.identify() == "ABB B23/B24 serial_number=20000000"
    finally:
        meter.close()
        sim_loop.run(server.shutdown())


def test_em340_reads_hand_encoded_word_swapped_registers(sim_loop: Any) -> None:
    registers = {
        # 0x0000.. V L1-N 230.1 V (2301), L2 230.0 V, L3 229.5 V; LSW first
        0x0000: [2301, 0, 2300, 0, 2295, 0, 0, 0, 0, 0, 0, 341],  # 0x000B id code 341
        # 0x000C.. A L1 31.999 A = 31999, L2 0.5 A, L3 0; W L1..L3 unused
        0x000C: [31999, 0, 500, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        # 0x0028 W sys 7360.3 W = 73603 = 0x00011F83 -> words 0x1F83, 0x0001
        0x0028: [0x1F83, 0x0001],
        # 0x0034 kWh(+) TOT 98765.4 kWh = 987654 = 0x000F1206 -> 0x1206, 0x000F
        0x0034: [0x1206, 0x000F],
    }
    server = sim_loop.run(_raw_server(registers))
    meter = Em340(f"modbus-tcp://127.0.0.1:{_port(server)}", timeout_s=1.0, retries=0)
    try:
        meter.open()
        assert meter.read_voltages_v() == pytest.approx((230.1, 230.0, 229.5))
        assert meter.read_currents_a() == pytest.approx((31.999, 0.5, 0.0))
        assert meter.read_power_w() == pytest.approx(7360.3)
        assert meter.read_energy_wh() == pytest.approx(98_765_400.0)
        assert meter.identify() == "Carlo Gavazzi EM340 identification_code=341"
    finally:
        meter.close()
        sim_loop.run(server.shutdown())


def test_virtual_meter_serves_the_unit_id_it_was_given(
    sim_loop: Any, physics: BenchPhysics
) -> None:
    meter = VirtualEnergyMeter(physics, unit_id=7)
    address = sim_loop.run(meter.start())
    driver = Sdm630(address, unit_id=7, timeout_s=1.0, retries=0)
    try:
        driver.open()
        assert driver.read_power_w() == 0.0
    finally:
        driver.close()
        sim_loop.run(meter.stop())
