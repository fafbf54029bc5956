"""Each smart-charging step fails, naming the violation, when the virtual station
misbehaves the way real stations do with charging limits."""

from __future__ import annotations

import pytest

from tests.suites.runner import assert_step_fails, run_steps, write_lab

pytestmark = pytest.mark.robot

MEASURED = r"The current measured by energy_meter did not come to the limit"
CASES = [
    # the limit is reported in MeterValues but the pilot keeps offering the maximum
    ("limit_not_applied_to_pilot", "SC1", MEASURED + r" 10 A"),
    ("stack_level_ignored", "SC1", r"GetCompositeSchedule differs from the composite"),
    ("composite_misreported", "SC1", r"GetCompositeSchedule differs from the composite"),
    ("watts_read_as_amps", "SC1", MEASURED + r" 10 A"),
    ("phases_ignored", "SC1", MEASURED + r" 10 A"),
    (
        "profiles_lost_after_reboot",
        "SC2",
        r"GetCompositeSchedule differs.*the station reports 32 A",
    ),
    ("tx_default_not_applied_to_running", "SC2", MEASURED + r" 12 A"),
    ("only_stack_level_0", "SC2", r"SetChargingProfile TxDefaultProfile \d+ \(stack level 1"),
    ("recurring_wrong_time", "SC2", MEASURED + r" 16 A"),
    ("clear_keeps_limit", "SC3", MEASURED + r" (10|12|32) A"),
]


@pytest.mark.parametrize(("deviation", "step", "violation"), CASES, ids=[c[0] for c in CASES])
def test_deviation_fails_its_step(tmp_path, deviation, step, violation):
    assert_step_fails(tmp_path, deviation, step, violation)


def test_smart_charging_steps_are_na_when_the_dut_cannot(tmp_path):
    lab = write_lab(tmp_path, dut={"capabilities": {"smart_charging": False}})
    outcomes = run_steps(tmp_path, lab, ["SC1", "SC2", "SC3"])
    assert {o.status for o in outcomes.values()} == {"SKIP"}, outcomes
    assert all("N/A by DUT capability" in o.message for o in outcomes.values())
