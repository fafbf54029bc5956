"""The OCMF reader: exact signed bytes, carry-forward, exact decimals, bad input."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest

from hil.verify.ocmf import SignatureStatus, parse_record, verify_signature
from tests.verify._ocmf_helpers import T0, TAG, good_session, signer

PAYLOAD_WITH_PIPE = (
    '{"FV":"1.3","PG":"T3","MS":"SER1","IS":true,"IF":[],"IT":"NONE","ID":"",'
    '"TT":"Nacht|Tarif | 0,30 EUR","RD":[{"TM":"2026-01-02T10:00:00,000+0100 S","TX":"B",'
    '"RV":2935.60,"RI":"01-00:01.08.00*FF","RU":"kWh","EF":"","ST":"G"}]}'
)


def test_payload_bytes_are_the_section_as_written_even_with_pipes_inside() -> None:
    meter = signer()
    text = meter.sign_payload(PAYLOAD_WITH_PIPE)
    record = parse_record(text).record
    assert record is not None
    assert record.payload_text == PAYLOAD_WITH_PIPE
    assert record.payload_bytes == PAYLOAD_WITH_PIPE.encode()
    assert record.tariff_text == "Nacht|Tarif | 0,30 EUR"
    assert record.to_text() == text
    assert verify_signature(record, meter.public_key_hex).status is SignatureStatus.VALID


def test_pretty_printed_payload_keeps_its_whitespace_and_still_verifies() -> None:
    pretty = PAYLOAD_WITH_PIPE.replace(",", ",\n  ").replace("{", "{\n  ")
    meter = signer()
    record = parse_record(meter.sign_payload(pretty)).record
    assert record is not None
    assert record.payload_text == pretty
    assert "PrettyPrintedPayload" in {d.kind for d in record.deviations}
    assert verify_signature(record, meter.public_key_hex).valid
    # A re-serialised payload would not verify: the bytes are what is signed.
    compact = record.raw.replace(",\n  ", ",").replace("{\n  ", "{")
    assert not verify_signature(parse_record(compact).record, meter.public_key_hex).valid


def test_values_are_exact_decimals_with_their_resolution() -> None:
    record = parse_record(signer().sign_payload(PAYLOAD_WITH_PIPE)).record
    assert record is not None
    reading = record.readings[0]
    assert reading.value == Decimal("2935.60")
    assert reading.value_text == "2935.60"
    assert reading.value_wh == Decimal("2935600.00")
    assert reading.resolution_wh == Decimal("10")
    assert reading.time is not None and reading.time.utcoffset().total_seconds() == 3600
    assert reading.time_status == "S"


def test_carry_forward_fills_omitted_fields_from_the_previous_reading() -> None:
    payload = (
        '{"FV":"1.3","PG":"T9","MS":"SER1","IS":true,"IF":[],"IT":"NONE",'
        '"RD":[{"TM":"2026-01-02T10:00:00,000+0100 S","TX":"B","RV":1.000,'
        '"RI":"01-00:01.08.00*FF","RU":"kWh","EF":"","ST":"G"},'
        '{"TM":"2026-01-02T10:15:00,000+0100 S","TX":"C","RV":1.500},'
        '{"RV":2.250,"TX":"E"}]}'
    )
    record = parse_record(signer().sign_payload(payload)).record
    assert record is not None
    first, second, third = record.readings
    assert second.obis == third.obis == "01-00:01.08.00*FF"
    assert second.unit == third.unit == "kWh"
    assert second.status == third.status == "G"
    assert second.carried == {"RI", "RU", "EF", "ST"}
    assert third.time == second.time and "TM" in third.carried
    assert [r.transaction for r in record.readings] == ["B", "C", "E"]
    kinds = [d.kind for d in record.deviations]
    # TM, ST and RU are mandatory: carrying them is lawful but reported.
    assert kinds.count("CarriedForwardMandatoryField") == 5
    assert len(record.billable_readings) == 3


def test_a_transaction_code_is_carried_too() -> None:
    payload = (
        '{"PG":"T1","MS":"S","IS":false,"IF":[],"IT":"NONE","RD":['
        '{"TM":"2026-01-02T10:00:00,000+0100 S","TX":"C","RV":1,"RU":"kWh","ST":"G"},'
        '{"TM":"2026-01-02T10:01:00,000+0100 S","RV":2}]}'
    )
    record = parse_record(signer().sign_payload(payload)).record
    assert record is not None and record.readings[1].transaction == "C"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "does not start with 'OCMF|'"),
        ("OCMF", "no '|'"),
        ("OCMF|not json|{}", "payload section is not a JSON object"),
        ('OCMF|{"PG":"T1"', "payload section is not a JSON object"),
        ('OCMF|{"PG":"T1"}', "no signature section"),
        ('OCMF|{"PG":"T1"}|', "signature section is not a JSON object"),
        ('OCMF|{"PG":"T1"}|{"SD":"00"', "signature section is not a JSON object"),
        ('OCMF|["PG"]|{"SD":"00"}', "payload section is not a JSON object"),
        ('OCMF|{"PG":"T1"} x|{"SD":"00"}', "unexpected bytes after the payload"),
        ('OCMF|{"PG":"T1"}|{"SD":"00"} x', "unexpected bytes after the signature"),
        ('OCMF|{"PG":"T1"}|{"SD":"00"}|KEY|more', "too many sections"),
    ],
)
def test_structural_problems_are_refused_with_a_reason(text: str, reason: str) -> None:
    result = parse_record(text)
    assert not result.ok and result.record is None
    assert result.error is not None and reason in result.error


def test_every_truncation_of_a_record_is_refused_never_raised() -> None:
    text = good_session().begin
    for cut in range(len(text)):
        result = parse_record(text[:cut])
        assert not result.ok, f"a {cut}-byte prefix was accepted"
        assert result.error
    assert parse_record(text).ok


@pytest.mark.parametrize("value", [None, 42, 3.5, ["OCMF|{}|{}"], b"\xff\xfe"])
def test_non_text_input_is_a_verdict_not_an_exception(value: object) -> None:
    result = parse_record(value)  # type: ignore[arg-type]
    assert not result.ok and result.error


def test_bytes_input_is_read_as_utf8() -> None:
    text = good_session().begin
    assert parse_record(text.encode()).record.payload_text == parse_record(text).record.payload_text


def test_random_corruption_never_escapes_the_public_api() -> None:
    session = good_session()
    rng = random.Random(20261121)
    alphabet = '{}[]|":,0123456789.-eE \\uOCMFabc\x01'
    for _ in range(400):
        chars = list(session.end)
        for _ in range(rng.randint(1, 4)):
            i = rng.randrange(len(chars))
            choice = rng.random()
            if choice < 0.4:
                chars[i] = rng.choice(alphabet)
            elif choice < 0.7:
                del chars[i]
            else:
                chars.insert(i, rng.choice(alphabet))
        result = parse_record("".join(chars))
        if result.record is not None:
            verdict = verify_signature(result.record, session.meter.public_key_hex)
            assert verdict.status in set(SignatureStatus)


def test_unknown_algorithm_is_refused_by_name() -> None:
    session = good_session()
    text = session.begin.replace("ECDSA-secp256r1-SHA256", "RSA-2048-SHA256")
    record = parse_record(text).record
    assert record is not None
    assert ("UndefinedTableValue", "signature.SA") in {(d.kind, d.where) for d in record.deviations}
    verdict = verify_signature(record, session.meter.public_key_hex)
    assert verdict.status is SignatureStatus.INVALID
    assert "RSA-2048-SHA256" in verdict.detail and "not a signature algorithm" in verdict.detail


def test_id_tag_and_meter_header_are_read() -> None:
    record = parse_record(good_session().begin).record
    assert record is not None
    assert (record.meter_serial, record.id_data, record.id_type) == (
        "1HIL0000000001",
        TAG,
        "ISO14443",
    )
    assert record.pagination == "T7" and record.pagination_counter == 7
    assert record.readings[0].time == T0
    assert record.deviations == []
