"""The 2.0.1 station's side of the OCPP-J connection (subprotocol ``ocpp2.0.1``).

Translates OCPP 2.0.1 calls to the one station model and back. As in the 1.6 link,
handlers only decide the answer; what follows it (NotifyReport pages, a status change,
a new heartbeat cadence) runs in ``@after`` hooks, once the answer is on its way.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from ocpp.charge_point import (
    camel_to_snake_case,
    remove_nones,
    serialize_as_dict,
    snake_to_camel_case,
)
from ocpp.exceptions import NotImplementedError as OcppNotImplemented
from ocpp.exceptions import OccurenceConstraintViolationError, OCPPError
from ocpp.routing import after, on
from ocpp.v201 import ChargePoint, call, call_result
from ocpp.v201.enums import Action

from hil.sim.station.extensions import supported_extension
from hil.sim.station.outbox import CallFailed
from hil.sim.station.v201.smart_charging import SmartChargingHandlers201

if TYPE_CHECKING:
    from hil.sim.station.v201.station import VirtualStation201

LOG = logging.getLogger("hil.sim.station")


def build_request_201(action: str, payload: dict[str, Any]) -> Any:
    """The ``ocpp.v201.call`` dataclass for ``action`` from a camelCase payload."""
    request_cls = getattr(call, action, None)
    if request_cls is None:
        raise ValueError(f"{action!r} is not an OCPP 2.0.1 action")
    return request_cls(**camel_to_snake_case(payload))


def _camel(data: Any) -> Any:
    return snake_to_camel_case(data)


class StationLink201(SmartChargingHandlers201, ChargePoint):
    def __init__(self, station: VirtualStation201, ws: Any, response_timeout: float) -> None:
        super().__init__(station.station_id, ws, response_timeout=response_timeout, logger=LOG)
        self.station = station
        self.ws = ws
        self._changed: list[Any] = []
        self._report: tuple[int, list[dict[str, Any]]] | None = None
        self._triggered: tuple[str, dict[str, Any] | None] | None = None
        self._log_file: str | None = None

    async def send(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Send a CALL, return the camelCase answer; CallFailed for a CALLERROR."""
        try:
            result = await self.call(build_request_201(action, payload), suppress=False)
        except OCPPError as exc:
            raise CallFailed(f"{exc.code}: {exc.description}") from None
        return snake_to_camel_case(remove_nones(serialize_as_dict(result)))

    def _items_per_message(self, instance: str) -> int:
        return int(self.station.device_model.actual("DeviceDataCtrlr", "ItemsPerMessage", instance))

    # -- B06 GetVariables --------------------------------------------------------------

    @on(Action.get_variables)
    def on_get_variables(self, get_variable_data: list[dict[str, Any]], **_: Any) -> Any:
        limit = self._items_per_message("GetVariables")
        if len(get_variable_data) > limit:
            raise OccurenceConstraintViolationError(
                description=f"at most {limit} getVariableData (ItemsPerMessageGetVariables)"
            )
        results = [self.station.get_variable(_camel(d)) for d in get_variable_data]
        return call_result.GetVariables(get_variable_result=camel_to_snake_case(results))

    # -- B05 SetVariables --------------------------------------------------------------

    @on(Action.set_variables)
    def on_set_variables(self, set_variable_data: list[dict[str, Any]], **_: Any) -> Any:
        limit = self._items_per_message("SetVariables")
        if len(set_variable_data) > limit:
            raise OccurenceConstraintViolationError(
                description=f"at most {limit} setVariableData (ItemsPerMessageSetVariables)"
            )
        results = []
        for d in set_variable_data:
            result, changed = self.station.set_variable(_camel(d))
            results.append(result)
            if changed is not None:
                self._changed.append(changed)
        return call_result.SetVariables(set_variable_result=camel_to_snake_case(results))

    @after(Action.set_variables)
    def after_set_variables(self, **_: Any) -> None:
        changed, self._changed = self._changed, []
        for var in changed:
            self.station.variable_changed(var)

    # -- B07/B08 GetBaseReport -> NotifyReport -------------------------------------------

    @on(Action.get_base_report)
    def on_get_base_report(self, request_id: int, report_base: str, **_: Any) -> Any:
        data = self.station.base_report(report_base)
        if data is None:
            return call_result.GetBaseReport(status="NotSupported")
        if not data:
            return call_result.GetBaseReport(status="EmptyResultSet")
        self._report = (request_id, data)
        return call_result.GetBaseReport(status="Accepted")

    @after(Action.get_base_report)
    def after_get_base_report(self, **_: Any) -> None:
        report, self._report = self._report, None
        if report is not None:
            self.station.send_report(*report, page_size=self._items_per_message("GetReport"))

    # -- G03/G04 ChangeAvailability ------------------------------------------------------

    # -- F06 TriggerMessage: answered first, the message follows in @after -----------------

    @on(Action.trigger_message, skip_schema_validation=True)
    def on_trigger_message(
        self, requested_message: Any = None, evse: dict[str, Any] | None = None, **_: Any
    ) -> Any:
        if not self.station.cfg.dut.capabilities.trigger_message:
            raise OcppNotImplemented(
                description="this station does not support TriggerMessage", details={}
            )
        status = self.station.trigger_answer_201(requested_message, evse)
        self._triggered = (str(requested_message), evse) if status == "Accepted" else None
        return call_result.TriggerMessage(status=status)

    @after(Action.trigger_message)
    def after_trigger_message(self, **_: Any) -> None:
        triggered, self._triggered = self._triggered, None
        if triggered is not None:
            self.station.send_triggered_201(*triggered)

    # -- N01 GetLog: the station model's diagnostics upload --------------------------------

    def _uploader(self) -> Any:
        from hil.sim.station.diagnostics import DiagnosticsUploader

        return supported_extension(self.station, DiagnosticsUploader, "log uploads")

    @on(Action.get_log)
    def on_get_log(self, log: dict[str, Any], log_type: str, request_id: int, **_: Any) -> Any:
        uploader = self._uploader()
        self._log_file = uploader.file_name()
        return call_result.GetLog(status="Accepted", filename=self._log_file)

    @after(Action.get_log)
    def after_get_log(
        self,
        log: dict[str, Any],
        request_id: int,
        retries: int | None = None,
        retry_interval: int | None = None,
        **_: Any,
    ) -> None:
        self.station.log_request_id = int(request_id)
        self._uploader().schedule(
            self._log_file or self._uploader().file_name(),
            log["remote_location"],
            retries,
            retry_interval,
            log.get("oldest_timestamp"),
            log.get("latest_timestamp"),
        )

    # -- L01 UpdateFirmware: the station model's firmware manager -------------------------

    def _updater(self) -> Any:
        from hil.sim.station.firmware import FirmwareUpdater

        return supported_extension(self.station, FirmwareUpdater, "firmware updates over OCPP")

    @on(Action.update_firmware)
    def on_update_firmware(self, request_id: int, firmware: dict[str, Any], **_: Any) -> Any:
        self._updater()
        return call_result.UpdateFirmware(status="Accepted")

    @after(Action.update_firmware)
    def after_update_firmware(
        self,
        request_id: int,
        firmware: dict[str, Any],
        retries: int | None = None,
        retry_interval: int | None = None,
        **_: Any,
    ) -> None:
        self.station.firmware_request_id = int(request_id)
        self._updater().schedule(
            firmware["location"], firmware["retrieve_date_time"], retries, retry_interval
        )

    # -- F01/F02 RequestStartTransaction ----------------------------------------------

    @on(Action.request_start_transaction)
    def on_request_start(
        self, id_token: dict[str, Any], remote_start_id: int, evse_id: int | None = None, **_: Any
    ) -> Any:
        ok = self.station.charging.can_remote_start(evse_id)
        return call_result.RequestStartTransaction(status="Accepted" if ok else "Rejected")

    @after(Action.request_start_transaction)
    async def after_request_start(
        self, id_token: dict[str, Any], remote_start_id: int, evse_id: int | None = None, **_: Any
    ) -> None:
        charging = self.station.charging
        if charging.can_remote_start(evse_id):
            # F01: the transaction this start opens names the remoteStartId
            self.station.remote_start_ids[evse_id or charging.ev_connector] = remote_start_id
            await charging.remote_start(str(id_token["id_token"]), evse_id)

    # -- F03 RequestStopTransaction ---------------------------------------------------

    @on(Action.request_stop_transaction)
    def on_request_stop(self, transaction_id: str, **_: Any) -> Any:
        ok = self.station.charging.can_remote_stop(transaction_id)  # type: ignore[arg-type]
        return call_result.RequestStopTransaction(status="Accepted" if ok else "Rejected")

    @after(Action.request_stop_transaction)
    def after_request_stop(self, transaction_id: str, **_: Any) -> None:
        self.station.charging.remote_stop(transaction_id)  # type: ignore[arg-type]

    # -- P01 DataTransfer ----------------------------------------------------------------

    @on(Action.data_transfer)
    def on_data_transfer(self, vendor_id: str, **_: Any) -> Any:
        """P01: this station implements no vendor's data: UnknownVendorId."""
        LOG.info("DataTransfer for vendor %s: unknown", vendor_id)
        return call_result.DataTransfer(status="UnknownVendorId")

    # -- C11 ClearCache -------------------------------------------------------------------

    @on(Action.clear_cache)
    def on_clear_cache(self, **_: Any) -> Any:
        return call_result.ClearCache(status=self.station.charging.clear_cache())

    # -- F05 UnlockConnector ------------------------------------------------------------

    @on(Action.unlock_connector)
    def on_unlock(self, evse_id: int, connector_id: int, **_: Any) -> Any:
        return call_result.UnlockConnector(
            status=self.station.unlock_answer_201(int(evse_id), int(connector_id))
        )

    @after(Action.unlock_connector)
    def after_unlock(self, evse_id: int, connector_id: int, **_: Any) -> None:
        if self.station.unlock_answer_201(int(evse_id), int(connector_id)) == "Unlocked":
            self.station.charging.unlock(int(evse_id))

    # -- B11/B12 Reset ------------------------------------------------------------------

    @on(Action.reset)
    def on_reset(self, type: str, evse_id: int | None = None, **_: Any) -> Any:
        return call_result.Reset(status=self.station.reset_answer_201(type, evse_id))

    @after(Action.reset)
    def after_reset(self, type: str, evse_id: int | None = None, **_: Any) -> None:
        self.station.reset_answered_201(type, evse_id)

    @on(Action.change_availability)
    def on_change_availability(
        self, operational_status: str, evse: dict[str, Any] | None = None, **_: Any
    ) -> Any:
        status = self.station.change_availability_201(
            operational_status,
            None if evse is None else int(evse["id"]),
            None if evse is None else evse.get("connector_id"),
        )
        return call_result.ChangeAvailability(status=status)

    @after(Action.change_availability)
    def after_change_availability(self, **_: Any) -> None:
        self.station.availability_answered()
