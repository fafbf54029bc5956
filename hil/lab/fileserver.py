"""The lab's own file server: firmware out over HTTP and FTP, diagnostics in over FTP.

The firmware and diagnostics steps (17-21) need a server the lab controls, so it can tell
what the station actually fetched or uploaded, hand out locations that certainly fail, and
fail an upload like a full disk. Every transfer (and every refused FTP login) becomes a
:class:`Transfer`, appended to a JSON-lines journal and kept in memory for
:meth:`LabFileServer.wait_for_transfer`.

HTTP is the standard library's threading server; FTP is pyftpdlib on its own IO loop in one
thread, woken through a socket pair so :meth:`LabFileServer.stop` is immediate.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import hashlib
import http.server
import ipaddress
import json
import logging
import os
import socket
import socketserver
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote, unquote, urlsplit

if TYPE_CHECKING:
    from hil.lab.config import FileServer

log = logging.getLogger(__name__)
# pyftpdlib configures a stderr handler of its own unless its logger has one; keep its
# messages flowing to whatever logging the application set up instead.
logging.getLogger("pyftpdlib").addHandler(logging.NullHandler())

THREAD_PREFIX = "hil-fileserver"
UPLOADS = "uploads"
_CHUNK = 64 * 1024
_EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
_HTTP_SOCKET_TIMEOUT_S = 30.0
_JOIN_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class Transfer:
    """One download, upload or refused login, as the server saw it.

    ``size`` and ``sha256`` describe the bytes that crossed the wire (for a partial transfer,
    the part that did). ``path`` is the file the client asked for, relative to the served
    root, ``/``-separated. For an upload, ``stored_path`` is where the server keeps its bytes
    (also relative to the root): ``path``, or ``path`` with a ``.1``, ``.2``... suffix when
    that name was taken by an earlier upload; ``None`` when nothing was kept (a failed
    upload) and for downloads and logins. Times are wall-clock seconds since the epoch.
    """

    kind: Literal["download", "upload", "login"]
    protocol: Literal["http", "ftp"]
    client: str
    path: str
    size: int
    sha256: str
    started: float
    finished: float
    ok: bool
    error: str | None = None
    user: str | None = None
    stored_path: str | None = None

    def describe(self) -> str:
        status = "ok" if self.ok else f"FAILED: {self.error}"
        stored = ""
        if self.stored_path is not None and self.stored_path != self.path:
            stored = f" stored as {self.stored_path}"
        return (
            f"{self.protocol} {self.kind} {self.path or '-'} from {self.client} "
            f"({self.size} bytes){stored} {status}"
        )

    def to_json(self) -> str:
        record: dict[str, Any] = asdict(self)
        for key in ("started", "finished"):
            record[f"{key}_utc"] = datetime.fromtimestamp(record[key], UTC).isoformat()
        return json.dumps(record, sort_keys=True)


class TransferTimeout(AssertionError, TimeoutError):
    """No matching transfer in time; the message lists the transfers that did happen."""


class TransferLog:
    """Thread-safe list of transfers, mirrored to a JSON-lines journal flushed per record."""

    def __init__(self, journal_path: Path) -> None:
        self.journal_path = Path(journal_path)
        self._cond = threading.Condition()
        self._items: list[Transfer] = []
        self._journal: Any = None
        self._opened_before = False

    def open(self) -> None:
        """Open the journal: emptied the first time (a new run), appended to after that."""
        with self._cond:
            if self._journal is None:
                self.journal_path.parent.mkdir(parents=True, exist_ok=True)
                mode = "a" if self._opened_before else "w"
                self._journal = self.journal_path.open(mode, encoding="utf-8")
                self._opened_before = True

    def close(self) -> None:
        with self._cond:
            if self._journal is not None:
                self._journal.close()
                self._journal = None

    def record(self, transfer: Transfer) -> None:
        with self._cond:
            self._items.append(transfer)
            if self._journal is not None:
                self._journal.write(transfer.to_json() + "\n")
                self._journal.flush()
            self._cond.notify_all()
        level = logging.INFO if transfer.ok else logging.WARNING
        log.log(level, "file server: %s", transfer.describe())

    def all(self) -> list[Transfer]:
        with self._cond:
            return list(self._items)

    def wait_for(
        self, predicate: Callable[[Transfer], bool], timeout: float, after: int = 0
    ) -> Transfer:
        deadline = time.monotonic() + timeout
        with self._cond:
            seen = after
            while True:
                for item in self._items[seen:]:
                    if predicate(item):
                        return item
                seen = max(seen, len(self._items))
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(remaining)
            happened = self._items[after:]
        raise TransferTimeout(
            f"no matching transfer within {timeout:g} s; transfers that did happen:\n"
            + _listing(happened)
        )

    def wait_for_count(self, count: int, timeout: float) -> list[Transfer]:
        """All transfers, once at least ``count`` are recorded."""
        with self._cond:
            if self._cond.wait_for(lambda: len(self._items) >= count, timeout):
                return list(self._items)
            happened = list(self._items)
        raise TransferTimeout(
            f"{len(happened)} of {count} transfers within {timeout:g} s:\n" + _listing(happened)
        )


def _listing(transfers: list[Transfer]) -> str:
    return "\n".join(f"  - {t.describe()}" for t in transfers) or "  (none)"


def _sha256_of_segment(path: str | Path, offset: int, length: int) -> str:
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            left = length
            while left > 0:
                chunk = f.read(min(_CHUNK, left))
                if not chunk:
                    break
                digest.update(chunk)
                left -= len(chunk)
    except OSError:
        return _EMPTY_SHA256 if length == 0 else ""
    return digest.hexdigest()


def _dir_usage(directory: Path) -> int:
    total = 0
    for dirpath, _dirs, files in os.walk(directory):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(dirpath, name)).st_size
    return total


def _url_host(host: str) -> str:
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


# --------------------------------------------------------------------------- uploads


class _UploadFile:
    """File object pyftpdlib writes an upload into; turns a full disk into a clean failure.

    On ENOSPC (real, or the quota) it stops writing, keeps draining what the client sends
    and remembers the failure, so the data channel ends normally and the control channel
    can answer 452 instead of the client hitting a reset connection or a hang.

    ``name`` is where the bytes go, ``requested`` the file the client named (they differ
    when a STOR found the name taken, see :func:`_create_unique`).
    """

    def __init__(
        self,
        raw: Any,
        server: LabFileServer,
        client: str,
        fresh: bool,
        requested: str | None = None,
    ) -> None:
        self._raw = raw
        #: a new file (STOR, STOU), not APPE / REST onto existing data: deletable on failure
        self.fresh = fresh
        self._server = server
        self.name: str = raw.name
        self.requested: str = requested or raw.name
        self.client = client
        #: the size of the existing file an APPE / REST extends: restored on failure
        self._base_size = 0 if fresh else os.fstat(raw.fileno()).st_size
        self.started = time.time()
        self.received = 0
        self.failure: str | None = None
        self._digest = hashlib.sha256()
        self._used = _dir_usage(server.uploads_dir)  # after truncation: counts APPE's base

    @property
    def closed(self) -> bool:
        return self._raw.closed

    @property
    def sha256(self) -> str:
        return self._digest.hexdigest()

    def seek(self, *args: Any) -> int:
        return self._raw.seek(*args)

    def tell(self) -> int:
        return self._raw.tell()

    def write(self, data: bytes) -> int:
        self.received += len(data)
        self._digest.update(data)
        if self.failure is not None:
            return len(data)  # draining after a failure
        quota = self._server.upload_quota_bytes
        if quota is not None and self._used + len(data) > quota:
            self._fail(
                f"{os.strerror(errno.ENOSPC)} (upload quota of {quota} bytes exceeded; "
                f"{self._used} bytes in use)"
            )
            return len(data)
        view = memoryview(data)
        try:
            while view:
                written = self._raw.write(view)
                view = view[written:]
                self._used += written
        except OSError as exc:
            self._fail(f"{exc.strerror or exc} (errno {exc.errno})")
        return len(data)

    def _fail(self, reason: str) -> None:
        self.failure = reason
        log.error(
            "file server: upload of %s from %s failed: %s; the rest of the upload is "
            "discarded and the client gets 452",
            self._server.relative(self.name),
            self.client,
            reason,
        )

    def close(self) -> None:
        try:
            self._raw.close()
        except OSError as exc:
            if self.failure is None:
                self._fail(f"{exc.strerror or exc} (errno {exc.errno})")

    def discard(self) -> None:
        """Undo a failed upload: delete the new file, or cut an extended one back.

        Only this upload's own bytes go: a STOR wrote into a file of its own (never one an
        earlier upload left), and an APPE only added to the end. (A REST that overwrote
        existing bytes before failing cannot be undone; the added part is cut off.)
        """
        if self.fresh:
            _remove_quietly(self.name)
            return
        with contextlib.suppress(OSError):
            if os.path.getsize(self.name) > self._base_size:
                os.truncate(self.name, self._base_size)


def _open_unbuffered(path: str, mode: str) -> Any:
    """Unbuffered, so a full disk (ENOSPC) shows at the write that hits it."""
    return open(path, mode, buffering=0)  # noqa: SIM115 - the DTP closes it


#: at most this many ``name.N`` tries for a STOR onto a taken name
_MAX_UNIQUE = 10_000


def _create_unique(path: str) -> Any:
    """A new, unbuffered file at ``path``, or at ``path.1``, ``path.2``... if that is taken.

    Created exclusively (``x``), so an upload never truncates a file an earlier upload left,
    not even one arriving at the same moment under the same name.
    """
    for n in range(_MAX_UNIQUE):
        candidate = path if n == 0 else f"{path}.{n}"
        if n == 0 and os.path.isdir(candidate):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), path)
        try:
            return open(candidate, "xb", buffering=0)  # noqa: SIM115 - the DTP closes it
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, f"{_MAX_UNIQUE} uploads named like this already", path)


@functools.cache
def _ftp_classes() -> tuple[type, type, type]:
    """pyftpdlib subclasses, built on first use so importing this module stays cheap."""
    from pyftpdlib.filesystems import AbstractedFS
    from pyftpdlib.handlers import DTPHandler, FTPHandler
    from pyftpdlib.log import logger as ftp_logger

    class LabFS(AbstractedFS):
        def open(self, filename: str, mode: str) -> Any:
            if "r" in mode and "+" not in mode:
                return open(filename, mode)  # noqa: SIM115 - pyftpdlib closes it
            channel = self.cmd_channel
            fresh = "w" in mode  # STOR: a file of its own, never over an earlier upload
            # else APPE ("a") or STOR after REST ("r+"): extends the existing file
            raw = _create_unique(filename) if fresh else _open_unbuffered(filename, mode)
            return _UploadFile(raw, channel.lab, channel.client, fresh, requested=filename)

        def mkstemp(self, *args: Any, **kwargs: Any) -> Any:  # STOU
            raw = super().mkstemp(*args, **kwargs)
            return _UploadFile(raw, self.cmd_channel.lab, self.cmd_channel.client, True)

    class LabDTP(DTPHandler):
        _lab_offset = 0

        def push_with_producer(self, producer: Any) -> None:
            self._lab_offset = producer.file.tell()
            super().push_with_producer(producer)

        def close(self) -> None:
            fobj = self.file_obj
            if self._closed or fobj is None:
                super().close()
                return
            try:
                self._record(fobj)
            except Exception:  # a bookkeeping bug must not take the FTP server down
                log.exception("file server: could not record an FTP transfer")
            super().close()

        def _record(self, fobj: Any) -> None:
            channel = self.cmd_channel
            if isinstance(fobj, _UploadFile):
                fobj.close()  # before the reply: the file is complete when the client hears
                failure = fobj.failure
                if failure is None and not self.transfer_finished:
                    failure = f"upload incomplete after {fobj.received} bytes (aborted)"
                if fobj.failure is not None:
                    self.transfer_finished = False
                    self._resp = (
                        f"452 Insufficient storage space: {fobj.failure}; upload discarded.",
                        ftp_logger.warning,
                    )
                if failure is not None:
                    fobj.discard()
                channel.lab.record_ftp(
                    kind="upload",
                    client=channel.client,
                    user=channel.username,
                    path=fobj.requested,
                    size=fobj.received,
                    sha256=fobj.sha256,
                    started=fobj.started,
                    error=failure,
                    stored_path=fobj.name if failure is None else None,
                )
            else:
                sent = self.get_transmitted_bytes()
                try:
                    total = os.path.getsize(fobj.name) - self._lab_offset
                except OSError:
                    total = -1
                # ASCII mode rewrites line ends, so only binary byte counts must match
                binary = channel._current_type == "i"
                error = None
                if not self.transfer_finished or (binary and sent != total):
                    error = f"download incomplete: client got {sent} of {total} bytes"
                hashed = sent if binary or error else total
                channel.lab.record_ftp(
                    kind="download",
                    client=channel.client,
                    user=channel.username,
                    path=fobj.name,
                    size=sent,
                    sha256=_sha256_of_segment(fobj.name, self._lab_offset, hashed),
                    started=time.time() - self.get_elapsed_time(),
                    error=error,
                )

    class LabFTPHandler(FTPHandler):
        lab: LabFileServer  # set on the per-server subclass
        dtp_handler = LabDTP
        abstracted_fs = LabFS
        auth_failed_timeout = 0.1  # the lab wants a quick 530, not brute-force protection
        use_sendfile = True

        @property
        def client(self) -> str:
            return f"{self.remote_ip}:{self.remote_port}"

        def on_login_failed(self, username: str, password: str) -> None:
            self.lab.record_ftp(
                kind="login",
                client=self.client,
                user=username,
                path="",
                size=0,
                sha256=_EMPTY_SHA256,
                started=time.time(),
                error=f"login refused for user {username!r} (530)",
            )

        def log_cmd(self, cmd: str, arg: str, respcode: int, respstr: str) -> None:
            super().log_cmd(cmd, arg, respcode, respstr)
            if respcode >= 400 and cmd in ("RETR", "STOR", "APPE", "STOU"):
                self.lab.record_ftp(
                    kind="download" if cmd == "RETR" else "upload",
                    client=self.client,
                    user=self.username,
                    path=arg,
                    size=0,
                    sha256=_EMPTY_SHA256,
                    started=time.time(),
                    error=f"{cmd} refused: {respcode} {respstr}",
                )

        def close(self) -> None:
            queued = None if self._closed else getattr(self, "_in_dtp_queue", None)
            super().close()
            if queued is not None and isinstance(queued[0], _UploadFile):
                upload = queued[0]
                upload.discard()
                self.lab.record_ftp(
                    kind="upload",
                    client=self.client,
                    user=self.username,
                    path=upload.requested,
                    size=0,
                    sha256=_EMPTY_SHA256,
                    started=upload.started,
                    error="upload never started: the data connection was not opened",
                )

    return LabFS, LabDTP, LabFTPHandler


def _remove_quietly(path: str) -> None:
    with contextlib.suppress(OSError):
        os.remove(path)


class _Waker:
    """A socket-pair entry in pyftpdlib's IO loop so another thread can stop it at once."""

    def __init__(self, ioloop: Any, on_wake: Callable[[], None]) -> None:
        self._ioloop = ioloop
        self._on_wake = on_wake
        self._r, self._w = socket.socketpair()
        self._r.setblocking(False)
        self._fileno = self._r.fileno()
        self._closed = False
        ioloop.register(self._fileno, self, ioloop.READ)

    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return False

    def handle_read_event(self) -> None:
        with contextlib.suppress(OSError):
            self._r.recv(64)
        self._on_wake()

    def handle_close(self) -> None:
        self.close()

    def handle_error(self) -> None:
        log.exception("file server: FTP loop wake-up failed")

    def wake(self) -> None:
        with contextlib.suppress(OSError):
            self._w.send(b"x")

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._ioloop.unregister(self._fileno)
            self._r.close()
            self._w.close()


