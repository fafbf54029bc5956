"""The signer the virtual station uses: clean records, on every curve, with overrides."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from hil.verify.ocmf import (
    OcmfSigner,
    extract_ocmf,
    generate_private_key,
    load_public_key,
    parse_record,
    public_key_hex,
    tamper_signature,
    verify_signature,
)
from hil.verify.ocmf.curves import CURVES
from hil.verify.ocmf.signer import DEFAULT_OBIS, format_time
from tests.verify._ocmf_helpers import T0, TAG, signer

TM = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d,\d{3}[+-]\d{4} [UISR]")


@pytest.mark.parametrize("curve", ["secp256r1", "secp384r1", "brainpool256r1", "brainpool384r1"])
def test_records_are_clean_and_verify(curve: str) -> None:
    meter = OcmfSigner(generate_private_key(curve), meter_serial="SER-1")
    text = meter.begin(1234567, T0, TAG, 12)
    record = parse_record(text).record
    assert record is not None
    assert record.deviations == [], record.deviations
    assert record.algorithm == f"ECDSA-{curve}-SHA256"
    verdict = verify_signature(record, meter.public_key_hex)
    assert verdict.valid and verdict.deviations == []  # DER, canonical, low s
    assert load_public_key(meter.public_key_hex).curve is CURVES[curve]


def test_payload_shape() -> None:
    text = signer().end(13790, T0, TAG, 8, tx="L")
    record = parse_record(text).record
    assert record.deviations == []  # includes: compact, no whitespace outside strings
    reading = record.readings[0]
    assert reading.value_text == "13.790" and reading.value == Decimal("13.790")
    assert (reading.unit, reading.obis, reading.transaction) == ("kWh", DEFAULT_OBIS, "L")
    assert TM.fullmatch(reading.time_text)
    assert reading.time == T0
    assert (record.pagination, record.meter_serial, record.id_data) == ("T8", "1HIL0000000001", TAG)
    assert record.id_flags == ["RFID_PLAIN", "OCPP_AUTH"] and record.id_status is True


def test_id_type_follows_the_tag_shape() -> None:
    meter = signer()
    assert parse_record(meter.begin(1, T0, "04A1B2C3", 1)).record.id_type == "ISO14443"
    assert parse_record(meter.begin(1, T0, "TAG-VALID-001", 1)).record.id_type == "CENTRAL"
    anonymous = parse_record(meter.begin(1, T0, None, 1)).record
    assert (anonymous.id_type, anonymous.id_data, anonymous.id_status) == ("NONE", "", False)
    assert anonymous.deviations == []


def test_every_field_a_deviation_needs_can_be_set() -> None:
    meter = signer()
    text = meter.end(
        5000,
        T0,
        TAG,
        "T99",
        status="X",
        error_flags="Et",
        time_status="U",
        obis="01-00:B2.08.00*FF",
        unit="Wh",
        meter_serial="SWAPPED",
        id_type="LOCAL",
    )
    record = parse_record(text).record
    reading = record.readings[0]
    assert (record.pagination, record.meter_serial, record.id_type) == ("T99", "SWAPPED", "LOCAL")
    assert (reading.status, reading.error_flags, reading.time_status) == ("X", "Et", "U")
    assert (reading.obis, reading.unit, reading.value_text) == ("01-00:B2.08.00*FF", "Wh", "5000")
    assert verify_signature(record, meter.public_key_hex).valid


def test_tamper_signature_breaks_only_the_signature() -> None:
    meter = signer()
    text = meter.begin(1000, T0, TAG, 1)
    bad = tamper_signature(text)
    assert bad != text and bad.split("|")[1] == text.split("|")[1]
    assert not verify_signature(parse_record(bad).record, meter.public_key_hex).valid
    with pytest.raises(ValueError):
        tamper_signature('OCMF|{}|{"SD":"not hex"}')


def test_signed_meter_value_carries_the_key() -> None:
    meter = signer()
    found = extract_ocmf(meter.signed_meter_value(meter.begin(1000, T0, TAG, 1)))
    assert found.ok and found.transport == "signed-meter-value"
    assert load_public_key(found.public_key).spki_hex == meter.public_key_hex
    assert (
        extract_ocmf(meter.signed_meter_value("OCMF|{}|{}", include_key=False)).public_key is None
    )
    assert load_public_key(meter.public_key_oca).spki_hex == public_key_hex(meter._key)  # noqa: SLF001


def test_format_time() -> None:
    naive = datetime(2024, 3, 1, 8, 0, 0, 999999)
    assert format_time(naive) == "2024-03-01T08:00:00,999+0000 S"
    west = datetime(2024, 3, 1, 8, 0, tzinfo=timezone(timedelta(hours=-5, minutes=-30)))
    assert format_time(west, "I") == "2024-03-01T08:00:00,000-0530 I"
    assert format_time(datetime(2024, 3, 1, tzinfo=UTC), "") == "2024-03-01T00:00:00,000+0000"


def test_curves_nobody_can_sign_on_are_refused() -> None:
    with pytest.raises(ValueError, match="secp192k1"):
        generate_private_key("secp192k1")
    with pytest.raises(ValueError, match="unknown curve"):
        generate_private_key("curve25519")
    from cryptography.hazmat.primitives.asymmetric import ec

    with pytest.raises(ValueError, match="not one OCMF defines"):
        OcmfSigner(ec.generate_private_key(ec.SECP521R1()))
