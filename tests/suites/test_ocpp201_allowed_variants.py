"""What OCPP 2.0.1 allows either way passes on a 2.0.1 station: the firmware steps with a
station that reports InstallRebooting before its reboot and one whose corrupt image fails
its verification (InstallVerificationFailed, no Installing) instead of its installation
(L01); a fault named only by the Faulted status, without a NotifyEvent (N07); transactions
that start at the plug, before any authorization (TxStartPoint EVConnected, E01). The
default virtual station shows the other behaviour of each; both pass."""

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


def test_a_fault_named_only_by_the_faulted_status_passes_with_a_remark(tmp_path):
    """N07's NotifyEvent names the problem; a station that only reports Faulted (G01)
    passes step 16 with a remark saying so."""
    lab = write_lab(
        tmp_path, dut={"ocpp": "2.0.1"}, virtual={"station": {"notify_problems": False}}
    )
    outcome = run_steps(tmp_path, lab, ["16"])["16"]
    assert outcome.status == "PASS", outcome.message
    assert "Faulted reported without a NotifyEvent naming the problem" in outcome.message
    journal = (tmp_path / "out" / "journal" / "VIRTUAL-CP-001.jsonl").read_text()
    assert "NotifyEvent" not in journal and "Faulted" in journal


def test_the_whole_checklist_passes_with_transactions_started_at_the_plug(tmp_path):
    """TxStartPoint EVConnected (E01): the plug opens a transaction without an idToken, the
    authorization is a later TransactionEvent of it, an unplug without one ends it
    (EVDisconnected). Every step judges that station as it judges the default one."""
    from hil.checklist import BY_ID

    lab = write_lab(
        tmp_path, dut={"ocpp": "2.0.1"}, virtual={"station": {"tx_start_point": "EVConnected"}}
    )
    outcomes = run_steps(tmp_path, lab)
    assert set(outcomes) == set(BY_ID)
    failed = {s: (o.status, o.message) for s, o in outcomes.items() if o.status != "PASS"}
    assert not failed, failed
    journal = (tmp_path / "out" / "journal" / "VIRTUAL-CP-001.jsonl").read_text()
    assert "CablePluggedIn" in journal and "EVDisconnected" in journal
