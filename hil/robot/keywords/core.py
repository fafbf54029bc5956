"""Core profile checks: boot, availability, configuration, heartbeat (steps 1-5)."""

from __future__ import annotations

import time
from typing import Any

from robot.api import logger
from robot.api.deco import keyword
from robot.libraries.BuiltIn import BuiltIn

from hil.csms.journal import CALL, EVENT, RX, Frame, WaitTimeout
from hil.ocpp16 import REQUIRED_CORE_KEYS
from hil.protocol.base import HEARTBEAT_INTERVAL, RULE_HEARTBEAT
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
    def station_should_connect_using_ocpp16(self) -> None:
        """The next connection offers subprotocol ``ocpp1.6`` on a path ending in the
        station id, and the back office agreed on ``ocpp1.6``."""
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
        if frame.info.get("subprotocol") != "ocpp1.6":
            raise AssertionError(
                f"Subprotocol agreed is {frame.info.get('subprotocol')!r}, "
                f"not 'ocpp1.6' ({frame.describe()})"
            )
        self.ctx.state["connect_seq"] = frame.seq
        self.ctx.advance(frame)

    @keyword
    def boot_notification_should_come_first(self) -> dict[str, Any]:
        """The first CALL on the new connection is BootNotification, naming the vendor,
        model and firmware of the DUT config. Returns its payload."""
        after = self.ctx.state.get("connect_seq", self.ctx.cursor)
        first = self.ctx.wait_message(
            None, after=after, timeout=self.ctx.cfg.timings.boot_timeout_s
        )
        if first.action != "BootNotification":
            raise AssertionError(
                f"The station sent {first.action} before BootNotification: {first.describe()}"
            )
        dut = self.ctx.cfg.dut
        firmware = self.ctx.run.get("expected_firmware", dut.firmware)
        expected = {
            "chargePointVendor": dut.vendor,
            "chargePointModel": dut.model,
            "firmwareVersion": firmware,
        }
        wrong = {k: first.payload.get(k) for k, v in expected.items() if first.payload.get(k) != v}
        if wrong:
            raise AssertionError(
                "BootNotification does not match the DUT config: "
                + ", ".join(f"{k}={wrong[k]!r} (expected {expected[k]!r})" for k in wrong)
                + f" ({first.describe()})"
            )
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
        """StatusNotification arrives for connector 0 and every connector, in any order,
        after ``after`` (default: the accepted BootNotification; OCPP 1.6 §4.2 and §4.9).
        With ``status``, each connector must report that status; other notifications in
        between (a repeated earlier state) are not held against it. Returns connector ->
        status."""
        start = (
            self.ctx.state.get("boot_answer_seq", self.ctx.cursor) if after is None else int(after)
        )
        wait = self.ctx.cfg.timings.message_timeout_s if timeout is None else float(timeout)
        wanted = set(self._connectors())
        seen: dict[int, Frame] = {}
        others: dict[int, list[str]] = {}
        deadline = time.monotonic() + wait
        cursor = start
        while wanted - set(seen):
            try:
                frame = self.ctx.journal.wait_for(
                    lambda f: f.dir == RX and f.kind == CALL and f.action == "StatusNotification",
                    cursor,
                    max(0.0, deadline - time.monotonic()),
                    "StatusNotification",
                )
            except WaitTimeout:
                missing = sorted(wanted - set(seen))
                got = [
                    f"connector {c} {f.payload.get('status')} (#{f.seq})" for c, f in seen.items()
                ]
                got += [f"connector {c} {', '.join(s)}" for c, s in others.items() if c in missing]
                what = f"StatusNotification {status}" if status else "StatusNotification"
                raise AssertionError(
                    f"No {what} for connector(s) {missing} within {wait:g} s after frame "
                    f"#{start}; got: {'; '.join(got) or 'none'}"
                ) from None
            cursor = frame.seq
            cid = frame.payload.get("connectorId")
            if cid not in wanted or cid in seen:
                continue
            if status is None or frame.payload.get("status") == status:
                seen[cid] = frame
            else:
                others.setdefault(cid, []).append(f"{frame.payload.get('status')} (#{frame.seq})")
        self.ctx.advance(max(seen.values(), key=lambda f: f.seq))
        return {c: f.payload.get("status") for c, f in seen.items()}

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
        """Send ChangeAvailability; with ``expect`` (e.g. ``Accepted`` or
        ``Accepted|Scheduled``) fail when the answer differs. Returns the status. A
        connector made Inoperative is made Operative again by the test's teardown."""
        self.ctx.availability[int(connector)] = type
        status = self.ctx.lab.call(
            "ChangeAvailability", {"connectorId": int(connector), "type": type}
        )["status"]
        return answered(f"ChangeAvailability(connector {connector}, {type})", status, expect)

    @keyword
    def status_notification_should_arrive(
        self, connector: int, status: str, timeout: float | None = None, after: int | None = None
    ) -> dict[str, Any]:
        """Wait for StatusNotification of ``connector`` with ``status``."""
        return self.ctx.wait_message(
            "StatusNotification", {"connectorId": int(connector), "status": status}, timeout, after
        ).payload

    @keyword
    def status_after_boot_should_be(self, connector: int, status: str) -> None:
        """The first StatusNotification of ``connector`` after the latest accepted boot
        reports ``status``."""
        after = self.ctx.state.get("boot_answer_seq", self.ctx.cursor)
        frame = self.ctx.wait_message(
            "StatusNotification", {"connectorId": int(connector)}, after=after, advance=False
        )
        actual = frame.payload.get("status")
        if actual != status:
            raise AssertionError(
                f"After the reboot connector {connector} reported {actual}, "
                f"expected {status} ({frame.describe()})"
            )

    @keyword
    def wait_for_accepted_boot(self) -> None:
        """After a restart: the station connects with ocpp1.6, BootNotification comes first
        and is Accepted."""
        self.station_should_connect_using_ocpp16()
        self.boot_notification_should_come_first()
        self.boot_notification_should_be_answered("Accepted")

    # -- step 3: get configuration -----------------------------------------------------

    @keyword
    def get_configuration(self, *keys: str) -> dict[str, Any]:
        """GetConfiguration for ``keys`` (all keys when none). Returns the answer."""
        payload = {"key": list(keys)} if keys else {}
        answer = self.ctx.lab.call("GetConfiguration", payload)
        logger.info(
            f"GetConfiguration {list(keys) or '(all)'}: "
            f"{len(answer.get('configurationKey', []))} key(s), "
            f"unknown {answer.get('unknownKey', [])}"
        )
        if not keys:  # the station's whole configuration: evidence for the report
            self.ctx.record_evidence("configuration", entries=answer.get("configurationKey", []))
        return answer

    @keyword
    def configuration_should_contain_required_core_keys(self, answer: dict[str, Any]) -> None:
        """Every key OCPP 1.6 requires for the Core profile is in the answer."""
        present = {e["key"] for e in answer.get("configurationKey", [])}
        missing = [k for k in REQUIRED_CORE_KEYS if k not in present]
        if missing:
            raise AssertionError(
                f"Required Core configuration key(s) missing from "
                f"GetConfiguration: {', '.join(missing)}"
            )

    @keyword
    def configuration_entries_should_be_well_formed(self, answer: dict[str, Any]) -> None:
        """Each entry has a key, a boolean readonly flag and (if present) a string value."""
        bad = []
        for entry in answer.get("configurationKey", []):
            if not isinstance(entry.get("readonly"), bool):
                bad.append(f"{entry.get('key')}: readonly is {entry.get('readonly')!r}")
            if "value" in entry and not isinstance(entry["value"], str):
                bad.append(f"{entry.get('key')}: value {entry['value']!r} is not a string")
        if bad:
            raise AssertionError("Malformed configuration entries: " + "; ".join(bad))

    @keyword
    def unknown_keys_should_be_reported(self, *keys: str) -> None:
        """Asking for keys the station does not have lists each of them in unknownKey."""
        answer = self.get_configuration(*keys)
        unknown = set(answer.get("unknownKey", []))
        listed = {e["key"] for e in answer.get("configurationKey", [])}
        missing = [k for k in keys if k not in unknown and k not in listed]
        if missing:
            raise AssertionError(
                f"Unknown key(s) {', '.join(missing)} were silently dropped: "
                f"not in unknownKey {sorted(unknown)}"
            )

    @keyword
    def get_configuration_should_honour_max_keys(self) -> None:
        """A request with exactly ``GetConfigurationMaxKeys`` keys is answered for every key."""
        answer = self.get_configuration("GetConfigurationMaxKeys")
        entries = answer.get("configurationKey", [])
        if not entries:
            raise AssertionError("GetConfigurationMaxKeys is not reported")
        limit = int(entries[0]["value"])
        all_keys = [e["key"] for e in self.get_configuration().get("configurationKey", [])]
        keys = (all_keys + [f"HilUnknownKey{i}" for i in range(limit)])[:limit]
        answer = self.get_configuration(*keys)
        answered = {e["key"] for e in answer.get("configurationKey", [])} | set(
            answer.get("unknownKey", [])
        )
        lost = [k for k in keys if k not in answered]
        if lost:
            raise AssertionError(
                f"Asked for {limit} keys (GetConfigurationMaxKeys); no answer for {', '.join(lost)}"
            )

    # -- step 4: change configuration ---------------------------------------------------

    def _value(self, key: str) -> str | None:
        return self.ctx.configuration_value(key)

    @keyword
    def change_configuration(self, key: str, value: str, expect: str | None = None) -> str:
        """ChangeConfiguration; with ``expect`` (``Accepted|RebootRequired``) fail when the
        answer differs. Returns the status. The test's teardown puts the old value back."""
        status = self.ctx.change_configuration(key, str(value))
        return answered(f"ChangeConfiguration({key}={value})", status, expect)

    @keyword
    def configuration_value_should_be(self, key: str, value: str) -> None:
        """GetConfiguration reports ``key`` with exactly ``value``."""
        actual = self._value(key)
        if actual != str(value):
            raise AssertionError(f"{key} is {actual!r}, expected {value!r}")

    @keyword
    def configuration_change_should_take_effect(self, key: str, value: str) -> str:
        """ChangeConfiguration is Accepted or RebootRequired and reading back shows it."""
        status = self.change_configuration(key, value, "Accepted|RebootRequired")
        actual = self._value(key)
        if actual != str(value):
            raise AssertionError(
                f"ChangeConfiguration({key}={value}) was {status}, but "
                f"GetConfiguration still reports {key}={actual!r}"
            )
        return status

    @keyword
    def configuration_change_should_be_refused(self, key: str, value: str, status: str) -> None:
        """ChangeConfiguration answers ``status`` (Rejected / NotSupported) and nothing
        changes. OCPP 1.6 §5.3 (ChangeConfiguration): NotSupported for an unknown key,
        Rejected for a read-only key or a value it cannot set; a measurand list with one
        the station does not support SHALL be Rejected with no change (edition 2 §3.16.4).
        The teardown restores the old value if the station took the new one anyway."""
        before = self._value(key)
        self.change_configuration(key, value, status)
        after = self._value(key)
        if after != before:
            raise AssertionError(
                f"{key} changed from {before!r} to {after!r} although the station answered {status}"
            )

    @keyword
    def configure_sampled_measurands(self) -> list[str]:
        """Set MeterValuesSampledData to the measurands the lab needs, for the steps after
        this one (it is not put back). A station SHALL reject a list with a measurand it does
        not support (OCPP 1.6 edition 2 §3.16.4), so the lab then tries each measurand
        alone: the ones it refuses are a remark (supporting fewer measurands is allowed) and
        later steps verify with what it has. Returns the measurands in use."""
        wanted = list(self.ctx.cfg.dut.measurands)
        status = self.change_configuration("MeterValuesSampledData", ",".join(wanted))
        if status in ("Accepted", "RebootRequired"):
            accepted = wanted
        else:
            accepted = [
                m
                for m in wanted
                if self.change_configuration("MeterValuesSampledData", m)
                in ("Accepted", "RebootRequired")
            ]
            refused = [m for m in wanted if m not in accepted]
            if accepted:
                self.change_configuration(
                    "MeterValuesSampledData", ",".join(accepted), "Accepted|RebootRequired"
                )
            BuiltIn().run_keyword(
                "Record Remark",
                f"The station does not sample {', '.join(refused)} (it refused them in "
                f"MeterValuesSampledData); later steps verify with "
                f"{', '.join(accepted) or 'no measurand'}",
            )
        self.configuration_value_should_be("MeterValuesSampledData", ",".join(accepted))
        self.ctx.keep_configuration("MeterValuesSampledData")
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
