"""The checklist table is the one place of step numbers, profiles and Action wording: the
suites agree with it, and a test that disagrees fails when it runs."""

from __future__ import annotations

import io
from pathlib import Path

from robot import run as robot_run
from robot.api import ExecutionResult
from robot.api import TestSuiteBuilder as SuiteBuilder

from hil.checklist import LEVELS, STEPS, mismatch, step

SUITES = Path(__file__).resolve().parents[1] / "robot_suites"


def test_every_suite_test_is_a_checklist_step_named_and_tagged_as_the_table_says():
    tests = list(SuiteBuilder().build(str(SUITES)).all_tests)
    seen = []
    for test in tests:
        tags = [str(t) for t in test.tags]
        sid = next(t[5:] for t in tags if t.startswith("step:"))
        assert mismatch(sid, test.name, tags) is None, (test.name, mismatch(sid, test.name, tags))
        seen.append(sid)
    assert sorted(seen) == sorted(s.id for s in STEPS), "one test per checklist step"


def test_the_table_is_in_checklist_order_with_levels():
    assert [s.id for s in STEPS][:23] == [str(n) for n in range(1, 24)]
    assert [s.id for s in STEPS][23:] == ["SC1", "SC2", "SC3", "EI1"]
    assert {s.level for s in STEPS} == {lv.key for lv in LEVELS}
    assert step("SC2").number == "2" and step("EI1").number == "1"


def test_mismatches_are_named():
    assert "not the checklist's Action" in mismatch("1", "Boot", ["step:1", "profile:Core"])
    assert "profile tags ['Smart']" in mismatch("3", "Get Configuration", ["profile:Smart"])
    assert "not in the checklist" in mismatch("99", "x", [])


def test_a_test_that_disagrees_with_the_table_fails_when_it_runs(tmp_path):
    """The lab's listener fails it (no bench needed: the suite does not open the lab)."""
    suite = tmp_path / "renamed.robot"
    suite.write_text(
        "*** Settings ***\nLibrary    hil.robot.HilLab\n\n*** Test Cases ***\n"
        "Boot The Station\n    [Tags]    step:1    profile:Core\n    No Operation\n"
        "Get Configuration\n    [Tags]    step:3    profile:Core\n    No Operation\n"
    )
    robot_run(
        str(suite),
        outputdir=str(tmp_path),
        log="NONE",
        report="NONE",
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )
    tests = {t.name: t for t in ExecutionResult(str(tmp_path / "output.xml")).suite.all_tests}
    assert tests["Boot The Station"].status == "FAIL"
    assert "does not match the lab's checklist" in tests["Boot The Station"].message
    assert tests["Get Configuration"].status == "PASS"
