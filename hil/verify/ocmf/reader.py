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
import re
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from hil.verify.ocmf import tables
from hil.verify.ocmf._json import JsonNumber, JsonSyntaxError, scan_object
from hil.verify.ocmf.curves import DEFAULT_ALGORITHM, parse_algorithm
from hil.verify.ocmf.model import Deviation, OcmfReading, OcmfRecord, ParseResult

_HEADER = "OCMF|"
_TIME = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})T(?P<h>\d{2}):(?P<m>\d{2}):(?P<s>\d{2})"
    r"(?:(?P<sep>[,.])(?P<frac>\d+))?"
    r"(?P<tz>Z|[+-]\d{2}:?\d{2})"
    r"(?: (?P<status>\S+))?"
)
_OBIS_CANONICAL = re.compile(
    r"[0-9A-F]{2}-[0-9A-F]{2}:[0-9A-F]{2}\.[0-9A-F]{2}\.[0-9A-F]{2}\*[0-9A-F]{2}"
)
_OBIS_SHAPE = re.compile(
    r"[0-9A-Za-z]{1,3}-[0-9A-Za-z]{1,3}:[0-9A-Za-z]{1,3}\.[0-9A-Za-z]{1,3}\.[0-9A-Za-z]{1,3}"
    r"(?:[*&.][0-9A-Za-z]{1,3})?"
)
_DECIMAL_TEXT = re.compile(r"-?\d+(?:\.\d+)?")
_MAX_96_BIT = 2**96 - 1
_CARRIED = ("TM", "TX", "RI", "RU", "RT", "EF", "ST")


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
    _Payload(record).read()
    _read_signature(record)
    return record


# ---------------------------------------------------------------------------
# Field helpers


class _Fields:
    """Typed access to one JSON object, reporting type problems as deviations."""

    def __init__(self, obj: dict[str, Any], prefix: str, devs: list[Deviation]) -> None:
        self.obj = obj
        self.prefix = prefix
        self.devs = devs

    def where(self, key: str) -> str:
        return f"{self.prefix}{key}"

    def has(self, key: str) -> bool:
        return key in self.obj

    def text(self, key: str) -> str | None:
        if key not in self.obj:
            return None
        value = self.obj[key]
        if isinstance(value, str):
            return value
        if isinstance(value, JsonNumber):
            self.devs.append(Deviation("ScalarFieldNotAString", self.where(key), value.text))
            return value.text
        if isinstance(value, bool):
            text = "true" if value else "false"
            self.devs.append(Deviation("ScalarFieldNotAString", self.where(key), text))
            return text
        self.devs.append(Deviation("FieldTypeMismatch", self.where(key), _kind(value)))
        return None

    def boolean(self, key: str) -> bool | None:
        if key not in self.obj:
            return None
        value = self.obj[key]
        if isinstance(value, bool):
            return value
        self.devs.append(Deviation("FieldTypeMismatch", self.where(key), _kind(value)))
        return None

    def number(self, key: str) -> Decimal | None:
        if key not in self.obj:
            return None
        value = self.obj[key]
        if isinstance(value, JsonNumber):
            return _exact(value.text, self.where(key), self.devs)
        self.devs.append(Deviation("FieldTypeMismatch", self.where(key), _kind(value)))
        return None

    def in_table(self, key: str, value: str | None, table: frozenset[str]) -> None:
        if value is not None and value not in table:
            self.devs.append(Deviation("UndefinedTableValue", self.where(key), repr(value)))

    def too_long(self, key: str, value: str | None, limit: int) -> None:
        if value is not None and len(value) > limit:
            self.devs.append(
                Deviation("FieldTooLong", self.where(key), f"{len(value)} > {limit} characters")
            )


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, JsonNumber):
        return "a number"
    return "a string"


def _exact(literal: str, where: str, devs: list[Deviation]) -> Decimal | None:
    """An exact decimal, or None (reported) when no 96-bit decimal can hold it."""
    try:
        value = Decimal(literal)
    except InvalidOperation:
        devs.append(Deviation("NumberUnrepresentable", where, repr(literal)))
        return None
    sign, digits, exponent = value.as_tuple()
    del sign
    if not isinstance(exponent, int):
        devs.append(Deviation("NumberUnrepresentable", where, repr(literal)))
        return None
    mantissa = int("".join(map(str, digits)) or "0")
    if exponent > 0:
        mantissa *= 10**exponent
    if mantissa > _MAX_96_BIT or -exponent > 28:
        devs.append(Deviation("NumberUnrepresentable", where, f"{literal[:40]} is out of range"))
        return None
    return value


# ---------------------------------------------------------------------------
# Payload


