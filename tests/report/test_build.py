"""The report's verdicts, levels and merging, from real Robot output files."""

from __future__ import annotations

import json
from html import unescape

import pytest

from hil.checklist import STEPS
from hil.cli import main
from hil.report.build import report_from_outputs
from hil.report.model import (
    ACHIEVED,
    LAB_ERROR,
    NA,
    NO,
    NOT_ACHIEVED,
    NOT_DECIDED,
    NOT_RUN,
    NOT_SHOWN,
    YES,
)
from hil.report.sources import ReportInputError
from tests.report.runs import robot_output

TRIGGER_FAIL = (
    "FAIL",
    "The station answered TriggerMessage BootNotification Accepted (#625 tx CALLRESULT "
    'TriggerMessage [3,"a1",{"status":"Accepted"}]) but never sent BootNotification',
)
TETHERED = (
    "SKIP",
    "N/A by DUT capability: the DUT has a tethered cable (dut.cable: tethered); nothing to unlock",
)
NO_ANALYSER = ("SKIP", "N/A: this check needs a power analyser (instruments.power_analyser)")


def rows(report):
    return {r.step: r for r in report.checklist + report.smart_charging + report.eichrecht}


def test_a_clean_run_is_certified_with_every_level(tmp_path):
    report = report_from_outputs([robot_output(tmp_path / "a")], tmp_path)
    assert [r.step for r in report.checklist] == [str(n) for n in range(1, 24)]
    assert [r.number for r in report.smart_charging] == ["1", "2", "3"]
    assert [r.step for r in report.eichrecht] == ["EI1"]
    assert {r.verdict for r in rows(report).values()} == {YES}
    assert [(lv.title, lv.achieved) for lv in report.levels] == [
        ("OCPP 1.6 JSON", True),
        ("Smart Charging 1.6 JSON", True),
        ("Eichrecht", True),
    ]
    assert report.certified and report.verdict_line.startswith("Certified")
    assert (report.manufacturer, report.model, report.firmware) == ("Acme", "AC22", "1.0.0")
    assert report.title.endswith("connected to ChargeNet using OCPP1.6 via JSON")
    assert report.tester == "J. Doe"
    actions = {s.id: s.action for s in STEPS}
    assert all(r.action == actions[r.step] for r in rows(report).values())


def test_a_failed_step_is_n_with_a_sentence_and_blocks_its_level_only(tmp_path):
    out = robot_output(tmp_path / "a", {"23": TRIGGER_FAIL})
    report = report_from_outputs([out], tmp_path)
    row = rows(report)["23"]
    assert row.verdict == NO
    assert row.remarks[0].startswith("The station answered TriggerMessage BootNotification")
    assert "frame #625" in row.remarks[0] and '[3,"' not in row.remarks[0]
    assert "[3," in row.detail  # Robot's raw text goes to the evidence
    assert [f.step for f in report.failures] == ["23"]
    ocpp, smart, ei = report.levels
    assert not ocpp.achieved and smart.achieved and ei.achieved
    assert ocpp.blocking == [f"step 23 N: {row.remarks[0]}"]
    assert not report.certified and report.verdict_line == "Not certified"


def test_na_by_dut_capability_keeps_the_level_na_by_bench_does_not(tmp_path):
    out = robot_output(tmp_path / "a", {"15": TETHERED, "EI1": NO_ANALYSER})
    report = report_from_outputs([out], tmp_path)
    r = rows(report)
    assert r["15"].verdict == NA and r["15"].na_by_dut
    assert r["15"].remarks == [
        "The DUT has a tethered cable (dut.cable: tethered); nothing to unlock"
    ]
    assert r["EI1"].verdict == NA and not r["EI1"].na_by_dut
    assert report.levels[0].achieved
    assert not report.levels[2].achieved
    assert "step EI1 N/A on this bench" in report.levels[2].blocking[0]


def test_steps_not_run_are_empty_and_keep_their_level_from_being_achieved(tmp_path):
    out = robot_output(tmp_path / "a", steps=["1", "2", "SC1"])
    report = report_from_outputs([out], tmp_path)
    r = rows(report)
    assert r["1"].verdict == YES and r["3"].verdict == NOT_RUN and r["SC2"].verdict == NOT_RUN
    assert report.levels[0].blocking == ["steps 3–23 were not run"]
    assert report.levels[1].blocking == ["steps SC2, SC3 were not run"]
    assert not any(lv.achieved for lv in report.levels)


def test_a_run_robot_stopped_is_interrupted_and_its_unrun_steps_are_not_failures(tmp_path):
    """SIGTERM / Ctrl-C: Robot fails the test it stopped and every later one with its own
    message; that is no verdict on the station, and the report says interrupted."""
    out = robot_output(
        tmp_path / "a",
        {
            "2": ("FAIL", "Execution terminated by signal"),
            "3": ("FAIL", "Test execution stopped due to a fatal error."),
        },
        steps=["1", "2", "3"],
    )
    report = report_from_outputs([out], tmp_path)
    r = rows(report)
    assert r["1"].verdict == YES
    assert r["2"].verdict == NOT_RUN and r["3"].verdict == NOT_RUN
    assert report.interrupted


