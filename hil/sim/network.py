"""The virtual station's network cable: a TCP relay that can be "pulled".

The virtual station reaches the back office through a :class:`BlackholeRelay`; the virtual
switch's port calls :meth:`BlackholeRelay.set_link`. A pulled cable does not close anything:
the bytes just stop arriving. So when the link goes down, every open connection is severed
silently: from then on its bytes, both ways, are read and thrown away for good (even after
the link is back), and the relay never sends FIN or RST of its own. When an endpoint closes
its side, the relay closes only its socket to that endpoint. Connections accepted while the
link is down are never connected upstream and stay dead. Endpoints find out only through
their own timeouts (WebSocket ping), exactly as with a real cable.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

_CHUNK = 65536


@dataclass(eq=False)
class _Connection:
    client_reader: asyncio.StreamReader
    client_writer: asyncio.StreamWriter
    severed: bool
    upstream_reader: asyncio.StreamReader | None = None
    upstream_writer: asyncio.StreamWriter | None = None
    open_directions: int = 2
    writers: list[asyncio.StreamWriter] = field(default_factory=list)


class BlackholeRelay:
    """Relays TCP from ``host:port`` to ``target_host:target_port``; see the module doc."""

    def __init__(
        self, target_host: str, target_port: int, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.target = (target_host, target_port)
        self._bind = (host, port)
        self._link_up = True
        self._server: asyncio.base_events.Server | None = None
        self._conns: set[_Connection] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self.address: tuple[str, int] | None = None
        #: what became of the last connection accepted: "down" (the cable was pulled),
        #: "connecting" (upstream), "connected", or "failed" (with :attr:`upstream_error`)
        self.last_upstream = ""
        self.upstream_error: OSError | None = None

    @property
    def link_up(self) -> bool:
        return self._link_up

    def set_link(self, up: bool) -> None:
        """Plug (``True``) or pull (``False``) the cable. Pulling severs every open link."""
        if not up:
            for conn in self._conns:
                conn.severed = True
        self._link_up = up

    async def start(self) -> tuple[str, int]:
        """Listen; return the ``(host, port)`` the station should connect to."""
        if self.address is None:
            self._server = await asyncio.start_server(self._accept, *self._bind)
            host, port = self._server.sockets[0].getsockname()[:2]
            self.address = (host, port)
        return self.address

    async def stop(self) -> None:
        """Stop listening and drop every connection (teardown, not a cable event)."""
        if self._server is not None:
            self._server.close()
        for conn in list(self._conns):
            for writer in conn.writers:
                writer.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None
        self.address = None

    def why_unreachable(self) -> str | None:
        """Why the last connection got nowhere, as the relay saw it; None when it reached
        the target (then only the endpoint's own error can tell)."""
        host, port = self.target
        if self.last_upstream == "down":
            return "the network link is down (the virtual switch port is off)"
        if self.last_upstream == "connecting":
            return f"timed out: {host}:{port} did not accept the TCP connection"
        if self.last_upstream == "failed":
            exc = self.upstream_error
            if isinstance(exc, ConnectionRefusedError):
                return f"connection refused: nothing listens on {host}:{port}"
            why = (exc.strerror if exc is not None else None) or str(exc)
            return f"cannot connect to {host}:{port}: {why}"
        return None

    # -- per connection --------------------------------------------------------------------

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        conn = _Connection(reader, writer, severed=not self._link_up, writers=[writer])
        self._conns.add(conn)
        self.last_upstream, self.upstream_error = "down" if conn.severed else "connecting", None
        try:
            if not conn.severed:
                try:
                    up_reader, up_writer = await asyncio.open_connection(*self.target)
                except OSError as exc:
                    # The back office itself is unreachable: the connection simply closes.
                    self.last_upstream, self.upstream_error = "failed", exc
                    writer.close()
                    return
                self.last_upstream = "connected"
                conn.upstream_reader, conn.upstream_writer = up_reader, up_writer
                conn.writers.append(up_writer)
                await asyncio.gather(
                    self._pump(conn, reader, writer, up_writer),
                    self._pump(conn, up_reader, up_writer, writer),
                )
            else:
                await self._pump(conn, reader, writer, None)
        except asyncio.CancelledError:
            pass
        finally:
            self._conns.discard(conn)
            self._tasks.discard(task)

    async def _pump(
        self,
        conn: _Connection,
        src: asyncio.StreamReader,
        src_writer: asyncio.StreamWriter,
        dst_writer: asyncio.StreamWriter | None,
    ) -> None:
        """Copy ``src`` to ``dst_writer`` until EOF; discard instead once severed."""
        try:
            while data := await src.read(_CHUNK):
                if conn.severed or dst_writer is None:
                    continue  # the cable is pulled: these bytes go nowhere
                dst_writer.write(data)
                await dst_writer.drain()
        except ConnectionError:
            if not conn.severed:
                self._close_all(conn)  # a healthy link passes the failure on
                return
        if conn.severed or dst_writer is None:
            src_writer.close()  # only our socket to the endpoint that hung up
            return
        # A healthy link passes the half-close on and closes once both sides are done.
        with contextlib.suppress(OSError, RuntimeError):
            if dst_writer.can_write_eof():
                dst_writer.write_eof()
        conn.open_directions -= 1
        if conn.open_directions <= 0 or not dst_writer.can_write_eof():
            self._close_all(conn)

    @staticmethod
    def _close_all(conn: _Connection) -> None:
        for writer in conn.writers:
            writer.close()
