"""The signature algorithms OCMF names, and what ``cryptography`` can do with them.

OCMF Tab. 22 defines seven ECDSA algorithms, all over SHA-256. SHA-384 and SHA-512
variants of the same curves are accepted as well (some meters announce them); any
other ``SA`` is refused by name rather than checked as something else.

The curve orders are here because ``cryptography`` does not expose them, and a
high-``s`` signature can only be recognised against ``n``. Tests prove each order by
checking that the malleable twin ``(r, n - s)`` of a fresh signature verifies.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

DEFAULT_ALGORITHM = "ECDSA-secp256r1-SHA256"


@dataclass(frozen=True)
class Curve:
    """One curve: OCMF name, ASN.1 OID, coordinate size and group order."""

    name: str  # the spelling OCMF Tab. 22 uses
    oid: str
    size: int  # bytes per coordinate / per r and s
    order: int
    crypto_name: str | None  # ``cryptography`` curve class name, None if unsupported

    def crypto_curve(self) -> ec.EllipticCurve | None:
        """The ``cryptography`` curve object, or None when it cannot check this curve."""
        if self.crypto_name is None:
            return None
        curve: ec.EllipticCurve = getattr(ec, self.crypto_name)()
        try:
            from cryptography.hazmat.backends.openssl import backend

            if not backend.elliptic_curve_supported(curve):
                return None
        except ImportError:  # pragma: no cover - very old/new cryptography layouts
            pass
        return curve

    @property
    def checkable(self) -> bool:
        return self.crypto_curve() is not None


CURVES: dict[str, Curve] = {
    c.name: c
    for c in (
        Curve(
            "secp192k1",
            "1.3.132.0.31",
            24,
            0xFFFFFFFFFFFFFFFFFFFFFFFE26F2FC170F69466A74DEFD8D,
            None,  # cryptography has no secp192k1
        ),
        Curve(
            "secp192r1",
            "1.2.840.10045.3.1.1",
            24,
            0xFFFFFFFFFFFFFFFFFFFFFFFF99DEF836146BC9B1B4D22831,
            "SECP192R1",
        ),
        Curve(
            "secp256k1",
            "1.3.132.0.10",
            32,
            0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141,
            "SECP256K1",
        ),
        Curve(
            "secp256r1",
            "1.2.840.10045.3.1.7",
            32,
            0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
            "SECP256R1",
        ),
        Curve(
            "brainpool256r1",
            "1.3.36.3.3.2.8.1.1.7",
            32,
            0xA9FB57DBA1EEA9BC3E660A909D838D718C397AA3B561A6F7901E0E82974856A7,
            "BrainpoolP256R1",
        ),
        Curve(
            "secp384r1",
            "1.3.132.0.34",
            48,
            0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973,
            "SECP384R1",
        ),
        Curve(
            "brainpool384r1",
            "1.3.36.3.3.2.8.1.1.11",
            48,
            0x8CB91E82A3386D280F5D6F7E50E641DF152F7109ED5456B31F166E6CAC0425A7CF3AB6AF6B7FC3103B883202E9046565,
            "BrainpoolP384R1",
        ),
    )
}

CURVES_BY_OID: dict[str, Curve] = {c.oid: c for c in CURVES.values()}

# Other spellings seen in the field, mapped to the Tab. 22 name.
_ALIASES = {
    "brainpoolp256r1": "brainpool256r1",
    "brainpoolp384r1": "brainpool384r1",
    "prime256v1": "secp256r1",
    "p256": "secp256r1",
    "p-256": "secp256r1",
    "nistp256": "secp256r1",
    "p384": "secp384r1",
    "p-384": "secp384r1",
    "nistp384": "secp384r1",
    "prime192v1": "secp192r1",
}

_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "SHA256": hashes.SHA256,
    "SHA384": hashes.SHA384,
    "SHA512": hashes.SHA512,
}

_SA = re.compile(r"ECDSA-(?P<curve>[A-Za-z0-9-]+?)-(?P<hash>SHA-?\d{3})", re.IGNORECASE)


@dataclass(frozen=True)
class Algorithm:
    """A recognised ``SA``: curve, hash, and whether it was spelled as Tab. 22 spells it."""

    curve: Curve
    hash_name: str  # "SHA256", "SHA384" or "SHA512"
    canonical_spelling: bool

    @property
    def name(self) -> str:
        return f"ECDSA-{self.curve.name}-{self.hash_name}"

    def hash(self) -> hashes.HashAlgorithm:
        return _HASHES[self.hash_name]()


def parse_algorithm(text: str) -> Algorithm | None:
    """Read an ``SA`` value; None when it names nothing this module knows."""
    match = _SA.fullmatch(text.strip())
    if not match:
        return None
    hash_name = match.group("hash").upper().replace("-", "")
    if hash_name not in _HASHES:
        return None
    raw_curve = match.group("curve")
    curve = CURVES.get(raw_curve)
    if curve is None:
        alias = _ALIASES.get(raw_curve.lower(), raw_curve.lower())
        curve = CURVES.get(alias)
    if curve is None:
        return None
    canonical = f"ECDSA-{curve.name}-{hash_name}" == text
    return Algorithm(curve, hash_name, canonical)


def curve_for(name: str) -> Curve:
    """Look a curve up by OCMF or common name (``secp256r1``, ``brainpoolP256r1``...)."""
    curve = CURVES.get(name) or CURVES.get(_ALIASES.get(name.lower(), name.lower()))
    if curve is None:
        raise ValueError(f"unknown curve {name!r}; known: {', '.join(CURVES)}")
    return curve


def curve_of_crypto(curve: ec.EllipticCurve) -> Curve:
    """The OCMF curve for a ``cryptography`` curve object."""
    for c in CURVES.values():
        if c.crypto_name is not None and c.crypto_name.lower() == type(curve).__name__.lower():
            return c
    raise ValueError(f"curve {curve.name} is not one OCMF defines")
