"""hil-evsim error handling: unreachable ports, silent, garbage-talking and refusing boxes.

The misbehaving boxes are small TCP servers that answer each command line with a scripted
reply, the way a broken or wrongly wired instrument would.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from drivers.base import InstrumentError
from drivers.registry import create_driver

IDN = b"ACME,EVSIM,1,1.0\n"
CLOSE = object()
Reply = Any  # bytes, (delay_s, bytes), CLOSE, or None for silence


class _ScriptedBox:
    """A TCP 'instrument' whose replies come from ``respond(line)``; runs on its own loop."""

    def __init__(self, respond: Callable[[bytes], Reply]) -> None:
        self.respond = respond
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.server = self._run(asyncio.start_server(self._serve, "127.0.0.1", 0))
        self.address = f"socket://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    def _run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(5)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while line := await reader.readline():
                reply = self.respond(line.strip())
                if reply is CLOSE:
                    break
                if isinstance(reply, tuple):
                    await asyncio.sleep(reply[0])
                    reply = reply[1]
                if reply:
                    writer.write(reply)
                    await writer.drain()
        finally:
            writer.close()

    def close(self) -> None:
        async def _stop() -> None:
            self.server.close()
            await self.server.wait_closed()

        self._run(_stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


@pytest.fixture
def box() -> Iterator[Callable[[Callable[[bytes], Reply]], _ScriptedBox]]:
    boxes: list[_ScriptedBox] = []

    def make(respond: Callable[[bytes], Reply]) -> _ScriptedBox:
        boxes.append(_ScriptedBox(respond))
        return boxes[-1]

    yield make
    for b in boxes:
        b.close()


def _driver(address: str, timeout: float = 0.3) -> Any:
    return create_driver("ev_simulator", "hil-evsim", address, {"timeout": timeout})


def _idn_then(other: Callable[[bytes], Reply]) -> Callable[[bytes], Reply]:
    return lambda line: IDN if line == b"*IDN?" else other(line)


def test_refused_tcp_port_names_role_and_address() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound but not listening: connections are refused
        address = f"socket://127.0.0.1:{port}"
        driver = _driver(address)
        with pytest.raises(InstrumentError) as err:
            driver.open()
    assert err.value.role == "ev_simulator"
    assert err.value.address == address
    assert "cannot open serial port" in str(err.value)


def test_missing_serial_device() -> None:
    with pytest.raises(InstrumentError, match="ev_simulator at /dev/ttyHIL_NOPE: cannot open"):
        _driver("/dev/ttyHIL_NOPE").open()


def test_unknown_option_is_named() -> None:
    with pytest.raises(InstrumentError, match="unknown option.*baud_rate"):
        create_driver("ev_simulator", "hil-evsim", "/dev/ttyUSB0", {"baud_rate": 9600})


def test_silent_box_times_out_within_the_timeout(box: Any) -> None:
    silent = box(lambda line: None)
    driver = _driver(silent.address, timeout=0.3)
    started = time.monotonic()
    with pytest.raises(InstrumentError, match=r"no reply to '\*IDN\?' within 0.3 s") as err:
        driver.open()
    assert time.monotonic() - started < 1.5
    assert err.value.address == silent.address


def test_garbage_reply(box: Any) -> None:
    noisy = box(lambda line: b"\xff\x00\xfe\n")
    with pytest.raises(InstrumentError, match="garbage reply to"):
        _driver(noisy.address).open()


def test_endless_garbage_without_line_end(box: Any) -> None:
    noisy = box(lambda line: b"x" * 1000)
    with pytest.raises(InstrumentError, match="garbage reply.*without a line end"):
        _driver(noisy.address).open()


def test_wrong_identity(box: Any) -> None:
    stranger = box(lambda line: b"hello\n")
    with pytest.raises(InstrumentError, match="expected maker,model,serial,firmware"):
        _driver(stranger.address).open()


def test_box_closing_the_link(box: Any) -> None:
    closer = box(_idn_then(lambda line: CLOSE))
    driver = _driver(closer.address)
    driver.open()
    with pytest.raises(InstrumentError, match="link failed during 'STATE B'"):
        driver.plug_in()
    driver.close()


def test_err_reply_is_reported_with_code(box: Any) -> None:
    refusing = box(_idn_then(lambda line: b"ERR 104 contactor relay stuck\n"))
    driver = _driver(refusing.address)
    driver.open()
    with pytest.raises(InstrumentError, match=r"refused 'STATE C': ERR 104 contactor relay stuck"):
        driver.request_charge()
    driver.close()


def test_unexpected_reply_to_a_command(box: Any) -> None:
    odd = box(_idn_then(lambda line: b"DONE\n"))
    driver = _driver(odd.address)
    driver.open()
    with pytest.raises(InstrumentError, match="unexpected reply to 'FAULT E'.*expected OK"):
        driver.inject_fault("E")
    driver.close()


@pytest.mark.parametrize(
    "reply",
    [b"C 53.3 32\n", b"STATE=C DUTY=abc CURRENT=1\n", b"STATE=Q DUTY=50 CURRENT=30\n"],
)
def test_malformed_pilot_reading(box: Any, reply: bytes) -> None:
    odd = box(_idn_then(lambda line: reply))
    driver = _driver(odd.address)
    driver.open()
    with pytest.raises(InstrumentError, match="PILOT"):
        driver.read_pilot()
    driver.close()


def test_late_reply_is_not_taken_for_the_next_answer(box: Any) -> None:
    answers = iter(
        [
            (0.6, b"STATE=A DUTY=NONE CURRENT=0.00\n"),  # arrives after the driver gave up
            b"STATE=C DUTY=50.00 CURRENT=30.00\n",
        ]
    )
    slow_once = box(_idn_then(lambda line: next(answers)))
    driver = _driver(slow_once.address, timeout=0.3)
    driver.open()
    with pytest.raises(InstrumentError, match="no reply to 'PILOT\\?'"):
        driver.read_pilot()
    time.sleep(0.5)  # let the stale reply land in the input buffer
    assert driver.read_pilot().state == "C"
    driver.close()


def test_use_after_close(box: Any) -> None:
    ok = box(lambda line: IDN)
    driver = _driver(ok.address)
    driver.open()
    driver.close()
    driver.close()  # idempotent
    with pytest.raises(InstrumentError, match="port not open"):
        driver.identify()
