"""ClearCache (OCPP 1.6 §5.4) and TriggerMessage (§5.17) of the virtual station.

TriggerMessage is answered first; the requested message is queued only in the ``@after``
hook, so on the wire the CALLRESULT always precedes it. The handler skips the library's
schema check so that a requestedMessage the station does not know is answered
NotImplemented, as §5.17 says, rather than with a CALLERROR. Deviations:
``no_authorization_cache`` (ClearCache Rejected), ``trigger_boot_not_sent`` (BootNotification
trigger Accepted but never sent).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from ocpp.exceptions import (
    FormationViolationError,
    OccurenceConstraintViolationError,
    TypeConstraintViolationError,
)
from ocpp.exceptions import NotImplementedError as OcppNotImplemented
from ocpp.routing import after, on
from ocpp.v16 import call_result
from ocpp.v16.enums import Action

from hil.sim.station.diagnostics import DiagnosticsUploader
from hil.sim.station.firmware import FirmwareUpdater

if TYPE_CHECKING:
    from hil.sim.station.station import VirtualStation

LOG = logging.getLogger("hil.sim.station")

#: Messages a TriggerMessage may ask for (OCPP 1.6 MessageTrigger).
TRIGGERABLE = (
    "BootNotification",
    "DiagnosticsStatusNotification",
    "FirmwareStatusNotification",
    "Heartbeat",
    "MeterValues",
    "StatusNotification",
)


def cannot_send(station: VirtualStation, message: Any, triggerable: Any, upload: str) -> bool:
    """A trigger for a message this station cannot send: not ``triggerable``, or a status
    of a transfer the DUT does not do by design (firmware over OCPP, the ``upload`` message
    of diagnostics / logs). Both versions' front-ends answer it NotImplemented."""
    caps = station.cfg.dut.capabilities
    return (
        message not in triggerable
        or (message == "FirmwareStatusNotification" and caps.firmware_update != "ocpp")
        or (message == upload and not caps.diagnostics)
    )


def trigger_answer(station: VirtualStation, message: str, connector: int | None) -> str:
    """TriggerMessage status: NotImplemented, Rejected or Accepted."""
    if cannot_send(station, message, TRIGGERABLE, "DiagnosticsStatusNotification"):
        return "NotImplemented"
    if connector is not None and not 0 <= connector <= station.n_connectors:
        return "Rejected"
    return "Accepted"


def send_triggered(station: VirtualStation, message: str, connector: int | None) -> None:
    """Queue the message a TriggerMessage asked for (after it was answered Accepted)."""
    LOG.info("sending triggered %s (connector %s)", message, connector)
    if message == "BootNotification":
        station.boot_triggered()
    elif message == "Heartbeat":
        station.enqueue("Heartbeat", lambda: {})
    elif message == "StatusNotification":
        targets = sorted(station.connectors) if connector is None else [connector]
        for cid in targets:
            station.report_status(cid)
    elif message == "MeterValues":
        charging = station.charging
        measurands = charging.cfg.get_list("MeterValuesSampledData") or [
            "Energy.Active.Import.Register"
        ]
        targets = sorted(charging.sessions) if not connector else [connector]
        for cid in targets:
            s = charging.sessions[cid]
            mv = charging.meter_values(s, s.transaction, "Trigger", measurands)
            charging.send_meter_values(cid, s.transaction, [mv])
    elif message == "FirmwareStatusNotification":
        updater = station.extension(FirmwareUpdater)
        status = updater.status if isinstance(updater, FirmwareUpdater) else "Idle"
        station.enqueue("FirmwareStatusNotification", lambda: {"status": status})
    elif message == "DiagnosticsStatusNotification":
        uploader = station.extension(DiagnosticsUploader)
        status = uploader.status if isinstance(uploader, DiagnosticsUploader) else "Idle"
        station.enqueue("DiagnosticsStatusNotification", lambda: {"status": status})


class MaintenanceHandlers:
    """StationLink mixin: ClearCache and TriggerMessage."""

    station: VirtualStation
    _triggered: tuple[str, int | None] | None = None

    @on(Action.clear_cache)
    def on_clear_cache(self, **_: Any) -> call_result.ClearCache:
        return call_result.ClearCache(status=self.station.charging.clear_cache())

    @on(Action.trigger_message, skip_schema_validation=True)
    def on_trigger_message(
        self, requested_message: Any = None, connector_id: Any = None, **extra: Any
    ) -> call_result.TriggerMessage:
        if not self.station.cfg.dut.capabilities.trigger_message:
            raise OcppNotImplemented(
                description="this station does not support TriggerMessage", details={}
            )
        if requested_message is None:
            raise OccurenceConstraintViolationError(
                description="requestedMessage is required", details={}
            )
        if extra:
            raise FormationViolationError(
                description=f"unexpected field(s) {sorted(extra)}", details={}
            )
        if not isinstance(requested_message, str):
            raise TypeConstraintViolationError(
                description="requestedMessage must be a string", details={}
            )
        if connector_id is not None and (
            isinstance(connector_id, bool) or not isinstance(connector_id, int)
        ):
            raise TypeConstraintViolationError(
                description="connectorId must be an integer", details={}
            )
        status = trigger_answer(self.station, requested_message, connector_id)
        self._triggered = (requested_message, connector_id) if status == "Accepted" else None
        LOG.info("TriggerMessage %s (connector %s): %s", requested_message, connector_id, status)
        return call_result.TriggerMessage(status=status)

    @after(Action.trigger_message)
    def after_trigger_message(self, **_: Any) -> None:
        triggered, self._triggered = self._triggered, None
        if triggered is not None:
            send_triggered(self.station, *triggered)
