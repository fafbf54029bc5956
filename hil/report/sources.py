"""Reading what a run left: Robot's ``output.xml`` (through Robot's result API), or, when
that is missing or cut off, the step records the lab wrote as each step ended.

A run's folder holds ``output.xml`` and, beside it, the lab's own records: ``hil-run.json``
(run id, times, the DUT and lab as configured), ``steps.jsonl``, ``remarks.jsonl`` and
``evidence.jsonl``. Every problem with an input is one :class:`ReportInputError` line
naming the file and what is wrong.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hil.checklist import BY_ID
from hil.lab.evidence import (
    EVIDENCE_FILE,
    STEPS_FILE,
    read_json_lines,
    read_run,
    stopped_by_robot,
)
from hil.verdict import LAB_ERROR_PREFIX, verdict_of

#: Robot statuses that are a verdict (NOT RUN is none: e.g. --exitonfailure, --dryrun).
VERDICT_STATUSES = ("PASS", "FAIL", "SKIP")


class ReportInputError(ValueError):
    """An input the report cannot be built from; the message names the file."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"{path}: {problem}")


@dataclass
class StepRecord:
    step: str
    name: str
    status: str
    message: str
    remarks: list[str]
    started: str  # ISO 8601, to order re-runs of a step
    #: the test's tags (``lab-error`` makes a FAIL the lab's, hil.verdict)
    tags: list[str] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        """The Pass column's mark: Y, N, N/A or E (hil.verdict)."""
        return verdict_of(self.status, self.tags, self.message)


@dataclass
class RunData:
    source: Path  # output.xml or steps.jsonl
    folder: Path
    facts: dict[str, Any]  # hil-run.json (empty when the folder has none)
    steps: list[StepRecord]
    evidence: list[dict[str, Any]] = field(default_factory=list)
    interrupted: bool = False
    started: str = ""
    ended: str = ""
    #: why `Open Lab` failed (the lab never opened, no step ran); empty when it opened
    lab_not_opened: str = ""

    @property
    def run_id(self) -> str:
        return str(self.facts.get("run_id", "")) or self.source.parent.name


def _iso(value: Any) -> str:
    """Robot's timestamps (local time without a zone; datetime in RF 7, text before) as
    ISO 8601 in UTC with milliseconds, like the lab's own records, so they sort together."""
    if isinstance(value, str) and value and value != "N/A":
        try:  # RF < 7: 20261130 10:00:00.000
            value = datetime.strptime(value, "%Y%m%d %H:%M:%S.%f")
        except ValueError:
            return value
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="milliseconds")
    return ""


def _remarks_by_step(folder: Path) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for r in read_json_lines(folder / "remarks.jsonl"):
        if r.get("step"):
            out.setdefault(str(r["step"]), []).append(str(r.get("text", "")))
    return out


def read_output_xml(path: Path) -> RunData:
    """A run from its ``output.xml``; a truncated one falls back to ``steps.jsonl``."""
    from robot.api import ExecutionResult
    from robot.errors import DataError

    if not path.exists():
        raise ReportInputError(path, "no such file")
    if path.is_dir():
        raise ReportInputError(path, "is a folder; give the output.xml inside it")
    if path.stat().st_size == 0:
        return _fallback(path, "the file is empty")
    try:
        result = ExecutionResult(str(path))
    except DataError as exc:
        why = str(exc).split("\n")[0]
        if "no element found" in why or "unclosed token" in why or "not well-formed" in why:
            return _fallback(path, f"the file is cut off or not XML ({why})")
        raise ReportInputError(path, f"not a Robot Framework output file ({why})") from None
    folder = path.parent
    remarks = _remarks_by_step(folder)
    steps: list[StepRecord] = []
    foreign = 0
    stopped = False
    for test in result.suite.all_tests:
        step = next((str(t)[5:] for t in test.tags if str(t).startswith("step:")), "")
        if step not in BY_ID:
            foreign += 1
            continue
        if stopped_by_robot(test.message):  # the run was stopped: no verdict on the station
            stopped = True
            continue
        steps.append(
            StepRecord(
                step=step,
                name=test.name,
                status=test.status,
                message=test.message,
                remarks=remarks.get(step, []),
                started=_iso(test.start_time),
                tags=[str(t) for t in test.tags],
            )
        )
    if not steps and not stopped:
        raise ReportInputError(
            path,
            f"an output.xml of another Robot project: none of its {foreign} test(s) carries "
            "a checklist step tag (step:1 … step:23, step:SC1 … step:SC3, step:EI1)",
        )
    facts = read_run(folder) or {}
    return RunData(
        source=path,
        folder=folder,
        facts=facts,
        steps=steps,
        evidence=read_json_lines(folder / EVIDENCE_FILE) if facts else [],
        interrupted=stopped or bool(facts.get("stopped")),
        started=_iso(result.suite.start_time) or str(facts.get("started", "")),
        ended=_iso(result.suite.end_time) or str(facts.get("ended", "")),
        lab_not_opened=str(facts.get("lab_not_opened") or "") or _setup_lab_error(result.suite),
    )


