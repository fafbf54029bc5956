"""A lab fault is never the station's N (issue 18, item 2): in Robot (tag ``lab-error``),
in the report (E, the level not decided) and in the history (verdict E).

Two kinds of lab fault, each from a real run: a keyword of the lab that breaks (an
unexpected exception, here keywords used before the lab is open), and an instrument the
step needs that is unreachable (the reference meter's address is a closed port on the
virtual bench)."""

from __future__ import annotations

import io
import socket
from pathlib import Path

import pytest
import yaml
from robot import run as robot_run
from robot.api import ExecutionResult
from sqlalchemy import select
from sqlalchemy.orm import Session

from hil.history.db import open_engine
from hil.history.models import StepResult
from hil.report.build import report_for_output_dir, report_from_outputs
from hil.report.model import LAB_ERROR, NOT_DECIDED
from hil.verdict import LAB_ERROR_TAG
from tests.suites.runner import run_steps, write_lab

SUITE = """\
*** Settings ***
Library    hil.robot.HilLab

*** Test Cases ***
Get Configuration
    [Tags]    step:3    profile:Core
    Lab Setting    dut.connectors

Heartbeat
    [Tags]    step:5    profile:Core
    Require Capability    teleportation

Change Configuration
    [Tags]    step:4    profile:Core
    Should Be Equal    station    lab    the station broke a rule
"""


def test_a_keyword_that_breaks_is_a_lab_error_and_an_assertion_is_the_stations(
    tmp_path: Path,
) -> None:
    suite = tmp_path / "lab_errors.robot"
    suite.write_text(SUITE)
    robot_run(str(suite), outputdir=str(tmp_path), stdout=io.StringIO(), stderr=io.StringIO())
    tests = {t.name: t for t in ExecutionResult(str(tmp_path / "output.xml")).suite.all_tests}
    for name, cause in (
        ("Get Configuration", "'Lab Setting' broke (LabNotOpen"),
        ("Heartbeat", "'Require Capability' broke (LabNotOpen: No lab is open"),
    ):
        test = tests[name]
        assert test.status == "FAIL" and LAB_ERROR_TAG in test.tags, (name, test.message)
        assert test.message.startswith("Lab error: ") and cause in test.message, test.message
    # an assertion is a finding about the station: N, no lab-error tag
    station = tests["Change Configuration"]
    assert station.status == "FAIL" and LAB_ERROR_TAG not in station.tags


@pytest.mark.robot
def test_an_unreachable_instrument_is_a_lab_error_in_robot_report_and_history(
    tmp_path: Path,
) -> None:
    with socket.socket() as sock:  # a port that is certainly closed
        sock.bind(("127.0.0.1", 0))
        dead = f"modbus-tcp://127.0.0.1:{sock.getsockname()[1]}"
    data = yaml.safe_load(write_lab(tmp_path, []).read_text())
    data["instruments"]["energy_meter"]["address"] = dead
    data["instruments"]["power_analyser"]["address"] = "TCPIP0::127.0.0.1::9::SOCKET"  # closed
    lab = tmp_path / "lab.yaml"
    lab.write_text(yaml.safe_dump(data))
    db = tmp_path / "history.sqlite"
    outcomes = run_steps(tmp_path, lab, ["EI1"], variables=[f"HIL_HISTORY:sqlite:///{db}"])

    ei1 = outcomes["EI1"]  # EI1 needs a reference (requires:power_source): none answers
    assert ei1.status == "FAIL" and LAB_ERROR_TAG in ei1.tags, ei1.message
    assert "energy_meter" in ei1.message and dead in ei1.message

    report = report_for_output_dir(tmp_path / "out")
    [row] = report.eichrecht
    assert row.verdict == LAB_ERROR and dead in row.remarks[0]
    assert report.levels[2].state == NOT_DECIDED

    engine = open_engine(f"sqlite:///{db}")
    with Session(engine) as s:
        assert [r.verdict for r in s.scalars(select(StepResult))] == [LAB_ERROR]
    engine.dispose()


