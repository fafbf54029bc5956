"""The virtual reference EV simulator: the serial line protocol, served on a pty or TCP.

It implements docs/ev-simulator-protocol.md against :class:`~hil.sim.physics.BenchPhysics`:
commands drive the EV side (state, fault, cable, limits) and ``PILOT?`` reads back what the
virtual station puts on the pilot. The driver reaches it with pyserial, either through a pty
(``/dev/pts/N``, exactly like a USB serial adapter) or a ``socket://`` URL (like a terminal
server). Everything runs on the virtual bench's single asyncio loop.

:class:`LineService` (one line in, at most one line out) is also used by the virtual RFID
reader.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tty
from collections.abc import Callable

from hil.sim.physics import BenchPhysics

#: Longest command line (without terminator) the protocol allows.
MAX_LINE = 64
#: Bytes kept of an over-long line: enough to know it was too long.
_KEEP = MAX_LINE + 1

LineHandler = Callable[[str], "str | None"]


class _LineFramer:
    """Splits a byte stream into lines; CR is ignored, over-long lines are truncated."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self._dropped = False

    def feed(self, data: bytes) -> list[str]:
        lines: list[str] = []
        for byte in data:
            if byte == 0x0A:  # \n ends a line
                text = self._buf.decode("ascii", errors="replace")
                lines.append(text + ("\ufffd" * _KEEP if self._dropped else ""))
                self._buf.clear()
                self._dropped = False
            elif byte == 0x0D:
                continue
            elif len(self._buf) < _KEEP:
                self._buf.append(byte)
            else:
                self._dropped = True
        return lines


