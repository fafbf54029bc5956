"""What a diagnostics file is: a readable archive (tar, tar.gz/bz2/xz, zip, gzip), plain
text, or something that looks like an archive and cannot be read.

OCPP fixes no format for the diagnostics file (1.6 §5.9 GetDiagnostics; 2.0.1 N01 GetLog):
the lab names what it received so a person can tell a truncated or mislabelled upload from
a good one. Only the standard library is used (``tarfile``, ``zipfile``, ``gzip``, ``bz2``,
``lzma``).
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import tarfile
import zipfile
import zlib
from dataclasses import dataclass

#: name endings that promise an archive (or a compressed file)
ARCHIVE_SUFFIXES = (
    ".tar.gz",
    ".tgz",
    ".tar.bz2",
    ".tbz2",
    ".tar.xz",
    ".txz",
    ".tar",
    ".zip",
    ".gz",
    ".bz2",
    ".xz",
)

_GZIP = b"\x1f\x8b"
_BZIP2 = b"BZh"
_XZ = b"\xfd7zXZ\x00"
_ZIP = (b"PK\x03\x04", b"PK\x05\x06")


@dataclass(frozen=True)
class FileKind:
    #: what the file is, e.g. "a readable tar.gz archive with 3 members"
    what: str
    #: False when the file is, or is named as, an archive (or compressed file) that cannot
    #: be read whole; plain text or an unknown format not named as an archive stays True
    readable: bool


def _suffix(name: str) -> str | None:
    lower = name.lower()
    return next((s for s in ARCHIVE_SUFFIXES if lower.endswith(s)), None)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _tar_members(data: bytes, mode: str) -> int:
    with tarfile.open(fileobj=io.BytesIO(data), mode=mode) as tar:
        return len(tar.getmembers())


def _decompress(data: bytes, kind: str) -> bytes:
    if kind == "gzip":
        return gzip.decompress(data)
    if kind == "bzip2":
        return bz2.decompress(data)
    return lzma.decompress(data)


def _compressed(data: bytes, kind: str, short: str) -> FileKind:
    size = len(data)
    try:
        raw = _decompress(data, kind)
    except EOFError:
        return FileKind(f"not a readable archive: {kind} data truncated after {size} bytes", False)
    except (OSError, zlib.error, lzma.LZMAError, ValueError) as exc:
        return FileKind(f"not a readable archive: {kind} data corrupt ({exc})", False)
    try:
        members = _tar_members(raw, "r:")
    except tarfile.TarError:
        return FileKind(
            f"a readable {kind} file ({size} bytes, {len(raw)} bytes uncompressed), not a tar "
            "archive",
            True,
        )
    return FileKind(f"a readable tar.{short} archive with {_plural(members, 'member')}", True)


def describe(name: str, data: bytes) -> FileKind:
    """What ``data`` (uploaded as ``name``) is, by its first bytes, not by its name."""
    size = len(data)
    suffix = _suffix(name)
    if not data:
        return FileKind("an empty file", suffix is None)
    if data.startswith(_GZIP):
        return _compressed(data, "gzip", "gz")
    if data.startswith(_BZIP2):
        return _compressed(data, "bzip2", "bz2")
    if data.startswith(_XZ):
        return _compressed(data, "xz", "xz")
    if data.startswith(_ZIP):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                bad = archive.testzip()
                count = len(archive.infolist())
        except (zipfile.BadZipFile, EOFError, OSError, zlib.error) as exc:
            return FileKind(f"not a readable archive: zip data unreadable ({exc})", False)
        if bad is not None:
            return FileKind(f"not a readable archive: zip member {bad} is corrupt", False)
        return FileKind(f"a readable zip archive with {_plural(count, 'member')}", True)
    if data[257:262] == b"ustar":
        try:
            members = _tar_members(data, "r:")
        except tarfile.TarError as exc:
            return FileKind(f"not a readable archive: tar data unreadable ({exc})", False)
        return FileKind(f"a readable tar archive with {_plural(members, 'member')}", True)
    try:
        data.decode("utf-8")
        text = True
    except UnicodeDecodeError:
        text = False
    what = f"a text file of {size} bytes" if text else f"{size} bytes of no archive format"
    if suffix is not None:
        return FileKind(f"not a readable archive: named {suffix} but {what}", False)
    return FileKind(what, True)
