"""Meter public keys in the shapes they arrive in.

A meter key reaches the lab as: hex DER SubjectPublicKeyInfo (the usual printed form,
whitespace and all), the same in base64 or PEM, a bare SEC1 point (``04‖X‖Y``, or
compressed), a bare ``X‖Y`` with no prefix (the curve then comes from ``SA``), or the
OCA application note's ``oca:base16:asn1:<hex>`` composite -- itself usually base64
encoded inside an OCPP ``publicKey`` field or a ``MeterPublicKey[n]`` key.

The key is read without asking ``cryptography`` first, so a key on a curve it cannot
check (secp192k1) is still a key: verification then says "cannot check", not "bad".
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import ec

from hil.verify.ocmf._der import EC_PUBLIC_KEY_OID, DerError, encode_spki, parse_spki
from hil.verify.ocmf.curves import CURVES, CURVES_BY_OID, Curve, curve_of_crypto

_HEX_JUNK = re.compile(r"0x|[^0-9a-fA-F]")
_B64_CHARS = re.compile(r"[A-Za-z0-9+/=_-]+")


class KeyFormatError(ValueError):
    """A public-key text that cannot be read as a key in any known shape."""


@dataclass(frozen=True)
class MeterKey:
    """An EC public key as a curve and an encoded point; ``form`` says how it arrived."""

    curve: Curve | None  # None: a bare point whose curve the key itself does not name
    point: bytes  # SEC1 encoded: 04||X||Y, or 02/03||X when compressed
    form: str

    def on_curve(self, curve: Curve) -> MeterKey:
        """The same key with its curve named (for bare points); checks the size fits."""
        if self.curve is not None:
            return self
        _check_point(self.point, curve)
        return MeterKey(curve, self.point, self.form)

    def to_cryptography(self) -> ec.EllipticCurvePublicKey:
        """The ``cryptography`` key; raises ValueError if unsupported or not on the curve."""
        if self.curve is None:
            raise ValueError("bare point: the curve is not known")
        curve = self.curve.crypto_curve()
        if curve is None:
            raise ValueError(f"curve {self.curve.name} cannot be checked by cryptography")
        return ec.EllipticCurvePublicKey.from_encoded_point(curve, self.point)

    @property
    def spki_der(self) -> bytes:
        if self.curve is None:
            raise ValueError("bare point: the curve is not known")
        return encode_spki(self.curve.oid, self.point)

    @property
    def spki_hex(self) -> str:
        """Hex DER SubjectPublicKeyInfo, upper case -- the usual printed form."""
        return self.spki_der.hex().upper()


def key_from_cryptography(key: ec.EllipticCurvePublicKey) -> MeterKey:
    from cryptography.hazmat.primitives import serialization

    point = key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return MeterKey(curve_of_crypto(key.curve), point, "cryptography")


def load_public_key(text: str | bytes, curve_hint: Curve | str | None = None) -> MeterKey:
    """Read a public key from any of the shapes listed in the module docstring.

    ``curve_hint`` names the curve for a bare point (normally from the record's SA).
    Raises :class:`KeyFormatError` with a reason when nothing fits.
    """
    hint = CURVES.get(curve_hint) if isinstance(curve_hint, str) else curve_hint
    if isinstance(text, bytes | bytearray):
        try:
            return _from_bytes(bytes(text), hint, "binary")
        except KeyFormatError:
            text = bytes(text).decode("ascii", errors="replace")
    if not isinstance(text, str):
        raise KeyFormatError(f"a key must be text or bytes, not {type(text).__name__}")
    stripped = text.strip()
    if not stripped:
        raise KeyFormatError("the key is empty")
    if stripped.startswith("-----BEGIN"):
        return _from_pem(stripped, hint)
    if stripped.lower().startswith("oca:"):
        return _from_oca(stripped, hint)
    errors: list[str] = []
    compact = _HEX_JUNK.sub("", stripped) if _looks_hex(stripped) else None
    if compact:
        try:
            return _from_bytes(bytes.fromhex(compact), hint, "hex")
        except (ValueError, KeyFormatError) as exc:
            errors.append(f"as hex: {exc}")
    b64 = "".join(stripped.split())
    if _B64_CHARS.fullmatch(b64):
        try:
            raw = base64.b64decode(
                b64 + "=" * (-len(b64) % 4), altchars=b"-_" if "-" in b64 or "_" in b64 else None
            )
        except (binascii.Error, ValueError) as exc:
            errors.append(f"as base64: {exc}")
        else:
            if raw.lower().startswith(b"oca:"):
                return _from_oca(raw.decode("ascii", errors="replace"), hint)
            inner = raw.decode("ascii", errors="ignore").strip()
            if inner and _looks_hex(inner) and len(_HEX_JUNK.sub("", inner)) >= 64:
                try:  # base64 over hex text, as in the OCA note's own example
                    return _from_bytes(bytes.fromhex(_HEX_JUNK.sub("", inner)), hint, "base64(hex)")
                except (ValueError, KeyFormatError) as exc:
                    errors.append(f"as base64 over hex: {exc}")
            try:
                return _from_bytes(raw, hint, "base64")
            except KeyFormatError as exc:
                errors.append(f"as base64: {exc}")
    raise KeyFormatError("unreadable public key (" + "; ".join(errors or ["no known shape"]) + ")")


def _looks_hex(text: str) -> bool:
    core = text[2:] if text[:2].lower() == "0x" else text
    return bool(core) and all(c in "0123456789abcdefABCDEF \t\r\n:" for c in core)


def _from_pem(text: str, hint: Curve | None) -> MeterKey:
    body = "".join(line for line in text.splitlines() if line and not line.startswith("-----"))
    try:
        der = base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise KeyFormatError(f"PEM body is not base64: {exc}") from None
    return _from_bytes(der, hint, "pem")


def _from_oca(text: str, hint: Curve | None) -> MeterKey:
    parts = text.strip().split(":", 3)
    if len(parts) != 4 or parts[0].lower() != "oca":
        raise KeyFormatError("OCA key is not oca:<encoding>:<content-type>:<key>")
    _, encoding, content, printed = (p.strip() for p in parts)
    if content.lower() != "asn1":
        raise KeyFormatError(f"OCA content type {content!r} is not supported (only asn1)")
    if encoding.lower() == "base16":
        try:
            raw = bytes.fromhex(_HEX_JUNK.sub("", printed))
        except ValueError as exc:
            raise KeyFormatError(f"OCA base16 key is not hex: {exc}") from None
    elif encoding.lower() == "base64":
        try:
            raw = base64.b64decode("".join(printed.split()), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise KeyFormatError(f"OCA base64 key is not base64: {exc}") from None
    else:
        raise KeyFormatError(f"OCA key encoding {encoding!r} is not base16 or base64")
    return _from_bytes(raw, hint, f"oca:{encoding.lower()}:asn1")


def _from_bytes(raw: bytes, hint: Curve | None, form: str) -> MeterKey:
    if not raw:
        raise KeyFormatError("the key is empty")
    if raw[0] == 0x30:
        try:
            info = parse_spki(raw)
        except DerError as exc:
            raise KeyFormatError(f"not a SubjectPublicKeyInfo: {exc}") from None
        if info.algorithm_oid != EC_PUBLIC_KEY_OID:
            raise KeyFormatError(f"not an EC key (algorithm {info.algorithm_oid})")
        curve = CURVES_BY_OID.get(info.curve_oid or "")
        if curve is None:
            raise KeyFormatError(
                f"curve {info.curve_oid or '(explicit parameters)'} is not an OCMF curve"
            )
        _check_point(info.point, curve)
        return MeterKey(curve, info.point, f"{form} SPKI")
    sizes = {c.size for c in CURVES.values()}
    if raw[0] == 0x04 and len(raw) % 2 == 1 and (len(raw) - 1) // 2 in sizes:
        point, kind = raw, "SEC1 point"
    elif raw[0] in (0x02, 0x03) and len(raw) - 1 in sizes:
        point, kind = raw, "compressed point"
    elif len(raw) % 2 == 0 and len(raw) // 2 in sizes:
        point, kind = b"\x04" + raw, "bare X||Y"
    else:
        raise KeyFormatError(f"{len(raw)} bytes are neither SPKI nor an EC point")
    if hint is not None:
        _check_point(point, hint)
    return MeterKey(hint, point, f"{form} {kind}")


def _check_point(point: bytes, curve: Curve) -> None:
    if not point or point[0] not in (0x02, 0x03, 0x04):
        raise KeyFormatError("public key point is not SEC1 encoded")
    expected = 1 + 2 * curve.size if point[0] == 0x04 else 1 + curve.size
    if len(point) != expected:
        raise KeyFormatError(f"point of {len(point)} bytes does not fit curve {curve.name}")