# --------------------------------------------------------------------------- HTTP


class _HttpServer(http.server.ThreadingHTTPServer):
    """Threading HTTP server whose connection threads are named, tracked and joined."""

    daemon_threads = True
    lab: LabFileServer

    def __init__(self, address: tuple[str, int], lab: LabFileServer) -> None:
        self.lab = lab
        self._conn_lock = threading.Lock()
        self._conn_threads: list[threading.Thread] = []
        self._connections: set[socket.socket] = set()
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _HttpHandler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind asks DNS for the host's FQDN, which can stall; not needed.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(
            target=self.process_request_thread,
            args=(request, client_address),
            name=f"{THREAD_PREFIX}-http-conn",
            daemon=True,
        )
        # tracked here, in the accept loop, so once shutdown() returns every accepted
        # connection is known to drop_connections()
        with self._conn_lock:
            self._conn_threads = [t for t in self._conn_threads if t.is_alive()]
            self._conn_threads.append(thread)
            self._connections.add(request)
        thread.start()

    def handle_error(self, request: Any, client_address: Any) -> None:
        # socketserver prints tracebacks to stderr; a dropped client is not worth one
        log.debug("file server http: error serving %s", client_address, exc_info=True)

    def shutdown_request(self, request: Any) -> None:
        with self._conn_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def drop_connections(self) -> None:
        """Cut every open client connection so its thread ends now, not at its timeout."""
        with self._conn_lock:
            conns = list(self._connections)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    def server_close(self) -> None:
        super().server_close()
        with self._conn_lock:
            threads = list(self._conn_threads)
        for thread in threads:
            thread.join(_JOIN_TIMEOUT_S)


