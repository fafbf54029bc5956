"""The lab's test firmware image format, so a firmware update can succeed or fail on purpose.

Steps 18 and 19 need an image the station accepts and one it must refuse. Real images are
vendor formats the lab cannot make, so the lab uses its own small format; the virtual station
parses it with :func:`parse_image` to decide Installed vs InstallationFailed and to learn the
new firmware version. Layout (ASCII header, one field per line, blank line, then payload)::

    HILFW/1
    version=<firmware version>
    size=<payload length in bytes>
    sha256=<hex digest of the payload>

    <payload bytes>
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

MAGIC = b"HILFW/1"
#: OCPP 1.6 BootNotification.firmwareVersion is a CiString50.
MAX_VERSION_LENGTH = 50
_MAX_HEADER_BYTES = 1024
_FIELDS = ("version", "size", "sha256")


class FirmwareImageError(ValueError):
    """An image that must not be installed; the message says why."""


@dataclass(frozen=True)
class FirmwareImage:
    """A parsed, verified image."""

    version: str
    payload: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.payload).hexdigest()


def _check_version(version: str) -> str:
    if not version or len(version) > MAX_VERSION_LENGTH:
        raise FirmwareImageError(
            f"version {version!r} must be 1-{MAX_VERSION_LENGTH} characters (OCPP CiString50)"
        )
    if not version.isprintable() or "=" in version or not version.isascii():
        raise FirmwareImageError(f"version {version!r} must be printable ASCII without '='")
    return version


def default_payload(version: str) -> bytes:
    """Deterministic filler payload (a few KiB) so images of one version are identical."""
    line = f"HIL lab test firmware {version}\n".encode()
    return (line * (4096 // len(line) + 1))[:4096]


def _header(version: str, payload: bytes, digest: str) -> bytes:
    lines = [MAGIC, f"version={version}".encode(), f"size={len(payload)}".encode()]
    lines.append(f"sha256={digest}".encode())
    return b"\n".join(lines) + b"\n\n"


def build_image(version: str, payload: bytes | None = None) -> bytes:
    """A valid image carrying ``version``; installing it must succeed."""
    _check_version(version)
    body = default_payload(version) if payload is None else payload
    return _header(version, body, hashlib.sha256(body).hexdigest()) + body


def build_corrupt_image(version: str) -> bytes:
    """An image whose payload does not match its checksum; installing it must fail."""
    _check_version(version)
    body = default_payload(version)
    digest = hashlib.sha256(body).hexdigest()
    damaged = bytes([body[0] ^ 0xFF]) + body[1:]  # same size, one byte flipped
    return _header(version, damaged, digest) + damaged


def parse_image(data: bytes) -> FirmwareImage:
    """Verify an image and return its version and payload, or raise FirmwareImageError."""
    end = data.find(b"\n\n", 0, _MAX_HEADER_BYTES)
    if end < 0:
        raise FirmwareImageError("bad header: no header terminator (not a HILFW image)")
    lines = data[:end].split(b"\n")
    if lines[0] != MAGIC:
        raise FirmwareImageError(f"bad header: magic is {lines[0][:16]!r}, expected {MAGIC!r}")
    fields: dict[str, str] = {}
    for raw in lines[1:]:
        try:
            key, value = raw.decode("ascii").split("=", 1)
        except (UnicodeDecodeError, ValueError):
            raise FirmwareImageError(f"bad header: malformed line {raw[:40]!r}") from None
        if key in fields:
            raise FirmwareImageError(f"bad header: field {key!r} appears twice")
        fields[key] = value
    missing = [name for name in _FIELDS if name not in fields]
    if missing:
        raise FirmwareImageError(f"bad header: missing field(s) {', '.join(missing)}")
    version = _check_version(fields["version"])
    if not re.fullmatch(r"[0-9]{1,12}", fields["size"]):
        raise FirmwareImageError(f"bad header: size {fields['size']!r} is not a byte count")
    if not re.fullmatch(r"[0-9a-f]{64}", fields["sha256"]):
        raise FirmwareImageError(f"bad header: sha256 {fields['sha256']!r} is not a hex digest")
    payload = data[end + 2 :]
    size = int(fields["size"])
    if len(payload) != size:
        raise FirmwareImageError(
            f"size mismatch: header says {size} bytes, payload has {len(payload)}"
        )
    actual = hashlib.sha256(payload).hexdigest()
    if actual != fields["sha256"]:
        raise FirmwareImageError(
            f"checksum mismatch: header sha256 {fields['sha256']}, payload sha256 {actual}"
        )
    return FirmwareImage(version=version, payload=payload)


def image_file_name(version: str, corrupt: bool = False) -> str:
    """File name for a test image; the version is made safe for a path and a URL."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", _check_version(version))
    return f"hil-fw-{safe}{'-corrupt' if corrupt else ''}.bin"


def write_test_images(directory: Path, new_version: str) -> dict[str, Path]:
    """Write a good and a corrupt image of ``new_version`` into the served directory.

    Returns ``{"good": path, "corrupt": path}``.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    good = directory / image_file_name(new_version)
    corrupt = directory / image_file_name(new_version, corrupt=True)
    good.write_bytes(build_image(new_version))
    corrupt.write_bytes(build_corrupt_image(new_version))
    return {"good": good, "corrupt": corrupt}
