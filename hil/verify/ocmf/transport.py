"""OCMF inside OCPP 1.6: finding the record in a SampledValue, and wrapping one.

A SampledValue with ``format`` ``SignedData`` carries the record in ``value`` as
(a) plain OCMF text, (b) hex of that text, (c) base64 of it, or (d) the JSON
signed-meter-value object of the OCA application note "Signed Meter Values in OCPP"
(v1.0, 2025): ``{"signedMeterData": base64(OCMF), "signingMethod": "",
"encodingMethod": "OCMF", "publicKey": base64("oca:base16:asn1:<hex>")}``. Some back
offices document the same object with ``signedMeterValue`` for ``signedMeterData``;
both are read.

The helpers here take decoded OCPP payloads (dicts) and return what they found with
its context (``Transaction.Begin`` / ``Transaction.End`` / ``Sample.Periodic`` ...).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

SIGNED_DATA = "SignedData"
DEFAULT_CONTEXT = "Sample.Periodic"  # OCPP 1.6 default for SampledValue.context


@dataclass(frozen=True)
class ExtractedOcmf:
    """The OCMF text found in one SampledValue ``value``, or why there is none."""

    text: str | None
    transport: str  # "plain", "hex", "base64", "signed-meter-value" or "unknown"
    public_key: str | None = None  # the transport's publicKey field, as sent
    signing_method: str | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.text is not None


def extract_ocmf(value: Any) -> ExtractedOcmf:
    """Find the OCMF record in a SignedData ``value``. Never raises."""
    if not isinstance(value, str):
        return ExtractedOcmf(None, "unknown", error=f"value is {type(value).__name__}, not text")
    text = value.strip()
    if text.startswith("OCMF|"):
        return ExtractedOcmf(text, "plain")
    if text.startswith("{"):
        return _from_signed_meter_value(text)
    compact = "".join(text.split())
    if compact and len(compact) % 2 == 0 and all(c in "0123456789abcdefABCDEF" for c in compact):
        decoded = _utf8(bytes.fromhex(compact))
        if decoded is not None and decoded.startswith("OCMF|"):
            return ExtractedOcmf(decoded.strip(), "hex")
    decoded_b64 = _b64_text(compact)
    if decoded_b64 is not None and decoded_b64.startswith("OCMF|"):
        return ExtractedOcmf(decoded_b64.strip(), "base64")
    return ExtractedOcmf(None, "unknown", error="value is not OCMF (plain, hex, base64 or JSON)")


def _from_signed_meter_value(text: str) -> ExtractedOcmf:
    kind = "signed-meter-value"
    try:
        obj = json.loads(text)
    except ValueError as exc:
        return ExtractedOcmf(None, kind, error=f"value looks like JSON but is not: {exc}")
    if not isinstance(obj, dict):
        return ExtractedOcmf(None, kind, error="signed meter value is not a JSON object")
    data = obj.get("signedMeterData", obj.get("signedMeterValue"))
    encoding = obj.get("encodingMethod")
    public_key = obj.get("publicKey") or None
    signing = obj.get("signingMethod")
    if not isinstance(public_key, str | type(None)):
        public_key = None
    if not isinstance(signing, str | type(None)):
        signing = None
    if isinstance(encoding, str) and encoding.strip().upper() != "OCMF":
        return ExtractedOcmf(
            None, kind, public_key, signing, error=f"encodingMethod is {encoding!r}, not OCMF"
        )
    if not isinstance(data, str) or not data.strip():
        return ExtractedOcmf(None, kind, public_key, signing, error="signedMeterData is missing")
    decoded = _b64_text("".join(data.split()))
    if decoded is None:
        stripped = data.strip()
        if stripped.startswith("OCMF|"):  # sent unencoded despite the note
            decoded = stripped
        else:
            return ExtractedOcmf(
                None, kind, public_key, signing, error="signedMeterData is not base64 text"
            )
    if not decoded.startswith("OCMF|"):
        return ExtractedOcmf(
            None, kind, public_key, signing, error="signedMeterData does not hold an OCMF record"
        )
    return ExtractedOcmf(decoded.strip(), kind, public_key, signing)


def _utf8(raw: bytes) -> str | None:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _b64_text(text: str) -> str | None:
    if not text:
        return None
    try:
        raw = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None
    return _utf8(raw)


def signed_meter_value(
    ocmf_text: str, public_key: str | None = None, *, signing_method: str = ""
) -> str:
    """The OCA JSON signed-meter-value object for ``ocmf_text``, as a SampledValue value.

    ``public_key`` is hex DER SPKI (or None for the empty string the note asks for when
    the key is not sent); it is wrapped as ``base64("oca:base16:asn1:<hex>")``.
    ``signingMethod`` stays empty because OCMF carries ``SA`` itself.
    """
    return json.dumps(
        {
            "signedMeterData": base64.b64encode(ocmf_text.encode("utf-8")).decode("ascii"),
            "signingMethod": signing_method,
            "encodingMethod": "OCMF",
            "publicKey": oca_public_key(public_key) if public_key else "",
        },
        separators=(",", ":"),
    )


def oca_public_key(spki_hex: str) -> str:
    """``base64("oca:base16:asn1:<hex>")``: the OCA note's publicKey / MeterPublicKey form."""
    return base64.b64encode(f"oca:base16:asn1:{spki_hex}".encode("ascii")).decode("ascii")


