"""Every step's frame: is it applicable, is the bench at rest, and the clean-up after it.

A verdict must depend only on what the station did during the step. So the set-up first
decides N/A — DUT capabilities and instruments declared as ``requires:<name>`` test tags —
before anything waits on the station, then makes sure nothing of an earlier step is still
running (a firmware update, a diagnostics upload, a session). The teardown puts back
whatever the step changed, pass or fail: network, EV, transaction, availability,
configuration, the back office's answers and the file server — so one defect shows as one
failing step, not a cascade.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from robot.api import logger
from robot.api.deco import keyword
from robot.libraries.BuiltIn import BuiltIn

from hil.csms.journal import CALL, EVENT, RX, Frame, WaitTimeout
from hil.robot.context import LabContext
from hil.robot.keywords.capabilities import CAPABILITIES, require_capability
from hil.robot.keywords.instruments import EV_ALIAS, ROLE_NAMES, InstrumentKeywords
from hil.robot.keywords.lab import accepted_boot

#: A requirement tag: ``requires:<capability or instrument role>``.
REQUIRES = "requires:"
#: ``ocpp:1.6`` / ``ocpp:2.0.1``: a step that exists in the versions named only
OCPP_TAG = "ocpp:"
STEP_TAG = "step:"

#: Firmware and diagnostics statuses after which no transfer is in progress (OCPP 1.6 §7.25,
#: §7.24; Idle only answers a TriggerMessage).
#: The lab's transfer messages (named as in 1.6; the adapter gives the version's) and the
#: statuses after which no transfer runs (1.6 and 2.0.1's words).
TRANSFER_ENDS = {
    "FirmwareStatusNotification": {"Idle", "DownloadFailed", "InstallationFailed", "Installed"},
    "DiagnosticsStatusNotification": {"Idle", "Uploaded", "UploadFailed", "UploadFailure"},
}


class StepKeywords:
    def __init__(self, ctx: LabContext, instruments: InstrumentKeywords) -> None:
        self.ctx = ctx
        self.instruments = instruments

    # -- applicability ---------------------------------------------------------------

    @keyword
    def require_capability(self, *names: str) -> None:
        """SKIP the test (N/A by DUT capability in the report) when the DUT config says the
        station lacks one of ``names``: ``signed_meter_values``, ``firmware_update`` (over
        OCPP), ``diagnostics``, ``trigger_message``, ``authorization_cache``,
        ``smart_charging``, ``socket_connector`` (not a tethered cable)."""
        for name in names:
            require_capability(self.ctx.cfg, name)

    @keyword
    def step_should_apply_to_this_bench(self) -> None:
        """SKIP (N/A) unless the DUT has every capability and the bench every instrument the
        test's ``requires:<name>`` tags name (``requires:ev``,
        ``requires:signed_meter_values``, ``requires:power_source`` for a reference meter or
        analyser). Runs before anything waits on the station, so an N/A step is N/A even
        when the bench is not idle."""
        tags = BuiltIn().get_variable_value("${TEST TAGS}", [])
        self._step_should_exist_in_the_station_version([str(t) for t in tags])
        needs = [str(t)[len(REQUIRES) :] for t in tags if str(t).startswith(REQUIRES)]
        # what the station cannot do by design first: that N/A is the more fundamental one
        needs.sort(key=lambda need: need not in CAPABILITIES)
        for need in needs:
            if need in CAPABILITIES:
                self.require_capability(need)
            elif need == "power_source":
                self.instruments.require_power_source()
            elif need in ROLE_NAMES or need == EV_ALIAS:
                self.instruments.require_instrument(need)
            else:
                raise ValueError(
                    f"unknown requirement tag {REQUIRES}{need}; use a capability "
                    f"({', '.join(CAPABILITIES)}), an instrument role "
                    f"({', '.join([EV_ALIAS, *ROLE_NAMES])}) or power_source"
                )

    def _step_should_exist_in_the_station_version(self, tags: list[str]) -> None:
        """SKIP (N/A) a step the station's OCPP version does not have (tag ``ocpp:<v>``
        naming other versions only), and one the lab does not check on that version yet."""
        protocol = self.ctx.protocol
        versions = [t[len(OCPP_TAG) :] for t in tags if t.startswith(OCPP_TAG)]
        if versions and protocol.version not in versions:
            BuiltIn().skip(
                f"N/A by DUT capability: the step exists in OCPP {' and '.join(versions)} "
                f"only; the station speaks OCPP {protocol.version}"
            )
        step = next((t[len(STEP_TAG) :] for t in tags if t.startswith(STEP_TAG)), "")
        why = protocol.step_not_checked(step) if step else None
        if why:
            BuiltIn().skip(f"N/A: {why}")

    # -- set-up ------------------------------------------------------------------------

    @keyword
    def prepare_step(self) -> None:
        """Test set-up of every step: N/A checks first (`Step Should Apply To This Bench`),
        then no transfer of an earlier step still running (`No Transfer Should Be In
        Progress`), then the bench at rest (`Station Should Be Idle`)."""
        self.step_should_apply_to_this_bench()
        self.ctx.step_started = True
        self.no_transfer_should_be_in_progress()
        self.station_should_be_idle()

    @keyword
    def no_transfer_should_be_in_progress(self, timeout: float | None = None) -> None:
        """A firmware update or diagnostics upload an earlier step started must have ended
        before this step begins, so its statuses are never blamed on this step. When the
        last status is not final, the lab asks the station (TriggerMessage, OCPP 1.6 §5.17:
        Idle means not busy) and otherwise waits for a final status, up to ``timeout``
        (default: the file server's transfer timeout plus the boot timeout, as an update
        may reboot). A station that never says, is warned about and the step goes on: it
        is judged only on what comes after its own request."""
        cfg = self.ctx.cfg
        wait = (
            cfg.file_server.transfer_timeout_s + cfg.timings.boot_timeout_s
            if timeout is None
            else float(timeout)
        )
        for message, ends in TRANSFER_ENDS.items():
            action = self.ctx.protocol.triggered_action(message)
            last = self._last_call(action)
            if last is None or (last.payload or {}).get("status") in ends:
                continue
            logger.info(f"An earlier step's transfer may still run: {last.describe()}")
            if self._reported_idle(message):
                continue
            try:
                end = self.ctx.journal.wait_for(
                    lambda f, a=action, e=ends: (
                        f.dir == RX
                        and f.kind == CALL
                        and f.action == a
                        and (f.payload or {}).get("status") in e
                    ),
                    last.seq,
                    wait,
                    f"{action} with a final status ({', '.join(sorted(ends))})",
                )
            except WaitTimeout:
                logger.warn(
                    f"An earlier step's transfer never reported a final status ({last.describe()}"
                    f", nothing final within {wait:g} s); this step goes on and is judged only "
                    "on what follows its own request"
                )
                continue
            logger.info(f"The earlier transfer ended: {end.describe()}")
        self.ctx.cursor = self.ctx.mark()

    def _reported_idle(self, message: str) -> bool:
        """Ask the station for its current ``message`` status (TriggerMessage, named as in
        1.6); True when it says Idle."""
        if not self.ctx.cfg.dut.capabilities.trigger_message:
            return False
        protocol = self.ctx.protocol
        action = protocol.triggered_action(message)
        mark = self.ctx.mark()
        try:
            request, payload = protocol.trigger_request(message, None)
            status = self.ctx.lab.call(request, payload)["status"]
            if status != "Accepted":
                return False
            frame = self.ctx.wait_message(action, after=mark, advance=False)
        except AssertionError as exc:
            logger.info(f"Could not ask the station for its {action}: {exc}")
            return False
        status = (frame.payload or {}).get("status")
        logger.info(f"Triggered {action}: {status}")
        return status == "Idle"

    def _last_call(self, action: str) -> Frame | None:
        found = self.ctx.journal.find(
            lambda f: f.dir == RX and f.kind == CALL and f.action == action
        )
        return found[-1] if found else None

    @keyword
    def station_should_be_idle(self, connector: int = 1) -> None:
        """The station is connected, the connector is Available and no power flows (on the
        working reference instruments)."""
        self._wait_connected()
        self.ctx.wait_current_status(int(connector), "Available")
        if self.instruments.power_sources():
            self.instruments.energy_should_not_flow(hold=0.5)
        self.ctx.cursor = self.ctx.mark()

    def _wait_connected(self) -> None:
        if self.ctx.lab.station.connected:
            return
        self.ctx.journal.wait_for(
            lambda f: f.dir == EVENT and f.kind == "connect",
            self.ctx.mark(),
            self.ctx.cfg.timings.boot_timeout_s,
            "the station to connect to the back office",
        )

    # -- teardown ----------------------------------------------------------------------

    @keyword
    def return_bench_to_idle(self) -> None:
        """Teardown of every step, pass or fail: network back, EV fault cleared, a running
        transaction stopped, the EV unplugged, charging profiles the step set cleared,
        connectors made Inoperative by the step made Operative again, configuration the
        step changed put back, the back office's answers and the file server reset — then
        wait until connector 1 is Available (if it does not come, the station is
        restarted). Nothing to do for a step that was N/A before it began. What cannot be
        undone is a warning here, and the next step's set-up fails naming it."""
        if not self.ctx.step_started:
            return
        problems: list[str] = []
        lab = self.ctx.lab
        lab.policy.restore(self.ctx.run["policy_defaults"])
        lab.file_server.upload_quota_bytes = None
        switch = lab.instrument("network_switch")
        ev = self.instruments.ev_side()
        self._attempt(problems, "reconnect the network", lambda: self._network_up(switch))
        if ev is not None:
            self._attempt(problems, "clear the EV fault", ev.clear_fault)
        self._attempt(problems, "wait for the station", self._wait_connected)
        self._attempt(problems, "stop the transaction", self._stop_running_transaction)
        if ev is not None:
            self._attempt(problems, "unplug the EV", ev.release)
        self._attempt(problems, "clear charging profiles", self._clear_charging_profiles)
        self._attempt(problems, "restore availability", self._restore_availability)
        self._attempt(problems, "restore configuration", self._restore_configuration)
        idle: list[str] = []
        self._attempt(idle, "wait for connector 1 Available", self._wait_available)
        if idle:
            # the station is stuck (e.g. Preparing for ever): what a technician does next
            logger.warn(
                f"Connector 1 did not return to Available ({idle[0].splitlines()[0]}); restarting "
                "the station to return the bench to idle"
            )
            self._attempt(problems, "restart the station", self._restart)
        if problems:
            text = "; ".join(problems)
            logger.warn(f"The bench could not be fully returned to idle: {text}")

    def _wait_available(self) -> None:
        self.ctx.wait_current_status(1, "Available", self.ctx.cfg.timings.message_timeout_s)

    def _restart(self) -> None:
        mark = BuiltIn().run_keyword("Restart Station")
        self.ctx.journal.wait_for(
            accepted_boot, mark, self.ctx.cfg.timings.boot_timeout_s, "an accepted BootNotification"
        )
        self.ctx.wait_current_status(1, "Available", self.ctx.cfg.timings.boot_timeout_s)

    @staticmethod
    def _attempt(problems: list[str], what: str, action: Callable[[], Any]) -> None:
        try:
            action()
        except Exception as exc:  # one failed restore must not stop the others
            problems.append(f"could not {what}: {exc}")

    @staticmethod
    def _network_up(switch: Any) -> None:
        if switch is not None and not switch.port_is_up(switch.station_port):
            switch.set_port(switch.station_port, True)

    def _stop_running_transaction(self) -> None:
        session = self.ctx.running_session()
        if session is not None:
            action, payload = self.ctx.protocol.remote_stop_request(session["transaction_id"])
            answer = self.ctx.lab.call(action, payload)
            logger.info(f"Teardown: {action} {session['transaction_id']} -> {answer}")

    def _clear_charging_profiles(self) -> None:
        sc = self.ctx.state.get("smart_charging")
        if sc and sc.get("set"):
            for action, payload in self.ctx.protocol.clear_profile_requests():
                status = self.ctx.lab.call(action, payload)["status"]
                logger.info(f"Teardown: {action} {payload} -> {status}")

    def _restore_availability(self) -> None:
        for connector, kind in sorted(self.ctx.availability.items()):
            if kind != "Inoperative":
                continue
            action, payload = self.ctx.protocol.availability_request(connector, True)
            status = self.ctx.lab.call(action, payload)["status"]
            logger.info(f"Teardown: ChangeAvailability({connector}, Operative) -> {status}")
        self.ctx.availability.clear()

    def _restore_configuration(self) -> None:
        failed = self.ctx.restore_configuration()
        if failed:
            raise AssertionError("; ".join(failed))
