"""Produce signed OCMF records, as an Eichrecht meter would (for the virtual station).

Usage::

    key = generate_private_key()            # P-256; or "secp384r1", "brainpool256r1", ...
    signer = OcmfSigner(key, meter_serial="1VIRT0000001")
    begin = signer.begin(12345, started_at, "04A1B2C3", pagination=7)
    end = signer.end(13790, stopped_at, "04A1B2C3", pagination=8)
    signer.public_key_hex                   # hex DER SPKI, for MeterPublicKey / the DUT config
    signed_meter_value(end, signer.public_key_hex)   # the OCPP JSON transport

Every field the checks look at can be set per call (serial, pagination, status, error
flags, time status, OBIS code, unit), so a caller can produce the deliberately wrong
records a deviation needs; :func:`tamper_signature` flips a signature byte.

Readings are written in kWh with ``decimals`` places (3 = 1 Wh resolution, exact for
integer Wh), RI defaults to ``01-00:01.08.00*FF`` -- IEC 62056 OBIS 1-0:1.8.0*255,
active energy import total, the register real Eichrecht AC meters sign -- and TM as
``YYYY-MM-DDThh:mm:ss,fff+zzzz S``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_DOWN, Decimal
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from hil.verify.ocmf._der import encode_signature
from hil.verify.ocmf.curves import curve_for, curve_of_crypto
from hil.verify.ocmf.keys import key_from_cryptography
from hil.verify.ocmf.transport import oca_public_key, signed_meter_value

DEFAULT_OBIS = "01-00:01.08.00*FF"
_UID = re.compile(r"[0-9A-Fa-f]{8}|[0-9A-Fa-f]{14}")


def generate_private_key(curve: str = "secp256r1") -> ec.EllipticCurvePrivateKey:
    """A fresh private key on an OCMF curve that ``cryptography`` supports."""
    crypto_curve = curve_for(curve).crypto_curve()
    if crypto_curve is None:
        raise ValueError(f"cryptography cannot sign on {curve}")
    return ec.generate_private_key(crypto_curve)


def private_key_from_scalar(scalar: int, curve: str = "secp256r1") -> ec.EllipticCurvePrivateKey:
    """A deterministic key (for reproducible test data; never for a real meter)."""
    crypto_curve = curve_for(curve).crypto_curve()
    if crypto_curve is None:
        raise ValueError(f"cryptography cannot sign on {curve}")
    return ec.derive_private_key(scalar, crypto_curve)


def public_key_hex(key: ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey) -> str:
    """Hex DER SubjectPublicKeyInfo, upper case (the form printed on meters)."""
    public = key.public_key() if isinstance(key, ec.EllipticCurvePrivateKey) else key
    return key_from_cryptography(public).spki_hex


def format_time(when: datetime, status: str = "S") -> str:
    """OCMF ``TM``: ``2024-03-01T08:00:00,000+0100 S`` (naive times are taken as UTC)."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    offset = when.strftime("%z") or "+0000"
    text = when.strftime("%Y-%m-%dT%H:%M:%S") + f",{when.microsecond // 1000:03d}{offset}"
    return f"{text} {status}" if status else text


@dataclass(frozen=True)
class ReadingSpec:
    """One reading to sign. ``wh`` is the register in Wh (int or exact Decimal)."""

    wh: int | Decimal
    time: datetime
    tx: str | None = "B"  # B, C, E, L, R, A, P, S, T, X -- or None to omit
    status: str = "G"  # ST
    error_flags: str = ""  # EF
    time_status: str = "S"  # U, I, S, R (or "" to omit the letter)
    obis: str | None = None  # RI; None = the signer's default
    unit: str = "kWh"  # RU: kWh or Wh


