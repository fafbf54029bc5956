"""The back office's side of one OCPP 2.0.1 station connection (subprotocol ``ocpp2.0.1``).

Everything but the handlers is :class:`hil.csms.link.OcppLink`'s: frames journaled raw,
schema violations, unknown actions and malformed frames recorded as findings with the frame,
the receive loop that no frame ends. CALLs are validated against the ``ocpp`` library's
OCPP 2.0.1 schemas, both ways. Error codes are OCPP-J 2.0.1's (Part 4 §4.3): a frame that
is no RPC message is answered ``RpcFrameworkError``, a payload that is no JSON object
``FormatViolation``, a MessageTypeId other than 2, 3 or 4 with a readable unique id
``MessageTypeNotSupported`` (1.6 has no such code: there the frame is only a finding).

The answers are the minimal valid ones a CSMS gives; what a lab test may change (the boot
answer, idToken statuses, the DataTransfer status) comes from the same
:class:`hil.csms.policy.ResponsePolicy` as for 1.6.
"""

from __future__ import annotations

from typing import Any

from ocpp.routing import on
from ocpp.v201 import call, call_result
from ocpp.v201.enums import Action

from hil.csms.journal import MALFORMED, Frame
from hil.csms.link import OcppLink

#: What the back office answers for an idToken the policy knows nothing of (2.0.1 has
#: ``Unknown``, but the lab's 1.6 policy says Invalid; the two mean the same to a station).
_AUTH_201 = {"Accepted", "Blocked", "ConcurrentTx", "Expired", "Invalid"}


def _is_v201_action(action: str) -> bool:
    try:
        Action(action)
    except ValueError:
        return False
    return True


class CentralSystemLink201(OcppLink):
    """OCPP 2.0.1: the handlers of the messages a station sends to a CSMS (Core and a few
    that cost nothing to answer)."""

    _call = call
    _call_result = call_result
    _ocpp_version = ocpp_version = "2.0.1"
    rpc_error_code = "RpcFrameworkError"
    format_error_code = "FormatViolation"
    error_code_spelling: dict[str, str] = {}
    unaccepted_action_text = (
        "an OCPP 2.0.1 action the lab's back office does not accept from a charging station"
    )

    #: OCPP-J 2.0.1 (Part 4) §4.3, CALLERROR codes: "MessageTypeNotSupported: A message
    #: with a Message Type Id received that is not supported by this implementation."
    type_error_code = "MessageTypeNotSupported"

    def is_known_action(self, action: str) -> bool:
        return _is_v201_action(action)

    async def _route(self, frame: Frame) -> None:
        """A frame with a MessageTypeId that is no OCPP-J 2.0.1 message type (not 2, 3 or
        4; e.g. ``[5, "abc", {}]``) but a readable unique id is answered CALLERROR
        MessageTypeNotSupported, and is still a malformed-frame finding; everything else
        as on every connection."""
        type_id = frame.info.get("type_id")
        uid = frame.unique_id
        if (
            frame.kind != MALFORMED
            or frame.info.get("binary")
            or type(type_id) is not int
            or type_id in (2, 3, 4)
            or not isinstance(uid, str)
        ):
            await super()._route(frame)
            return
        problem = frame.info.get("problem", f"MessageTypeId {type_id}")
        code = self.type_error_code
        self._finding(
            "malformed-frame",
            f"not an OCPP-J message: {problem}; answered with CALLERROR {code}",
            frame,
        )
        await self._send_call_error(
            uid, code, f"MessageTypeId {type_id} is not supported (OCPP-J 2.0.1: 2, 3 or 4)"
        )

    def _id_token_info(self, id_token: dict[str, Any]) -> dict[str, Any]:
        status = self.session.policy.tag_status(str(id_token.get("id_token", "")))
        return {"status": status if status in _AUTH_201 else "Invalid"}

    # -- provisioning (B01-B04), availability (G), transactions (E), auth (C) --------

    @on(Action.notify_report)
    def on_notify_report(self, **_: Any) -> call_result.NotifyReport:
        return call_result.NotifyReport()

    @on(Action.notify_event)
    def on_notify_event(self, **_: Any) -> call_result.NotifyEvent:
        return call_result.NotifyEvent()

    @on(Action.authorize)
    def on_authorize(self, id_token: dict[str, Any], **_: Any) -> call_result.Authorize:
        return call_result.Authorize(id_token_info=self._id_token_info(id_token))

    @on(Action.transaction_event)
    def on_transaction_event(
        self, id_token: dict[str, Any] | None = None, **_: Any
    ) -> call_result.TransactionEvent:
        if id_token is None:
            return call_result.TransactionEvent()
        return call_result.TransactionEvent(id_token_info=self._id_token_info(id_token))

    @on(Action.meter_values)
    def on_meter_values(self, **_: Any) -> call_result.MeterValues:
        return call_result.MeterValues()

    # -- smart charging with ISO 15118 (K15, K17) ------------------------------------

    @on(Action.notify_ev_charging_needs)
    def on_notify_ev_charging_needs(self, **_: Any) -> call_result.NotifyEVChargingNeeds:
        """K15: the EV's needs from a DC / ISO 15118 station. Accepted: the lab's back
        office takes note (the frame is journaled) and sends no profile of its own."""
        return call_result.NotifyEVChargingNeeds(status="Accepted")

    # -- firmware (L01), logs (N01), security, data transfer -------------------------

    @on(Action.firmware_status_notification)
    def on_firmware_status(self, **_: Any) -> call_result.FirmwareStatusNotification:
        return call_result.FirmwareStatusNotification()

    @on(Action.log_status_notification)
    def on_log_status(self, **_: Any) -> call_result.LogStatusNotification:
        return call_result.LogStatusNotification()

    @on(Action.security_event_notification)
    def on_security_event(self, **_: Any) -> call_result.SecurityEventNotification:
        return call_result.SecurityEventNotification()

    @on(Action.data_transfer)
    def on_data_transfer(self, **_: Any) -> call_result.DataTransfer:
        return call_result.DataTransfer(status=self.session.policy.data_transfer_status)
