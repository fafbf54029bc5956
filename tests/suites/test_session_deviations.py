"""Each charging-session step fails, naming the violation, when the station misbehaves —
and a step needing an instrument the bench lacks is skipped, not passed."""

from __future__ import annotations

import pytest
import yaml

from tests.suites.runner import VIRTUAL_LAB, assert_step_fails, run_steps

pytestmark = pytest.mark.robot

CASES = [
    ("energy_register_skew", "6", r"Energy does not reconcile: MISMATCH: meterStop - meterStart"),
    (
        "available_without_finishing",
        "6",
        r"StatusNotification with connectorId=1, status=Finishing",
    ),
    ("power_after_stop", "6", r"Energy keeps flowing after StopTransaction"),
    ("offline_queue_drops_old", "7", r"missing readings"),
    ("offline_queue_out_of_order", "7", r"out of order"),
    ("boot_on_reconnect", "7", r"BootNotification after reconnecting"),
    ("connection_timeout_ignored", "8", r"did not return to Available within"),
    (
        "connection_timeout_early",
        "8",
        r"The connector returned to Available after [\d.]+ s, before ConnectionTimeOut \(5 s\)",
    ),
    ("charges_when_invalid", "13", r"Expected no StartTransaction"),
    ("remote_stop_wrong_reason", "14", r"reason is \(absent = Local\), expected Remote"),
    ("remote_stop_ignored", "14", r"waiting for CALL StopTransaction with transactionId="),
    ("unlock_wrong_reason", "15", r"reason is \(absent = Local\), expected UnlockCommand"),
    ("no_faulted_status", "16", r"StatusNotification with connectorId=1, status=Faulted"),
]


@pytest.mark.parametrize(("deviation", "step", "violation"), CASES, ids=[c[0] for c in CASES])
def test_deviation_fails_its_step(tmp_path, deviation, step, violation):
    assert_step_fails(tmp_path, deviation, step, violation)


def test_missing_instruments_skip_their_steps_and_tethered_cable_skips_unlock(tmp_path):
    data = yaml.safe_load(VIRTUAL_LAB.read_text())
    instruments = data["instruments"]
    del instruments["ev_simulator"], instruments["network_switch"]
    data["dut"]["cable"] = "tethered"
    lab = tmp_path / "lab.yaml"
    lab.write_text(yaml.safe_dump(data))
    outcomes = run_steps(tmp_path, lab, ["6", "7", "15"])
    assert {s: o.status for s, o in outcomes.items()} == {"6": "SKIP", "7": "SKIP", "15": "SKIP"}
    assert "needs an EV simulator (instruments.ev_simulator)" in outcomes["6"].message
    assert "tethered cable" in outcomes["15"].message
