"""On a DC station each DC defect fails its step, naming the violation; the same suites,
the DC EV emulator and the analyser in DC mode do the judging (lab_configs/virtual-dc.yaml,
and virtual-dc-201.yaml for a 2.0.1 DC station)."""

from __future__ import annotations

import pytest

from tests.suites.runner import (
    VIRTUAL_DC_201_LAB,
    VIRTUAL_DC_LAB,
    assert_step_fails,
    run_steps,
    write_lab,
)

pytestmark = pytest.mark.robot

CASES = [
    ("power_offered_ignores_profile", "SC1", r"Power.Offered 50000 W, the limit in force is"),
    ("dc_current_above_ev_request", "6", r"more than the EV asks for at most \(100 A"),
    ("energy_after_ev_stop", "6", r"Energy keeps flowing after the EV ended its session"),
    ("soc_missing", "6", r"SoC is among the sampled measurands .* readings carry none"),
    (
        "insulation_fault_not_reported",
        "16",
        r"StatusNotification with connectorId=1, status=Faulted",
    ),
]


@pytest.mark.parametrize(("deviation", "step", "violation"), CASES, ids=[c[0] for c in CASES])
def test_dc_deviation_fails_its_step(tmp_path, deviation, step, violation):
    assert_step_fails(tmp_path, deviation, step, violation, base=VIRTUAL_DC_LAB)


CASES_201 = [
    ("power_offered_ignores_profile", "SC3", r"Power.Offered 50000"),
    ("insulation_fault_not_reported", "16", r"Faulted"),
]


@pytest.mark.parametrize(
    ("deviation", "step", "violation"), CASES_201, ids=[c[0] for c in CASES_201]
)
def test_dc_deviation_fails_its_step_on_a_201_dc_station(tmp_path, deviation, step, violation):
    assert_step_fails(tmp_path, deviation, step, violation, base=VIRTUAL_DC_201_LAB)


@pytest.mark.parametrize(
    ("lab", "reason"), [(VIRTUAL_DC_LAB, "Other"), (VIRTUAL_DC_201_LAB, "StoppedByEV")]
)
def test_a_station_that_ends_the_transaction_when_the_ev_ends_passes(tmp_path, lab, reason):
    """OCPP allows both: the transaction the EV ended stays SuspendedEV until the tag (the
    default virtual DC station, tested by the whole-checklist run) or the station ends it
    at once with the version's reason (1.6 Other, 2.0.1 StoppedByEV): step 6 passes, with
    no remark for the right reason."""
    lab_file = write_lab(
        tmp_path, base=lab, virtual={"station": {"stop_transaction_when_ev_ends": True}}
    )
    outcome = run_steps(tmp_path, lab_file, ["6"])["6"]
    assert outcome.status == "PASS", outcome.message
    assert "remark" not in outcome.tags, outcome.message
    journal = "\n".join(p.read_text() for p in (tmp_path / "out" / "journal").glob("*.jsonl"))
    assert reason in journal
