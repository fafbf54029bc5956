"""The lab file server with real clients over loopback: urllib for HTTP, ftplib for FTP."""

from __future__ import annotations

import errno
import ftplib
import hashlib
import http.client
import io
import json
import logging
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from hil.lab.config import FileServer
from hil.lab.fileserver import (
    THREAD_PREFIX,
    LabFileServer,
    Transfer,
    TransferTimeout,
    _UploadFile,
)
from hil.lab.firmware_image import parse_image, write_test_images

PAYLOAD = bytes(range(256)) * 40  # 10 KiB
BIG = bytes(range(256)) * 4096 * 8  # 8 MiB: more than the socket buffers hold


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LabFileServer]:
    root = tmp_path / "served"
    root.mkdir()
    (root / "fw.bin").write_bytes(PAYLOAD)
    srv = LabFileServer(root, tmp_path / "journal" / "transfers.jsonl")
    srv.start()
    yield srv
    srv.stop()
    assert our_threads() == []


def ftp_login(url: str, timeout: float = 5.0) -> tuple[ftplib.FTP, str]:
    """Connect and log in with the credentials in an ftp:// URL; return the path too."""
    parts = urlsplit(url)
    ftp = ftplib.FTP()
    ftp.connect(parts.hostname, parts.port, timeout=timeout)
    ftp.login(unquote(parts.username or ""), unquote(parts.password or ""))
    return ftp, unquote(parts.path)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def our_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith(THREAD_PREFIX)]


# ------------------------------------------------------------------ downloads


def test_http_download_is_served_and_recorded(server: LabFileServer) -> None:
    url = server.http_url("fw.bin")
    assert url == f"http://127.0.0.1:{server.http_port}/fw.bin"
    with urllib.request.urlopen(url, timeout=5) as resp:
        body = resp.read()
    assert body == PAYLOAD
    t = server.wait_for_transfer(lambda t: t.kind == "download", timeout=5)
    assert (t.protocol, t.path, t.ok, t.error) == ("http", "fw.bin", True, None)
    assert t.size == len(PAYLOAD)
    assert t.sha256 == sha(PAYLOAD)
    assert t.client.startswith("127.0.0.1:")
    assert t.started <= t.finished


def test_http_missing_file_and_path_escape_are_404_and_recorded(
    server: LabFileServer, tmp_path: Path
) -> None:
    (tmp_path / "secret.txt").write_text("not served")
    with pytest.raises(urllib.error.HTTPError) as excinfo:
        urllib.request.urlopen(server.http_url("nope.bin"), timeout=5)
    assert excinfo.value.code == 404
    conn = http.client.HTTPConnection("127.0.0.1", server.http_port, timeout=5)
    conn.request("GET", "/../secret.txt")
    resp = conn.getresponse()
    assert resp.status == 404
    assert b"not served" not in resp.read()
    conn.close()
    failed = [t for t in server.transfers() if not t.ok]
    assert [t.path for t in failed] == ["nope.bin", "../secret.txt"]
    assert all("404" in (t.error or "") for t in failed)


def test_ftp_download_is_served_and_recorded(server: LabFileServer) -> None:
    ftp, path = ftp_login(server.ftp_url("fw.bin"))
    buf = io.BytesIO()
    ftp.retrbinary(f"RETR {path}", buf.write)
    ftp.quit()
    assert buf.getvalue() == PAYLOAD
    t = server.wait_for_transfer(lambda t: t.kind == "download", timeout=5)
    assert (t.protocol, t.path, t.ok, t.user) == ("ftp", "fw.bin", True, "hil")
    assert (t.size, t.sha256) == (len(PAYLOAD), sha(PAYLOAD))


def test_ftp_missing_file_is_recorded(server: LabFileServer) -> None:
    ftp, _ = ftp_login(server.ftp_url(""))
    with pytest.raises(ftplib.error_perm, match="^550"):
        ftp.retrbinary("RETR missing.bin", lambda _: None)
    ftp.quit()
    t = server.wait_for_transfer(lambda t: t.path == "missing.bin", timeout=5)
    assert not t.ok and "550" in (t.error or "")


