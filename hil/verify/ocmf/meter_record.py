"""The station's forwarded OCMF held against the signing meter's own record (pure logic).

A DC station's legal register is a DC meter inside it that signs its readings (LEM DCBM,
Isabellenhütte IEM-DCR); the lab reads that meter directly. The station is only the
transmission path: under Eichrecht (PTB-A 50.7) the billed values are the meter's, so what
the station forwards in OCPP must be the meter's record of the transaction unchanged, and
its begin/end registers the meter's. :func:`compare_with_meter` returns one
:class:`~hil.verify.ocmf.session.CheckResult` per rule, to append to a session verdict.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from hil.verify.ocmf.model import OcmfReading, OcmfRecord
from hil.verify.ocmf.reader import parse_record
from hil.verify.ocmf.session import CheckResult, CheckStatus

METER_TRANSACTION = "DC meter's legal transaction ended"
METER_RECORD = "record = DC meter's record"
METER_REGISTERS = "registers = DC meter's"

METER_CHECK_NAMES = (METER_TRANSACTION, METER_RECORD, METER_REGISTERS)


@dataclass(frozen=True)
class MeterTransaction:
    """What the meter itself holds for the transaction (read through the lab's driver)."""

    transaction_id: str  # the meter's id of the legal transaction ("" when it has none)
    running: bool
    ocmf: str | None  # the meter's signed record of it (None while it runs or has none)


def compare_with_meter(
    forwarded: Sequence[OcmfRecord | str],
    meter: MeterTransaction,
    *,
    meter_start_wh: int | Decimal | None = None,
    meter_stop_wh: int | Decimal | None = None,
) -> list[CheckResult]:
    """Three checks, each a MUST (FAIL), never raising:

    - the meter's legal transaction has ended (the station stops it when the charging
      transaction ends: the signed end reading is the transaction's end);
    - the forwarded record that holds the end reading is the meter's record, byte for byte
      (payload and signature): the station forwards, it does not make records;
    - the forwarded begin/end and ``meterStart``/``meterStop`` equal the meter's own
      begin/end registers (the OCPP integers to the meter's register resolution + 1 Wh).
    """
    records = [_parsed(r) for r in forwarded]
    parsed = [r for r in records if r is not None]
    checks = [_ended(meter)]
    own = _parsed(meter.ocmf) if meter.ocmf is not None else None
    if own is None:
        why = "the meter holds no readable record of it"
        checks.append(CheckResult(METER_RECORD, CheckStatus.FAIL, f"not evaluated: {why}"))
        checks.append(CheckResult(METER_REGISTERS, CheckStatus.FAIL, f"not evaluated: {why}"))
        return checks
    checks.append(_same_record(parsed, own, meter.transaction_id))
    checks.append(_same_registers(parsed, own, meter_start_wh, meter_stop_wh))
    return checks


def _parsed(item: OcmfRecord | str) -> OcmfRecord | None:
    return item if isinstance(item, OcmfRecord) else parse_record(item).record


def _ended(meter: MeterTransaction) -> CheckResult:
    if not meter.transaction_id:
        return CheckResult(
            METER_TRANSACTION,
            CheckStatus.FAIL,
            "the DC meter holds no legal transaction: the station started none",
        )
    if meter.running:
        return CheckResult(
            METER_TRANSACTION,
            CheckStatus.FAIL,
            f"the DC meter's legal transaction {meter.transaction_id!r} is still running "
            "after the charging transaction ended",
        )
    return CheckResult(
        METER_TRANSACTION, CheckStatus.PASS, f"legal transaction {meter.transaction_id!r} stopped"
    )


def _end_reading(record: OcmfRecord) -> OcmfReading | None:
    return next((r for r in reversed(record.readings) if r.is_end), None)


def _begin_reading(record: OcmfRecord) -> OcmfReading | None:
    return next((r for r in record.readings if r.is_begin), None)


def _summary(record: OcmfRecord) -> str:
    begin, end = _begin_reading(record), _end_reading(record)
    return (
        f"PG={record.pagination} begin {begin.value_text if begin else '-'} "
        f"end {end.value_text if end else '-'} {end.unit if end else ''}".rstrip()
    )


def _same_record(forwarded: list[OcmfRecord], own: OcmfRecord, legal_id: str) -> CheckResult:
    ends = [r for r in forwarded if _end_reading(r) is not None]
    sent = ends[-1] if ends else (forwarded[-1] if forwarded else None)
    if sent is None:
        return CheckResult(METER_RECORD, CheckStatus.FAIL, "the station forwarded no record")
    if sent.payload_text == own.payload_text and sent.signature_text == own.signature_text:
        return CheckResult(
            METER_RECORD,
            CheckStatus.PASS,
            f"the forwarded record is the meter's record of {legal_id!r} ({_summary(own)})",
        )
    what = "signature differs" if sent.payload_text == own.payload_text else "payload differs"
    return CheckResult(
        METER_RECORD,
        CheckStatus.FAIL,
        f"the forwarded record ({_summary(sent)}) is not the meter's record of {legal_id!r} "
        f"({_summary(own)}): {what}",
    )


def _same_registers(
    forwarded: list[OcmfRecord],
    own: OcmfRecord,
    meter_start_wh: int | Decimal | None,
    meter_stop_wh: int | Decimal | None,
) -> CheckResult:
    own_begin, own_end = _begin_reading(own), _end_reading(own)
    if own_begin is None or own_end is None:
        return CheckResult(
            METER_REGISTERS, CheckStatus.FAIL, "the meter's own record has no begin or no end"
        )
    begins = [b for r in forwarded if (b := _begin_reading(r)) is not None]
    ends = [e for r in forwarded if (e := _end_reading(r)) is not None]
    problems: list[str] = []
    shown: list[str] = []
    pairs = (
        ("begin", own_begin, begins[0] if begins else None, meter_start_wh, "meterStart"),
        ("end", own_end, ends[-1] if ends else None, meter_stop_wh, "meterStop"),
    )
    for label, mine, sent, ocpp, field_name in pairs:
        mine_wh = mine.value_wh
        shown.append(f"meter's {label} {_wh(mine_wh)}")
        if sent is None or sent.value_wh is None:
            problems.append(f"no forwarded signed {label}")
        elif sent.value_wh != mine_wh:
            problems.append(
                f"forwarded signed {label} {_wh(sent.value_wh)}, meter's {_wh(mine_wh)}"
            )
        if ocpp is not None and mine_wh is not None:
            allowed = (mine.resolution_wh or Decimal(0)) + 1
            if abs(Decimal(ocpp) - mine_wh) >= allowed:
                problems.append(f"{field_name} {ocpp} Wh, meter's {label} {_wh(mine_wh)}")
    if problems:
        return CheckResult(METER_REGISTERS, CheckStatus.FAIL, "; ".join(problems))
    return CheckResult(
        METER_REGISTERS,
        CheckStatus.PASS,
        ", ".join(shown) + ": the forwarded readings and meterStart/meterStop agree",
    )


def _wh(value: Decimal | None) -> str:
    return "?" if value is None else f"{value.normalize():f} Wh"
