"""The check-component rules for one charging session's signed readings (pure logic).

Given the OCMF records a station sent for one transaction (begin and end, in separate
records or one), the meter key and the OCPP figures, :func:`verify_session` returns a
:class:`SessionVerdict`: one named check per rule, each PASS, FAIL or REMARK (a miss
of something the rules only recommend, e.g. an unsynchronised clock), with a detail
line that names the values it compared. ``render()`` gives a table for a Robot log.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from cryptography.hazmat.primitives.asymmetric import ec

from hil.verify.ocmf.keys import MeterKey
from hil.verify.ocmf.model import OcmfReading, OcmfRecord
from hil.verify.ocmf.reader import parse_record
from hil.verify.ocmf.signature import SignatureStatus, SignatureVerdict, verify_signature

# Check names, stable so that keywords and reports can refer to them.
RECORDS_READABLE = "records readable"
SIGNATURES = "signatures verify"
BEGIN_END = "one begin, one end"
SAME_SERIAL = "same meter serial"
SAME_REGISTER = "same register and unit"
PAGINATION = "pagination consecutive"
IDENTIFICATION = "identification matches tag"
METER_STATUS = "meter status G"
ERROR_FLAGS = "no error flags"
TIME_SYNC = "time synchronised"
BEGIN_VS_START = "signed begin = meterStart"
END_VS_STOP = "signed end = meterStop"
ENERGY_VS_REFERENCE = "energy vs reference meter"
CURRENT_TYPE = "reading current type (RT)"

CHECK_NAMES = (
    RECORDS_READABLE, SIGNATURES, BEGIN_END, SAME_SERIAL, SAME_REGISTER, PAGINATION,
    IDENTIFICATION, METER_STATUS, ERROR_FLAGS, TIME_SYNC, CURRENT_TYPE, BEGIN_VS_START,
    END_VS_STOP, ENERGY_VS_REFERENCE,
)  # fmt: skip


class CheckStatus(enum.StrEnum):
    PASS = "pass"
    FAIL = "fail"
    REMARK = "remark"


@dataclass(frozen=True)
class CheckResult:
    name: str
    status: CheckStatus
    detail: str


@dataclass
class SessionVerdict:
    """Every session check, plus the figures they were computed from."""

    checks: list[CheckResult]
    records: list[OcmfRecord] = field(default_factory=list)
    signatures: list[SignatureVerdict] = field(default_factory=list)
    begin: OcmfReading | None = None
    end: OcmfReading | None = None
    signed_energy_wh: Decimal | None = None
    reference_wh: Decimal | None = None
    title: str = "OCMF session"

    @property
    def passed(self) -> bool:
        """True when no check failed (remarks allowed)."""
        return not self.failed

    @property
    def failed(self) -> list[CheckResult]:
        return [c for c in self.checks if c.status is CheckStatus.FAIL]

    @property
    def remarks(self) -> list[CheckResult]:
        return [c for c in self.checks if c.status is CheckStatus.REMARK]

    def check(self, name: str) -> CheckResult:
        for c in self.checks:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def status(self) -> CheckStatus:
        if self.failed:
            return CheckStatus.FAIL
        return CheckStatus.REMARK if self.remarks else CheckStatus.PASS

    def render(self) -> str:
        """A plain-text table, one row per check, for logs and the CLI."""
        width = max(len(c.name) for c in self.checks)
        lines = [self.title, f"  {'check'.ljust(width)}  result  detail"]
        lines.append(f"  {'-' * width}  ------  {'-' * 40}")
        for c in self.checks:
            lines.append(f"  {c.name.ljust(width)}  {c.status.value.upper():<6}  {c.detail}")
        summary = f"verdict: {self.status.value.upper()}"
        if self.failed or self.remarks:
            summary += f" ({len(self.failed)} failed, {len(self.remarks)} remark(s))"
        lines.append(summary)
        return "\n".join(lines)


def verify_session(
    records: Sequence[OcmfRecord | str],
    public_key: MeterKey | str | bytes | ec.EllipticCurvePublicKey | None,
    *,
    id_tag: str | None = None,
    meter_start_wh: int | Decimal | None = None,
    meter_stop_wh: int | Decimal | None = None,
    reference_wh: int | float | Decimal | None = None,
    tolerance_percent: int | float | Decimal = Decimal("1"),
    tolerance_wh: int | float | Decimal = Decimal("2"),
    current_type: str | None = None,
    title: str = "OCMF session",
) -> SessionVerdict:
    """Run every session check; never raises for bad records or keys.

    ``records`` are the session's signed records in the order received (texts are
    parsed; identical payloads sent twice -- e.g. a begin record in MeterValues and
    again in StopTransaction -- count once). ``meter_start_wh``/``meter_stop_wh`` are
    the OCPP integers; ``reference_wh`` is the reference meter's energy over the same
    session, compared with the signed difference within ``tolerance_percent`` of the
    reference plus ``tolerance_wh``. ``current_type`` is the station's (``AC``/``DC``):
    every reading's ``RT`` must say it (see :func:`_current_type`). An absent figure makes
    its check a REMARK.
    """
    checks: list[CheckResult] = []
    verdict = SessionVerdict(checks, title=title)

    parsed, unreadable, duplicates = _collect(records)
    verdict.records = parsed
    if unreadable:
        checks.append(CheckResult(RECORDS_READABLE, CheckStatus.FAIL, "; ".join(unreadable)))
    elif not parsed:
        checks.append(CheckResult(RECORDS_READABLE, CheckStatus.FAIL, "no signed records"))
    else:
        dup = f" ({duplicates} duplicate(s) counted once)" if duplicates else ""
        checks.append(
            CheckResult(RECORDS_READABLE, CheckStatus.PASS, f"{len(parsed)} record(s){dup}")
        )

    verdict.signatures = [verify_signature(r, public_key) for r in parsed]
    checks.append(_signatures(parsed, verdict.signatures))

    begin, end, begin_end = _begin_end(parsed)
    verdict.begin, verdict.end = begin, end
    checks.append(begin_end)
    begin_rec = _owner(parsed, begin)
    end_rec = _owner(parsed, end)
    checks.append(_same_serial(begin_rec, end_rec, parsed))
    checks.append(_same_register(begin, end))
    checks.append(_pagination(parsed, begin_rec, end_rec))
    checks.append(_identification(begin_rec, end_rec, id_tag))
    checks.append(_per_end(METER_STATUS, begin, end, _status_rule))
    checks.append(_per_end(ERROR_FLAGS, begin, end, _flags_rule))
    checks.append(_time_sync(begin, end))
    checks.append(_current_type(parsed, current_type))
    checks.append(_against_ocpp(BEGIN_VS_START, "meterStart", begin, meter_start_wh))
    checks.append(_against_ocpp(END_VS_STOP, "meterStop", end, meter_stop_wh))

    ref = _decimal(reference_wh)
    verdict.reference_wh = ref
    if (
        begin is not None
        and end is not None
        and begin.value_wh is not None
        and end.value_wh is not None
    ):
        verdict.signed_energy_wh = end.value_wh - begin.value_wh
    checks.append(
        _energy(verdict.signed_energy_wh, ref, _decimal(tolerance_percent), _decimal(tolerance_wh))
    )
    return verdict


def _decimal(value: int | float | Decimal | None) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, Decimal):
        return value
    return Decimal(str(value))


def _collect(records: Sequence[OcmfRecord | str]) -> tuple[list[OcmfRecord], list[str], int]:
    parsed: list[OcmfRecord] = []
    unreadable: list[str] = []
    seen: set[str] = set()
    duplicates = 0
    for i, item in enumerate(records):
        if isinstance(item, OcmfRecord):
            record = item
        else:
            result = parse_record(item)
            if result.record is None:
                unreadable.append(f"record {i + 1}: {result.error}")
                continue
            record = result.record
        if record.payload_text in seen:
            duplicates += 1
            continue
        seen.add(record.payload_text)
        parsed.append(record)
    return parsed, unreadable, duplicates


def _signatures(records: list[OcmfRecord], verdicts: list[SignatureVerdict]) -> CheckResult:
    if not records:
        return CheckResult(SIGNATURES, CheckStatus.FAIL, "no records to verify")
    bad = [
        f"{r.pagination or f'record {i + 1}'}: {v.status.value} ({v.detail})"
        for i, (r, v) in enumerate(zip(records, verdicts, strict=True))
        if v.status is not SignatureStatus.VALID
    ]
    if bad:
        return CheckResult(SIGNATURES, CheckStatus.FAIL, "; ".join(bad))
    algos = sorted({v.algorithm or "?" for v in verdicts})
    forms = sorted({v.key_form or "?" for v in verdicts})
    return CheckResult(
        SIGNATURES,
        CheckStatus.PASS,
        f"{len(verdicts)} of {len(verdicts)} valid ({', '.join(algos)}; key {', '.join(forms)})",
    )


def _begin_end(
    records: list[OcmfRecord],
) -> tuple[OcmfReading | None, OcmfReading | None, CheckResult]:
    readings = [r for rec in records for r in rec.readings]
    begins = [r for r in readings if r.is_begin]
    ends = [r for r in readings if r.is_end]
    note = ""
    # A record may carry further registers (e.g. device-side energy) whose readings
    # inherit TX by carry-forward; only the register of the first begin counts.
    if len(begins) > 1:
        same = [r for r in begins if r.obis == begins[0].obis]
        if len(same) < len(begins):
            note = " (readings of other registers ignored)"
        begins = same
    if len(ends) > 1 and begins:
        same = [r for r in ends if r.obis == begins[0].obis]
        if same and len(same) < len(ends):
            note = " (readings of other registers ignored)"
            ends = same
    begin = begins[0] if len(begins) == 1 else None
    end = ends[0] if len(ends) == 1 else None
    counts = f"{len(begins)} begin (TX=B), {len(ends)} end (TX in E/L/R/A/P){note}"
    if begin is None or end is None:
        return begin, end, CheckResult(BEGIN_END, CheckStatus.FAIL, counts)
    return (
        begin,
        end,
        CheckResult(BEGIN_END, CheckStatus.PASS, f"{counts}; end TX={end.transaction}"),
    )


def _owner(records: list[OcmfRecord], reading: OcmfReading | None) -> OcmfRecord | None:
    if reading is None:
        return None
    for record in records:
        if any(r is reading for r in record.readings):
            return record
    return None


def _missing(begin_rec: object, end_rec: object) -> str:
    return "no begin reading" if begin_rec is None else "no end reading"


def _same_serial(
    begin_rec: OcmfRecord | None, end_rec: OcmfRecord | None, records: list[OcmfRecord]
) -> CheckResult:
    if begin_rec is None or end_rec is None:
        return CheckResult(
            SAME_SERIAL, CheckStatus.FAIL, f"not evaluated: {_missing(begin_rec, end_rec)}"
        )
    serials = {r.meter_serial for r in records}
    if serials == {None}:
        gateways = {r.gateway_serial for r in records}
        if len(gateways) == 1 and None not in gateways:
            return CheckResult(
                SAME_SERIAL,
                CheckStatus.REMARK,
                f"no MS in any record; gateway serial GS={gateways.pop()}",
            )
        return CheckResult(SAME_SERIAL, CheckStatus.FAIL, "no meter serial (MS) to compare")
    if len(serials) == 1:
        return CheckResult(SAME_SERIAL, CheckStatus.PASS, f"MS={begin_rec.meter_serial}")
    return CheckResult(
        SAME_SERIAL,
        CheckStatus.FAIL,
        f"begin MS={begin_rec.meter_serial!r}, end MS={end_rec.meter_serial!r}"
        + ("" if len(serials) == 2 else f"; all: {sorted(map(str, serials))}"),
    )


def _same_register(begin: OcmfReading | None, end: OcmfReading | None) -> CheckResult:
    if begin is None or end is None:
        return CheckResult(
            SAME_REGISTER, CheckStatus.FAIL, f"not evaluated: {_missing(begin, end)}"
        )
    if begin.obis != end.obis or begin.unit != end.unit:
        return CheckResult(
            SAME_REGISTER,
            CheckStatus.FAIL,
            f"begin RI={begin.obis} RU={begin.unit}, end RI={end.obis} RU={end.unit}",
        )
    if begin.unit not in ("kWh", "Wh"):
        return CheckResult(
            SAME_REGISTER, CheckStatus.FAIL, f"RU={begin.unit!r} is not an energy unit"
        )
    return CheckResult(SAME_REGISTER, CheckStatus.PASS, f"RI={begin.obis} RU={begin.unit}")


def _pagination(
    records: list[OcmfRecord], begin_rec: OcmfRecord | None, end_rec: OcmfRecord | None
) -> CheckResult:
    if not records:
        return CheckResult(PAGINATION, CheckStatus.FAIL, "no records")
    pages = [(r.pagination_context, r.pagination_counter, r) for r in records]
    broken = [r.pagination for c, n, r in pages if c is None or n is None]
    if broken:
        return CheckResult(PAGINATION, CheckStatus.FAIL, f"unreadable PG: {broken}")
    contexts = {c for c, _, _ in pages}
    if len(contexts) != 1:
        return CheckResult(
            PAGINATION, CheckStatus.FAIL, f"mixed contexts: {sorted(map(str, contexts))}"
        )
    ordered = sorted(pages, key=lambda p: p[1] or 0)
    shown = ", ".join(p[2].pagination or "?" for p in ordered)
    counters = [p[1] or 0 for p in ordered]
    gaps = [f"{a}->{b}" for a, b in zip(counters, counters[1:], strict=False) if b != a + 1]
    if gaps:
        return CheckResult(
            PAGINATION, CheckStatus.FAIL, f"{shown}: not consecutive ({', '.join(gaps)})"
        )
    out_of_place = (
        begin_rec is not None
        and end_rec is not None
        and (begin_rec is not ordered[0][2] or end_rec is not ordered[-1][2])
    )
    if out_of_place:
        return CheckResult(
            PAGINATION,
            CheckStatus.FAIL,
            f"{shown}: begin {begin_rec.pagination if begin_rec else '?'} / end "
            f"{end_rec.pagination if end_rec else '?'} are not the first and last page",
        )
    return CheckResult(PAGINATION, CheckStatus.PASS, shown)


def _identification(
    begin_rec: OcmfRecord | None, end_rec: OcmfRecord | None, id_tag: str | None
) -> CheckResult:
    if begin_rec is None or end_rec is None:
        return CheckResult(
            IDENTIFICATION, CheckStatus.FAIL, f"not evaluated: {_missing(begin_rec, end_rec)}"
        )
    if id_tag is None:
        return CheckResult(IDENTIFICATION, CheckStatus.REMARK, "no id tag given to compare")
    wanted = id_tag.strip().casefold()
    problems = []
    for label, rec in (("begin", begin_rec), ("end", end_rec)):
        if rec.id_data is None or not rec.id_data.strip():
            problems.append(f"{label} record has no ID (IT={rec.id_type})")
        elif rec.id_data.strip().casefold() != wanted:
            problems.append(f"{label} ID={rec.id_data!r}")
    if problems:
        return CheckResult(
            IDENTIFICATION, CheckStatus.FAIL, f"tag {id_tag!r}: " + "; ".join(problems)
        )
    return CheckResult(
        IDENTIFICATION, CheckStatus.PASS, f"ID={begin_rec.id_data} (IT={begin_rec.id_type})"
    )


def _status_rule(reading: OcmfReading) -> tuple[CheckStatus, str]:
    ok = reading.status == "G"
    return (CheckStatus.PASS if ok else CheckStatus.FAIL), f"ST={reading.status}"


def _flags_rule(reading: OcmfReading) -> tuple[CheckStatus, str]:
    flags = reading.error_flags
    if "E" in flags:
        return CheckStatus.FAIL, f"EF={flags!r} (energy unusable)"
    if flags:
        return CheckStatus.REMARK, f"EF={flags!r}"
    return CheckStatus.PASS, "EF empty"


def _per_end(
    name: str,
    begin: OcmfReading | None,
    end: OcmfReading | None,
    rule: Callable[[OcmfReading], tuple[CheckStatus, str]],
) -> CheckResult:
    if begin is None or end is None:
        return CheckResult(name, CheckStatus.FAIL, f"not evaluated: {_missing(begin, end)}")
    b_status, b_text = rule(begin)
    e_status, e_text = rule(end)
    order = [CheckStatus.PASS, CheckStatus.REMARK, CheckStatus.FAIL]
    status = max(b_status, e_status, key=order.index)
    return CheckResult(name, status, f"begin {b_text}, end {e_text}")


def _time_sync(begin: OcmfReading | None, end: OcmfReading | None) -> CheckResult:
    if begin is None or end is None:
        return CheckResult(TIME_SYNC, CheckStatus.FAIL, f"not evaluated: {_missing(begin, end)}")
    detail = f"begin {begin.time_text or 'no TM'}, end {end.time_text or 'no TM'}"
    if begin.time_status == "S" and end.time_status == "S":
        return CheckResult(TIME_SYNC, CheckStatus.PASS, detail)
    return CheckResult(TIME_SYNC, CheckStatus.REMARK, f"{detail}: not synchronised (S)")


def _current_type(records: list[OcmfRecord], station: str | None) -> CheckResult:
    """Every reading's ``RT`` says the station's current type.

    The OCMF spec's reading field ``RT`` (Reading Current Type, AC or DC) says what current
    the meter measured; under Eichrecht (PTB-A 50.7) a DC charge is billed only from a
    meter approved and installed for DC, so a DC station's reading that says AC (or an AC
    station's that says DC) is not a reading of the energy delivered: MUST, FAIL. Readings
    of one session with different ``RT`` fail for the same reason. ``RT`` is optional in
    OCMF: a reading without it cannot show it was taken on the station's current type, a
    REMARK when the station's type is known. Without the station's type, consistency alone.
    """
    readings = [r for rec in records for r in rec.readings]
    if not readings:
        return CheckResult(CURRENT_TYPE, CheckStatus.FAIL, "no readings")
    stated = [r.current_type for r in readings if r.current_type is not None]
    shown = ", ".join(f"RT={t}" for t in sorted(set(stated))) or "no RT"
    missing = len(readings) - len(stated)
    if missing:
        shown += f" ({missing} of {len(readings)} reading(s) without RT)"
    if len(set(stated)) > 1:
        return CheckResult(CURRENT_TYPE, CheckStatus.FAIL, f"{shown}: mixed in one session")
    if station is None:
        return CheckResult(CURRENT_TYPE, CheckStatus.PASS, f"{shown} (station's type not given)")
    where = f"on {'an' if station[:1] in 'AEIOU' else 'a'} {station} station"
    wrong = [t for t in stated if t != station]
    if wrong:
        return CheckResult(
            CURRENT_TYPE,
            CheckStatus.FAIL,
            f"{shown} {where}: the readings do not say the {station} energy delivered",
        )
    if missing:
        return CheckResult(CURRENT_TYPE, CheckStatus.REMARK, f"{shown} {where}")
    return CheckResult(CURRENT_TYPE, CheckStatus.PASS, f"{shown} {where}")


def _against_ocpp(
    name: str, field_name: str, reading: OcmfReading | None, ocpp_wh: int | Decimal | None
) -> CheckResult:
    if reading is None:
        return CheckResult(name, CheckStatus.FAIL, "not evaluated: no such reading")
    signed = reading.value_wh
    if signed is None:
        return CheckResult(
            name,
            CheckStatus.FAIL,
            f"reading has no energy value (RV={reading.value_text}, RU={reading.unit})",
        )
    if ocpp_wh is None:
        return CheckResult(
            name, CheckStatus.REMARK, f"signed {signed} Wh; no {field_name} to compare"
        )
    ocpp = _decimal(ocpp_wh)
    assert ocpp is not None
    # The signed value is rounded to its register resolution, the OCPP integer to 1 Wh:
    # they can differ by less than the sum of the two steps, no more.
    allowed = (reading.resolution_wh or Decimal(0)) + 1
    diff = abs(signed - ocpp)
    detail = (
        f"signed {reading.value_text} {reading.unit} = {signed.normalize():f} Wh, "
        f"{field_name} {ocpp} Wh (|diff| {diff.normalize():f} < {allowed.normalize():f} Wh allowed)"
    )
    if diff < allowed:
        return CheckResult(name, CheckStatus.PASS, detail)
    return CheckResult(name, CheckStatus.FAIL, detail.replace(" < ", " not < "))


def _energy(
    signed: Decimal | None, ref: Decimal | None, percent: Decimal | None, tol_wh: Decimal | None
) -> CheckResult:
    if signed is None:
        return CheckResult(
            ENERGY_VS_REFERENCE, CheckStatus.FAIL, "no signed energy (begin/end value missing)"
        )
    if ref is None:
        return CheckResult(
            ENERGY_VS_REFERENCE,
            CheckStatus.REMARK,
            f"signed {signed.normalize():f} Wh; no reference figure",
        )
    allowed = abs(ref) * (percent or Decimal(0)) / 100 + (tol_wh or Decimal(0))
    diff = signed - ref
    rel = f" ({diff / ref * 100:+.2f} %)" if ref else ""
    detail = (
        f"signed {signed.normalize():f} Wh, reference {ref.normalize():f} Wh, diff "
        f"{diff.normalize():f} Wh{rel}; allowed +/-{allowed.normalize():f} Wh "
        f"({percent} % + {tol_wh} Wh)"
    )
    if abs(diff) <= allowed:
        return CheckResult(ENERGY_VS_REFERENCE, CheckStatus.PASS, detail)
    return CheckResult(ENERGY_VS_REFERENCE, CheckStatus.FAIL, detail)
