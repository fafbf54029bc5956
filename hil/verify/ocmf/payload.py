"""Interpret an OCMF payload section: header fields, tables, readings, carry-forward.

Fills the typed fields of an :class:`OcmfRecord` from its decoded payload and appends
a :class:`Deviation` for every departure from the specification. Values outside a
closed table are kept verbatim; fields a reading omits repeat the previous reading
(``[OCMF Tab. 7]``), which is lawful and still reported for mandatory fields.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hil.verify.ocmf import tables
from hil.verify.ocmf._fields import Fields, exact, kind
from hil.verify.ocmf._json import JsonNumber
from hil.verify.ocmf.model import Deviation, OcmfReading, OcmfRecord

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
_CARRIED = ("TM", "TX", "RI", "RU", "RT", "EF", "ST")


class PayloadReader:
    """Reads one record's payload into its typed fields (used once per record)."""

    def __init__(self, record: OcmfRecord) -> None:
        self.record = record
        self.devs = record.deviations
        self.f = Fields(record.payload, "", self.devs)

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
                self.devs.append(Deviation("FieldTypeMismatch", "IF", kind(raw)))
            else:
                flags: list[str] = []
                for i, item in enumerate(raw):
                    if isinstance(item, str):
                        flags.append(item)
                    else:
                        self.devs.append(Deviation("FieldTypeMismatch", f"IF[{i}]", kind(item)))
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
            self.devs.append(Deviation("FieldTypeMismatch", "LC", kind(raw)))
            return
        lc = Fields(raw, "LC.", self.devs)
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
            self.devs.append(Deviation("FieldTypeMismatch", "RD", kind(raw)))
            return
        previous: OcmfReading | None = None
        for i, item in enumerate(raw):
            if not isinstance(item, dict):
                self.devs.append(Deviation("FieldTypeMismatch", f"RD[{i}]", kind(item)))
                continue
            reading = _read_reading(i, item, previous, self.devs)
            self.record.readings.append(reading)
            previous = reading


def _read_reading(
    index: int, obj: dict[str, Any], previous: OcmfReading | None, devs: list[Deviation]
) -> OcmfReading:
    prefix = f"RD[{index}]."
    f = Fields(obj, prefix, devs)
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
        reading.value = exact(raw.text, where, devs)
    elif isinstance(raw, str):
        devs.append(Deviation("RvIsString", where, repr(raw)))
        reading.value_text = raw
        stripped = raw.strip()
        if _DECIMAL_TEXT.fullmatch(stripped):
            reading.value = exact(stripped, where, devs)
        else:
            devs.append(Deviation("NumberUnrepresentable", where, repr(raw)))
    else:
        devs.append(Deviation("FieldTypeMismatch", where, kind(raw)))


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
