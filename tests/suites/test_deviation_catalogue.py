"""The deviation catalogue stays honest: every defect the virtual station can show is
proved, by a suite test, to make a step fail; and every step of the suites has one."""

from __future__ import annotations

import re
from pathlib import Path

from hil.lab.deviations import KNOWN_DEVIATIONS

HERE = Path(__file__).parent
SUITES = HERE.parents[1] / "robot_suites"


def _tested_names() -> set[str]:
    text = "\n".join(p.read_text() for p in HERE.glob("test_*deviations.py"))
    return set(re.findall(r'"([a-z0-9_]+)"', text)) & set(KNOWN_DEVIATIONS)


def test_every_catalogued_deviation_is_proved_by_a_suite_test():
    untested = sorted(set(KNOWN_DEVIATIONS) - _tested_names())
    assert not untested, f"deviations no test proves: {untested}"


def test_every_step_in_the_suites_can_be_made_to_fail():
    steps = set(re.findall(r"step:(\w+)", "\n".join(p.read_text() for p in SUITES.glob("*.robot"))))
    text = "\n".join(p.read_text() for p in HERE.glob("test_*deviations.py"))
    proved = set(re.findall(r'"(\d+|EI1|SC\d+)"', text))
    assert steps, "no tagged steps found"
    assert not steps - proved, f"steps with no failing-deviation test: {sorted(steps - proved)}"


def test_deviation_targets_are_steps_of_the_suites():
    steps = set(re.findall(r"step:(\w+)", "\n".join(p.read_text() for p in SUITES.glob("*.robot"))))
    unknown = {d.name: d.targets - steps for d in KNOWN_DEVIATIONS.values() if d.targets - steps}
    assert not unknown, f"deviations naming steps no suite has: {unknown}"
