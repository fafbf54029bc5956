"""Run the Robot suites on the virtual bench from pytest, through Robot's own API."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from robot import run as robot_run
from robot.api import ExecutionResult

REPO = Path(__file__).resolve().parents[2]
SUITES = REPO / "robot_suites"
VIRTUAL_LAB = REPO / "lab_configs" / "virtual.yaml"
VIRTUAL_DC_LAB = REPO / "lab_configs" / "virtual-dc.yaml"
VIRTUAL_DC_201_LAB = REPO / "lab_configs" / "virtual-dc-201.yaml"


@dataclass
class TestOutcome:
    name: str
    status: str
    message: str
    tags: list[str]


def write_lab(
    tmp: Path,
    deviations: list[str] | None = None,
    base: Path = VIRTUAL_LAB,
    **overrides: dict[str, Any],
) -> Path:
    """A copy of a virtual lab config (``base``: the AC one unless told, e.g. a DC one)
    with deviations switched on and sections changed."""
    data = yaml.safe_load(base.read_text())
    data.setdefault("virtual", {})["deviations"] = list(deviations or [])
    for section, values in overrides.items():
        data.setdefault(section, {}).update(values)
    path = tmp / "lab.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def run_steps(
    tmp: Path, lab: Path, steps: list[str] | None = None, variables: list[str] | None = None
) -> dict[str, TestOutcome]:
    """Run the tests tagged ``step:<n>`` (all when None); outcomes by step. ``variables``:
    more ``NAME:value`` Robot variables (e.g. ``HIL_HISTORY:<url>``)."""
    out = tmp / "out"
    options: dict[str, Any] = dict(
        outputdir=str(out),
        variable=[f"LAB:{lab}", *(variables or [])],
        log="NONE",
        report="NONE",
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )
    if steps:
        options["include"] = [f"step:{s}" for s in steps]
    robot_run(str(SUITES), **options)
    result = ExecutionResult(str(out / "output.xml"))
    outcomes: dict[str, TestOutcome] = {}

    def visit(suite: Any) -> None:
        for test in suite.tests:
            step = next((t[5:] for t in test.tags if t.startswith("step:")), test.name)
            outcomes[step] = TestOutcome(test.name, test.status, test.message, list(test.tags))
        for child in suite.suites:
            visit(child)

    visit(result.suite)
    if not outcomes:
        raise AssertionError(
            f"no tests ran; suite status {result.suite.status}: {result.suite.message}"
        )
    return outcomes


def assert_step_fails(
    tmp: Path,
    deviation: str,
    step: str,
    violation: str,
    base: Path = VIRTUAL_LAB,
    **overrides: dict[str, Any],
) -> TestOutcome:
    """Run ``step`` against a virtual station (lab config ``base``) showing ``deviation``:
    the step must FAIL with a message that matches ``violation`` (it names what went
    wrong)."""
    outcome = run_steps(tmp, write_lab(tmp, [deviation], base, **overrides), [step])[step]
    assert outcome.status == "FAIL", f"step {step} passed despite {deviation}"
    assert re.search(violation, outcome.message, re.S), outcome.message
    return outcome
