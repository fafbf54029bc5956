"""Power analyser failures become InstrumentErrors naming role, address and cause."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from typing import Any

import pytest

from drivers.base import InstrumentError
from drivers.power_analyser.wt300 import Wt300
from hil.sim.instruments.scpi_analyser import VirtualPowerAnalyser
from hil.sim.physics import BenchPhysics

WT_IDN = "YOKOGAWA,WT310,C2XXXX,F1.01"


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


def wt_like(values: str) -> Callable[[str], str | None]:
    """A WT300 that accepts every setting and answers the value query with ``values``."""

    def answer(line: str) -> str | None:
        if line == "*IDN?":
            return WT_IDN
        if line == ":STATus:ERRor?":
            return '0,"No error"'
        if line == ":NUMeric:NORMal:VALue?":
            return values
        return None

    return answer


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_refused_port_names_role_and_address() -> None:
    address = f"TCPIP0::127.0.0.1::{_free_port()}::SOCKET"
    with pytest.raises(InstrumentError) as err:
        Wt300(address, timeout_s=0.5).open()
    assert (err.value.role, err.value.address) == ("power_analyser", address)
    assert "refused" in err.value.reason.lower()


def test_silent_instrument_times_out(sim_loop: Any) -> None:
    server = Scripted(lambda line: None)
    address = sim_loop.run(server.start())
    try:
        with pytest.raises(InstrumentError, match=r"no answer within 0.3 s to '\*IDN\?'"):
            Wt300(address, timeout_s=0.3).open()
    finally:
        sim_loop.run(server.stop())


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ("230.1E+00,banana,1.0E+00,2.0E+00", r"garbled answer to ':NUMeric:NORMal:VALue\?'"),
        ("230.1E+00,16.0E+00", r"expected 4 values"),
        ("230.1E+00,16.0E+00,NAN,0.0E+00", r"power_w not available \(instrument answered 'NAN'\)"),
        ("230.1E+00,9.91E+37,1.0E+00,2.0E+00", r"current_a not available"),
    ],
)
def test_garbage_values_are_errors(sim_loop: Any, values: str, message: str) -> None:
    server = Scripted(wt_like(values))
    address = sim_loop.run(server.start())
    driver = Wt300(address, timeout_s=0.5)
    try:
        driver.open()
        with pytest.raises(InstrumentError, match=message):
            driver.read_all()
    finally:
        driver.close()
        sim_loop.run(server.stop())


def test_garbled_error_queue_answer(sim_loop: Any) -> None:
    def answer(line: str) -> str | None:
        return WT_IDN if line == "*IDN?" else ("\x00\x7f noise" if line.endswith("?") else None)

    server = Scripted(answer)
    address = sim_loop.run(server.start())
    try:
        with pytest.raises(InstrumentError, match=r"garbled answer .* to ':STATus:ERRor\?'"):
            Wt300(address, timeout_s=0.5).open()
    finally:
        sim_loop.run(server.stop())


def test_setup_refused_by_the_instrument(sim_loop: Any) -> None:
    virtual = VirtualPowerAnalyser(BenchPhysics())
    address = sim_loop.run(virtual.start())
    try:
        with pytest.raises(
            InstrumentError, match=r"refused ':NUMeric:NORMal:ITEM3 P,7': error 220"
        ):
            Wt300(address, timeout_s=0.5, element=7).open()
    finally:
        sim_loop.run(virtual.stop())


def test_analyser_that_stops_mid_session(sim_loop: Any) -> None:
    virtual = VirtualPowerAnalyser(BenchPhysics())
    address = sim_loop.run(virtual.start())
    driver = Wt300(address, timeout_s=0.3)
    try:
        driver.open()
        assert driver.read_power_w() == 0.0
        sim_loop.run(virtual.stop())
        for _ in range(2):  # the first read times out, later ones fail at once
            with pytest.raises(InstrumentError) as err:
                driver.read_power_w()
            assert err.value.address == address
    finally:
        driver.close()


def test_unknown_option_and_not_open() -> None:
    with pytest.raises(InstrumentError, match=r"unknown option\(s\) elemnt; known: timeout_s"):
        Wt300("TCPIP0::h::1::SOCKET", elemnt=1)
    with pytest.raises(InstrumentError, match="not open"):
        Wt300("TCPIP0::h::1::SOCKET").read_power_w()