class _HttpHandler(http.server.BaseHTTPRequestHandler):
    server: _HttpServer
    protocol_version = "HTTP/1.0"
    server_version = "HILLabFileServer/1"
    timeout = _HTTP_SOCKET_TIMEOUT_S

    def finish(self) -> None:
        with contextlib.suppress(OSError):  # the client may be gone already
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib name
        log.debug("file server http %s: %s", self.address_string(), format % args)

    @property
    def _client(self) -> str:
        return f"{self.client_address[0]}:{self.client_address[1]}"

    def do_HEAD(self) -> None:
        self._serve(body=False)

    def do_GET(self) -> None:
        self._serve(body=True)

    def _serve(self, body: bool) -> None:
        lab = self.server.lab
        started = time.time()
        rel = unquote(urlsplit(self.path).path).lstrip("/")
        target = lab.resolve(rel)
        if target is None or not target.is_file():
            if body:  # recorded first, so it is there once the client has its answer
                lab.record_http(self._client, rel, 0, _EMPTY_SHA256, started, "404 not found")
            self.send_error(404, "no such file on the lab's file server")
            return
        digest = hashlib.sha256()
        sent = 0
        try:
            with target.open("rb") as f:
                total = os.fstat(f.fileno()).st_size
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(total))
                self.end_headers()
                if not body:
                    return
                while chunk := f.read(_CHUNK):
                    self.wfile.write(chunk)
                    digest.update(chunk)
                    sent += len(chunk)
        except OSError as exc:
            if body:
                reason = f"download incomplete: client got {sent} bytes ({exc})"
                lab.record_http(self._client, rel, sent, digest.hexdigest(), started, reason)
            self.close_connection = True
            return
        lab.record_http(self._client, lab.relative(target), sent, digest.hexdigest(), started)


