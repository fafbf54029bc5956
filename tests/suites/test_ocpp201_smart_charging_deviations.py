"""The smart-charging steps on an OCPP 2.0.1 station (SC1-SC3: K01 SetChargingProfile, K08
GetCompositeSchedule, K10 ClearChargingProfile): each fails, naming the violation, when the
2.0.1 virtual station misbehaves. The same suite tests as for 1.6; only the lab config's
``dut.ocpp`` differs. The smart-charging model's defects act on a 2.0.1 station too, and
its limits are checked in TransactionEvent Updated instead of MeterValues."""

from __future__ import annotations

import pytest

from tests.suites.runner import assert_step_fails

pytestmark = pytest.mark.robot

OCPP201 = {"ocpp": "2.0.1"}
MEASURED = r"The current measured by energy_meter did not come to the limit"
PERIOD = r"Period from \+\d+ s: " + MEASURED
DIFFERS = r"GetCompositeSchedule differs from the composite of the profiles the station accepted: "

CASES = [
    # K01/K08: the output follows the composite schedule (SC1's first period: 10 A)
    ("limit_not_applied_to_pilot", "SC1", PERIOD + r" 10 A ± 1 A within 2 s \(10\.0 A from"),
    ("watts_read_as_amps", "SC1", PERIOD + r" 10 A ± 1 A within 2 s \(10\.0 A from"),
    ("phases_ignored", "SC1", PERIOD + r" 10 A ± 1 A within 2 s \(10\.0 A from"),
    # K08: the composite reported
    ("stack_level_ignored", "SC1", DIFFERS + r".*the lab expects 10 A, the station reports 20 A"),
    (
        "composite_misreported",
        "SC1",
        DIFFERS + r".*the lab expects 9660 W, the station reports 22080 W",
    ),
    (
        "composite_wrong_evse",
        "SC1",
        r"Unreadable GetCompositeSchedule answer: schedule\.evseId is 0: the composite of "
        r"EVSE 1 was asked for \(K08\) \(#\d+ rx CALLRESULT GetCompositeSchedule",
    ),
    # K01: TxDefaultProfiles, stack levels, recurring profiles, profiles kept across reboots
    (
        "profiles_lost_after_reboot",
        "SC2",
        DIFFERS + r"\+0 s .* the lab expects (8|16) A, the station reports 32 A",
    ),
    (
        "tx_default_not_applied_to_running",
        "SC2",
        MEASURED + r" 12 A ± 1 A within 2 s \(12 A on 3 phase\(s\), from TxDefaultProfile "
        r"\d+ \(connector 0\)\)",
    ),
    (
        "only_stack_level_0",
        "SC2",
        r"The station answered SetChargingProfile TxDefaultProfile \d+ \(stack level 1, "
        r"connector 0\) with Rejected, expected Accepted .*\"reasonCode\":\"InvalidProfile\"",
    ),
    ("recurring_wrong_time", "SC2", PERIOD + r" 16 A ± 1 A within 2 s \(16\.0 A from"),
    # K10: a cleared profile no longer limits the output (TxDefaultProfile 302 cleared)
    (
        "clear_keeps_limit",
        "SC3",
        MEASURED + r" 10 A ± 1 A within 2 s \(10 A on 3 phase\(s\), from TxDefaultProfile 301 "
        r"\(connector 1\)\)",
    ),
]


@pytest.mark.parametrize(("deviation", "step", "violation"), CASES, ids=[c[0] for c in CASES])
def test_deviation_fails_its_step_on_201(tmp_path, deviation, step, violation):
    assert_step_fails(tmp_path, deviation, step, violation, dut=OCPP201)