def test_served_firmware_images_parse_after_download(server: LabFileServer) -> None:
    paths = write_test_images(server.root / "firmware", "7.0.1")
    rel = f"firmware/{paths['good'].name}"
    with urllib.request.urlopen(server.http_url(rel), timeout=5) as resp:
        assert parse_image(resp.read()).version == "7.0.1"
    t = server.wait_for_transfer(lambda t: t.path == rel, timeout=5)
    assert t.sha256 == sha(paths["good"].read_bytes())


def test_ftp_download_cut_short_is_recorded_as_failed(server: LabFileServer) -> None:
    (server.root / "big.bin").write_bytes(BIG)
    ftp, _ = ftp_login(server.ftp_url(""))
    ftp.voidcmd("TYPE I")
    host, port = ftp.makepasv()
    data = socket.socket()
    data.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    data.settimeout(5)
    data.connect((host, port))
    assert ftp.sendcmd("RETR big.bin")[:3] in ("125", "150")  # 150 if not yet accepted
    got = data.recv(1024)
    data.close()  # unread data: the kernel resets the connection
    with pytest.raises(ftplib.error_temp, match="^426"):
        ftp.voidresp()
    ftp.quit()
    t = server.wait_for_transfer(lambda t: t.path == "big.bin", timeout=5)
    assert not t.ok
    assert "incomplete" in (t.error or "")
    assert len(got) <= t.size < len(BIG)
    assert t.sha256 == sha(BIG[: t.size])


def test_http_download_cut_short_is_recorded_as_failed(server: LabFileServer) -> None:
    (server.root / "big.bin").write_bytes(BIG)
    client = socket.socket()
    client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    client.settimeout(5)
    client.connect(("127.0.0.1", server.http_port))
    client.sendall(b"GET /big.bin HTTP/1.0\r\nHost: lab\r\n\r\n")
    assert client.recv(1024).startswith(b"HTTP/1.0 200")
    client.close()
    t = server.wait_for_transfer(lambda t: t.path == "big.bin", timeout=5)
    assert not t.ok
    assert "incomplete" in (t.error or "")
    assert t.size < len(BIG)


# ------------------------------------------------------------------ uploads


def test_ftp_upload_lands_under_uploads_and_is_recorded(server: LabFileServer) -> None:
    url = server.upload_url()
    assert url == f"ftp://hil:hil@127.0.0.1:{server.ftp_port}/uploads/diagnostics/"
    ftp, path = ftp_login(url)
    data = b"diagnostics " * 1000
    reply = ftp.storbinary(f"STOR {path}diag-1.zip", io.BytesIO(data))
    ftp.quit()
    assert reply.startswith("226")
    landed = server.root / "uploads" / "diagnostics" / "diag-1.zip"
    assert landed.read_bytes() == data
    t = server.wait_for_transfer(lambda t: t.kind == "upload", timeout=5)
    assert (t.protocol, t.path, t.ok) == ("ftp", "uploads/diagnostics/diag-1.zip", True)
    assert (t.size, t.sha256) == (len(data), sha(data))


def test_upload_whose_data_connection_never_opens_is_recorded(server: LabFileServer) -> None:
    ftp, path = ftp_login(server.upload_url())
    ftp.voidcmd("TYPE I")
    ftp.makepasv()
    assert ftp.sendcmd(f"STOR {path}never.zip").startswith("150")
    ftp.close()  # gone before opening the data connection
    t = server.wait_for_transfer(lambda t: t.kind == "upload", timeout=5)
    assert not t.ok and "never started" in (t.error or "")
    assert t.path == "uploads/diagnostics/never.zip"
    assert not (server.uploads_dir / "diagnostics" / "never.zip").exists()


def test_upload_outside_uploads_is_refused_and_recorded(server: LabFileServer) -> None:
    ftp, _ = ftp_login(server.ftp_url(""))
    with pytest.raises(ftplib.error_perm, match="^550"):
        ftp.storbinary("STOR fw.bin", io.BytesIO(b"overwrite"))
    ftp.quit()
    assert (server.root / "fw.bin").read_bytes() == PAYLOAD
    t = server.wait_for_transfer(lambda t: t.kind == "upload", timeout=5)
    assert not t.ok and t.path == "fw.bin" and "550" in (t.error or "")


