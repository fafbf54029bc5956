"""Session checks: a good session passes, and each rule fails (or remarks) on its own."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from hil.verify.ocmf import CheckStatus, ReadingSpec, tamper_signature, verify_session
from hil.verify.ocmf import session as S
from tests.verify._ocmf_helpers import T0, TAG, good_session, signer

T1 = T0 + timedelta(minutes=30)


def _verify(records, session, **overrides):  # type: ignore[no-untyped-def]
    kwargs = {
        "id_tag": TAG,
        "meter_start_wh": session.start_wh,
        "meter_stop_wh": session.stop_wh,
        "reference_wh": session.energy_wh,
        "tolerance_percent": Decimal("1"),
        "tolerance_wh": Decimal("2"),
    }
    kwargs.update(overrides)
    return verify_session(records, session.meter.public_key_hex, **kwargs)


def _failed(verdict) -> set[str]:  # type: ignore[no-untyped-def]
    return {c.name for c in verdict.failed}


def test_a_good_session_passes_every_check() -> None:
    session = good_session()
    verdict = _verify([session.begin, session.end], session)
    assert verdict.passed, verdict.render()
    assert [c.name for c in verdict.checks] == list(S.CHECK_NAMES)
    assert all(c.status is CheckStatus.PASS for c in verdict.checks), verdict.render()
    assert verdict.signed_energy_wh == Decimal(1445)
    assert verdict.status is CheckStatus.PASS


def test_one_record_with_begin_and_end_passes_too() -> None:
    meter = signer()
    record = meter.sign_readings(
        [ReadingSpec(12345, T0, "B"), ReadingSpec(13790, T1, "E")], id_tag=TAG, pagination=4
    )
    session = good_session()
    verdict = verify_session(
        [record],
        meter.public_key_hex,
        id_tag=TAG,
        meter_start_wh=12345,
        meter_stop_wh=13790,
        reference_wh=1445,
    )
    assert verdict.passed and not verdict.remarks, verdict.render()
    assert session.energy_wh == verdict.signed_energy_wh


def test_the_same_record_sent_twice_counts_once() -> None:
    session = good_session()
    verdict = _verify([session.begin, session.begin, session.end], session)
    assert verdict.passed, verdict.render()
    assert "1 duplicate" in verdict.check(S.RECORDS_READABLE).detail


def test_bad_signature_fails_only_the_signature_check() -> None:
    session = good_session()
    verdict = _verify([session.begin, tamper_signature(session.end)], session)
    assert _failed(verdict) == {S.SIGNATURES}
    assert "T8: invalid" in verdict.check(S.SIGNATURES).detail


def test_serial_changed_between_begin_and_end() -> None:
    session = good_session()
    end = session.meter.end(13790, T1, TAG, 8, meter_serial="1HIL0000000002")
    verdict = _verify([session.begin, end], session)
    assert _failed(verdict) == {S.SAME_SERIAL}
    assert "1HIL0000000002" in verdict.check(S.SAME_SERIAL).detail


def test_pagination_gap() -> None:
    session = good_session()
    end = session.meter.end(13790, T1, TAG, 9)  # T8 skipped
    verdict = _verify([session.begin, end], session)
    assert _failed(verdict) == {S.PAGINATION}
    assert verdict.check(S.PAGINATION).detail == "T7, T9: not consecutive (7->9)"


def test_pagination_repeated_for_different_records() -> None:
    session = good_session()
    periodic = session.meter.sign_readings(
        [ReadingSpec(13000, T0 + timedelta(minutes=15), "C")], id_tag=TAG, pagination=8
    )
    verdict = _verify([session.begin, periodic, session.end], session)
    assert _failed(verdict) == {S.PAGINATION}
    assert "8->8" in verdict.check(S.PAGINATION).detail


def test_intermediate_signed_readings_keep_the_session_valid() -> None:
    session = good_session()
    periodic = session.meter.sign_readings(
        [ReadingSpec(13000, T0 + timedelta(minutes=15), "C")], id_tag=TAG, pagination=8
    )
    end = session.meter.end(13790, T1, TAG, 9)
    verdict = _verify([session.begin, periodic, end], session)
    assert verdict.passed, verdict.render()
    assert verdict.check(S.PAGINATION).detail == "T7, T8, T9"


def test_end_paged_before_begin_fails_pagination() -> None:
    session = good_session()
    begin = session.meter.begin(12345, T0, TAG, 9)
    verdict = _verify([begin, session.end], session)
    assert _failed(verdict) == {S.PAGINATION}


def test_signed_end_differs_from_meter_stop() -> None:
    session = good_session()
    verdict = _verify([session.begin, session.end], session, meter_stop_wh=13800)
    assert _failed(verdict) == {S.END_VS_STOP}
    verdict = _verify([session.begin, session.end], session, meter_start_wh=12340)
    assert _failed(verdict) == {S.BEGIN_VS_START}


def test_meter_start_comparison_allows_the_register_resolution() -> None:
    """A 2-decimal kWh register (10 Wh steps) may differ from the Wh integer by < 11 Wh."""
    meter = signer(decimals=2)
    begin = meter.begin(12349, T0, TAG, 1)  # the register shows 12.34 kWh (truncated)
    end = meter.end(13790, T1, TAG, 2)  # 13.79 kWh
    assert '"RV":12.34,' in begin
    kwargs = {"id_tag": TAG, "meter_stop_wh": 13790, "reference_wh": 1445}
    for start, expected in (
        (12349, CheckStatus.PASS),
        (12350, CheckStatus.PASS),
        (12351, CheckStatus.FAIL),
        (12329, CheckStatus.FAIL),
    ):
        verdict = verify_session([begin, end], meter.public_key_hex, meter_start_wh=start, **kwargs)
        assert verdict.check(S.BEGIN_VS_START).status is expected, (start, verdict.render())


def test_signed_energy_against_the_reference_meter() -> None:
    session = good_session()  # signed 1445 Wh; allowed 1 % + 2 Wh of the reference
    records = [session.begin, session.end]
    inside = _verify(records, session, reference_wh=Decimal("1428"))  # -> 16.28 Wh allowed, diff 17
    assert _failed(inside) == {S.ENERGY_VS_REFERENCE}
    edge = _verify(records, session, reference_wh=Decimal("1430"))  # 16.3 allowed, diff 15
    assert edge.passed
    off = _verify(records, session, reference_wh=1445 * 1.05)
    assert _failed(off) == {S.ENERGY_VS_REFERENCE}
    assert "-4.76 %" in off.check(S.ENERGY_VS_REFERENCE).detail
    missing = _verify(records, session, reference_wh=None)
    assert missing.passed
    assert missing.check(S.ENERGY_VS_REFERENCE).status is CheckStatus.REMARK


def test_meter_status_not_g() -> None:
    session = good_session()
    end = session.meter.end(13790, T1, TAG, 8, status="M")
    verdict = _verify([session.begin, end], session)
    assert _failed(verdict) == {S.METER_STATUS}
    assert "end ST=M" in verdict.check(S.METER_STATUS).detail


def test_energy_error_flag_fails_and_time_flag_remarks() -> None:
    session = good_session()
    with_e = session.meter.end(13790, T1, TAG, 8, error_flags="E")
    assert _failed(_verify([session.begin, with_e], session)) == {S.ERROR_FLAGS}
    with_t = session.meter.end(13790, T1, TAG, 8, error_flags="t")
    verdict = _verify([session.begin, with_t], session)
    assert verdict.passed
    assert verdict.check(S.ERROR_FLAGS).status is CheckStatus.REMARK


@pytest.mark.parametrize("time_status", ["U", "I", "R", ""])
def test_time_not_synchronised_is_a_remark_not_a_failure(time_status: str) -> None:
    session = good_session()
    begin = session.meter.begin(12345, T0, TAG, 7, time_status=time_status)
    verdict = _verify([begin, session.end], session)
    assert verdict.passed, verdict.render()
    assert verdict.check(S.TIME_SYNC).status is CheckStatus.REMARK
    assert [c.name for c in verdict.remarks] == [S.TIME_SYNC]
    assert verdict.status is CheckStatus.REMARK


def test_identification_must_match_the_tag() -> None:
    session = good_session()
    assert _failed(_verify([session.begin, session.end], session, id_tag="DEADBEEF")) == {
        S.IDENTIFICATION
    }
    assert _verify([session.begin, session.end], session, id_tag=TAG.lower()).passed
    anonymous = session.meter.end(13790, T1, None, 8)
    verdict = _verify([session.begin, anonymous], session)
    assert _failed(verdict) == {S.IDENTIFICATION}
    assert "end record has no ID" in verdict.check(S.IDENTIFICATION).detail


def test_exactly_one_begin_and_one_end() -> None:
    session = good_session()
    second_begin = session.meter.begin(12400, T0, TAG, 8)
    end = session.meter.end(13790, T1, TAG, 9)
    verdict = _verify([session.begin, second_begin, end], session)
    assert S.BEGIN_END in _failed(verdict)
    assert "2 begin" in verdict.check(S.BEGIN_END).detail
    only_begin = _verify([session.begin], session)
    assert "0 end" in only_begin.check(S.BEGIN_END).detail
    assert only_begin.check(S.END_VS_STOP).status is CheckStatus.FAIL
    for reason in ("L", "R", "A", "P"):
        end = session.meter.end(13790, T1, TAG, 8, tx=reason)
        assert _verify([session.begin, end], session).passed, reason


def test_register_or_unit_changed() -> None:
    session = good_session()
    in_wh = session.meter.end(13790, T1, TAG, 8, unit="Wh")
    verdict = _verify([session.begin, in_wh], session)
    assert _failed(verdict) == {S.SAME_REGISTER}  # values still agree once converted
    other_obis = session.meter.end(13790, T1, TAG, 8, obis="01-00:02.08.00*FF")
    assert _failed(_verify([session.begin, other_obis], session)) == {S.SAME_REGISTER}


def test_missing_key_and_unreadable_records_fail_clearly() -> None:
    session = good_session()
    no_key = verify_session([session.begin, session.end], None, id_tag=TAG)
    assert S.SIGNATURES in _failed(no_key)
    assert "no key" in no_key.check(S.SIGNATURES).detail
    junk = _verify([session.begin, session.end, "OCMF|{broken"], session)
    assert S.RECORDS_READABLE in _failed(junk)
    nothing = _verify([], session)
    assert not nothing.passed
    assert nothing.check(S.RECORDS_READABLE).detail == "no signed records"


def test_render_is_a_readable_table() -> None:
    session = good_session()
    end = session.meter.end(13790, T1, TAG, 8, meter_serial="OTHER")
    text = _verify([session.begin, end], session, title="EI1 transaction 42").render()
    lines = text.splitlines()
    assert lines[0] == "EI1 transaction 42"
    for name in S.CHECK_NAMES:
        assert any(line.strip().startswith(name) for line in lines), name
    assert any("same meter serial" in ln and " FAIL " in ln for ln in lines)
    assert lines[-1] == "verdict: FAIL (1 failed, 0 remark(s))"
