"""Meter keys in every shape they arrive in, and the ones that must be refused."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from hil.verify.ocmf import (
    KeyFormatError,
    SignatureStatus,
    load_public_key,
    oca_public_key,
    parse_record,
    verify_signature,
)
from hil.verify.ocmf.curves import CURVES
from tests.verify._ocmf_helpers import good_session

SECP192K1_SPKI = (
    "3046301006072A8648CE3D020106052B8104001F033200044181F41532330EB91E3FF3E712AAA7C431BC"
    "58A932F5A93B5392B2D1F3A57964B79579C29929054F692D8DE627B8EB6D"
)


def _shapes(curve: str) -> tuple[str, dict[str, str]]:
    """The SPKI hex of a fresh meter and the same key in every supported shape."""
    session = good_session(curve)
    public = session.meter._key.public_key()  # noqa: SLF001 - test reaches the key on purpose
    spki_hex = session.meter.public_key_hex
    der = bytes.fromhex(spki_hex)
    point = public.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    compressed = public.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint
    )
    pem = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    shapes = {
        "hex SPKI": spki_hex,
        "lower hex with spaces": " ".join(
            spki_hex[i : i + 4].lower() for i in range(0, len(spki_hex), 4)
        ),
        "base64 SPKI": base64.b64encode(der).decode(),
        "PEM": pem,
        "oca plain": f"oca:base16:asn1:{spki_hex}",
        "oca in base64 (OCA note)": oca_public_key(spki_hex),
        "oca base64 content": "oca:base64:asn1:" + base64.b64encode(der).decode(),
        "base64 over hex (OCA example)": base64.b64encode(spki_hex.encode()).decode(),
        "SEC1 point": point.hex(),
        "bare X||Y": point[1:].hex(),
        "compressed point": compressed.hex(),
    }
    return spki_hex, shapes


@pytest.mark.parametrize("curve", ["secp256r1", "brainpool256r1", "secp384r1", "brainpool384r1"])
def test_every_key_shape_verifies_a_real_record(curve: str) -> None:
    spki_hex, shapes = _shapes(curve)
    session = good_session(curve)
    record = parse_record(session.begin).record
    assert record is not None
    for name, text in shapes.items():
        verdict = verify_signature(record, text)
        assert verdict.status is SignatureStatus.VALID, (name, verdict.detail)
        key = load_public_key(text, CURVES[curve])
        assert key.curve is CURVES[curve], name
        if "compressed" not in name:
            assert key.spki_hex == spki_hex, name


def test_a_bare_point_takes_its_curve_from_sa() -> None:
    _, shapes = _shapes("brainpool256r1")
    key = load_public_key(shapes["bare X||Y"])
    assert key.curve is None  # 64 bytes could be any 256-bit curve
    record = parse_record(good_session("brainpool256r1").begin).record
    assert verify_signature(record, key).status is SignatureStatus.VALID


def test_a_key_on_another_curve_is_a_clear_failure() -> None:
    record = parse_record(good_session("secp256r1").begin).record
    other = good_session("secp384r1").meter.public_key_hex
    verdict = verify_signature(record, other)
    assert verdict.status is SignatureStatus.INVALID
    assert verdict.detail == "key is on secp384r1 but SA says secp256r1"
    brainpool = good_session("brainpool256r1").meter.public_key_hex
    assert "brainpool256r1" in verify_signature(record, brainpool).detail


def test_a_right_curve_wrong_meter_key_does_not_verify() -> None:
    record = parse_record(good_session().begin).record
    stranger = ec.generate_private_key(ec.SECP256R1())
    verdict = verify_signature(record, stranger.public_key())
    assert verdict.status is SignatureStatus.INVALID
    assert "does not match" in verdict.detail


def test_a_bare_point_of_the_wrong_size_for_sa_is_refused() -> None:
    _, shapes = _shapes("secp384r1")
    record = parse_record(good_session("secp256r1").begin).record
    verdict = verify_signature(record, shapes["bare X||Y"])
    assert verdict.status is SignatureStatus.INVALID
    assert "does not fit curve secp256r1" in verdict.detail


def test_secp192k1_is_read_but_cannot_be_checked() -> None:
    key = load_public_key(SECP192K1_SPKI)
    assert key.curve is CURVES["secp192k1"]
    assert not key.curve.checkable
    with pytest.raises(ValueError, match="cannot be checked"):
        key.to_cryptography()


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("zz-not-a-key", "unreadable public key"),
        ("3059", "unreadable public key"),
        ("oca:base16:x509:3059", "only asn1"),
        ("oca:rot13:asn1:abc", "not base16 or base64"),
        ("00" * 33, "unreadable public key"),
    ],
)
def test_unreadable_keys_raise_a_key_format_error(text: str, reason: str) -> None:
    with pytest.raises(KeyFormatError, match=reason):
        load_public_key(text)


def test_an_rsa_key_is_not_a_meter_key() -> None:
    rsa_der = (
        rsa.generate_private_key(public_exponent=65537, key_size=1024)
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    with pytest.raises(KeyFormatError, match="not an EC key"):
        load_public_key(rsa_der.hex())
    record = parse_record(good_session().begin).record
    verdict = verify_signature(record, rsa_der.hex())
    assert verdict.status is SignatureStatus.INVALID and "not an EC key" in verdict.detail


def test_a_point_not_on_the_curve_is_refused_at_verification() -> None:
    spki_hex, _ = _shapes("secp256r1")
    broken = spki_hex[:-2] + ("00" if spki_hex[-2:] != "00" else "01")
    record = parse_record(good_session().begin).record
    verdict = verify_signature(record, broken)
    assert verdict.status is SignatureStatus.INVALID
    assert "public key unusable" in verdict.detail


def test_no_key_is_its_own_outcome() -> None:
    record = parse_record(good_session().begin).record
    for nothing in (None, "", "   "):
        assert verify_signature(record, nothing).status is SignatureStatus.NO_KEY
