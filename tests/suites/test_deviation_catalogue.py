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


def test_every_step_checked_on_201_can_be_made_to_fail_on_a_201_station():
    """The 2.0.1 steps have their own proofs: a deviation test run with ``dut.ocpp``
    2.0.1 (the files ``test_ocpp201_*deviations.py``) for every step the lab checks there."""
    from hil.protocol import adapter_for

    adapter = adapter_for("2.0.1")
    steps = set(re.findall(r"step:(\w+)", "\n".join(p.read_text() for p in SUITES.glob("*.robot"))))
    checked = {s for s in steps if adapter.step_not_checked(s) is None}
    assert checked, "the lab checks no step on 2.0.1"
    text = "\n".join(p.read_text() for p in HERE.glob("test_ocpp201_*deviations.py"))
    assert '"ocpp": "2.0.1"' in text, "the 2.0.1 deviation tests do not run a 2.0.1 station"
    proved = set(re.findall(r'"(\d+|EI1|SC\d+)"', text))
    assert not checked - proved, (
        f"2.0.1 steps with no failing-deviation test: {sorted(checked - proved)}"
    )