def test_wrong_login_gets_530_and_is_recorded(server: LabFileServer) -> None:
    url = server.wrong_login_ftp_url("fw.bin")
    parts = urlsplit(url)
    ftp = ftplib.FTP()
    ftp.connect(parts.hostname, parts.port, timeout=5)
    with pytest.raises(ftplib.error_perm, match="^530"):
        ftp.login(parts.username, parts.password)
    ftp.close()
    t = server.wait_for_transfer(lambda t: t.kind == "login", timeout=5)
    assert (t.protocol, t.ok, t.user) == ("ftp", False, "hil")
    assert "login refused" in (t.error or "")


def test_full_disk_upload_gets_error_reply_and_server_keeps_serving(
    server: LabFileServer, caplog: pytest.LogCaptureFixture
) -> None:
    server.upload_quota_bytes = 50_000
    ftp, path = ftp_login(server.upload_url())
    small = b"s" * 30_000
    ftp.storbinary(f"STOR {path}first.zip", io.BytesIO(small))
    too_big = b"b" * 300_000
    with (
        caplog.at_level(logging.ERROR, logger="hil.lab.fileserver"),
        pytest.raises(ftplib.error_temp, match="^452 .*No space left on device"),
    ):
        ftp.storbinary(f"STOR {path}second.zip", io.BytesIO(too_big))
    assert any("quota of 50000 bytes exceeded" in r.getMessage() for r in caplog.records)
    uploads = server.root / "uploads" / "diagnostics"
    assert sorted(p.name for p in uploads.iterdir()) == ["first.zip"]  # no partial file
    t = server.wait_for_transfer(lambda t: t.path.endswith("second.zip"), timeout=5)
    assert not t.ok and "No space left on device" in (t.error or "")
    assert (t.size, t.sha256) == (len(too_big), sha(too_big))  # all of it was drained

    buf = io.BytesIO()  # same session still works
    ftp.retrbinary("RETR /fw.bin", buf.write)
    ftp.quit()
    assert buf.getvalue() == PAYLOAD
    with urllib.request.urlopen(server.http_url("fw.bin"), timeout=5) as resp:
        assert resp.read() == PAYLOAD
    server.wait_for_transfer(lambda t: t.protocol == "http", timeout=5)
    assert [t.ok for t in server.transfers()] == [True, False, True, True]


def test_failed_append_keeps_the_existing_file(server: LabFileServer) -> None:
    ftp, path = ftp_login(server.upload_url())
    ftp.storbinary(f"STOR {path}log.txt", io.BytesIO(b"first part\n"))
    server.upload_quota_bytes = 20
    with pytest.raises(ftplib.error_temp, match="^452"):
        ftp.storbinary(f"APPE {path}log.txt", io.BytesIO(b"x" * 100))
    ftp.quit()
    assert (server.uploads_dir / "diagnostics" / "log.txt").read_bytes() == b"first part\n"
    t = server.wait_for_transfer(lambda t: not t.ok, timeout=5)
    assert t.kind == "upload" and t.path == "uploads/diagnostics/log.txt"


def test_real_enospc_is_handled_like_the_quota(server: LabFileServer) -> None:
    try:
        raw = open("/dev/full", "wb", buffering=0)  # noqa: SIM115 - closed by the wrapper
    except OSError:
        pytest.skip("no /dev/full here")
    upload = _UploadFile(raw, server, "127.0.0.1:1", fresh=True)
    assert upload.write(b"x" * 1000) == 1000  # the DTP keeps draining
    assert upload.write(b"y" * 10) == 10
    upload.close()
    assert upload.failure is not None
    assert f"errno {errno.ENOSPC}" in upload.failure
    assert upload.received == 1010


# ------------------------------------------------------------------ unreachable locations


def test_refused_url_fails_fast(server: LabFileServer) -> None:
    url = server.unreachable_url("refused")
    assert server.unreachable_url("refused") == url  # one held port per kind
    t0 = time.monotonic()
    with pytest.raises(urllib.error.URLError) as excinfo:
        urllib.request.urlopen(url, timeout=5)
    assert isinstance(excinfo.value.reason, ConnectionRefusedError)
    assert time.monotonic() - t0 < 1.0
    with pytest.raises(ConnectionRefusedError):
        ftplib.FTP().connect("127.0.0.1", urlsplit(server.unreachable_url("refused", "ftp")).port)


