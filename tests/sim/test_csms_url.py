"""``hil sim --csms-url``: a URL no station could connect to is one line and exit 2; while the
back office is unreachable the station's retry line names the URL and the real reason."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from hil.lab.config import Instruments, load_lab_config
from hil.sim.bench import VirtualBench

REPO = Path(__file__).resolve().parents[2]
LAB = REPO / "lab_configs" / "virtual.yaml"


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("ws://127.0.0.1:70000/", "port is out of range (1-65535)"),
        ("http://127.0.0.1:9000/", "scheme must be ws:// or wss://"),
        ("", "empty"),
        ("garbage", "scheme must be ws:// or wss://"),
        ("ws://127.0.0.1:abc", "port is not a number"),
    ],
)
def test_a_url_no_station_can_connect_to_is_one_line_and_exit_2(url, says):
    """Harm prevented: a mistyped --csms-url either crashed with a traceback (port out of
    range: urlsplit's ValueError) or, worse, kept the virtual station retrying a URL that
    can never work (http://, garbage), forever, while the run waited for a boot. It is one
    line on stderr and exit code 2 (the exit code of a bad lab config)."""
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "hil", "sim", "--lab", str(LAB), "--csms-url", url],
        cwd=REPO,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(f"error: --csms-url {url!r}: "), lines[0]
    assert says in lines[0], lines[0]
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    assert time.monotonic() - started < 20


# -- the retry line's reason, against loopback servers -----------------------------------


def _closed_port() -> int:
    with socket.socket() as sock:  # bound, never listening: a connection is refused
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def _silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(Exception):  # accepts, says nothing until the test ends
        await reader.read()
    writer.close()


async def _http_404(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(Exception):
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
    writer.close()


async def _hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.close()  # accepts and closes at once: no HTTP answer at all


Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


def _first_retry_line(caplog: pytest.LogCaptureFixture, handler: Handler | None) -> str:
    """Run a virtual bench (no instruments) against a loopback server with ``handler``, or
    against a closed port; return the station's first "cannot reach" line."""
    cfg = load_lab_config(LAB)
    cfg.instruments = Instruments()

    async def scenario() -> str:
        server = None
        writers: list[asyncio.StreamWriter] = []

        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            writers.append(writer)
            assert handler is not None
            await handler(reader, writer)

        if handler is None:
            port = _closed_port()
        else:
            server = await asyncio.start_server(serve, "127.0.0.1", 0)
            port = server.sockets[0].getsockname()[1]
        bench = VirtualBench(cfg, f"ws://127.0.0.1:{port}")
        try:
            await bench.start()
            for _ in range(200):
                found = [
                    r.getMessage()
                    for r in caplog.records
                    if r.getMessage().startswith("cannot reach the back office")
                ]
                if found:
                    return found[0] + f" [port {port}]"
                await asyncio.sleep(0.05)
            raise AssertionError("the station never said it cannot reach the back office")
        finally:
            await bench.stop()
            if server is not None:
                server.close()
                for writer in writers:  # the server's side of every connection
                    writer.close()
                await server.wait_closed()

    with caplog.at_level(logging.INFO, logger="hil.sim.station"):
        return asyncio.run(scenario())


def _url_and_reason(line: str) -> tuple[str, str]:
    line, _, port = line.rpartition(" [port ")
    url = f"ws://127.0.0.1:{port.rstrip(']')}/VIRTUAL-CP-001"
    prefix = f"cannot reach the back office at {url}: "
    assert line.startswith(prefix), line
    assert line.endswith("; retrying"), line
    return url, line.removeprefix(prefix).removesuffix("; retrying")


def test_retry_line_says_connection_refused(caplog):
    """Harm prevented: through the virtual bench's network relay a refused connection
    showed as "did not receive a valid HTTP response", which sends the engineer looking
    for a broken back office when nothing listens at all. The line names the back office
    URL (not the relay's) and says "connection refused"."""
    _, reason = _url_and_reason(_first_retry_line(caplog, None))
    assert reason.startswith("connection refused: nothing listens on 127.0.0.1:"), reason


def test_retry_line_says_no_http_answer_from_a_silent_server(caplog):
    """A TCP server that accepts and says nothing (not a WebSocket server) is not "refused":
    the line says there was no HTTP answer within the handshake timeout."""
    _, reason = _url_and_reason(_first_retry_line(caplog, _silent))
    assert reason.startswith("no HTTP answer within 3 s"), reason
    assert "accepted the TCP connection" in reason and "refused" not in reason


def test_retry_line_names_a_non_101_http_answer(caplog):
    """An HTTP server that answers 404 (wrong port or path) is named with its status."""
    _, reason = _url_and_reason(_first_retry_line(caplog, _http_404))
    assert "HTTP 404 Not Found instead of 101 Switching Protocols" in reason, reason


def test_retry_line_says_no_http_answer_when_the_server_hangs_up(caplog):
    """A server that accepts and closes at once gave no HTTP answer; not "refused"."""
    _, reason = _url_and_reason(_first_retry_line(caplog, _hang_up))
    assert reason.startswith("no HTTP answer: the server closed the connection"), reason
