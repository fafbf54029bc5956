"""A virtual SCPI instrument's TCP side: listen on a raw socket, hand out its VISA address,
stop cleanly. The instrument (analyser, DC EV emulator) supplies ``_serve``: its own line
handling, tracking each writer in ``_writers`` so that :meth:`stop` can drop it."""

from __future__ import annotations

import asyncio


class ScpiTcpServer:
    """Listen on ``host:port`` (0: a free port) for ``TCPIP0::host::port::SOCKET`` clients."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def address(self) -> str:
        return f"TCPIP0::{self.host}::{self.port}::SOCKET"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        raise NotImplementedError

    async def start(self) -> str:
        """Listen; return the VISA resource string ``TCPIP0::host::port::SOCKET``."""
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.address

    async def stop(self) -> None:
        """Stop listening and drop every connection; idempotent."""
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        for writer in list(self._writers):
            writer.close()
        await server.wait_closed()