@pytest.mark.robot
def test_a_file_server_that_cannot_bind_is_a_lab_error_for_every_step(tmp_path: Path) -> None:
    """The lab's own server cannot start (its port is taken): Open Lab fails in the suite
    setup, and every step says so as a lab error, none as the station's N."""
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        lab = write_lab(tmp_path, [], file_server={"http_port": port})
        outcomes = run_steps(tmp_path, lab, ["3", "20"])
    for step, outcome in outcomes.items():  # Robot never ran them: no listener tagged them
        assert outcome.status == "FAIL", (step, outcome)
        assert outcome.message.startswith("Parent suite setup failed:\nLab error: ")
        assert "'Open Lab' broke (OSError" in outcome.message
    report = report_from_outputs([tmp_path / "out" / "output.xml"], tmp_path)
    rows = {r.step: r.verdict for r in report.checklist}
    assert rows["3"] == rows["20"] == LAB_ERROR
    assert report.levels[0].state == NOT_DECIDED and not report.certified


def test_a_lab_config_that_fails_to_load_is_said_first_in_the_report(tmp_path: Path) -> None:
    """Harm prevented: when `Open Lab` fails on a bad lab config, the report written at the
    end of the run showed every step as not run (and ``hil report output.xml`` an E in every
    row) without the one line that says what to mend. Both reports (HTML, Markdown) now
    say first that the lab could not open, with the config error's text: file, field and
    value. A real run of one step with a broken config (fast: nothing starts)."""
    from hil.report.render_html import render_html
    from hil.report.render_markdown import render_markdown

    lab = write_lab(tmp_path, [], dut={"connectors": "two"})
    why = (
        f"{lab}: field dut.connectors: Input should be a valid integer, unable to parse "
        "string as an integer (value 'two')"
    )
    outcomes = run_steps(tmp_path, lab, ["3"])
    assert outcomes["3"].message == f"Parent suite setup failed:\nLab error: {why}"
    out = tmp_path / "out"
    # the report names the lab config by its name, not the lab PC's path (it is mailed)
    why = why.replace(str(lab), lab.name)

    # the report the run itself wrote (from the step records), as a file
    written = (out / "certification-report.md").read_text(encoding="utf-8")
    assert "**The lab could not open.**" in written
    certificate = written.split("---")[0]  # on the certificate page, above the levels
    assert why in certificate.replace("\\_", "_"), certificate  # Markdown escapes _
    html = (out / "certification-report.html").read_text(encoding="utf-8")
    assert 'id="lab-not-opened"' in html and "The lab could not open" in html
    assert why.replace("'", "&#39;") in html
    assert html.index("The lab could not open") < html.index('class="levels"')

    # hil report output.xml: the same, also when the run marker beside it is gone
    for marker_kept in (True, False):
        if not marker_kept:
            (out / "hil-run.json").unlink()
        report = report_from_outputs([out / "output.xml"], tmp_path)
        assert [f.message for f in report.lab_not_opened] == [why], marker_kept
        assert "The lab could not open" in render_markdown(report)
        assert why.replace("'", "&#39;") in render_html(report)


def test_a_later_run_that_opened_the_lab_clears_the_banner() -> None:
    """A merged report of a run that could not open the lab and a later run that did says
    nothing about the failed open: it was mended."""
    from hil.report.build import _lab_not_opened
    from hil.report.sources import RunData

    def run(name: str, failed: str) -> RunData:
        return RunData(Path(name), Path("."), {}, [], lab_not_opened=failed)

    bad, good = run("a", "lab.yaml: field x: wrong"), run("b", "")
    labels = {id(bad): "run 1", id(good): "run 2"}
    assert _lab_not_opened([bad, good], labels) == []
    [only] = _lab_not_opened([good, bad], labels)
    assert only.run == "run 1" and only.message == "lab.yaml: field x: wrong"
