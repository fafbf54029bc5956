"""The four kinds of outcome a step can have, from the keyword to the report and the history.

PASS (Y), FAIL (N: the station broke a rule), N/A (does not apply, with the reason) and a
**lab error** (E: the lab, an instrument or an operator failed) are different things. Robot
knows only PASS, FAIL and SKIP, so a lab error is a Robot FAIL carrying the tag
:data:`LAB_ERROR_TAG` and a message that starts with :data:`LAB_ERROR_PREFIX`: the run
still shows red (somebody must mend the lab), but no report, summary or history ever counts
it as the station's N, and the certification level it belongs to stays "not decided".

Who decides: :class:`LabFault` is what lab code raises for its own failures (its request
breaks the schema, an instrument is lost, the file server cannot bind, an operator did not
answer); the keyword library turns every other non-assertion exception of a keyword into
one (a keyword that breaks is the lab's defect, not the station's). An ``AssertionError``
is a finding about the station. No module here imports Robot.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

#: The Pass column: passed, failed, not applicable, lab error, not run.
YES, NO, NA, LAB_ERROR, NOT_RUN = "Y", "N", "N/A", "E", ""

#: the Robot tag of a test whose failure is the lab's
LAB_ERROR_TAG = "lab-error"
#: how a lab fault's message starts, in Robot and in the step records
LAB_ERROR_PREFIX = "Lab error: "
#: what the report's legend and the console say a lab error is
LAB_ERROR_MEANING = (
    "lab error: the lab, an instrument or an operator failed; not the station's verdict"
)

_ROBOT_VERDICTS = {"PASS": YES, "FAIL": NO, "SKIP": NA}
#: how Robot prefixes a failure that did not come from the test's body
_ROBOT_PREFIXES = ("Setup failed:\n", "Parent suite setup failed:\n", "Teardown failed:\n")
_ALSO_TEARDOWN = "\n\nAlso teardown failed:\n"
_SEVERAL = "Several failures occurred:\n\n1) "
#: how the listener adds a finding about the station to a test's message
FINDING_PREFIX = "Finding: "


class LabFault(RuntimeError):
    """The lab failed, not the station: the step ends as a lab error, never as N."""

    #: Robot shows the message alone, not "LabFault: …" (the message says what it is)
    ROBOT_SUPPRESS_NAME = True

    def __init__(self, cause: str) -> None:
        text = cause if cause.startswith(LAB_ERROR_PREFIX) else LAB_ERROR_PREFIX + cause
        super().__init__(text)


def verdict_of(status: str, tags: Iterable[str] = (), message: str = "") -> str:
    """The Pass column's mark for a Robot ``status``, the test's ``tags`` and its
    ``message`` (``NOT_RUN`` for a status that is no verdict, e.g. NOT RUN).

    The tag is the listener's word. The message decides too, for tests the listener never
    saw: those under a suite whose setup failed on a lab fault (Robot fails them with
    "Parent suite setup failed" without running them, and a library's listener is not
    called for them). A failure that also quotes a finding about the station stays N."""
    verdict = _ROBOT_VERDICTS.get(status, NOT_RUN)
    if verdict != NO:
        return verdict
    if LAB_ERROR_TAG in {str(t) for t in tags}:
        return LAB_ERROR
    if is_lab_failure(message) and FINDING_PREFIX not in message:
        return LAB_ERROR
    return verdict


def record_verdict(record: Mapping[str, Any]) -> str:
    """:func:`verdict_of` a step record as the listener writes it (``steps.jsonl``)."""
    return verdict_of(
        str(record.get("status") or ""), record.get("tags") or (), str(record.get("message") or "")
    )


def first_failure(message: str) -> str:
    """The failure that decided a Robot test's status: the body's (or the setup's) failure
    without Robot's prefixes, the first of several continuable ones, or the teardown's
    when the body passed."""
    text = message
    for prefix in _ROBOT_PREFIXES:
        if text.startswith(prefix):
            text = text[len(prefix) :]
            break
    text = text.split(_ALSO_TEARDOWN, 1)[0]
    if text.startswith(_SEVERAL):
        text = text[len(_SEVERAL) :].split("\n\n2) ", 1)[0]
    return text


def is_lab_failure(message: str) -> bool:
    """A failed test's deciding failure is a lab fault (its message says so)."""
    return first_failure(message).startswith(LAB_ERROR_PREFIX)