def test_timeout_url_hangs_until_client_timeout(server: LabFileServer) -> None:
    url = server.unreachable_url("timeout")
    t0 = time.monotonic()
    with pytest.raises((TimeoutError, urllib.error.URLError)) as excinfo:
        urllib.request.urlopen(url, timeout=1)
    elapsed = time.monotonic() - t0
    exc = excinfo.value
    assert isinstance(exc, TimeoutError) or isinstance(exc.reason, TimeoutError)
    assert 0.9 <= elapsed < 3.0
    ftp_port = urlsplit(server.unreachable_url("timeout", "ftp")).port
    with pytest.raises(TimeoutError):
        ftplib.FTP().connect("127.0.0.1", ftp_port, timeout=0.5)  # no 220 banner ever


# ------------------------------------------------------------------ journal and waiting


def test_journal_has_one_flushed_json_line_per_transfer(server: LabFileServer) -> None:
    for _ in range(2):
        with urllib.request.urlopen(server.http_url("fw.bin"), timeout=5) as resp:
            resp.read()
    server.wait_for_transfer(lambda t: True, timeout=5, after=1)
    lines = server.journal_path.read_text().splitlines()  # read while still running
    assert len(lines) == 2
    records = [json.loads(line) for line in lines]
    assert [Transfer(**{k: v for k, v in r.items() if not k.endswith("_utc")}) for r in records]
    assert records == [json.loads(t.to_json()) for t in server.transfers()]
    assert records[0]["sha256"] == sha(PAYLOAD) and records[0]["started_utc"].endswith("+00:00")


def test_wait_for_transfer_is_woken_by_a_new_transfer(server: LabFileServer) -> None:
    def fetch() -> None:
        with urllib.request.urlopen(server.http_url("fw.bin"), timeout=5) as resp:
            resp.read()

    fetcher = threading.Timer(0.1, fetch)
    t0 = time.monotonic()
    fetcher.start()
    t = server.wait_for_transfer(lambda t: t.path == "fw.bin", timeout=10)
    fetcher.join()
    assert t.ok
    assert time.monotonic() - t0 < 2.0


def test_wait_for_transfer_timeout_lists_what_happened(server: LabFileServer) -> None:
    with urllib.request.urlopen(server.http_url("fw.bin"), timeout=5) as resp:
        resp.read()
    server.wait_for_transfer(lambda t: True, timeout=5)
    t0 = time.monotonic()
    with pytest.raises(TransferTimeout) as excinfo:
        server.wait_for_transfer(lambda t: t.kind == "upload", timeout=0.2)
    assert 0.2 <= time.monotonic() - t0 < 1.0
    message = str(excinfo.value)
    assert "no matching transfer within 0.2 s" in message
    assert "http download fw.bin from 127.0.0.1:" in message
    assert isinstance(excinfo.value, AssertionError)
    assert isinstance(excinfo.value, TimeoutError)
    with pytest.raises(TransferTimeout, match=r"\(none\)"):
        server.wait_for_transfer(lambda t: True, timeout=0.05, after=1)


def test_wait_for_transfers_returns_once_the_count_is_reached(server: LabFileServer) -> None:
    assert server.wait_for_transfers(0, timeout=0.05) == []
    fetcher = threading.Thread(
        target=lambda: urllib.request.urlopen(server.http_url("fw.bin")).read()
    )
    fetcher.start()
    [t] = server.wait_for_transfers(1, timeout=5)
    fetcher.join()
    assert t.kind == "download" and t.ok
    with pytest.raises(
        TransferTimeout, match=r"1 of 2 transfers within 0.1 s:\n  - http download fw.bin"
    ):
        server.wait_for_transfers(2, timeout=0.1)


# ------------------------------------------------------------------ lifecycle and config


def _refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except ConnectionRefusedError:
        return True
    return False


def _closed_by_peer(conn: socket.socket) -> bool:
    try:
        return conn.recv(1) == b""
    except ConnectionResetError:
        return True


