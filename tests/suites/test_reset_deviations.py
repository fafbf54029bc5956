"""Each reset step fails, naming the violation, when the station misbehaves; a SHOULD-level
miss shows as a remark on a passing test."""

from __future__ import annotations

import json

import pytest

from tests.suites.runner import assert_step_fails, run_steps, write_lab

pytestmark = pytest.mark.robot

CASES = [
    ("reset_wrong_reason", "9", r"StopTransaction reason is Other, expected HardReset"),
    ("reset_stop_lost", "9", r"waiting for CALL StopTransaction with transactionId="),
    ("reset_stop_duplicated", "9", r"Expected no second StopTransaction for transaction"),
    ("reset_keeps_power", "9", r"Energy keeps flowing after the Hard reset"),
    ("reset_wrong_reason", "11", r"StopTransaction reason is Other, expected SoftReset"),
    ("soft_reset_stop_after_boot", "11", r"StopTransaction came after the restart"),
    (
        "unavailable_lost_after_reboot",
        "10",
        r"After the reboot connector 1 reported Available, expected Unavailable",
    ),
    ("no_status_connector_0", "12", r"No StatusNotification for connector\(s\) \[0\]"),
]


@pytest.mark.parametrize(
    ("deviation", "step", "violation"), CASES, ids=[f"{c[0]}-step{c[1]}" for c in CASES]
)
def test_deviation_fails_its_step(tmp_path, deviation, step, violation):
    assert_step_fails(tmp_path, deviation, step, violation)


def test_no_unavailable_before_hard_reset_is_a_remark_not_a_failure(tmp_path):
    outcome = run_steps(tmp_path, write_lab(tmp_path), ["10"])["10"]
    assert outcome.status == "PASS", outcome.message
    assert "remark" in outcome.tags
    assert "Remark: No StatusNotification Unavailable" in outcome.message
    remarks = [json.loads(x) for x in (tmp_path / "out" / "remarks.jsonl").read_text().splitlines()]
    assert remarks and remarks[0]["step"] == "10" and "Unavailable" in remarks[0]["text"]
