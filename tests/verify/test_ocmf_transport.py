"""OCMF inside OCPP 1.6 SampledValues: every transport shape, and the message helpers."""

from __future__ import annotations

import base64
import json

import pytest

from hil.verify.ocmf import (
    extract_ocmf,
    load_public_key,
    meter_public_keys,
    parse_record,
    signed_meter_value,
    signed_values_from_meter_values,
    signed_values_from_stop_transaction,
    verify_signature,
)
from tests.verify._ocmf_helpers import good_session


def test_plain_hex_base64_and_json_transports_give_the_same_record() -> None:
    session = good_session()
    text = session.end
    shapes = {
        "plain": text,
        "hex": text.encode().hex().upper(),
        "base64": base64.b64encode(text.encode()).decode(),
        "signed-meter-value": signed_meter_value(text, session.meter.public_key_hex),
    }
    for transport, value in shapes.items():
        found = extract_ocmf(value)
        assert found.ok, (transport, found.error)
        assert found.transport == transport
        assert found.text == text


def test_signed_meter_value_follows_the_oca_note() -> None:
    session = good_session()
    obj = json.loads(signed_meter_value(session.end, session.meter.public_key_hex))
    assert set(obj) == {"signedMeterData", "signingMethod", "encodingMethod", "publicKey"}
    assert obj["encodingMethod"] == "OCMF" and obj["signingMethod"] == ""
    assert base64.b64decode(obj["signedMeterData"]).decode() == session.end
    composite = base64.b64decode(obj["publicKey"]).decode()
    assert composite == f"oca:base16:asn1:{session.meter.public_key_hex}"
    found = extract_ocmf(json.dumps(obj))
    key = load_public_key(found.public_key)
    assert verify_signature(parse_record(found.text).record, key).valid
    # Without the key the note asks for an empty string, read as "no key".
    assert extract_ocmf(signed_meter_value(session.end)).public_key is None


def test_the_signed_meter_value_alias_and_unencoded_data_are_read() -> None:
    text = good_session().begin
    alias = json.dumps(
        {"signedMeterValue": base64.b64encode(text.encode()).decode(), "encodingMethod": "OCMF"}
    )
    assert extract_ocmf(alias).text == text
    raw = json.dumps({"signedMeterData": text, "encodingMethod": "OCMF", "publicKey": ""})
    assert extract_ocmf(raw).text == text


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (None, "not text"),
        (17, "not text"),
        ("", "not OCMF"),
        ("1234", "not OCMF"),
        ("{not json", "not"),
        ("[1, 2]", "not OCMF"),
        ('{"signedMeterData":"AAAA","encodingMethod":"EDL"}', "not OCMF"),
        ('{"encodingMethod":"OCMF"}', "signedMeterData is missing"),
        ('{"signedMeterData":"%%%","encodingMethod":"OCMF"}', "not base64"),
        ('{"signedMeterData":"aGVsbG8=","encodingMethod":"OCMF"}', "does not hold an OCMF"),
    ],
)
def test_values_that_carry_no_ocmf_say_why(value: object, reason: str) -> None:
    found = extract_ocmf(value)
    assert not found.ok
    assert found.error and reason in found.error


def test_signed_values_from_meter_values_with_context() -> None:
    session = good_session()
    payload = {
        "connectorId": 1,
        "transactionId": 42,
        "meterValue": [
            {
                "timestamp": "2026-11-21T15:31:02Z",
                "sampledValue": [
                    {"value": "12345", "measurand": "Energy.Active.Import.Register"},
                    {
                        "value": signed_meter_value(session.begin),
                        "format": "SignedData",
                        "context": "Transaction.Begin",
                        "measurand": "Energy.Active.Import.Register",
                    },
                ],
            },
            {
                "timestamp": "2026-11-21T15:46:02Z",
                "sampledValue": [{"value": session.end, "format": "SignedData"}],
            },
        ],
    }
    values = signed_values_from_meter_values(payload)
    assert [(v.context, v.timestamp) for v in values] == [
        ("Transaction.Begin", "2026-11-21T15:31:02Z"),
        ("Sample.Periodic", "2026-11-21T15:46:02Z"),  # the OCPP 1.6 default context
    ]
    assert all(v.transaction_id == 42 and v.connector_id == 1 for v in values)
    assert values[0].extracted.text == session.begin
    assert values[1].extracted.transport == "plain"


def test_signed_values_from_stop_transaction_data() -> None:
    session = good_session()
    payload = {
        "transactionId": 42,
        "meterStop": 13790,
        "timestamp": "2026-11-21T16:01:02Z",
        "transactionData": [
            {
                "timestamp": "2026-11-21T16:01:02Z",
                "sampledValue": [
                    {
                        "value": session.begin,
                        "format": "SignedData",
                        "context": "Transaction.Begin",
                    },
                    {"value": session.end, "format": "SignedData", "context": "Transaction.End"},
                    {"value": "13790", "context": "Transaction.End"},
                ],
            }
        ],
    }
    values = signed_values_from_stop_transaction(payload)
    assert [v.context for v in values] == ["Transaction.Begin", "Transaction.End"]
    assert [v.extracted.text for v in values] == [session.begin, session.end]
    assert all(v.source == "StopTransaction" and v.transaction_id == 42 for v in values)
    assert signed_values_from_stop_transaction({"transactionId": 1}) == []
    assert signed_values_from_meter_values({"meterValue": "garbage"}) == []


def test_meter_public_keys_from_get_configuration() -> None:
    keys = meter_public_keys(
        [
            {"key": "MeterPublicKey[1]", "readonly": True, "value": "AAA"},
            {"key": "MeterPublicKey2", "readonly": True, "value": "BBB"},
            {"key": "MeterPublicKey", "readonly": True, "value": "CCC"},
            {"key": "MeterPublicKey[3]", "readonly": True, "value": ""},
            {"key": "HeartbeatInterval", "readonly": False, "value": "60"},
            {"key": "MeterPublicKey[x]", "value": "DDD"},
            "garbage",
        ]
    )
    assert keys == {1: "AAA", 2: "BBB", 0: "CCC"}
