"""modbus-relay driver (pymodbus client) against a small pymodbus relay-module server."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest

from drivers.base import InstrumentError
from drivers.power_relay import PowerRelay
from drivers.registry import create_driver
from tests.conftest import SimLoop


class RelayModule:
    """A Modbus TCP server, unit 1, with coils 0..15 (a Waveshare-style relay module), all
    on at start; it records each write-single-coil request."""

    def __init__(self) -> None:
        self.server: Any = None
        self.port = 0
        self.writes: list[tuple[int, Any]] = []

    async def start(self) -> str:
        from pymodbus.server import ModbusTcpServer
        from pymodbus.simulator import DataType, SimData, SimDevice

        coils = [SimData(0, values=[True] * 16, datatype=DataType.BITS)]
        inputs = [SimData(0, values=[False] * 16, datatype=DataType.BITS, readonly=True)]
        nothing = [SimData(0, datatype=DataType.INVALID)]
        device = SimDevice(id=1, simdata=(coils, inputs, nothing, list(nothing)), action=self._seen)
        self.server = ModbusTcpServer(device, address=("127.0.0.1", 0))
        await self.server.serve_forever(background=True)
        self.port = self.server.transport.sockets[0].getsockname()[1]
        return f"modbus-tcp://127.0.0.1:{self.port}"

    async def _seen(self, function_code: int, start: int, address: int, *rest: Any) -> None:
        if function_code == 5 and rest[-1] is not None:  # the write itself, not its echo
            self.writes.append((address, rest[-1]))

    async def stop(self) -> None:
        if self.server is not None:
            await self.server.shutdown()
            self.server = None


@pytest.fixture
def module() -> Iterator[tuple[SimLoop, RelayModule, str]]:
    loop = SimLoop()
    server = RelayModule()
    url = loop.run(server.start())
    yield loop, server, url
    loop.run(server.stop())
    loop.close()


def _relay(url: str, **options: Any) -> Any:
    options = {"channel": 3, "timeout_s": 0.5, "readback_timeout_s": 0.5, **options}
    driver = create_driver("power_relay", "modbus-relay", url, options)
    driver.open()
    return driver


def test_on_off_and_read_back(module: tuple[SimLoop, RelayModule, str]) -> None:
    _, server, url = module
    relay = _relay(url)
    try:
        assert isinstance(relay, PowerRelay)
        assert "coil 2" in relay.identify()
        assert relay.is_on()
        relay.power_off()
        assert not relay.is_on()
        other = _relay(url, channel=1)  # the other channels are untouched
        try:
            assert other.is_on()
        finally:
            other.close()
        relay.power_on()
        assert relay.is_on()
        assert server.writes == [(2, [False]), (2, [True])]
    finally:
        relay.close()


def test_power_cycle(module: tuple[SimLoop, RelayModule, str]) -> None:
    _, server, url = module
    relay = _relay(url)
    try:
        relay.power_cycle(0.05)
        assert relay.is_on()
        assert len(server.writes) == 2
    finally:
        relay.close()


def test_a_unit_the_module_is_not_names_role_and_address(
    module: tuple[SimLoop, RelayModule, str],
) -> None:
    _, _, url = module
    with pytest.raises(InstrumentError, match=rf"^power_relay at {url}: "):
        _relay(url, unit_id=9)


def test_unreachable_module_names_role_and_address() -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nobody listens there now
    url = f"modbus-tcp://127.0.0.1:{port}"
    with pytest.raises(InstrumentError, match=rf"^power_relay at {url}: cannot connect"):
        _relay(url)


def test_bad_options_are_refused() -> None:
    with pytest.raises(InstrumentError, match=r"channel must be 1\.\.8"):
        create_driver("power_relay", "modbus-relay", "modbus-tcp://127.0.0.1", {"channel": 9})
    with pytest.raises(InstrumentError, match="modbus-tcp://host"):
        create_driver("power_relay", "modbus-relay", "snmp://127.0.0.1", {})
