"""The whole checklist on the virtual DC bench (DC EV emulator, analyser in DC mode, the
station's LEM DCBM), on OCPP 1.6 and 2.0.1: every step that applies to a DC station passes,
with the DC evidence in the journal and the report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hil.report.build import report_for_output_dir
from tests.suites.runner import VIRTUAL_DC_201_LAB, VIRTUAL_DC_LAB, run_steps, write_lab

pytestmark = pytest.mark.robot

#: UnlockConnector: a DC (CCS) cable is tethered, there is no socket to unlock
NOT_ON_DC = {"15"}


def _readings(journal: Path) -> set[str]:
    """Every measurand the station sampled in its readings."""
    seen: set[str] = set()
    for line in journal.read_text().splitlines():
        frame = json.loads(line)
        if frame.get("dir") != "rx" or frame.get("kind") != "CALL":
            continue
        payload = json.loads(frame["raw"])[3]  # [2, id, action, payload]
        for mv in payload.get("meterValue") or []:
            seen |= {sv.get("measurand", "") for sv in mv.get("sampledValue") or []}
    return seen


@pytest.mark.parametrize(
    ("lab", "ocpp"), [(VIRTUAL_DC_LAB, "1.6"), (VIRTUAL_DC_201_LAB, "2.0.1")], ids=["1.6", "2.0.1"]
)
def test_the_whole_checklist_on_a_dc_station(tmp_path, lab, ocpp):
    outcomes = run_steps(tmp_path, write_lab(tmp_path, base=lab))
    failed = {s: o.message for s, o in outcomes.items() if o.status == "FAIL"}
    assert not failed, failed
    skipped = {s: o.message for s, o in outcomes.items() if o.status == "SKIP"}
    assert set(skipped) == NOT_ON_DC, skipped
    assert "tethered" in skipped["15"]
    assert len(outcomes) == 27
    out = tmp_path / "out"
    journals = list((out / "journal").glob("VIRTUAL-DC-001*.jsonl"))
    assert journals, "no journal"
    measurands = set().union(*(_readings(j) for j in journals))
    assert {"SoC", "Voltage", "Power.Offered", "Current.Offered"} <= measurands, measurands
    report = report_for_output_dir(out)
    assert report.current_type == "DC"
    assert report.versions == [ocpp] or ocpp in str(report.versions)
    assert any("DC session" in p.title for p in report.plots), [p.title for p in report.plots]
