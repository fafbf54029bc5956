"""Check an OCMF record's signature against a meter key.

ECDSA over the hash ``SA`` names (SHA-256 by default) of ``record.payload_bytes`` --
the payload section exactly as written. ``SD`` may be DER (also non-canonical DER,
which is reported) or a bare ``r‖s`` (reported too), hex or base64 per ``SE``.

Four outcomes, kept apart on purpose: the signature is good, it is bad, there was no
key, or it could not be checked here (a curve ``cryptography`` lacks). Only the second
is the station's fault.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec

from hil.verify.ocmf._der import DerError, encode_signature, parse_signature
from hil.verify.ocmf.curves import Algorithm, parse_algorithm
from hil.verify.ocmf.keys import KeyFormatError, MeterKey, load_public_key
from hil.verify.ocmf.model import Deviation, OcmfRecord


class SignatureStatus(enum.StrEnum):
    VALID = "valid"
    INVALID = "invalid"
    NO_KEY = "no key"
    CANNOT_CHECK = "cannot check"


@dataclass(frozen=True)
class SignatureVerdict:
    """What checking one record's signature found."""

    status: SignatureStatus
    detail: str
    algorithm: str | None = None
    key_form: str | None = None
    deviations: list[Deviation] = field(default_factory=list)  # found while checking

    @property
    def valid(self) -> bool:
        return self.status is SignatureStatus.VALID


def verify_signature(
    record: OcmfRecord, key: MeterKey | str | bytes | ec.EllipticCurvePublicKey | None
) -> SignatureVerdict:
    """Verify ``record``'s signature with ``key`` (any shape :func:`load_public_key` reads).

    Never raises for bad input: an unreadable key, a wrong curve, an unknown algorithm
    or an undecodable signature is an INVALID verdict with the reason in ``detail``.
    """
    try:
        return _verify(record, key)
    except Exception as exc:  # pragma: no cover - a bug must not escape as a crash
        return SignatureVerdict(SignatureStatus.INVALID, f"internal error while verifying: {exc!r}")


def _verify(
    record: OcmfRecord, key: MeterKey | str | bytes | ec.EllipticCurvePublicKey | None
) -> SignatureVerdict:
    invalid = SignatureStatus.INVALID
    algorithm = parse_algorithm(record.algorithm or "") if record.algorithm else None
    if algorithm is None:
        shown = record.algorithm_text if record.algorithm_text is not None else record.algorithm
        return SignatureVerdict(invalid, f"SA {shown!r} is not a signature algorithm OCMF defines")
    if key is None or (isinstance(key, str | bytes) and not key.strip()):
        return SignatureVerdict(
            SignatureStatus.NO_KEY, "no public key to check against", algorithm.name
        )
    try:
        meter_key = _as_meter_key(key, algorithm)
    except (KeyFormatError, ValueError) as exc:
        return SignatureVerdict(invalid, f"public key unusable: {exc}", algorithm.name)
    if meter_key.curve != algorithm.curve:
        return SignatureVerdict(
            invalid,
            f"key is on {meter_key.curve.name if meter_key.curve else '?'} "
            f"but SA says {algorithm.curve.name}",
            algorithm.name,
            meter_key.form,
        )
    if record.signature_bytes is None:
        reason = "SD is absent" if record.signature_data_text is None else "SD cannot be decoded"
        return SignatureVerdict(invalid, reason, algorithm.name, meter_key.form)

    found: list[Deviation] = []
    scalars = _scalars(record, algorithm, found)
    if isinstance(scalars, str):
        return SignatureVerdict(invalid, scalars, algorithm.name, meter_key.form, found)
    r, s = scalars
    n = algorithm.curve.order
    if not (0 < r < n and 0 < s < n):
        return SignatureVerdict(
            invalid,
            "r or s lies outside [1, n): no signer produced this",
            algorithm.name,
            meter_key.form,
            found,
        )
    if s > n // 2:
        found.append(Deviation("HighSSignature", "signature.SD", "s > n/2"))

    if not algorithm.curve.checkable:
        return SignatureVerdict(
            SignatureStatus.CANNOT_CHECK,
            f"curve {algorithm.curve.name} is not supported by this verifier (cryptography)",
            algorithm.name,
            meter_key.form,
            found,
        )
    try:
        public = meter_key.to_cryptography()
    except ValueError as exc:
        return SignatureVerdict(
            invalid, f"public key unusable: {exc}", algorithm.name, meter_key.form, found
        )
    try:
        public.verify(encode_signature(r, s), record.payload_bytes, ec.ECDSA(algorithm.hash()))
    except InvalidSignature:
        return SignatureVerdict(
            invalid,
            "signature does not match the payload and key",
            algorithm.name,
            meter_key.form,
            found,
        )
    return SignatureVerdict(
        SignatureStatus.VALID,
        f"{algorithm.name} signature verifies ({meter_key.form} key)",
        algorithm.name,
        meter_key.form,
        found,
    )


def _as_meter_key(
    key: MeterKey | str | bytes | ec.EllipticCurvePublicKey, algorithm: Algorithm
) -> MeterKey:
    if isinstance(key, ec.EllipticCurvePublicKey):
        from hil.verify.ocmf.keys import key_from_cryptography

        return key_from_cryptography(key)
    if isinstance(key, MeterKey):
        return key.on_curve(algorithm.curve)
    return load_public_key(key, algorithm.curve)


def _scalars(
    record: OcmfRecord, algorithm: Algorithm, found: list[Deviation]
) -> tuple[int, int] | str:
    """(r, s) from SD, noting a non-canonical DER or a bare r||s; a reason when neither."""
    data = record.signature_bytes or b""
    size = algorithm.curve.size
    try:
        der, trailing = parse_signature(data)
    except DerError as exc:
        der, trailing, der_error = None, False, str(exc)
    else:
        der_error = ""
    if der is not None and not trailing:
        if not der.canonical:
            found.append(Deviation("NonCanonicalDer", "signature.SD"))
        return der.r, der.s
    if len(data) == 2 * size:
        found.append(Deviation("RawSignatureNotDer", "signature.SD", f"{len(data)}-byte r||s"))
        return int.from_bytes(data[:size], "big"), int.from_bytes(data[size:], "big")
    if der is not None:
        found.append(Deviation("NonCanonicalDer", "signature.SD", "bytes after the SEQUENCE"))
        return der.r, der.s
    return f"SD is neither DER ({der_error}) nor a {2 * size}-byte r||s"
