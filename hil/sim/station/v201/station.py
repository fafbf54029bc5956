"""The virtual station speaking OCPP 2.0.1: the same station model, a 2.0.1 front-end.

Connectors, availability, power, the outbox and the configuration in flash are the 1.6
station's (:class:`~hil.sim.station.station.VirtualStation`); this front-end changes what
goes on the wire as OCPP 2.0.1 Part 2 describes it:

- B01–B04: BootNotification with ``chargingStation`` and ``reason`` (PowerUp after power
  came on, RemoteReset after a reset the back office asked for, FirmwareUpdate after an
  installation, Triggered when a TriggerMessage asks), nothing unasked until Accepted, the
  Pending/Rejected interval honoured; then StatusNotification per EVSE and connector.
- G02: Heartbeat at OCPPCommCtrlr.HeartbeatInterval (the interval of the boot answer).
- G01/G03/G04: connector statuses Available / Occupied / Reserved / Unavailable / Faulted;
  ChangeAvailability on the station, an EVSE or a connector (Scheduled during a session).
- B05–B08: the device model (:mod:`hil.sim.station.v201.device_model`), GetVariables,
  SetVariables, GetBaseReport → NotifyReport pages; a DC station's EVSEs, connectors and
  ISO15118Ctrlr as :mod:`hil.sim.station.v201.dc_device_model` says.
- K15: a DC station sends NotifyEVChargingNeeds when the EV's session reaches
  ChargeParameterDiscovery (:mod:`hil.sim.station.v201.ev_charging_needs`).

Each EVSE has one connector (connectorId 1); EVSE *n* is the station model's connector *n*.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

from hil.lab.config import LabConfig
from hil.sim.physics import BenchPhysics
from hil.sim.station.diagnostics import DiagnosticsUploader
from hil.sim.station.eichrecht import EichrechtMeter
from hil.sim.station.firmware import FirmwareUpdater
from hil.sim.station.maintenance import cannot_send
from hil.sim.station.smart_charging import SmartCharging
from hil.sim.station.station import POWER_LOSS, Nvram, VirtualStation, utc_now
from hil.sim.station.v201 import ev_charging_needs, transactions
from hil.sim.station.v201.dc_device_model import add_iso15118, evse_options
from hil.sim.station.v201.device_model import (
    READ_ONLY,
    ComponentKey,
    DeviceModel,
    Variable,
    add_smart_charging,
    build_device_model,
)
from hil.sim.station.v201.link import StationLink201
from hil.sim.station.v201.transactions import TransactionEvents, Translated
from hil.verify.charging_profiles.v201 import ProfileStore201

LOG = logging.getLogger("hil.sim.station")

#: The 1.6 station model's connector statuses as 2.0.1 ConnectorStatusEnumType.
STATUS_201 = {
    "Available": "Available",
    "Preparing": "Occupied",
    "Charging": "Occupied",
    "SuspendedEV": "Occupied",
    "SuspendedEVSE": "Occupied",
    "Finishing": "Occupied",
    "Reserved": "Reserved",
    "Unavailable": "Unavailable",
    "Faulted": "Faulted",
}
#: The 1.6 station model's statuses during a transaction as 2.0.1 ChargingStateEnumType
#: (E02); a fault stops the energy: the EVSE suspends.
CHARGING_STATE_201 = {
    "Charging": "Charging",
    "SuspendedEV": "SuspendedEV",
    "SuspendedEVSE": "SuspendedEVSE",
    "Faulted": "SuspendedEVSE",
}
#: Why the station booted, by what ended its previous run (B01 reason).
BOOT_REASON = {
    None: "PowerUp",
    POWER_LOSS: "PowerUp",
    "Hard": "RemoteReset",
    "Soft": "RemoteReset",
    "Immediate": "RemoteReset",
    "OnIdle": "RemoteReset",
    "Scheduled": "ScheduledReset",
    "Firmware": "FirmwareUpdate",
}
#: What this front-end can put on the wire so far; 1.6-shaped messages of the station model
#: (sessions, firmware, diagnostics) are not translated yet and are dropped with a warning.
ACTIONS_201 = frozenset(
    {
        "BootNotification",
        "Heartbeat",
        "StatusNotification",
        "NotifyReport",
        "LogStatusNotification",
        "FirmwareStatusNotification",
        "Authorize",
        "TransactionEvent",
        "MeterValues",
        "NotifyEvent",
        "NotifyEVChargingNeeds",  # DC stations (K15: ev_charging_needs.py)
    }
)
#: 1.6 diagnostics statuses as 2.0.1 UploadLogStatusEnumType (N01)
LOG_STATUS_201 = {"Idle": "Idle", "Uploading": "Uploading", "Uploaded": "Uploaded"}
LOG_STATUS_201["UploadFailed"] = "UploadFailure"


def _transfer_status(
    action: str, statuses: dict[str, str], request_id: str, defect: str
) -> Callable[[VirtualStation201, Any, Any], Translated]:
    """A translation of the station model's transfer status message into 2.0.1 ``action``:
    the status in 2.0.1's words and the request id of the request that started the transfer
    (the station's attribute ``request_id``; N01, L01). Deviation ``defect`` leaves it out."""

    def translate(station: VirtualStation201, build: Any, on_result: Any) -> Translated:
        def built() -> dict[str, Any]:
            status = build()["status"]
            payload: dict[str, Any] = {"status": statuses.get(status, status)}
            rid = getattr(station, request_id)
            if rid is not None and defect not in station.deviations:
                payload["requestId"] = rid
            return payload

        return action, built, on_result

    return translate


#: The station model's 1.6 messages this front-end translates, by action.
TRANSLATIONS = {
    "DiagnosticsStatusNotification": _transfer_status(
        "LogStatusNotification", LOG_STATUS_201, "log_request_id", "log_status_without_request_id"
    ),
    # the station model's firmware statuses are 2.0.1's too
    "FirmwareStatusNotification": _transfer_status(
        "FirmwareStatusNotification",
        {},
        "firmware_request_id",
        "firmware_status_without_request_id",
    ),
    "Authorize": transactions.authorize,
    "StartTransaction": transactions.start_transaction,
    "MeterValues": transactions.meter_values,
    "StopTransaction": transactions.stop_transaction,
}

#: Messages a 2.0.1 TriggerMessage can ask this station for (F06); TransactionEvent and
#: the certificate messages are NotImplemented here.
TRIGGERABLE_201 = frozenset(
    {
        "BootNotification",
        "FirmwareStatusNotification",
        "Heartbeat",
        "LogStatusNotification",
        "MeterValues",
        "StatusNotification",
    }
)
#: The required variable the ``report_missing_required_variable`` deviation leaves out.
MISSING_VARIABLE = "TxCtrlr.EVConnectionTimeOut"


@dataclass
class Nvram201(Nvram):
    """Flash of a 2.0.1 station: the 1.6 station model's, plus the device model."""

    device_model: DeviceModel | None = None
    tx_events: TransactionEvents = field(default_factory=TransactionEvents)


class VirtualStation201(VirtualStation):
    SUBPROTOCOL = "ocpp2.0.1"
    READINGS_ACTION = "TransactionEvent"
    EV_STOP_REASON = "StoppedByEV"

    def __init__(
        self,
        cfg: LabConfig,
        physics: BenchPhysics,
        csms_url: str,
        connect_options: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(cfg, physics, csms_url, connect_options)
        # diagnostics uploads (GetLog, LogStatusNotification), firmware updates (UpdateFirmware
        # L01), smart charging (K01, K08, K10: v201/smart_charging.py) and the Eichrecht
        # meter's signed readings (signedMeterValue) are translated
        self.extensions = [
            e
            for e in self.extensions
            if isinstance(e, DiagnosticsUploader | FirmwareUpdater | SmartCharging | EichrechtMeter)
        ]
        #: the requestId of the UpdateFirmware whose update runs (L01)
        self.firmware_request_id: int | None = None
        #: the requestId of the GetLog whose upload runs (N01: LogStatusNotification says it)
        self.log_request_id: int | None = None
        nv = {f.name: getattr(self.nv, f.name) for f in fields(self.nv)}
        nv["device_model"] = build_device_model(
            self.nv.config,
            evses=self.n_connectors,
            availability=self.availability_state,
            vendor=cfg.dut.vendor,
            model=cfg.dut.model,
            serial=cfg.dut.serial,
            firmware=lambda: self.nv.firmware,
            security_profile=cfg.back_office.security.profile,
            **evse_options(cfg),  # AC or DC: phases, connector type, EVSE power
        )
        if cfg.dut.current_type == "DC":  # a CCS station speaks ISO 15118 / DIN 70121
            add_iso15118(
                nv["device_model"],
                evses=self.n_connectors,
                station_id=cfg.dut.station_id,
                organization=cfg.dut.vendor,
            )
        # K01: 2.0.1's rules for accepting and replacing profiles
        nv["charging_profiles"] = ProfileStore201(self.n_connectors)
        if cfg.dut.capabilities.smart_charging:
            add_smart_charging(nv["device_model"], profiles=lambda: len(self.nv.charging_profiles))
        self.nv: Nvram201 = Nvram201(**nv)
        start_point = self.device_model.find(ComponentKey("TxCtrlr"), "TxStartPoint")
        start_point.attributes["Actual"].value = self.settings.tx_start_point
        self.boot_reason = "PowerUp"
        #: B12: a Reset OnIdle came during a transaction; reboot when the last one ends
        self._reset_when_idle = False
        #: F01: EVSE -> the remoteStartId of the RequestStartTransaction waiting to start
        self.remote_start_ids: dict[int, int] = {}
        #: E02: EVSE -> the chargingState its transaction last reported
        self._charging_states: dict[int, str] = {}
        #: E01 TxStartPoint EVConnected: EVSE -> the transaction the plug opened (until it
        #: ends), and whether an EV was plugged in at the last status change
        self.plug_transactions: dict[int, str] = {}
        self._plugged: dict[int, bool] = {}
        self._event_id = 0
        self._pending_sends: set[asyncio.Task[None]] = set()
        # K15: a DC station tells the CSMS the EV's needs at ChargeParameterDiscovery
        ev_charging_needs.attach(self)

    @property
    def tx_events(self) -> TransactionEvents:
        return self.nv.tx_events

    @property
    def device_model(self) -> DeviceModel:
        assert self.nv.device_model is not None
        return self.nv.device_model

    def _make_link(self, ws: Any) -> StationLink201:  # type: ignore[override]
        return StationLink201(self, ws, response_timeout=self.cfg.back_office.call_timeout_s)

    def _power_off(self, kind: str | None) -> None:
        updater = self.extension(FirmwareUpdater)
        if isinstance(updater, FirmwareUpdater) and updater.installed_pending:
            kind = "Firmware"  # the reboot into a new image (B01 reason FirmwareUpdate)
        self.boot_reason = BOOT_REASON.get(kind, "Unknown")
        super()._power_off(kind)

    # -- B11/B12 reset ----------------------------------------------------------------------

    def _transaction_running(self) -> bool:
        return any(
            self.charging.transaction(c) is not None for c in range(1, self.n_connectors + 1)
        )

    def reset_answer_201(self, kind: str, evse_id: int | None) -> str:
        """B11: idle, either type is Accepted and the station reboots. B12: during a
        transaction OnIdle is Scheduled (the reboot waits for its end), Immediate is
        Accepted and ends it. A reset of one EVSE is not supported here (Rejected, which
        B11 allows)."""
        if evse_id is not None:
            return "Rejected"
        if kind == "OnIdle" and self._transaction_running():
            return "Scheduled"
        return "Accepted"

    def reset_answered_201(self, kind: str, evse_id: int | None) -> None:
        if evse_id is not None:
            return
        if kind == "OnIdle" and self._transaction_running():
            if "reset_onidle_during_transaction" in self.deviations:
                self.request_reset("Soft")  # the defect: Scheduled, but it resets at once
                return
            self._reset_when_idle = True
            return
        # the 1.6 model's reboot: Immediate ends transactions at once, OnIdle when idle is
        # the graceful one
        self.request_reset("Hard" if kind == "Immediate" else "Soft")

    def transaction_ended(self, connector: int) -> None:
        super().transaction_ended(connector)
        if self._reset_when_idle and not self._transaction_running():
            self._reset_when_idle = False
            self.request_reset("Soft")

    # -- F05 UnlockConnector --------------------------------------------------------------

    def unlock_answer_201(self, evse_id: int, connector_id: int) -> str:
        """F05: an unknown EVSE or connector is UnknownConnector; while an authorized
        transaction runs the cable stays locked (OngoingAuthorizedTransaction); a tethered
        cable has no lock to open (UnlockFailed)."""
        if not 1 <= evse_id <= self.n_connectors or connector_id != 1:
            return "UnknownConnector"
        if (
            self.charging.transaction(evse_id) is not None
            and "unlock_during_transaction" not in self.deviations
        ):
            return "OngoingAuthorizedTransaction"
        if self.cfg.dut.cable == "tethered":
            return "UnlockFailed"
        return "Unlocked"

    # -- F06 TriggerMessage ---------------------------------------------------------------

    def trigger_answer_201(self, message: Any, evse: dict[str, Any] | None) -> str:
        """NotImplemented for what this station cannot send, Rejected for an EVSE it does
        not have and for BootNotification once registered (F06.FR.17), else Accepted."""
        if cannot_send(self, message, TRIGGERABLE_201, "LogStatusNotification"):
            return "NotImplemented"
        if evse is not None and not 1 <= int(evse.get("id", 0)) <= self.n_connectors:
            return "Rejected"
        if message == "BootNotification" and self.accepted:
            return "Rejected"
        return "Accepted"

    def send_triggered_201(self, message: str, evse: dict[str, Any] | None) -> None:
        """The message a TriggerMessage asked for, after its Accepted answer went out."""
        LOG.info("sending triggered %s (evse %s)", message, evse)
        targets = [int(evse["id"])] if evse is not None else list(range(1, self.n_connectors + 1))
        if message == "BootNotification":
            self.boot_reason = "Triggered"
            self.boot_triggered()
        elif message == "Heartbeat":
            self.enqueue("Heartbeat", lambda: {})
        elif message == "StatusNotification":
            for cid in targets:
                self.report_status(cid, force=True)
        elif message == "MeterValues":
            for cid in targets:
                payload = self._meter_values_201(cid, "Trigger")
                VirtualStation.enqueue(self, "MeterValues", lambda p=payload: p)
        elif message == "FirmwareStatusNotification":
            updater = self.extension(FirmwareUpdater)
            status = updater.status if isinstance(updater, FirmwareUpdater) else "Idle"
            fw: dict[str, Any] = {"status": status}
            if status != "Idle" and self.firmware_request_id is not None:
                fw["requestId"] = self.firmware_request_id  # L01: the update it reports
            VirtualStation.enqueue(self, message, lambda: fw)
        elif message == "LogStatusNotification":
            uploader = self.extension(DiagnosticsUploader)
            busy = isinstance(uploader, DiagnosticsUploader) and uploader.status == "Uploading"
            payload: dict[str, Any] = {"status": "Uploading" if busy else "Idle"}
            if busy and self.log_request_id is not None:
                payload["requestId"] = self.log_request_id  # N01: the upload it reports
            VirtualStation.enqueue(self, message, lambda: payload)

    def _meter_values_201(self, cid: int, context: str) -> dict[str, Any]:
        """MeterValuesRequest of EVSE ``cid``: the station model's readings as 2.0.1
        SampledValueType (a number, unitOfMeasure)."""
        charging = self.charging
        measurands = charging.cfg.get_list("MeterValuesSampledData") or [
            "Energy.Active.Import.Register"
        ]
        session = charging.sessions[cid]
        reading = charging.meter_values(session, session.transaction, context, measurands)
        values = transactions.sampled_values_201(reading["sampledValue"])
        return {
            "evseId": cid,
            "meterValue": [{"timestamp": reading["timestamp"], "sampledValue": values}],
        }

    # -- B01-B04 boot ----------------------------------------------------------------------

    def boot_payload(self, reason: str | None = None) -> dict[str, Any]:
        dut = self.cfg.dut
        station: dict[str, Any] = {
            "model": dut.model,
            "vendorName": dut.vendor,
            "firmwareVersion": self.nv.firmware,
        }
        if dut.serial:
            station["serialNumber"] = dut.serial
        return {"chargingStation": station, "reason": reason or self.boot_reason}

    async def _register(self, link: Any) -> None:
        await super()._register(link)
        self.boot_reason = "PowerUp"  # until the next reboot says otherwise

    # -- G01 status --------------------------------------------------------------------------

    def status_201(self, cid: int) -> str:
        """G01: Occupied means an EV is plugged in; a tag waiting for its cable (the model's
        Preparing without a plug) leaves the connector Available."""
        state = self.connectors.get(cid)
        if state is None:
            return "Available"
        if state.status == "Preparing" and not self.charging.plugged(cid):
            return "Available"
        return STATUS_201.get(state.status, "Unavailable")

    def availability_state(self, evse: int, connector: int | None) -> str:
        """The AvailabilityState variable of the station (0), an EVSE or its connector."""
        if evse == 0:
            return "Unavailable" if 0 in self.nv.inoperative else "Available"
        return self.status_201(evse)

    def _status_payload(self, cid: int) -> dict[str, Any]:
        return {
            "timestamp": utc_now(),
            "connectorStatus": self.status_201(cid),
            "evseId": cid,
            "connectorId": 1,
        }

    def report_status(self, cid: int, force: bool = False) -> None:
        """StatusNotification for EVSE ``cid``'s connector if its 2.0.1 status changed; a
        change of a running transaction's charging state is a TransactionEvent (E02
        ChargingStateChanged), a fault a NotifyEvent (N07)."""
        if cid == 0:
            return  # 2.0.1 has no connector 0; the station's state shows on every connector
        state = self.connectors[cid]
        self._plug_changed(cid)
        self._charging_state_changed(cid, state.status)
        reported = (self.status_201(cid), "")
        if state.reported == reported and not force:
            return  # e.g. Charging -> SuspendedEV: Occupied both
        was_faulted = state.reported is not None and state.reported[0] == "Faulted"
        state.reported = reported
        payload = self._status_payload(cid)
        self.enqueue("StatusNotification", lambda: payload)
        if (reported[0] == "Faulted") != was_faulted and self.settings.notify_problems:
            self._notify_problem(cid, reported[0] == "Faulted")

    def _plug_changed(self, cid: int) -> None:
        """TxStartPoint EVConnected (E01): the plug starts a transaction (no idToken yet),
        the unplug ends one that no authorization took over (EVDisconnected)."""
        plugged = self.charging.plugged(cid)
        was, self._plugged[cid] = self._plugged.get(cid, False), plugged
        start_points = self.device_model.actual("TxCtrlr", "TxStartPoint").split(",")
        if "EVConnected" not in start_points or plugged == was:
            return
        if plugged and self.charging.transaction(cid) is None and cid not in self.plug_transactions:
            transaction_id = self.tx_events.new_id()
            self.plug_transactions[cid] = transaction_id
            self._charging_states[cid] = "EVConnected"
            event = self.tx_events.event(
                self,
                "Started",
                transaction_id,
                "CablePluggedIn",
                utc_now(),
                chargingState="EVConnected",
            )
            event["evse"] = {"id": cid, "connectorId": 1}
            event["meterValue"] = [transactions.register_reading(self, "Transaction.Begin")]
            self.enqueue("TransactionEvent", lambda: event)
        elif not plugged and cid in self.plug_transactions:
            transaction_id = self.plug_transactions.pop(cid)
            event = self.tx_events.event(
                self,
                "Ended",
                transaction_id,
                "EVCommunicationLost",
                utc_now(),
                stoppedReason="EVDisconnected",
            )
            event["meterValue"] = [transactions.register_reading(self, "Transaction.End")]
            self.enqueue("TransactionEvent", lambda: event)

    def charging_started(self, cid: int) -> str:
        """The chargingState of a transaction as it starts (E02): EVConnected; the model's
        next status change says whether energy flows."""
        self._charging_states[cid] = "EVConnected"
        return "EVConnected"

    def charging_state(self, cid: int) -> str:
        """The chargingState a TransactionEvent of EVSE ``cid`` says now (E02)."""
        return self._charging_states.get(cid, "Charging")

    def _charging_state_changed(self, cid: int, status: str) -> None:
        tx = self.charging.transaction(cid)
        if tx is None or tx.transaction_id is None:
            self._charging_states.pop(cid, None)
            return
        new = CHARGING_STATE_201.get(status)
        if new is None or new == self.charging_state(cid):
            return
        self._charging_states[cid] = new
        event = self.tx_events.event(
            self,
            "Updated",
            str(tx.transaction_id),
            "ChargingStateChanged",
            utc_now(),
            chargingState=new,
        )
        self.enqueue("TransactionEvent", lambda: event)

    def _notify_problem(self, cid: int, problem: bool) -> None:
        """N07: the connector's Problem variable, as a hard-wired notification, with the
        fault's technical code (1.6's errorCode and vendor text)."""
        state = self.connectors[cid]
        self._event_id += 1
        data: dict[str, Any] = {
            "eventId": self._event_id,
            "timestamp": utc_now(),
            "trigger": "Delta",
            "actualValue": "true" if problem else "false",
            "eventNotificationType": "HardWiredNotification",
            "component": {"name": "Connector", "evse": {"id": cid, "connectorId": 1}},
            "variable": {"name": "Problem"},
        }
        if problem:
            data["techCode"] = state.error_code
            if state.vendor_error:
                data["techInfo"] = state.vendor_error[:500]
        else:
            data["cleared"] = True
        payload = {"generatedAt": utc_now(), "seqNo": 0, "eventData": [data]}
        self.enqueue("NotifyEvent", lambda: payload)

    def _report_all(self, everything: bool) -> None:
        for cid in self.connectors:
            if cid > 0:
                self.report_status(cid, force=everything)

    def enqueue(
        self, action: str, build: Any, *, transactional: bool = False, on_result: Any = None
    ) -> None:
        translate = TRANSLATIONS.get(action)
        if translate is not None:  # a 1.6-shaped message of the station model
            action, build, on_result = translate(self, build, on_result)
        if action not in ACTIONS_201:
            LOG.warning("2.0.1 front-end: %s is not translated yet; not sent", action)
            return
        super().enqueue(action, build, transactional=transactional, on_result=on_result)

    # -- G03/G04 availability ----------------------------------------------------------------

    def change_availability_201(
        self, operational_status: str, evse: int | None, connector: int | None
    ) -> str:
        if evse is None or evse == 0:
            if connector is not None:
                return "Rejected"
            return self.change_availability(0, operational_status)
        if evse > self.n_connectors or connector not in (None, 1):
            return "Rejected"
        return self.change_availability(evse, operational_status)

    # -- B05/B06 variables ----------------------------------------------------------------

    def get_variable(self, data: dict[str, Any]) -> dict[str, Any]:
        return self.device_model.get_variable(data)

    def set_variable(self, data: dict[str, Any]) -> tuple[dict[str, Any], Variable | None]:
        dm = self.device_model
        var, _ = dm.lookup(data["component"], data["variable"])
        attr = data.get("attributeType") or "Actual"
        if (
            "readonly_variable_accepted" in self.deviations
            and var is not None
            and attr in var.attributes
            and var.attributes[attr].mutability == READ_ONLY
        ):
            result = {k: data[k] for k in ("component", "variable", "attributeType") if k in data}
            return {**result, "attributeStatus": "Accepted"}, None  # the defect: nothing changes
        if "set_variables_not_applied" in self.deviations and var is not None:
            before = dm.value(var, attr) if attr in var.attributes else None
            result, changed = dm.set_variable(data)
            if changed is not None and before is not None:  # the defect: the old value stays
                if attr == "Actual" and var.key is not None:
                    self.nv.config.force(var.key, before)
                else:
                    var.attributes[attr].value = before
            return result, None
        return dm.set_variable(data)

    def variable_changed(self, var: Variable) -> None:
        if var.key is not None:
            self.configuration_changed(var.key)  # e.g. a new heartbeat cadence at once

    # -- B07/B08 reports ---------------------------------------------------------------------

    def base_report(self, base: str) -> list[dict[str, Any]] | None:
        if base not in ("ConfigurationInventory", "FullInventory", "SummaryInventory"):
            return None
        hide = (
            {MISSING_VARIABLE} if "report_missing_required_variable" in self.deviations else set()
        )
        return self.device_model.report(base, hide)

    def send_report(self, request_id: int, data: list[dict[str, Any]], page_size: int) -> None:
        """NotifyReport pages: seqNo from 0, tbc true on all but the last (B07). The
        ``report_part_missing`` deviation never sends the page seqNo 1 (of two or more)."""
        generated = utc_now()
        pages = [data[i : i + max(1, page_size)] for i in range(0, len(data), max(1, page_size))]
        payloads = [
            {
                "requestId": request_id,
                "generatedAt": generated,
                "seqNo": seq,
                "tbc": seq < len(pages) - 1,
                "reportData": page,
            }
            for seq, page in enumerate(pages)
        ]
        if "report_part_missing" in self.deviations and len(payloads) > 1:
            del payloads[1]
        if self.online:
            for payload in payloads:
                self.enqueue("NotifyReport", lambda payload=payload: payload)
            return
        # B02 (boot Pending): the back office may ask for a report before it accepts the
        # station; the station answers it although it sends nothing unasked yet. The queue
        # drains only once Accepted, so the pages go straight on the link, in order.
        link = self.link
        if link is not None:
            task = asyncio.get_running_loop().create_task(self._send_pages(link, payloads))
            self._pending_sends.add(task)
            task.add_done_callback(self._pending_sends.discard)

    async def _send_pages(self, link: Any, payloads: list[dict[str, Any]]) -> None:
        for payload in payloads:
            try:
                await link.send("NotifyReport", payload)
            except Exception as exc:  # a lost connection or a CALLERROR: the report ends
                LOG.warning("NotifyReport seqNo %s not delivered: %r", payload["seqNo"], exc)
                return