class _Payload:
    def __init__(self, record: OcmfRecord) -> None:
        self.record = record
        self.devs = record.deviations
        self.f = _Fields(record.payload, "", self.devs)

    def read(self) -> None:
        rec, f = self.record, self.f
        self._unknown_keys()
        rec.format_version = f.text("FV")
        rec.gateway_id = f.text("GI")
        rec.gateway_serial = f.text("GS")
        rec.gateway_version = f.text("GV")
        rec.pagination = f.text("PG")
        rec.meter_vendor = f.text("MV")
        rec.meter_model = f.text("MM")
        rec.meter_serial = f.text("MS")
        rec.meter_firmware = f.text("MF")
        rec.id_status = f.boolean("IS")
        rec.id_level = f.text("IL")
        rec.id_type = f.text("IT")
        rec.id_data = f.text("ID")
        rec.tariff_text = f.text("TT")
        rec.charge_controller_version = f.text("CF") if f.has("CF") else f.text("CCV")
        rec.charge_point_type = f.text("CT")
        rec.charge_point_id = f.text("CI")
        self._format_version()
        self._pagination()
        self._identification()
        self._source()
        self._loss_compensation()
        f.too_long("TT", rec.tariff_text, 250)
        f.too_long("CF", rec.charge_controller_version, 25)
        self._readings()

    def _unknown_keys(self) -> None:
        for key in self.record.payload:
            if key not in tables.PAYLOAD_KEYS and key[:1] not in tables.EXTENSION_INITIALS:
                self.devs.append(Deviation("UnknownKey", key))

    def _format_version(self) -> None:
        fv = self.record.format_version
        if fv is None:
            if not self.f.has("FV"):
                self.devs.append(Deviation("FormatVersionMissing", "FV"))
            return
        match = re.fullmatch(r"(\d+)\.(\d+)", fv)
        if not match:
            self.devs.append(Deviation("FormatVersionMalformed", "FV", repr(fv)))
        elif (int(match.group(1)), int(match.group(2))) > tables.REFERENCE_FORMAT_VERSION:
            self.devs.append(Deviation("FormatVersionAheadOfReference", "FV", fv))

    def _pagination(self) -> None:
        pg = self.record.pagination
        if pg is None:
            if not self.f.has("PG"):
                self.devs.append(Deviation("PaginationMissing", "PG"))
            return
        if not re.fullmatch(r"[TF]\d+", pg):
            self.devs.append(Deviation("PaginationMalformed", "PG", repr(pg)))
        elif len(pg) > 2 and pg[1] == "0":
            self.devs.append(Deviation("PaginationLeadingZero", "PG", pg))

    def _transaction_reference(self) -> bool:
        if (self.record.pagination or "").startswith("T"):
            return True
        rd = self.record.payload.get("RD")
        return isinstance(rd, list) and any(isinstance(r, dict) and "TX" in r for r in rd)

    def _identification(self) -> None:
        rec, f = self.record, self.f
        if self._transaction_reference():
            if not f.has("IS"):
                self.devs.append(Deviation("IdentificationStatusMissing", "IS"))
            if not f.has("IT"):
                self.devs.append(Deviation("IdentificationTypeMissing", "IT"))
            if not f.has("IF"):
                self.devs.append(Deviation("IdentificationFlagsMissing", "IF"))
        f.in_table("IL", rec.id_level, tables.ID_LEVELS)
        f.in_table("IT", rec.id_type, tables.ID_TYPES)
        if f.has("IF"):
            raw = rec.payload["IF"]
            if not isinstance(raw, list):
                self.devs.append(Deviation("FieldTypeMismatch", "IF", _kind(raw)))
            else:
                flags: list[str] = []
                for i, item in enumerate(raw):
                    if isinstance(item, str):
                        flags.append(item)
                    else:
                        self.devs.append(Deviation("FieldTypeMismatch", f"IF[{i}]", _kind(item)))
                rec.id_flags = flags
                self._flags(flags)
        if rec.id_type is not None and rec.id_data is not None:
            check = tables.ID_DATA_FORMATS.get(rec.id_type)
            if check is not None and not check.fullmatch(rec.id_data):
                self.devs.append(
                    Deviation(
                        "IdentificationDataFormat", "ID", f"{rec.id_data!r} for {rec.id_type}"
                    )
                )

    def _flags(self, flags: list[str]) -> None:
        if len(flags) > 4:
            self.devs.append(Deviation("IdentificationFlagsCardinality", "IF", f"{len(flags)} > 4"))
        groups: dict[str, int] = {}
        for i, flag in enumerate(flags):
            if flag not in tables.ID_FLAGS:
                self.devs.append(Deviation("UndefinedTableValue", f"IF[{i}]", repr(flag)))
                continue
            group = flag.split("_", 1)[0]
            groups[group] = groups.get(group, 0) + 1
        for group, count in groups.items():
            if count > 1:
                self.devs.append(
                    Deviation("IdentificationFlagsDuplicateGroup", "IF", f"{count} {group} flags")
                )

    def _source(self) -> None:
        rec, f = self.record, self.f
        if not f.has("MS"):
            self.devs.append(Deviation("MeterSerialMissing", "MS"))
        f.in_table("CT", rec.charge_point_type, tables.CHARGE_POINT_TYPES)
        cbidc_id = rec.charge_point_id if rec.charge_point_type == "CBIDC" else None
        if cbidc_id is not None and not re.fullmatch(r"\S+ \S+", cbidc_id):
            self.devs.append(Deviation("ChargePointIdFormat", "CI", f"{cbidc_id!r} for CBIDC"))
        has_cp = bool(rec.charge_point_type) and bool(rec.charge_point_id)
        if not f.has("MS") and not f.has("GS") and not has_cp:
            self.devs.append(Deviation("SourceUnidentifiable", "payload"))

    def _loss_compensation(self) -> None:
        if not self.f.has("LC"):
            return
        raw = self.record.payload["LC"]
        if not isinstance(raw, dict):
            self.devs.append(Deviation("FieldTypeMismatch", "LC", _kind(raw)))
            return
        lc = _Fields(raw, "LC.", self.devs)
        for key in raw:
            if key not in tables.LOSS_KEYS:
                self.devs.append(Deviation("UnknownKey", f"LC.{key}"))
        name = lc.text("LN")
        lc.too_long("LN", name, 20)
        unit = lc.text("LU")
        lc.in_table("LU", unit, tables.RESISTANCE_UNITS)
        self.record.loss_compensation = {
            "LN": name,
            "LI": lc.number("LI"),
            "LR": lc.number("LR"),
            "LU": unit,
        }
        missing = [k for k in ("LR", "LU") if k not in raw]
        if missing:
            self.devs.append(
                Deviation("LossCompensationIncomplete", "LC", f"no {', '.join(missing)}")
            )

    def _readings(self) -> None:
        if not self.f.has("RD"):
            self.devs.append(Deviation("ReadingsMissing", "RD"))
            return
        raw = self.record.payload["RD"]
        if not isinstance(raw, list):
            self.devs.append(Deviation("FieldTypeMismatch", "RD", _kind(raw)))
            return
        previous: OcmfReading | None = None
        for i, item in enumerate(raw):
            if not isinstance(item, dict):
                self.devs.append(Deviation("FieldTypeMismatch", f"RD[{i}]", _kind(item)))
                continue
            reading = _read_reading(i, item, previous, self.devs)
            self.record.readings.append(reading)
            previous = reading


