"""Signature checking: every curve, every encoding real meters use, and the curve orders."""

from __future__ import annotations

import base64
import json

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from hil.verify.ocmf import SignatureStatus, parse_record, tamper_signature, verify_signature
from hil.verify.ocmf._der import encode_signature
from hil.verify.ocmf.curves import CURVES, parse_algorithm
from tests.verify._ocmf_helpers import good_session, replace_signature_section, signer

CHECKABLE = [name for name, c in CURVES.items() if c.checkable]


def _sign(curve: str, payload: str, hash_algorithm: hashes.HashAlgorithm) -> tuple[int, int, str]:
    meter = signer(curve)
    der = meter._key.sign(payload.encode(), ec.ECDSA(hash_algorithm))  # noqa: SLF001
    r, s = decode_dss_signature(der)
    return r, s, meter.public_key_hex


def _section(**fields: str) -> str:
    return json.dumps(fields, separators=(",", ":"))


def _payload(record: str) -> str:
    return parse_record(record).record.payload_text


def test_cryptography_checks_every_curve_but_secp192k1() -> None:
    assert set(CHECKABLE) == set(CURVES) - {"secp192k1"}


@pytest.mark.parametrize("curve", CHECKABLE)
def test_each_curve_verifies_and_a_flipped_byte_fails(curve: str) -> None:
    session = good_session(curve)
    for text in (session.begin, session.end):
        record = parse_record(text).record
        assert verify_signature(record, session.meter.public_key_hex).valid
        for index in (-1, 8, 20):
            bad = parse_record(tamper_signature(text, index)).record
            verdict = verify_signature(bad, session.meter.public_key_hex)
            assert verdict.status is SignatureStatus.INVALID, (curve, index)


@pytest.mark.parametrize("curve", CHECKABLE)
def test_the_curve_order_is_right_because_the_high_s_twin_verifies(curve: str) -> None:
    payload = _payload(good_session(curve).begin)
    r, s, key = _sign(curve, payload, hashes.SHA256())
    n = CURVES[curve].order
    low, high = min(s, n - s), max(s, n - s)
    algorithm = f"ECDSA-{curve}-SHA256"
    for value, expect_high in ((low, False), (high, True)):
        sd = encode_signature(r, value).hex().upper()
        text = f"OCMF|{payload}|" + json.dumps({"SA": algorithm, "SD": sd}, separators=(",", ":"))
        verdict = verify_signature(parse_record(text).record, key)
        assert verdict.valid, verdict.detail
        assert ("HighSSignature" in {d.kind for d in verdict.deviations}) is expect_high


def test_a_payload_changed_by_one_digit_does_not_verify() -> None:
    session = good_session()
    tampered = session.end.replace('"RV":13.790', '"RV":13.791')
    assert tampered != session.end
    verdict = verify_signature(parse_record(tampered).record, session.meter.public_key_hex)
    assert verdict.status is SignatureStatus.INVALID


@pytest.mark.parametrize("curve", ["secp256r1", "secp384r1", "brainpool384r1"])
def test_raw_r_s_in_hex_and_base64(curve: str) -> None:
    session = good_session(curve)
    payload = _payload(session.begin)
    r, s, key = _sign(curve, payload, hashes.SHA256())
    size = CURVES[curve].size
    raw = r.to_bytes(size, "big") + s.to_bytes(size, "big")
    sa = f"ECDSA-{curve}-SHA256"
    hex_text = f'OCMF|{payload}|{{"SA":"{sa}","SD":"{raw.hex()}"}}'
    b64 = base64.b64encode(raw).decode()
    b64_text = f'OCMF|{payload}|{{"SA":"{sa}","SE":"base64","SD":"{b64}"}}'
    for text in (hex_text, b64_text):
        verdict = verify_signature(parse_record(text).record, key)
        assert verdict.valid, verdict.detail
        assert "RawSignatureNotDer" in {d.kind for d in verdict.deviations}


