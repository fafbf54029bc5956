"""Shared helpers for the OCMF tests: a deterministic meter and a session's records."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from hil.verify.ocmf import OcmfSigner, private_key_from_scalar

T0 = datetime(2026, 11, 21, 16, 31, 2, 123000, tzinfo=timezone(timedelta(hours=1)))
TAG = "04A1B2C3"


def signer(curve: str = "secp256r1", scalar: int = 0x1234567, **kwargs: object) -> OcmfSigner:
    return OcmfSigner(private_key_from_scalar(scalar, curve), **kwargs)  # type: ignore[arg-type]


@dataclass
class Session:
    """A good two-record session: 12 345 Wh -> 13 790 Wh, pages T7 and T8."""

    meter: OcmfSigner
    begin: str
    end: str
    start_wh: int = 12345
    stop_wh: int = 13790

    @property
    def energy_wh(self) -> int:
        return self.stop_wh - self.start_wh


def good_session(curve: str = "secp256r1") -> Session:
    meter = signer(curve)
    begin = meter.begin(12345, T0, TAG, 7)
    end = meter.end(13790, T0 + timedelta(minutes=30), TAG, 8)
    return Session(meter, begin, end)


def replace_signature_section(record: str, signature_json: str) -> str:
    """The same payload with a different signature section (for encoding tests)."""
    head, _, _ = record.rpartition("|")
    return f"{head}|{signature_json}"