def _read_reading(
    index: int, obj: dict[str, Any], previous: OcmfReading | None, devs: list[Deviation]
) -> OcmfReading:
    prefix = f"RD[{index}]."
    f = _Fields(obj, prefix, devs)
    reading = OcmfReading(index=index)
    for key, value in obj.items():
        if key in tables.READING_KEYS:
            continue
        if key[:1] in tables.EXTENSION_INITIALS:
            devs.append(Deviation("ExtensionInsideReading", prefix + key))
            reading.extensions[key] = value
        else:
            devs.append(Deviation("UnknownKey", prefix + key))

    tm = f.text("TM")
    tm_readable = tm is not None
    if tm is not None:
        parsed = _parse_time(tm, prefix + "TM", devs)
        if parsed is None:
            tm_readable = False
        else:
            reading.time, reading.time_status = parsed
            reading.time_text = tm
    reading.transaction = f.text("TX")
    f.in_table("TX", reading.transaction, tables.TRANSACTION_CODES)
    reading.obis = f.text("RI")
    if reading.obis is not None:
        if not _OBIS_SHAPE.fullmatch(reading.obis):
            devs.append(Deviation("ObisMalformed", prefix + "RI", repr(reading.obis)))
        elif not _OBIS_CANONICAL.fullmatch(reading.obis):
            devs.append(Deviation("ObisNonCanonical", prefix + "RI", reading.obis))
    reading.unit = f.text("RU")
    f.in_table("RU", reading.unit, tables.UNITS)
    reading.current_type = f.text("RT")
    f.in_table("RT", reading.current_type, tables.CURRENT_TYPES)
    ef = f.text("EF")
    if ef is not None:
        reading.error_flags = ef
        bad = sorted({c for c in ef if c not in tables.ERROR_FLAGS})
        if bad:
            devs.append(Deviation("UndefinedTableValue", prefix + "EF", repr("".join(bad))))
    reading.status = f.text("ST")
    f.in_table("ST", reading.status, tables.METER_STATES)
    _read_value(reading, obj, prefix, devs)
    reading.cumulated_loss = f.number("CL")

    # Carry-forward: a field a reading omits repeats the previous reading's value.
    carried: set[str] = set()
    if previous is not None:
        for key in _CARRIED:
            if key in obj:
                continue
            if key == "TM" and previous.time_text is not None:
                reading.time, reading.time_status = previous.time, previous.time_status
                reading.time_text = previous.time_text
                carried.add(key)
            elif key == "TX" and previous.transaction is not None:
                reading.transaction = previous.transaction
                carried.add(key)
            elif key == "RI" and previous.obis is not None:
                reading.obis = previous.obis
                carried.add(key)
            elif key == "RU" and previous.unit is not None:
                reading.unit = previous.unit
                carried.add(key)
            elif key == "RT" and previous.current_type is not None:
                reading.current_type = previous.current_type
                carried.add(key)
            elif key == "EF" and "EF" in previous.carried | previous.written:
                reading.error_flags = previous.error_flags
                carried.add(key)
            elif key == "ST" and previous.status is not None:
                reading.status = previous.status
                carried.add(key)
    reading.carried = frozenset(carried)
    reading.written = frozenset(k for k in obj if k in tables.READING_KEYS)

    mandatory = ["TM", "ST"] + (["RU"] if "RV" in obj else [])
    for key in mandatory:
        if key in carried:
            devs.append(Deviation("CarriedForwardMandatoryField", prefix + key))
    if reading.time is None and "TM" not in carried and (tm is None or not tm_readable):
        devs.append(Deviation("MandatoryReadingFieldMissing", prefix + "TM"))
    if reading.status is None:
        devs.append(Deviation("MandatoryReadingFieldMissing", prefix + "ST"))
    if "RV" in obj and reading.unit is None:
        devs.append(Deviation("MandatoryReadingFieldMissing", prefix + "RU"))
    return reading


