"""Resets (steps 9-12): the station reboots, ends a running session with the right
reason exactly once, and comes back with its boot sequence."""

from __future__ import annotations

from typing import Any

from robot.api import logger
from robot.api.deco import keyword
from robot.libraries.BuiltIn import BuiltIn

from hil.csms.journal import CALL, EVENT, RX, Frame
from hil.robot.context import LabContext
from hil.robot.keywords.session import transaction_matcher


class ResetKeywords:
    def __init__(self, ctx: LabContext) -> None:
        self.ctx = ctx

    def _restart_frame(self) -> Frame:
        """The station's new connection after the reset."""
        mark = self.ctx.state["reset_mark"]
        return self.ctx.journal.wait_for(
            lambda f: f.dir == EVENT and f.kind == "connect",
            mark,
            self.ctx.cfg.timings.boot_timeout_s,
            "the station to connect again after the reset",
        )

    @keyword
    def reset_station(self, kind: str, expect: str = "") -> int:
        """Reset the station ``Hard`` (reboot now) or ``Soft`` (gracefully): OCPP 1.6 §5.14
        Reset Hard / Soft; 2.0.1 B11/B12 Reset Immediate / OnIdle. The answer must be
        ``expect`` (default: what the version requires: Accepted; on 2.0.1 Scheduled for
        OnIdle while a transaction runs, B12).

        On 2.0.1 a Soft (OnIdle) reset during a session waits for the transaction to end
        (B12): for ``timings.silence_window_s`` the station MUST keep charging (the meter
        shows energy flowing) without ending the transaction or going offline; then the
        lab ends the transaction with RequestStopTransaction, as a back office would, and
        the scheduled reset follows. Returns the mark taken before the reset."""
        mark = self.ctx.mark()
        protocol = self.ctx.protocol
        session = self.ctx.running_session()
        wanted = expect or protocol.reset_answer(kind, session is not None)
        action, payload = protocol.reset_request(kind)
        status = self.ctx.lab.call(action, payload)["status"]
        logger.info(f"{action} {payload['type']} -> {status}")
        if status != wanted:
            raise AssertionError(
                f"Station answered {action} {payload['type']} with {status}, expected {wanted}"
            )
        self.ctx.state["reset_mark"] = mark
        self.ctx.state["restart_mark"] = mark
        if kind == "Soft" and session is not None and protocol.soft_reset_waits_for_idle:
            self._reset_should_wait_for_the_session(session, payload["type"], mark)
        return mark

    def _reset_should_wait_for_the_session(
        self, session: dict[str, Any], reset_type: str, mark: int
    ) -> None:
        protocol = self.ctx.protocol
        hold = self.ctx.cfg.timings.silence_window_s
        ended = transaction_matcher(
            protocol,
            lambda t: t.event == "ended" and t.transaction_id == session["transaction_id"],
        )
        builtin = BuiltIn()
        builtin.run_keyword("Energy Should Keep Flowing For", hold)
        early = self.ctx.journal.frames(mark)
        for f in early:
            if ended(f) or (f.dir == EVENT and f.kind in ("connect", "disconnect")):
                raise AssertionError(
                    f"Reset {reset_type} was Scheduled, but the station did not wait for the "
                    f"transaction to end: {f.describe()}"
                )
        logger.info(f"Reset {reset_type} scheduled: still charging after {hold:g} s")
        builtin.run_keyword("Remote Stop Transaction")

    @keyword
    def station_should_reboot(self) -> None:
        """After the reset the station reconnects (with its version's subprotocol), sends
        BootNotification first, is Accepted, and reports every connector (1.6 §5.14 and
        §4.9 with connector 0; 2.0.1 B11 and B01). On 2.0.1 the boot reason
        SHOULD say RemoteReset: another reason is a remark."""
        self._restart_frame()
        builtin = BuiltIn()
        builtin.run_keyword("Wait For Accepted Boot")
        protocol = self.ctx.protocol
        wanted = protocol.remote_reset_boot_reason
        if wanted is not None:
            boot = self.ctx.journal.frame(self.ctx.state["boot_seq"])
            reason = protocol.boot_facts(boot.payload or {}).reason
            if reason != wanted:
                builtin.run_keyword(
                    "Record Remark",
                    f"After the reset the station booted with reason {reason}, not {wanted} "
                    f"({boot.describe()})",
                )
        builtin.run_keyword("Status Notification Should Arrive For Every Connector")

    @keyword
    def unavailable_should_be_reported_before_reboot(self) -> None:
        """Before rebooting the station SHOULD report its connectors Unavailable; a station
        that does not gets a remark, not a failure."""
        restart = self._restart_frame()
        protocol = self.ctx.protocol
        said = [
            protocol.connector_status(f.payload or {})
            for f in self.ctx.journal.frames(self.ctx.state["reset_mark"], restart.seq)
            if f.dir == RX and f.kind == CALL and f.action == protocol.status_action
        ]
        sent = {s.connector for s in said if s.status == "Unavailable"}
        missing = [c for c in range(1, self.ctx.cfg.dut.connectors + 1) if c not in sent]
        if missing:
            BuiltIn().run_keyword(
                "Record Remark",
                f"No StatusNotification Unavailable for connector(s) {missing} before the reboot",
            )

    @keyword
    def stop_transaction_should_be_reported_once(self, reason: str) -> None:
        """The session ended by the reset gets exactly one StopTransaction with ``reason`` —
        before the reboot or queued and sent once the new BootNotification is accepted
        (OCPP 1.6 §5.14, §4.10). On 2.0.1 one TransactionEvent Ended (E06, B12):
        ImmediateReset for the lab's HardReset; after a Scheduled OnIdle, Remote (the lab
        ended it)."""
        session = self.ctx.state.get("session")
        if not session:
            raise AssertionError("No transaction was running before the reset")
        timeout = self.ctx.cfg.timings.boot_timeout_s + self.ctx.cfg.timings.message_timeout_s
        protocol = self.ctx.protocol
        BuiltIn().run_keyword("Transaction Should Stop", reason, timeout)
        stop = self.ctx.journal.frame(session["stop_seq"])
        restart = self._restart_frame()
        if stop.seq > restart.seq:
            boot_ok = [
                f
                for f in self.ctx.journal.frames(restart.seq, stop.seq)
                if f.action == "BootNotification"
                and f.kind == "CALLRESULT"
                and (f.payload or {}).get("status") == "Accepted"
            ]
            if not boot_ok:
                raise AssertionError(
                    f"{protocol.end_label} was sent after the reboot but before "
                    f"BootNotification was accepted ({stop.describe()})"
                )
        tx = session["transaction_id"]
        self.ctx.journal.expect_none(
            transaction_matcher(protocol, lambda t: t.event == "ended" and t.transaction_id == tx),
            stop.seq,
            self.ctx.cfg.timings.silence_window_s,
            f"second {protocol.end_label} for transaction {tx}",
        )
        when = "before" if stop.seq < restart.seq else "after"
        logger.info(f"{protocol.end_label} ({reason}) sent once, {when} the reboot")

    @keyword
    def stop_transaction_should_precede_the_restart(self) -> None:
        """A soft reset is graceful: the transaction's end (1.6 StopTransaction, 2.0.1
        TransactionEvent Ended) is sent before the station restarts (1.6 §5.14; 2.0.1 B12
        OnIdle resets only once the transaction ended)."""
        session = self.ctx.state["session"]
        restart = self._restart_frame()
        if session.get("stop_seq", 0) > restart.seq:
            stop = self.ctx.journal.frame(session["stop_seq"])
            raise AssertionError(
                f"{self.ctx.protocol.end_label} came after the restart ({stop.describe()} "
                f"after {restart.describe()}); a soft reset must stop the "
                f"transaction first"
            )
