"""Turns back-office findings into test failures and collects remarks for the report.

A finding (malformed frame, schema violation, unexpected CALL) is recorded by the back
office whenever it happens; this listener fails the test that was running, quoting the
frames. A remark is a SHOULD-level miss: the test passes, shows a warning, gets the tag
``remark`` and the remark text in its message, and ``remarks.jsonl`` in the output folder
gets a machine-readable line the certification report reads.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from robot.api import logger

from hil.robot.context import LabContext, Remark


def step_of(tags: Any) -> str:
    for tag in tags:
        if str(tag).startswith("step:"):
            return str(tag)[5:]
    return ""


class RunListener:
    ROBOT_LISTENER_API_VERSION = 3

    def __init__(self, ctx: LabContext) -> None:
        self.ctx = ctx
        self._finding_mark = 0
        self._remark_mark = 0
        self.current_test: tuple[str, str] | None = None

    def start_test(self, data: Any, result: Any) -> None:
        self.current_test = (
            result.longname if hasattr(result, "longname") else result.name,
            step_of(data.tags),
        )
        self._remark_mark = len(self.ctx.remarks)
        self.ctx.begin_test()

    def end_test(self, data: Any, result: Any) -> None:
        self.current_test = None
        self.ctx.end_test()
        if self.ctx.bench is not None:
            findings = self.ctx.bench.back_office.findings
            every = findings.since(self._finding_mark)
            self._finding_mark = findings.mark
            dut = self.ctx.bench.cfg.dut.station_id
            new = [f for f in every if f.station == dut]
            for other in (f for f in every if f.station != dut):
                # another station's defect is not the DUT's: its journal has it, the log
                # warns, the DUT's verdict does not change
                logger.warn(f"Finding of another station (not the DUT): {other.describe()}")
            if new:
                text = "\n".join("Finding: " + f.describe() for f in new)
                if result.status != "FAIL":
                    result.status = "FAIL"
                    result.message = text
                else:
                    result.message = f"{result.message}\n{text}"
        remarks = self.ctx.remarks[self._remark_mark :]
        if remarks and result.status == "PASS":
            text = "\n".join(f"Remark: {r.text}" for r in remarks)
            result.message = f"{result.message}\n{text}".strip()

    def close(self) -> None:
        """Listener hook: the library goes out of scope; stop whatever still runs."""
        bench, self.ctx.bench = self.ctx.bench, None
        if bench is not None:
            bench.close()

    def record_remark(self, text: str, output_dir: Path) -> str:
        test, step = self.current_test or ("(outside a test)", "")
        remark = Remark(test=test, step=step, text=text)
        self.ctx.remarks.append(remark)
        with (output_dir / "remarks.jsonl").open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(remark.__dict__, ensure_ascii=False) + "\n")
        return test
