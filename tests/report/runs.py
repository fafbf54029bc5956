"""Real Robot output files for report tests, without a bench: a generated suite whose tests
carry the checklist's tags and pass, fail or skip as told."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from robot import run as robot_run

from hil.checklist import BY_ID, STEPS
from hil.verdict import LAB_ERROR_TAG

DUT = {
    "station_id": "CP-1",
    "vendor": "Acme",
    "model": "AC22",
    "firmware": "1.0.0",
    "serial": "S-1",
    "current_type": "AC",
    "cable": "socket",
}


def robot_output(
    folder: Path,
    outcomes: dict[str, tuple[str, str]] | None = None,
    steps: list[str] | None = None,
    dut: dict[str, Any] | None = None,
    lab: dict[str, Any] | None = None,
) -> Path:
    """Run a suite with one test per step (``steps``, default all); ``outcomes`` maps a
    step to (PASS|FAIL|SKIP|LAB, message); LAB is a failure tagged as a lab error. Writes
    ``hil-run.json`` beside ``output.xml``."""
    outcomes = outcomes or {}
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["*** Test Cases ***"]
    for s in STEPS if steps is None else [BY_ID[x] for x in steps]:
        status, message = outcomes.get(s.id, ("PASS", ""))
        body = {
            "PASS": f"Log    {message or 'ok'}"
            if not message
            else f"Set Test Message    {message}",
            "FAIL": f"Fail    {message}",
            # a lab error: what the listener makes of a lab fault (hil.verdict)
            "LAB": f"Fail    {message}    {LAB_ERROR_TAG}",
            "SKIP": f"Skip    {message}",
        }[status]
        lines += [s.action, f"    [Tags]    step:{s.id}    profile:{s.profile_tag}", f"    {body}"]
    suite = folder / "checklist.robot"
    suite.write_text("\n".join(lines) + "\n", encoding="utf-8")
    robot_run(
        str(suite),
        outputdir=str(folder),
        log="NONE",
        report="NONE",
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )
    facts = {
        "run_id": folder.name,
        "started": "2026-11-30T10:00:00+00:00",
        "dut": {**DUT, **(dut or {})},
        "lab": {"name": "Test lab", "platform": "ChargeNet", "tester": "J. Doe", **(lab or {})},
    }
    (folder / "hil-run.json").write_text(json.dumps(facts), encoding="utf-8")
    return folder / "output.xml"
