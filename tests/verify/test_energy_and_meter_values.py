"""Energy reconciliation and MeterValues delivery analysis (pure logic)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from hil.csms.journal import RX, Journal
from hil.verify.energy import EnergyFigure, compare, decimals_resolution, interpolate
from hil.verify.meter_values import delivery_problems, readings, register_problems

T0 = datetime(2026, 11, 21, 12, 0, 0, tzinfo=UTC)


def test_a_two_percent_register_error_fails_a_half_percent_tolerance():
    ref = EnergyFigure("meter", 120.0, "w")
    assert not compare(EnergyFigure("station", 122.4, "w", 1.0), ref, 0.5, 0.0).ok
    assert compare(EnergyFigure("station", 121.0, "w", 1.0), ref, 0.5, 0.0).ok


def test_comparison_allows_percent_absolute_and_both_resolutions():
    check = compare(
        EnergyFigure("a", 103.0, "w", 1.0), EnergyFigure("r", 100.0, "w", 0.5), 1.0, 0.5
    )
    assert check.allowed_wh == pytest.approx(3.0)
    assert check.ok and check.diff_wh == pytest.approx(3.0)
    assert "diff +3.00 Wh (+3.00 %)" in check.describe()


def test_interpolation_inside_and_outside_the_samples():
    pts = [(0.0, 10.0), (1.0, 20.0), (3.0, 20.0)]
    assert interpolate(pts, 0.5) == pytest.approx(15.0)
    assert interpolate(pts, -5) == 10.0 and interpolate(pts, 9) == 20.0
    with pytest.raises(ValueError):
        interpolate([], 1.0)


def test_decimals_resolution():
    assert decimals_resolution("1250012.3") == pytest.approx(0.1)
    assert decimals_resolution("5") == 1.0


def _journal(values: list[tuple[int, str, str | None]]) -> Journal:
    """MeterValues frames: (seconds after T0, register text, context)."""
    journal = Journal("CP")
    for i, (sec, register, context) in enumerate(values):
        sv = {"value": register, "measurand": "Energy.Active.Import.Register", "unit": "Wh"}
        if context:
            sv["context"] = context
        payload = {
            "connectorId": 1,
            "transactionId": 7,
            "meterValue": [
                {"timestamp": (T0 + timedelta(seconds=sec)).isoformat(), "sampledValue": [sv]}
            ],
        }
        journal.record_frame(RX, json.dumps([2, str(i), "MeterValues", payload]))
    return journal


def test_evenly_spaced_readings_have_no_problems():
    series = readings(_journal([(2, "10.0", None), (4, "11.0", None), (6, "12.5", None)]).frames())
    assert delivery_problems(series, 2, 0.5) == []
    assert register_problems(series) == []
    assert [r.register_wh for r in series] == [10.0, 11.0, 12.5]


def test_out_of_order_gap_and_backwards_register_are_named():
    series = readings(_journal([(2, "10", None), (8, "13", None), (6, "9", None)]).frames())
    problems = delivery_problems(series, 2, 0.5)
    assert any(p.startswith("out of order") for p in problems)
    assert any(p.startswith("missing readings: 4.0 s") for p in problems)
    assert register_problems(series)[0].startswith("energy register went backwards")


def test_anchors_catch_readings_missing_at_start_and_end_and_duplicates_are_tolerated():
    series = readings(_journal([(8, "10", None), (8, "10", None), (10, "11", None)]).frames())
    start = (T0, "StartTransaction")
    end = (T0 + timedelta(seconds=18), "StopTransaction")
    problems = delivery_problems(series, 2, 0.5, start=start, end=end)
    assert len(problems) == 2
    assert "and " + (T0 + timedelta(seconds=8)).isoformat() in problems[0]
    assert "(StopTransaction)" in problems[1]


def test_signed_only_meter_values_are_not_readings():
    journal = Journal("CP")
    payload = {
        "connectorId": 1,
        "transactionId": 7,
        "meterValue": [
            {
                "timestamp": T0.isoformat(),
                "sampledValue": [
                    {"value": "OCMF|{}|{}", "format": "SignedData", "context": "Transaction.Begin"}
                ],
            }
        ],
    }
    journal.record_frame(RX, json.dumps([2, "1", "MeterValues", payload]))
    assert readings(journal.frames()) == []


def test_201_transaction_events_are_readings_with_their_unit_of_measure():
    """2.0.1 sampled values are numbers with a unitOfMeasure (unit and power-of-ten
    multiplier): 1.5 kWh and 15 × 10² Wh are both 1500 Wh."""
    journal = Journal("CP")
    for i, (value, measure) in enumerate(
        [(1.5, {"unit": "kWh"}), (15, {"unit": "Wh", "multiplier": 2}), (1600, None)]
    ):
        sv = {"value": value, "measurand": "Energy.Active.Import.Register"}
        if measure:
            sv["unitOfMeasure"] = measure
        payload = {
            "eventType": "Updated",
            "seqNo": i,
            "transactionInfo": {"transactionId": "t-1"},
            "meterValue": [
                {"timestamp": (T0 + timedelta(seconds=2 * i)).isoformat(), "sampledValue": [sv]}
            ],
        }
        journal.record_frame(RX, json.dumps([2, str(i), "TransactionEvent", payload]))
    series = readings(journal.frames())
    assert [r.register_wh for r in series] == [1500.0, 1500.0, 1600.0]
    assert register_problems(series) == []
