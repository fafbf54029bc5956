"""The seam between a run and the history database: the listener hands every finished
step (and the evidence it produced) to the recorder named by the Robot variable
``${HIL_HISTORY}`` (an SQLAlchemy URL; ``hil nightly`` sets it, with ``${HIL_NIGHT}``).

The database is the history's, not the run's: when it cannot be written, the run goes on
and says so once on stderr; its own results and evidence files are unaffected.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from robot.libraries.BuiltIn import BuiltIn, RobotNotRunningError

from hil.lab.evidence import read_run


class HistoryHook:
    def __init__(self, url: str, night: str, output_dir: Path) -> None:
        self.url = url
        self.night = night
        self.output_dir = output_dir
        self._recorder: Any = None
        self._broken = False

    @classmethod
    def from_robot_variables(cls, output_dir: Path) -> HistoryHook | None:
        try:
            url = BuiltIn().get_variable_value("${HIL_HISTORY}", "")
            night = BuiltIn().get_variable_value("${HIL_NIGHT}", "")
        except RobotNotRunningError:
            return None
        return cls(str(url), str(night or ""), output_dir) if url else None

    def _call(self, what: str, *args: Any) -> None:
        if self._broken:
            return
        try:
            if self._recorder is None:
                from hil.history.recorder import HistoryRecorder

                # the run's facts (DUT, bench = lab name, run id) are known once the
                # lab config was read: the first step record comes after that
                self._recorder = HistoryRecorder.open(
                    self.url, read_run(self.output_dir) or {}, self.night, self.output_dir
                )
            getattr(self._recorder, what)(*args)
        except Exception as exc:  # the history must never cost the run its results
            self._broken = True
            print(
                f"hil: the history database {self.url} could not be written ({what}): {exc!r}",
                file=sys.stderr,
            )

    def step(self, record: dict[str, Any], evidence: list[dict[str, Any]]) -> None:
        self._call("step", record, evidence)

    def end(self, interrupted: bool = False) -> None:
        if self._recorder is not None:
            self._call("end", interrupted)
