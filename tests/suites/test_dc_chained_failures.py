"""On a DC station too, one defect shows as one failing step, not a cascade: a whole DC
checklist run with the insulation fault left unreported fails step 16 alone (the step that
injects the fault must also leave the EV emulator without it for the next)."""

from __future__ import annotations

import pytest

from hil.lab.deviations import KNOWN_DEVIATIONS
from tests.suites.runner import VIRTUAL_DC_LAB, run_steps, write_lab

pytestmark = pytest.mark.robot


def test_a_full_dc_run_with_one_defect_fails_exactly_its_steps(tmp_path):
    deviation = "insulation_fault_not_reported"
    outcomes = run_steps(tmp_path, write_lab(tmp_path, [deviation], base=VIRTUAL_DC_LAB))
    failed = {step for step, o in outcomes.items() if o.status == "FAIL"}
    expected = KNOWN_DEVIATIONS[deviation].targets
    assert failed == expected == {"16"}, {s: outcomes[s].message for s in failed ^ expected}
    skipped = {step for step, o in outcomes.items() if o.status == "SKIP"}
    assert skipped == {"15"}, {s: outcomes[s].message for s in skipped}  # tethered cable
