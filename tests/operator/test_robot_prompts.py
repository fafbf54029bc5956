"""Through the real keyword path: a virtual lab without a tag reader and with
``missing_instrument: prompt`` asks the operator on the web page for the card. An HTTP
client thread plays the operator: Done -> the step goes on and passes, Cannot do -> the
step is SKIP (N/A) with the reason, no answer -> FAIL after ``operator.timeout_s``."""

from __future__ import annotations

import io
import socket
import threading
from pathlib import Path
from typing import Any

import pytest
import yaml
from robot import run as robot_run
from robot.api import ExecutionResult

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


def test_no_operator_answer_is_a_lab_error_after_the_timeout(tmp_path: Path) -> None:
    port = _free_port()
    lab = _prompting_lab(tmp_path, port, timeout_s=1)
    operator = Operator(port, None)  # looks at the page, never answers
    operator.start()
    outcome = run_steps(tmp_path, lab, ["8"])["8"]
    operator.join(10)
    assert operator.seen is not None  # the prompt was on the page
    # the operator failed, not the station: a lab error, never N
    assert outcome.status == "FAIL" and "lab-error" in outcome.tags
    assert outcome.message.startswith(
        "Lab error: No operator answered 'Present the card VALID-TAG-01 at the station's "
        "reader' within 1 s"
    ), outcome.message
