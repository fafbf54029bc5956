"""On a DC station too, one defect shows as one failing step, not a cascade: a whole DC
checklist run with one DC defect on fails exactly the steps the catalogue lists. The
insulation fault (the step must leave the EV emulator without it) and the current that
outlasts the EV's stop (it once kept flowing into the next steps' set-up) are the ones
that can leak."""

from __future__ import annotations

import pytest

from hil.lab.deviations import KNOWN_DEVIATIONS
from tests.suites.runner import VIRTUAL_DC_LAB, run_steps, write_lab

pytestmark = pytest.mark.robot


@pytest.mark.parametrize("deviation", ["insulation_fault_not_reported", "energy_after_ev_stop"])
def test_a_full_dc_run_with_one_defect_fails_exactly_its_steps(tmp_path, deviation):
    outcomes = run_steps(tmp_path, write_lab(tmp_path, [deviation], base=VIRTUAL_DC_LAB))
    failed = {step for step, o in outcomes.items() if o.status == "FAIL"}
    expected = KNOWN_DEVIATIONS[deviation].targets
    assert failed == expected, {s: outcomes[s].message for s in failed ^ expected}
    skipped = {step for step, o in outcomes.items() if o.status == "SKIP"}
    assert skipped == {"15"}, {s: outcomes[s].message for s in skipped}  # tethered cable
