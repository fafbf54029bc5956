"""The simulated OCPP 1.6J central system: a WebSocket server stations connect to.

Stations connect at ``ws://<host>:<port>/<station id>`` offering subprotocol ``ocpp1.6``;
anything else is refused during the handshake with a reason that is logged and journaled.
One :class:`StationSession` per station id survives reconnects.
"""

from __future__ import annotations

import asyncio
import errno
import logging
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.http11 import Request, Response

from hil.csms.findings import FindingLog
from hil.csms.journal import Journal
from hil.csms.link import CentralSystemLink, JournalingConnection, serve_link
from hil.csms.policy import ResponsePolicy
from hil.csms.session import StationSession

LOG = logging.getLogger("hil.csms")
SUBPROTOCOL = "ocpp1.6"


class BackOfficeError(RuntimeError):
    pass


def station_id_from_path(path: str) -> str:
    """The station id is the last segment of the URL path (URL-decoded)."""
    segments = [s for s in urlsplit(path).path.split("/") if s]
    return unquote(segments[-1]) if segments else ""


class BackOffice:
    """Serves any number of stations; one journal file per station in ``journal_dir``."""

    def __init__(
        self,
        policy: ResponsePolicy,
        journal_dir: Path | None,
        host: str = "127.0.0.1",
        port: int = 0,
        call_timeout: float = 10.0,
        ping_interval: float | None = 5.0,
    ) -> None:
        self.policy = policy
        self.journal_dir = journal_dir
        self.host = host
        self.port = port
        self.call_timeout = call_timeout
        self.ping_interval = ping_interval
        self.findings = FindingLog()
        self.sessions: dict[str, StationSession] = {}
        self._server: Server | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    # -- lifecycle -----------------------------------------------------------------

    async def start(self) -> int:
        """Listen; returns the bound port. A busy port is a clear BackOfficeError."""
        try:
            self._server = await serve(
                self._handle,
                self.host,
                self.port,
                subprotocols=[SUBPROTOCOL],
                process_request=self._check_handshake,
                ping_interval=self.ping_interval,
                ping_timeout=self.ping_interval,
                close_timeout=2,
            )
        except OSError as exc:
            reason = "address already in use" if exc.errno == errno.EADDRINUSE else exc.strerror
            raise BackOfficeError(
                f"back office cannot listen on {self.host}:{self.port}: {reason}"
            ) from None
        sock = next(iter(self._server.sockets))
        self.port = sock.getsockname()[1]
        LOG.info("back office listening on ws://%s:%s/<station id>", self.host, self.port)
        return self.port

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for task in list(self._tasks):
            task.cancel()
        for session in self.sessions.values():
            session.journal.close()

    def url(self, station_id: str = "") -> str:
        return f"ws://{self.host}:{self.port}/{station_id}"

    # -- sessions ------------------------------------------------------------------

    def session(self, station_id: str) -> StationSession:
        """The session of ``station_id``, created (with its journal) on first use."""
        session = self.sessions.get(station_id)
        if session is None:
            path = None
            if self.journal_dir is not None:
                safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in station_id)
                path = self.journal_dir / f"{safe or '_'}.jsonl"
            session = StationSession(
                station_id, Journal(station_id, path), self.policy, self.findings
            )
            self.sessions[station_id] = session
        return session

    # -- handshake and connections -------------------------------------------------

    def _check_handshake(self, connection: ServerConnection, request: Request) -> Response | None:
        station_id = station_id_from_path(request.path)
        offered = [
            p.strip()
            for h in request.headers.get_all("Sec-WebSocket-Protocol")
            for p in h.split(",")
            if p.strip()
        ]
        reason = None
        if not station_id:
            reason = f"no station id in the URL path {request.path!r}"
        elif SUBPROTOCOL not in offered:
            reason = (
                f"subprotocol {SUBPROTOCOL} not offered (offered: {', '.join(offered) or 'none'})"
            )
        if reason is None:
            return None
        remote = _remote(connection)
        LOG.warning("refused connection from %s to %s: %s", remote, request.path, reason)
        self.session(station_id or "_unidentified").journal.record_event(
            "refused", path=request.path, remote=remote, reason=reason, offered=offered
        )
        return connection.respond(HTTPStatus.BAD_REQUEST, f"Refused: {reason}\n")

    async def _handle(self, ws: ServerConnection) -> None:
        station_id = station_id_from_path(ws.request.path)
        session = self.session(station_id)
        session.journal.record_event(
            "connect",
            path=ws.request.path,
            subprotocol=ws.subprotocol,
            remote=_remote(ws),
            offered=ws.request.headers.get_all("Sec-WebSocket-Protocol"),
        )
        link = CentralSystemLink(
            session, JournalingConnection(ws, session.journal), self.call_timeout
        )
        await session.attach(link)
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            await serve_link(link)
        finally:
            session.detach(link)
            session.journal.record_event(
                "disconnect", code=ws.close_code, reason=ws.close_reason or ""
            )
            if task is not None:
                self._tasks.discard(task)


def _remote(connection: ServerConnection) -> str:
    addr = connection.remote_address
    return f"{addr[0]}:{addr[1]}" if addr else "?"
