"""Core profile checks: boot, availability, configuration, heartbeat (steps 1-5)."""

from __future__ import annotations

import time
from typing import Any

from robot.api import logger
from robot.api.deco import keyword
from robot.libraries.BuiltIn import BuiltIn

from hil.csms.journal import (
    CALL,
    EVENT,
    RX,
    Frame,
    WaitTimeout,
    describe_expectation,
    message_matcher,
)
from hil.protocol.base import (
    HEARTBEAT_INTERVAL,
    RULE_BOOT,
    RULE_BOOT_STATUS,
    RULE_HEARTBEAT,
    RULE_REQUIRED_SETTINGS,
    RULE_STATUS,
    SAMPLED_MEASURANDS,
    SETTINGS_PER_READ,
    ConfigurationReport,
)
from hil.robot.context import LabContext, answered


class CoreKeywords:
    def __init__(self, ctx: LabContext) -> None:
        self.ctx = ctx

    # -- helpers ---------------------------------------------------------------------

    def _tolerance(self) -> float:
        return self.ctx.cfg.timings.heartbeat_tolerance_s

    def _connectors(self, include_zero: bool = True) -> list[int]:
        n = self.ctx.cfg.dut.connectors
        return list(range(0 if include_zero else 1, n + 1))

    def _boot_answer(self, boot: Frame) -> Frame:
        return self.ctx.answer_to(boot)

    # -- step 1: boot ----------------------------------------------------------------

    @keyword
    def station_should_connect(self) -> None:
        """The next connection is on a path ending in the station id, and the back office
        agreed on the subprotocol of the station's OCPP version (``ocpp1.6``: OCPP-J 1.6
        §3; ``ocpp2.0.1``: OCPP-J 2.0.1 §3.1)."""
        after = self.ctx.state.get("restart_mark", self.ctx.cursor)
        station_id = self.ctx.cfg.dut.station_id
        frame = self.ctx.journal.wait_for(
            lambda f: f.dir == EVENT and f.kind in ("connect", "refused"),
            after,
            self.ctx.cfg.timings.boot_timeout_s,
            "the station to open a WebSocket",
        )
        if frame.kind == "refused":
            raise AssertionError(
                f"The back office refused the station's WebSocket: "
                f"{frame.info.get('reason')} ({frame.describe()})"
            )
        path = str(frame.info.get("path", ""))
        if path.rstrip("/").rsplit("/", 1)[-1] != station_id:
            raise AssertionError(
                f"WebSocket path {path!r} does not end in the station id "
                f"{station_id!r} ({frame.describe()})"
            )
        wanted = self.ctx.protocol.subprotocol
        if frame.info.get("subprotocol") != wanted:
            raise AssertionError(
                f"Subprotocol agreed is {frame.info.get('subprotocol')!r}, "
                f"not {wanted!r} ({frame.describe()})"
            )
        self.ctx.state["connect_seq"] = frame.seq
        self.ctx.advance(frame)

    @keyword
    def boot_notification_should_come_first(self) -> dict[str, Any]:
        """The first CALL on the new connection is BootNotification (OCPP 1.6 §4.2; 2.0.1
        B01), naming the vendor, model and firmware of the DUT config. Returns its
        payload."""
        after = self.ctx.state.get("connect_seq", self.ctx.cursor)
        first = self.ctx.wait_message(
            None, after=after, timeout=self.ctx.cfg.timings.boot_timeout_s
        )
        protocol = self.ctx.protocol
        if first.action != protocol.boot_action:
            raise AssertionError(
                f"The station sent {first.action} before {protocol.boot_action}: {first.describe()}"
            )
        dut = self.ctx.cfg.dut
        facts = protocol.boot_facts(first.payload)
        expected = {
            "vendor": dut.vendor,
            "model": dut.model,
            "firmware": self.ctx.run.get("expected_firmware", dut.firmware),
        }
        wrong = {k: getattr(facts, k) for k, v in expected.items() if getattr(facts, k) != v}
        if wrong:
            raise AssertionError(
                "BootNotification does not match the DUT config: "
                + ", ".join(f"{k}={wrong[k]!r} (expected {expected[k]!r})" for k in wrong)
                + f" ({first.describe()})"
            )
        if protocol.boot_reason_field:
            logger.info(f"Boot reason: {facts.reason} ({protocol.rule(RULE_BOOT)})")
        self.ctx.state["boot_seq"] = first.seq
        return first.payload

    @keyword
    def boot_notification_should_be_answered(self, status: str = "Accepted") -> int:
        """The back office answered the latest BootNotification with ``status``; returns the
        interval it gave."""
        boot = self.ctx.journal.frame(self.ctx.state["boot_seq"])
        answer = self._boot_answer(boot)
        if (answer.payload or {}).get("status") != status:
            raise AssertionError(
                f"BootNotification was answered {answer.payload}, expected "
                f"status {status} ({answer.describe()})"
            )
        self.ctx.state["boot_answer_seq"] = answer.seq
        self.ctx.advance(answer)
        return int(answer.payload["interval"])

    @keyword
    def station_should_stay_silent_until_next_boot_notification(self) -> None:
        """After a Pending or Rejected answer the station sends nothing unasked, and retries
        BootNotification no earlier than the interval the back office gave."""
        answer = self.ctx.journal.frame(self.ctx.state["boot_answer_seq"])
        interval = float(answer.payload["interval"])
        tol = self._tolerance()
        nxt = self.ctx.wait_message(
            "BootNotification",
            after=answer.seq,
            timeout=interval + self.ctx.cfg.timings.message_timeout_s,
        )
        unasked = [
            f
            for f in self.ctx.journal.frames(answer.seq, nxt.seq - 1)
            if f.dir == RX and f.kind == CALL
        ]
        if unasked:
            raise AssertionError(
                f"While not accepted ({answer.payload['status']}) the station sent "
                + "; ".join(f.describe() for f in unasked)
            )
        gap = nxt.mono - answer.mono
        if gap < interval - tol:
            raise AssertionError(
                f"The station retried BootNotification after {gap:.2f} s; the back office "
                f"asked it to wait {interval:g} s ({answer.payload['status']}, "
                f"{answer.describe()} then {nxt.describe()})"
            )
        logger.info(f"BootNotification retried after {gap:.2f} s (interval {interval:g} s)")
        self.ctx.state["boot_seq"] = nxt.seq

    @keyword
    def status_notification_should_arrive_for_every_connector(
        self, status: str | None = None, after: int | None = None, timeout: float | None = None
    ) -> dict[int, str]:
        """StatusNotification arrives for every connector, in any order, after ``after``
        (default: the accepted BootNotification): OCPP 1.6 §4.2 and §4.9/§6.47 (connector 0,
        the Charge Point main controller, and every connector); 2.0.1 B01 and G01 (every
        connector of every EVSE; 2.0.1 has no connector 0). A missing one fails citing the
        rule of the station's version. With ``status``,
        each connector must report that status; other notifications in between (a repeated
        earlier state) are not held against it. Returns connector -> status."""
        protocol = self.ctx.protocol
        start = (
            self.ctx.state.get("boot_answer_seq", self.ctx.cursor) if after is None else int(after)
        )
        wait = self.ctx.cfg.timings.message_timeout_s if timeout is None else float(timeout)
        wanted = set(protocol.status_connectors(self.ctx.cfg.dut.connectors))
        seen: dict[int, tuple[Frame, str]] = {}
        others: dict[int, list[str]] = {}
        deadline = time.monotonic() + wait
        cursor = start
        while wanted - set(seen):
            try:
                frame = self.ctx.journal.wait_for(
                    lambda f: f.dir == RX and f.kind == CALL and f.action == protocol.status_action,
                    cursor,
                    max(0.0, deadline - time.monotonic()),
                    protocol.status_action,
                )
            except WaitTimeout:
                missing = sorted(wanted - set(seen))
                got = [f"connector {c} {st} (#{f.seq})" for c, (f, st) in seen.items()]
                got += [f"connector {c} {', '.join(x)}" for c, x in others.items() if c in missing]
                what = f"StatusNotification {status}" if status else "StatusNotification"
                rule = protocol.rule(RULE_BOOT_STATUS if after is None else RULE_STATUS)
                raise AssertionError(
                    f"No {what} for connector(s) {missing} within {wait:g} s after frame "
                    f"#{start}; got: {'; '.join(got) or 'none'} ({rule})"
                ) from None
            cursor = frame.seq
            said = protocol.connector_status(frame.payload or {})
            if said.connector not in wanted or said.connector in seen:
                continue
            if status is None or said.status == status:
                seen[said.connector] = (frame, said.status)
            else:
                others.setdefault(said.connector, []).append(f"{said.status} (#{frame.seq})")
        self.ctx.advance(max((f for f, _ in seen.values()), key=lambda f: f.seq))
        return {c: st for c, (_, st) in seen.items()}

    @keyword
    def heartbeat_should_arrive_at_the_boot_interval(self) -> None:
        """The first Heartbeat after boot arrives no later than the interval the back office
        returned (plus tolerance) after the station's last message."""
        answer = self.ctx.journal.frame(self.ctx.state["boot_answer_seq"])
        interval = float(answer.payload["interval"])
        tol = self._tolerance()
        hb = self.ctx.wait_message(
            "Heartbeat",
            after=answer.seq,
            timeout=interval + tol + self.ctx.cfg.timings.message_timeout_s,
        )
        previous = [
            f
            for f in self.ctx.journal.frames(answer.seq, hb.seq - 1)
            if f.dir == RX and f.kind == CALL
        ]
        since = previous[-1] if previous else answer
        gap = hb.mono - since.mono
        if gap > interval + tol:
            raise AssertionError(
                f"First Heartbeat came {gap:.2f} s after the station's last "
                f"message; the boot interval is {interval:g} s "
                f"(tolerance {tol:g} s)"
            )
        logger.info(f"First Heartbeat {gap:.2f} s after the last message (interval {interval:g} s)")

    # -- step 2: availability --------------------------------------------------------

    @keyword
    def change_availability(self, connector: int, type: str, expect: str | None = None) -> str:
        """Ask for ``connector`` (0: the whole station) to be ``Operative`` or
        ``Inoperative`` (OCPP 1.6 §5.2; 2.0.1 G03/G04); with ``expect`` (e.g. ``Accepted``
        or ``Accepted|Scheduled``) fail when the answer differs. Returns the status. A
        connector made Inoperative is made Operative again by the test's teardown."""
        if type not in ("Operative", "Inoperative"):
            raise ValueError(f"availability type {type!r}: use Operative or Inoperative")
        self.ctx.availability[int(connector)] = type
        action, payload = self.ctx.protocol.availability_request(
            int(connector), type == "Operative"
        )
        status = self.ctx.lab.call(action, payload)["status"]
        return answered(f"ChangeAvailability(connector {connector}, {type})", status, expect)

    @keyword
    def status_notification_should_arrive(
        self, connector: int, status: str, timeout: float | None = None, after: int | None = None
    ) -> dict[str, Any]:
        """Wait until ``connector`` reports ``status`` (1.6's ChargePointStatus words):
        StatusNotification on 1.6 (§4.9). On 2.0.1 a connector is only Available, Occupied,
        Reserved, Unavailable or Faulted (G01), so Preparing is Occupied, and Charging,
        SuspendedEV/EVSE and Finishing are what the transaction says (TransactionEvent
        chargingState, and its end while the EV is still plugged; E02, E06)."""
        plugged = bool(self.ctx.state.get("ev_plugged", False))
        cue = self.ctx.protocol.state_cue(int(connector), status, plugged)
        if cue is None:
            logger.info(
                f"OCPP {self.ctx.protocol.version} has no status for {status} with no EV "
                "plugged (G01: the connector stays Available): nothing to wait for"
            )
            return {}
        action, fields = cue
        return self.ctx.wait_message(action, fields, timeout, after).payload

    @keyword
    def status_notification_should_not_arrive(
        self, connector: int, status: str, within: float | None = None
    ) -> None:
        """``connector`` does not report ``status`` since the last frame verified nor within
        ``within`` seconds (default the silence window): e.g. a change of availability
        Scheduled during a transaction (OCPP 1.6 §5.2; 2.0.1 G03/G04) takes effect only
        after it."""
        protocol = self.ctx.protocol
        fields = protocol.status_fields(int(connector), status)
        window = self.ctx.cfg.timings.silence_window_s if within is None else float(within)
        self.ctx.journal.expect_none(
            message_matcher(protocol.status_action, (CALL,), RX, fields),
            self.ctx.cursor,  # from the last frame verified: one that came at once counts
            window,
            describe_expectation(protocol.status_action, fields),
        )

    @keyword
    def status_after_boot_should_be(self, connector: int, status: str) -> None:
        """The first StatusNotification of ``connector`` after the latest accepted boot
        reports ``status``."""
        protocol = self.ctx.protocol
        after = self.ctx.state.get("boot_answer_seq", self.ctx.cursor)
        frame = self.ctx.wait_message(
            protocol.status_action,
            protocol.status_fields(int(connector)),
            after=after,
            advance=False,
        )
        actual = protocol.connector_status(frame.payload).status
        if actual != status:
            raise AssertionError(
                f"After the reboot connector {connector} reported {actual}, "
                f"expected {status} ({frame.describe()})"
            )

    @keyword
    def wait_for_accepted_boot(self) -> None:
        """After a restart: the station connects with its version's subprotocol,
        BootNotification comes first and is Accepted."""
        self.station_should_connect()
        self.boot_notification_should_come_first()
        self.boot_notification_should_be_answered("Accepted")

    # -- step 3: get configuration -----------------------------------------------------

    def _full_report(self) -> ConfigurationReport:
        """The station's whole configuration: 1.6 GetConfiguration without keys (§5.8);
        2.0.1 GetBaseReport FullInventory, then every NotifyReport part of that request
        until one says ``tbc`` false and every ``seqNo`` below it has come (B07), in
        ``seqNo`` order. A part that never comes fails naming its seqNo and those that
        did come."""
        protocol = self.ctx.protocol
        request_id = int(time.time() * 1000) % 2_000_000_000
        action, payload = protocol.full_report_request(request_id)
        mark = self.ctx.mark()
        answer = self.ctx.lab.call(action, payload)
        if protocol.full_report_arrives_in == "answer":
            return ConfigurationReport(protocol.settings_from_report([answer]), [answer])
        status = answer.get("status")
        if status != "Accepted":
            raise AssertionError(f"{action} FullInventory was answered {status}, not Accepted")
        parts: list[Frame] = []
        cursor = mark
        while not _report_complete(parts):
            try:
                frame = self.ctx.wait_message(
                    protocol.full_report_arrives_in,
                    {"requestId": request_id},
                    timeout=self.ctx.cfg.timings.message_timeout_s,
                    after=cursor,
                    advance=False,
                )
            except WaitTimeout:
                raise AssertionError(
                    _report_part_missing(
                        action,
                        request_id,
                        protocol.full_report_arrives_in,
                        parts,
                        self.ctx.cfg.timings.message_timeout_s,
                    )
                ) from None
            parts.append(frame)
            cursor = frame.seq
        raw = [f.payload or {} for f in parts]
        seqs = [_seq_no(p) for p in raw]
        if seqs != list(range(len(raw))):
            raise AssertionError(
                f"{protocol.full_report_arrives_in} parts came with seqNo {seqs}, expected "
                f"0 to {len(raw) - 1} in order ({REPORT_PARTS_RULE})"
            )
        self.ctx.advance(parts[-1])
        return ConfigurationReport(protocol.settings_from_report(raw), raw)

    @keyword
    def get_configuration(self, *settings: str) -> Any:
        """Read ``settings`` (lab names or the version's own); without any, the station's
        whole configuration, recorded as evidence for the report (OCPP 1.6 §5.8
        GetConfiguration; 2.0.1 B06 GetVariables, B07 GetBaseReport -> NotifyReport)."""
        protocol = self.ctx.protocol
        if settings:
            values = protocol.read_settings(self.ctx.lab.call, settings)
            logger.info(
                f"{protocol.read_action}: "
                + ", ".join(
                    f"{v.address.label}={v.value!r}" if v.known else f"{v.address.label} unknown"
                    for v in values
                )
            )
            return values
        report = self._full_report()
        logger.info(f"Whole configuration: {len(report.settings)} setting(s)")
        self.ctx.record_evidence(
            "configuration",
            entries=[
                {"key": v.address.label, "value": v.value, "readonly": v.readonly}
                for v in report.settings
            ],
        )
        return report

    @keyword
    def configuration_should_contain_required_core_keys(self, report: ConfigurationReport) -> None:
        """Every setting the station's version requires of a Core station is in the whole
        configuration: OCPP 1.6 §9.1 (Core keys); 2.0.1 Part 2 appendix (required
        variables, per EVSE and connector too)."""
        protocol = self.ctx.protocol
        present = report.labels()
        missing = [
            k
            for k in protocol.required_settings_for(self.ctx.cfg.dut.connectors)
            if k not in present
        ]
        if missing:
            raise AssertionError(
                f"Required Core configuration key(s) missing from the whole configuration "
                f"({protocol.rule(RULE_REQUIRED_SETTINGS)}): {', '.join(missing)}"
            )

    @keyword
    def configuration_entries_should_be_well_formed(self, report: ConfigurationReport) -> None:
        """Each setting has the form its version gives it: OCPP 1.6 §5.8 (a key, a boolean
        readonly flag, a string value); 2.0.1 the NotifyReport schema (checked as each part
        arrives) and one ReportData per variable."""
        bad = self.ctx.protocol.malformed_settings(report)
        if bad:
            raise AssertionError("Malformed configuration entries: " + "; ".join(bad))

    @keyword
    def unknown_settings_should_be_reported(self, count: int = 2) -> None:
        """Asking for ``count`` settings no station has gets each of them back as unknown:
        OCPP 1.6 §5.8 (listed in unknownKey); 2.0.1 B06 (UnknownComponent /
        UnknownVariable)."""
        names = self.ctx.protocol.unknown_settings(int(count))
        values = self.get_configuration(*names)
        dropped = [v.address.label for v in values if not v.answered]
        claimed = [f"{v.address.label}={v.value!r}" for v in values if v.known]
        if dropped:
            raise AssertionError(
                f"Unknown key(s) {', '.join(dropped)} were silently dropped: the answer "
                "neither gave a value nor said unknown"
            )
        if claimed:
            raise AssertionError(f"The station reports settings no station has: {claimed}")

    @keyword
    def get_configuration_should_honour_max_keys(self) -> None:
        """A read naming exactly as many settings as the station allows per read
        (1.6 GetConfigurationMaxKeys; 2.0.1 ItemsPerMessage[GetVariables]) is answered for
        every one of them."""
        protocol = self.ctx.protocol
        (limit_value,) = self.get_configuration(SETTINGS_PER_READ)
        if not limit_value.known or limit_value.value is None:
            raise AssertionError(f"{limit_value.address.label} is not reported")
        limit = int(limit_value.value)
        report = self._full_report()
        names = [v.address.label for v in report.settings if v.address.evse is None]
        names = (names + protocol.unknown_settings(limit))[:limit]
        values = self.get_configuration(*names)
        lost = [v.address.label for v in values if not v.answered]
        if lost:
            raise AssertionError(
                f"Asked for {limit} keys ({limit_value.address.label}); no answer for "
                f"{', '.join(lost)}"
            )

    # -- step 4: change configuration ---------------------------------------------------

    def _value(self, setting: str) -> str | None:
        return self.ctx.configuration_value(setting)

    def _label(self, setting: str) -> str:
        return self.ctx.protocol.address(setting).label

    @keyword
    def change_configuration(self, key: str, value: str, expect: str | None = None) -> str:
        """Change a setting (a lab name such as ``heartbeat interval``, or the version's
        own: a 1.6 key, a 2.0.1 ``Component.Variable``): OCPP 1.6 ChangeConfiguration
        §5.3; 2.0.1 SetVariables B05. With ``expect`` (``Accepted|RebootRequired``) fail
        when the answer differs. Returns the status in 1.6's words (2.0.1's unknown
        component / variable is NotSupported). The test's teardown puts the old value
        back."""
        status = self.ctx.change_configuration(key, str(value))
        what = f"{self.ctx.protocol.change_action}({self._label(key)}={value})"
        return answered(what, status, expect)

    @keyword
    def configuration_value_should_be(self, key: str, value: str) -> None:
        """Reading the setting back gives exactly ``value``."""
        actual = self._value(key)
        if actual != str(value):
            raise AssertionError(f"{self._label(key)} is {actual!r}, expected {value!r}")

    @keyword
    def configuration_change_should_take_effect(self, key: str, value: str) -> str:
        """The change is Accepted or RebootRequired and reading back shows it (1.6 §5.3;
        2.0.1 B05 and B06)."""
        status = self.change_configuration(key, value, "Accepted|RebootRequired")
        actual = self._value(key)
        if actual != str(value):
            protocol = self.ctx.protocol
            raise AssertionError(
                f"{protocol.change_action}({self._label(key)}={value}) was {status}, but "
                f"{protocol.read_action} still reports {self._label(key)}={actual!r}"
            )
        return status

    @keyword
    def configuration_change_should_be_refused(self, key: str, value: str, status: str) -> None:
        """The change is answered ``status`` (Rejected / NotSupported) and nothing changes.
        OCPP 1.6 §5.3 (ChangeConfiguration): NotSupported for an unknown key, Rejected for
        a read-only key or a value it cannot set; a measurand list with one the station
        does not support SHALL be Rejected with no change (edition 2 §3.16.4). OCPP 2.0.1
        B05: UnknownComponent / UnknownVariable (NotSupported here) for what it does not
        have, Rejected for a ReadOnly variable or a bad value.
        The teardown restores the old value if the station took the new one anyway."""
        before = self._value(key)
        self.change_configuration(key, value, status)
        after = self._value(key)
        if after != before:
            raise AssertionError(
                f"{self._label(key)} changed from {before!r} to {after!r} although the "
                f"station answered {status}"
            )

    @keyword
    def configuration_change_of_an_unknown_setting_should_be_refused(self) -> None:
        """A setting no station has is NotSupported (1.6 §5.3) / UnknownComponent or
        UnknownVariable (2.0.1 B05)."""
        (name,) = self.ctx.protocol.unknown_settings(1)
        self.configuration_change_should_be_refused(name, "1", "NotSupported")

    @keyword
    def configure_sampled_measurands(self) -> list[str]:
        """Set MeterValuesSampledData to the measurands the lab needs, for the steps after
        this one (it is not put back). A station SHALL reject a list with a measurand it does
        not support (OCPP 1.6 edition 2 §3.16.4; 2.0.1 B05 for TxUpdatedMeasurands),
        so the lab then tries each measurand
        alone: the ones it refuses are a remark (supporting fewer measurands is allowed) and
        later steps verify with what it has. Returns the measurands in use."""
        wanted = list(self.ctx.cfg.dut.measurands)
        status = self.change_configuration(SAMPLED_MEASURANDS, ",".join(wanted))
        if status in ("Accepted", "RebootRequired"):
            accepted = wanted
        else:
            accepted = [
                m
                for m in wanted
                if self.change_configuration(SAMPLED_MEASURANDS, m)
                in ("Accepted", "RebootRequired")
            ]
            refused = [m for m in wanted if m not in accepted]
            if accepted:
                self.change_configuration(
                    SAMPLED_MEASURANDS, ",".join(accepted), "Accepted|RebootRequired"
                )
            BuiltIn().run_keyword(
                "Record Remark",
                f"The station does not sample {', '.join(refused)} (it refused them in "
                f"{self._label(SAMPLED_MEASURANDS)}); later steps verify with "
                f"{', '.join(accepted) or 'no measurand'}",
            )
        self.configuration_value_should_be(SAMPLED_MEASURANDS, ",".join(accepted))
        self.ctx.keep_configuration(SAMPLED_MEASURANDS)
        self.ctx.run["measurands"] = accepted
        return accepted

    # -- step 5: heartbeat -----------------------------------------------------------

    @keyword
    def heartbeat_interval_setting(self) -> str:
        """The name of the station's heartbeat interval setting in the OCPP version it
        speaks: ``HeartbeatInterval`` on 1.6 (§9.1.10), ``OCPPCommCtrlr.HeartbeatInterval``
        on 2.0.1 (G02)."""
        protocol = self.ctx.protocol
        name = protocol.address(HEARTBEAT_INTERVAL).label
        logger.info(f"Heartbeat interval setting: {name} ({protocol.rule(RULE_HEARTBEAT)})")
        return name

    @keyword
    def heartbeats_should_arrive_every(
        self, seconds: float, count: int | None = None, tolerance: float | None = None
    ) -> list[float]:
        """While idle, ``count`` consecutive Heartbeat gaps each equal ``seconds`` within
        ``tolerance``. The first heartbeat after the cursor only starts the clock. Returns
        the gaps."""
        n = self.ctx.cfg.timings.heartbeat_count if count is None else int(count)
        tol = self._tolerance() if tolerance is None else float(tolerance)
        period = float(seconds)
        frames = [self.ctx.wait_message("Heartbeat", timeout=period + tol + 5)]
        gaps: list[float] = []
        for _ in range(n):
            try:
                frame = self.ctx.wait_message("Heartbeat", timeout=period + tol)
            except WaitTimeout:
                raise AssertionError(
                    f"No Heartbeat within {period + tol:g} s of the previous one "
                    f"({frames[-1].describe()}); gaps so far {_fmt(gaps)}; expected every "
                    f"{period:g} s ± {tol:g} s"
                ) from None
            gaps.append(frame.mono - frames[-1].mono)
            frames.append(frame)
        off = [g for g in gaps if abs(g - period) > tol]
        logger.info(f"Heartbeat gaps: {_fmt(gaps)} (expected {period:g} s ± {tol:g} s)")
        if off:
            raise AssertionError(
                f"Heartbeat gaps {_fmt(gaps)}; expected every {period:g} s ± {tol:g} s"
            )
        return gaps


