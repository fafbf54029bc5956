"""The simulated OCPP central system (1.6J and 2.0.1): a WebSocket server stations connect to.

Stations connect at ``ws://<host>:<port>/<station id>`` offering subprotocol ``ocpp1.6`` or
``ocpp2.0.1``; the first of the station's offers that the back office speaks picks the
version (OCPP-J 2.0.1 §3.1.2), and ``versions`` pins one (the lab passes ``dut.ocpp``).
Anything else is refused during the handshake with a reason that is logged and journaled.
The connection gets the link of its version (:func:`hil.csms.link.link_class`); the session
records the version. One :class:`StationSession` per station id survives reconnects.

A message may be up to :data:`MAX_FRAME_BYTES`; a bigger one makes websockets close the
connection with 1009, which is journaled (``disconnect``) and a ``frame-too-big`` finding.
The back office remembers what it saw of each connection attempt, so that a station that
never registers gets a clear hint (:meth:`BackOffice.connection_summary`).

Only the station under test can be the station under test, and nobody on the network can
stop the lab: a refused handshake opens no journal (it goes to the bounded refusals log,
:mod:`hil.csms.refusals`, and to the journal of a station the lab already journals); a
journal is opened for a station the lab asked for (the DUT) or one that was accepted, and
at most :data:`MAX_OTHER_STATIONS` stations besides the lab's are served. Under security
profile 3 the station id in the URL must be the client certificate's CN. A second
connection for a station that is connected is a remark about the station (it replaces the
first only once it passed the profile's authentication). Journal file names are injective
(:func:`journal_file_name`).
"""

from __future__ import annotations

import asyncio
import errno
import logging
import threading
from collections import Counter, deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

from hil.csms.findings import Finding, FindingLog
from hil.csms.journal import CALL, CALLRESULT, RX, TX, Frame, Journal
from hil.csms.link import JournalingConnection, link_class, serve_link
from hil.csms.policy import ResponsePolicy
from hil.csms.refusals import RefusalLog
from hil.csms.security import (
    REALM,
    ServerSecurity,
    check_basic_auth,
    check_certificate_identity,
    peer_common_name,
    server_context,
)
from hil.csms.session import StationSession

LOG = logging.getLogger("hil.csms")
SUBPROTOCOL = "ocpp1.6"
#: OCPP version -> its WebSocket subprotocol, in the back office's order
SUBPROTOCOLS = {"1.6": SUBPROTOCOL, "2.0.1": "ocpp2.0.1"}
VERSION_OF_SUBPROTOCOL = {sp: version for version, sp in SUBPROTOCOLS.items()}

#: The biggest message the back office accepts (a diagnostics-sized DataTransfer fits);
#: websockets' own default is 1 MiB.
MAX_FRAME_BYTES = 10 * 1024 * 1024

#: Close codes with which the back office fails a connection because of what the station
#: sent: a finding each (1011, e.g. a keepalive ping timeout, is the network's, not one).
_STATION_FAULT_CLOSES = {
    1002: ("websocket-protocol-error", "WebSocket protocol error"),
    1003: ("websocket-protocol-error", "unsupported data"),
    1007: ("websocket-protocol-error", "invalid frame payload data (not UTF-8 text)"),
    1009: ("frame-too-big", "message too big"),
}


#: stations served besides those the lab asked for (the DUT): a flood of made-up station
#: ids gets refused once this many have journals
MAX_OTHER_STATIONS = 16
#: station ids whose accepted connections the back office remembers for its summary
MAX_TRACKED_IDS = 64
#: the longest journal file name (escaped id + ".jsonl"); file systems allow 255 bytes
MAX_JOURNAL_NAME_BYTES = 200
_PLAIN = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")