def test_base64_der_signature() -> None:
    session = good_session()
    record = parse_record(session.begin).record
    der = record.signature_bytes
    text = replace_signature_section(
        session.begin,
        _section(SA="ECDSA-secp256r1-SHA256", SE="base64", SD=base64.b64encode(der).decode()),
    )
    verdict = verify_signature(parse_record(text).record, session.meter.public_key_hex)
    assert verdict.valid and verdict.deviations == []


def test_non_canonical_der_is_accepted_and_reported() -> None:
    session = good_session()
    record = parse_record(session.begin).record
    der = record.signature_bytes
    long_form = b"\x30\x81" + der[1:]  # same content, length in long form
    text = replace_signature_section(
        session.begin, _section(SA="ECDSA-secp256r1-SHA256", SD=long_form.hex())
    )
    verdict = verify_signature(parse_record(text).record, session.meter.public_key_hex)
    assert verdict.valid
    assert [d.kind for d in verdict.deviations] == ["NonCanonicalDer"]


@pytest.mark.parametrize(
    ("curve", "hash_name", "hash_algorithm"),
    [
        ("secp384r1", "SHA384", hashes.SHA384()),
        ("secp256r1", "SHA512", hashes.SHA512()),
        ("brainpool384r1", "SHA384", hashes.SHA384()),
    ],
)
def test_sha384_and_sha512_where_sa_says_so(
    curve: str, hash_name: str, hash_algorithm: hashes.HashAlgorithm
) -> None:
    payload = _payload(good_session(curve).begin)
    r, s, key = _sign(curve, payload, hash_algorithm)
    sd = encode_signature(r, s).hex()
    right = f'OCMF|{payload}|{{"SA":"ECDSA-{curve}-{hash_name}","SD":"{sd}"}}'
    wrong = f'OCMF|{payload}|{{"SA":"ECDSA-{curve}-SHA256","SD":"{sd}"}}'
    assert verify_signature(parse_record(right).record, key).valid
    assert verify_signature(parse_record(wrong).record, key).status is SignatureStatus.INVALID


def test_missing_or_undecodable_sd_is_invalid_with_a_reason() -> None:
    session = good_session()
    key = session.meter.public_key_hex
    for section, reason in (
        ('{"SA":"ECDSA-secp256r1-SHA256"}', "SD is absent"),
        ('{"SD":"not hex!"}', "SD cannot be decoded"),
        ('{"SD":"30060201000201FF"}', "outside [1, n)"),
        ('{"SD":"0102030405"}', "neither DER"),
        ('{"SD":"3006020101020101"}', "does not match"),  # well-formed, just wrong
    ):
        record = parse_record(replace_signature_section(session.begin, section)).record
        verdict = verify_signature(record, key)
        assert verdict.status is SignatureStatus.INVALID
        assert reason in verdict.detail, verdict.detail


def test_algorithm_spellings() -> None:
    assert parse_algorithm("ECDSA-brainpoolP256r1-SHA256").curve is CURVES["brainpool256r1"]
    assert not parse_algorithm("ECDSA-brainpoolP256r1-SHA256").canonical_spelling
    assert parse_algorithm("ECDSA-brainpool256r1-SHA256").canonical_spelling
    assert parse_algorithm("ECDSA-secp521r1-SHA512") is None
    assert parse_algorithm("ECDSA-secp256r1-MD5") is None
    assert parse_algorithm("RSA-2048-SHA256") is None


def test_absent_sa_means_secp256r1_sha256() -> None:
    session = good_session()
    sd = parse_record(session.begin).record.signature_data_text
    record = parse_record(replace_signature_section(session.begin, f'{{"SD":"{sd}"}}')).record
    assert record.algorithm == "ECDSA-secp256r1-SHA256" and record.algorithm_text is None
    assert verify_signature(record, session.meter.public_key_hex).valid