class LineService:
    """Serves a line protocol on TCP (``socket://``) or on a pty, on the running loop.

    ``handler(line)`` returns the reply line (without terminator) or ``None`` for no reply.
    """

    def __init__(
        self,
        handler: LineHandler,
        host: str = "127.0.0.1",
        port: int = 0,
        use_pty: bool = False,
    ) -> None:
        self._handler = handler
        self._host = host
        self._port = port
        self._use_pty = use_pty
        self._server: asyncio.base_events.Server | None = None
        self._clients: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._master: int | None = None
        self._slave: int | None = None
        self._pty_framer = _LineFramer()
        self.url: str | None = None

    async def start(self) -> str:
        """Start serving; return the address a pyserial driver opens."""
        if self.url is not None:
            return self.url
        if self._use_pty:
            self.url = self._start_pty()
        else:
            self._server = await asyncio.start_server(self._serve_client, self._host, self._port)
            host, port = self._server.sockets[0].getsockname()[:2]
            self.url = f"socket://{host}:{port}"
        return self.url

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer in list(self._clients):
            writer.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None
        if self._master is not None:
            asyncio.get_running_loop().remove_reader(self._master)
            for fd in (self._master, self._slave):
                with contextlib.suppress(OSError):
                    os.close(fd)  # type: ignore[arg-type]
            self._master = self._slave = None
        self.url = None

    # -- TCP ---------------------------------------------------------------------------

    async def _serve_client(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._clients.add(writer)
        framer = _LineFramer()
        try:
            while data := await reader.read(4096):
                for line in framer.feed(data):
                    reply = self._handler(line)
                    if reply is not None:
                        writer.write(reply.encode("ascii", errors="replace") + b"\n")
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self._clients.discard(writer)
            self._tasks.discard(task)
            writer.close()

    # -- pty -----------------------------------------------------------------------------

    def _start_pty(self) -> str:
        master, slave = os.openpty()
        # Raw mode: no echo, no CR/LF translation, just bytes (pyserial sets the same).
        tty.setraw(slave)
        os.set_blocking(master, False)
        # Keeping our own slave fd open means a client closing its end is not a hang-up.
        self._master, self._slave = master, slave
        asyncio.get_running_loop().add_reader(master, self._on_pty_readable)
        return os.ttyname(slave)

    def _on_pty_readable(self) -> None:
        assert self._master is not None
        try:
            data = os.read(self._master, 4096)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            return
        for line in self._pty_framer.feed(data):
            reply = self._handler(line)
            if reply is not None:
                # Replies are a few bytes; if nobody reads the pty and its queue is full,
                # they are lost, exactly as on a real serial line.
                with contextlib.suppress(BlockingIOError, OSError):
                    os.write(self._master, reply.encode("ascii", errors="replace") + b"\n")


def printable(text: str) -> str:
    """``text`` with anything but printable ASCII replaced by ``?`` (safe to echo back)."""
    return "".join(c if " " <= c <= "~" else "?" for c in text)


class _ProtocolError(Exception):
    def __init__(self, code: int, text: str) -> None:
        super().__init__(f"ERR {code} {text}")


def _bad_arg(text: str) -> _ProtocolError:
    return _ProtocolError(101, text)


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise _bad_arg(f"not a number: {text}") from None


class VirtualEvSimulator:
    """The reference EV simulator's protocol on top of the bench physics."""

    IDN = "HIL-LAB,EVSIM-VIRTUAL,0,1.0"
    CABLE_RATINGS = (13, 20, 32, 63)

    def __init__(
        self,
        physics: BenchPhysics,
        host: str = "127.0.0.1",
        port: int = 0,
        use_pty: bool = False,
    ) -> None:
        self.physics = physics
        self._service = LineService(self.handle_line, host, port, use_pty)

    async def start(self) -> str:
        """Serve; return ``socket://127.0.0.1:<port>`` or the pty path (``/dev/pts/N``)."""
        return await self._service.start()

    async def stop(self) -> None:
        await self._service.stop()

    def handle_line(self, line: str) -> str | None:
        """Answer one command line (the whole protocol, without transport)."""
        text = line.strip()
        if not text:
            return None  # empty lines are ignored: a host may send one to resynchronise
        if len(text) > MAX_LINE:
            return f"ERR 103 line longer than {MAX_LINE} characters"
        words = text.split()
        keyword, args = words[0].upper(), words[1:]
        handler = self._COMMANDS.get(keyword)
        if handler is None:
            return f"ERR 100 unknown command {printable(words[0][:20])}"
        try:
            return handler(self, args)
        except _ProtocolError as exc:
            return str(exc)

    # -- commands ------------------------------------------------------------------------

    @staticmethod
    def _one(args: list[str]) -> str:
        if len(args) != 1:
            raise _bad_arg(f"expected 1 argument, got {len(args)}")
        return args[0].upper()

    @staticmethod
    def _none(args: list[str]) -> None:
        if args:
            raise _bad_arg("this query takes no argument")

    def _idn(self, args: list[str]) -> str:
        self._none(args)
        return self.IDN

    def _rst(self, args: list[str]) -> str:
        self._none(args)
        self.physics.set_fault(None)
        self.physics.set_ev_limits(max_current_a=32.0, phases=3, cable_rating_a=32.0)
        self.physics.set_ev_state("A")
        return "OK"

    def _state(self, args: list[str]) -> str:
        state = self._one(args)
        if state not in ("A", "B", "C", "D"):
            raise _ProtocolError(102, f"state must be A, B, C or D, got {state}")
        self.physics.set_ev_state(state)
        return "OK"

    def _state_q(self, args: list[str]) -> str:
        self._none(args)
        return self.physics.ev_state

    def _fault(self, args: list[str]) -> str:
        word = self._one(args)
        kinds = {"E": "E", "DIODE": "diode", "F": "F", "NONE": None}
        if word not in kinds:
            raise _ProtocolError(102, f"fault must be E, DIODE, F or NONE, got {word}")
        self.physics.set_fault(kinds[word])
        return "OK"

    def _fault_q(self, args: list[str]) -> str:
        self._none(args)
        return (self.physics.fault or "NONE").upper()

    def _cable(self, args: list[str]) -> str:
        amps = _number(self._one(args))
        if amps not in self.CABLE_RATINGS:
            raise _ProtocolError(102, f"cable rating must be 13, 20, 32 or 63, got {amps:g}")
        self.physics.set_ev_limits(cable_rating_a=amps)
        return "OK"

    def _cable_q(self, args: list[str]) -> str:
        self._none(args)
        return f"{self.physics.ev.cable_rating_a:g}"

    def _evlimit(self, args: list[str]) -> str:
        amps = _number(self._one(args))
        if not 0.0 <= amps <= 80.0:
            raise _ProtocolError(102, f"EV limit must be 0-80 A, got {amps:g}")
        self.physics.set_ev_limits(max_current_a=round(amps, 1))  # 0.1 A resolution
        return "OK"

    def _evlimit_q(self, args: list[str]) -> str:
        self._none(args)
        return f"{self.physics.ev.max_current_a:.1f}"

    def _phases(self, args: list[str]) -> str:
        word = self._one(args)
        if word not in ("1", "2", "3"):
            raise _ProtocolError(102, f"phases must be 1, 2 or 3, got {word}")
        self.physics.set_ev_limits(phases=int(word))
        return "OK"

    def _phases_q(self, args: list[str]) -> str:
        self._none(args)
        return str(self.physics.ev.phases)

    def _pilot_q(self, args: list[str]) -> str:
        self._none(args)
        duty = self.physics.pilot_duty
        duty_text = "NONE" if duty is None else f"{duty:.2f}"
        current = self.physics.offered_current_a()
        return f"STATE={self.physics.pilot_state()} DUTY={duty_text} CURRENT={current:.2f}"

    _COMMANDS: dict[str, Callable[[VirtualEvSimulator, list[str]], str]] = {
        "*IDN?": _idn,
        "*RST": _rst,
        "STATE": _state,
        "STATE?": _state_q,
        "FAULT": _fault,
        "FAULT?": _fault_q,
        "CABLE": _cable,
        "CABLE?": _cable_q,
        "EVLIMIT": _evlimit,
        "EVLIMIT?": _evlimit_q,
        "PHASES": _phases,
        "PHASES?": _phases_q,
        "PILOT?": _pilot_q,
    }
