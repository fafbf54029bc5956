"""Through the real keyword path: a virtual lab without a tag reader and with
``missing_instrument: prompt`` asks the operator on the web page for the card. An HTTP
client thread plays the operator: Done -> the step goes on and passes, Cannot do -> the
step is SKIP (N/A) with the reason, no answer -> a lab error (E) after
``operator.timeout_s``, in Robot, the report and the history. Every prompt is a ``manual``
evidence record and a row of the report's "Steps done by hand"; an N after a Done quotes
it. (``hil lab check`` refuses such a lab; Robot runs it all the same, as here.)"""

from __future__ import annotations

import io
import re
import socket
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from robot import run as robot_run
from robot.api import ExecutionResult
from sqlalchemy import select
from sqlalchemy.orm import Session

from hil.history.db import open_engine
from hil.history.models import StepResult
from hil.lab.evidence import EVIDENCE_FILE, read_json_lines
from hil.report.build import report_for_output_dir
from hil.report.model import LAB_ERROR, NO, NOT_DECIDED
from hil.verdict import LAB_ERROR_TAG
from tests.operator.helpers import get_state, post_answer
from tests.suites.runner import run_steps, write_lab

pytestmark = pytest.mark.robot


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _prompting_lab(tmp: Path, port: int, timeout_s: float) -> Path:
    """virtual.yaml without the tag reader; the operator is asked on the web page."""
    path = write_lab(
        tmp,
        lab={"missing_instrument": "prompt"},
        operator={"channel": "web", "host": "127.0.0.1", "port": port, "timeout_s": timeout_s},
    )
    data = yaml.safe_load(path.read_text())
    del data["instruments"]["identification"]
    path.write_text(yaml.safe_dump(data))
    return path


class Operator(threading.Thread):
    """Waits (long poll) for the first prompt on the page, records it and answers it with
    ``answer`` (None: looks, but never answers)."""

    def __init__(self, port: int, answer: str | None, reason: str = "") -> None:
        super().__init__(daemon=True)
        self.base = f"http://127.0.0.1:{port}/"
        self.answer, self.reason = answer, reason
        self.seen: dict[str, Any] | None = None
        self.status: int | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            while self.seen is None:  # the page is not up until the lab opens
                try:
                    self.seen = get_state(self.base, wait=60)["prompt"]
                except OSError:
                    threading.Event().wait(0.2)  # the run is still starting its lab
            if self.answer is not None:
                self.status = post_answer(self.base, self.seen["id"], self.answer, self.reason)
        except BaseException as exc:  # reported by the test
            self.error = exc


_DONE_SUITE = """\
*** Settings ***
Library             hil.robot.HilLab
Suite Setup         Open Lab    ${LAB}
Suite Teardown      Close Lab
Test Setup          Prepare Step
Test Teardown       Return Bench To Idle

*** Test Cases ***
Charging Session - Local - Identification First - Connection TimeOut
    [Documentation]    Step 8 up to the card: the operator presents it (the virtual station
    ...    has no reader here, so the rest of the step could not see the tag).
    [Tags]    step:8    profile:Core    requires:identification
    ${tag}=    Lab Tag    valid
    Present Tag    ${tag}
"""


