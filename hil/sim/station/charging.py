"""Charging sessions of the virtual station: authorization, transactions, the pilot, faults.

The connector the EV simulator is wired to follows the bench physics (IEC 61851 pilot
states); the station offers current by PWM only while a transaction runs, closes the
contactor only while the EV asks for energy, and reports the OCPP status that follows
(OCPP 1.6 §4.9). Transaction messages go through the outbox, so they survive outages.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hil.sim.physics import current_to_duty
from hil.sim.station.meter import StationMeter
from hil.sim.station.power_stage import DcPowerStage, make_power_stage

if TYPE_CHECKING:
    from hil.sim.station.station import VirtualStation

LOG = logging.getLogger("hil.sim.station")

#: what the pilot "offers" on a DC station: its duty is a constant 5 % (IEC 61851-1 Annex A:
#: digital communication), read here as a nominal current that keeps the contactor logic
DC_PILOT_CURRENT_A = 6.0

#: OCPP errorCode and vendorErrorCode reported for each pilot fault.
FAULT_CODES = {
    "E": ("EVCommunicationError", "CP shorted to PE (state E)"),
    "diode": ("EVCommunicationError", "EV diode missing"),
    "F": ("EVCommunicationError", "pilot error (state F)"),
    # a DC station's insulation monitor (IEC 61851-23 cable check) found a fault
    "insulation": ("GroundFailure", "DC insulation fault (cable check)"),
}


@dataclass
class Transaction:
    connector: int
    id_tag: str
    meter_start: int
    started: str
    transaction_id: int | None = None
    sampler: asyncio.Task[None] | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # e.g. signed readings


@dataclass
class ConnectorSession:
    """What one connector is doing; volatile (a reboot starts afresh)."""

    id: int
    pending_tag: str | None = None  # authorized, waiting for the cable
    pending_timer: asyncio.TimerHandle | None = None
    transaction: Transaction | None = None
    finishing: bool = False
    fault: str | None = None
    latched: bool = False  # outputs frozen by a deviation


class Charging:
    def __init__(self, station: VirtualStation) -> None:
        self.station = station
        self.physics = station.physics
        self.deviations = station.deviations
        skew = 1.0
        if "energy_register_skew" in self.deviations:
            skew = 1.0 + float(station.cfg.virtual.deviation_options.get("energy_skew", 0.03))
        #: AC or DC, as ``dut.current_type`` says; the meter reads what it delivers
        self.power_stage = make_power_stage(station.cfg, self.physics)
        self.power_stage.limit_source = lambda: station.charging_limit(self.ev_connector)
        if isinstance(self.power_stage, DcPowerStage):
            self.power_stage.insulation_listener = self._on_insulation
            self.power_stage.ev_end_listener = self._on_ev_end
        self.meter = StationMeter(self.power_stage, skew=skew)
        self.ev_connector = 1
        self.sessions: dict[int, ConnectorSession] = {}
        self.cache: dict[str, str] = {}  # the authorization cache (non-volatile)
        self._last_pilot = self.physics.pilot_state()
        self.physics.subscribe(self._on_physics)

    # -- lifecycle -------------------------------------------------------------------

    def power_on(self) -> None:
        held = self.sessions.get(self.ev_connector)
        self.sessions = {c: ConnectorSession(c) for c in range(1, self.station.n_connectors + 1)}
        if held is not None and held.latched and self.physics.plugged:
            self.sessions[self.ev_connector].latched = True  # a held contactor survives boot
        self._last_pilot = self.physics.pilot_state()
        if self._last_pilot in ("E", "F"):
            self.sessions[self.ev_connector].fault = self.physics.fault or "F"
        self.apply_outputs()

    @property
    def cfg(self) -> Any:
        return self.station.nv.config

    def _session(self, connector: int) -> ConnectorSession | None:
        return self.sessions.get(connector)

    def plugged(self, connector: int) -> bool:
        return connector == self.ev_connector and self.physics.plugged

    def transaction(self, connector: int) -> Transaction | None:
        s = self._session(connector)
        return s.transaction if s else None

    def find_transaction(self, transaction_id: int) -> ConnectorSession | None:
        for s in self.sessions.values():
            if s.transaction and s.transaction.transaction_id == transaction_id:
                return s
        return None

    # -- status ----------------------------------------------------------------------

    def status_of(self, connector: int, inoperative: bool) -> tuple[str, str, str | None]:
        """(status, errorCode, vendorErrorCode) of a connector, per OCPP 1.6 §4.9."""
        s = self.sessions[connector]
        if s.fault and "no_faulted_status" not in self.deviations:
            code, vendor = FAULT_CODES[s.fault]
            return "Faulted", code, vendor
        if inoperative and "availability_applied_during_session" in self.deviations:
            return "Unavailable", "NoError", None  # the defect: a session does not hold it off
        if s.transaction is not None:
            if self.physics.pilot_state() in ("C", "D") and connector == self.ev_connector:
                return (
                    ("Charging" if self.physics.contactor_closed else "SuspendedEVSE"),
                    "NoError",
                    None,
                )
            return "SuspendedEV", "NoError", None
        if inoperative:
            return "Unavailable", "NoError", None
        if s.finishing:
            return "Finishing", "NoError", None
        if self.plugged(connector) or s.pending_tag is not None:
            return "Preparing", "NoError", None
        return "Available", "NoError", None

    # -- outputs: pilot and contactor --------------------------------------------------

    def offered_current_a(self, connector: int, *, at_pilot: bool = False) -> float:
        """Current offered (A per phase); ``at_pilot``: what the pilot's PWM offers."""
        s = self.sessions.get(connector)
        if s is None or s.transaction is None or s.fault is not None:
            return 0.0
        if isinstance(self.power_stage, DcPowerStage):
            # CCS: the pilot's 5 % duty only announces digital communication; the limit
            # travels in the DC session (the power stage), with no 6 A minimum
            return DC_PILOT_CURRENT_A
        limit = min(self.station.cfg.dut.max_current_a, self.physics.ev.cable_rating_a)
        smart = self.station.charging_limit_a(connector, at_pilot=at_pilot)
        if smart is not None:
            limit = min(limit, smart)
        return limit if limit >= 6.0 else 0.0

    def apply_outputs(self) -> None:
        s = self.sessions.get(self.ev_connector)
        if s is None or s.latched:
            return
        offered = self.offered_current_a(self.ev_connector, at_pilot=True)
        duty = current_to_duty(offered) if offered > 0 else None
        closed = duty is not None and self.physics.pilot_state() in ("C", "D")
        if self.physics.pilot_duty != duty:
            self.physics.set_pilot(duty)
        if self.physics.contactor_closed != closed:
            self.physics.set_contactor(closed)

    def power_lost(self) -> None:
        """The mains went: RAM is gone. Sessions, pending tags and running transactions
        vanish without a StopTransaction; pilot and contactor drop, whatever a deviation
        latched. The station is dead (no sessions) until :meth:`power_on`."""
        for s in self.sessions.values():
            self._clear_pending(s)
            if s.transaction is not None:
                LOG.info("transaction on connector %s lost with the power", s.id)
                if s.transaction.sampler is not None:
                    s.transaction.sampler.cancel()
        self.sessions = {}
        self.physics.set_pilot(None)
        self.physics.set_contactor(False)

    def outputs_off(self) -> None:
        """Power is cut (reboot): no PWM, contactor open — unless a deviation keeps it."""
        s = self.sessions.get(self.ev_connector)
        if s is not None and s.latched:
            return
        self.physics.set_pilot(None)
        self.physics.set_contactor(False)

    def _changed(self) -> None:
        self.apply_outputs()
        self.station.refresh_status()

    # -- the EV side -------------------------------------------------------------------

    def _on_physics(self) -> None:
        state = self.physics.pilot_state()
        prev, self._last_pilot = self._last_pilot, state
        if state == prev or not self.sessions:
            return
        s = self.sessions[self.ev_connector]
        if state in ("E", "F"):
            s.fault = self.physics.fault or "F"
            LOG.info("pilot fault %s on connector %s", s.fault, s.id)
        elif prev in ("E", "F"):
            s.fault = None
            LOG.info("pilot fault cleared on connector %s", s.id)
        if state == "A":
            s.finishing = False
            s.latched = False
            if s.transaction is not None and self.cfg.get_bool("StopTransactionOnEVSideDisconnect"):
                self.stop_transaction(s, "EVDisconnected")
        elif prev == "A" and s.pending_tag is not None:
            tag = s.pending_tag
            self._clear_pending(s)
            self.start_transaction(s, tag)
            return
        self._changed()

    def _on_ev_end(self) -> None:
        """The EV ended its charging session, still plugged: the transaction stays
        (SuspendedEV, the pilot is back in B) unless the station ends it then."""
        s = self.sessions.get(self.ev_connector)
        if s is None or s.transaction is None:
            return
        if self.station.settings.stop_transaction_when_ev_ends:
            self.stop_transaction(s, self.station.EV_STOP_REASON)

    def _on_insulation(self, found: bool) -> None:
        """The DC insulation monitor found a fault, or a later cable check passed."""
        s = self.sessions.get(self.ev_connector)
        if s is None or "insulation_fault_not_reported" in self.deviations:
            return
        if found:
            s.fault = "insulation"
        elif s.fault == "insulation":
            s.fault = None
        self._changed()

    # -- authorization -----------------------------------------------------------------

    def has_cache(self) -> bool:
        return "no_authorization_cache" not in self.deviations

    def clear_cache(self) -> str:
        """ClearCache (1.6 §5.4, 2.0.1 C11): forget every cached tag; the answer's status
        (Rejected by a station without a cache)."""
        if not self.has_cache():
            return "Rejected"
        LOG.info("authorization cache cleared (%d entries)", len(self.cache))
        if "cache_not_cleared" not in self.deviations:  # the defect: Accepted, kept
            self.cache.clear()
        return "Accepted"

    def _cache_enabled(self) -> bool:
        return self.has_cache() and self.cfg.get_bool("AuthorizationCacheEnabled")

    def remember(self, tag: str, info: dict[str, Any] | None) -> None:
        if info and self._cache_enabled():
            self.cache[tag] = info.get("status", "Invalid")

    async def authorize(self, tag: str) -> str:
        """Authorization as OCPP 1.6 §3.5 describes: cache first when allowed, else ask."""
        cached = self.cache.get(tag) if self._cache_enabled() else None
        if self.station.online:
            if cached == "Accepted" and self.cfg.get_bool("LocalPreAuthorize"):
                LOG.info("tag %s accepted from the authorization cache", tag)
                return "Accepted"
            try:
                answer = await self.station.call_and_wait("Authorize", {"idTag": tag})
            except TimeoutError:
                answer = None
            if answer is not None:
                info = answer.get("idTagInfo", {})
                self.remember(tag, info)
                return info.get("status", "Invalid")
        if cached == "Accepted" and self.cfg.get_bool("LocalAuthorizeOffline"):
            return "Accepted"
        if self.cfg.get_bool("AllowOfflineTxForUnknownId"):
            return "Accepted"
        return "Invalid"

    def present_tag(self, tag: str) -> None:
        """A card at the reader (called by the virtual RFID reader)."""
        asyncio.get_running_loop().create_task(self._present_tag(tag))

    async def _present_tag(self, tag: str) -> None:
        if not self.sessions:
            LOG.info("tag %s ignored: the station has no power", tag)
            return
        for s in self.sessions.values():
            if s.transaction is not None and s.transaction.id_tag == tag:
                LOG.info("tag %s stops its transaction on connector %s", tag, s.id)
                self.stop_transaction(s, "Local", id_tag=tag)
                return
        s = self.sessions[self.ev_connector]
        if s.transaction is not None or s.finishing or s.fault or not self.station.operative(s.id):
            LOG.info("tag %s ignored: connector %s is busy or unavailable", tag, s.id)
            return
        status = await self.authorize(tag)
        LOG.info("tag %s: %s", tag, status)
        if status != "Accepted" and "charges_when_invalid" not in self.deviations:
            return
        self.begin_or_wait_for_cable(s, tag)

    def begin_or_wait_for_cable(self, s: ConnectorSession, tag: str) -> None:
        if self.plugged(s.id):
            self.start_transaction(s, tag)
            return
        self._clear_pending(s)
        s.pending_tag = tag
        timeout = self.cfg.get_int("ConnectionTimeOut")
        if "connection_timeout_early" in self.deviations:
            timeout = max(1, timeout // 5)  # the defect: the tag lapses far too soon
        if "connection_timeout_ignored" not in self.deviations and timeout > 0:
            s.pending_timer = asyncio.get_running_loop().call_later(
                timeout, self._connection_timed_out, s
            )
        self._changed()

    def _connection_timed_out(self, s: ConnectorSession) -> None:
        LOG.info("no cable within ConnectionTimeOut on connector %s", s.id)
        s.pending_tag = None
        s.pending_timer = None
        self._changed()

    def _clear_pending(self, s: ConnectorSession) -> None:
        if s.pending_timer is not None:
            s.pending_timer.cancel()
        s.pending_timer = None
        s.pending_tag = None

    # -- transactions ------------------------------------------------------------------

    def start_transaction(self, s: ConnectorSession, tag: str) -> None:
        tx = Transaction(s.id, tag, round(self.meter.register_wh()), self.station.timestamp())
        s.transaction = tx
        s.finishing = False
        payload = {
            "connectorId": s.id,
            "idTag": tag,
            "meterStart": tx.meter_start,
            "timestamp": tx.started,
        }

        def started(answer: dict[str, Any]) -> None:
            tx.transaction_id = answer.get("transactionId")
            info = answer.get("idTagInfo")
            if info is None:
                return  # nothing said about the tag (a 2.0.1 answer without idTokenInfo)
            self.remember(tag, info)
            if (
                info.get("status") != "Accepted"
                and s.transaction is tx
                and self.cfg.get_bool("StopTransactionOnInvalidId")
            ):
                self.stop_transaction(s, "DeAuthorized")

        self.station.enqueue(
            "StartTransaction", lambda: payload, transactional=True, on_result=started
        )
        self.station.transaction_started(tx)
        tx.sampler = asyncio.get_running_loop().create_task(self._sample(s, tx))
        LOG.info(
            "transaction started on connector %s for %s, meterStart %s", s.id, tag, tx.meter_start
        )
        self._changed()

    def meter_values(
        self, s: ConnectorSession, tx: Transaction | None, context: str, measurands: list[str]
    ) -> dict[str, Any]:
        values = self.meter.sampled_values(measurands, context, self.offered_current_a(s.id))
        return {"timestamp": self.station.timestamp(), "sampledValue": values}

    async def _sample(self, s: ConnectorSession, tx: Transaction) -> None:
        """MeterValues every MeterValueSampleInterval while the transaction runs."""
        while True:
            interval = self.cfg.get_int("MeterValueSampleInterval")
            if interval <= 0:
                await asyncio.sleep(1)
                continue
            await asyncio.sleep(interval)
            if s.transaction is not tx:
                return
            mv = self.meter_values(
                s, tx, "Sample.Periodic", self.cfg.get_list("MeterValuesSampledData")
            )
            self.send_meter_values(s.id, tx, [mv])

    def send_meter_values(
        self, connector: int, tx: Transaction | None, meter_value: list[dict[str, Any]]
    ) -> None:
        def build() -> dict[str, Any]:
            payload: dict[str, Any] = {"connectorId": connector, "meterValue": meter_value}
            if tx is not None and tx.transaction_id is not None:
                payload["transactionId"] = tx.transaction_id
            return payload

        self.station.enqueue("MeterValues", build, transactional=tx is not None)

    def stop_transaction(self, s: ConnectorSession, reason: str, id_tag: str | None = None) -> None:
        tx = s.transaction
        if tx is None:
            return
        s.transaction = None
        if tx.sampler is not None:
            tx.sampler.cancel()
        meter_stop = round(self.meter.register_wh())
        stamp = self.station.timestamp()
        reason = self._reported_reason(reason)
        data = self.meter_values(s, tx, "Transaction.End", self.cfg.get_list("StopTxnSampledData"))
        extra = self.station.transaction_ending(tx, meter_stop, stamp)

        def build() -> dict[str, Any]:
            payload: dict[str, Any] = {
                "meterStop": meter_stop,
                "timestamp": stamp,
                "transactionId": tx.transaction_id if tx.transaction_id is not None else -1,
            }
            if reason != "Local":
                payload["reason"] = reason
            if id_tag is not None:
                payload["idTag"] = id_tag
            values = data["sampledValue"] + extra
            if values:
                payload["transactionData"] = [{"timestamp": stamp, "sampledValue": values}]
            return payload

        if self.station.settings.finishing_before_stop and self.plugged(s.id):
            s.finishing = True  # allowed: OCPP 1.6 fixes no order between the two
            self.station.refresh_status()
        if not (
            reason in ("HardReset", "SoftReset", "Other") and "reset_stop_lost" in self.deviations
        ):
            self.station.enqueue("StopTransaction", build, transactional=True)
            if "reset_stop_duplicated" in self.deviations and reason in (
                "HardReset",
                "SoftReset",
                "Other",
            ):
                self.station.enqueue("StopTransaction", build, transactional=True)
        LOG.info("transaction on connector %s stopped (%s), meterStop %s", s.id, reason, meter_stop)
        if self.plugged(s.id) and "available_without_finishing" not in self.deviations:
            s.finishing = True
        if "power_after_stop" in self.deviations and reason not in ("HardReset", "SoftReset"):
            s.latched = True
        self.station.transaction_ended(s.id)
        self._changed()

    def _reported_reason(self, reason: str) -> str:
        if reason == "Remote" and "remote_stop_wrong_reason" in self.deviations:
            return "Local"
        if reason == "UnlockCommand" and "unlock_wrong_reason" in self.deviations:
            return "Local"
        if reason in ("HardReset", "SoftReset") and "reset_wrong_reason" in self.deviations:
            return "Other"
        return reason

    def stop_all(self, reason: str) -> None:
        for s in self.sessions.values():
            self._clear_pending(s)
            if "reset_keeps_power" in self.deviations and s.id == self.ev_connector:
                s.latched = True  # the contactor stays as it is, through the reboot
            self.stop_transaction(s, reason)

    # -- back-office requests --------------------------------------------------------

    def can_remote_start(self, connector: int | None) -> bool:
        s = self.sessions.get(connector or self.ev_connector)
        return bool(
            s
            and s.transaction is None
            and not s.fault
            and not s.finishing
            and s.pending_tag is None
            and self.station.operative(s.id)
        )

    async def remote_start(self, tag: str, connector: int | None) -> None:
        s = self.sessions[connector or self.ev_connector]
        if self.cfg.get_bool("AuthorizeRemoteTxRequests"):
            status = await self.authorize(tag)
            if status != "Accepted":
                LOG.info("remote start for %s not authorized: %s", tag, status)
                return
        self.begin_or_wait_for_cable(s, tag)

    def can_remote_stop(self, transaction_id: int) -> bool:
        return self.find_transaction(transaction_id) is not None

    def remote_stop(self, transaction_id: int) -> None:
        s = self.find_transaction(transaction_id)
        if s is None or "remote_stop_ignored" in self.deviations:
            return
        self.stop_transaction(s, "Remote")

    def unlock_status(self, connector: int) -> str:
        if self.station.cfg.dut.cable == "tethered":
            return "NotSupported"
        if connector not in self.sessions:
            return "NotSupported"
        return "Unlocked"

    def unlock(self, connector: int) -> None:
        s = self.sessions.get(connector)
        if s is not None and s.transaction is not None:
            self.stop_transaction(s, "UnlockCommand")

    async def close(self) -> None:
        for s in self.sessions.values():
            self._clear_pending(s)
            if s.transaction is not None and s.transaction.sampler is not None:
                s.transaction.sampler.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await s.transaction.sampler
