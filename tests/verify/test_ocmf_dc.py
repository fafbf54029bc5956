"""OCMF on a DC station: the reading current type (RT) against the station's, and the
forwarded record held against the signing DC meter's own record of the transaction."""

from __future__ import annotations

import argparse
import io
from datetime import timedelta

import pytest

from hil.verify.ocmf import CheckStatus, ReadingSpec, SessionVerdict, verify_session
from hil.verify.ocmf.cli import add_arguments, run
from hil.verify.ocmf.meter_record import (
    METER_RECORD,
    METER_REGISTERS,
    METER_TRANSACTION,
    MeterTransaction,
    compare_with_meter,
)
from hil.verify.ocmf.session import CURRENT_TYPE
from tests.verify._ocmf_helpers import T0, TAG, signer

T1 = T0 + timedelta(minutes=20)


def _dc_record(begin: int, end: int, page: int = 1, current_type: str | None = "DC") -> str:
    """One record with begin and end, as a DC meter (LEM DCBM) signs it at stop."""
    return signer(current_type=current_type).sign_readings(
        [ReadingSpec(begin, T0, "B"), ReadingSpec(end, T1, "E")], id_tag=TAG, pagination=page
    )


def _verify(record: str, station: str | None) -> SessionVerdict:
    """One record of a 1000 Wh to 1500 Wh session, on a station of ``station`` type."""
    return verify_session(
        [record],
        signer().public_key_hex,
        id_tag=TAG,
        meter_start_wh=1000,
        meter_stop_wh=1500,
        reference_wh=500,
        current_type=station,
    )


def _rt(record: str, station: str | None) -> tuple[CheckStatus, str]:
    check = _verify(record, station).check(CURRENT_TYPE)
    return check.status, check.detail


def test_a_dc_record_on_a_dc_station_passes_with_one_record_and_no_remark():
    verdict = _verify(_dc_record(1000, 1500), "DC")
    assert verdict.passed and not verdict.remarks, verdict.render()


@pytest.mark.parametrize(
    ("signed", "station", "status", "detail"),
    [
        ("AC", "DC", CheckStatus.FAIL, "RT=AC on a DC station"),
        ("DC", "AC", CheckStatus.FAIL, "RT=DC on an AC station"),
        ("AC", "AC", CheckStatus.PASS, "RT=AC on an AC station"),
        (None, "DC", CheckStatus.REMARK, "no RT (2 of 2 reading(s) without RT) on a DC station"),
        ("DC", None, CheckStatus.PASS, "station's type not given"),
    ],
)
def test_rt_must_say_the_stations_current_type(signed, station, status, detail):
    """Eichrecht / PTB-A 50.7 and the OCMF field RT: a DC station's reading saying AC is
    not a reading of the DC energy delivered (harm: a station whose meter is installed or
    configured for the wrong current would be certified)."""
    got, text = _rt(_dc_record(1000, 1500, current_type=signed), station)
    assert got is status, text
    assert detail in text


def test_mixed_rt_in_one_session_fails():
    begin = signer(current_type="AC").sign_readings(
        [ReadingSpec(1000, T0, "B")], id_tag=TAG, pagination=1
    )
    end = signer(current_type="DC").sign_readings(
        [ReadingSpec(1500, T1, "E")], id_tag=TAG, pagination=2
    )
    verdict = verify_session([begin, end], signer().public_key_hex, current_type="DC")
    check = verdict.check(CURRENT_TYPE)
    assert check.status is CheckStatus.FAIL and "RT=AC, RT=DC" in check.detail, check.detail


def _checks(forwarded: list[str], meter: MeterTransaction, start: int = 1000, stop: int = 1500):
    return {
        c.name: c
        for c in compare_with_meter(forwarded, meter, meter_start_wh=start, meter_stop_wh=stop)
    }


def test_the_meters_own_record_forwarded_unchanged_passes():
    record = _dc_record(1000, 1500, page=7)
    checks = _checks([record], MeterTransaction("tx-7", False, record))
    assert {c.status for c in checks.values()} == {CheckStatus.PASS}, checks
    assert "PG=T7" in checks[METER_RECORD].detail


def test_an_earlier_record_forwarded_fails_naming_both():
    """The station forwards a record that is not the meter's record of the transaction
    (here an earlier, empty one): PTB-A 50.7, the billed values are the meter's (harm: a
    customer billed from a record of another transaction)."""
    own = _dc_record(1000, 1500, page=8)
    stale = _dc_record(1000, 1000, page=7)
    checks = _checks([stale], MeterTransaction("tx-8", False, own))
    record, registers = checks[METER_RECORD], checks[METER_REGISTERS]
    assert record.status is CheckStatus.FAIL
    assert "PG=T7" in record.detail and "PG=T8" in record.detail and "'tx-8'" in record.detail
    assert registers.status is CheckStatus.FAIL
    assert "forwarded signed end 1000 Wh, meter's 1500 Wh" in registers.detail


def test_meter_stop_other_than_the_meters_end_fails():
    own = _dc_record(1000, 1500)
    checks = _checks([own], MeterTransaction("tx", False, own), stop=1510)
    assert checks[METER_RECORD].status is CheckStatus.PASS
    assert checks[METER_REGISTERS].status is CheckStatus.FAIL
    assert "meterStop 1510 Wh, meter's end 1500 Wh" in checks[METER_REGISTERS].detail


@pytest.mark.parametrize(
    ("meter", "detail"),
    [
        (MeterTransaction("", False, None), "holds no legal transaction"),
        (MeterTransaction("tx", True, None), "still running"),
    ],
)
def test_a_legal_transaction_not_run_or_not_ended_fails(meter, detail):
    checks = _checks([_dc_record(1000, 1500)], meter)
    assert checks[METER_TRANSACTION].status is CheckStatus.FAIL
    assert detail in checks[METER_TRANSACTION].detail
    assert checks[METER_RECORD].status is CheckStatus.FAIL  # nothing to compare with


def test_a_signed_register_in_kwh_compares_exactly_in_wh():
    own = _dc_record(1234, 1999)
    checks = _checks([own], MeterTransaction("tx", False, own), start=1234, stop=1999)
    assert checks[METER_REGISTERS].status is CheckStatus.PASS
    assert "meter's begin 1234 Wh, meter's end 1999 Wh" in checks[METER_REGISTERS].detail


def test_the_command_line_checks_rt_against_current_type(tmp_path):
    """``hil ocmf verify --session --current-type DC``: an AC reading fails the session."""
    path = tmp_path / "records.txt"
    key = signer().public_key_hex

    def verify(record: str) -> tuple[int, str]:
        path.write_text(record + "\n")
        parser = argparse.ArgumentParser()
        add_arguments(parser)
        argv = [str(path), "--key", key, "--session", "--current-type", "DC"]
        out = io.StringIO()
        return run(parser.parse_args(argv), out), out.getvalue()

    code, text = verify(_dc_record(1000, 1500, current_type="AC"))
    assert code == 1 and "RT=AC on a DC station" in text, text
    code, text = verify(_dc_record(1000, 1500))
    assert code == 0, text