def test_a_run_whose_marker_says_stopped_is_interrupted(tmp_path):
    out = robot_output(tmp_path / "a", steps=["1"])
    facts = json.loads((out.parent / "hil-run.json").read_text())
    (out.parent / "hil-run.json").write_text(json.dumps({**facts, "stopped": True}))
    assert report_from_outputs([out], tmp_path).interrupted
    (out.parent / "hil-run.json").write_text(json.dumps({**facts, "stopped": False}))
    assert not report_from_outputs([out], tmp_path).interrupted


def test_a_201_station_is_certified_as_ocpp_201_core(tmp_path):
    report = report_from_outputs([robot_output(tmp_path / "a", dut={"ocpp": "2.0.1"})], tmp_path)
    assert [lv.title for lv in report.levels] == [
        "OCPP 2.0.1 Core",
        "Smart Charging 2.0.1",
        "Eichrecht",
    ]
    assert report.title.endswith("using OCPP2.0.1 via JSON")


def test_steps_the_lab_does_not_check_on_201_yet_keep_its_level_from_being_achieved(tmp_path):
    gap = ("SKIP", "N/A: this lab version does not yet check this step on OCPP 2.0.1")
    out = robot_output(tmp_path / "a", {"6": gap}, dut={"ocpp": "2.0.1"})
    report = report_from_outputs([out], tmp_path)
    core = report.levels[0]
    assert core.title == "OCPP 2.0.1 Core" and not core.achieved
    assert "step 6 N/A on this bench" in core.blocking[0]


def test_steps_n_a_for_the_same_reason_make_one_line(tmp_path):
    gap = ("SKIP", "N/A: this lab version does not yet check this step on OCPP 2.0.1")
    out = robot_output(
        tmp_path / "a", {s: gap for s in ("6", "7", "8", "11", "22")}, dut={"ocpp": "2.0.1"}
    )
    (line,) = report_from_outputs([out], tmp_path).levels[0].blocking
    assert line.startswith("steps 6–8, 11, 22 N/A on this bench: ")
    assert "does not yet check this step on OCPP 2.0.1" in line


def test_runs_merge_the_latest_verdict_of_a_step_wins_and_rows_name_their_run(tmp_path):
    first = robot_output(tmp_path / "core", {"7": ("FAIL", "Energy stopped")})
    second = robot_output(tmp_path / "retest", steps=["7", "SC1"])
    report = report_from_outputs([second, first], tmp_path)  # order of arguments is not time
    r = rows(report)
    assert r["7"].verdict == YES and r["7"].run == "run 2"
    assert r["6"].verdict == YES and r["6"].run == "run 1"
    # named relative to the report's folder: the lab PC's paths mean nothing to a reader
    assert [run.source for run in report.runs] == ["core/output.xml", "retest/output.xml"]
    assert report.certified