def test_stop_frees_ports_and_threads(tmp_path: Path) -> None:
    srv = LabFileServer(tmp_path / "root", tmp_path / "j.jsonl")
    srv.start()
    try:
        srv.start()  # idempotent
        ports = [srv.http_port, srv.ftp_port, urlsplit(srv.unreachable_url("timeout")).port]
        (srv.root / "a.bin").write_bytes(b"a")
        with urllib.request.urlopen(srv.http_url("a.bin"), timeout=5) as resp:
            assert resp.read() == b"a"
        assert our_threads()
        # clients still connected at stop: an idle HTTP connection, a logged-in FTP session
        idle_http = [
            socket.create_connection(("127.0.0.1", srv.http_port), timeout=5) for _ in range(5)
        ]
        ftp, _ = ftp_login(srv.ftp_url(""))
    finally:
        t0 = time.monotonic()
        srv.stop()
    assert time.monotonic() - t0 < 1.0
    srv.stop()  # idempotent
    assert our_threads() == []
    assert all(_refused(p) for p in ports)
    for port in ports[:2]:  # a restarted lab can bind the same ports again
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", port))
    for conn in idle_http:
        assert _closed_by_peer(conn)
        conn.close()
    ftp.close()
    with pytest.raises(RuntimeError, match="not running"):
        srv.http_url("fw.bin")


def test_stop_during_a_download_records_it_as_failed(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (root / "big.bin").write_bytes(BIG)
    srv = LabFileServer(root, tmp_path / "j.jsonl")
    srv.start()
    try:
        client = socket.socket()
        client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        client.connect(("127.0.0.1", srv.http_port))
        client.sendall(b"GET /big.bin HTTP/1.0\r\n\r\n")
        client.settimeout(5)
        assert client.recv(64).startswith(b"HTTP/1.0 200")
    finally:
        srv.stop()
    client.close()
    assert our_threads() == []
    [t] = srv.transfers()
    assert not t.ok and t.path == "big.bin"
    assert json.loads(srv.journal_path.read_text())["ok"] is False


def test_restart_keeps_history_and_serves_again(tmp_path: Path) -> None:
    srv = LabFileServer(tmp_path / "root", tmp_path / "j.jsonl")
    (tmp_path / "root").mkdir()
    (tmp_path / "root" / "a.bin").write_bytes(b"a")
    for _ in range(2):
        srv.start()
        try:
            with urllib.request.urlopen(srv.http_url("a.bin"), timeout=5) as resp:
                assert resp.read() == b"a"
            srv.wait_for_transfer(lambda t: True, timeout=5, after=len(srv.transfers()) - 1)
        finally:
            srv.stop()
    assert len(srv.transfers()) == 2
    assert len(srv.journal_path.read_text().splitlines()) == 2


def test_urls_use_the_advertised_host_from_config(tmp_path: Path) -> None:
    cfg = FileServer(advertised_host="192.0.2.10", ftp_user="lab user", ftp_password="p@ss:w")
    srv = LabFileServer.from_config(cfg, tmp_path / "root", tmp_path / "j.jsonl")
    srv.start()
    try:
        h, f = srv.http_port, srv.ftp_port
        assert srv.http_url("fw/a b.bin") == f"http://192.0.2.10:{h}/fw/a%20b.bin"
        creds = "lab%20user:p%40ss%3Aw"
        assert srv.ftp_url("fw.bin") == f"ftp://{creds}@192.0.2.10:{f}/fw.bin"
        assert srv.upload_url("diag/x") == f"ftp://{creds}@192.0.2.10:{f}/uploads/diag/x/"
        assert (srv.root / "uploads" / "diag" / "x").is_dir()
        with pytest.raises(ValueError, match="escapes"):
            srv.upload_url("../../etc")
        wrong = urlsplit(srv.wrong_login_ftp_url())
        assert unquote(wrong.password or "") != "p@ss:w"
        # the server still listens on the configured host; logging in with the real
        # credentials works there, and PASV replies name the advertised host
        ftp = ftplib.FTP()
        ftp.connect("127.0.0.1", f, timeout=5)
        ftp.login("lab user", "p@ss:w")
        assert "192,0,2,10" in ftp.sendcmd("PASV")
        ftp.quit()
    finally:
        srv.stop()
