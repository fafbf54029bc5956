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
from hil.lab.evidence import JsonLines
from hil.protocol import ProtocolAdapter, adapter_for_session
from hil.protocol.base import ConnectorStatus


def status_matcher(
    protocol: ProtocolAdapter, wanted: Callable[[ConnectorStatus], bool]
) -> Callable[[Frame], bool]:
    """A journal matcher for the station's StatusNotifications whose connector and status,
    in the lab's words, are ``wanted``."""

    def matches(f: Frame) -> bool:
        if f.dir != RX or f.kind != CALL or f.action != protocol.status_action:
            return False
        return wanted(protocol.connector_status(f.payload or {}))

    return matches


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
    #: what this test did (session, marks, requests); emptied when a test starts, so a
    #: verdict never rests on an earlier step's frames
    state: dict[str, Any] = field(default_factory=dict)
    #: facts of the run later steps reuse (measurands in use, firmware version expected)
    run: dict[str, Any] = field(default_factory=dict)
    #: a test is running and has passed its N/A checks: its teardown must clean up
    step_started: bool = False
    in_test: bool = False
    #: configuration keys changed by this test -> the value they had before
    saved_configuration: dict[str, str | None] = field(default_factory=dict)
    #: connectors whose availability this test changed -> the last type asked for
    availability: dict[int, str] = field(default_factory=dict)
    #: the running test's checklist step and name (empty outside a test)
    step: str = ""
    test: str = ""
    #: the run's evidence records for the report (``evidence.jsonl``), open while the lab is
    evidence: JsonLines | None = None
    #: the evidence records of the running test (the history database keeps its figures)
    step_evidence: list[dict[str, Any]] = field(default_factory=list)

    def begin_test(self) -> None:
        """A test starts: forget the previous test's state and start after the journal."""
        self.state.clear()
        self.saved_configuration.clear()
        self.availability.clear()
        self.step_evidence.clear()
        self.step_started = False
        self.in_test = True
        if self.bench is not None:
            self.cursor = self.mark()
            self.state["test_start"] = self.cursor

    def end_test(self) -> None:
        self.in_test = False
        self.step_started = False

    def record_evidence(self, kind: str, **data: Any) -> None:
        """Append an evidence record for the report, tagged with the running step; written
        and flushed at once, so a run that dies keeps it."""
        record = {"kind": kind, "step": self.step, "test": self.test, **data}
        if self.in_test:
            self.step_evidence.append(record)
        if self.evidence is not None:
            self.evidence.append(record)

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

    @property
    def protocol(self) -> ProtocolAdapter:
        """The adapter of the OCPP version the station's connection negotiated (before it
        ever connected: the lab config's ``dut.ocpp``). Keywords do a lab action through it
        instead of branching on the version."""
        return adapter_for_session(self.lab.station, default=self.cfg.dut.ocpp)

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

    # -- station state -----------------------------------------------------------------

    def running_session(self, connector: int | None = None) -> dict[str, Any] | None:
        """The transaction this test started and has not seen stop (on ``connector``)."""
        session = self.state.get("session")
        if not session or "meter_stop" in session:
            return None
        if connector is not None and session.get("connector") != connector:
            return None
        return session

    def wait_current_status(
        self, connector: int, status: str, timeout: float | None = None
    ) -> None:
        """The latest StatusNotification of ``connector`` is ``status``, or becomes it."""
        protocol = self.protocol
        latest = self.journal.find_last(
            status_matcher(protocol, lambda s: s.connector == connector)
        )
        if latest is not None and protocol.connector_status(latest.payload).status == status:
            return
        self.wait_message(
            protocol.status_action,
            protocol.status_fields(connector, status),
            timeout,
            after=latest.seq if latest is not None else 0,
            advance=False,
        )

    # -- configuration the test changes ----------------------------------------------

    def _label(self, setting: str) -> str:
        return self.protocol.address(setting).label

    def configuration_value(self, setting: str) -> str | None:
        """The station's value of ``setting`` (a lab setting name, or the version's own:
        a 1.6 key, a 2.0.1 ``Component.Variable``), None when it has none."""
        (value,) = self.protocol.read_settings(self.lab.call, [setting])
        return value.value if value.known else None

    def change_configuration(self, setting: str, value: str) -> str:
        """Change a setting (1.6 ChangeConfiguration, 2.0.1 SetVariables); inside a test the
        value it had is remembered once, so the teardown puts it back. Returns the status
        in the lab's words (Accepted, Rejected, RebootRequired, NotSupported)."""
        label = self._label(setting)
        if self.in_test and label not in self.saved_configuration:
            self.saved_configuration[label] = self.configuration_value(setting)
        change = self.protocol.change_setting(self.lab.call, setting, str(value))
        logger.info(f"{self.protocol.change_action} {change.describe()}")
        return str(change.status)

    def keep_configuration(self, setting: str) -> None:
        """The test set ``setting`` on purpose for the steps after it: do not put it back."""
        self.saved_configuration.pop(self._label(setting), None)

    def restore_configuration(self) -> list[str]:
        """Put back every key this test changed whose value differs now; returns what could
        not be restored."""
        failed = []
        protocol = self.protocol
        for label, old in self.saved_configuration.items():
            if old is None or self.configuration_value(label) == old:
                continue
            change = protocol.change_setting(self.lab.call, label, old)
            logger.info(f"Teardown: {protocol.change_action} {change.describe()} (restored)")
            if not change.status.applied:
                failed.append(f"{label}={old}: {change.raw_status}")
        self.saved_configuration.clear()
        return failed
