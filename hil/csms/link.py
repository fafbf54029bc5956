"""One WebSocket connection of one station, spoken through the ``ocpp`` library.

:class:`OcppLink` is what every OCPP version shares (journaling, findings, the receive
loop, back-office CALLs); :class:`CentralSystemLink` adds the OCPP 1.6 handlers and
``hil.csms.link201.CentralSystemLink201`` the OCPP 2.0.1 ones. The subprotocol the
station's connection negotiated picks one (:func:`link_class`).

The ``ocpp`` ChargePoint class does schema validation and calls the handlers; this
subclass adds what a lab needs on top: every frame journaled raw before anything parses it,
and every protocol defect of the station (unparsable or binary frame, schema violation,
unexpected CALL, response to nothing, bad response) recorded as a finding instead of only
being answered with a CALLERROR.

The receive loop is our own (:meth:`CentralSystemLink.start`): it routes the frame the
journal already parsed, answers a broken CALL with a CALLERROR wherever the CALL has a
string unique id to answer to (error codes as OCPP-J 1.6 §4.2.3 names them), and no frame,
however bad, ends it — only the connection closing does.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ocpp.charge_point import ChargePoint
from ocpp.exceptions import OCPPError, UnknownCallErrorCodeError
from ocpp.messages import Call, CallError, CallResult
from ocpp.routing import on
from ocpp.v16 import call as v16_call
from ocpp.v16 import call_result
from ocpp.v16.enums import Action
from websockets.exceptions import ConnectionClosed

from hil.csms.findings import Finding
from hil.csms.journal import (
    CALL,
    CALLERROR,
    CALLRESULT,
    MALFORMED,
    RX,
    TX,
    Frame,
    Journal,
    json_type,
)
from hil.ocppj import build_request, result_to_dict
from hil.verdict import LabFault

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
    """Wraps a websockets connection so that every frame is journaled before it is used.

    :meth:`recv` journals the frame (text or binary, whatever it holds) the moment
    websockets delivers it; ``last_rx`` is that journal entry, parsed once for everyone.
    """

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

#: The ``ocpp`` library's codes that OCPP-J 1.6 (§4.2.3) spells differently.
_V16_ERROR_CODES = {
    "FormatViolation": "FormationViolation",
    "OccurrenceConstraintViolation": "OccurenceConstraintViolation",
}


def _is_v16_action(action: str) -> bool:
    try:
        Action(action)
    except ValueError:
        return False
    return True


class OcppLink(ChargePoint):
    """The back office's side of one station connection, whatever its OCPP version.

    Subclasses set the version's facts (class attributes below) and its ``@on`` handlers.
    """

    #: the OCPP version spoken ("1.6", "2.0.1"); also the ``ocpp`` library's schema set
    ocpp_version = ""
    #: CALLERROR code for a frame that is no OCPP-J message at all
    rpc_error_code = "FormationViolation"
    #: CALLERROR code for a CALL whose payload is no JSON object
    format_error_code = "FormationViolation"
    #: the ``ocpp`` library's error codes this version spells differently
    error_code_spelling: dict[str, str] = {}
    #: why a known action the back office has no handler for is refused
    unaccepted_action_text = ""

    # -- what every version's station sends and every version answers alike -----------
    # (the answers have the same fields in 1.6 and 2.0.1; ``_call_result`` is the
    # version's module of answer classes)

    @on("BootNotification")
    def on_boot_notification(self, **_: Any) -> Any:
        answer = self.session.policy.next_boot_answer()
        return self._call_result.BootNotification(
            current_time=now_iso(), interval=answer.interval, status=answer.status
        )

    @on("Heartbeat")
    def on_heartbeat(self, **_: Any) -> Any:
        return self._call_result.Heartbeat(current_time=now_iso())

    @on("StatusNotification")
    def on_status_notification(self, **_: Any) -> Any:
        return self._call_result.StatusNotification()

    def is_known_action(self, action: str) -> bool:
        """``action`` is an action of this OCPP version (in whichever direction)."""
        raise NotImplementedError

    def __init__(
        self, session: StationSession, connection: JournalingConnection, call_timeout: float
    ) -> None:
        super().__init__(session.station_id, connection, response_timeout=call_timeout, logger=LOG)
        self.session = session
        self.jconn = connection
        for action, handlers in self.route_map.items():
            if "_on_action" in handlers:
                name = str(getattr(action, "value", action))
                handlers["_on_action"] = self._guarded(name, handlers["_on_action"])

    # -- findings ------------------------------------------------------------------

    def _finding(self, kind: str, detail: str, frame: Frame | None) -> None:
        self.session.record_finding(
            Finding(self.session.station_id, frame.seq if frame else 0, kind, detail)
        )

    def _guarded(self, action: str, handler: Callable[..., Any]) -> Callable[..., Any]:
        """``handler`` with its failures made findings (the library answers InternalError)."""

        def failed(exc: Exception) -> None:
            self._finding(
                "back-office-error",
                f"the back office's {action} handler failed ({exc!r}); "
                "the station was answered with CALLERROR InternalError",
                self.jconn.last_rx,
            )

        if inspect.iscoroutinefunction(handler):

            @functools.wraps(handler)
            async def guarded_async(*args: Any, **kwargs: Any) -> Any:
                try:
                    return await handler(*args, **kwargs)
                except OCPPError:
                    raise
                except Exception as exc:
                    failed(exc)
                    raise

            return guarded_async

        @functools.wraps(handler)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            try:
                return handler(*args, **kwargs)
            except OCPPError:
                raise
            except Exception as exc:
                failed(exc)
                raise

        return guarded

    # -- the receive loop ------------------------------------------------------------

    async def start(self) -> None:
        """Receive and route frames until the connection closes (ConnectionClosed).

        Each frame is journaled by :class:`JournalingConnection` before it is routed; a
        frame that makes routing fail is a ``routing-error`` finding (and, for a CALL, a
        CALLERROR InternalError), and the loop goes on.
        """
        while True:
            await self.jconn.recv()
            frame = self.jconn.last_rx
            if frame is None:
                continue
            try:
                await self._route(frame)
            except ConnectionClosed:
                raise
            except Exception as exc:
                LOG.exception("%s: routing frame #%s failed", self.id, frame.seq)
                answered = await self._answer_if_unanswered(
                    frame, "InternalError", "the back office failed on this message"
                )
                self._finding(
                    "routing-error",
                    f"the back office failed on this frame ({exc!r})"
                    + ("; answered with CALLERROR InternalError" if answered else "")
                    + "; the connection goes on",
                    frame,
                )

    async def route_message(self, raw_msg: str) -> None:
        """The library's entry point; frames arrive through :meth:`start` instead."""
        raise RuntimeError("CentralSystemLink routes journaled frames in start()")

    def _call_id(self, frame: Frame) -> str | None:
        """The unique id a CALLERROR for ``frame`` can carry: a CALL's, when it is a string."""
        is_call = frame.kind == CALL or frame.info.get("type_id") == 2
        return frame.unique_id if is_call and isinstance(frame.unique_id, str) else None

    async def _send_call_error(
        self, uid: str, code: str, description: str, details: dict[str, Any] | None = None
    ) -> None:
        await self._send(CallError(uid, code, description, details or {}).to_json())

    async def _answer_if_unanswered(self, frame: Frame, code: str, description: str) -> bool:
        """Answer a CALL with a CALLERROR unless it was answered already; True if sent."""
        uid = self._call_id(frame)
        if uid is None:
            return False
        answers = self.session.journal.find(
            lambda f: f.dir == TX and f.unique_id == uid and f.kind in (CALLRESULT, CALLERROR),
            after=frame.seq,
        )
        if answers:
            return False
        try:
            await self._send_call_error(uid, code, description)
        except ConnectionClosed:
            return False
        return True

    async def _route(self, frame: Frame) -> None:
        if frame.info.get("binary"):
            await self._reject(
                frame,
                "binary-frame",
                f"a binary WebSocket frame ({frame.info.get('bytes')} bytes); "
                "OCPP-J messages are text frames",
                "OCPP-J messages must be sent as WebSocket text frames",
            )
        elif frame.kind == MALFORMED:
            problem = frame.info.get("problem", "not a [2|3|4, UniqueId, ...] array")
            await self._reject(
                frame,
                "malformed-frame",
                f"not an OCPP-J message: {problem}",
                f"not an OCPP-J message: {problem}",
            )
        elif frame.kind == CALL:
            await self._route_call(frame)
        else:
            self._route_response(frame)

    async def _reject(self, frame: Frame, kind: str, detail: str, description: str) -> None:
        """A finding for a frame that is no usable message; a CALLERROR where one can go."""
        uid = self._call_id(frame)
        if uid is None:
            self._finding(kind, f"{detail}; ignored", frame)
            return
        code = self.rpc_error_code
        self._finding(kind, f"{detail}; answered with CALLERROR {code}", frame)
        await self._send_call_error(uid, code, description)

    async def _route_call(self, frame: Frame) -> None:
        action, uid, payload = frame.action or "", frame.unique_id, frame.payload
        if uid is None:
            self._finding(
                "malformed-frame",
                f"a {action} CALL whose unique id is not a string; "
                "not answered (there is no id to answer to)",
                frame,
            )
            return
        if not isinstance(payload, dict):
            self._finding(
                "malformed-frame",
                f"the payload of a {action} CALL must be a JSON object, got a JSON "
                f"{json_type(payload)}; answered with CALLERROR {self.format_error_code}",
                frame,
            )
            await self._send_call_error(
                uid, self.format_error_code, "the payload of a CALL must be a JSON object"
            )
            return
        if action not in self.route_map:
            # OCPP-J 1.6 §4.2.3, 2.0.1 §4.3: NotImplemented = "not known by receiver",
            # NotSupported = "recognized but not supported by the receiver"
            if self.is_known_action(action):
                code, what = "NotSupported", self.unaccepted_action_text
            else:
                code, what = "NotImplemented", f"not an OCPP {self.ocpp_version} action"
            self._finding(
                "unexpected-call",
                f"station sent {action}, {what}; answered with CALLERROR {code}",
                frame,
            )
            await self._send_call_error(uid, code, f"{action}: {what}", {"action": action})
            return
        msg = Call(uid, action, payload)
        try:
            await self._handle_call(msg)
        except OCPPError as exc:
            kind = "schema-violation" if exc.code in _SCHEMA_ERRORS else "protocol-error"
            self._finding(kind, f"{action}: {exc.code}: {exc.description} {exc.details}", frame)
            error = msg.create_call_error(exc)
            error.error_code = self.error_code_spelling.get(error.error_code, error.error_code)
            await self._send(error.to_json())

    def _route_response(self, frame: Frame) -> None:
        """Hand a CALLRESULT/CALLERROR to the waiting :meth:`call`; one to nothing is a finding."""
        if frame.unique_id is None or frame.action is None:
            which = (
                f"unique id {frame.unique_id!r}"
                if frame.unique_id is not None
                else "a unique id that is not a string"
            )
            self._finding(
                "unexpected-response",
                f"a {frame.kind} with {which} answers no CALL the back office sent "
                "(or one already answered); ignored",
                frame,
            )
            return
        if frame.kind == CALLRESULT:
            message: CallResult | CallError = CallResult(frame.unique_id, frame.payload)
        else:
            p = frame.payload
            message = CallError(
                frame.unique_id, p["errorCode"], p["errorDescription"], p["errorDetails"]
            )
        self._response_queue.put_nowait(message)

    # -- back-office-initiated calls -------------------------------------------------

    async def call_action(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Send ``action`` with a camelCase payload; return the camelCase response.

        Raises :class:`CallErrorReceived` for a CALLERROR, and AssertionError for a
        timeout or a response that breaks the schema (also recorded as a finding).
        """
        request = build_request(action, payload, self.ocpp_version)
        uid = str(uuid.uuid4())
        try:
            result = await self.call(request, suppress=False, unique_id=uid)
        except TimeoutError:
            raise AssertionError(
                f"Station did not answer {action} within {self._response_timeout:g} s"
            ) from None
        except UnknownCallErrorCodeError:
            frame = self._response_frame(uid)
            code = frame.payload.get("errorCode") if frame and frame.kind == CALLERROR else "?"
            self._finding(
                "bad-response",
                f"{action} answered with CALLERROR {code!r}, an error code "
                f"OCPP {self.ocpp_version} does not define",
                frame,
            )
            description = frame.payload.get("errorDescription", "") if frame else ""
            raise CallErrorReceived(action, str(code), str(description), frame) from None
        except OCPPError as exc:
            frame = self._response_frame(uid)
            sent = self.session.journal.find(lambda f: f.dir == TX and f.unique_id == uid)
            if not sent:  # the library refused our own request before sending it
                raise LabFault(
                    f"the back office's own {action} request breaks the "
                    f"OCPP {self.ocpp_version} schema, so it was never sent: "
                    f"{_schema_problem(exc)}"
                ) from None
            if frame is not None and frame.kind == CALLERROR:
                raise CallErrorReceived(action, exc.code, exc.description, frame) from None
            self._finding(
                "bad-response",
                f"{action} response: {exc.code}: {exc.description} {exc.details}",
                frame,
            )
            raise AssertionError(
                f"Station's {action} response breaks the OCPP {self.ocpp_version} schema: "
                f"{exc.description} "
                f"{exc.details}" + (f" ({frame.describe()})" if frame else "")
            ) from None
        except ConnectionClosed:
            raise
        except Exception as exc:  # the lab's own code broke on the answer
            frame = self._response_frame(uid)
            raise LabFault(
                f"the back office could not read the station's {action} response ({exc!r})"
                + (f" ({frame.describe()})" if frame else "")
            ) from None
        return result_to_dict(result)

    def _response_frame(self, uid: str) -> Frame | None:
        response = self.session.journal.find(
            lambda f: f.dir == RX and f.unique_id == uid and f.kind != CALL
        )
        return response[-1] if response else None


class CentralSystemLink(OcppLink):
    """The back office's side of one OCPP 1.6 station connection."""

    _call = v16_call
    _call_result = call_result
    _ocpp_version = ocpp_version = "1.6"
    rpc_error_code = format_error_code = "FormationViolation"
    error_code_spelling = _V16_ERROR_CODES
    unaccepted_action_text = (
        "an OCPP 1.6 action a central system does not accept from a charge point"
    )

    def is_known_action(self, action: str) -> bool:
        return _is_v16_action(action)

    # -- station-initiated calls -----------------------------------------------------

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


def link_class(ocpp_version: str) -> type[OcppLink]:
    """The link that speaks ``ocpp_version`` ("1.6" or "2.0.1")."""
    if ocpp_version == "1.6":
        return CentralSystemLink
    if ocpp_version == "2.0.1":
        from hil.csms.link201 import CentralSystemLink201

        return CentralSystemLink201
    raise ValueError(f"the back office does not speak OCPP {ocpp_version!r}")


async def serve_link(link: OcppLink) -> None:
    """Run the receive loop until the connection closes."""
    try:
        await link.start()
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # ConnectionClosed and friends end the link
        LOG.info("%s: link ended: %r", link.id, exc)


def _schema_problem(exc: OCPPError) -> str:
    """The first line of a schema refusal (jsonschema's own text runs to a dozen lines)."""
    details = exc.details if isinstance(exc.details, dict) else {}
    cause = str(details.get("cause") or exc.description or exc)
    return cause.strip().split("\n")[0]
