"""One defect shows as one failing step, not a cascade.

Every step's teardown puts back what it changed (transaction, EV, availability,
configuration, the back office's answers) and every set-up waits out what an earlier step
left running, so a whole checklist run with one deviation on fails exactly the steps that
deviation targets (its own step, and any other step whose own checks it rightly breaks,
``Deviation.also``) — and every other step passes.
"""

from __future__ import annotations

import pytest

from hil.lab.deviations import KNOWN_DEVIATIONS
from hil.report.build import report_from_outputs
from tests.suites.runner import run_steps, write_lab

pytestmark = pytest.mark.robot

#: One defect per area: availability left changed, a session the station will not stop, a
#: connector stuck in Preparing (the teardown restarts the station), a firmware update that
#: never reports its end.
DEVIATIONS = [
    "no_availability_status",
    "remote_stop_ignored",
    "connection_timeout_ignored",
    "download_failed_not_reported",
]


@pytest.mark.parametrize("deviation", DEVIATIONS)
def test_a_full_run_with_one_defect_fails_exactly_its_steps(tmp_path, deviation):
    outcomes = run_steps(tmp_path, write_lab(tmp_path, [deviation]))
    failed = {step for step, o in outcomes.items() if o.status == "FAIL"}
    expected = KNOWN_DEVIATIONS[deviation].targets
    assert failed == expected, {s: outcomes[s].message for s in failed ^ expected}
    skipped = {step for step, o in outcomes.items() if o.status == "SKIP"}
    assert not skipped, {s: outcomes[s].message for s in skipped}
    # the certification report: N with a sentence for a person for exactly those steps
    report = report_from_outputs([tmp_path / "out" / "output.xml"], tmp_path)
    rows = report.checklist + report.smart_charging + report.eichrecht
    assert {r.step for r in rows if r.verdict == "N"} == expected
    assert {r.verdict for r in rows if r.step not in expected} == {"Y"}
    for row in (r for r in rows if r.verdict == "N"):
        sentence = row.remarks[0]
        assert len(sentence) <= 240 and '[2,"' not in sentence and '{"' not in sentence, sentence
    ocpp = report.levels[0]
    assert not ocpp.achieved and not report.certified
    assert [b.split(" N:")[0] for b in ocpp.blocking] == [
        f"step {s}" for s in sorted(expected, key=int)
    ]
    assert (tmp_path / "out" / "certification-report.html").is_file()  # written at the run's end
