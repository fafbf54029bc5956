"""The virtual charge station: power-up, connection, registration, heartbeat, reset.

It behaves as OCPP 1.6 describes a charge point, not as the suites happen to check:
BootNotification first and nothing unasked until Accepted, the Pending/Rejected interval
honoured, StatusNotification for connector 0 and every connector after boot, heartbeats at
``HeartbeatInterval``, transaction messages kept across outages and reboots. Deviations
from the lab config (``virtual.deviations``) switch on specific, realistic defects.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from websockets.asyncio.client import connect
from websockets.exceptions import InvalidHandshake, InvalidMessage, InvalidStatus, InvalidURI

from hil.lab.config import LabConfig
from hil.sim.physics import BenchPhysics
from hil.sim.station.charging import Charging, Transaction
from hil.sim.station.config_store import ConfigStore
from hil.sim.station.extensions import EXTENSIONS, StationExtension
from hil.sim.station.link import StationLink
from hil.sim.station.outbox import CallFailed, Outbox, OutMsg
from hil.sim.station.power_stage import stage_class
from hil.sim.station.smart_charging import SmartCharging
from hil.verify.charging_profiles import ProfileStore

LOG = logging.getLogger("hil.sim.station")

#: Seconds between answering a Hard reset and the power going (the answer gets read).
HARD_RESET_SHUTDOWN_S = 0.2
#: The "reset kind" of a power cut through the virtual PDU (see ``set_mains``).
POWER_LOSS = "PowerLoss"
#: Notifications a station may repeat (station setting ``repeat_statuses``).
STATUS_ACTIONS = (
    "StatusNotification",
    "FirmwareStatusNotification",
    "DiagnosticsStatusNotification",
)


async def _cancel_all(tasks: set[asyncio.Task[Any]]) -> None:
    """Cancel ``tasks`` and wait until every one has ended.

    On Python < 3.12 ``asyncio.wait_for`` swallows a cancellation that arrives as its inner
    future completes (gh-86296): a CALL answered just as the connection drops (a power cut)
    then goes on draining the outbox, and one ``cancel()`` plus ``gather`` waits forever.
    So cancel again until all are done.
    """
    pending = set(tasks)
    while pending:
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=0.5)
    await asyncio.gather(*tasks, return_exceptions=True)  # retrieve their exceptions


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


#: Seconds the station waits for the TCP connection and the WebSocket handshake.
OPEN_TIMEOUT_S = 3.0


def why_not_connected(exc: BaseException, network: Any = None) -> str:
    """Why a connection attempt failed, in words that tell the cases apart: nothing listens
    (connection refused), something listens but is no WebSocket server (no HTTP answer, or
    an HTTP answer other than 101), or nothing answered in time. ``network`` is the
    :class:`~hil.sim.network.BlackholeRelay` in between, if any: what it saw upstream is the
    real reason (through it, a refused connection looks like a closed one)."""
    seen = network.why_unreachable() if network is not None else None
    if seen is not None:
        return seen
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused: nothing listens there"
    if isinstance(exc, InvalidStatus):
        response = exc.response
        status = f"HTTP {response.status_code} {response.reason_phrase}".rstrip()
        return (
            f"not a WebSocket server, or it refused the upgrade: it answered {status} "
            "instead of 101 Switching Protocols"
        )
    if isinstance(exc, InvalidMessage):
        return (
            "no HTTP answer: the server closed the connection or answered something that is "
            "not HTTP (not a WebSocket server?)"
        )
    if isinstance(exc, TimeoutError):
        if network is not None:  # the relay did reach the server: it took TCP, then silence
            return (
                f"no HTTP answer within {OPEN_TIMEOUT_S:g} s: the server accepted the TCP "
                "connection but said nothing (not a WebSocket server?)"
            )
        return f"timed out: no answer to the WebSocket handshake within {OPEN_TIMEOUT_S:g} s"
    if isinstance(exc, InvalidHandshake):
        return f"the WebSocket handshake failed: {exc}"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


@dataclass
class ConnectorState:
    """What the station knows about one connector (0 = the station as a whole)."""

    id: int
    status: str = "Available"
    error_code: str = "NoError"
    vendor_error: str | None = None
    reported: tuple[str, str] | None = None  # last (status, errorCode) sent


@dataclass
class Nvram:
    """Everything that survives a reboot."""

    config: ConfigStore
    firmware: str
    outbox: Outbox
    inoperative: set[int] = field(default_factory=set)
    scheduled: dict[int, str] = field(default_factory=dict)  # connector -> availability type
    charging_profiles: ProfileStore = field(default_factory=ProfileStore)  # smart charging


class VirtualStation:
    #: the WebSocket subprotocol offered (a front-end for another OCPP version overrides it)
    SUBPROTOCOL = "ocpp1.6"
    #: the message that carries a transaction's readings (the offline-queue defects act on it)
    READINGS_ACTION = "MeterValues"
    #: the reason of a transaction ended because the EV ended its session (1.6 §7.38 has
    #: none of its own; the 2.0.1 front-end says StoppedByEV)
    EV_STOP_REASON = "Other"

    def __init__(
        self,
        cfg: LabConfig,
        physics: BenchPhysics,
        csms_url: str,
        connect_options: dict[str, Any] | None = None,
    ) -> None:
        self.cfg = cfg
        #: ``ssl`` and the Basic auth header of the lab's security profile (none: plain ws://)
        self.connect_options = dict(connect_options or {})
        if csms_url.startswith("ws://"):  # e.g. `hil lab check`: no back office, no TLS
            self.connect_options.pop("ssl", None)
        self.physics = physics
        self.csms_url = csms_url.rstrip("/") + "/" + cfg.dut.station_id
        #: the back office's own URL, for messages (the virtual bench connects through its
        #: network relay, ``network``, so ``csms_url`` is the relay's)
        self.back_office_url = self.csms_url
        self.network: Any = None
        self.station_id = cfg.dut.station_id
        self.deviations = set(cfg.virtual.deviations)
        #: behaviours the specification allows either way (lab config virtual.station)
        self.settings = cfg.virtual.station
        self.n_connectors = cfg.dut.connectors
        profiles = ["Core", "RemoteTrigger"]
        if cfg.dut.capabilities.firmware_update == "ocpp" or cfg.dut.capabilities.diagnostics:
            profiles.append("FirmwareManagement")
        if cfg.dut.capabilities.smart_charging:
            profiles.append("SmartCharging")
        stage = stage_class(cfg)  # AC or DC: the measurands it can sample
        self.nv = Nvram(
            config=ConfigStore(
                self.n_connectors,
                heartbeat_interval=cfg.back_office.heartbeat_interval_s,
                sample_interval=cfg.timings.meter_sample_interval_s,
                connection_timeout=cfg.timings.connection_timeout_s,
                ping_interval=max(1, round(cfg.virtual.websocket_ping_interval_s)),
                profiles=profiles,
                smart_charging=cfg.dut.capabilities.smart_charging,
                measurands=tuple(self.settings.supported_measurands or stage.measurands),
                min_connection_timeout=self.settings.min_connection_timeout_s,
                sampled_data=stage.default_sampled,
            ),
            firmware=cfg.dut.firmware,
            outbox=Outbox(),
            inoperative=set(self.settings.inoperative_connectors),
        )
        self.connectors: dict[int, ConnectorState] = {}
        self.link: StationLink | None = None
        self.accepted = False
        #: registered before the lab started: the first connection carries no boot
        self._registered_before = self.settings.registered_before
        self.online = False
        self.boot_interval = 0
        self._reset_kind: str | None = None
        self._reset_event = asyncio.Event()
        self._hb_changed = asyncio.Event()
        #: a TriggerMessage for BootNotification while not yet Accepted: boot again now
        self._boot_triggered = asyncio.Event()
        self._stopping = False
        self._availability_pending: tuple[int, str] | None = None
        self._shutting_down = False
        #: the mains supply (the virtual PDU's outlet): set while the station has power
        self._mains = asyncio.Event()
        self._mains.set()
        self.charging = Charging(self)
        self.extensions = [ext(self) for ext in EXTENSIONS]

    # -- lifecycle -------------------------------------------------------------------

    async def run(self) -> None:
        """Power up, serve until a reset, power down, and again — until cancelled."""
        while not self._stopping:
            await self._mains.wait()
            await asyncio.sleep(self.cfg.virtual.boot_delay_s)
            if not self._mains.is_set():
                continue  # the power went again before the station came up
            self._power_on()
            kind = await self._run_until_reset()
            self._power_off(kind)

    def _power_on(self) -> None:
        LOG.info("power on, firmware %s", self.nv.firmware)
        if "unavailable_lost_after_reboot" in self.deviations:
            self.nv.inoperative.clear()
        self.accepted, self._registered_before = self._registered_before, False
        self.online = False
        self._reset_kind = None
        self._shutting_down = False
        self._reset_event.clear()
        self.nv.outbox.drop_volatile()
        self.nv.outbox.release()
        self.connectors = {c: ConnectorState(c) for c in range(self.n_connectors + 1)}
        self.charging.power_on()
        for ext in self.extensions:
            ext.power_on()
        self.refresh_status(report=False)

    def _power_off(self, kind: str | None) -> None:
        if kind == POWER_LOSS:
            LOG.info("dead until the mains come back")
            return  # set_mains(False) already dropped everything a power cut drops
        LOG.info("rebooting (%s reset)", kind)
        self.charging.outputs_off()

    @property
    def powered(self) -> bool:
        return self._mains.is_set()

    def set_mains(self, on: bool) -> None:
        """Switch the station's supply (the virtual PDU's outlet does this).

        Off is a power cut, not a shutdown: at once, and with nothing said. The WebSocket
        is aborted (no close frame, nothing more sent: no StopTransaction), what lives in
        RAM is gone (running transactions and sessions, messages queued but not yet sent
        that are not transaction messages), pilot and contactor drop (no PWM, no power).
        What lives in flash (:class:`Nvram`: configuration keys, Unavailable connectors,
        charging profiles, the queued transaction messages) stays. On boots it anew:
        BootNotification, as after a Hard reset.
        """
        if on == self._mains.is_set():
            return
        if on:
            LOG.info("mains on")
            self._mains.set()
            return
        LOG.info("mains off: power lost")
        self._mains.clear()
        self.nv.outbox.hold()
        link = self.link
        if link is not None and link.ws.transport is not None:
            link.ws.transport.abort()
        self.charging.power_lost()
        self.online = False
        self._reset_kind = POWER_LOSS
        self._reset_event.set()

    async def _run_until_reset(self) -> str:
        while True:
            if self._reset_kind is not None:
                return self._reset_kind
            ping = self.nv.config.get_int("WebSocketPingInterval") or None
            try:
                ws = await connect(
                    self.csms_url,
                    subprotocols=[self.SUBPROTOCOL],
                    open_timeout=OPEN_TIMEOUT_S,
                    ping_interval=ping,
                    ping_timeout=ping,
                    close_timeout=1,
                    **self.connect_options,
                )
            except (OSError, TimeoutError, InvalidHandshake, InvalidURI) as exc:
                LOG.info(
                    "cannot reach the back office at %s: %s; retrying",
                    self.back_office_url,
                    why_not_connected(exc, self.network),
                )
                await self._wait_reset_or(1.0)
                continue
            if self._reset_kind == POWER_LOSS:  # the power went while connecting
                ws.transport.abort()
                return POWER_LOSS
            link = self._make_link(ws)
            self.link = link
            try:
                kind = await self._serve(link)
            finally:
                self.link = None
                self.online = False
                self.nv.outbox.drop_volatile()
            if kind is not None:
                return kind
            LOG.info("connection lost; reconnecting")
            await self._wait_reset_or(0.5)

    def _make_link(self, ws: Any) -> StationLink:
        """The OCPP front-end on a fresh connection."""
        return StationLink(self, ws, response_timeout=self.cfg.back_office.call_timeout_s)

    async def _wait_reset_or(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._reset_event.wait(), seconds)

    async def _serve(self, link: StationLink) -> str | None:
        """Run one connection; return the reset kind if a reset ended it."""
        receive = asyncio.create_task(link.start())
        online = asyncio.create_task(self._online(link))
        reset = asyncio.create_task(self._reset_event.wait())
        tasks = {receive, online, reset}
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in done - {reset}:
                if not task.cancelled() and task.exception() is not None:
                    LOG.info("link task ended: %r", task.exception())
            if reset in done:
                kind = self._reset_kind or "Hard"
                await self._close_for_reset(link, kind)
                return kind
            return None
        finally:
            await _cancel_all(tasks)
            if link.ws.transport is not None and not link.ws.transport.is_closing():
                link.ws.transport.abort()

    async def _close_for_reset(self, link: StationLink, kind: str) -> None:
        if kind == POWER_LOSS:
            return  # set_mains(False) aborted the connection the moment the power went
        if kind == "Soft":
            # graceful: deliver what is queued (e.g. StopTransaction), then close cleanly
            with contextlib.suppress(TimeoutError):
                if not self.nv.outbox.held:
                    await asyncio.wait_for(
                        self.nv.outbox.flushed(), self.cfg.back_office.call_timeout_s
                    )
            with contextlib.suppress(Exception):
                await link.ws.close(1000, "soft reset")
        else:
            # Power is cut: no closing handshake. A real station takes a moment to go down
            # after answering; cutting at once lets the back office's next frame draw an
            # RST, which can make its kernel drop the Reset answer it has not read yet.
            await asyncio.sleep(HARD_RESET_SHUTDOWN_S)
            if self.settings.unavailable_before_hard_reset:  # its Unavailable goes out first
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.nv.outbox.flushed(), 2.0)
            link.ws.transport.close()

    async def stop(self) -> None:
        self._stopping = True
        self._reset_kind = "Hard"
        self._reset_event.set()
        await self.charging.close()

    # -- registration and the online phase -------------------------------------------

    async def _online(self, link: StationLink) -> None:
        first_since_boot = not self.accepted
        if first_since_boot:
            if "message_before_accepted" in self.deviations:
                await link.send("StatusNotification", self._status_payload(0))
            await self._register(link)
        else:
            self._apply_offline_queue_deviations()
            if "boot_on_reconnect" in self.deviations:
                await link.send("BootNotification", self.boot_payload())
        self.online = True
        self._report_all(everything=first_since_boot)
        for ext in self.extensions:
            ext.registered(first_since_boot)
        heartbeat = asyncio.create_task(self._heartbeat_loop())
        try:
            await self.nv.outbox.drain(
                link.send,
                attempts=lambda: self.nv.config.get_int("TransactionMessageAttempts"),
                retry_interval=lambda: self.nv.config.get_int("TransactionMessageRetryInterval"),
            )
        finally:
            heartbeat.cancel()

    def boot_payload(self) -> dict[str, Any]:
        dut = self.cfg.dut
        payload: dict[str, Any] = {
            "chargePointVendor": dut.vendor,
            "chargePointModel": dut.model,
            "firmwareVersion": self.nv.firmware,
        }
        if dut.serial:
            payload["chargePointSerialNumber"] = dut.serial
        return payload

    async def _register(self, link: StationLink) -> None:
        """BootNotification until Accepted, honouring the Pending/Rejected interval."""
        while True:
            # a trigger from now on (even one handled before this answer is) cuts the wait
            self._boot_triggered.clear()
            try:
                answer = await link.send("BootNotification", self.boot_payload())
            except (CallFailed, TimeoutError) as exc:
                LOG.warning("BootNotification failed: %s", exc)
                await asyncio.sleep(5)
                continue
            status, interval = answer["status"], int(answer["interval"])
            LOG.info("BootNotification answered %s, interval %s", status, interval)
            if status == "Accepted":
                self.accepted = True
                self.boot_interval = interval
                if interval > 0:
                    self.nv.config.force("HeartbeatInterval", str(interval))
                return
            wait = interval if interval > 0 else 30
            if "boot_retry_ignores_interval" in self.deviations:
                wait = 0.3
            try:  # the interval, unless the back office triggers the boot (1.6 §4.2, B02)
                await asyncio.wait_for(self._boot_triggered.wait(), wait)
                LOG.info("BootNotification triggered while %s", status)
            except TimeoutError:
                pass

    def boot_triggered(self) -> None:
        """TriggerMessage BootNotification: while not Accepted the next BootNotification
        goes now; once Accepted it is queued like any other message."""
        if "trigger_boot_not_sent" in self.deviations:
            LOG.info("deviation: the triggered BootNotification is never sent")
            return
        if not self.accepted:
            self._boot_triggered.set()
            return
        self.enqueue("BootNotification", self.boot_payload, on_result=self._boot_answered)

    def _boot_answered(self, answer: dict[str, Any]) -> None:
        """An accepted BootNotification sets the heartbeat interval, triggered or not."""
        interval = int(answer.get("interval", 0))
        if answer.get("status") == "Accepted" and interval > 0:
            self.nv.config.force("HeartbeatInterval", str(interval))
            self.configuration_changed("HeartbeatInterval")

    async def _heartbeat_loop(self) -> None:
        while True:
            interval = self.nv.config.get_int("HeartbeatInterval")
            if "heartbeat_interval_ignored" in self.deviations:
                interval = self.boot_interval
            self._hb_changed.clear()
            if interval <= 0:
                await self._hb_changed.wait()
                continue
            try:
                await asyncio.wait_for(self._hb_changed.wait(), interval)
            except TimeoutError:
                self.enqueue("Heartbeat", lambda: {})

    def _apply_offline_queue_deviations(self) -> None:
        outbox = self.nv.outbox
        if "offline_queue_drops_old" in self.deviations:
            age = float(self.cfg.virtual.deviation_options.get("queue_max_age_s", 3))
            dropped = outbox.drop_older_than(self.READINGS_ACTION, age)
            LOG.info("dropped %d queued %s older than %g s", dropped, self.READINGS_ACTION, age)
        if "offline_queue_out_of_order" in self.deviations:
            outbox.reverse(self.READINGS_ACTION)

    def enqueue(
        self, action: str, build: Any, *, transactional: bool = False, on_result: Any = None
    ) -> None:
        self.nv.outbox.put(OutMsg(action, build, transactional, on_result), self.online)
        if self.settings.repeat_statuses and action in STATUS_ACTIONS:
            self.nv.outbox.put(OutMsg(action, build, transactional), self.online)

    async def call_and_wait(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Queue a CALL behind what is already queued and wait for its answer."""
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()

        def done(answer: dict[str, Any]) -> None:
            if not future.done():
                future.set_result(answer)

        self.enqueue(action, lambda: payload, on_result=done)
        return await asyncio.wait_for(future, self.cfg.back_office.call_timeout_s * 2)

    @staticmethod
    def timestamp() -> str:
        return utc_now()

    # -- status ----------------------------------------------------------------------

    def operative(self, connector: int) -> bool:
        return connector not in self.nv.inoperative and 0 not in self.nv.inoperative

    def derive_status(self, connector: int) -> tuple[str, str, str | None]:
        """The OCPP status a connector is in now: availability, sessions, faults."""
        if self._shutting_down:
            return "Unavailable", "NoError", None
        if connector == 0:
            return ("Available" if 0 not in self.nv.inoperative else "Unavailable"), "NoError", None
        return self.charging.status_of(connector, not self.operative(connector))

    def refresh_status(self, report: bool = True) -> None:
        """Recompute every connector's status; report the ones that changed."""
        for cid, state in self.connectors.items():
            status, error, vendor = self.derive_status(cid)
            if (status, error) != (state.status, state.error_code):
                state.status, state.error_code, state.vendor_error = status, error, vendor
                LOG.info("connector %s: %s (%s)", cid, status, error)
                if report and self.online:
                    self.report_status(cid)

    def _status_payload(self, cid: int) -> dict[str, Any]:
        state = self.connectors[cid]
        payload: dict[str, Any] = {
            "connectorId": cid,
            "status": state.status,
            "errorCode": state.error_code,
            "timestamp": utc_now(),
        }
        if state.vendor_error:
            payload["vendorErrorCode"] = state.vendor_error[:50]
        return payload

    def report_status(self, cid: int) -> None:
        state = self.connectors[cid]
        state.reported = (state.status, state.error_code)
        payload = self._status_payload(cid)
        self.enqueue("StatusNotification", lambda: payload)

    def _report_all(self, everything: bool) -> None:
        """After boot: every connector; after a reconnect: only what changed meanwhile."""
        for cid, state in self.connectors.items():
            if cid == 0 and everything and "no_status_connector_0" in self.deviations:
                continue
            if everything or state.reported != (state.status, state.error_code):
                self.report_status(cid)

    # -- operations the back office asks for ------------------------------------------

    def get_configuration(self, keys: list[str] | None) -> tuple[list[dict[str, Any]], list[str]]:
        from ocpp.exceptions import OccurenceConstraintViolationError

        if keys and len(keys) > self.nv.config.max_keys:
            raise OccurenceConstraintViolationError(
                description=f"at most {self.nv.config.max_keys} keys per request"
            )
        hide = {"HeartbeatInterval"} if "required_key_missing" in self.deviations else set()
        known, unknown = self.nv.config.entries(keys, hide=hide)
        if "unknown_key_dropped" in self.deviations:
            unknown = []
        return known, unknown

    def change_configuration(self, key: str, value: str) -> str:
        cfg = self.nv.config
        if "readonly_key_accepted" in self.deviations and key in cfg and cfg.is_readonly(key):
            return "Accepted"
        if "config_not_applied" in self.deviations and key == "HeartbeatInterval":
            return "Accepted" if value.isdigit() else "Rejected"
        if "unsupported_measurand_accepted" in self.deviations and key.endswith("SampledData"):
            cfg.force(key, value)
            return "Accepted"
        return cfg.change(key, value)

    def configuration_changed(self, key: str) -> None:
        if key == "HeartbeatInterval":
            self._hb_changed.set()

    def change_availability(self, connector_id: int, kind: str) -> str:
        if connector_id < 0 or connector_id > self.n_connectors:
            return "Rejected"
        targets = list(self.connectors) if connector_id == 0 else [connector_id]
        if any(self.charging.transaction(c) for c in targets if c > 0):
            if "availability_applied_during_session" in self.deviations:
                self._availability_pending = (connector_id, kind)  # the defect: applied now
                return "Scheduled"
            self.nv.scheduled[connector_id] = kind
            return "Scheduled"
        self._availability_pending = (connector_id, kind)
        return "Accepted"

    def availability_answered(self) -> None:
        """After the answer went out: apply an accepted availability change."""
        pending, self._availability_pending = self._availability_pending, None
        if pending is not None:
            self._apply_availability(*pending)

    def _apply_availability(self, connector_id: int, kind: str) -> None:
        if kind == "Inoperative":
            self.nv.inoperative.add(connector_id)
        else:
            self.nv.inoperative.discard(connector_id)
        self.refresh_status(report="no_availability_status" not in self.deviations)

    def request_reset(self, kind: str) -> None:
        LOG.info("%s reset requested", kind)
        self.charging.stop_all("HardReset" if kind == "Hard" else "SoftReset")
        if kind == "Soft" and "soft_reset_stop_after_boot" in self.deviations:
            self.nv.outbox.hold()  # the defect: StopTransaction waits for the reboot
        if kind == "Soft" or self.settings.unavailable_before_hard_reset:
            self._shutting_down = True  # tell the back office the connectors go away
            self.refresh_status()
        self._reset_kind = kind
        self._reset_event.set()

    # -- hooks for sessions ------------------------------------------------------------

    def charging_limit_a(self, connector: int, *, at_pilot: bool = False) -> float | None:
        """The smart-charging limit in A per phase now, or None when there is none.

        ``at_pilot``: the limit the pilot obeys (a deviation can make it differ from the
        one MeterValues report as Current.Offered)."""
        smart = self.extension(SmartCharging)
        if not isinstance(smart, SmartCharging):
            return None
        return smart.limit_a(connector, at_pilot=at_pilot)

    def charging_limit(self, connector: int) -> tuple[float, str] | None:
        """The smart-charging limit in force now as given, ``(limit, "W" or "A")``, or
        None when there is none (a DC power stage reads W as power, A as DC current)."""
        smart = self.extension(SmartCharging)
        if not isinstance(smart, SmartCharging) or connector <= 0:
            return None
        if not smart.supported:
            return None
        hit = smart.applied(connector)
        if hit.limit is None or hit.unit is None:
            return None
        return hit.limit, hit.unit

    def transaction_started(self, tx: Transaction) -> None:
        for ext in self.extensions:
            ext.transaction_started(tx)

    def transaction_ending(
        self, tx: Transaction, meter_stop: int, stamp: str
    ) -> list[dict[str, Any]]:
        """Extra sampled values for StopTransaction.transactionData (e.g. signed readings)."""
        extra: list[dict[str, Any]] = []
        for ext in self.extensions:
            extra += ext.transaction_ending(tx, meter_stop, stamp)
        return extra

    def extension(self, kind: type[StationExtension]) -> StationExtension | None:
        return next((e for e in self.extensions if isinstance(e, kind)), None)

    def transaction_ended(self, connector: int) -> None:
        """The session ended: its TxProfiles go; a Scheduled availability change applies."""
        smart = self.extension(SmartCharging)
        if isinstance(smart, SmartCharging):
            smart.transaction_ended(connector)
        for target in (connector, 0):
            kind = self.nv.scheduled.pop(target, None)
            if kind is not None:
                self._apply_availability(target, kind)