def journal_file_name(station_id: str) -> str:
    """The journal file of ``station_id``: one file per id, never shared.

    Injective (two ids never share a file): letters, digits, ``-``, ``_`` and ``.`` stay
    as they are, every other UTF-8 byte becomes ``%XX`` — ``%`` itself too, so an escape
    cannot be mistaken for a character. A leading ``.`` is escaped (no hidden files).
    """
    out = []
    for i, ch in enumerate(station_id):
        if ch in _PLAIN and not (i == 0 and ch == "."):
            out.append(ch)
        else:
            out.extend(f"%{b:02X}" for b in ch.encode("utf-8", "surrogatepass"))
    return "".join(out) + ".jsonl"


@dataclass
class AcceptedSeen:
    """A station id's accepted connections, as the summary needs them (bounded)."""

    count: int = 0
    paths: list[str] = field(default_factory=list)  # the first few distinct URL paths
    last_path: str = ""

    def add(self, path: str) -> None:
        self.count += 1
        self.last_path = path
        if path not in self.paths and len(self.paths) < 5:
            self.paths.append(path)


@dataclass(frozen=True)
class HandshakeSeen:
    """One connection attempt as the back office saw it: refused (with reason) or accepted."""

    station_id: str  # from the URL path; "" when the path names none
    path: str
    remote: str
    offered: tuple[str, ...]
    reason: str | None = None  # why it was refused; None when accepted


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
        security: ServerSecurity | None = None,
        versions: tuple[str, ...] | None = None,
        refusals_path: Path | None = None,
        max_other_stations: int = MAX_OTHER_STATIONS,
    ) -> None:
        self.policy = policy
        #: the OCPP versions a station may speak; one when the lab config pins it
        self.versions = tuple(versions or SUBPROTOCOLS)
        unknown = [v for v in self.versions if v not in SUBPROTOCOLS]
        if unknown:
            raise ValueError(
                f"the back office speaks OCPP {' and '.join(SUBPROTOCOLS)}, not {unknown}"
            )
        #: the OCPP security profile enforced (0: plain ws://, no auth)
        self.security = security or ServerSecurity()
        self.journal_dir = journal_dir
        self.host = host
        self.port = port
        self.call_timeout = call_timeout
        self.ping_interval = ping_interval
        self.findings = FindingLog()
        self.sessions: dict[str, StationSession] = {}
        self._sessions_lock = threading.Lock()
        self._seen_lock = threading.Lock()
        self._refused: deque[HandshakeSeen] = deque(maxlen=50)
        self._refused_total = 0
        self._accepted: dict[str, AcceptedSeen] = {}
        self._accepted_untracked = 0  # accepted connections of ids beyond MAX_TRACKED_IDS
        #: every refused handshake, bounded (``refusals.jsonl`` when a path is given)
        self.refusals = RefusalLog(refusals_path)
        self.max_other_stations = max_other_stations
        #: stations the lab asked for (:meth:`session`): the DUT, journaled from the start
        self._lab_stations: set[str] = set()
        #: station id -> the host it last connected from (attributes TLS refusals)
        self._last_host: dict[str, str] = {}
        self._server: Server | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    # -- lifecycle -----------------------------------------------------------------

    async def start(self) -> int:
        """Listen; returns the bound port. A busy port is a clear BackOfficeError."""
        ssl_context = None
        if self.security.tls:
            ssl_context = server_context(self.security, self._tls_refused)
        try:
            self._server = await serve(
                self._handle,
                self.host,
                self.port,
                subprotocols=[Subprotocol(p) for p in self.subprotocols],
                select_subprotocol=self._select_subprotocol,
                process_request=self._check_handshake,
                ping_interval=self.ping_interval,
                ping_timeout=self.ping_interval,
                close_timeout=2,
                max_size=MAX_FRAME_BYTES,
                ssl=ssl_context,
            )
        except OSError as exc:
            reason = "address already in use" if exc.errno == errno.EADDRINUSE else exc.strerror
            raise BackOfficeError(
                f"back office cannot listen on {self.host}:{self.port}: {reason}"
            ) from None
        sock = next(iter(self._server.sockets))
        self.port = sock.getsockname()[1]
        LOG.info(
            "back office listening on %s://%s:%s/<station id> (security profile %s)",
            self.security.scheme,
            self.host,
            self.port,
            self.security.profile,
        )
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
        self.refusals.close()

    @property
    def subprotocols(self) -> list[str]:
        """The subprotocols a station may offer (those of :attr:`versions`)."""
        return [SUBPROTOCOLS[v] for v in self.versions]

    def url(self, station_id: str = "") -> str:
        return f"{self.security.scheme}://{self.host}:{self.port}/{station_id}"

    # -- sessions ------------------------------------------------------------------

    def session(self, station_id: str) -> StationSession:
        """The session of ``station_id`` the lab asks for (the DUT), created with its journal
        on first use. The lab's thread and the back office's loop both ask (a station may
        connect while the lab opens): one lock, so a station never gets two sessions."""
        with self._sessions_lock:
            self._lab_stations.add(station_id)
            return self._session(station_id)

    def _session(self, station_id: str) -> StationSession:
        session = self.sessions.get(station_id)
        if session is None:
            path = None
            if self.journal_dir is not None:
                path = self.journal_dir / journal_file_name(station_id)
            session = StationSession(
                station_id, Journal(station_id, path), self.policy, self.findings
            )
            self.sessions[station_id] = session
        return session

    def _admit_station(self, station_id: str) -> str | None:
        """Open the session of a station whose handshake passed; why not, when it cannot:
        a name too long for a journal file, or too many stations besides the lab's."""
        name = journal_file_name(station_id)
        if len(name.encode()) > MAX_JOURNAL_NAME_BYTES:
            return (
                f"station id too long ({len(station_id)} characters; its journal file name "
                f"would be {len(name.encode())} bytes, the lab's limit is "
                f"{MAX_JOURNAL_NAME_BYTES})"
            )
        with self._sessions_lock:
            if station_id not in self.sessions:
                others = len(self.sessions.keys() - self._lab_stations)
                if others >= self.max_other_stations:
                    return (
                        f"the back office already serves {others} stations besides the one "
                        f"under test (the lab's limit is {self.max_other_stations})"
                    )
            self._session(station_id)
        return None

    # -- handshake and connections -------------------------------------------------

    def _check_handshake(self, connection: ServerConnection, request: Request) -> Response | None:
        station_id = station_id_from_path(request.path)
        offered = [
            p.strip()
            for h in request.headers.get_all("Sec-WebSocket-Protocol")
            for p in h.split(",")
            if p.strip()
        ]
        certificate_cn = None
        if self.security.profile == 3:
            certificate_cn = peer_common_name(connection.transport.get_extra_info("peercert"))
        reason = None
        status = HTTPStatus.BAD_REQUEST
        if not station_id:
            reason = f"no station id in the URL path {request.path!r}"
        elif not any(p in offered for p in self.subprotocols):
            wanted = " or ".join(self.subprotocols)
            reason = f"subprotocol {wanted} not offered (offered: {', '.join(offered) or 'none'})"
            other = [p for p in offered if p in VERSION_OF_SUBPROTOCOL]
            if other:
                reason += (
                    f"; the lab config pins OCPP {' and '.join(self.versions)} (dut.ocpp), "
                    f"the station offers only OCPP "
                    f"{', '.join(VERSION_OF_SUBPROTOCOL[p] for p in other)}"
                )
        if reason is None:
            status = HTTPStatus.UNAUTHORIZED
            reason = check_basic_auth(
                self.security, station_id, request.headers.get("Authorization")
            )
        if reason is None:
            status = HTTPStatus.FORBIDDEN
            reason = check_certificate_identity(self.security, station_id, certificate_cn)
        if reason is None:
            status = HTTPStatus.SERVICE_UNAVAILABLE
            reason = self._admit_station(station_id)
        if reason is None:
            return None
        self._refuse(
            station_id,
            request.path,
            _remote(connection),
            offered,
            reason,
            certificate_cn=certificate_cn,
        )
        response = connection.respond(status, f"Refused: {reason}\n")
        if status == HTTPStatus.UNAUTHORIZED:
            response.headers["WWW-Authenticate"] = f'Basic realm="{REALM}", charset="UTF-8"'
        return response

    def _select_subprotocol(self, connection: ServerConnection, offered: Any) -> Subprotocol | None:
        """The first subprotocol in the station's order of preference that the back office
        speaks (the handshake check already refused a station offering none)."""
        for p in offered:
            if p in self.subprotocols:
                return Subprotocol(p)
        return None

    def _refuse(
        self,
        station_id: str,
        path: str,
        remote: str,
        offered: list[str],
        reason: str,
        certificate_cn: str | None = None,
        journal_ids: Sequence[str] | None = None,
    ) -> None:
        """Count, remember and log one refused connection attempt (bounded, whatever comes).

        It opens no journal: it goes to the refusals log and, when the limiter writes it,
        to the journals the lab already keeps of the stations it names (``journal_ids``;
        by default the URL's id and a profile-3 certificate's CN) — both names recorded.
        """
        with self._seen_lock:
            self._refused.append(HandshakeSeen(station_id, path, remote, tuple(offered), reason))
            self._refused_total += 1
        extra: dict[str, Any] = {}
        if certificate_cn is not None:
            extra["client_certificate_cn"] = certificate_cn
        info = {"path": path, "remote": remote, "offered": offered, **extra}
        if not self.refusals.admit(station_id, reason, **info):
            return
        if journal_ids is None:
            journal_ids = [station_id] + ([certificate_cn] if certificate_cn else [])
        for sid in dict.fromkeys(journal_ids):
            session = self.sessions.get(sid)
            if session is not None:
                session.journal.record_event(
                    "refused", reason=reason, station_id=station_id, **info
                )

    def _tls_refused(self, reason: str, remote: str) -> None:
        """A TLS handshake failed: no URL path (and so no station id) was seen yet. The
        refusal goes to the journal of each station the lab asked for (the DUT) that has
        not connected yet in this run or last connected from the same host."""
        host = remote.rsplit(":", 1)[0]
        ids = [sid for sid in list(self._lab_stations) if self._last_host.get(sid) in (None, host)]
        self._refuse("", "", remote, [], f"{reason} (before the HTTP handshake)", journal_ids=ids)

    async def _handle(self, ws: ServerConnection) -> None:
        station_id = station_id_from_path(ws.request.path)
        with self._sessions_lock:  # opened when its handshake passed (_admit_station)
            session = self._session(station_id)
        offered = ws.request.headers.get_all("Sec-WebSocket-Protocol")
        remote = _remote(ws)
        with self._seen_lock:
            if station_id in self._accepted or len(self._accepted) < MAX_TRACKED_IDS:
                self._accepted.setdefault(station_id, AcceptedSeen()).add(ws.request.path)
            else:
                self._accepted_untracked += 1
            self._last_host[station_id] = remote.rsplit(":", 1)[0]
        extra: dict[str, Any] = {"security_profile": self.security.profile}
        if self.security.profile == 3:
            extra["client_certificate_cn"] = peer_common_name(
                ws.transport.get_extra_info("peercert")
            )
        connect = session.journal.record_event(
            "connect",
            path=ws.request.path,
            subprotocol=ws.subprotocol,
            remote=remote,
            offered=offered,
            **extra,
        )
        version = VERSION_OF_SUBPROTOCOL.get(ws.subprotocol or "", "1.6")
        link = link_class(version)(
            session, JournalingConnection(ws, session.journal), self.call_timeout
        )
        if session.link is not None:
            session.record_finding(self._second_connection(session, connect.seq, remote))
        await session.attach(link)
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            await serve_link(link)
        finally:
            session.detach(link)
            info = close_details(ws)
            event = session.journal.record_event("disconnect", **info)
            fault = _STATION_FAULT_CLOSES.get(info["local_code"] or 0)
            if info["closed_by"] == "back office" and fault is not None:
                session.record_finding(
                    Finding(station_id, event.seq, fault[0], _fault_detail(fault[1], info))
                )
            if task is not None:
                self._tasks.discard(task)

    def _second_connection(self, session: StationSession, seq: int, remote: str) -> Finding:
        """A station id connected twice at once: a remark on the station, not a failure.

        OCPP-J does not forbid it — a station that lost its network may reconnect before
        the back office notices the old connection is dead (the connection-loss step
        provokes exactly that) — but the lab should know: it can also be a second device
        using the same id. The new connection replaces the old one only because it passed
        the security profile's authentication (profiles 1-3) or there is none (profile 0).
        """
        old = session.link
        old_remote = _remote(old.jconn.ws) if old is not None else "?"
        how = {
            0: "security profile 0 authenticates no one",
            1: "it authenticated as the station with its Basic auth password",
            2: "it authenticated as the station with its Basic auth password",
            3: "its client certificate names the station",
        }[self.security.profile]
        return Finding(
            session.station_id,
            seq,
            "second-connection",
            f"a second connection for {session.station_id!r} from {remote} while the first "
            f"(from {old_remote}) was still open; the new one replaced it ({how})",
            remark=True,
        )

    # -- what the back office saw --------------------------------------------------

    def connection_summary(self, station_id: str) -> str:
        """What the back office saw that bears on ``station_id`` registering, as short text.

        Whether ``station_id`` connected (how often, where, whether it is connected now)
        and which CALLs it sent (BootNotification and its answer first); every refused
        handshake (path, offered subprotocols, reason — whatever id the path named, or
        none); and stations that connected under other ids. Safe to call from any thread;
        it creates no session.
        """
        with self._seen_lock:
            refused = list(self._refused)
            refused_total = self._refused_total
            accepted = {sid: (seen.count, list(seen.paths)) for sid, seen in self._accepted.items()}
            untracked = self._accepted_untracked
        mine = [r for r in refused if r.station_id == station_id]
        lines = [self._station_line(station_id, self._accepted.get(station_id), mine)]
        for sid, (count, paths) in accepted.items():
            if sid != station_id:
                times = f" ({count} times)" if count > 1 else ""
                hint = " — is dut.station_id right?" if station_id not in accepted else ""
                lines.append(f"A station connected as {sid!r} at {', '.join(paths)}{times}{hint}")
        if untracked:
            lines.append(f"{untracked} more connection(s) under other station ids not shown.")
        if refused_total > len(refused):
            lines.append(f"{refused_total - len(refused)} earlier refused handshake(s) not shown.")
        for r in refused:
            named = f"as {r.station_id!r} " if r.station_id else ""
            offered = ", ".join(r.offered) or "none"
            lines.append(
                f"Refused a handshake {named}at {r.path or 'the TLS layer'} from {r.remote} "
                f"(offered: {offered}): {r.reason}."
            )
        if not refused and not accepted:
            lines.append(
                "The back office saw no connection attempt at all — is the station "
                f"pointed at {self.security.scheme}://{self.host}:{self.port}/<station id>?"
            )
        return "\n".join(lines)

    def _security_hint(self) -> str:
        profile = self.security.profile
        if profile == 0:
            return ""
        needs = {
            1: "Basic auth with its AuthorizationKey",
            2: "TLS trusting the lab CA, Basic auth with its AuthorizationKey",
            3: "TLS trusting the lab CA, a client certificate signed by it",
        }[profile]
        return f", security profile {profile}: {needs}"

    def _station_line(
        self, station_id: str, seen: AcceptedSeen | None, refused: Sequence[HandshakeSeen] = ()
    ) -> str:
        if not seen and refused:
            # it did reach the back office: refused attempts are not "never connected"
            # (a wrong Basic auth password is a 401 at the handshake, security profiles 1/2)
            times = "1 time" if len(refused) == 1 else f"{len(refused)} times"
            every = "it was refused" if len(refused) == 1 else "every attempt was refused"
            reasons = "; ".join(dict.fromkeys(r.reason for r in refused))
            return (
                f"{station_id!r} tried to connect {times} (at {self.url(station_id)}"
                f"{self._security_hint()}); {every}: {reasons}."
            )
        if not seen:
            return (
                f"{station_id!r} never connected to the back office "
                f"(expected at {self.url(station_id)} offering subprotocol "
                f"{' or '.join(self.subprotocols)}"
                f"{self._security_hint()})."
            )
        session = self.sessions.get(station_id)
        now = "connected now" if session is not None and session.connected else "not connected now"
        times = "1 time" if seen.count == 1 else f"{seen.count} times"
        text = f"{station_id!r} connected {times} (last at {seen.last_path}; {now})"
        if session is None:
            return text + "."
        frames = session.journal.frames()
        calls = [f for f in frames if f.dir == RX and f.kind == CALL]
        boots = [f for f in calls if f.action == "BootNotification"]
        others = Counter(f.action for f in calls if f.action != "BootNotification")
        listed = ", ".join(f"{a} ×{n}" if n > 1 else str(a) for a, n in others.items())
        other_text = "no other CALL"
        if others:
            other_text = f"{sum(others.values())} other CALL(s): {listed}"
        if not boots:
            return f"{text} and sent no BootNotification, {other_text}."
        answer = _boot_answer(frames, boots[-1])
        times = "1 time" if len(boots) == 1 else f"{len(boots)} times"
        return f"{text} and sent BootNotification {times} (the last {answer}), {other_text}."