def _setup_lab_error(suite: Any) -> str:
    """The lab error of a failed suite setup (`Open Lab`), for an output.xml whose run
    marker is gone: the first suite, top down, whose setup failed as a lab error."""
    setup = getattr(suite, "setup", None)
    if setup and setup.status == "FAIL" and setup.message.startswith(LAB_ERROR_PREFIX):
        return setup.message.removeprefix(LAB_ERROR_PREFIX)
    for child in suite.suites:
        if found := _setup_lab_error(child):
            return found
    return ""


def _fallback(path: Path, problem: str) -> RunData:
    """``output.xml`` is unusable: rebuild the run from the lab's step records beside it,
    marked interrupted; without them the problem is the answer."""
    steps_file = path.parent / STEPS_FILE
    if not steps_file.is_file():
        raise ReportInputError(path, f"{problem}, and there is no {STEPS_FILE} beside it")
    return read_step_records(path.parent, source=path)


def read_step_records(folder: Path, source: Path | None = None) -> RunData:
    """A run from the records the lab wrote as each step ended (``steps.jsonl``). The run
    is interrupted when its marker has no end time (the run never reached its end) or says
    Robot was stopped before all its steps ran."""
    steps_file = folder / STEPS_FILE
    facts = read_run(folder)
    if facts is None:
        raise ReportInputError(folder, "no hil-run.json: not the output folder of a lab run")
    records = read_json_lines(steps_file)
    steps = [
        StepRecord(
            step=str(r.get("step", "")),
            name=str(r.get("name", "")),
            status=str(r.get("status", "")),
            message=str(r.get("message", "")),
            remarks=[str(x) for x in r.get("remarks", [])],
            started=str(r.get("started", "")),
            tags=[str(t) for t in r.get("tags", [])],
        )
        for r in records
        if str(r.get("step", "")) in BY_ID and r.get("run_id") in (None, facts.get("run_id"))
    ]
    return RunData(
        source=source or steps_file,
        folder=folder,
        facts=facts,
        steps=steps,
        evidence=read_json_lines(folder / EVIDENCE_FILE),
        interrupted="ended" not in facts or bool(facts.get("stopped")) or source is not None,
        started=str(facts.get("started", "")),
        ended=str(facts.get("ended", "")),
        lab_not_opened=str(facts.get("lab_not_opened") or ""),
    )


#: How much of one frame the failure details quote (a NotifyReport can be tens of kB).
FRAME_QUOTE_CHARS = 2000


def quote_frames(folder: Path, station: str, seqs: Iterable[int]) -> list[str]:
    """The frames ``seqs`` of the run's OCPP journal (``journal/<station>.jsonl``), each as
    one line like ``Frame.describe`` writes it, with its time and the whole frame as sent
    (cut at FRAME_QUOTE_CHARS, saying how much more the journal holds): so that the
    report itself is the evidence, not frame numbers into a file the maker never gets.
    A journal that is missing, or a number it does not hold, quotes nothing."""
    wanted = set(seqs)
    journals = sorted((folder / "journal").glob("*.jsonl"))
    path = folder / "journal" / f"{station}.jsonl"
    if not path.is_file():
        if len(journals) != 1:
            return []
        path = journals[0]
    found: dict[int, str] = {}
    try:
        with path.open(encoding="utf-8", errors="replace") as lines:
            for line in lines:
                if not wanted - set(found):
                    break
                try:
                    frame = json.loads(line)
                except ValueError:
                    continue
                if isinstance(frame, dict) and frame.get("seq") in wanted:
                    found[int(frame["seq"])] = _frame_line(frame)
    except OSError:
        return []
    return [found[seq] for seq in sorted(found)]


def _frame_line(frame: dict[str, Any]) -> str:
    kind = str(frame.get("kind", ""))
    what = kind if not frame.get("action") else f"{kind} {frame['action']}"
    body = str(frame.get("raw") or "")
    if frame.get("dir") == "event" or not body:
        body = json.dumps(frame.get("info") or {}, ensure_ascii=False)
    if len(body) > FRAME_QUOTE_CHARS:
        more = len(body) - FRAME_QUOTE_CHARS
        body = f"{body[:FRAME_QUOTE_CHARS]}… ({more} more characters in the journal)"
    wall = str(frame.get("wall", ""))
    at = f" at {wall[11:23]} UTC" if len(wall) >= 23 else ""
    return f"#{frame.get('seq')} {frame.get('dir')} {what}{at}: {body}"