# ---------------------------------------------------------------------------
# Pulling signed values out of OCPP messages


@dataclass(frozen=True)
class SignedValue:
    """One SignedData SampledValue, with where it came from."""

    source: str  # "MeterValues", "StopTransaction" or (2.0.1) "TransactionEvent"
    context: str
    timestamp: str | None
    measurand: str | None
    connector_id: int | None
    transaction_id: int | str | None
    extracted: ExtractedOcmf


def _sampled_signed(
    meter_values: Any,
    source: str,
    connector_id: int | None,
    transaction_id: int | str | None,
) -> list[SignedValue]:
    found: list[SignedValue] = []
    if not isinstance(meter_values, list):
        return found
    for meter_value in meter_values:
        if not isinstance(meter_value, dict):
            continue
        timestamp = meter_value.get("timestamp")
        samples = meter_value.get("sampledValue")
        for sample in samples if isinstance(samples, list) else []:
            if not isinstance(sample, dict) or sample.get("format") != SIGNED_DATA:
                continue
            found.append(
                SignedValue(
                    source=source,
                    context=str(sample.get("context") or DEFAULT_CONTEXT),
                    timestamp=timestamp if isinstance(timestamp, str) else None,
                    measurand=sample.get("measurand"),
                    connector_id=connector_id,
                    transaction_id=transaction_id,
                    extracted=extract_ocmf(sample.get("value")),
                )
            )
    return found


def signed_values_from_meter_values(payload: dict[str, Any]) -> list[SignedValue]:
    """Signed values in a MeterValues.req payload (``meterValue`` list)."""
    if not isinstance(payload, dict):
        return []
    return _sampled_signed(
        payload.get("meterValue"),
        "MeterValues",
        payload.get("connectorId"),
        payload.get("transactionId"),
    )


def signed_values_from_stop_transaction(payload: dict[str, Any]) -> list[SignedValue]:
    """Signed values in a StopTransaction.req payload (``transactionData`` list)."""
    if not isinstance(payload, dict):
        return []
    return _sampled_signed(
        payload.get("transactionData"), "StopTransaction", None, payload.get("transactionId")
    )


def signed_values_from_transaction_event(payload: dict[str, Any]) -> list[SignedValue]:
    """Signed values in an OCPP 2.0.1 TransactionEvent (``meterValue`` list): each
    SampledValueType with a ``signedMeterValue`` (SignedMeterValueType: signedMeterData,
    signingMethod, encodingMethod, publicKey)."""
    if not isinstance(payload, dict):
        return []
    info = payload.get("transactionInfo")
    evse = payload.get("evse")
    found: list[SignedValue] = []
    meter_values = payload.get("meterValue")
    for meter_value in meter_values if isinstance(meter_values, list) else []:
        if not isinstance(meter_value, dict):
            continue
        timestamp = meter_value.get("timestamp")
        samples = meter_value.get("sampledValue")
        for sample in samples if isinstance(samples, list) else []:
            signed = sample.get("signedMeterValue") if isinstance(sample, dict) else None
            if not isinstance(signed, dict):
                continue
            found.append(
                SignedValue(
                    source="TransactionEvent",
                    context=str(sample.get("context") or DEFAULT_CONTEXT),
                    timestamp=timestamp if isinstance(timestamp, str) else None,
                    measurand=sample.get("measurand"),
                    connector_id=evse.get("id") if isinstance(evse, dict) else None,
                    transaction_id=info.get("transactionId") if isinstance(info, dict) else None,
                    extracted=extract_ocmf(json.dumps(signed)),
                )
            )
    return found


def meter_public_keys(configuration_keys: Iterable[Any]) -> dict[int, str]:
    """``MeterPublicKey[<n>]`` values from a GetConfiguration.conf ``configurationKey`` list.

    Accepts ``MeterPublicKey[1]``, ``MeterPublicKey1`` and a bare ``MeterPublicKey``
    (taken as connector 0). Empty values are skipped.
    """
    keys: dict[int, str] = {}
    for entry in configuration_keys or []:
        if not isinstance(entry, dict):
            continue
        name, value = entry.get("key"), entry.get("value")
        if not isinstance(name, str) or not isinstance(value, str) or not value.strip():
            continue
        if not name.startswith("MeterPublicKey"):
            continue
        suffix = name[len("MeterPublicKey") :].strip("[]")
        if suffix == "":
            keys[0] = value
        elif suffix.isdigit():
            keys[int(suffix)] = value
    return keys