def _read_value(
    reading: OcmfReading, obj: dict[str, Any], prefix: str, devs: list[Deviation]
) -> None:
    if "RV" not in obj:
        return
    raw = obj["RV"]
    where = prefix + "RV"
    if isinstance(raw, JsonNumber):
        reading.value_text = raw.text
        reading.value = _exact(raw.text, where, devs)
    elif isinstance(raw, str):
        devs.append(Deviation("RvIsString", where, repr(raw)))
        reading.value_text = raw
        stripped = raw.strip()
        if _DECIMAL_TEXT.fullmatch(stripped):
            reading.value = _exact(stripped, where, devs)
        else:
            devs.append(Deviation("NumberUnrepresentable", where, repr(raw)))
    else:
        devs.append(Deviation("FieldTypeMismatch", where, _kind(raw)))


def _parse_time(text: str, where: str, devs: list[Deviation]) -> tuple[datetime, str | None] | None:
    """Read a ``TM``; report its liberties; None when it is no timestamp at all."""
    match = _TIME.fullmatch(text)
    when: datetime | None = None
    if match:
        try:
            tz_text = match.group("tz")
            if tz_text == "Z":
                tz = UTC
            else:
                digits = tz_text.replace(":", "")
                minutes = int(digits[1:3]) * 60 + int(digits[3:5])
                tz = timezone(timedelta(minutes=-minutes if digits[0] == "-" else minutes))
            frac = match.group("frac") or ""
            micro = int((frac + "000000")[:6]) if frac else 0
            when = datetime.fromisoformat(match.group("date")).replace(
                hour=int(match.group("h")),
                minute=int(match.group("m")),
                second=int(match.group("s")),
                microsecond=micro,
                tzinfo=tz,
            )
        except ValueError:
            when = None
    if match is None or when is None:
        devs.append(Deviation("TimeMalformed", where, repr(text[:40])))
        devs.append(Deviation("TimeStatusMissing", where))
        return None
    if match.group("sep") == ".":
        devs.append(Deviation("TimeDotMilliseconds", where))
    frac = match.group("frac")
    if frac is None or len(frac) != 3:
        devs.append(Deviation("TimeSubSecondDigits", where, f"{len(frac or '')} digits"))
    if ":" in match.group("tz"):
        devs.append(Deviation("TimeOffsetWithColon", where))
    status = match.group("status")
    if status is None:
        devs.append(Deviation("TimeStatusMissing", where))
    elif status not in tables.TIME_STATES:
        devs.append(Deviation("UndefinedTableValue", where, f"time status {status!r}"))
    return when, status


# ---------------------------------------------------------------------------
# Signature section


def _read_signature(record: OcmfRecord) -> None:
    devs = record.deviations
    f = _Fields(record.signature, "signature.", devs)
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
