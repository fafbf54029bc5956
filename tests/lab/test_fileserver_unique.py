"""The lab file server never deletes or overwrites an upload it received earlier.

A second upload under a taken name is kept under a unique name (``name.1``, ``name.2``...),
a failed one (full disk, aborted) leaves the earlier file as it was, and the journal records
where each upload's bytes are stored. A run started in an output folder used before begins
with an empty journal; the earlier run's uploads are set aside, not deleted.
Real FTP uploads (ftplib) over loopback.
"""

from __future__ import annotations

import ftplib
import hashlib
import io
import json
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from hil.lab.fileserver import LabFileServer, Transfer

GOOD = b"good diagnostics\n" * 500
SECOND = b"second diagnostics\n" * 300
pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LabFileServer]:
    srv = LabFileServer(tmp_path / "files", tmp_path / "transfers.jsonl")
    srv.start()
    yield srv
    srv.stop()


def ftp_login(url: str) -> tuple[ftplib.FTP, str]:
    parts = urlsplit(url)
    ftp = ftplib.FTP()
    ftp.connect(parts.hostname, parts.port, timeout=5)
    ftp.login(unquote(parts.username or ""), unquote(parts.password or ""))
    return ftp, unquote(parts.path)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def upload(server: LabFileServer, name: str, data: bytes) -> Transfer:
    mark = len(server.transfers())
    ftp, path = ftp_login(server.upload_url())
    try:
        assert ftp.storbinary(f"STOR {path}{name}", io.BytesIO(data)).startswith("226")
    finally:
        ftp.quit()
    return server.wait_for_transfer(lambda t: t.kind == "upload", timeout=5, after=mark)


def diagnostics(server: LabFileServer) -> dict[str, bytes]:
    folder = server.uploads_dir / "diagnostics"
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_same_name_again_is_stored_under_a_unique_name(server: LabFileServer) -> None:
    first = upload(server, "diag.zip", GOOD)
    second = upload(server, "diag.zip", SECOND)
    third = upload(server, "diag.zip", b"third")
    assert diagnostics(server) == {"diag.zip": GOOD, "diag.zip.1": SECOND, "diag.zip.2": b"third"}
    assert [t.path for t in (first, second, third)] == ["uploads/diagnostics/diag.zip"] * 3
    assert [t.stored_path for t in (first, second, third)] == [
        "uploads/diagnostics/diag.zip",
        "uploads/diagnostics/diag.zip.1",
        "uploads/diagnostics/diag.zip.2",
    ]
    assert (second.ok, second.size, second.sha256) == (True, len(SECOND), sha(SECOND))
    assert "stored as uploads/diagnostics/diag.zip.1" in second.describe()
    journal = [json.loads(line) for line in server.journal_path.read_text().splitlines()]
    assert [r["stored_path"] for r in journal] == [t.stored_path for t in (first, second, third)]


def test_full_disk_upload_with_a_taken_name_keeps_the_good_file(server: LabFileServer) -> None:
    upload(server, "diag.zip", GOOD)
    server.upload_quota_bytes = len(GOOD) + 100
    ftp, path = ftp_login(server.upload_url())
    with pytest.raises(ftplib.error_temp, match="^452"):
        ftp.storbinary(f"STOR {path}diag.zip", io.BytesIO(SECOND))
    ftp.quit()
    t = server.wait_for_transfer(lambda t: not t.ok, timeout=5)
    assert t.path == "uploads/diagnostics/diag.zip" and t.stored_path is None
    assert diagnostics(server) == {"diag.zip": GOOD}  # the good one, and no partial file


def test_aborted_upload_with_a_taken_name_keeps_the_good_file(server: LabFileServer) -> None:
    upload(server, "diag.zip", GOOD)
    ftp, path = ftp_login(server.upload_url())
    ftp.voidcmd("TYPE I")
    data = ftp.transfercmd(f"STOR {path}diag.zip")
    data.sendall(b"partial " * 1000)
    time.sleep(0.2)  # let the server write what was sent
    ftp.close()  # the station goes away mid-upload: the control connection drops first
    time.sleep(0.2)
    data.close()
    t = server.wait_for_transfer(lambda t: not t.ok, timeout=5)
    assert "aborted" in (t.error or ""), t.error
    assert t.stored_path is None
    assert diagnostics(server) == {"diag.zip": GOOD}


def test_refused_upload_with_a_taken_name_keeps_the_good_file(server: LabFileServer) -> None:
    upload(server, "diag.zip", GOOD)
    parts = urlsplit(server.wrong_login_ftp_url("uploads/diagnostics/"))
    ftp = ftplib.FTP()
    ftp.connect(parts.hostname, parts.port, timeout=5)
    with pytest.raises(ftplib.error_perm, match="^530"):
        ftp.login(unquote(parts.username or ""), unquote(parts.password or ""))
    ftp.close()
    server.wait_for_transfer(lambda t: t.kind == "login", timeout=5)
    assert diagnostics(server) == {"diag.zip": GOOD}


def test_failed_append_restores_the_earlier_file(server: LabFileServer) -> None:
    upload(server, "log.txt", GOOD)
    server.upload_quota_bytes = len(GOOD) + 64 * 1024  # some chunks fit, then "disk full"
    ftp, path = ftp_login(server.upload_url())
    with pytest.raises(ftplib.error_temp, match="^452"):
        ftp.storbinary(f"APPE {path}log.txt", io.BytesIO(b"x" * 1_000_000), blocksize=8192)
    ftp.quit()
    assert diagnostics(server) == {"log.txt": GOOD}


def test_successful_append_extends_the_file_in_place(server: LabFileServer) -> None:
    upload(server, "log.txt", b"one\n")
    ftp, path = ftp_login(server.upload_url())
    ftp.storbinary(f"APPE {path}log.txt", io.BytesIO(b"two\n"))
    ftp.quit()
    t = server.wait_for_transfer(lambda t: t.kind == "upload", timeout=5, after=1)
    assert t.ok and t.stored_path == "uploads/diagnostics/log.txt"
    assert diagnostics(server) == {"log.txt": b"one\ntwo\n"}


def test_a_new_run_in_a_used_folder_starts_fresh(tmp_path: Path) -> None:
    root, journal = tmp_path / "files", tmp_path / "transfers.jsonl"
    first_run = LabFileServer(root, journal)
    first_run.start()
    try:
        upload(first_run, "diag.zip", GOOD)
    finally:
        first_run.stop()
    assert len(journal.read_text().splitlines()) == 1

    second_run = LabFileServer(root, journal)
    second_run.start()
    try:
        assert journal.read_text() == ""  # truncated at the start of the run
        t = upload(second_run, "diag.zip", SECOND)
        assert t.stored_path == "uploads/diagnostics/diag.zip"  # not diag.zip.1
        assert diagnostics(second_run) == {"diag.zip": SECOND}
        # restarting within the run keeps its uploads and appends to its journal
        second_run.stop()
        second_run.start()
        assert diagnostics(second_run) == {"diag.zip": SECOND}
        upload(second_run, "other.zip", b"other")
    finally:
        second_run.stop()
    assert len(journal.read_text().splitlines()) == 2
    # the first run's upload is set aside, not deleted
    [earlier] = [p for p in root.iterdir() if p.name.startswith("uploads.before-")]
    assert (earlier / "diagnostics" / "diag.zip").read_bytes() == GOOD