# --------------------------------------------------------------------------- the server


class LabFileServer:
    """Serves ``root`` over HTTP and FTP; FTP uploads land under ``root/uploads/``.

    It never deletes or overwrites an upload: a STOR onto a name an earlier upload took is
    stored as ``name.1``, ``name.2``... (``Transfer.stored_path`` says where), and a failed
    upload removes only its own bytes. The first :meth:`start` begins a run: the journal is
    emptied and uploads an earlier run left are moved to ``root/uploads.before-<UTC time>``;
    a later start of the same object (a restart within the run) keeps both.

    ``advertised_host`` is the address the station uses to reach the lab (defaults to
    ``host``); every URL helper uses it. ``upload_quota_bytes`` makes uploads fail like a
    full disk once ``root/uploads`` would grow past it (it may be changed while running).
    """

    def __init__(
        self,
        root: Path,
        journal_path: Path,
        host: str = "127.0.0.1",
        http_port: int = 0,
        ftp_port: int = 0,
        ftp_user: str = "hil",
        ftp_password: str = "hil",
        advertised_host: str | None = None,
        upload_quota_bytes: int | None = None,
    ) -> None:
        self.root = Path(root).resolve()
        self.host = host
        self.advertised_host = advertised_host or host
        self.ftp_user = ftp_user
        self.ftp_password = ftp_password
        self.upload_quota_bytes = upload_quota_bytes
        self._want_http_port = http_port
        self._want_ftp_port = ftp_port
        self._log = TransferLog(Path(journal_path))
        self._lock = threading.Lock()
        self._running = False
        self._http: _HttpServer | None = None
        self._ftp: Any = None
        self._waker: _Waker | None = None
        self._threads: list[threading.Thread] = []
        self._dead_ends: dict[str, socket.socket] = {}
        self._started_before = False

    @classmethod
    def from_config(
        cls,
        cfg: FileServer,
        root: Path,
        journal_path: Path,
        upload_quota_bytes: int | None = None,
    ) -> LabFileServer:
        """Build from the lab config's ``file_server`` section."""
        return cls(
            root,
            journal_path,
            host=cfg.host,
            http_port=cfg.http_port,
            ftp_port=cfg.ftp_port,
            ftp_user=cfg.ftp_user,
            ftp_password=cfg.ftp_password,
            advertised_host=cfg.advertised_host,
            upload_quota_bytes=upload_quota_bytes,
        )

    # ---------------------------------------------------------------- lifecycle

    def __enter__(self) -> LabFileServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._running

    @property
    def uploads_dir(self) -> Path:
        return self.root / UPLOADS

    @property
    def journal_path(self) -> Path:
        return self._log.journal_path

    @property
    def http_port(self) -> int:
        if self._http is None:
            raise RuntimeError("the file server is not running")
        return self._http.server_address[1]

    @property
    def ftp_port(self) -> int:
        if self._ftp is None:
            raise RuntimeError("the file server is not running")
        return self._ftp.address[1]

    def start(self) -> None:
        """Bind both servers and start their threads; a no-op if already running."""
        with self._lock:
            if self._running:
                return
            if not self._started_before:  # a new run: nothing of an earlier one mixes in
                self._set_aside_earlier_uploads()
                self._started_before = True
            self.uploads_dir.mkdir(parents=True, exist_ok=True)
            self._log.open()
            try:
                self._start_http()
                self._start_ftp()
            except BaseException:
                self._shutdown()
                raise
            self._running = True
        log.info(
            "file server: serving %s on http://%s:%d and ftp://%s:%d (uploads in %s)",
            self.root,
            self.host,
            self.http_port,
            self.host,
            self.ftp_port,
            self.uploads_dir,
        )

    def _set_aside_earlier_uploads(self) -> None:
        """Move the uploads an earlier run left in ``root/uploads`` to ``uploads.before-<UTC>``.

        Nothing is deleted, and this run's uploads (and its journal, which starts empty) are
        not mixed with those of a run before it in the same output folder.
        """
        if not self.uploads_dir.is_dir():
            return
        count = sum(1 for p in self.uploads_dir.rglob("*") if not p.is_dir())
        if count == 0:
            return
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        target = self.root / f"{UPLOADS}.before-{stamp}"
        n = 1
        while target.exists():
            target = self.root / f"{UPLOADS}.before-{stamp}.{n}"
            n += 1
        self.uploads_dir.rename(target)
        log.info("file server: %d file(s) an earlier run uploaded moved to %s", count, target)

    def stop(self) -> None:
        """Close every socket and join every thread; safe to call twice."""
        with self._lock:
            if not self._running:
                return
            self._running = False
            self._shutdown()

    def _start_http(self) -> None:
        self._http = _HttpServer((self.host, self._want_http_port), self)
        thread = threading.Thread(
            target=self._http.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"{THREAD_PREFIX}-http",
            daemon=True,
        )
        self._threads.append(thread)
        thread.start()

    def _start_ftp(self) -> None:
        from pyftpdlib.authorizers import DummyAuthorizer
        from pyftpdlib.ioloop import IOLoop
        from pyftpdlib.servers import FTPServer

        _fs, _dtp, handler_base = _ftp_classes()
        authorizer = DummyAuthorizer()
        authorizer.add_user(self.ftp_user, self.ftp_password, str(self.root), perm="elr")
        authorizer.override_perm(self.ftp_user, str(self.uploads_dir), "elradfmwMT", recursive=True)
        attrs: dict[str, Any] = {"lab": self, "authorizer": authorizer}
        if self.advertised_host != self.host and _is_ipv4(self.advertised_host):
            attrs["masquerade_address"] = self.advertised_host  # PASV replies name it
        handler = type("LabFTPHandler", (handler_base,), attrs)
        ioloop = IOLoop()
        try:
            self._ftp = FTPServer((self.host, self._want_ftp_port), handler, ioloop=ioloop)
        except BaseException:
            ioloop.close()
            raise
        self._waker = _Waker(ioloop, self._ftp.close_all)
        thread = threading.Thread(
            target=self._ftp.serve_forever,
            kwargs={"timeout": None, "blocking": True, "handle_exit": False},
            name=f"{THREAD_PREFIX}-ftp",
            daemon=True,
        )
        self._threads.append(thread)
        thread.start()

    def _shutdown(self) -> None:
        if self._http is not None:
            self._http.shutdown()  # ends serve_forever within its poll interval
            self._http.drop_connections()
            self._http.server_close()
        if self._waker is not None:
            self._waker.wake()  # the FTP loop closes everything from its own thread
        elif self._ftp is not None:
            self._ftp.close_all()
        for thread in self._threads:
            thread.join(_JOIN_TIMEOUT_S)
            if thread.is_alive():
                log.error("file server: thread %s did not stop", thread.name)
        ftp_thread_done = not any(t.is_alive() for t in self._threads if t.name.endswith("ftp"))
        if self._ftp is not None and ftp_thread_done:
            self._ftp.close_all()  # idempotent; frees the loop if its thread died early
        for sock in self._dead_ends.values():
            sock.close()
        self._dead_ends.clear()
        self._threads.clear()
        self._http = None
        self._ftp = None
        self._waker = None
        self._log.close()

    # ---------------------------------------------------------------- paths and URLs

    def resolve(self, rel: str) -> Path | None:
        """The file under root that ``rel`` names, or None if it escapes root."""
        target = (self.root / rel).resolve()
        return target if target.is_relative_to(self.root) else None

    def relative(self, path: str | Path) -> str:
        """``path`` relative to root, ``/``-separated (unchanged if outside root)."""
        p = Path(path)
        try:
            return p.resolve().relative_to(self.root).as_posix()
        except (ValueError, OSError):
            return str(path)

    @property
    def _url_host(self) -> str:
        return _url_host(self.advertised_host)

    def _creds(self, user: str, password: str) -> str:
        return f"{quote(user, safe='')}:{quote(password, safe='')}@"

    def http_url(self, name: str) -> str:
        """Where the station downloads ``name`` (relative to root) over HTTP."""
        return f"http://{self._url_host}:{self.http_port}/{quote(name.lstrip('/'))}"

    def ftp_url(self, name: str) -> str:
        """Where the station downloads ``name`` over FTP, credentials included."""
        creds = self._creds(self.ftp_user, self.ftp_password)
        return f"ftp://{creds}{self._url_host}:{self.ftp_port}/{quote(name.lstrip('/'))}"

    def upload_url(self, subdir: str = "diagnostics") -> str:
        """An ftp:// directory URL (ends in ``/``) where the station uploads; created now."""
        subdir = subdir.strip("/")
        target = self.resolve(f"{UPLOADS}/{subdir}")
        if target is None or not target.is_relative_to(self.uploads_dir):
            raise ValueError(f"upload subdir {subdir!r} escapes {self.uploads_dir}")
        target.mkdir(parents=True, exist_ok=True)
        path = quote(f"{UPLOADS}/{subdir}".rstrip("/") + "/")
        creds = self._creds(self.ftp_user, self.ftp_password)
        return f"ftp://{creds}{self._url_host}:{self.ftp_port}/{path}"

    def wrong_login_ftp_url(self, name: str = "") -> str:
        """An ftp:// URL with a password the server refuses (530)."""
        creds = self._creds(self.ftp_user, self.ftp_password + "-wrong")
        return f"ftp://{creds}{self._url_host}:{self.ftp_port}/{quote(name.lstrip('/'))}"

    def unreachable_url(
        self,
        kind: Literal["refused", "timeout"] = "refused",
        scheme: Literal["http", "ftp"] = "http",
        name: str = "firmware.bin",
    ) -> str:
        """A location that certainly fails, held until :meth:`stop`.

        ``refused``: a port bound but never listened on, so connecting is refused at once.
        ``timeout``: a port that completes the TCP handshake (the kernel's backlog) but
        never answers, so the client waits until its own timeout.
        """
        if not self._running:
            raise RuntimeError("the file server is not running")
        if kind not in ("refused", "timeout"):
            raise ValueError(f"unreachable kind must be 'refused' or 'timeout', not {kind!r}")
        with self._lock:
            sock = self._dead_ends.get(kind)
            if sock is None:
                family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
                sock = socket.socket(family, socket.SOCK_STREAM)
                sock.bind((self.host, 0))
                if kind == "timeout":
                    sock.listen(64)  # never accepted: connections sit in the backlog
                self._dead_ends[kind] = sock
            port = sock.getsockname()[1]
        creds = self._creds(self.ftp_user, self.ftp_password) if scheme == "ftp" else ""
        return f"{scheme}://{creds}{self._url_host}:{port}/{quote(name.lstrip('/'))}"

    # ---------------------------------------------------------------- transfers

    def transfers(self) -> list[Transfer]:
        """Every transfer recorded so far, oldest first.

        A successful HTTP download is recorded just after its last byte is sent, so a
        client can hold the whole file a moment before the record exists: to check a
        transfer, use :meth:`wait_for_transfer`, not this snapshot.
        """
        return self._log.all()

    def wait_for_transfer(
        self, predicate: Callable[[Transfer], bool], timeout: float = 10.0, after: int = 0
    ) -> Transfer:
        """The first transfer (from index ``after`` on) matching ``predicate``.

        Raises :class:`TransferTimeout` (an AssertionError and a TimeoutError) listing the
        transfers that did happen.
        """
        return self._log.wait_for(predicate, timeout, after)

    def wait_for_transfers(self, count: int, timeout: float = 10.0) -> list[Transfer]:
        """Every transfer recorded, once there are at least ``count`` of them.

        The server records a refused login or a failed store just after it has answered
        the client, so a station can report its final status before the record of its
        last attempt exists: to count attempts, wait for them here.
        """
        return self._log.wait_for_count(count, timeout)

    def record_http(
        self,
        client: str,
        path: str,
        size: int,
        sha256: str,
        started: float,
        error: str | None = None,
    ) -> None:
        self._log.record(
            Transfer(
                kind="download",
                protocol="http",
                client=client,
                path=path,
                size=size,
                sha256=sha256,
                started=started,
                finished=time.time(),
                ok=error is None,
                error=error,
            )
        )

    def record_ftp(
        self,
        *,
        kind: Literal["download", "upload", "login"],
        client: str,
        user: str | None,
        path: str,
        size: int,
        sha256: str,
        started: float,
        error: str | None,
        stored_path: str | None = None,
    ) -> None:
        self._log.record(
            Transfer(
                kind=kind,
                protocol="ftp",
                client=client,
                path=self.relative(path) if path else "",
                size=size,
                sha256=sha256,
                started=started,
                finished=time.time(),
                ok=error is None,
                error=error,
                user=user or None,
                stored_path=self.relative(stored_path) if stored_path else None,
            )
        )


def _is_ipv4(host: str) -> bool:
    try:
        return isinstance(ipaddress.ip_address(host), ipaddress.IPv4Address)
    except ValueError:
        return False


__all__ = ["LabFileServer", "Transfer", "TransferLog", "TransferTimeout"]
