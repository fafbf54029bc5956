"""Generic OCPP messaging: wait for what the station sends, call the station, journal marks."""

from __future__ import annotations

import json
from typing import Any

from robot.api import logger
from robot.api.deco import keyword

from hil.csms.journal import CALL, RX, describe_expectation, message_matcher
from hil.csms.policy import BootAnswer
from hil.robot.context import LabContext


class MessageKeywords:
    def __init__(self, ctx: LabContext) -> None:
        self.ctx = ctx

    @keyword
    def mark_journal(self) -> int:
        """The journal position now; pass it as ``after`` to wait for things in any order."""
        return self.ctx.mark()

    @keyword
    def journal_cursor(self) -> int:
        """The position of the last frame a wait matched in this test (where the next wait
        starts); pass it as ``after`` to accept what came since, in any order."""
        return self.ctx.cursor

    @keyword
    def wait_for_message(
        self, action: str, timeout: float | None = None, after: int | None = None, **fields: Any
    ) -> dict[str, Any]:
        """Wait for the next ``action`` CALL from the station whose fields match.

        Fields are given as ``name=value`` (dotted paths reach into the payload:
        ``idTagInfo.status=Accepted``). Waits after the cursor (the last matched message)
        unless ``after`` gives a journal mark. Returns the payload. On timeout, the failure
        lists what arrived instead.
        """
        frame = self.ctx.wait_message(action, fields, timeout, after)
        return frame.payload

    @keyword
    def message_should_not_arrive(
        self, action: str, within: float | None = None, after: int | None = None, **fields: Any
    ) -> None:
        """Fail as soon as a matching ``action`` CALL arrives within ``within`` seconds."""
        window = self.ctx.cfg.timings.silence_window_s if within is None else float(within)
        start = self.ctx.mark() if after is None else int(after)
        self.ctx.journal.expect_none(
            message_matcher(action, (CALL,), RX, fields),
            start,
            window,
            describe_expectation(action, fields),
        )

    @keyword
    def call_station(
        self, action: str, payload: dict[str, Any] | str | None = None, **fields: Any
    ) -> dict[str, Any]:
        """Send a back-office CALL and return the station's answer (a dictionary).

        The payload is a dictionary, a JSON text, or ``name=value`` pairs. A CALLERROR or a
        missing answer fails the keyword.
        """
        body: dict[str, Any] = {}
        if isinstance(payload, str):
            body = json.loads(payload)
        elif payload:
            body = dict(payload)
        body.update(fields)
        answer = self.ctx.lab.call(action, body)
        logger.info(f"{action} {json.dumps(body)} -> {json.dumps(answer)}")
        return answer

    @keyword
    def set_boot_notification_response(
        self, status: str = "Accepted", interval: int | None = None
    ) -> None:
        """Answer every following BootNotification with ``status`` and ``interval``."""
        value = self.ctx.cfg.back_office.heartbeat_interval_s if interval is None else interval
        self.ctx.lab.policy.set_boot_answer(status, int(value))

    @keyword
    def answer_next_boot_notifications(self, *statuses: str, interval: int | None = None) -> None:
        """Answer the next BootNotifications with ``statuses`` in turn (e.g. ``Pending
        Accepted``), with ``interval``; later ones get the default answer again."""
        value = self.ctx.cfg.timings.boot_retry_interval_s if interval is None else interval
        self.ctx.lab.policy.queue_boot_answers(*(BootAnswer(s, int(value)) for s in statuses))

    @keyword
    def set_data_transfer_response(self, status: str) -> None:
        """Answer every following DataTransfer from the station with ``status``
        (Accepted, Rejected, UnknownMessageId or UnknownVendorId)."""
        self.ctx.lab.policy.set_data_transfer_status(status)

    @keyword
    def set_authorization_status(self, id_tag: str, status: str) -> None:
        """Make the back office answer Authorize for ``id_tag`` with ``status``."""
        self.ctx.lab.policy.set_tag(id_tag, status)
