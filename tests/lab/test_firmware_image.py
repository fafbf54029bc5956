"""The lab's test firmware image format: good images parse, damaged ones say why not."""

from __future__ import annotations

import hashlib

import pytest

from hil.lab.firmware_image import (
    FirmwareImageError,
    build_corrupt_image,
    build_image,
    image_file_name,
    parse_image,
    write_test_images,
)


def test_round_trip_default_payload() -> None:
    data = build_image("2.1.0-hil")
    image = parse_image(data)
    assert image.version == "2.1.0-hil"
    assert len(image.payload) > 0
    assert data.startswith(b"HILFW/1\nversion=2.1.0-hil\n")
    assert image.sha256 == hashlib.sha256(image.payload).hexdigest()


def test_round_trip_custom_payload_with_blank_lines() -> None:
    payload = b"\n\nbinary\x00\xff\n\n" * 10
    image = parse_image(build_image("v3", payload))
    assert image.payload == payload
    assert image.version == "v3"


def test_empty_payload_is_valid() -> None:
    assert parse_image(build_image("v0", b"")).payload == b""


def test_images_of_one_version_are_identical_and_differ_across_versions() -> None:
    assert build_image("1.0") == build_image("1.0")
    assert parse_image(build_image("1.0")).payload != parse_image(build_image("1.1")).payload


def test_corrupt_image_fails_on_checksum() -> None:
    data = build_corrupt_image("2.0")
    assert len(data) == len(build_image("2.0"))
    with pytest.raises(FirmwareImageError, match="checksum mismatch"):
        parse_image(data)


def test_truncated_image_fails_on_size() -> None:
    data = build_image("2.0")
    with pytest.raises(FirmwareImageError, match="size mismatch: header says 4096 bytes"):
        parse_image(data[:-10])
    with pytest.raises(FirmwareImageError, match="size mismatch"):
        parse_image(data + b"extra")


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "no header terminator"),
        (b"\x7fELF" + b"\x00" * 100, "no header terminator"),
        (b"HILFW/2\nversion=1\nsize=0\nsha256=" + b"0" * 64 + b"\n\n", "magic"),
        (b"HILFW/1\nversion=1\nsize=0\n\n", "missing field"),
        (b"HILFW/1\nversion=1\nsize=-1\nsha256=" + b"0" * 64 + b"\n\n", "not a byte count"),
        (b"HILFW/1\nversion=1\nsize=0\nsha256=xyz\n\n", "not a hex digest"),
        (b"HILFW/1\nversion=1\nversion=2\nsize=0\n\n", "appears twice"),
        (b"HILFW/1\njunk\n\n", "malformed line"),
    ],
)
def test_bad_headers_are_rejected_with_a_reason(data: bytes, reason: str) -> None:
    with pytest.raises(FirmwareImageError, match="bad header") as excinfo:
        parse_image(data)
    assert reason in str(excinfo.value)


@pytest.mark.parametrize("version", ["", "x" * 51, "1.0\n2", "a=b", "versión"])
def test_invalid_versions_are_refused(version: str) -> None:
    with pytest.raises(FirmwareImageError, match="version"):
        build_image(version)


def test_write_test_images(tmp_path) -> None:
    paths = write_test_images(tmp_path / "fw", "9.9.9 beta/1")
    assert set(paths) == {"good", "corrupt"}
    assert paths["good"].name == image_file_name("9.9.9 beta/1") == "hil-fw-9.9.9_beta_1.bin"
    assert paths["corrupt"].name == "hil-fw-9.9.9_beta_1-corrupt.bin"
    assert parse_image(paths["good"].read_bytes()).version == "9.9.9 beta/1"
    with pytest.raises(FirmwareImageError, match="checksum mismatch"):
        parse_image(paths["corrupt"].read_bytes())
