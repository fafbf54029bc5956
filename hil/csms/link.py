"""One WebSocket connection of one station, spoken through the ``ocpp`` library.

The ``ocpp`` ChargePoint class does framing, routing and schema validation; this subclass
adds what a lab needs on top: every frame journaled raw, and every protocol defect of the
station (unparsable frame, schema violation, unexpected CALL, bad response) recorded as a
finding instead of only being answered with a CALLERROR.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ocpp.exceptions import NotImplementedError as OcppNotImplemented
from ocpp.exceptions import NotSupportedError, OCPPError
from ocpp.routing import on
from ocpp.v16 import ChargePoint, call_result
from ocpp.v16.enums import Action

from hil.csms.findings import Finding
from hil.csms.journal import CALLERROR, RX, TX, Frame, Journal
from hil.ocppj import build_request, result_to_dict

if TYPE_CHECKING:
    from hil.csms.session import StationSession

LOG = logging.getLogger("hil.csms")


class CallErrorReceived(AssertionError):
    """The station answered a back-office CALL with a CALLERROR."""

    def __init__(self, action: str, code: str, description: str, frame: Frame | None) -> None:
        where = f" ({frame.describe()})" if frame else ""
        super().__init__(f"Station answered {action} with CALLERROR {code}: {description}{where}")
        self.action = action
        self.code = code
        self.description = description


class JournalingConnection:
    """Wraps a websockets connection so that every frame is journaled before it is used."""

    def __init__(self, ws: Any, journal: Journal) -> None:
        self.ws = ws
        self.journal = journal
        self.last_rx: Frame | None = None

    async def recv(self) -> str:
        raw = await self.ws.recv()
        self.last_rx = self.journal.record_frame(RX, raw)
        if isinstance(raw, bytes):
            return raw.decode("utf-8", errors="replace")
        return raw

    async def send(self, message: str) -> None:
        self.journal.record_frame(TX, message)
        await self.ws.send(message)


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


_SCHEMA_ERRORS = (
    "FormationViolation",
    "FormatViolation",
    "TypeConstraintViolation",
    "PropertyConstraintViolation",
    "OccurenceConstraintViolation",
    "OccurrenceConstraintViolation",
    "ProtocolError",
)


class CentralSystemLink(ChargePoint):
    """The back office's side of one station connection."""

    def __init__(
        self, session: StationSession, connection: JournalingConnection, call_timeout: float
    ) -> None:
        super().__init__(session.station_id, connection, response_timeout=call_timeout, logger=LOG)
        self.session = session
        self.jconn = connection

    # -- findings ------------------------------------------------------------------

    def _finding(self, kind: str, detail: str, frame: Frame | None) -> None:
        self.session.record_finding(
            Finding(self.session.station_id, frame.seq if frame else 0, kind, detail)
        )

    async def route_message(self, raw_msg: str) -> None:
        frame = self.jconn.last_rx
        if frame is not None and frame.kind == "MALFORMED":
            self._finding(
                "malformed-frame",
                "not an OCPP-J message (a JSON array [2|3|4, id, ...]); ignored",
                frame,
            )
            return
        await super().route_message(raw_msg)

    async def _handle_call(self, msg: Any) -> Any:
        frame = self.jconn.last_rx
        try:
            return await super()._handle_call(msg)
        except (OcppNotImplemented, NotSupportedError) as exc:
            self._finding(
                "unexpected-call",
                f"station sent {msg.action}, which a central system does not accept "
                f"from a charge point ({exc.code})",
                frame,
            )
            raise
        except OCPPError as exc:
            kind = "schema-violation" if exc.code in _SCHEMA_ERRORS else "protocol-error"
            self._finding(kind, f"{msg.action}: {exc.code}: {exc.description} {exc.details}", frame)
            raise

    # -- back-office-initiated calls -------------------------------------------------

    async def call_action(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Send ``action`` with a camelCase payload; return the camelCase response.

        Raises :class:`CallErrorReceived` for a CALLERROR, and AssertionError for a
        timeout or a response that breaks the schema (also recorded as a finding).
        """
        request = build_request(action, payload)
        uid = str(uuid.uuid4())
        try:
            result = await self.call(request, suppress=False, unique_id=uid)
        except TimeoutError:
            raise AssertionError(
                f"Station did not answer {action} within {self._response_timeout:g} s"
            ) from None
        except OCPPError as exc:
            response = self.session.journal.find(
                lambda f: f.dir == RX and f.unique_id == uid and f.kind != "CALL"
            )
            frame = response[-1] if response else None
            if frame is not None and frame.kind == CALLERROR:
                raise CallErrorReceived(action, exc.code, exc.description, frame) from None
            self._finding(
                "bad-response",
                f"{action} response: {exc.code}: {exc.description} {exc.details}",
                frame,
            )
            raise AssertionError(
                f"Station's {action} response breaks the OCPP 1.6 schema: {exc.description} "
                f"{exc.details}" + (f" ({frame.describe()})" if frame else "")
            ) from None
        return result_to_dict(result)

    # -- station-initiated calls -----------------------------------------------------

    @on(Action.boot_notification)
    def on_boot_notification(self, **_: Any) -> call_result.BootNotification:
        answer = self.session.policy.next_boot_answer()
        return call_result.BootNotification(
            current_time=now_iso(), interval=answer.interval, status=answer.status
        )

    @on(Action.heartbeat)
    def on_heartbeat(self, **_: Any) -> call_result.Heartbeat:
        return call_result.Heartbeat(current_time=now_iso())

    @on(Action.status_notification)
    def on_status_notification(self, **_: Any) -> call_result.StatusNotification:
        return call_result.StatusNotification()

    @on(Action.authorize)
    def on_authorize(self, id_tag: str, **_: Any) -> call_result.Authorize:
        return call_result.Authorize(id_tag_info={"status": self.session.policy.tag_status(id_tag)})

    @on(Action.start_transaction)
    def on_start_transaction(self, id_tag: str, **_: Any) -> call_result.StartTransaction:
        return call_result.StartTransaction(
            transaction_id=self.session.policy.next_transaction_id(),
            id_tag_info={"status": self.session.policy.tag_status(id_tag)},
        )

    @on(Action.stop_transaction)
    def on_stop_transaction(
        self, id_tag: str | None = None, **_: Any
    ) -> call_result.StopTransaction:
        if id_tag is None:
            return call_result.StopTransaction()
        return call_result.StopTransaction(
            id_tag_info={"status": self.session.policy.tag_status(id_tag)}
        )

    @on(Action.meter_values)
    def on_meter_values(self, **_: Any) -> call_result.MeterValues:
        return call_result.MeterValues()

    @on(Action.firmware_status_notification)
    def on_firmware_status(self, **_: Any) -> call_result.FirmwareStatusNotification:
        return call_result.FirmwareStatusNotification()

    @on(Action.diagnostics_status_notification)
    def on_diagnostics_status(self, **_: Any) -> call_result.DiagnosticsStatusNotification:
        return call_result.DiagnosticsStatusNotification()

    @on(Action.data_transfer)
    def on_data_transfer(self, **_: Any) -> call_result.DataTransfer:
        return call_result.DataTransfer(status=self.session.policy.data_transfer_status)


async def serve_link(link: CentralSystemLink) -> None:
    """Run the receive loop until the connection closes."""
    try:
        await link.start()
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # ConnectionClosed and friends end the link
        LOG.info("%s: link ended: %r", link.id, exc)
