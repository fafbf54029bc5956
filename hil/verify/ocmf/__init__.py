"""Eichrecht: reading, verifying and producing OCMF signed meter records (pure logic).

Public API (see ``docs/eichrecht.md``):

- :func:`parse_record` -> :class:`ParseResult` (``.record``: :class:`OcmfRecord`)
- :func:`verify_signature` -> :class:`SignatureVerdict`
- :func:`load_public_key` -> :class:`MeterKey`
- :func:`verify_session` -> :class:`SessionVerdict` (``.render()`` for a log)
- :func:`extract_ocmf`, :func:`signed_values_from_meter_values`,
  :func:`signed_values_from_stop_transaction`, :func:`meter_public_keys`,
  :func:`signed_meter_value` (OCPP 1.6 transports),
  :func:`signed_values_from_transaction_event` (OCPP 2.0.1 signedMeterValue)
- :class:`OcmfSigner`, :func:`generate_private_key`, :func:`tamper_signature` (signing)
- :func:`scan_journal` (sessions in a saved OCPP journal)
"""

from hil.verify.ocmf.journal import JournalScan, JournalSession, scan_journal
from hil.verify.ocmf.keys import KeyFormatError, MeterKey, load_public_key
from hil.verify.ocmf.model import Deviation, OcmfReading, OcmfRecord, ParseResult
from hil.verify.ocmf.reader import parse_record
from hil.verify.ocmf.session import (
    CheckResult,
    CheckStatus,
    SessionVerdict,
    verify_session,
)
from hil.verify.ocmf.signature import SignatureStatus, SignatureVerdict, verify_signature
from hil.verify.ocmf.signer import (
    OcmfSigner,
    ReadingSpec,
    generate_private_key,
    private_key_from_scalar,
    public_key_hex,
    tamper_signature,
)
from hil.verify.ocmf.transport import (
    ExtractedOcmf,
    SignedValue,
    extract_ocmf,
    meter_public_keys,
    oca_public_key,
    signed_meter_value,
    signed_values_from_meter_values,
    signed_values_from_stop_transaction,
    signed_values_from_transaction_event,
)

__all__ = [
    "CheckResult",
    "CheckStatus",
    "Deviation",
    "ExtractedOcmf",
    "JournalScan",
    "JournalSession",
    "KeyFormatError",
    "MeterKey",
    "OcmfReading",
    "OcmfRecord",
    "OcmfSigner",
    "ParseResult",
    "ReadingSpec",
    "SessionVerdict",
    "SignatureStatus",
    "SignatureVerdict",
    "SignedValue",
    "extract_ocmf",
    "generate_private_key",
    "load_public_key",
    "meter_public_keys",
    "oca_public_key",
    "parse_record",
    "private_key_from_scalar",
    "public_key_hex",
    "scan_journal",
    "signed_meter_value",
    "signed_values_from_meter_values",
    "signed_values_from_stop_transaction",
    "signed_values_from_transaction_event",
    "tamper_signature",
    "verify_session",
    "verify_signature",
]