def test_operator_done_lets_the_step_go_on(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    port = _free_port()
    lab = _prompting_lab(tmp_path, port, timeout_s=60)
    suite = tmp_path / "operator.robot"
    suite.write_text(_DONE_SUITE)
    operator = Operator(port, "done")
    operator.start()
    robot_run(
        str(suite),
        outputdir=str(tmp_path / "out"),
        variable=[f"LAB:{lab}"],
        log="NONE",
        report="NONE",
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )
    operator.join(10)
    assert operator.error is None, operator.error
    # the page's URL went to the console once; the lab's close stopped the page
    said = f"Operator prompts: http://127.0.0.1:{port}/ (timeout 60 s)"
    console = capfd.readouterr().out  # Robot's console (sys.__stdout__)
    assert console.count(said) == 1, console
    with pytest.raises(OSError):
        get_state(operator.base)
    test = ExecutionResult(str(tmp_path / "out" / "output.xml")).suite.tests[0]
    assert test.status == "PASS", test.message
    assert operator.seen is not None and operator.status == 200
    assert operator.seen["instruction"] == "Present the card VALID-TAG-01 at the station's reader"
    assert operator.seen["step"] == "8" and operator.seen["name"].startswith(
        "Charging Session - Local"
    )
    assert operator.seen["role"] == "an automated tag reader"


def test_operator_cannot_do_makes_the_step_na_with_the_reason(tmp_path: Path) -> None:
    port = _free_port()
    lab = _prompting_lab(tmp_path, port, timeout_s=60)
    operator = Operator(port, "cannot", "the card box is locked")
    operator.start()
    outcome = run_steps(tmp_path, lab, ["8"])["8"]
    operator.join(10)
    assert operator.error is None, operator.error
    assert operator.status == 200
    assert outcome.status == "SKIP", outcome.message
    assert outcome.message == (
        "N/A: the operator could not present the card VALID-TAG-01 at the station's reader: "
        "the card box is locked"
    )


CARD = "Present the card VALID-TAG-01 at the station's reader"


def _manual_records(out: Path) -> list[dict[str, Any]]:
    return [e for e in read_json_lines(out / EVIDENCE_FILE) if e["kind"] == "manual"]


def test_an_n_after_a_manual_action_quotes_it_and_the_report_lists_it(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """Harm prevented: when an operator stood in for the tag reader, nothing in the
    evidence said when the card was presented, the report did not say the step was done by
    hand, and the N that followed ("no Authorize") read as if an instrument had presented
    the card — the station was blamed without a word that a person had done it. And the
    Robot console never said that a prompt was waiting, or where to answer it.

    Now the console names the prompt and the page's URL, the answer is a ``manual`` record
    in evidence.jsonl (prompt, answer, asked/answered times), the N's message quotes it
    with the time, and the report's "Steps done by hand" lists it. Step 8 for real: the
    virtual station has no reader here, so no Authorize follows the operator's Done."""
    port = _free_port()
    lab = _prompting_lab(tmp_path, port, timeout_s=60)
    operator = Operator(port, "done")
    operator.start()
    outcome = run_steps(tmp_path, lab, ["8"])["8"]
    operator.join(10)
    assert operator.error is None and operator.status == 200, operator.error
    console = capfd.readouterr().out
    assert (
        f"Operator needed (step 8): {CARD} — answer at http://127.0.0.1:{port}/ (within 60 s)"
    ) in console, console

    out = tmp_path / "out"
    [record] = _manual_records(out)
    assert (record["step"], record["role"], record["prompt"]) == ("8", "identification", CARD)
    assert (record["answer"], record["reason"], record["channel"]) == ("done", "", "web")
    asked, answered = (datetime.fromisoformat(record[k]) for k in ("asked", "answered"))
    assert asked <= answered and answered.utcoffset() is not None

    # the station's N (never E), and its message says the card was presented by hand, when
    assert outcome.status == "FAIL" and LAB_ERROR_TAG not in outcome.tags, outcome.message
    assert "Authorize" in outcome.message.splitlines()[0], outcome.message
    clock = record["answered"][11:19]
    assert outcome.message.splitlines()[-1] == (
        f'Done by hand: the operator confirmed "{CARD}" at {clock} UTC'
    ), outcome.message

    report = report_for_output_dir(out)
    row = next(r for r in report.checklist if r.step == "8")
    assert row.verdict == NO
    [manual] = report.manual_steps
    assert (manual.step, manual.prompt, manual.answer) == ("8", CARD, "Done")
    assert manual.answered == f"{record['answered'][:10]} {clock} UTC"
    markdown = (out / "certification-report.md").read_text(encoding="utf-8")
    section = markdown.split("## Steps done by hand", 1)[1].split("\n## ", 1)[0]
    assert re.search(r"\| 8 \| Present the card VALID-TAG-01 .* \| Done \|", section), section
    html = (out / "certification-report.html").read_text(encoding="utf-8")
    assert "<h2>Steps done by hand</h2>" in html and 'class="manual-steps"' in html


def test_no_operator_answer_is_a_lab_error_in_robot_report_and_history(tmp_path: Path) -> None:
    """Harm prevented: an operator who does not answer in time must never count against
    the station. Robot already failed such a step with the tag ``lab-error``; this checks
    it end to end — the report's row is E with the reason and the level is not decided,
    the history stores E (not N) — and that the unanswered prompt is on record: a
    ``manual`` record with answer ``timeout`` and no answer time, and a "Steps done by
    hand" row that says nobody answered."""
    port = _free_port()
    lab = _prompting_lab(tmp_path, port, timeout_s=1)
    operator = Operator(port, None)  # looks at the page, never answers
    operator.start()
    db = tmp_path / "history.sqlite"
    outcome = run_steps(tmp_path, lab, ["8"], variables=[f"HIL_HISTORY:sqlite:///{db}"])["8"]
    operator.join(10)
    assert operator.seen is not None  # the prompt was on the page
    # the operator failed, not the station: a lab error, never N
    assert outcome.status == "FAIL" and "lab-error" in outcome.tags
    why = f"No operator answered '{CARD}' within 1 s"
    assert outcome.message.startswith(f"Lab error: {why}"), outcome.message
    assert "Done by hand" not in outcome.message

    out = tmp_path / "out"
    [record] = _manual_records(out)
    assert (record["answer"], record["answered"]) == ("timeout", None)

    report = report_for_output_dir(out)
    row = next(r for r in report.checklist if r.step == "8")
    assert row.verdict == LAB_ERROR and why in row.remarks[0], row.remarks
    assert report.levels[0].state == NOT_DECIDED
    [manual] = report.manual_steps
    assert (manual.answer, manual.answered) == ("No answer within 1 s (lab error)", "")

    engine = open_engine(f"sqlite:///{db}")
    with Session(engine) as s:
        [step] = s.scalars(select(StepResult)).all()
        assert (step.step, step.verdict) == ("8", LAB_ERROR) and why in step.message
    engine.dispose()
