"""Read ``OCMF|payload|signature`` text into an :class:`OcmfRecord` (no I/O).

Structure is fatal, values are not: a text that is not ``OCMF|<JSON object>|<JSON
object>`` has no record, while anything a field says (an absent ``PG``, an unreadable
``TM``, an ``SA`` nobody defines) is reported as a :class:`Deviation` and the record
is kept, because its signed payload is the evidence.

The payload's end is found by reading the JSON object, never by splitting on ``|``:
a pipe inside ``TT`` is lawful-looking and common enough to matter.
"""

from __future__ import annotations

import base64
import binascii

from hil.verify.ocmf import tables
from hil.verify.ocmf._fields import Fields
from hil.verify.ocmf._json import JsonSyntaxError, scan_object
from hil.verify.ocmf.curves import DEFAULT_ALGORITHM, parse_algorithm
from hil.verify.ocmf.model import Deviation, OcmfRecord, ParseResult
from hil.verify.ocmf.payload import PayloadReader

_HEADER = "OCMF|"


def parse_record(text: str | bytes) -> ParseResult:
    """Read one OCMF record. Never raises: a text that is no record yields ``error``."""
    if isinstance(text, bytes | bytearray):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as exc:
            return ParseResult(None, f"record is not UTF-8 text: {exc}")
    if not isinstance(text, str):
        return ParseResult(None, f"record must be text, not {type(text).__name__}")
    try:
        return ParseResult(_parse(text))
    except _Refused as exc:
        return ParseResult(None, str(exc))
    except Exception as exc:  # pragma: no cover - a bug must not escape as a crash
        return ParseResult(None, f"internal error reading record: {exc!r}")


class _Refused(ValueError):
    pass


def _parse(text: str) -> OcmfRecord:
    if not text.startswith(_HEADER):
        if text.startswith("OCMF"):
            raise _Refused("no '|' after the OCMF header")
        raise _Refused("not an OCMF record: it does not start with 'OCMF|'")
    try:
        payload = scan_object(text, len(_HEADER))
    except JsonSyntaxError as exc:
        raise _Refused(f"payload section is not a JSON object: {exc}") from None
    pos = payload.end
    trailing_ws = pos
    while pos < len(text) and text[pos] in " \t\r\n":
        pos += 1
    if pos >= len(text):
        raise _Refused("no signature section after the payload")
    if text[pos] != "|":
        raise _Refused(f"unexpected bytes after the payload object at byte {pos}")
    payload_text = text[len(_HEADER) : pos]
    pretty = payload.whitespace or pos != trailing_ws

    try:
        signature = scan_object(text, pos + 1)
    except JsonSyntaxError as exc:
        raise _Refused(f"signature section is not a JSON object: {exc}") from None
    sig_end = signature.end
    rest = text[sig_end:]
    fourth: str | None = None
    if rest.strip(" \t\r\n"):
        if not rest.startswith("|"):
            raise _Refused(f"unexpected bytes after the signature object at byte {sig_end}")
        fourth = rest[1:]
        if "|" in fourth:
            raise _Refused("too many sections: at most a withdrawn fourth one is tolerated")
    signature_text = text[pos + 1 : sig_end]

    record = OcmfRecord(
        raw=text,
        payload_text=payload_text,
        signature_text=signature_text,
        payload=payload.value,
        signature=signature.value,
        public_key_section=fourth,
    )
    devs = record.deviations
    if pretty:
        devs.append(Deviation("PrettyPrintedPayload", "payload", "whitespace outside strings"))
    if fourth is not None:
        devs.append(Deviation("FourthSectionPublicKey", "section 4", "withdrawn by S.A.F.E."))
    for f in payload.findings:
        devs.append(Deviation(f.kind, f.path, f.detail))
    for f in signature.findings:
        devs.append(Deviation(f.kind, f"signature.{f.path}", f.detail))
    PayloadReader(record).read()
    _read_signature(record)
    return record


# ---------------------------------------------------------------------------
# Signature section


def _read_signature(record: OcmfRecord) -> None:
    devs = record.deviations
    f = Fields(record.signature, "signature.", devs)
    for key in record.signature:
        if key not in tables.SIGNATURE_KEYS and key[:1] not in tables.SIGNATURE_EXTENSION_INITIALS:
            devs.append(Deviation("UnknownKey", f"signature.{key}"))
    sa = f.text("SA")
    record.algorithm_text = sa
    if sa is None:
        record.algorithm = DEFAULT_ALGORITHM
    else:
        algorithm = parse_algorithm(sa)
        if algorithm is None:
            devs.append(Deviation("UndefinedTableValue", "signature.SA", repr(sa)))
        else:
            record.algorithm = algorithm.name
            if not algorithm.canonical_spelling:
                devs.append(
                    Deviation(
                        "AlgorithmIdentifierSpelling", "signature.SA", f"{sa} = {algorithm.name}"
                    )
                )
    se = f.text("SE")
    if se is not None:
        record.signature_encoding = se
        f.in_table("SE", se, tables.SIGNATURE_ENCODINGS)
    sm = f.text("SM")
    if sm is not None:
        record.signature_mime = sm
        f.in_table("SM", sm, tables.SIGNATURE_MIME_TYPES)
    sd = f.text("SD")
    record.signature_data_text = sd
    if sd is None:
        if not f.has("SD"):
            devs.append(Deviation("SignatureDataMissing", "signature.SD"))
        return
    decoded = _decode_signature_data(sd, record.signature_encoding)
    if decoded is None:
        devs.append(
            Deviation(
                "SignatureDataUndecodable",
                "signature.SD",
                f"not {record.signature_encoding}: {sd[:32]!r}",
            )
        )
    record.signature_bytes = decoded


def _decode_signature_data(text: str, encoding: str) -> bytes | None:
    compact = "".join(text.split())
    if encoding == "base64":
        try:
            return base64.b64decode(compact, validate=True) or None
        except (binascii.Error, ValueError):
            return None
    if encoding != "hex":
        return None
    try:
        return bytes.fromhex(compact) or None
    except ValueError:
        return None
