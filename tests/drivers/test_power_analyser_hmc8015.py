"""The HMC8015 driver against a small HMC8015-like SCPI server over TCP (pyvisa-py).

The server below follows the HMC8015 commands the driver's command set uses
(``CHAN1:MEAS:FUNC``/``CHAN1:MEAS:DATA?``, ``INT:...``, ``SYST:ERR?``) and answers in the
order of the configured function list, as the instrument does.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from drivers.base import InstrumentError
from drivers.power_analyser.hmc8015 import Hmc8015
from drivers.power_analyser.wt300 import Wt300
from drivers.registry import create_driver

IDN = "Rohde&Schwarz,HMC8015,101234,01.403"


class FakeHmc8015:
    """Just enough of an HMC8015: function list, data query, integrator, error queue."""

    def __init__(self) -> None:
        self.readings = {"URMS": 229.5, "IRMS": 16.0, "P": 3672.0, "FPLL": 50.0, "WH": 0.0}
        self.functions = ["URMS", "IRMS", "P", "FPLL"]  # power-on default order differs
        self.integrator_enabled = False
        self.integrator = "RESET"
        self.mode = "DUR"
        self.errors: list[str] = []
        self.received: list[str] = []
        self._server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> str:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return f"TCPIP0::127.0.0.1::{self.port}::SOCKET"

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while line := await reader.readline():
                answer = self.handle(line.decode().strip())
                if answer is not None:
                    writer.write(answer.encode() + b"\n")
                    await writer.drain()
        finally:
            writer.close()

    def handle(self, line: str) -> str | None:
        self.received.append(line)
        header, _, arg = line.partition(" ")
        header = header.upper()
        if header == "*IDN?":
            return IDN
        if header == "*CLS":
            self.errors.clear()
        elif header == "SYST:ERR?":
            return self.errors.pop(0) if self.errors else '0,"No error"'
        elif header == "CHAN1:MEAS:FUNC":
            functions = [f.strip().upper() for f in arg.split(",")]
            if not set(functions) <= set(self.readings):
                self.errors.append('-224,"Illegal parameter value"')
            else:
                self.functions = functions
        elif header == "CHAN1:MEAS:DATA?":
            return ",".join(f"{self.readings[f]:+.5E}" for f in self.functions)
        elif header == "INT:MODE":
            self.mode = arg.upper()
        elif header == "INT:STAT":
            self.integrator_enabled = arg.upper() in ("ON", "1")
        elif header in ("INT:STAR", "INT:STOP", "INT:RES"):
            target = {"INT:STAR": "START", "INT:STOP": "STOP", "INT:RES": "RESET"}[header]
            if not self.integrator_enabled or (target == "RESET" and self.integrator == "START"):
                self.errors.append('-221,"Settings conflict"')
            else:
                self.integrator = target
                if target == "RESET":
                    self.readings["WH"] = 0.0
        else:
            self.errors.append('-113,"Undefined header"')
        return None


@pytest.fixture
def fake(sim_loop: Any) -> Iterator[FakeHmc8015]:
    server = FakeHmc8015()
    sim_loop.run(server.start())
    try:
        yield server
    finally:
        sim_loop.run(server.stop())


@pytest.fixture
def hmc(fake: FakeHmc8015) -> Iterator[Hmc8015]:
    driver = Hmc8015(f"TCPIP0::127.0.0.1::{fake.port}::SOCKET", timeout_s=1.0)
    driver.open()
    try:
        yield driver
    finally:
        driver.close()


def test_open_sets_the_function_list_and_enables_the_integrator(
    hmc: Hmc8015, fake: FakeHmc8015
) -> None:
    assert hmc.identify() == IDN
    assert fake.functions == ["URMS", "IRMS", "P", "WH"]
    assert fake.mode == "MAN"
    assert fake.integrator_enabled


def test_readings_come_from_the_configured_order(
    sim_loop: Any, hmc: Hmc8015, fake: FakeHmc8015
) -> None:
    assert hmc.read_voltage_v() == pytest.approx(229.5)
    assert hmc.read_current_a() == pytest.approx(16.0)
    assert hmc.read_power_w() == pytest.approx(3672.0)
    sim_loop.call(fake.readings.update, {"WH": 1234.5, "P": 7000.0})
    assert hmc.read_sample() == pytest.approx(
        {"power_w": 7000.0, "energy_wh": 1234.5, "current_a": 16.0}
    )


def test_integrator_commands(sim_loop: Any, hmc: Hmc8015, fake: FakeHmc8015) -> None:
    hmc.integration_reset()
    hmc.integration_start()
    assert fake.integrator == "START"
    with pytest.raises(InstrumentError, match=r"refused 'INT:RES': error -221 Settings conflict"):
        hmc.integration_reset()
    hmc.integration_stop()
    assert fake.integrator == "STOP"
    sim_loop.call(fake.readings.update, {"WH": 42.0})
    hmc.integration_reset()
    assert hmc.read_energy_wh() == 0.0


def test_a_wt300_driver_refuses_an_hmc8015(fake: FakeHmc8015) -> None:
    wrong = Wt300(f"TCPIP0::127.0.0.1::{fake.port}::SOCKET", timeout_s=1.0)
    with pytest.raises(
        InstrumentError, match=r"answered 'Rohde&Schwarz,HMC8015.*not a Yokogawa WT300"
    ):
        wrong.open()


def test_registry_builds_the_hmc8015() -> None:
    driver = create_driver("power_analyser", "hmc8015", "TCPIP0::10.0.0.3::5025::SOCKET", {})
    assert isinstance(driver, Hmc8015)
    with pytest.raises(InstrumentError, match=r"unknown option\(s\) element"):
        Hmc8015("TCPIP0::10.0.0.3::5025::SOCKET", element="SIGMa")