def _fmt(gaps: list[float]) -> str:
    return ", ".join(f"{g:.2f} s" for g in gaps) or "none"


#: The rule a report in parts follows: OCPP 2.0.1 Part 2 B07 (GetBaseReport) / B08
#: (GetReport), NotifyReportRequest's seqNo ("sequence number of this message; first message
#: starts at 0") and tbc ("to be continued": another part follows; false or absent on the last).
REPORT_PARTS_RULE = (
    "OCPP 2.0.1 Part 2 B07/B08: NotifyReportRequest parts are numbered by seqNo from 0 and "
    "the last says tbc=false"
)


def _seq_no(payload: dict[str, Any]) -> int:
    try:
        return int(payload.get("seqNo", -1))
    except (TypeError, ValueError):
        return -1


def _report_complete(parts: list[Frame]) -> bool:
    """A part said tbc=false and every seqNo from 0 up to it has arrived."""
    payloads = [p.payload or {} for p in parts]
    last = [_seq_no(p) for p in payloads if not p.get("tbc", False)]
    if not last:
        return False
    seen = {_seq_no(p) for p in payloads}
    return all(n in seen for n in range(min(last) + 1))


def _report_part_missing(
    action: str, request_id: int, part_action: str, parts: list[Frame], timeout: float
) -> str:
    """Which part(s) of a report never came, and which did (B07/B08)."""
    payloads = [p.payload or {} for p in parts]
    head = f"{action} (requestId {request_id}) was Accepted, but "
    if not payloads:
        return (
            f"{head}no {part_action} part arrived within {timeout:g} s "
            f"(expected seqNo 0 first; {REPORT_PARTS_RULE})"
        )
    seen = {_seq_no(p) for p in payloads}
    ends = [_seq_no(p) for p in payloads if not p.get("tbc", False)]
    # after a tbc=false part: the gaps below it; without one: the gaps and the next part
    top = min(ends) if ends else max(seen) + 1
    missing = [n for n in range(top + (0 if ends else 1)) if n not in seen]
    got = ", ".join(
        f"{_seq_no(p)} (tbc={'true' if p.get('tbc', False) else 'false'})" for p in payloads
    )
    gone = ", ".join(str(n) for n in missing)
    return (
        f"{head}{part_action} part{'s' if len(missing) > 1 else ''} seqNo {gone} never "
        f"arrived within {timeout:g} s; received seqNo {got} ({REPORT_PARTS_RULE})"
    )
