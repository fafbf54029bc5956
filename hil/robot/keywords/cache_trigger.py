"""Clear cache (step 22, Core) and TriggerMessage (step 23, Remote Trigger).

Step 22 makes the cache matter first: with ``LocalPreAuthorize`` on, a tag the station has
cached is accepted without an Authorize; after ClearCache the same tag must be authorized
online again. Step 23 checks, for each message type, that the station answers the
TriggerMessage before it sends the message. Configuration the steps change is restored by
the test's teardown (`Return Bench To Idle`).
"""

from __future__ import annotations

from typing import Any

from ocpp.exceptions import OCPPError
from robot.api import logger
from robot.api.deco import keyword
from robot.libraries.BuiltIn import BuiltIn

from hil.csms.journal import CALL, RX, TX, Frame, WaitTimeout
from hil.protocol.base import (
    AUTHORIZATION_CACHE,
    CONNECTION_TIMEOUT,
    HEARTBEAT_INTERVAL,
    LOCAL_PRE_AUTHORIZE,
)
from hil.robot.context import LabContext, status_matcher
from hil.robot.keywords.capabilities import require_capability
from hil.robot.keywords.instruments import InstrumentKeywords

#: A requestedMessage no OCPP 1.6 station knows, for the NotImplemented probe.
UNKNOWN_MESSAGE = "HilUnknownMessage"
#: Messages whose connectorId the triggered message must carry.
PER_CONNECTOR = ("StatusNotification", "MeterValues")


def _remark(text: str) -> None:
    BuiltIn().run_keyword("Record Remark", text)