def test_runs_of_another_dut_do_not_merge(tmp_path):
    first = robot_output(tmp_path / "a")
    second = robot_output(tmp_path / "b", steps=["7"], dut={"firmware": "2.0.0"})
    with pytest.raises(ReportInputError, match=r"dut.firmware is '2.0.0' here but '1.0.0'"):
        report_from_outputs([first, second], tmp_path)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (None, "no such file"),
        ("", "the file is empty, and there is no steps.jsonl beside it"),
        ('<?xml version="1.0"?><robot generator="Robot 7"><suite', "cut off or not XML"),
        ("<html><body>hello</body></html>", "not a Robot Framework output file"),
    ],
)
def test_bad_output_files_give_one_line_naming_the_file(tmp_path, capsys, content, problem):
    path = tmp_path / "output.xml"
    if content is not None:
        path.write_text(content)
    assert main(["report", str(path), "-o", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0, err
    assert err.startswith(f"error: {path}: ") and problem in err


def test_an_output_of_another_robot_project_is_named_as_such(tmp_path, capsys):
    other = tmp_path / "other"
    other.mkdir()
    (other / "t.robot").write_text(
        "*** Test Cases ***\nSomething\n    [Tags]    smoke\n    Log    x\n"
    )
    from robot import run as robot_run

    robot_run(
        str(other / "t.robot"),
        outputdir=str(other),
        log="NONE",
        report="NONE",
        stdout=None,
        stderr=None,
        console="none",
    )
    assert main(["report", str(other / "output.xml")]) == 2
    err = capsys.readouterr().err
    assert "an output.xml of another Robot project: none of its 1 test(s)" in err


# -- lab errors and levels that were not shown (issue 18, items 2 and 3) --------------------

LAB_ERROR_23 = (
    "LAB",
    "Lab error: the back office's own Reset request breaks the OCPP 2.0.1 schema, so it was "
    "never sent: 'Hard' is not one of ['Immediate', 'OnIdle']",
)
UNSIGNED = (
    "SKIP",
    "N/A by DUT capability: the DUT does not sign its meter values "
    "(dut.capabilities.signed_meter_values: false)",
)
NO_SMART = (
    "SKIP",
    "N/A by DUT capability: the station does not support smart charging "
    "(dut.capabilities.smart_charging: false)",
)
NO_FIRMWARE = (
    "SKIP",
    "N/A by DUT capability: the station's firmware is updated only through its maker's cloud "
    "(dut.capabilities.firmware_update: maker_cloud)",
)


def test_a_lab_error_is_e_never_n_and_leaves_its_level_not_decided(tmp_path):
    out = robot_output(tmp_path / "a", {"23": LAB_ERROR_23})
    report = report_from_outputs([out], tmp_path)
    row = rows(report)["23"]
    assert row.verdict == LAB_ERROR
    assert row.remarks[0].startswith("Lab error: the back office's own Reset request")
    assert any("Not the station's verdict" in r for r in row.remarks)
    assert [f.step for f in report.failures] == ["23"]  # its whole text is evidence
    ocpp, smart, ei = report.levels
    assert not ocpp.achieved and ocpp.state == NOT_DECIDED and ocpp.mark == "not decided"
    assert ocpp.blocking == [f"step 23 lab error: {row.remarks[0]}"]
    assert smart.achieved and ei.achieved
    assert not report.certified


def test_an_n_decides_a_level_even_beside_a_lab_error(tmp_path):
    out = robot_output(tmp_path / "a", {"23": LAB_ERROR_23, "5": ("FAIL", "No Heartbeat")})
    ocpp = report_from_outputs([out], tmp_path).levels[0]
    assert ocpp.state == NOT_ACHIEVED and ocpp.mark == "no"


def test_a_station_that_does_not_sign_is_not_certified_eichrecht(tmp_path):
    """The seed bug: EI1 N/A because the station does not sign made "Eichrecht: yes"."""
    out = robot_output(tmp_path / "a", {"EI1": UNSIGNED})
    report = report_from_outputs([out], tmp_path)
    ocpp, smart, ei = report.levels
    assert ocpp.achieved and smart.achieved and report.certified
    assert not ei.achieved and ei.state == NOT_SHOWN and ei.mark == "not shown"
    assert ei.blocking == [
        "not shown: the DUT does not sign its meter values "
        "(dut.capabilities.signed_meter_values: false) (step EI1 N/A)"
    ]
    assert "Eichrecht" not in report.verdict_line


def test_a_station_without_smart_charging_is_not_certified_smart_charging(tmp_path):
    out = robot_output(tmp_path / "a", {s: NO_SMART for s in ("SC1", "SC2", "SC3")})
    smart = report_from_outputs([out], tmp_path).levels[1]
    assert smart.state == NOT_SHOWN
    assert smart.blocking[0].endswith("(steps SC1–SC3 N/A)")


def test_optional_profiles_n_a_by_dut_still_certify_the_core_level(tmp_path):
    """Firmware Management, Remote Trigger, the cache and a socket are optional (the seed
    checklists show firmware steps N/A on certified stations)."""
    out = robot_output(
        tmp_path / "a",
        {
            **{s: NO_FIRMWARE for s in ("17", "18", "19")},
            "15": TETHERED,
            "22": ("SKIP", "N/A by DUT capability: the station has no authorization cache"),
        },
    )
    ocpp = report_from_outputs([out], tmp_path).levels[0]
    assert ocpp.achieved and ocpp.state == ACHIEVED and ocpp.mark == "yes"


def test_a_core_step_that_shows_the_level_n_a_by_dut_leaves_it_not_shown(tmp_path):
    gone = ("SKIP", "N/A by DUT capability: the step exists in OCPP 1.6 only")
    ocpp = report_from_outputs([robot_output(tmp_path / "a", {"6": gone})], tmp_path).levels[0]
    assert ocpp.state == NOT_SHOWN and not ocpp.achieved


def test_every_format_shows_a_lab_error_as_e_with_its_legend_and_levels_by_their_state(tmp_path):
    from hil.report.render import LAB_ERROR_LEGEND, write_report

    out = robot_output(tmp_path / "a", {"23": LAB_ERROR_23, "EI1": UNSIGNED})
    report = report_from_outputs([out], tmp_path)
    paths = {p.suffix: p for p in write_report(report, tmp_path / "r")}
    html = unescape(paths[".html"].read_text())
    assert 'class="pass pass-E">E</td>' in html and LAB_ERROR_LEGEND in html
    assert ">not decided</td>" in html and ">not shown</td>" in html
    md = paths[".md"].read_text()
    assert "| **E** |" in md and "**not decided**" in md and "**not shown**" in md
    from pypdf import PdfReader

    text = " ".join(" ".join(p.extract_text().split()) for p in PdfReader(paths[".pdf"]).pages)
    assert "not decided" in text and "not shown" in text and "lab error: the lab" in text
