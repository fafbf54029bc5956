"""BlackholeRelay: a pulled cable severs connections silently (no FIN, no RST), for good.

The relay runs on a background asyncio loop in front of a small echo server (the "back
office"); the "station" is a plain blocking socket, so what it sees is exactly what TCP
delivers: data, b"" for a FIN, an exception for a RST, or a read timeout for silence.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from hil.sim.network import BlackholeRelay

SILENCE_S = 0.4  # how long "nothing arrives" is watched


class _BenchLoop:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Any, timeout: float = 5.0) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


class _EchoBackOffice:
    """Echoes bytes; records connections, received bytes and EOFs (on the bench loop)."""

    def __init__(self) -> None:
        self.connections: list[asyncio.StreamWriter] = []
        self.received = bytearray()
        self.eofs = 0
        self.eof_seen: asyncio.Event | None = None
        self.server: asyncio.base_events.Server | None = None

    async def start(self) -> int:
        self.eof_seen = asyncio.Event()
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self.server.sockets[0].getsockname()[1]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections.append(writer)
        try:
            while data := await reader.read(4096):
                self.received += data
                writer.write(data)
                await writer.drain()
            self.eofs += 1
            assert self.eof_seen is not None
            self.eof_seen.set()
        except ConnectionError:
            pass
        finally:
            writer.close()

    async def wait_eof(self, timeout: float) -> bool:
        assert self.eof_seen is not None
        try:
            await asyncio.wait_for(self.eof_seen.wait(), timeout)
        except TimeoutError:
            return False
        return True

    async def stop(self) -> None:
        assert self.server is not None
        self.server.close()
        for writer in self.connections:
            writer.close()
        await self.server.wait_closed()


@pytest.fixture
def net() -> Iterator[tuple[_BenchLoop, BlackholeRelay, _EchoBackOffice, tuple[str, int]]]:
    loop = _BenchLoop()
    office = _EchoBackOffice()
    office_port = loop.run(office.start())
    relay = BlackholeRelay("127.0.0.1", office_port)
    address = loop.run(relay.start())
    yield loop, relay, office, address
    loop.run(relay.stop())
    loop.run(office.stop())
    loop.close()


def _connect(address: tuple[str, int]) -> socket.socket:
    sock = socket.create_connection(address, timeout=2)
    sock.settimeout(SILENCE_S)
    return sock


def _echo(sock: socket.socket, payload: bytes) -> bytes:
    sock.sendall(payload)
    got = b""
    while len(got) < len(payload):
        chunk = sock.recv(4096)
        if not chunk:
            break
        got += chunk
    return got


def _assert_silent(sock: socket.socket) -> None:
    """Nothing arrives: no data, no FIN (recv would return b""), no RST (an error)."""
    with pytest.raises(TimeoutError):
        sock.recv(4096)


async def _call(fn: Any, *args: Any) -> Any:
    return fn(*args)


def test_relays_both_ways_while_the_link_is_up(net: Any) -> None:
    loop, relay, office, address = net
    assert relay.link_up
    with _connect(address) as station:
        assert _echo(station, b"BootNotification") == b"BootNotification"
        assert _echo(station, b"x" * 200_000) == b"x" * 200_000
    assert loop.run(office.wait_eof(2.0))  # a normal close is passed on


def test_pulled_cable_severs_silently_in_both_directions(net: Any) -> None:
    loop, relay, office, address = net
    with _connect(address) as station:
        assert _echo(station, b"hello") == b"hello"
        loop.run(_call(relay.set_link, False))
        assert not relay.link_up
        station.sendall(b"lost in the cable")
        _assert_silent(station)  # no echo, no FIN
        assert bytes(office.received) == b"hello"  # never forwarded
        # The back office's bytes vanish too.
        loop.run(_call(office.connections[0].write, b"to the station"))
        _assert_silent(station)


def test_severed_stays_severed_after_the_link_returns(net: Any) -> None:
    loop, relay, office, address = net
    with _connect(address) as station:
        assert _echo(station, b"a") == b"a"
        loop.run(_call(relay.set_link, False))
        loop.run(_call(relay.set_link, True))
        station.sendall(b"still dead")
        _assert_silent(station)
        assert bytes(office.received) == b"a"
        # A new connection after the link is back works normally.
        with _connect(address) as again:
            assert _echo(again, b"reconnected") == b"reconnected"


def test_station_closing_a_severed_link_is_not_passed_on(net: Any) -> None:
    loop, relay, office, address = net
    station = _connect(address)
    assert _echo(station, b"a") == b"a"
    loop.run(_call(relay.set_link, False))
    station.close()
    assert not loop.run(office.wait_eof(SILENCE_S))  # the back office sees no FIN


def test_back_office_closing_a_severed_link_is_not_passed_on(net: Any) -> None:
    loop, relay, office, address = net
    with _connect(address) as station:
        assert _echo(station, b"a") == b"a"
        loop.run(_call(relay.set_link, False))
        loop.run(_call(office.connections[0].close))
        _assert_silent(station)  # no FIN reaches the station


def test_connection_made_while_down_is_accepted_but_never_connected(net: Any) -> None:
    loop, relay, office, address = net
    loop.run(_call(relay.set_link, False))
    with _connect(address) as station:  # TCP accepts...
        station.sendall(b"BootNotification")
        _assert_silent(station)
        loop.run(_call(relay.set_link, True))
        station.sendall(b"again")
        _assert_silent(station)  # ...and it stays dead after the link returns
    assert office.connections == []
    assert bytes(office.received) == b""


def test_back_office_down_closes_the_station_connection() -> None:
    loop = _BenchLoop()
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))  # bound, not listening: connections are refused
        relay = BlackholeRelay("127.0.0.1", unused.getsockname()[1])
        address = loop.run(relay.start())
        with _connect(address) as station:
            assert station.recv(10) == b""
        loop.run(relay.stop())
    loop.close()


def test_stop_releases_every_connection(net: Any) -> None:
    loop, relay, office, address = net
    with _connect(address) as healthy, _connect(address) as dead:
        assert _echo(healthy, b"a") == b"a"
        loop.run(_call(relay.set_link, False))
        loop.run(relay.stop())
        for sock in (healthy, dead):
            assert sock.recv(10) in (b"",)
    with pytest.raises(OSError):
        socket.create_connection(address, timeout=1).close()