class CacheTriggerKeywords:
    def __init__(self, ctx: LabContext, instruments: InstrumentKeywords) -> None:
        self.ctx = ctx
        self.instruments = instruments

    def _get(self, key: str) -> str | None:
        return self.ctx.configuration_value(key)

    def _set(self, key: str, value: str) -> str:
        """ChangeConfiguration; the test's teardown puts the old value back."""
        return self.ctx.change_configuration(key, value)

    # -- step 22: clear cache ------------------------------------------------------------

    @keyword
    def use_local_authorization_cache(self, connection_timeout: int | None = None) -> None:
        """Let the cache decide: local pre-authorization (1.6 ``LocalPreAuthorize``; 2.0.1
        AuthCtrlr.LocalPreAuthorize, C12) and, if the station has the setting, the cache
        (1.6 ``AuthorizationCacheEnabled``; 2.0.1 AuthCacheCtrlr.Enabled) true. With
        ``connection_timeout`` the step shortens the connection timeout so a presented tag
        without a cable lapses quickly (a station that refuses the value keeps its own).
        The connector must be idle: a plugged EV is unplugged first."""
        labels = self.ctx.protocol.settings
        pre_authorize = labels[LOCAL_PRE_AUTHORIZE].label
        status = self._set(pre_authorize, "true")
        if status not in ("Accepted", "RebootRequired"):
            _remark(
                f"{pre_authorize} could not be set ({status}): the cache cannot be shown "
                "to decide, only that ClearCache forces a new Authorize"
            )
        if self._get(labels[AUTHORIZATION_CACHE].label) is not None:
            self._set(labels[AUTHORIZATION_CACHE].label, "true")
        timeout_setting = labels[CONNECTION_TIMEOUT].label
        if connection_timeout is not None:
            self._set(timeout_setting, str(int(connection_timeout)))
        self.ctx.state["connection_timeout"] = int(self._get(timeout_setting) or 60)
        ev = self.instruments.ev_side()
        if ev is not None and ev.plugged():
            BuiltIn().run_keyword("Unplug EV")
            self.ctx.wait_current_status(1, "Available")

    def _present(self, tag: str) -> tuple[list[Frame], Frame]:
        """Present ``tag`` until the station shows it accepted it. Returns (the Authorize
        CALLs sent meanwhile, the frame that shows the acceptance).

        1.6: the connector goes Preparing (before or after the Authorize, OCPP 1.6 fixes no
        order) and, without a cable, lapses back to Available. 2.0.1 shows nothing for a
        tag without a cable (G01), so the EV is plugged in first: the accepted tag starts a
        transaction (E01-E03), which the same tag then ends."""
        mark = self.ctx.mark()
        protocol = self.ctx.protocol
        if protocol.state_cue(1, "Preparing", plugged=False) is None:
            until, accepted = self._present_with_ev(tag, mark)
        else:
            until, accepted = self._present_without_ev(tag, mark)
        authorizes = [
            f
            for f in self.ctx.journal.frames(mark, until)
            if f.dir == RX and f.kind == CALL and f.action == "Authorize"
        ]
        return authorizes, accepted

    def _present_without_ev(self, tag: str, mark: int) -> tuple[int, Frame]:
        """1.6: Preparing on a connector, then (no cable) Available again after the
        connection timeout; the Authorize may come any time until then."""
        protocol = self.ctx.protocol
        BuiltIn().run_keyword("Present Tag", tag)
        timeout = self.ctx.cfg.timings.message_timeout_s
        try:
            preparing = self.ctx.journal.wait_for(
                status_matcher(protocol, lambda s: s.status == "Preparing"),
                mark,
                timeout,
                f"{protocol.status_action} Preparing",
            )
        except WaitTimeout as exc:
            raise AssertionError(
                f"The station did not accept tag {tag} (no Preparing after presenting it): {exc}"
            ) from None
        connector = protocol.connector_status(preparing.payload or {}).connector
        lapse = self.ctx.state.get("connection_timeout", 60) + timeout
        available = self.ctx.journal.wait_for(
            status_matcher(protocol, lambda s: (s.connector, s.status) == (connector, "Available")),
            preparing.seq,
            lapse,
            f"{protocol.status_action} Available on connector {connector}",
        )
        return available.seq, preparing

    def _present_with_ev(self, tag: str, mark: int) -> tuple[int, Frame]:
        builtin = BuiltIn()
        builtin.run_keyword("Plug In EV")
        builtin.run_keyword("EV Requests Charge")
        builtin.run_keyword("Present Tag", tag)
        try:
            session = builtin.run_keyword("Transaction Should Start", tag, 1, mark)
        except AssertionError as exc:
            raise AssertionError(
                f"The station did not accept tag {tag} (no transaction with the EV plugged "
                f"in): {exc}"
            ) from None
        # the acceptance: the transaction's message naming the tag (a station that opens
        # its transactions at the plug names it in a later event)
        started = self.ctx.journal.frame(int(session["tag_seq"]))
        builtin.run_keyword("Present Tag", tag)
        builtin.run_keyword("Transaction Should Stop", "Local")
        builtin.run_keyword("Unplug EV")
        self.ctx.wait_current_status(1, "Available")
        return started.seq, started

    @keyword
    def tag_should_be_served_from_the_cache(self, tag: str) -> None:
        """Present ``tag`` (twice if it was not cached yet): the station accepts it from its
        cache, without an Authorize. A station that asks the back office anyway gets a
        remark: its cache is not in use, so clearing it cannot be told apart."""
        authorizes, _ = self._present(tag)
        if authorizes:
            logger.info(f"Tag {tag} was not cached yet: {authorizes[0].describe()}")
            authorizes, _ = self._present(tag)
        if authorizes:
            _remark(
                f"With LocalPreAuthorize true the station sent Authorize for tag {tag}, which "
                f"it had just authorized: its cache does not decide ({authorizes[0].describe()})"
            )
        else:
            logger.info(f"Tag {tag} accepted from the cache, no Authorize")

    @keyword
    def clear_authorization_cache(self, expect: str = "Accepted") -> str:
        """ClearCache; fails unless the answer is ``expect``. Returns the status."""
        status = self.ctx.lab.call(*self.ctx.protocol.clear_cache_request())["status"]
        logger.info(f"ClearCache -> {status}")
        if status != expect:
            raise AssertionError(
                f"The station answered ClearCache with {status}, expected {expect}"
                + (
                    ": it has no authorization cache (or will not clear it)"
                    if status == "Rejected"
                    else ""
                )
            )
        return status

    @keyword
    def presented_tag_should_be_authorized_online(self, tag: str) -> None:
        """Present ``tag``: the station must send Authorize for it before it accepts it,
        since its cache was cleared."""
        authorizes, accepted = self._present(tag)
        protocol = self.ctx.protocol
        mine = [f for f in authorizes if protocol.authorize_tag(f.payload or {}) == tag]
        if not mine:
            raise AssertionError(
                f"After ClearCache the station accepted tag {tag} without an Authorize: the "
                f"cache still decided ({accepted.describe()})"
            )
        logger.info(f"Tag {tag} authorized online after ClearCache: {mine[0].describe()}")

    # -- step 23: trigger message ---------------------------------------------------------

    def _expected_answer(self, message: str) -> str:
        caps = self.ctx.cfg.dut.capabilities
        if message == "FirmwareStatusNotification" and caps.firmware_update != "ocpp":
            return "NotImplemented"
        if message == "DiagnosticsStatusNotification" and not caps.diagnostics:
            return "NotImplemented"
        return "Accepted"

    @keyword
    def keep_heartbeats_out_of_the_way(self, seconds: int = 3600) -> None:
        """Set a long ``HeartbeatInterval`` so that no periodic Heartbeat can pass for a
        triggered one (the teardown restores it)."""
        self._set(HEARTBEAT_INTERVAL, str(int(seconds)))

    def _trigger(self, message: str, connector: int | None) -> str:
        target = None if connector in (None, "") else int(connector)  # type: ignore[arg-type]
        action, payload = self.ctx.protocol.trigger_request(message, target)
        mark = self.ctx.mark()
        status = self.ctx.lab.call(action, payload)["status"]
        logger.info(f"{action} {payload} -> {status}")
        request = self.ctx.journal.wait_for(
            lambda f: f.dir == TX and f.kind == CALL and f.action == action,
            mark,
            1.0,
            f"the {action} CALL",
        )
        self.ctx.state["trigger"] = {
            "message": message,
            "connector": target,
            "status": status,
            "request": request,
        }
        return status

    @keyword
    def trigger_message(
        self, message: str, connector: int | None = None, expect: str | None = None
    ) -> str:
        """TriggerMessage for ``message`` (on ``connector`` if given): OCPP 1.6 §5.17, 2.0.1
        F06. Fails unless the answer is ``expect`` (default: Accepted; NotImplemented for
        what the DUT config says it cannot do; on 2.0.1 Rejected for BootNotification once
        the station is registered, F06.FR.17). Messages are named as in 1.6; on 2.0.1
        DiagnosticsStatusNotification is LogStatusNotification. Returns the status."""
        require_capability(self.ctx.cfg, "trigger_message")
        status = self._trigger(message, connector)
        want = (
            expect
            or self.ctx.protocol.trigger_expected_answer(message)
            or self._expected_answer(message)
        )
        if status != want:
            raise AssertionError(
                f"The station answered TriggerMessage {message} with {status}, expected {want}"
            )
        return status

    @keyword
    def triggered_message_should_follow_the_answer(
        self, message: str, connector: int | None = None, **fields: str
    ) -> dict[str, Any] | None:
        """After the Accepted answer to the last TriggerMessage, the station sends
        ``message`` — never before the answer. On a connector, it carries that connectorId;
        MeterValues carry context Trigger; ``fields`` (e.g. ``status=Idle``) must match.
        Returns the payload (None when the trigger was NotImplemented as expected).

        Both failures rest on a SHALL and quote it. Accepted is the station's promise to
        send the message (OCPP 1.6 §5.17: the response "SHALL indicate whether the Charge
        Point will send it or not", TriggerMessageStatus Accepted "Requested notification
        will be sent"; 2.0.1 F06, TriggerMessageResponse), so an Accepted trigger whose
        message never comes is N. The message before the answer breaks 1.6 §5.17 "SHALL
        first send the TriggerMessage response, before sending the requested message" (2.0.1
        F06.FR.04)."""
        trig = self.ctx.state.get("trigger")
        if trig is None or trig["message"] != message:
            raise AssertionError(f"Send 'Trigger Message    {message}' first")
        if trig["status"] != "Accepted":
            logger.info(f"{message} not triggered: the station answered {trig['status']}")
            return None
        request: Frame = trig["request"]
        answer = self.ctx.answer_to(request)
        protocol = self.ctx.protocol
        action = protocol.triggered_action(message)
        if message in PER_CONNECTOR and connector not in (None, ""):
            targets: list[int | None] = [int(connector)]  # type: ignore[arg-type]
        elif message == "StatusNotification":
            # no connector means every connector (1.6 §5.17, 2.0.1 F06): wait for all of
            # them, so the next trigger is not judged by what this one is still sending
            targets = list(protocol.status_connectors(self.ctx.cfg.dut.connectors))
        else:
            targets = [None]
        frames = []
        for target in targets:
            try:
                frames.append(
                    self.ctx.journal.wait_for(
                        lambda f, target=target: (
                            f.dir == RX
                            and f.kind == CALL
                            and f.action == action
                            and (
                                target is None
                                or protocol.message_connector(f.payload or {}) == target
                            )
                        ),
                        request.seq,
                        self.ctx.cfg.timings.message_timeout_s,
                        f"{action}" + ("" if target is None else f" of connector {target}"),
                    )
                )
            except WaitTimeout as exc:
                raise AssertionError(
                    f"The station answered TriggerMessage {message} Accepted "
                    f"({answer.describe()}) but never sent {action}"
                    + ("" if target is None else f" for connector {target}")
                    + f": {exc}. Accepted promises the message ({protocol.trigger_promise_rule})"
                ) from None
        early = [f for f in frames if f.seq < answer.seq]
        if early:
            raise AssertionError(
                f"The triggered {message} came before the answer to TriggerMessage "
                f"({protocol.trigger_order_rule}):\n"
                f"  {early[0].describe()}\n  {answer.describe()}"
            )
        frame = frames[0]
        self.ctx.advance(max(frames, key=lambda f: f.seq))
        payload = frame.payload or {}
        wrong = {k: payload.get(k) for k, v in fields.items() if str(payload.get(k)) != str(v)}
        if wrong:
            raise AssertionError(
                f"Triggered {message} has {wrong}, expected {fields} ({frame.describe()})"
            )
        if message == "MeterValues":
            contexts = {
                sv.get("context", "Sample.Periodic (absent)")
                for mv in payload.get("meterValue", [])
                for sv in mv.get("sampledValue", [])
            }
            if contexts != {"Trigger"}:
                raise AssertionError(
                    f"Triggered MeterValues carry context {sorted(contexts)}, expected "
                    f"Trigger ({frame.describe()})"
                )
        if message == "BootNotification":
            self.ctx.state["boot_seq"] = frame.seq  # its answer is the boot's answer now
            expected = self.ctx.run.get("expected_firmware", self.ctx.cfg.dut.firmware)
            firmware = protocol.boot_facts(payload).firmware
            if firmware != expected:
                raise AssertionError(
                    f"Triggered BootNotification names firmware {firmware!r}"
                    f", expected {expected!r} ({frame.describe()})"
                )
        logger.info(f"Triggered {message} after the answer: {frame.describe(300)}")
        return payload

    @keyword
    def unknown_trigger_should_be_answered_not_implemented(self) -> None:
        """A requestedMessage the station cannot know is answered NotImplemented (1.6
        §5.17, TriggerMessageStatus NotImplemented "cannot be sent because it is either not
        implemented or unknown"; 2.0.1 F06). A CALLERROR instead is a remark: a value outside
        the schema's enumeration may be refused as a schema violation (OCPP-J), so no SHALL
        is broken. Another status fails (Accepted would promise a message no station can
        send)."""
        require_capability(self.ctx.cfg, "trigger_message")
        link = self.ctx.lab.station.link
        if link is None:
            raise AssertionError("The station is not connected")
        request = self.ctx.protocol.unknown_trigger_request(UNKNOWN_MESSAGE)
        timeout = self.ctx.cfg.back_office.call_timeout_s + 5
        try:
            result = self.ctx.lab.loop.run(
                link.call(request, suppress=False, skip_schema_validation=True), timeout=timeout
            )
        except OCPPError as exc:
            _remark(
                f"TriggerMessage {UNKNOWN_MESSAGE} was answered with CALLERROR {exc.code} "
                "instead of status NotImplemented (a value outside the schema may be refused "
                "as a schema violation, OCPP-J: no SHALL is broken)"
            )
            return
        status = getattr(result, "status", None)
        logger.info(f"TriggerMessage {UNKNOWN_MESSAGE} -> {status}")
        if status != "NotImplemented":
            raise AssertionError(
                f"The station answered TriggerMessage {UNKNOWN_MESSAGE} with {status}, "
                "expected NotImplemented"
            )

    @keyword
    def trigger_for_a_missing_connector_should_be_rejected(self) -> None:
        """StatusNotification for a connector the station does not have: Rejected, and
        nothing is sent for it (a message for it fails). Another answer is a remark: no
        SHALL names the answer for a connector the station lacks (1.6 §5.17; 2.0.1 F06)."""
        require_capability(self.ctx.cfg, "trigger_message")
        missing = self.ctx.cfg.dut.connectors + 1
        status = self._trigger("StatusNotification", missing)
        protocol = self.ctx.protocol
        self.ctx.journal.expect_none(
            lambda f: (
                f.dir == RX
                and f.kind == CALL
                and f.action == protocol.status_action
                and protocol.message_connector(f.payload or {}) == missing
            ),
            self.ctx.state["trigger"]["request"].seq,
            self.ctx.cfg.timings.silence_window_s,
            f"StatusNotification for connector {missing}",
        )
        if status != "Rejected":
            _remark(
                f"TriggerMessage for the missing connector {missing} was answered {status}, "
                "expected Rejected (no SHALL names the answer: a remark)"
            )
