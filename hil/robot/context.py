"""State the keyword components share: the open bench and the journal cursor.

The cursor is the journal position a wait starts after. Each test starts it at the end of
the journal; each successful wait moves it to the frame it matched, so a sequence of waits
asserts order. A keyword that must accept either order takes an explicit ``after`` mark.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from robot.api import logger

from hil.csms.journal import (
    CALL,
    RX,
    Frame,
    Journal,
    describe_expectation,
    message_matcher,
)
from hil.lab.bench import Bench
from hil.lab.config import LabConfig


def answered(request: str, status: str, expect: str | None) -> str:
    """Log the station's answer to ``request``; with ``expect`` (``A`` or ``A|B``) fail
    when the answer is something else. Returns the status."""
    logger.info(f"{request} -> {status}")
    if expect and status not in [e.strip() for e in expect.split("|")]:
        raise AssertionError(f"Station answered {request} with {status}, expected {expect}")
    return status


class LabNotOpen(RuntimeError):
    pass


@dataclass
class Remark:
    test: str
    step: str
    text: str


@dataclass
class LabContext:
    bench: Bench | None = None
    cursor: int = 0
    remarks: list[Remark] = field(default_factory=list)
    state: dict[str, Any] = field(default_factory=dict)  # facts later steps reuse

    # -- access ----------------------------------------------------------------------

    @property
    def lab(self) -> Bench:
        if self.bench is None:
            raise LabNotOpen("No lab is open: call 'Open Lab' first (suite setup)")
        return self.bench

    @property
    def cfg(self) -> LabConfig:
        return self.lab.cfg

    @property
    def journal(self) -> Journal:
        return self.lab.station.journal

    # -- journal helpers -------------------------------------------------------------

    def mark(self) -> int:
        return self.journal.cursor

    def advance(self, frame: Frame) -> None:
        self.cursor = max(self.cursor, frame.seq)

    def wait_message(
        self,
        action: str | None,
        fields: dict[str, Any] | None = None,
        timeout: float | None = None,
        after: int | None = None,
        kinds: tuple[str, ...] = (CALL,),
        direction: str = RX,
        advance: bool = True,
    ) -> Frame:
        """Wait for the next matching frame after ``after`` (default: the cursor)."""
        start = self.cursor if after is None else int(after)
        wait = self.cfg.timings.message_timeout_s if timeout is None else float(timeout)
        what = describe_expectation(action, fields, direction, kinds)
        frame = self.journal.wait_for(
            message_matcher(action, kinds, direction, fields), start, wait, what
        )
        logger.info(f"Matched {frame.describe(400)}")
        if advance:
            self.advance(frame)
        return frame

    def frames_after(
        self, after: int, predicate: Callable[[Frame], bool] | None = None
    ) -> list[Frame]:
        frames = self.journal.frames(after)
        return [f for f in frames if predicate is None or predicate(f)]

    def answer_to(self, request: Frame, timeout: float | None = None) -> Frame:
        """The back office's (or station's) answer to the CALL ``request``."""
        direction = "tx" if request.dir == RX else RX
        wait = self.cfg.timings.message_timeout_s if timeout is None else timeout
        return self.journal.wait_for(
            lambda f: f.dir == direction and f.unique_id == request.unique_id and f.kind != CALL,
            request.seq,
            wait,
            f"the answer to {request.describe(80)}",
        )
