"""Charging sessions in OCPP: transactions, remote control, connection loss and timeout,
and the energy reconciliation that ties the messages to what the instruments measured."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from robot.api import logger
from robot.api.deco import keyword
from robot.libraries.BuiltIn import BuiltIn

from hil.csms.journal import CALL, EVENT, RX, Frame, WaitTimeout, message_matcher
from hil.lab.sampler import SamplerTimeout
from hil.protocol.base import (
    AUTHORIZE_REMOTE_START,
    CONNECTION_TIMEOUT,
    METER_SAMPLE_INTERVAL,
    SAMPLED_MEASURANDS,
    ProtocolAdapter,
    TransactionFacts,
)
from hil.robot.context import LabContext, answered
from hil.robot.keywords.instruments import POWER_FLOWING_W, InstrumentKeywords
from hil.robot.plot import dc_session_plot, power_plot
from hil.verify.energy import EnergyFigure, compare, decimals_resolution, interpolate
from hil.verify.meter_values import (
    delivery_problems,
    parse_time,
    readings,
    register_problems,
    sampled_soc,
)

#: ConnectionTimeOut values tried, in order, when a station refuses the lab's value.
CONNECTION_TIMEOUT_LADDER = (10, 15, 20, 30, 45, 60, 90, 120, 180, 300)


def transaction_matcher(
    protocol: ProtocolAdapter, wanted: Callable[[TransactionFacts], bool]
) -> Callable[[Frame], bool]:
    """A journal matcher for the station's transaction messages (1.6 StartTransaction,
    MeterValues, StopTransaction; 2.0.1 TransactionEvent) whose facts are ``wanted``."""

    def matches(f: Frame) -> bool:
        if f.dir != RX or f.kind != CALL or f.action not in protocol.transaction_actions:
            return False
        facts = protocol.transaction_facts(f.action or "", f.payload or {})
        return facts is not None and wanted(facts)

    return matches


class SessionKeywords:
    def __init__(self, ctx: LabContext, instruments: InstrumentKeywords) -> None:
        self.ctx = ctx
        self.instruments = instruments

    # -- helpers ---------------------------------------------------------------------

    def _session(self, session: dict[str, Any] | None = None) -> dict[str, Any]:
        found = session or self.ctx.state.get("session")
        if not found:
            raise AssertionError("No transaction has started in this test")
        return found

    def _call(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        answer = self.ctx.lab.call(action, payload)
        logger.info(f"{action} {payload} -> {answer}")
        return answer

    def _updates(self, transaction_id: Any, after: int) -> list[Frame]:
        """The station's messages with readings of the running transaction since ``after``:
        1.6 MeterValues with its transactionId; 2.0.1 TransactionEvent Updated."""
        protocol = self.ctx.protocol

        def update(f: Frame) -> bool:
            if f.dir != RX or f.kind != CALL or f.action not in protocol.transaction_actions:
                return False
            facts = protocol.transaction_facts(f.action or "", f.payload or {})
            return (
                facts is not None
                and facts.event == "updated"
                and facts.transaction_id == transaction_id
            )

        return self.ctx.frames_after(after, update)

    # -- preparation -------------------------------------------------------------------

    @keyword
    def prepare_station_for_sessions(self) -> None:
        """Suite set-up: set the meter sample interval (1.6 MeterValueSampleInterval; 2.0.1
        SampledDataCtrlr.TxUpdatedInterval) to the lab's and the sampled measurands to what
        the lab needs (refusals are remarks, as in step 4)."""
        interval = self.ctx.cfg.timings.meter_sample_interval_s
        status = self.ctx.change_configuration(METER_SAMPLE_INTERVAL, str(interval))
        if status not in ("Accepted", "RebootRequired"):
            label = self.ctx.protocol.address(METER_SAMPLE_INTERVAL).label
            raise AssertionError(f"Station refused {label}={interval}: {status}")
        if "measurands" not in self.ctx.run:
            BuiltIn().run_keyword("Configure Sampled Measurands")

    # -- authorization and transactions -------------------------------------------------

    @keyword
    def authorize_should_be_sent(
        self, tag: str, status: str = "Accepted", after: int | None = None
    ) -> None:
        """The station asks the back office about ``tag`` (Authorize: OCPP 1.6 §4.1, 2.0.1
        C01), answered ``status``; after the mark ``after`` (default: the cursor)."""
        protocol = self.ctx.protocol
        frame = self.ctx.wait_message("Authorize", protocol.authorize_fields(tag), after=after)
        answer = self.ctx.answer_to(frame)
        got = protocol.authorize_status(answer.payload or {})
        if got != status:
            raise AssertionError(
                f"Authorize for {tag} was answered {got}, expected {status}; "
                f"check the lab's tags ({answer.describe()})"
            )

    @keyword
    def no_authorize_should_have_been_sent(self, after: int, tag: str | None = None) -> None:
        """No Authorize (for ``tag``) in the journal since the mark ``after``."""
        sent = self.ctx.frames_after(
            int(after),
            lambda f: (
                f.dir == RX
                and f.kind == CALL
                and f.action == "Authorize"
                and (tag is None or self.ctx.protocol.authorize_tag(f.payload or {}) == tag)
            ),
        )
        if sent:
            raise AssertionError(
                "The station sent Authorize although it must not: "
                + "; ".join(f.describe() for f in sent)
            )

    def _facts(self, frame: Frame, answer: Frame | None = None) -> TransactionFacts | None:
        return self.ctx.protocol.transaction_facts(
            frame.action or "", frame.payload or {}, None if answer is None else answer.payload
        )

    def _transaction_frame(
        self, what: str, wanted: Callable[[TransactionFacts], bool], after: int, timeout: float
    ) -> tuple[Frame, TransactionFacts]:
        matches = transaction_matcher(self.ctx.protocol, wanted)
        frame = self.ctx.journal.wait_for(matches, after, timeout, what)
        facts = self._facts(frame)
        assert facts is not None
        return frame, facts

    @keyword
    def transaction_should_start(
        self, tag: str, connector: int = 1, after: int | None = None
    ) -> dict[str, Any]:
        """The station starts a transaction for ``tag`` on ``connector``: OCPP 1.6
        StartTransaction with an integer Wh ``meterStart`` (§4.8; the back office's answer
        gives the id); 2.0.1 TransactionEvent Started on the EVSE (E01-E03), with the
        station's transaction id. On 2.0.1 a transaction may start at the plug, before the
        tag (TxStartPoint EVConnected): then the tag comes in a later event of the same
        transaction. Returns the session."""
        protocol = self.ctx.protocol
        wait = self.ctx.cfg.timings.message_timeout_s
        start = self.ctx.cursor if after is None else int(after)
        if protocol.start_may_precede_tag:
            # a transaction that started at the plug (before the mark) counts, none earlier
            start = min(start, int(self.ctx.state.get("plug_mark", start)))
        frame, facts = self._transaction_frame(
            f"CALL {protocol.start_label} on connector {connector}",
            lambda t: t.event == "started" and t.connector == int(connector),
            start,
            wait,
        )
        problem = protocol.start_problem(frame.payload or {})
        if problem:
            raise AssertionError(f"{problem} ({frame.describe()})")
        answer = self.ctx.answer_to(frame)
        facts = self._facts(frame, answer) or facts
        tag_frame = frame
        if facts.tag != tag:
            if not protocol.start_may_precede_tag or facts.tag is not None:
                raise AssertionError(
                    f"The transaction started for tag {facts.tag!r}, expected {tag!r} "
                    f"({frame.describe()})"
                )
            tag_frame, _ = self._transaction_frame(
                f"tag {tag} in an event of transaction {facts.transaction_id}",
                lambda t: t.transaction_id == facts.transaction_id and t.tag == tag,
                frame.seq,
                wait,
            )
        session = {
            "transaction_id": facts.transaction_id,
            "id_tag": tag,
            "connector": int(connector),
            "meter_start": facts.meter_wh,
            "start_seq": frame.seq,
            #: the message that names the tag: the start, or a later event of it (2.0.1)
            "tag_seq": tag_frame.seq,
            "start_mono": frame.mono,
            "start_wall": frame.wall,
        }
        self.ctx.advance(frame)
        self.ctx.state["session"] = session
        logger.info(f"Transaction {facts.transaction_id} started, register {facts.meter_wh} Wh")
        return session

    @keyword
    def no_transaction_should_start(
        self, within: float | None = None, after: int | None = None
    ) -> None:
        """No transaction starts within ``within`` seconds (from the mark ``after``): OCPP
        1.6 no StartTransaction; 2.0.1 no TransactionEvent Started for a token (a station
        that starts its transactions at the plug, TxStartPoint EVConnected, may open one
        without a token, E01)."""
        protocol = self.ctx.protocol
        window = self.ctx.cfg.timings.silence_window_s if within is None else float(within)
        start = self.ctx.cursor if after is None else int(after)
        self.ctx.journal.expect_none(
            transaction_matcher(
                protocol,
                lambda t: (
                    t.event == "started"
                    and (t.tag is not None or not protocol.start_may_precede_tag)
                ),
            ),
            start,
            window,
            protocol.start_label,
        )

    @keyword
    def transaction_should_stop(
        self, reason: str = "Local", timeout: float | None = None
    ) -> dict[str, Any]:
        """The running transaction ends with ``reason`` (``Local`` also accepts an absent
        reason): OCPP 1.6 StopTransaction (§4.10) with ``meterStop >= meterStart``; 2.0.1
        TransactionEvent Ended with stoppedReason in the lab's words (E06-E07; ImmediateReset
        is HardReset, Reboot is SoftReset). Where 2.0.1 makes the lab's action wait for the
        transaction (Reset OnIdle, B12; UnlockConnector, F05) the lab ends it itself, so the
        reason is Remote. Returns the session."""
        session = self._session()
        reason = self.ctx.protocol.expected_stop_reason(reason)
        wait = self.ctx.cfg.timings.message_timeout_s if timeout is None else float(timeout)
        frame, facts = self._transaction_frame(
            f"CALL {self.ctx.protocol.end_label} with transactionId={session['transaction_id']}",
            lambda t: t.event == "ended" and t.transaction_id == session["transaction_id"],
            session["start_seq"],
            wait,
        )
        self._numbering_should_be_whole(session, frame)
        actual = facts.reason or "Local"
        if actual != reason:
            said = facts.reason or "(absent = Local)"
            raise AssertionError(
                f"{self.ctx.protocol.end_label} reason is {said}, expected {reason} "
                f"({frame.describe()})"
            )
        meter_stop = facts.meter_wh
        start = session.get("meter_start")
        if meter_stop is not None and start is not None and meter_stop < start:
            raise AssertionError(
                f"The register at the end ({meter_stop:g} Wh) is below the one at the start "
                f"({start:g} Wh) ({frame.describe()})"
            )
        session.update(
            meter_stop=meter_stop,
            stop_seq=frame.seq,
            stop_mono=frame.mono,
            reason=actual,
        )
        self.ctx.advance(frame)
        logger.info(
            f"Transaction {session['transaction_id']} stopped ({actual}), register at the end "
            f"{meter_stop} Wh"
        )
        return session

    def _numbering_should_be_whole(self, session: dict[str, Any], end: Frame) -> None:
        """The transaction's messages from its start to its end are numbered without a gap
        (2.0.1 TransactionEvent seqNo)."""
        protocol = self.ctx.protocol
        events = []
        for f in self.ctx.journal.frames(session["start_seq"] - 1, end.seq):
            if f.dir != RX or f.kind != CALL or f.action not in protocol.transaction_actions:
                continue
            facts = protocol.transaction_facts(f.action or "", f.payload or {})
            if facts is not None and facts.transaction_id == session["transaction_id"]:
                events.append(facts)
        problems = protocol.sequence_problems(events)
        if problems:
            raise AssertionError(
                f"The messages of transaction {session['transaction_id']} are not numbered "
                f"without gaps: {'; '.join(problems)} (a message is missing)"
            )

    @keyword
    def meter_values_should_arrive_during_the_session(self, count: int = 2) -> None:
        """``count`` periodic readings of the transaction arrive (1.6 MeterValues with the
        transaction id, §4.7; 2.0.1 TransactionEvent Updated, E02), spaced by the sample
        interval, with a monotonic energy register."""
        session = self._session()
        interval = self.ctx.cfg.timings.meter_sample_interval_s
        tol = max(self.ctx.cfg.timings.heartbeat_tolerance_s, 0.1 * interval)
        frames = []
        after = session["start_seq"]
        while len(frames) < int(count):
            frame, _ = self._transaction_frame(
                f"periodic {self.ctx.protocol.update_label} of transaction "
                f"{session['transaction_id']}",
                lambda t: t.event == "updated" and t.transaction_id == session["transaction_id"],
                after,
                interval + tol + self.ctx.cfg.timings.message_timeout_s,
            )
            after = frame.seq
            if any(r.context == "Sample.Periodic" for r in readings([frame])):
                frames.append(frame)
        series = [r for r in readings(frames) if r.context == "Sample.Periodic"]
        problems = register_problems(series) + delivery_problems(series, interval, tol)
        if series and series[0].register_wh is None:
            problems.append("MeterValues carry no Energy.Active.Import.Register")
        if problems:
            raise AssertionError("MeterValues during the session: " + "; ".join(problems))
        logger.info(
            f"{len(frames)} MeterValues every {interval} s: "
            + ", ".join(f"{r.register_text} Wh" for r in series)
        )
        self._soc_should_match_the_ev(frames)

    def _soc_should_match_the_ev(self, frames: list[Frame]) -> None:
        """DC: the periodic readings carry the EV's SoC when the station samples it
        (1.6 MeterValuesSampledData, 2.0.1 SampledDataCtrlr.TxUpdatedMeasurands lists
        ``SoC``: MUST, §9.1 / J01 — the listed measurands are the ones sent), it never
        falls while charging, and the last one is within 2 %-points of the SoC the EV
        reports over ISO 15118 / DIN 70121 (read by the DC EV emulator). A station that
        does not sample SoC gets a remark: which measurands are sampled is configuration."""
        ev = self.instruments.ev_side()
        if ev is None or not ev.insulation_monitored:  # an AC EV reports no SoC
            return
        # what Configure Sampled Measurands set and kept for the run, else the station's
        kept = self.ctx.run.get("measurands")
        sampled = (
            ",".join(kept) if kept is not None else self.ctx.configuration_value(SAMPLED_MEASURANDS)
        ) or ""
        socs = [v for v in (sampled_soc(f.payload or {}) for f in frames) if v is not None]
        if "SoC" not in [m.strip() for m in sampled.split(",")]:
            BuiltIn().run_keyword(
                "Record Remark",
                f"The station does not sample SoC ({sampled or 'no sampled measurands'}): the "
                "EV's state of charge is not checked in its readings",
            )
            return
        if len(socs) < len(frames):
            raise AssertionError(
                f"SoC is among the sampled measurands ({sampled}) but {len(frames) - len(socs)} "
                f"of {len(frames)} readings carry none ({frames[-1].describe(300)})"
            )
        if any(b < a for a, b in zip(socs, socs[1:], strict=False)):
            raise AssertionError(f"The SoC falls while charging: {socs}")
        ev_soc = ev.read_soc()
        if ev_soc is not None and abs(socs[-1] - ev_soc) > 2.0:
            raise AssertionError(
                f"The station reports SoC {socs[-1]:g} %, the EV {ev_soc:.1f} % "
                f"({frames[-1].describe(300)})"
            )
        logger.info(f"SoC in the readings: {socs} %; the EV reports {ev_soc} %")

    # -- remote control ------------------------------------------------------------------

    @keyword
    def remote_start_transaction(
        self, tag: str, connector: int = 1, expect: str | None = "Accepted"
    ) -> str:
        """Ask the station to start a transaction for ``tag`` on ``connector`` (OCPP 1.6
        §5.11 RemoteStartTransaction; 2.0.1 F01/F02 RequestStartTransaction); fails unless
        the answer is ``expect``."""
        self.ctx.state["remote_start_mark"] = self.ctx.mark()
        action, payload = self.ctx.protocol.remote_start_request(tag, int(connector))
        status = self._call(action, payload)["status"]
        return answered(f"{action}({tag}, connector {connector})", status, expect)

    @keyword
    def authorize_should_follow_authorize_remote_tx_requests(self, tag: str) -> None:
        """Between the remote start and the transaction's start, an Authorize for the tag
        is sent if and only if the station's setting says so (OCPP 1.6 §5.11 and
        AuthorizeRemoteTxRequests; 2.0.1 F01/F02 and AuthCtrlr.AuthorizeRemoteStart)."""
        session = self._session()
        protocol = self.ctx.protocol
        setting = protocol.settings[AUTHORIZE_REMOTE_START].label
        wanted = (self.ctx.configuration_value(setting) or "false").lower() == "true"
        mark = self.ctx.state.get("remote_start_mark", 0)
        sent = [
            f
            for f in self.ctx.journal.frames(mark, session["start_seq"])
            if f.dir == RX
            and f.kind == CALL
            and f.action == "Authorize"
            and protocol.authorize_tag(f.payload or {}) == tag
        ]
        start = protocol.start_label
        if wanted and not sent:
            raise AssertionError(f"{setting} is true but no Authorize came before {start}")
        if not wanted and sent:
            raise AssertionError(f"{setting} is false but the station sent {sent[0].describe()}")

    @keyword
    def remote_stop_transaction(
        self, transaction_id: str | None = None, expect: str | None = "Accepted"
    ) -> str:
        """Ask the station to stop ``transaction_id`` (default: the running one): OCPP 1.6
        §5.12 RemoteStopTransaction; 2.0.1 F03 RequestStopTransaction."""
        tx = self._session()["transaction_id"] if transaction_id is None else transaction_id
        action, payload = self.ctx.protocol.remote_stop_request(tx)
        status = self._call(action, payload)["status"]
        return answered(f"{action}({tx})", status, expect)

    @keyword
    def unknown_transaction_should_be_rejected(self) -> None:
        """A remote stop of a transaction that does not exist is Rejected (OCPP 1.6 §5.12;
        2.0.1 F03)."""
        known = [
            f.payload.get("transactionId")
            for f in self.ctx.frames_after(0)
            if f.action == "StartTransaction" and f.kind == "CALLRESULT"
        ]
        known.append((self.ctx.state.get("session") or {}).get("transaction_id"))
        unknown = self.ctx.protocol.unknown_transaction_id(known)
        self.remote_stop_transaction(unknown, expect="Rejected")

    @keyword
    def unlock_connector(self, connector: int = 1, expect: str | None = "Unlocked") -> str:
        """UnlockConnector; fails unless the answer is ``expect``. Returns the status.

        OCPP 1.6 §5.18: an unlock during a transaction stops it (reason UnlockCommand).
        2.0.1 F05 refuses it instead: during a transaction the answer MUST be
        OngoingAuthorizedTransaction and the station keeps charging (the meter shows it for
        ``timings.silence_window_s``); the lab then ends the transaction with
        RequestStopTransaction, as a back office would, and the unlock that follows its
        end must be ``expect``."""
        protocol = self.ctx.protocol
        action, payload = protocol.unlock_request(int(connector))
        refusal = protocol.unlock_refusal_during_session
        if self.ctx.running_session() and refusal and expect == "Unlocked":
            status = self._call(action, payload)["status"]
            answered(f"{action}({connector}) during the transaction", status, refusal)
            hold = self.ctx.cfg.timings.silence_window_s
            self.instruments.energy_should_keep_flowing_for(hold)
            self.remote_stop_transaction()
            self.transaction_should_stop("Remote")
        status = self._call(action, payload)["status"]
        return answered(f"{action}({connector})", status, expect)

    # -- faults ------------------------------------------------------------------------

    @keyword
    def connector_should_report_fault(self, connector: int = 1) -> str:
        """The connector reports Faulted (OCPP 1.6 §4.9 StatusNotification Faulted with an
        errorCode other than NoError, a generic OtherError without a vendorErrorCode a
        remark; 2.0.1 G01 StatusNotification Faulted, and SHOULD name the problem in a
        NotifyEvent, N07 — a remark when it does not). Returns what names the fault."""
        protocol = self.ctx.protocol
        mark = self.ctx.cursor
        frame = self.ctx.wait_message(
            protocol.status_action, protocol.status_fields(int(connector), "Faulted")
        )
        failure, remark = protocol.fault_code_problem(frame.payload or {})
        if failure:
            raise AssertionError(failure)
        detail = str((frame.payload or {}).get("errorCode") or "")
        if protocol.fault_detail_action:
            try:
                event = self.ctx.wait_message(
                    protocol.fault_detail_action,
                    protocol.fault_detail_fields(int(connector)),
                    after=mark,
                    advance=False,
                )
            except WaitTimeout:
                remark = (
                    f"Faulted reported without a {protocol.fault_detail_action} naming the "
                    f"problem ({frame.describe()})"
                )
            else:
                detail = event.describe()
        if remark:
            BuiltIn().run_keyword("Record Remark", remark)
        logger.info(f"Fault reported: {detail} {(frame.payload or {}).get('vendorErrorCode', '')}")
        return detail

    @keyword
    def connector_should_recover(self, status: str, connector: int = 1) -> None:
        """After the fault the connector is back in ``status`` (OCPP 1.6 §4.9 with errorCode
        NoError; 2.0.1 G01 no longer Faulted, and E02 the transaction's chargingState), the
        messages in any order."""
        mark = self.ctx.cursor
        for action, fields in self.ctx.protocol.recovery_cues(int(connector), status):
            self.ctx.wait_message(action, fields, after=mark, advance=False)

    @keyword
    def insulation_fault_should_be_reported(self, connector: int = 1) -> None:
        """DC: an insulation fault on the DC cable during the session (the DC EV emulator
        switches a resistor to PE) is found by the station's insulation monitor, the
        session stops, and the connector reports Faulted as for any fault (MUST: IEC
        61851-23 insulation monitoring and cable check; OCPP 1.6 §4.9 StatusNotification
        Faulted with an errorCode, 2.0.1 G01), the energy stops; the EV's next try fails
        its cable check while the fault lasts (no energy); once the fault is gone, the EV's
        next session passes the cable check and the connector is back to Charging. AC
        stations have no DC cable to monitor: nothing to check."""
        ev = self.instruments.ev_side()
        if ev is None or not ev.insulation_monitored:
            logger.info("No DC insulation monitoring on this station: nothing to check")
            return
        connector = int(connector)
        self.instruments.ev_action("inject_fault", "insulation")
        self.connector_should_report_fault(connector)
        self.instruments.energy_should_stop(after="the insulation fault")
        ev.restart_session()  # the EV tries again: its cable check must fail
        self.instruments.energy_should_not_flow()
        self.instruments.ev_action("clear_fault")
        self.connector_should_recover("Charging", connector)
        self.instruments.energy_should_flow()

    @keyword
    def session_the_ev_ends_should_stop_the_energy(self, connector: int = 1) -> None:
        """DC: a session the EV ends by itself. With a valid tag the EV charges until its
        target SoC and ends its session (PowerDelivery stop, SessionStop); the energy must
        stop within ``timings.energy_stop_s`` and stay off (MUST: DIN 70121 / ISO 15118-2
        PowerDelivery(Stop): the EVSE ends the energy transfer; IEC 61851-23 EV-initiated
        shutdown). The transaction then either ends (OCPP 1.6 §4.10 StopTransaction —
        1.6 has no reason for the EV's own end, so Other passes and Local or EVDisconnected
        pass with a remark; 2.0.1 E06 stoppedReason StoppedByEV, Other or Local with a
        remark; any other reason fails) or stays, SuspendedEV (1.6 §4.9; 2.0.1 E02
        chargingState), until the tag ends it (Local): OCPP allows both. AC EVs do not end
        sessions: nothing to check."""
        ev = self.instruments.ev_side()
        if ev is None or not ev.ends_its_session:
            logger.info("The EV does not end its sessions itself (AC): nothing to check")
            return
        self.instruments.require_instrument("ev", "identification")
        connector = int(connector)
        tag = self.ctx.cfg.tags.valid[0]
        self.ctx.wait_current_status(connector, "Available")
        mark = self.ctx.mark()
        target = ev.prepare_short_session(self.ctx.cfg.energy.min_session_wh / 4)
        try:
            self.instruments.plug_in_ev()
            self.instruments.ev_requests_charge()
            self.instruments.present_tag(tag)
            session = self.transaction_should_start(tag, connector, after=mark)
            self.instruments.energy_should_flow()
            charging = self.ctx.mark()
            self._wait_for_the_evs_end(target)
            self.instruments.energy_should_stop(after="the EV ended its session")
            self._transaction_after_the_evs_end(session, tag, charging, connector)
        finally:
            ev.restore_battery()
        self.instruments.unplug_ev()
        self.ctx.wait_current_status(connector, "Available")

    def _wait_for_the_evs_end(self, target: float) -> None:
        """Until the EV reports its target SoC (the DC EV emulator's samples)."""
        wait = self.ctx.cfg.energy.min_session_wh * 3.6 + self.ctx.cfg.timings.message_timeout_s
        try:
            sample = self.instruments.wait_for_sample(
                "dc_ev_emulator", lambda v: v.get("soc_pct", 0.0) >= target - 1e-6, wait
            )
        except SamplerTimeout as exc:
            raise AssertionError(
                f"The EV did not reach its target SoC {target:g} %: {exc}"
            ) from None
        logger.info(f"The EV reached its target SoC {target:g} % at {sample.wall} and ends")

    def _transaction_after_the_evs_end(
        self, session: dict[str, Any], tag: str, charging: int, connector: int
    ) -> None:
        """The transaction's end (since its start) or SuspendedEV (since the lab saw it
        charging, mark ``charging``), whichever the station sends."""
        protocol = self.ctx.protocol
        ends = transaction_matcher(
            protocol,
            lambda t: t.event == "ended" and t.transaction_id == session["transaction_id"],
        )
        cue = protocol.state_cue(connector, "SuspendedEV")
        assert cue is not None
        suspended = message_matcher(cue[0], fields=cue[1])
        frame = self.ctx.journal.wait_for(
            lambda f: ends(f) or (f.seq > charging and suspended(f)),
            session["start_seq"],
            self.ctx.cfg.timings.message_timeout_s,
            f"{protocol.end_label} or SuspendedEV after the EV ended its session",
        )
        if not ends(frame):  # the transaction stays, SuspendedEV: the tag ends it
            logger.info(f"The transaction stays, SuspendedEV: {frame.describe(300)}")
            self.ctx.advance(frame)
            self.instruments.present_tag(tag)
            self.transaction_should_stop("Local")
            return
        facts = self._facts(frame)
        assert facts is not None
        reason = facts.reason or "Local"
        allowed = protocol.ev_stop_reasons
        if reason not in allowed:
            raise AssertionError(
                f"The station ended the transaction the EV ended with reason {reason}; "
                f"expected {' or '.join(allowed)} ({frame.describe(300)})"
            )
        if allowed[reason]:
            BuiltIn().run_keyword("Record Remark", f"{allowed[reason]} ({frame.describe(200)})")
        session.update(meter_stop=facts.meter_wh, stop_seq=frame.seq, stop_mono=frame.mono)
        self.ctx.advance(frame)
        logger.info(f"The station ended the transaction with {reason}: {frame.describe(300)}")

    # -- connection timeout -------------------------------------------------------------

    @keyword
    def set_connection_timeout(self, seconds: int | None = None) -> int:
        """Set the connection timeout (OCPP 1.6 ConnectionTimeOut, §9.1.9; 2.0.1
        TxCtrlr.EVConnectionTimeOut); if the station refuses the value, use the lowest it
        accepts and record that as a remark (a station may have a minimum; neither version
        sets one, so refusing is allowed). Returns the value in force; the teardown puts
        the old one back."""
        setting = self.ctx.protocol.settings[CONNECTION_TIMEOUT].label
        wanted = self.ctx.cfg.timings.connection_timeout_s if seconds is None else int(seconds)
        for value in (wanted, *(v for v in CONNECTION_TIMEOUT_LADDER if v > wanted)):
            status = self.ctx.change_configuration(setting, str(value))
            if status in ("Accepted", "RebootRequired"):
                if value != wanted:
                    BuiltIn().run_keyword(
                        "Record Remark",
                        f"Station refused {setting}={wanted}; the "
                        f"step uses {value} s, the lowest value it accepted",
                    )
                self.ctx.state["connection_timeout"] = value
                return value
        raise AssertionError(
            f"Station refused every {setting} from {wanted} to {CONNECTION_TIMEOUT_LADDER[-1]} s"
        )

    @keyword
    def connector_should_return_to_available_after_connection_timeout(
        self, connector: int = 1, after: int | None = None
    ) -> float:
        """From Preparing (after the mark ``after``, e.g. taken before the tag was
        presented: Preparing and Authorize may come in either order), the connector returns
        to Available once ConnectionTimeOut has passed — not before — and no
        StartTransaction is sent (OCPP 1.6 §9.1.9 ConnectionTimeOut). Returns the seconds
        taken.

        OCPP 2.0.1 shows no status for a tag waiting for its cable (G01: the connector
        stays Available). For a station that starts its transactions at the plug or later
        (TxStartPoint EVConnected, PowerPathClosed, ...) the authorization lapses silently
        after TxCtrlr.EVConnectionTimeOut (E03): no transaction may start until then plus
        the tolerance, and an EV plugged in afterwards MUST NOT charge (no transaction,
        no current on the pilot); the same tag again, the EV plugged in within half the
        timeout, MUST start one. Returns the seconds waited."""
        protocol = self.ctx.protocol
        timeout = float(
            self.ctx.state.get("connection_timeout", self.ctx.cfg.timings.connection_timeout_s)
        )
        tol = self.ctx.cfg.timings.heartbeat_tolerance_s + 1.0
        if protocol.state_cue(int(connector), "Preparing", plugged=False) is None:
            return self._authorization_should_lapse(int(connector), timeout, tol, after)
        preparing = self.ctx.wait_message(
            protocol.status_action, protocol.status_fields(int(connector), "Preparing"), after=after
        )
        try:
            back = self.ctx.wait_message(
                protocol.status_action,
                protocol.status_fields(int(connector), "Available"),
                timeout=timeout + tol,
                after=preparing.seq,
            )
        except AssertionError as exc:
            raise AssertionError(
                f"ConnectionTimeOut is {timeout:g} s but the connector did not "
                f"return to Available within {timeout + tol:g} s:\n{exc}"
            ) from None
        took = back.mono - preparing.mono
        if took < timeout - tol:
            raise AssertionError(
                f"The connector returned to Available after {took:.1f} s, "
                f"before ConnectionTimeOut ({timeout:g} s)"
            )
        started = [
            f
            for f in self.ctx.journal.frames(preparing.seq, back.seq)
            if transaction_matcher(protocol, lambda t: t.event == "started")(f)
        ]
        if started:
            raise AssertionError(f"A {protocol.start_label} was sent: {started[0].describe()}")
        logger.info(
            f"Back to Available {took:.1f} s after Preparing (ConnectionTimeOut {timeout:g} s)"
        )
        return took

    def _authorization_should_lapse(
        self, connector: int, timeout: float, tol: float, after: int | None
    ) -> float:
        protocol = self.ctx.protocol
        authorize = self.ctx.wait_message("Authorize", after=after, advance=False)
        started = transaction_matcher(protocol, lambda t: t.event == "started")
        # the journal is watched for the whole timeout: a transaction at the tag fails at once
        self.ctx.journal.expect_none(
            started,
            authorize.seq,
            max(0.0, authorize.mono + timeout + tol - time.monotonic()),
            f"{protocol.start_label} before a cable was plugged (this lab checks the "
            "connection timeout of stations that start transactions at the plug or later)",
        )
        waited = time.monotonic() - authorize.mono
        mark = self.ctx.mark()
        self.instruments.plug_in_ev()
        self.instruments.ev_requests_charge()
        tag = protocol.authorize_tag(authorize.payload or {}) or ""
        try:
            # a station that opens its transactions at the plug may: not for this tag
            self.ctx.journal.expect_none(
                transaction_matcher(protocol, lambda t: t.tag == tag),
                mark,
                self.ctx.cfg.timings.silence_window_s,
                f"{protocol.start_label} (or another transaction event) naming the tag presented "
                f"{waited:.1f} s before the plug (TxCtrlr.EVConnectionTimeOut {timeout:g} s)",
            )
            if self.instruments.ev_side() is not None:
                self.instruments.pilot_should_offer_no_current()
        finally:
            self.instruments.unplug_ev()
        self.ctx.wait_current_status(connector, "Available")
        logger.info(
            f"The tag's authorization lapsed: no transaction {waited:.1f} s after it "
            f"(EVConnectionTimeOut {timeout:g} s), none when the EV was plugged in then"
        )
        self._authorization_should_hold(connector, tag, timeout)
        return waited

    def _authorization_should_hold(self, connector: int, tag: str, timeout: float) -> None:
        """The control: the same tag, the EV plugged in within half the timeout, MUST start
        a transaction (so the lapse was the timeout's, not a station that does not charge)."""
        protocol = self.ctx.protocol
        mark = self.ctx.mark()
        self.instruments.present_tag(tag)
        self.ctx.journal.expect_none(
            transaction_matcher(protocol, lambda t: t.event == "started"),
            mark,
            timeout / 2,
            f"{protocol.start_label} before a cable was plugged",
        )
        self.instruments.plug_in_ev()
        self.instruments.ev_requests_charge()
        try:
            self.transaction_should_start(tag, connector, after=mark)
        except (AssertionError, WaitTimeout) as exc:
            raise AssertionError(
                f"Tag {tag}, the EV plugged in {timeout / 2:g} s after it (EVConnectionTimeOut "
                f"{timeout:g} s), started no transaction: its authorization lapsed too early "
                f"({exc})"
            ) from None
        self.instruments.present_tag(tag)
        self.transaction_should_stop("Local")
        self.instruments.unplug_ev()
        self.ctx.wait_current_status(connector, "Available")
        logger.info(f"Plugged in {timeout / 2:g} s after the tag, the transaction started")

    # -- connection loss -----------------------------------------------------------------

    def _switch(self) -> Any:
        switch = self.ctx.lab.instrument("network_switch")
        if switch is None:
            raise AssertionError(
                "The bench has no network_switch; add 'Require Instrument    "
                "network_switch' to the test"
            )
        return switch

    @keyword
    def disconnect_station_from_network(self) -> None:
        """Take the station's switch port down: its traffic silently stops, as with a pulled
        cable."""
        switch = self._switch()
        switch.set_port(switch.station_port, False)
        if switch.port_is_up(switch.station_port):
            raise AssertionError(
                f"Switch port {switch.station_port} still reads up after setting it down"
            )
        self.ctx.state["offline"] = {
            "down_mono": time.monotonic(),
            "down_wall": datetime.now(UTC),
            "down_mark": self.ctx.mark(),
        }
        logger.info(f"Switch port {switch.station_port} down: station offline")

    @keyword
    def mark_session_stopped_offline(self) -> None:
        """The session was ended while offline: its StopTransaction is among the queued."""
        self._session()["stopped_offline"] = True

    @keyword
    def reconnect_station_to_network(self) -> None:
        """Bring the station's switch port up again (plug the cable back in)."""
        switch = self._switch()
        switch.set_port(switch.station_port, True)
        offline = self.ctx.state.setdefault("offline", {})
        offline.update(up_mono=time.monotonic(), up_wall=datetime.now(UTC), up_mark=self.ctx.mark())
        logger.info(
            f"Switch port {switch.station_port} up after "
            f"{offline['up_mono'] - offline.get('down_mono', offline['up_mono']):.1f} s"
        )

    @keyword
    def station_should_reconnect_without_boot_notification(self) -> None:
        """After the network returns the station opens a new WebSocket and carries on —
        its first message is not a BootNotification."""
        offline = self.ctx.state["offline"]
        connect = self.ctx.journal.wait_for(
            lambda f: f.dir == EVENT and f.kind == "connect",
            offline["up_mark"],
            self.ctx.cfg.timings.boot_timeout_s,
            "the station to reconnect",
        )
        first = self.ctx.wait_message(None, after=connect.seq, advance=False)
        if first.action == "BootNotification":
            raise AssertionError(
                f"The station sent a BootNotification after reconnecting "
                f"(not rebooting): {first.describe()}"
            )
        offline["connect_seq"] = connect.seq
        logger.info(f"Reconnected ({connect.describe()}); first message {first.action}")

    @keyword
    def queued_messages_should_be_delivered_in_order(self) -> None:
        """After the reconnect the station delivers what it queued while offline — the
        transaction's readings (and its end, if the session ended offline) — in
        chronological order, before anything newer, spaced by the sample interval, none
        missing; its StatusNotifications report only the current state. OCPP 1.6 §4.7,
        §4.10 (MeterValues, StopTransaction queued and delivered in order). 2.0.1 E12: the
        TransactionEvents numbered without gaps, and every event that happened while
        offline flagged ``offline`` true."""
        session = self._session()
        protocol = self.ctx.protocol
        offline = self.ctx.state["offline"]
        interval = self.ctx.cfg.timings.meter_sample_interval_s
        tol = max(self.ctx.cfg.timings.heartbeat_tolerance_s, 0.1 * interval)
        connect_seq = offline["connect_seq"]
        stopped_offline = bool(session.get("stopped_offline"))
        tx = session["transaction_id"]
        if stopped_offline:
            end, facts = self._transaction_frame(
                f"CALL {protocol.end_label} with transactionId={tx}",
                lambda t: t.event == "ended" and t.transaction_id == tx,
                connect_seq,
                self.ctx.cfg.timings.message_timeout_s,
            )
            session.update(
                meter_stop=facts.meter_wh,
                stop_seq=end.seq,
                stop_mono=end.mono,
                reason=facts.reason or "Local",
            )
        else:  # delivery is complete once a reading taken after the reconnect arrives
            up = offline["up_wall"]
            update = transaction_matcher(
                protocol, lambda t: t.event == "updated" and t.transaction_id == tx
            )
            end = self.ctx.journal.wait_for(
                lambda f: (
                    update(f)
                    and any(parse_time(mv["timestamp"]) > up for mv in f.payload["meterValue"])
                ),
                connect_seq,
                interval * 2 + self.ctx.cfg.timings.message_timeout_s,
                f"a {protocol.update_label} sampled after the reconnect",
            )
        problems: list[str] = []
        after_reconnect = self.ctx.journal.frames(connect_seq, end.seq)
        boots = [f for f in after_reconnect if f.dir == RX and f.action == "BootNotification"]
        if boots:
            problems.append(f"BootNotification after reconnecting: {boots[0].describe()}")
        frames = self._updates(tx, session["start_seq"])
        frames = [f for f in frames if f.seq <= end.seq]
        series = [r for r in readings(frames) if r.context == "Sample.Periodic"]
        start = self.ctx.journal.frame(session["start_seq"])
        bounds = {
            "start": (
                parse_time(start.payload["timestamp"]),
                f"{protocol.start_label} #{start.seq}",
            )
        }
        if stopped_offline:
            bounds["end"] = (
                parse_time(end.payload["timestamp"]),
                f"{protocol.end_label} #{end.seq}",
            )
        problems += delivery_problems(series, interval, tol, **bounds)
        problems += register_problems(series)
        down, up = offline["down_wall"], offline["up_wall"]
        if stopped_offline:  # readings are taken while the session runs, not after it
            up = min(up, parse_time(end.payload["timestamp"]))
        queued = {r.timestamp for r in series if down <= r.timestamp <= up}
        expected = int((up - down).total_seconds() // interval) - 1
        if len(queued) < expected:
            problems.append(
                f"only {len(queued)} reading(s) taken while offline were delivered; "
                f"{(up - down).total_seconds():.0f} s of charging offline at {interval} s "
                f"means at least {expected}"
            )
        if stopped_offline:
            stop_time = parse_time(end.payload["timestamp"])
            late = [r for r in readings(self._updates(tx, end.seq)) if r.timestamp < stop_time]
            if late:
                problems.append(
                    f"readings of {late[0].timestamp.isoformat()} arrived after "
                    f"the later {protocol.end_label} (#{end.seq})"
                )
        events = [
            f
            for f in self.ctx.journal.frames(session["start_seq"] - 1, end.seq)
            if transaction_matcher(protocol, lambda t: t.transaction_id == tx)(f)
        ]
        problems += protocol.offline_flag_problems(events, down, offline["up_wall"], tol)
        problems += self._status_replay_problems(after_reconnect)
        if problems:
            raise AssertionError(
                "Queued messages after the connection loss: " + "; ".join(problems)
            )
        self._numbering_should_be_whole(session, end)
        logger.info(
            f"{len(queued)} readings taken offline delivered in order after the "
            f"reconnect; {len(series)} periodic readings in the session, none missing"
        )

    def _status_replay_problems(self, frames: list[Frame]) -> list[str]:
        """After a reconnect only the current state counts: per connector, one state (it may
        be repeated: OCPP 1.6 does not forbid that), unless the state really changed
        meanwhile. Several different states replayed in a row are the queued past."""
        protocol = self.ctx.protocol
        seen: dict[int, list[str]] = {}
        for f in frames:
            if f.dir == RX and f.kind == CALL and f.action == protocol.status_action:
                said = protocol.connector_status(f.payload or {})
                states = seen.setdefault(said.connector, [])
                if not states or states[-1] != said.status:
                    states.append(said.status)
        return [
            f"connector {c} replayed {len(states)} different StatusNotifications after "
            f"reconnecting: {', '.join(states)}"
            for c, states in seen.items()
            if len(states) > 1
        ]

    # -- energy ------------------------------------------------------------------------

    def _window_energy(self, source: str, start_mono: float, stop_mono: float) -> float:
        """Energy counted by ``source`` from the last sample before the start to the first
        sample at rest after the stop — exact, since nothing flows outside a session."""
        self.instruments.wait_for_sample(
            source,
            lambda v: v["power_w"] <= POWER_FLOWING_W,
            self.ctx.cfg.timings.energy_stop_s + 2,
            since_mono=stop_mono,
        )
        samples = self.ctx.lab.sampler.samples(source)
        before = [s for s in samples if s.mono <= start_mono] or samples[:1]
        after = [
            s for s in samples if s.mono >= stop_mono and s.values["power_w"] <= POWER_FLOWING_W
        ]
        return after[0].values["energy_wh"] - before[-1].values["energy_wh"]

    def _points(self, source: str) -> list[tuple[float, float]]:
        return [(s.mono, s.values["energy_wh"]) for s in self.ctx.lab.sampler.samples(source)]

    @keyword
    def verify_session_energy(self, session: dict[str, Any] | None = None) -> dict[str, float]:
        """Reconcile the session's energy: ``meterStop - meterStart``, the MeterValues energy
        register, the reference meter's delta and the analyser's integral must agree over
        the same window within the lab's tolerance. Logs every figure and a power plot.
        Returns the figures (Wh)."""
        s = self._session(session)
        if "meter_stop" not in s:
            raise AssertionError("The session has not stopped yet")
        sources = self.instruments.require_power_source()
        pct, extra_wh = self.ctx.cfg.energy_tolerance()
        lab = self.ctx.lab
        for role in ("energy_meter", "power_analyser"):
            problem = lab.instrument_problem(role)
            if problem is not None:
                BuiltIn().run_keyword(
                    "Record Remark",
                    f"Energy reconciled without the {role}, which cannot be used: {problem}",
                )
        window = "StartTransaction to StopTransaction"
        spans = {window: self._span(window, s["start_seq"], s["stop_seq"])}
        refs: dict[str, EnergyFigure] = {}
        for source in sources:
            wh = self._window_energy(source, s["start_mono"], s["stop_mono"])
            resolution = 0.0
            if source == "energy_meter":
                meter = lab.instrument("energy_meter")
                resolution = 2 * meter.energy_resolution_wh(  # type: ignore[attr-defined]
                    self._points(source)[-1][1]
                )
            refs[source] = EnergyFigure(f"{source} delta", wh, window, resolution)
        reference = refs.get("energy_meter") or refs["power_analyser"]
        reference_source = "energy_meter" if "energy_meter" in refs else "power_analyser"
        figures = [
            EnergyFigure(
                "meterStop - meterStart",
                s["meter_stop"] - s["meter_start"],
                window,
                self.ctx.cfg.dut.meter.register_resolution_wh,
            )
        ]
        figures += [f for f in refs.values() if f is not reference]
        checks = [compare(f, reference, pct, extra_wh) for f in figures]
        mv = self._meter_values_figure(s, reference_source)
        if mv is not None:  # the register between two readings vs the reference then
            checks.append(compare(mv[0], mv[1], pct, extra_wh))
            spans[mv[0].window] = self._span(mv[0].window, *mv[2])
        s["reference_wh"] = refs["energy_meter"].wh if "energy_meter" in refs else None
        s["analyser_wh"] = refs["power_analyser"].wh if "power_analyser" in refs else None
        table = [
            f"Energy reconciliation of transaction {s['transaction_id']} "
            f"(tolerance {pct:g} % + {extra_wh:g} Wh + resolutions):",
            f"  reference: {reference.source} {reference.wh:.2f} Wh over {window}",
        ]
        table += ["  " + c.describe() for c in checks]
        logger.info("\n".join(table))
        plot = self._plot(s)
        self.ctx.record_evidence(
            "energy",
            transaction_id=s["transaction_id"],
            # each window with its start and end (wall time), so that the report can say
            # when two figures cover different windows (docs/report.md, Evidence)
            reference={"source": reference.source, "wh": reference.wh, **spans[window]},
            tolerance=f"{pct:g} % + {extra_wh:g} Wh + resolutions",
            checks=[
                {
                    "source": c.source,
                    "wh": c.source_wh,
                    "reference_wh": c.reference_wh,
                    "diff_wh": c.diff_wh,
                    "diff_percent": c.diff_percent,
                    "allowed_wh": c.allowed_wh,
                    "ok": c.ok,
                    "reference": c.reference,
                    **spans[c.window],
                }
                for c in checks
            ],
            missing={
                role: lab.instrument_problem(role) or f"no {role.replace('_', ' ')} on this bench"
                for role in ("energy_meter", "power_analyser")
                if role not in sources
            },
            plot=plot,
        )
        bad = [c for c in checks if not c.ok]
        if bad:
            raise AssertionError(
                "Energy does not reconcile: " + "; ".join(c.describe() for c in bad)
            )
        return {"reference_wh": reference.wh, **{c.source: c.source_wh for c in checks}}

    def _span(self, window: str, first_seq: int, last_seq: int) -> dict[str, str]:
        """A window's name with its start and end: the wall times of its two frames."""
        journal = self.ctx.journal
        return {
            "window": window,
            "window_start": journal.frame(first_seq).wall,
            "window_end": journal.frame(last_seq).wall,
        }

    def _meter_values_figure(
        self, s: dict[str, Any], reference_source: str
    ) -> tuple[EnergyFigure, EnergyFigure, tuple[int, int]] | None:
        """The MeterValues register's increase between its first and last live reading,
        and the reference over exactly those moments (interpolated at their arrival); and
        the two readings' frames."""
        frames = self._updates(s["transaction_id"], s["start_seq"])
        live = [
            r
            for r in readings(f for f in frames if f.seq <= s["stop_seq"])
            if r.register_wh is not None
            and abs(
                (
                    datetime.fromisoformat(self.ctx.journal.frame(r.seq).wall) - r.timestamp
                ).total_seconds()
            )
            < 2.0
        ]
        if len(live) < 2:
            return None
        first, last = live[0], live[-1]
        resolution = max(
            decimals_resolution(first.register_text or "1"),
            decimals_resolution(last.register_text or "1"),
        )
        points = self._points(reference_source)
        ref_wh = interpolate(points, last.arrival) - interpolate(points, first.arrival)
        window = f"MeterValues #{first.seq} to #{last.seq}"
        return (
            EnergyFigure(
                "MeterValues register", last.register_wh - first.register_wh, window, resolution
            ),
            EnergyFigure(f"{reference_source} interpolated", ref_wh, window, 0.0),
            (first.seq, last.seq),
        )

    def _plot(self, s: dict[str, Any]) -> str:
        """Draw the session's power plot into the log; returns its path in the output folder."""
        sampler = self.ctx.lab.sampler
        t0 = s["start_mono"]
        t1 = s["stop_mono"]
        series = []
        for source in self.instruments.power_sources():
            pts = [x for x in sampler.samples(source) if t0 - 3 <= x.mono <= t1 + 3]
            series.append((source, [x.mono - t0 for x in pts], [x.values["power_w"] for x in pts]))
        frames = self._updates(s["transaction_id"], s["start_seq"])
        mv = [
            (f.mono - t0, r.values["Power.Active.Import"])
            for f in frames
            for r in readings([f])
            if "Power.Active.Import" in r.values
        ]
        series.append(("station MeterValues", [m[0] for m in mv], [m[1] for m in mv]))
        out = Path(BuiltIn().get_variable_value("${OUTPUT DIR}", "."))
        name = f"power-tx{s['transaction_id']}.png"
        img = power_plot(
            out / "plots" / name,
            f"Transaction {s['transaction_id']}: power",
            series,
            [(0.0, "StartTransaction"), (t1 - t0, "StopTransaction")],
        )
        logger.info(img, html=True)
        self._dc_plot(s, out)
        return f"plots/{name}"

    def _dc_plot(self, s: dict[str, Any], out: Path) -> None:
        """DC: the session as the EV saw it (power, voltage, current, SoC from the DC EV
        emulator's samples), logged and recorded as plot evidence for the report."""
        sampler = self.ctx.lab.sampler
        if sampler is None or "dc_ev_emulator" not in sampler.sources:
            return
        t0, t1 = s["start_mono"], s["stop_mono"]
        points = [
            (x.mono - t0, x.values)
            for x in sampler.samples("dc_ev_emulator")
            if t0 - 3 <= x.mono <= t1 + 3 and x.values
        ]
        if not points:
            return
        name = f"dc-session-tx{s['transaction_id']}.png"
        title = f"Transaction {s['transaction_id']}: DC session as the EV saw it"
        img = dc_session_plot(
            out / "plots" / name,
            title,
            points,
            [(0.0, "StartTransaction"), (t1 - t0, "StopTransaction")],
        )
        logger.info(img, html=True)
        self.ctx.record_evidence("plot", title=title, plot=f"plots/{name}")

    # -- a whole session -----------------------------------------------------------------

    @keyword
    def run_charging_session(
        self, tag: str | None = None, energy_wh: float | None = None
    ) -> dict[str, Any]:
        """A complete local session, plug-in first: plug, request charge, present ``tag``,
        charge until ``energy_wh`` (default: the lab's minimum session energy), present the
        tag again, unplug. Returns the session (transaction id, meterStart/Stop, journal
        positions, reference and analyser energy)."""
        self.instruments.require_instrument("ev", "identification")
        tag = tag or self.ctx.cfg.tags.valid[0]
        self.ctx.wait_current_status(1, "Available")
        mark = self.ctx.mark()
        self.instruments.plug_in_ev()
        self.instruments.ev_requests_charge()
        self.instruments.present_tag(tag)
        session = self.transaction_should_start(tag, after=mark)
        if self.instruments.power_sources():
            self.instruments.energy_should_flow()
            self.instruments.wait_until_energy_delivered(energy_wh, since=session["start_mono"])
        self.instruments.present_tag(tag)
        self.transaction_should_stop("Local")
        if self.instruments.power_sources():
            self.instruments.energy_should_stop(after="StopTransaction")
            for source in self.instruments.power_sources():
                key = "reference_wh" if source == "energy_meter" else "analyser_wh"
                session[key] = self._window_energy(
                    source, session["start_mono"], session["stop_mono"]
                )
        session.setdefault("reference_wh", None)
        session.setdefault("analyser_wh", None)
        self.instruments.unplug_ev()
        self.ctx.wait_current_status(1, "Available")
        return session
