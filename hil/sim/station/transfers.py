"""Blocking file transfers of the virtual station: firmware downloads, diagnostics uploads.

They use real clients (urllib for HTTP, ftplib for FTP) against whatever the location
names, so the lab's file server sees exactly what a station would do. Callers run them in a
thread (``asyncio.to_thread``) so the station's loop keeps serving. Every failure becomes a
:class:`TransferError` whose message says what went wrong in a lab engineer's words.
"""

from __future__ import annotations

import ftplib
import io
import urllib.error
import urllib.request
from urllib.parse import unquote, urlsplit

#: Largest firmware image the virtual station accepts (its "flash").
MAX_IMAGE_BYTES = 16 * 1024 * 1024


class TransferError(Exception):
    """A download or upload that failed; the message says why."""


def _where(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port}" if parts.port else str(parts.hostname)


def _reason(exc: BaseException, timeout: float) -> str:
    if isinstance(exc, TimeoutError):
        return f"no answer within {timeout:g} s (timed out)"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ftplib.Error):
        return f"FTP server answered {str(exc).strip()}"
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code} {exc.reason}"
    if isinstance(exc, urllib.error.URLError):
        return _reason(exc.reason, timeout) if isinstance(exc.reason, BaseException) else str(exc)
    if isinstance(exc, OSError):
        return exc.strerror or str(exc) or type(exc).__name__
    return str(exc) or type(exc).__name__


def _ftp_session(url: str, timeout: float) -> tuple[ftplib.FTP, str]:
    parts = urlsplit(url)
    ftp = ftplib.FTP(timeout=timeout)
    try:
        ftp.connect(parts.hostname or "", parts.port or 21)
        ftp.login(unquote(parts.username or "anonymous"), unquote(parts.password or ""))
    except BaseException:
        ftp.close()
        raise
    return ftp, unquote(parts.path)


def download(url: str, timeout: float, max_bytes: int = MAX_IMAGE_BYTES) -> bytes:
    """Fetch ``url`` (http, https or ftp) whole; TransferError on any failure."""
    scheme = urlsplit(url).scheme.lower()
    try:
        if scheme in ("http", "https"):
            with urllib.request.urlopen(url, timeout=timeout) as response:
                data = response.read(max_bytes + 1)
        elif scheme == "ftp":
            ftp, path = _ftp_session(url, timeout)
            buffer = io.BytesIO()
            try:
                ftp.retrbinary(f"RETR {path}", buffer.write)
            finally:
                ftp.close()
            data = buffer.getvalue()
        else:
            raise TransferError(f"cannot download {url!r}: scheme {scheme!r} is not supported")
    except TransferError:
        raise
    except Exception as exc:
        raise TransferError(f"download from {_where(url)} failed: {_reason(exc, timeout)}") from exc
    if len(data) > max_bytes:
        raise TransferError(f"download from {_where(url)} is larger than {max_bytes} bytes")
    return data


def upload(directory_url: str, file_name: str, data: bytes, timeout: float) -> str:
    """Store ``data`` as ``file_name`` in the ftp:// directory ``directory_url``.

    Returns the remote path. TransferError on any failure, e.g. a refused login (530) or
    a full disk (452).
    """
    scheme = urlsplit(directory_url).scheme.lower()
    if scheme != "ftp":
        raise TransferError(
            f"cannot upload to {directory_url!r}: scheme {scheme!r} is not supported (ftp only)"
        )
    where = _where(directory_url)
    try:
        ftp, directory = _ftp_session(directory_url, timeout)
        try:
            remote = directory.rstrip("/") + "/" + file_name
            ftp.storbinary(f"STOR {remote}", io.BytesIO(data))
        finally:
            ftp.close()
    except Exception as exc:
        raise TransferError(f"upload to {where} failed: {_reason(exc, timeout)}") from exc
    return remote
