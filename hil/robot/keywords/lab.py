"""Opening and closing the lab, remarks, and the station's power."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from robot.api import logger
from robot.api.deco import keyword
from robot.libraries.BuiltIn import BuiltIn

from hil.csms.journal import CALL, EVENT, RX, TX, Frame, WaitTimeout
from hil.lab.bench import Bench
from hil.lab.config import LabConfig, LabConfigError, load_lab_config
from hil.lab.evidence import EVIDENCE_FILE, JsonLines, start_run, update_run
from hil.protocol.base import RULE_RESET
from hil.robot.context import LabContext
from hil.robot.listener import RunListener
from hil.verdict import LAB_ERROR_PREFIX, LabFault

#: ``${LAB}`` value that makes `Open Lab` take its bench from PabotLib (``hil nightly``).
PABOT_LAB = "pabot"
#: The tag of every bench's value set in ``hil nightly``'s resource file.
PABOT_BENCH_TAG = "bench"


class LabKeywords:
    def __init__(self, ctx: LabContext, listener: RunListener) -> None:
        self.ctx = ctx
        self.listener = listener
        #: PabotLib client holding this worker's bench (``${LAB}`` = ``pabot``), else None
        self._pabot: Any = None

    @keyword
    def open_lab(self, lab_config: str) -> None:
        """Open the lab described by ``lab_config``: back office, virtual bench, instruments.

        A bad config fails with one line naming the file, the field and the value. On the
        virtual bench the virtual station and instruments start in their own process.
        Waits until the station has registered (BootNotification Accepted). With
        ``lab.missing_instrument: prompt`` the operator's channel starts too (the web
        page's URL goes to the console) and `Close Lab` stops it.
        """
        if self.ctx.bench is not None:
            raise LabFault("a lab is already open; 'Close Lab' first")
        if str(lab_config) == PABOT_LAB:
            lab_config = self._acquire_pabot_bench()
        output_dir = Path(BuiltIn().get_variable_value("${OUTPUT DIR}", "."))
        # the run starts (and the last run's evidence goes) before anything can fail, so
        # even a run with a bad config never appends to an earlier run's records
        run_id = start_run(output_dir, str(lab_config))
        self.listener.begin_run(output_dir, run_id)
        self.ctx.evidence = JsonLines(output_dir / EVIDENCE_FILE)
        try:
            cfg = load_lab_config(Path(lab_config).resolve())
        except LabConfigError as exc:
            # the report says it first: no step ran, and this line says why
            update_run(output_dir, lab_not_opened=str(exc))
            raise LabFault(str(exc)) from None
        # pid: hil nightly --status tells a run still going from one that was killed
        update_run(output_dir, lab_config=cfg.source, pid=os.getpid(), **run_facts(cfg))
        bench = Bench(cfg, output_dir)
        try:
            bench.open()
        except Exception as exc:  # the lab's own servers or instruments: still not open
            known = isinstance(exc, (LabFault, LabConfigError))
            why = str(exc) if known else f"{type(exc).__name__}: {exc}"
            update_run(output_dir, lab_not_opened=why.removeprefix(LAB_ERROR_PREFIX))
            raise
        if bench.operator is not None:
            where = bench.operator.url or f"the {bench.operator.name} channel"
            logger.console(f"Operator prompts: {where} (timeout {cfg.operator.timeout_s:g} s)")
        self.ctx.record_evidence(
            "instruments",
            items=[
                {
                    "role": role,
                    "driver": inst.driver,
                    "address": bench.addresses.get(role, inst.address),
                    "identity": bench.identities.get(role)
                    or bench.unreachable.get(role, "not opened"),
                    # from the lab config, for the report (calibration overdue: a warning)
                    "serial": inst.serial,
                    "calibration_due": inst.calibration_due and inst.calibration_due.isoformat(),
                }
                for role, inst in cfg.instruments
                if inst is not None
            ],
        )
        self.ctx.bench = bench
        self.ctx.cursor = 0
        self.ctx.run = {"run_id": run_id, "policy_defaults": bench.policy.checkpoint()}
        logger.info(
            f"Lab '{cfg.lab.name}' ({cfg.lab.bench} bench) from {cfg.source}; "
            f"back office at {bench.back_office.url()}; journal "
            f"{bench.station.journal.path}",
            also_console=False,
        )
        self.wait_for_station_registration()

    @keyword
    def close_lab(self) -> None:
        """Stop everything the lab started. Safe to call when nothing is open."""
        bench, self.ctx.bench = self.ctx.bench, None
        try:
            if bench is not None:
                bench.close()
        finally:
            pabot, self._pabot = self._pabot, None
            if pabot is not None:
                pabot.release_value_set()

    def _acquire_pabot_bench(self) -> str:
        """``${LAB}`` is ``pabot`` (``hil nightly``): take a free bench from PabotLib's value
        sets (tag ``bench``, key ``lab`` = its lab config) so no two workers drive one
        bench; `Close Lab` gives it back. pabot is imported only here: a plain ``robot``
        run never needs it."""
        from pabot.pabotlib import PabotLib

        uri = BuiltIn().get_variable_value("${HIL_PABOTLIB_URI}", "")
        if uri:  # a PabotLib server on its own host (pabot 5.2 passes its workers its own)
            BuiltIn().set_global_variable("${PABOTLIBURI}", uri)
        pabot = PabotLib()
        name = pabot.acquire_value_set(PABOT_BENCH_TAG)
        self._pabot = pabot
        lab = str(pabot.get_value_from_set("lab"))
        logger.info(f"Bench {name!r} taken from PabotLib: {lab}")
        return lab

    @keyword
    def wait_for_station_registration(self, timeout: float | None = None) -> None:
        """Wait until the station's BootNotification has been answered Accepted.

        A station that was registered before may connect without a BootNotification (OCPP
        1.6 §4.2 asks for one after start-up, not after a reconnect). If it connects but
        sends something else first, or nothing within ``timings.message_timeout_s``, the
        lab restarts it (power relay, else a Hard reset in the station's version: 1.6 Reset
        Hard, 2.0.1 Reset Immediate), says so in the log, and waits for
        its boot. On a timeout the failure says what the back office did see."""
        wait = self.ctx.cfg.timings.boot_timeout_s if timeout is None else float(timeout)
        journal = self.ctx.journal
        if journal.find_last(accepted_boot) is not None:
            return
        try:
            first = journal.wait_for(
                lambda f: accepted_boot(f) or (f.dir == EVENT and f.kind == "connect"),
                0,
                wait,
                "the station to connect and register",
            )
            if accepted_boot(first):
                return
            nxt = journal.wait_for(
                lambda f: accepted_boot(f) or _unasked_other_than_boot(f),
                first.seq,
                self.ctx.cfg.timings.message_timeout_s,
                "a BootNotification",
            )
            if accepted_boot(nxt):
                return
            seen = f"it sent {nxt.describe()} first"
        except WaitTimeout:
            if not self.ctx.lab.station.connected or journal.find_last(_boot_call) is not None:
                raise AssertionError(self._registration_hint(wait)) from None
            seen = "it sent nothing"
        logger.warn(
            "The station is connected but did not register with a BootNotification "
            f"({seen}); a registered station may reconnect without one, so the lab "
            "restarts it to see its boot"
        )
        mark = self.restart_station()
        try:
            journal.wait_for(accepted_boot, mark, wait, "a BootNotification answered Accepted")
        except WaitTimeout:
            raise AssertionError(self._registration_hint(wait)) from None

    def _registration_hint(self, wait: float) -> str:
        lab = self.ctx.lab
        station_id = self.ctx.cfg.dut.station_id
        return (
            f"The station did not register (no BootNotification answered Accepted within "
            f"{wait:g} s). Is it powered and pointed at {lab.back_office.url(station_id)} "
            f"with subprotocol {' or '.join(lab.back_office.subprotocols)}? "
            "What the back office saw: "
            f"{lab.back_office.connection_summary(station_id)}"
        )

    @keyword
    def lab_setting(self, path: str) -> object:
        """A value of the open lab config by dotted path, e.g. ``timings.heartbeat_interval_s``
        or ``dut.connectors``."""
        node: object = self.ctx.cfg
        for part in path.split("."):
            if not hasattr(node, part):
                raise ValueError(f"The lab config has no setting {path!r} (at {part!r})")
            node = getattr(node, part)
        return node

    @keyword
    def record_remark(self, text: str) -> None:
        """Record a SHOULD-level miss: a warning, tag ``remark``, and a line for the report."""
        output_dir = Path(BuiltIn().get_variable_value("${OUTPUT DIR}", "."))
        self.listener.record_remark(text, output_dir)
        logger.warn(f"Remark: {text}")
        if self.listener.current_test is not None:
            BuiltIn().set_tags("remark")

    @keyword
    def restart_station(self) -> int:
        """Reboot the station the way the bench can: a power cycle through the power relay
        if one is configured, otherwise a Hard reset as the station's version words it (1.6
        §5.14 Reset Hard; 2.0.1 B11 Reset Immediate), built by the protocol adapter. Waits
        until it connects again and returns the journal mark taken before the restart."""
        mark = self.ctx.mark()
        lab = self.ctx.lab
        relay = lab.instrument("power_relay")
        problem = lab.instrument_problem("power_relay")
        if relay is not None and problem is None:
            off_s = self.ctx.cfg.timings.power_off_s
            logger.info(
                f"Restart: a real power cycle through the power relay at {relay.address} "
                f"(off {off_s:g} s, timings.power_off_s)"
            )
            relay.power_cycle(off_s)  # type: ignore[attr-defined]
        else:
            if problem is not None:
                logger.warn(f"Restart: the power relay cannot be used ({problem}); Reset Hard")
            else:
                logger.info("Restart: Reset Hard (the bench has no power relay)")
            action, payload = self.ctx.protocol.reset_request("Hard")
            answer = lab.call(action, payload)
            if answer.get("status") != "Accepted":
                raise AssertionError(
                    f"Station answered the lab's {action} {payload} with {answer.get('status')}"
                    f" ({self.ctx.protocol.rule(RULE_RESET)}: an Accepted reset reboots)"
                )
        self.ctx.journal.wait_for(
            lambda f: f.dir == EVENT and f.kind == "connect",
            mark,
            self.ctx.cfg.timings.boot_timeout_s,
            "the station to connect again after restart",
        )
        self.ctx.state["restart_mark"] = mark
        self.ctx.cursor = mark
        return mark


def accepted_boot(frame: Frame) -> bool:
    """The back office's Accepted answer to a BootNotification."""
    return (
        frame.action == "BootNotification"
        and frame.dir == TX
        and frame.kind == "CALLRESULT"
        and (frame.payload or {}).get("status") == "Accepted"
    )


def _boot_call(frame: Frame) -> bool:
    return frame.dir == RX and frame.kind == CALL and frame.action == "BootNotification"


def _unasked_other_than_boot(frame: Frame) -> bool:
    return frame.dir == RX and frame.kind == CALL and frame.action != "BootNotification"


def run_facts(cfg: LabConfig) -> dict[str, Any]:
    """What the report needs to know of the DUT and the lab, as configured for this run."""
    dut = cfg.dut
    return {
        "lab": {
            "name": cfg.lab.name,
            "platform": cfg.lab.platform,
            "tester": cfg.lab.tester,
            "bench": cfg.lab.bench,
        },
        "report": cfg.report.model_dump(),
        "dut": {
            "station_id": dut.station_id,
            "vendor": dut.vendor,
            "model": dut.model,
            "firmware": dut.firmware,
            "serial": dut.serial,
            "current_type": dut.current_type,
            "cable": dut.cable,
            "ocpp": dut.ocpp,
        },
    }
