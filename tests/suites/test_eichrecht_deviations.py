"""Step EI1 fails, naming the violated check, for each Eichrecht defect of the virtual
station; ``hil ocmf verify`` on the run's journal agrees with the step."""

from __future__ import annotations

import io
from contextlib import redirect_stdout

import pytest

from hil.cli import main as hil_main
from tests.suites.runner import assert_step_fails, run_steps, write_lab

pytestmark = pytest.mark.robot

#: A shorter session where the defect does not depend on the energy delivered.
SHORT = {"min_session_wh": 15}

CASES = [
    ("ocmf_bad_signature", r"signatures verify: T2: invalid", SHORT),
    ("ocmf_serial_changed", r"same meter serial: begin MS='VCP-000001-M1', end MS=", SHORT),
    ("ocmf_pagination_gap", r"pagination consecutive: T1, T3: not consecutive", SHORT),
    ("ocmf_end_mismatch", r"signed end = meterStop: signed \S+ kWh = \d+ Wh, meterStop", SHORT),
    # 5 % must stand out of the tolerance: the lab's default session energy
    ("ocmf_energy_off", r"energy vs reference meter: signed \d+ Wh, reference", {}),
    ("ocmf_status_not_ok", r"meter status G: begin ST=G, end ST=T", SHORT),
]


def journal_verdict(tmp_path) -> tuple[int, str]:
    """``hil ocmf verify`` on the journal the run left behind: (exit status, output)."""
    journal = tmp_path / "out" / "journal" / "VIRTUAL-CP-001.jsonl"
    out = io.StringIO()
    with redirect_stdout(out):
        status = hil_main(["ocmf", "verify", str(journal)])
    return status, out.getvalue()


@pytest.mark.parametrize(("deviation", "violation", "energy"), CASES, ids=[c[0] for c in CASES])
def test_deviation_fails_ei1(tmp_path, deviation, violation, energy):
    outcome = assert_step_fails(tmp_path, deviation, "EI1", violation, energy=energy)
    assert outcome.message.startswith("Signed meter values of transaction"), outcome.message
    if deviation == "ocmf_bad_signature":
        status, text = journal_verdict(tmp_path)
        assert status == 1, text
        assert "signature: invalid" in text


def test_clean_run_passes_and_its_journal_verifies_on_the_command_line(tmp_path):
    outcome = run_steps(tmp_path, write_lab(tmp_path, energy=SHORT), ["EI1"])["EI1"]
    assert outcome.status == "PASS", outcome.message
    assert "profile:Eichrecht" in outcome.tags
    status, text = journal_verdict(tmp_path)
    assert status == 0, text
    assert "verdict: PASS" in text or "verdict: REMARK" in text


def test_ei1_is_na_when_the_dut_does_not_sign(tmp_path):
    lab = write_lab(tmp_path)
    text = lab.read_text().replace("signed_meter_values: true", "signed_meter_values: false")
    lab.write_text(text)
    outcome = run_steps(tmp_path, lab, ["EI1"])["EI1"]
    assert outcome.status == "SKIP", outcome.message
    assert "signed_meter_values: false" in outcome.message


def test_without_a_reference_ei1_is_na(tmp_path):
    """EI1 matches the signed energy against a reference (the energy meter, else the power
    analyser): a bench with neither cannot do the step (N/A naming the missing
    instruments, not a silent pass)."""
    lab = write_lab(
        tmp_path, energy=SHORT, instruments={"energy_meter": None, "power_analyser": None}
    )
    outcome = run_steps(tmp_path, lab, ["EI1"])["EI1"]
    assert outcome.status == "SKIP", outcome.message
    assert "instruments.energy_meter / power_analyser" in outcome.message


def test_with_the_analyser_alone_ei1_takes_it_as_the_reference(tmp_path):
    """A bench without an energy meter (every DC bench) verifies the signed energy against
    the power analyser; the energy check still fails a station whose signed energy is off
    (harm: a bench without the AC meter would otherwise pass any signed energy)."""
    lab = write_lab(tmp_path, ["ocmf_energy_off"], instruments={"energy_meter": None})
    outcome = run_steps(tmp_path, lab, ["EI1"])["EI1"]
    assert outcome.status == "FAIL", outcome.message
    assert "energy vs reference meter: signed" in outcome.message, outcome.message
