"""Just enough DER to read ECDSA signatures and EC public keys leniently.

Why our own: meters write DER that strict decoders refuse (non-minimal lengths,
unpadded high-bit integers) and keys on curves ``cryptography`` cannot load
(secp192k1). Reading the structure ourselves lets us say *what* is wrong — or that
the curve is merely unsupported — instead of failing with an opaque error.
"""

from __future__ import annotations

from dataclasses import dataclass

EC_PUBLIC_KEY_OID = "1.2.840.10045.2.1"


class DerError(ValueError):
    """Bytes that are not the DER structure expected."""


@dataclass(frozen=True)
class _Tlv:
    tag: int
    content: bytes
    end: int
    canonical: bool


def _read_tlv(data: bytes, pos: int) -> _Tlv:
    if pos + 2 > len(data):
        raise DerError("truncated DER")
    tag = data[pos]
    first = data[pos + 1]
    pos += 2
    canonical = True
    if first < 0x80:
        length = first
    elif first == 0x80:
        raise DerError("indefinite length is not DER")
    else:
        count = first & 0x7F
        if count > 4 or pos + count > len(data):
            raise DerError("bad DER length")
        raw = data[pos : pos + count]
        length = int.from_bytes(raw, "big")
        pos += count
        if length < 0x80 or raw[0] == 0:
            canonical = False  # long form where short form would do, or padded
    if pos + length > len(data):
        raise DerError("DER content runs past the end")
    return _Tlv(tag, data[pos : pos + length], pos + length, canonical)


@dataclass(frozen=True)
class DerSignature:
    r: int
    s: int
    canonical: bool


def _read_unsigned_integer(data: bytes, pos: int) -> tuple[int, int, bool]:
    tlv = _read_tlv(data, pos)
    if tlv.tag != 0x02 or not tlv.content:
        raise DerError("expected an INTEGER")
    content = tlv.content
    canonical = tlv.canonical
    if content[0] & 0x80:
        canonical = False  # negative in DER; meters mean it unsigned
    elif len(content) > 1 and content[0] == 0 and not content[1] & 0x80:
        canonical = False  # superfluous leading zero
    return int.from_bytes(content, "big"), tlv.end, canonical


def parse_signature(data: bytes) -> tuple[DerSignature, bool]:
    """Read ``SEQUENCE { INTEGER r, INTEGER s }``.

    Returns the signature and whether bytes trail the sequence. Non-canonical but
    unambiguous encodings are accepted and flagged.
    """
    seq = _read_tlv(data, 0)
    if seq.tag != 0x30:
        raise DerError("signature is not a DER SEQUENCE")
    r, pos, r_ok = _read_unsigned_integer(seq.content, 0)
    s, pos, s_ok = _read_unsigned_integer(seq.content, pos)
    if pos != len(seq.content):
        raise DerError("extra data inside the signature SEQUENCE")
    trailing = seq.end != len(data)
    canonical = seq.canonical and r_ok and s_ok and not trailing
    return DerSignature(r, s, canonical), trailing


def encode_signature(r: int, s: int) -> bytes:
    """Canonical DER for an ECDSA signature."""

    def integer(value: int) -> bytes:
        body = value.to_bytes(max(1, (value.bit_length() + 8) // 8), "big")
        return b"\x02" + _length(len(body)) + body

    body = integer(r) + integer(s)
    return b"\x30" + _length(len(body)) + body


def _length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def decode_oid(content: bytes) -> str:
    if not content:
        raise DerError("empty OID")
    parts: list[int] = []
    value = 0
    for byte in content:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            parts.append(value)
            value = 0
    if byte & 0x80:
        raise DerError("truncated OID")
    first = parts[0]
    head = [min(first // 40, 2), first - 40 * min(first // 40, 2)]
    return ".".join(str(p) for p in head + parts[1:])


def encode_oid(oid: str) -> bytes:
    nums = [int(p) for p in oid.split(".")]
    body = bytearray()
    for value in [40 * nums[0] + nums[1], *nums[2:]]:
        chunk = [value & 0x7F]
        value >>= 7
        while value:
            chunk.append(0x80 | (value & 0x7F))
            value >>= 7
        body.extend(reversed(chunk))
    return b"\x06" + _length(len(body)) + bytes(body)


@dataclass(frozen=True)
class SubjectPublicKeyInfo:
    algorithm_oid: str
    curve_oid: str | None  # None when the parameters are not a named curve
    point: bytes


def parse_spki(data: bytes) -> SubjectPublicKeyInfo:
    """Read an X.509 SubjectPublicKeyInfo without asking whether the curve is supported."""
    outer = _read_tlv(data, 0)
    if outer.tag != 0x30 or outer.end != len(data):
        raise DerError("not a SubjectPublicKeyInfo SEQUENCE")
    alg = _read_tlv(outer.content, 0)
    if alg.tag != 0x30:
        raise DerError("missing AlgorithmIdentifier")
    oid = _read_tlv(alg.content, 0)
    if oid.tag != 0x06:
        raise DerError("AlgorithmIdentifier has no OID")
    curve_oid = None
    if oid.end < len(alg.content):
        params = _read_tlv(alg.content, oid.end)
        if params.tag == 0x06:
            curve_oid = decode_oid(params.content)
    bits = _read_tlv(outer.content, alg.end)
    if bits.tag != 0x03 or not bits.content or bits.content[0] != 0:
        raise DerError("public key is not a whole-byte BIT STRING")
    return SubjectPublicKeyInfo(decode_oid(oid.content), curve_oid, bits.content[1:])


def encode_spki(curve_oid: str, point: bytes) -> bytes:
    """DER SubjectPublicKeyInfo for an EC point on a named curve."""
    alg_body = encode_oid(EC_PUBLIC_KEY_OID) + encode_oid(curve_oid)
    alg = b"\x30" + _length(len(alg_body)) + alg_body
    bits = b"\x03" + _length(len(point) + 1) + b"\x00" + point
    body = alg + bits
    return b"\x30" + _length(len(body)) + body