class OcmfSigner:
    """Signs OCMF records for one meter. Thread-compatible; holds no mutable state."""

    def __init__(
        self,
        private_key: ec.EllipticCurvePrivateKey,
        *,
        meter_vendor: str = "HIL Lab",
        meter_model: str = "Virtual Eichrecht Meter",
        meter_serial: str = "1HIL0000000001",
        meter_firmware: str = "1.0",
        gateway_id: str | None = None,
        gateway_serial: str | None = None,
        gateway_version: str | None = None,
        format_version: str = "1.3",
        obis: str = DEFAULT_OBIS,
        decimals: int = 3,
        current_type: str | None = "AC",
        identification_level: str = "HEARSAY",
        identification_flags: Sequence[str] = ("RFID_PLAIN", "OCPP_AUTH"),
        charge_point: tuple[str, str] | None = None,  # (CT, CI), e.g. ("CBIDC", "CP1 1")
    ) -> None:
        self._key = private_key
        self._curve = curve_of_crypto(private_key.curve)  # raises for non-OCMF curves
        self.algorithm = f"ECDSA-{self._curve.name}-SHA256"
        self.meter_vendor = meter_vendor
        self.meter_model = meter_model
        self.meter_serial = meter_serial
        self.meter_firmware = meter_firmware
        self.gateway_id = gateway_id
        self.gateway_serial = gateway_serial
        self.gateway_version = gateway_version
        self.format_version = format_version
        self.obis = obis
        self.decimals = decimals
        self.current_type = current_type
        self.identification_level = identification_level
        self.identification_flags = tuple(identification_flags)
        self.charge_point = charge_point

    @property
    def public_key_hex(self) -> str:
        """Hex DER SPKI of this meter's key."""
        return public_key_hex(self._key)

    @property
    def public_key_oca(self) -> str:
        """``base64("oca:base16:asn1:<hex>")``, the MeterPublicKey[n] / publicKey form."""
        return oca_public_key(self.public_key_hex)

    def begin(
        self,
        reading_wh: int | Decimal,
        time: datetime,
        id_tag: str | None,
        pagination: int | str,
        *,
        status: str = "G",
        error_flags: str = "",
        time_status: str = "S",
        obis: str | None = None,
        unit: str = "kWh",
        meter_serial: str | None = None,
        id_type: str | None = None,
    ) -> str:
        """A signed record with one TX=B reading of ``reading_wh``."""
        spec = ReadingSpec(reading_wh, time, "B", status, error_flags, time_status, obis, unit)
        return self.sign_readings(
            [spec], id_tag=id_tag, pagination=pagination, meter_serial=meter_serial, id_type=id_type
        )

    def end(
        self,
        reading_wh: int | Decimal,
        time: datetime,
        id_tag: str | None,
        pagination: int | str,
        *,
        tx: str = "E",
        status: str = "G",
        error_flags: str = "",
        time_status: str = "S",
        obis: str | None = None,
        unit: str = "kWh",
        meter_serial: str | None = None,
        id_type: str | None = None,
    ) -> str:
        """A signed record with one end reading (TX=E, or L/R/A/P via ``tx``)."""
        spec = ReadingSpec(reading_wh, time, tx, status, error_flags, time_status, obis, unit)
        return self.sign_readings(
            [spec], id_tag=id_tag, pagination=pagination, meter_serial=meter_serial, id_type=id_type
        )

    def sign_readings(
        self,
        readings: Sequence[ReadingSpec],
        *,
        id_tag: str | None,
        pagination: int | str,
        meter_serial: str | None = None,
        id_type: str | None = None,
        id_status: bool | None = None,
    ) -> str:
        """A complete signed record holding ``readings`` (one record, several readings).

        ``pagination`` is the transaction counter (``7`` -> ``"T7"``) or a full PG
        string. ``meter_serial``/``id_type``/``id_status`` override the record header.
        """
        payload: dict[str, Any] = {"FV": self.format_version}
        for key, value in (
            ("GI", self.gateway_id),
            ("GS", self.gateway_serial),
            ("GV", self.gateway_version),
        ):
            if value is not None:
                payload[key] = value
        payload["PG"] = f"T{pagination}" if isinstance(pagination, int) else pagination
        payload["MV"] = self.meter_vendor
        payload["MM"] = self.meter_model
        payload["MS"] = self.meter_serial if meter_serial is None else meter_serial
        payload["MF"] = self.meter_firmware
        has_id = bool(id_tag)
        payload["IS"] = has_id if id_status is None else id_status
        payload["IL"] = self.identification_level if has_id else "NONE"
        payload["IF"] = list(self.identification_flags) if has_id else []
        payload["IT"] = id_type or _id_type(id_tag)
        payload["ID"] = id_tag or ""
        if self.charge_point is not None:
            payload["CT"], payload["CI"] = self.charge_point
        payload["RD"] = [self._reading(r) for r in readings]
        return self.sign_payload(_dump(payload))

    def sign_payload(self, payload_text: str) -> str:
        """Sign an exact payload text (the escape hatch for hand-made records)."""
        der = self._key.sign(payload_text.encode("utf-8"), ec.ECDSA(hashes.SHA256()))
        r, s = decode_dss_signature(der)
        if s > self._curve.order // 2:  # emit the low-s form, as careful meters do
            s = self._curve.order - s
        signature = _dump({"SA": self.algorithm, "SD": encode_signature(r, s).hex().upper()})
        return f"OCMF|{payload_text}|{signature}"

    def signed_meter_value(self, ocmf_text: str, *, include_key: bool = True) -> str:
        """The OCA JSON signed-meter-value object wrapping ``ocmf_text``."""
        return signed_meter_value(ocmf_text, self.public_key_hex if include_key else None)

    def _reading(self, spec: ReadingSpec) -> dict[str, Any]:
        reading: dict[str, Any] = {"TM": format_time(spec.time, spec.time_status)}
        if spec.tx is not None:
            reading["TX"] = spec.tx
        wh = Decimal(spec.wh)
        if spec.unit == "kWh":
            # A register shows completed units: truncate, never round up.
            step = Decimal(1).scaleb(-self.decimals)
            reading["RV"] = (wh / 1000).quantize(step, rounding=ROUND_DOWN)
        else:
            reading["RV"] = wh
        reading["RI"] = spec.obis or self.obis
        reading["RU"] = spec.unit
        if self.current_type is not None:
            reading["RT"] = self.current_type
        reading["EF"] = spec.error_flags
        reading["ST"] = spec.status
        return reading


def _id_type(id_tag: str | None) -> str:
    if not id_tag:
        return "NONE"
    return "ISO14443" if _UID.fullmatch(id_tag) else "CENTRAL"


def _dump(value: Any) -> str:
    """Compact JSON with exact decimals (``json.dumps`` cannot write a Decimal)."""
    import json

    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{_dump(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_dump(v) for v in value) + "]"
    if isinstance(value, Decimal):
        return f"{value:f}"
    return json.dumps(value, ensure_ascii=False)


def tamper_signature(ocmf_text: str, byte_index: int = -1) -> str:
    """The same record with one byte of its signature flipped (still well-formed hex).

    ``byte_index`` counts into the decoded signature; the default flips the last byte
    of ``s``, so the DER structure stays readable and only the maths fails.
    """
    match = re.search(r'"SD":"([0-9A-Fa-f]+)"', ocmf_text)
    if not match:
        raise ValueError("no hex SD in this record")
    raw = bytearray(bytes.fromhex(match.group(1)))
    raw[byte_index] ^= 0x01
    return ocmf_text[: match.start(1)] + raw.hex().upper() + ocmf_text[match.end(1) :]
