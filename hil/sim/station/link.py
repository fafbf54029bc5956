"""The station's side of the OCPP-J connection: routes back-office calls to the station.

Handlers only decide the answer; whatever takes time (a reset, a status change, a
transaction) runs in ``@after`` hooks or station tasks, because handlers run inside the
library's receive loop.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from ocpp.exceptions import OCPPError
from ocpp.routing import after, on
from ocpp.v16 import ChargePoint, call_result
from ocpp.v16.enums import Action

from hil.ocppj import build_request, result_to_dict
from hil.sim.station.diagnostics import DiagnosticsHandlers
from hil.sim.station.firmware import FirmwareHandlers
from hil.sim.station.maintenance import MaintenanceHandlers
from hil.sim.station.outbox import CallFailed
from hil.sim.station.smart_charging import SmartChargingHandlers

if TYPE_CHECKING:
    from hil.sim.station.station import VirtualStation

LOG = logging.getLogger("hil.sim.station")


class StationLink(
    FirmwareHandlers,
    DiagnosticsHandlers,
    MaintenanceHandlers,
    SmartChargingHandlers,
    ChargePoint,
):
    def __init__(self, station: VirtualStation, ws: Any, response_timeout: float) -> None:
        super().__init__(station.station_id, ws, response_timeout=response_timeout, logger=LOG)
        self.station = station
        self.ws = ws

    async def send(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Send a CALL, return the camelCase answer; CallFailed for a CALLERROR."""
        try:
            result = await self.call(build_request(action, payload), suppress=False)
        except OCPPError as exc:
            raise CallFailed(f"{exc.code}: {exc.description}") from None
        return result_to_dict(result)

    # -- configuration ---------------------------------------------------------------

    @on(Action.get_configuration)
    def on_get_configuration(
        self, key: list[str] | None = None, **_: Any
    ) -> call_result.GetConfiguration:
        known, unknown = self.station.get_configuration(key)
        return call_result.GetConfiguration(configuration_key=known, unknown_key=unknown)

    @on(Action.change_configuration)
    def on_change_configuration(
        self, key: str, value: str, **_: Any
    ) -> call_result.ChangeConfiguration:
        return call_result.ChangeConfiguration(status=self.station.change_configuration(key, value))

    @after(Action.change_configuration)
    def after_change_configuration(self, key: str, **_: Any) -> None:
        self.station.configuration_changed(key)

    # -- availability and reset ------------------------------------------------------

    @on(Action.change_availability)
    def on_change_availability(
        self, connector_id: int, type: str, **_: Any
    ) -> call_result.ChangeAvailability:
        return call_result.ChangeAvailability(
            status=self.station.change_availability(connector_id, type)
        )

    @after(Action.change_availability)
    def after_change_availability(self, **_: Any) -> None:
        self.station.availability_answered()

    @on(Action.reset)
    def on_reset(self, type: str, **_: Any) -> call_result.Reset:
        return call_result.Reset(status="Accepted")

    @after(Action.reset)
    def after_reset(self, type: str, **_: Any) -> None:
        self.station.request_reset(type)

    # -- sessions --------------------------------------------------------------------

    @on(Action.remote_start_transaction)
    def on_remote_start(
        self, id_tag: str, connector_id: int | None = None, **_: Any
    ) -> call_result.RemoteStartTransaction:
        ok = self.station.charging.can_remote_start(connector_id)
        return call_result.RemoteStartTransaction(status="Accepted" if ok else "Rejected")

    @after(Action.remote_start_transaction)
    async def after_remote_start(
        self, id_tag: str, connector_id: int | None = None, **_: Any
    ) -> None:
        if self.station.charging.can_remote_start(connector_id):
            await self.station.charging.remote_start(id_tag, connector_id)

    @on(Action.remote_stop_transaction)
    def on_remote_stop(self, transaction_id: int, **_: Any) -> call_result.RemoteStopTransaction:
        ok = self.station.charging.can_remote_stop(transaction_id)
        return call_result.RemoteStopTransaction(status="Accepted" if ok else "Rejected")

    @after(Action.remote_stop_transaction)
    def after_remote_stop(self, transaction_id: int, **_: Any) -> None:
        self.station.charging.remote_stop(transaction_id)

    @on(Action.data_transfer)
    def on_data_transfer(self, vendor_id: str, **_: Any) -> call_result.DataTransfer:
        """§4.3/§5.6: this station implements no vendor's data: UnknownVendorId."""
        LOG.info("DataTransfer for vendor %s: unknown", vendor_id)
        return call_result.DataTransfer(status="UnknownVendorId")

    @on(Action.unlock_connector)
    def on_unlock(self, connector_id: int, **_: Any) -> call_result.UnlockConnector:
        return call_result.UnlockConnector(status=self.station.charging.unlock_status(connector_id))

    @after(Action.unlock_connector)
    def after_unlock(self, connector_id: int, **_: Any) -> None:
        if self.station.charging.unlock_status(connector_id) == "Unlocked":
            self.station.charging.unlock(connector_id)