def close_details(ws: ServerConnection) -> dict[str, Any]:
    """How a connection closed, both sides: the close frame the back office sent (local)
    and the one it received (remote), who closed first, and ``code``/``reason`` of the close
    that ended it (1006 when no close frame came at all: the connection was lost).

    ``ws.close_code`` alone would mislead: it is the code *received*, so when websockets
    fails a connection itself (1009 for a message over the limit) it reads 1006.
    """
    sent, rcvd = ws.protocol.close_sent, ws.protocol.close_rcvd
    if sent is not None and (rcvd is None or ws.protocol.close_rcvd_then_sent is False):
        closed_by, first = "back office", sent
    elif rcvd is not None:
        closed_by, first = "station", rcvd
    else:
        closed_by, first = "network", None
    return {
        "code": first.code if first is not None else 1006,
        "reason": first.reason if first is not None else "connection lost without a close frame",
        "closed_by": closed_by,
        "local_code": sent.code if sent is not None else None,
        "local_reason": sent.reason if sent is not None else None,
        "remote_code": rcvd.code if rcvd is not None else None,
        "remote_reason": rcvd.reason if rcvd is not None else None,
    }


def _fault_detail(what: str, info: dict[str, Any]) -> str:
    code, reason = info["local_code"], info["local_reason"] or ""
    if code == 1009:
        limit = f"{MAX_FRAME_BYTES // (1024 * 1024)} MiB"
        return (
            f"{what}: the station sent a message over the back office's {limit} limit "
            f"({MAX_FRAME_BYTES} bytes); the back office closed the connection with "
            f"{code} ({reason})"
        )
    return f"{what}: the back office closed the connection with {code} ({reason})"


def _boot_answer(frames: list[Frame], boot: Frame) -> str:
    for f in frames[boot.seq :]:
        if f.dir == TX and f.unique_id == boot.unique_id:
            if f.kind == CALLRESULT and isinstance(f.payload, dict):
                return f"answered {f.payload.get('status')}"
            return f"answered {f.kind}"
    return "not answered"


def _remote(connection: ServerConnection) -> str:
    addr = connection.remote_address
    return f"{addr[0]}:{addr[1]}" if addr else "?"
