"""Turns back-office findings into test failures, collects remarks, and keeps each step's
verdict for the report as it ends.

A finding (malformed frame, schema violation, unexpected CALL) is recorded by the back
office whenever it happens; this listener fails the test that was running, quoting the
frames. A test that failed on a lab fault (``hil.verdict``) and shows no finding about the
station gets the tag ``lab-error``: its verdict is E, never the station's N.

A remark is a SHOULD-level miss: the test passes, shows a warning, gets the tag ``remark``
and the remark text in its message, and ``remarks.jsonl`` in the output folder
gets a machine-readable line the certification report reads. Every finished step gets a
line in ``steps.jsonl`` at once (verdict, message, remarks, times), so a run that is killed
halfway still has a report of the steps that finished; when the run ends, the report is
written into the output folder.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from robot.api import logger

from hil.checklist import mismatch
from hil.lab.evidence import (
    STEPS_FILE,
    JsonLines,
    now,
    stopped_by_robot,
    update_run,
    write_current_step,
)
from hil.robot.context import LabContext, Remark
from hil.robot.history_hook import HistoryHook
from hil.verdict import (
    FINDING_PREFIX,
    LAB_ERROR,
    LAB_ERROR_PREFIX,
    LAB_ERROR_TAG,
    NO,
    verdict_of,
)

#: how the line an N gets for each step done by hand before it starts
MANUAL_NOTE_PREFIX = "Done by hand: "


def step_of(tags: Any) -> str:
    for tag in tags:
        if str(tag).startswith("step:"):
            return str(tag)[5:]
    return ""


def _done_by_hand(record: dict[str, Any]) -> bool:
    return record.get("kind") == "manual" and record.get("answer") == "done"


def manual_note(record: dict[str, Any]) -> str:
    """``Done by hand: the operator confirmed "<prompt>" at 18:52:26 UTC`` for a ``manual``
    evidence record the operator answered Done (the N that follows was seen after it)."""
    at = str(record.get("answered") or "")
    clock = at[11:19] + " UTC" if len(at) >= 19 else "an unknown time"
    return f'{MANUAL_NOTE_PREFIX}the operator confirmed "{record.get("prompt", "")}" at {clock}'


class RunListener:
    ROBOT_LISTENER_API_VERSION = 3

    def __init__(self, ctx: LabContext) -> None:
        self.ctx = ctx
        self._finding_mark = 0
        self._remark_mark = 0
        self.current_test: tuple[str, str] | None = None
        #: the run's output folder and step records, once `Open Lab` started the run
        self.output_dir: Path | None = None
        self.run_id = ""
        self._steps: JsonLines | None = None
        #: Robot stopped the run (a signal, a fatal error) before all its steps ran
        self._stopped = False
        self._started = ""
        self._started_mono = 0.0
        self.history: HistoryHook | None = None

    def begin_run(self, output_dir: Path, run_id: str) -> None:
        self.output_dir = output_dir
        self.run_id = run_id
        self._steps = JsonLines(output_dir / STEPS_FILE)
        self.history = HistoryHook.from_robot_variables(output_dir)

    def start_test(self, data: Any, result: Any) -> None:
        self.current_test = (
            result.longname if hasattr(result, "longname") else result.name,
            step_of(data.tags),
        )
        self._remark_mark = len(self.ctx.remarks)
        self._started, self._started_mono = now(), time.monotonic()
        self.ctx.begin_test()
        self.ctx.test, self.ctx.step = self.current_test
        if self.output_dir is not None and self.current_test[1]:
            # live progress: which step a bench is on (hil nightly shows it)
            write_current_step(self.output_dir, self.current_test[1], result.name, self._started)

    def end_test(self, data: Any, result: Any) -> None:
        test, step = self.current_test or (result.name, step_of(data.tags))
        self.current_test = None
        self.ctx.end_test()
        self.ctx.test = self.ctx.step = ""
        if self.ctx.bench is not None:
            findings = self.ctx.bench.back_office.findings
            every = findings.since(self._finding_mark)
            self._finding_mark = findings.mark
            dut = self.ctx.bench.cfg.dut.station_id
            new = [f for f in every if f.station == dut and not f.remark]
            if self.output_dir is not None:
                for remark in (f for f in every if f.station == dut and f.remark):
                    self.record_remark(remark.describe(), self.output_dir, (test, step))
            for other in (f for f in every if f.station != dut):
                # another station's defect is not the DUT's: its journal has it, the log
                # warns, the DUT's verdict does not change
                logger.warn(f"Finding of another station (not the DUT): {other.describe()}")
            if new:
                text = "\n".join(FINDING_PREFIX + f.describe() for f in new)
                if result.status != "FAIL":
                    result.status = "FAIL"
                    result.message = text
                else:
                    result.message = f"{result.message}\n{text}"
        remarks = self.ctx.remarks[self._remark_mark :]
        if remarks and result.status == "PASS":
            text = "\n".join(f"Remark: {r.text}" for r in remarks)
            result.message = f"{result.message}\n{text}".strip()
        verdict = verdict_of(result.status, (), result.message)
        if verdict == NO:  # the station's N after a step done by hand says what was done
            notes = [manual_note(e) for e in self.ctx.step_evidence if _done_by_hand(e)]
            if notes:
                result.message = "\n".join([result.message, *notes])
        if verdict == LAB_ERROR:
            # the lab failed, not the station: Robot still shows red, the verdict is E
            result.tags.add(LAB_ERROR_TAG)
            logger.warn(f"{test}: a lab error, not the station's verdict: {result.message}")
        tags = [str(t) for t in result.tags]
        if stopped_by_robot(result.message):
            # the run was being stopped: no verdict on the station, and the run is interrupted
            self._stopped = True
            return
        wrong = mismatch(step, result.name, tags) if step else None
        if wrong:  # the report could not place it: a suite edit the checklist does not know
            result.status = "FAIL"
            result.message = (
                f"{LAB_ERROR_PREFIX}this test does not match the lab's checklist: {wrong}"
            )
            result.tags.add(LAB_ERROR_TAG)
            tags = [str(t) for t in result.tags]
        self._record_step(test, step, tags, result, [r.text for r in remarks])

    def _record_step(
        self, test: str, step: str, tags: list[str], result: Any, remarks: list[str]
    ) -> None:
        if self._steps is None or not step:
            return
        record = {
            "run_id": self.run_id,
            "step": step,
            "test": test,
            "name": result.name,
            "status": result.status,
            "message": result.message,
            "remarks": remarks,
            "tags": tags,
            "started": self._started,
            "ended": now(),
            "elapsed_s": round(time.monotonic() - self._started_mono, 3),
        }
        self._steps.append(record)
        if self.history is not None:
            self.history.step(record, list(self.ctx.step_evidence))

    def close(self) -> None:
        """Listener hook: the library goes out of scope (the run is over); stop whatever
        still runs, then write the certification report into the output folder."""
        bench, self.ctx.bench = self.ctx.bench, None
        if bench is not None:
            bench.close()
        if self.output_dir is not None:
            update_run(self.output_dir, ended=now(), stopped=self._stopped)
            write_current_step(self.output_dir, "", "", now(), finished=True)
            if self.history is not None:
                self.history.end(interrupted=self._stopped)
            self._write_report(self.output_dir)

    @staticmethod
    def _write_report(output_dir: Path) -> None:
        """The report from the step records (Robot writes ``output.xml`` only after this
        hook; ``hil report output.xml`` gives the same from it). A failure here must not
        cost the run its results, so it is printed, not raised."""
        try:
            from hil.report.build import report_for_output_dir
            from hil.report.render import write_report

            report = report_for_output_dir(output_dir)
            paths = write_report(report, output_dir)
        except Exception as exc:  # the run's own results are already safe
            print(f"hil: the certification report could not be written: {exc!r}", file=sys.stderr)
            return
        for warning in report.warnings:
            logger.console(f"Certification warning: {warning}")
        for path in paths:
            if path.suffix == ".html":
                logger.console(f"Certification: {path.resolve()}")

    def record_remark(
        self, text: str, output_dir: Path, test_step: tuple[str, str] | None = None
    ) -> str:
        test, step = test_step or self.current_test or ("(outside a test)", "")
        remark = Remark(test=test, step=step, text=text)
        self.ctx.remarks.append(remark)
        with (output_dir / "remarks.jsonl").open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(remark.__dict__, ensure_ascii=False) + "\n")
        return test
