"""What OCPP 2.0.1 allows either way passes on a 2.0.1 station: the firmware steps with a
station that reports InstallRebooting before its reboot and one whose corrupt image fails
its verification (InstallVerificationFailed, no Installing) instead of its installation
(L01). The default virtual station shows the other behaviour of each; both pass."""

from __future__ import annotations

import pytest

from tests.suites.runner import run_steps, write_lab

pytestmark = pytest.mark.robot


def test_firmware_steps_pass_with_the_other_l01_behaviours(tmp_path):
    lab = write_lab(
        tmp_path,
        dut={"ocpp": "2.0.1"},
        virtual={"station": {"install_rebooting": True, "verification_failure": True}},
    )
    outcomes = run_steps(tmp_path, lab, ["18", "19"])
    assert {s: o.status for s, o in outcomes.items()} == {"18": "PASS", "19": "PASS"}, {
        s: o.message for s, o in outcomes.items()
    }
    journal = (tmp_path / "out" / "journal" / "VIRTUAL-CP-001.jsonl").read_text()
    assert "InstallVerificationFailed" in journal and "InstallRebooting" in journal
