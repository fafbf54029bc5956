"""The virtual station's OCPP 2.0.1 front-end, driven by a small 2.0.1 back office.

The back office here is the ``ocpp`` library's ``v201.ChargePoint`` on a websockets server
on 127.0.0.1 offering ``ocpp2.0.1``; it validates every frame against the 2.0.1 schemas.
Expectations come from OCPP 2.0.1 Part 2 (B01–B08, G02–G04), not from the lab's suites.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from ocpp.charge_point import remove_nones, serialize_as_dict, snake_to_camel_case
from ocpp.exceptions import OCPPError
from ocpp.routing import on
from ocpp.v201 import ChargePoint, call, call_result
from ocpp.v201.enums import Action
from websockets.asyncio.server import serve

from hil.lab.config import parse_lab_config
from hil.sim.physics import BenchPhysics
from hil.sim.station.v201.station import VirtualStation201

REPO = Path(__file__).resolve().parents[2]

#: Required variables of the Core profile (OCPP 2.0.1 Part 2 appendix, "Required" rows)
#: that a FullInventory must carry, as (component, evse, variable, instance).
REQUIRED = [
    ("ChargingStation", None, "AvailabilityState", None),
    ("ChargingStation", None, "Available", None),
    ("ChargingStation", None, "SupplyPhases", None),
    ("EVSE", 1, "AvailabilityState", None),
    ("EVSE", 2, "AvailabilityState", None),
    ("EVSE", 1, "Power", None),
    ("Connector", 1, "AvailabilityState", None),
    ("Connector", 2, "ConnectorType", None),
    ("AuthCtrlr", None, "AuthorizeRemoteStart", None),
    ("AuthCtrlr", None, "LocalAuthorizeOffline", None),
    ("AuthCtrlr", None, "LocalPreAuthorize", None),
    ("ClockCtrlr", None, "DateTime", None),
    ("ClockCtrlr", None, "TimeSource", None),
    ("DeviceDataCtrlr", None, "ItemsPerMessage", "GetReport"),
    ("DeviceDataCtrlr", None, "ItemsPerMessage", "GetVariables"),
    ("DeviceDataCtrlr", None, "BytesPerMessage", "GetReport"),
    ("DeviceDataCtrlr", None, "BytesPerMessage", "GetVariables"),
    ("OCPPCommCtrlr", None, "MessageTimeout", "Default"),
    ("OCPPCommCtrlr", None, "MessageAttempts", "TransactionEvent"),
    ("OCPPCommCtrlr", None, "MessageAttemptInterval", "TransactionEvent"),
    ("OCPPCommCtrlr", None, "FileTransferProtocols", None),
    ("OCPPCommCtrlr", None, "NetworkConfigurationPriority", None),
    ("OCPPCommCtrlr", None, "NetworkProfileConnectionAttempts", None),
    ("OCPPCommCtrlr", None, "OfflineThreshold", None),
    ("OCPPCommCtrlr", None, "ResetRetries", None),
    ("OCPPCommCtrlr", None, "UnlockOnEVSideDisconnect", None),
    ("SecurityCtrlr", None, "OrganizationName", None),
    ("SecurityCtrlr", None, "CertificateEntries", None),
    ("SecurityCtrlr", None, "SecurityProfile", None),
    ("SampledDataCtrlr", None, "TxEndedMeasurands", None),
    ("SampledDataCtrlr", None, "TxEndedInterval", None),
    ("SampledDataCtrlr", None, "TxStartedMeasurands", None),
    ("SampledDataCtrlr", None, "TxUpdatedMeasurands", None),
    ("SampledDataCtrlr", None, "TxUpdatedInterval", None),
    ("AlignedDataCtrlr", None, "Measurands", None),
    ("AlignedDataCtrlr", None, "Interval", None),
    ("TxCtrlr", None, "EVConnectionTimeOut", None),
    ("TxCtrlr", None, "StopTxOnEVSideDisconnect", None),
    ("TxCtrlr", None, "StopTxOnInvalidId", None),
    ("TxCtrlr", None, "TxStartPoint", None),
    ("TxCtrlr", None, "TxStopPoint", None),
]


def camel(result: Any) -> Any:
    return snake_to_camel_case(remove_nones(serialize_as_dict(result)))


class Csms(ChargePoint):
    """A 2.0.1 back office that answers and records what the station sends."""

    def __init__(self, cp_id: str, ws: Any, log: list[tuple[float, str, dict[str, Any]]]):
        super().__init__(cp_id, ws, response_timeout=5)
        self.log = log
        self.interval = 1
        self.boot_statuses: list[str] = []  # answers before Accepted (e.g. Pending)

    def _record(self, action: str, kwargs: dict[str, Any]) -> None:
        self.log.append((time.monotonic(), action, snake_to_camel_case(kwargs)))

    @on(Action.boot_notification)
    def on_boot(self, **kw: Any) -> Any:
        self._record("BootNotification", kw)
        status = self.boot_statuses.pop(0) if self.boot_statuses else "Accepted"
        return call_result.BootNotification(
            current_time="2026-01-01T00:00:00Z", interval=self.interval, status=status
        )

    @on(Action.status_notification)
    def on_status(self, **kw: Any) -> Any:
        self._record("StatusNotification", kw)
        return call_result.StatusNotification()

    @on(Action.heartbeat)
    def on_heartbeat(self, **kw: Any) -> Any:
        self._record("Heartbeat", kw)
        return call_result.Heartbeat(current_time="2026-01-01T00:00:00Z")

    @on(Action.notify_report)
    def on_notify_report(self, **kw: Any) -> Any:
        self._record("NotifyReport", kw)
        return call_result.NotifyReport()

    @on(Action.authorize)
    def on_authorize(self, **kw: Any) -> Any:
        self._record("Authorize", kw)
        return call_result.Authorize(id_token_info={"status": "Accepted"})

    @on(Action.transaction_event)
    def on_transaction_event(self, **kw: Any) -> Any:
        self._record("TransactionEvent", kw)
        if kw.get("id_token") is not None:  # E01: an event with an idToken gets its status
            return call_result.TransactionEvent(id_token_info={"status": "Accepted"})
        return call_result.TransactionEvent()

    @on(Action.meter_values)
    def on_meter_values(self, **kw: Any) -> Any:
        self._record("MeterValues", kw)
        return call_result.MeterValues()

    @on(Action.firmware_status_notification)
    def on_firmware_status(self, **kw: Any) -> Any:
        self._record("FirmwareStatusNotification", kw)
        return call_result.FirmwareStatusNotification()

    @on(Action.log_status_notification)
    def on_log_status(self, **kw: Any) -> Any:
        self._record("LogStatusNotification", kw)
        return call_result.LogStatusNotification()


class Rig:
    """Back office + 2.0.1 virtual station on the test's event loop."""

    def __init__(
        self,
        deviations: list[str],
        heartbeat_interval: int = 1,
        boot_statuses: tuple = (),
        station: dict[str, Any] | None = None,
    ) -> None:
        self.boot_statuses = list(boot_statuses)
        data = yaml.safe_load((REPO / "lab_configs" / "virtual.yaml").read_text())
        data["virtual"].update(deviations=deviations, boot_delay_s=0)
        if station:
            data["virtual"]["station"] = station
        data["dut"].update(ocpp="2.0.1", connectors=2)
        self.cfg = parse_lab_config(data, "test")
        self.interval = heartbeat_interval
        self.log: list[tuple[float, str, dict[str, Any]]] = []
        self.csms: Csms | None = None
        self.subprotocol: str | None = None

    async def __aenter__(self) -> Rig:
        async def handler(ws: Any) -> None:
            self.subprotocol = ws.subprotocol
            cp = Csms(ws.request.path.strip("/"), ws, self.log)
            cp.interval = self.interval
            cp.boot_statuses = self.boot_statuses
            self.csms = cp
            await cp.start()

        self.server = await serve(handler, "127.0.0.1", 0, subprotocols=["ocpp2.0.1"])
        port = self.server.sockets[0].getsockname()[1]
        self.station = VirtualStation201(
            self.cfg, BenchPhysics(supply_phases=3), f"ws://127.0.0.1:{port}"
        )
        self.task = asyncio.create_task(self.station.run())
        if self.boot_statuses:  # the test talks to the station while it is not accepted
            await self.wait_for(lambda: self.of("BootNotification"))
        else:
            await self.wait_for(lambda: len(self.of("StatusNotification")) >= 2)
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.station.stop()
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)
        self.server.close()
        await self.server.wait_closed()

    def of(self, action: str, since: int = 0) -> list[dict[str, Any]]:
        return [p for _, a, p in self.log[since:] if a == action]

    async def wait_for(self, cond: Callable[[], bool], timeout: float = 5.0) -> None:
        end = time.monotonic() + timeout
        while not cond():
            if time.monotonic() > end:
                raise AssertionError(f"timed out; seen {[a for _, a, _ in self.log]}")
            await asyncio.sleep(0.02)

    async def call(self, request: Any) -> dict[str, Any]:
        assert self.csms is not None
        return camel(await self.csms.call(request, suppress=False))

    async def get(self, comp: str, var: str, /, **extra: Any) -> dict[str, Any]:
        data = {"component": {"name": comp}, "variable": {"name": var}, **extra}
        answer = await self.call(call.GetVariables(get_variable_data=[data]))
        return answer["getVariableResult"][0]

    async def set(self, comp: str, var: str, value: str, /, **extra: Any) -> dict:
        data = {
            "component": {"name": comp},
            "variable": {"name": var},
            "attributeValue": value,
            **extra,
        }
        answer = await self.call(call.SetVariables(set_variable_data=[data]))
        return answer["setVariableResult"][0]

    async def base_report(self, base: str, request_id: int = 7) -> list[dict[str, Any]]:
        mark = len(self.log)
        answer = await self.call(call.GetBaseReport(request_id=request_id, report_base=base))
        assert answer == {"status": "Accepted"}
        await self.wait_for(lambda: any(not p.get("tbc") for p in self.of("NotifyReport", mark)))
        return self.of("NotifyReport", mark)


def run(coro: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coro, 30))


def _key(item: dict[str, Any]) -> tuple[Any, ...]:
    comp, var = item["component"], item["variable"]
    return (comp["name"], (comp.get("evse") or {}).get("id"), var["name"], var.get("instance"))


# -- B01-B04, G01: boot and status ----------------------------------------------------------


def test_boot_with_reason_then_status_per_evse_and_connector():
    async def body() -> None:
        async with Rig([]) as rig:
            assert rig.subprotocol == "ocpp2.0.1"
            first = rig.log[0]
            assert first[1] == "BootNotification"  # nothing before the boot (B01.FR.?)
            boot = first[2]
            assert boot["reason"] == "PowerUp"
            assert boot["chargingStation"]["vendorName"] == rig.cfg.dut.vendor
            assert boot["chargingStation"]["model"] == rig.cfg.dut.model
            assert boot["chargingStation"]["firmwareVersion"] == rig.cfg.dut.firmware
            statuses = rig.of("StatusNotification")
            assert sorted((s["evseId"], s["connectorId"]) for s in statuses) == [(1, 1), (2, 1)]
            assert {s["connectorStatus"] for s in statuses} == {"Available"}

    run(body())


def test_reboot_reasons_remote_reset_and_power_up_and_flash_kept():
    async def body() -> None:
        async with Rig([]) as rig:
            st = await rig.set("OCPPCommCtrlr", "OfflineThreshold", "90")
            assert st["attributeStatus"] == "Accepted"
            mark = len(rig.log)
            rig.station.request_reset("Hard")
            await rig.wait_for(lambda: rig.of("BootNotification", mark))
            assert rig.of("BootNotification", mark)[0]["reason"] == "RemoteReset"
            await rig.wait_for(lambda: len(rig.of("StatusNotification", mark)) >= 2)
            mark = len(rig.log)
            rig.station.set_mains(False)
            rig.station.set_mains(True)
            await rig.wait_for(lambda: rig.of("BootNotification", mark))
            assert rig.of("BootNotification", mark)[0]["reason"] == "PowerUp"
            await rig.wait_for(lambda: len(rig.of("StatusNotification", mark)) >= 2)
            got = await rig.get("OCPPCommCtrlr", "OfflineThreshold")
            assert got["attributeValue"] == "90"  # the device model lives in flash

    run(body())


# -- G02 heartbeat ---------------------------------------------------------------------------


def test_heartbeat_at_the_boot_interval_then_at_the_set_variable():
    async def body() -> None:
        async with Rig([], heartbeat_interval=1) as rig:
            await rig.wait_for(lambda: len(rig.of("Heartbeat")) >= 3, 6)
            beats = [t for t, a, _ in rig.log if a == "Heartbeat"]
            gaps = [b - a for a, b in zip(beats, beats[1:], strict=False)]
            assert all(0.8 < g < 1.5 for g in gaps), gaps
            got = await rig.get("OCPPCommCtrlr", "HeartbeatInterval")
            assert got["attributeValue"] == "1"  # the interval from the boot answer
            assert (await rig.set("OCPPCommCtrlr", "HeartbeatInterval", "2"))[
                "attributeStatus"
            ] == "Accepted"
            mark = len(rig.log)
            await rig.wait_for(lambda: len(rig.of("Heartbeat", mark)) >= 2, 6)
            beats = [t for t, a, _ in rig.log[mark:] if a == "Heartbeat"]
            assert 1.8 < beats[1] - beats[0] < 2.5

    run(body())


# -- B06 GetVariables / B05 SetVariables -------------------------------------------------------


def test_get_variables_results():
    async def body() -> None:
        async with Rig([]) as rig:
            got = await rig.get(
                "DeviceDataCtrlr",
                "ItemsPerMessage",
                **{"variable": {"name": "ItemsPerMessage", "instance": "GetReport"}},
            )
            assert got["attributeStatus"] == "Accepted" and int(got["attributeValue"]) >= 1
            assert (await rig.get("NoSuchCtrlr", "Enabled"))["attributeStatus"] == (
                "UnknownComponent"
            )
            assert (await rig.get("TxCtrlr", "NoSuchVariable"))["attributeStatus"] == (
                "UnknownVariable"
            )
            target = await rig.get("OCPPCommCtrlr", "HeartbeatInterval", attributeType="Target")
            assert target["attributeStatus"] == "NotSupportedAttributeType"
            maxset = await rig.get(
                "EVSE",
                "Power",
                component={"name": "EVSE", "evse": {"id": 1}},
                attributeType="MaxSet",
            )
            assert maxset["attributeStatus"] == "Accepted" and float(maxset["attributeValue"]) > 0
            state = await rig.get(
                "Connector",
                "AvailabilityState",
                component={"name": "Connector", "evse": {"id": 2, "connectorId": 1}},
            )
            assert state["attributeValue"] == "Available"

    run(body())


def test_set_variables_results_and_the_value_applies():
    async def body() -> None:
        async with Rig([]) as rig:
            ok = await rig.set("TxCtrlr", "EVConnectionTimeOut", "45")
            assert ok["attributeStatus"] == "Accepted"
            assert (await rig.get("TxCtrlr", "EVConnectionTimeOut"))["attributeValue"] == "45"
            # the one station model: its 1.6 key follows
            assert rig.station.nv.config.get("ConnectionTimeOut") == "45"
            readonly = await rig.set(
                "DeviceDataCtrlr",
                "ItemsPerMessage",
                "99",
                variable={"name": "ItemsPerMessage", "instance": "GetReport"},
            )
            assert readonly["attributeStatus"] == "Rejected"
            assert (await rig.set("TxCtrlr", "EVConnectionTimeOut", "soon"))[
                "attributeStatus"
            ] == "Rejected"
            assert (await rig.set("TxCtrlr", "TxStartPoint", "Teleported"))[
                "attributeStatus"
            ] == "Rejected"
            assert (await rig.set("Nope", "X", "1"))["attributeStatus"] == "UnknownComponent"
            assert (await rig.set("TxCtrlr", "X", "1"))["attributeStatus"] == "UnknownVariable"
            assert (await rig.set("TxCtrlr", "EVConnectionTimeOut", "5", attributeType="MinSet"))[
                "attributeStatus"
            ] == "NotSupportedAttributeType"
            assert (await rig.get("TxCtrlr", "EVConnectionTimeOut"))["attributeValue"] == "45"
            reboot = await rig.set("OCPPCommCtrlr", "NetworkConfigurationPriority", "0")
            assert reboot["attributeStatus"] == "RebootRequired"

    run(body())


# -- B07/B08 GetBaseReport -> NotifyReport ----------------------------------------------------


def test_full_inventory_pages_and_required_variables():
    async def body() -> None:
        async with Rig([]) as rig:
            pages = await rig.base_report("FullInventory", request_id=42)
            assert len(pages) > 1
            assert [p["seqNo"] for p in pages] == list(range(len(pages)))
            assert [p["tbc"] for p in pages] == [True] * (len(pages) - 1) + [False]
            assert {p["requestId"] for p in pages} == {42}
            per_page = int(
                rig.station.device_model.actual("DeviceDataCtrlr", "ItemsPerMessage", "GetReport")
            )
            assert all(len(p["reportData"]) <= per_page for p in pages)
            items = [i for p in pages for i in p["reportData"]]
            keys = {_key(i) for i in items}
            missing = [r for r in REQUIRED if r not in keys]
            assert not missing, missing
            assert len(keys) == len(items)  # nothing twice
            for item in items:
                for attr in item["variableAttribute"]:
                    assert attr["type"] in ("Actual", "Target", "MinSet", "MaxSet")
                    assert attr["mutability"] in ("ReadOnly", "ReadWrite", "WriteOnly")

    run(body())


def test_configuration_and_summary_inventory():
    async def body() -> None:
        async with Rig([]) as rig:
            config = [
                i for p in await rig.base_report("ConfigurationInventory") for i in p["reportData"]
            ]
            assert config
            for item in config:
                assert any(a["mutability"] != "ReadOnly" for a in item["variableAttribute"])
            assert ("TxCtrlr", None, "TxStartPoint", None) in {_key(i) for i in config}
            summary = [
                i for p in await rig.base_report("SummaryInventory") for i in p["reportData"]
            ]
            assert ("ChargingStation", None, "AvailabilityState", None) in {
                _key(i) for i in summary
            }

    run(body())


def test_pending_boot_answers_a_report_request_then_retries_at_the_interval():
    async def body() -> None:
        async with Rig([], heartbeat_interval=2, boot_statuses=("Pending",)) as rig:
            pages = await rig.base_report("ConfigurationInventory", request_id=3)
            assert [p["seqNo"] for p in pages] == list(range(len(pages)))
            # nothing unasked while Pending (B02): no status, no heartbeat before Accepted
            await rig.wait_for(lambda: len(rig.of("BootNotification")) >= 2, 5)
            actions = [a for _, a, _ in rig.log]
            second = actions.index("BootNotification", 1)
            assert set(actions[:second]) == {"BootNotification", "NotifyReport"}
            boots = [t for t, a, _ in rig.log if a == "BootNotification"]
            assert boots[1] - boots[0] >= 1.9  # the interval of the Pending answer
            await rig.wait_for(lambda: len(rig.of("StatusNotification")) >= 2)

    run(body())


def test_more_get_variables_than_items_per_message_is_a_call_error():
    async def body() -> None:
        async with Rig([]) as rig:
            limit = int(
                rig.station.device_model.actual(
                    "DeviceDataCtrlr", "ItemsPerMessage", "GetVariables"
                )
            )
            data = [{"component": {"name": "TxCtrlr"}, "variable": {"name": "TxStartPoint"}}]
            with pytest.raises(OCPPError):
                await rig.call(call.GetVariables(get_variable_data=data * (limit + 1)))
            answer = await rig.call(call.GetVariables(get_variable_data=data * limit))
            assert len(answer["getVariableResult"]) == limit

    run(body())


# -- G03/G04 ChangeAvailability ---------------------------------------------------------------


def test_change_availability_of_an_evse_a_connector_and_the_station():
    async def body() -> None:
        async with Rig([]) as rig:
            mark = len(rig.log)
            answer = await rig.call(
                call.ChangeAvailability(operational_status="Inoperative", evse={"id": 2})
            )
            assert answer["status"] == "Accepted"
            await rig.wait_for(lambda: rig.of("StatusNotification", mark))
            assert [
                (s["evseId"], s["connectorStatus"]) for s in rig.of("StatusNotification", mark)
            ] == [(2, "Unavailable")]
            mark = len(rig.log)
            answer = await rig.call(
                call.ChangeAvailability(
                    operational_status="Operative", evse={"id": 2, "connector_id": 1}
                )
            )
            assert answer["status"] == "Accepted"
            await rig.wait_for(lambda: rig.of("StatusNotification", mark))
            assert rig.of("StatusNotification", mark)[0]["connectorStatus"] == "Available"
            bad = await rig.call(
                call.ChangeAvailability(operational_status="Inoperative", evse={"id": 9})
            )
            assert bad["status"] == "Rejected"
            mark = len(rig.log)
            answer = await rig.call(call.ChangeAvailability(operational_status="Inoperative"))
            assert answer["status"] == "Accepted"
            await rig.wait_for(lambda: len(rig.of("StatusNotification", mark)) >= 2)
            assert {s["connectorStatus"] for s in rig.of("StatusNotification", mark)} == {
                "Unavailable"
            }
            state = await rig.get("ChargingStation", "AvailabilityState")
            assert state["attributeValue"] == "Unavailable"

    run(body())


# -- deviations --------------------------------------------------------------------------------


def test_deviation_report_missing_required_variable():
    async def body() -> None:
        async with Rig(["report_missing_required_variable"]) as rig:
            pages = await rig.base_report("FullInventory")
            keys = {_key(i) for p in pages for i in p["reportData"]}
            assert [r for r in REQUIRED if r not in keys] == [
                ("TxCtrlr", None, "EVConnectionTimeOut", None)
            ]

    run(body())


def test_deviation_set_variables_not_applied():
    async def body() -> None:
        async with Rig(["set_variables_not_applied"]) as rig:
            before = (await rig.get("OCPPCommCtrlr", "HeartbeatInterval"))["attributeValue"]
            ok = await rig.set("OCPPCommCtrlr", "HeartbeatInterval", "17")
            assert ok["attributeStatus"] == "Accepted"
            after = (await rig.get("OCPPCommCtrlr", "HeartbeatInterval"))["attributeValue"]
            assert after == before != "17"

    run(body())


def test_deviation_readonly_variable_accepted():
    async def body() -> None:
        async with Rig(["readonly_variable_accepted"]) as rig:
            ok = await rig.set("SecurityCtrlr", "SecurityProfile", "3")
            assert ok["attributeStatus"] == "Accepted"  # the defect; the spec says Rejected
            got = await rig.get("SecurityCtrlr", "SecurityProfile")
            assert got["attributeValue"] != "3"

    run(body())


@pytest.mark.parametrize("deviation", [[]])
def test_without_deviations_readonly_is_rejected(deviation):
    async def body() -> None:
        async with Rig(deviation) as rig:
            no = await rig.set("SecurityCtrlr", "SecurityProfile", "3")
            assert no["attributeStatus"] == "Rejected"

    run(body())


# -- F06 TriggerMessage ----------------------------------------------------------------------


def test_triggered_messages_follow_their_answer():
    async def body() -> None:
        async with Rig([], heartbeat_interval=3600) as rig:
            for message, evse, action in (
                ("Heartbeat", None, "Heartbeat"),
                ("StatusNotification", {"id": 2, "connector_id": 1}, "StatusNotification"),
                ("MeterValues", {"id": 1}, "MeterValues"),
                ("FirmwareStatusNotification", None, "FirmwareStatusNotification"),
                ("LogStatusNotification", None, "LogStatusNotification"),
            ):
                mark = len(rig.log)
                answer = await rig.call(call.TriggerMessage(requested_message=message, evse=evse))
                assert answer["status"] == "Accepted", (message, answer)
                await rig.wait_for(lambda a=action, m=mark: rig.of(a, m))
                sent = rig.of(action, mark)[0]
                if action == "StatusNotification":
                    assert sent["evseId"] == 2
                if action == "MeterValues":
                    assert sent["evseId"] == 1
                    values = sent["meterValue"][0]["sampledValue"]
                    assert values and {v["context"] for v in values} == {"Trigger"}
                if action.endswith("StatusNotification") and action != "StatusNotification":
                    assert sent["status"] == "Idle"

    run(body())


def test_trigger_answers_boot_once_registered_missing_evse_and_unknown_messages():
    async def body() -> None:
        async with Rig([]) as rig:
            mark = len(rig.log)
            answer = await rig.call(call.TriggerMessage(requested_message="BootNotification"))
            assert answer["status"] == "Rejected"  # F06.FR.17: already Accepted
            answer = await rig.call(
                call.TriggerMessage(requested_message="StatusNotification", evse={"id": 9})
            )
            assert answer["status"] == "Rejected"
            answer = await rig.call(call.TriggerMessage(requested_message="SignV2GCertificate"))
            assert answer["status"] == "NotImplemented"
            await asyncio.sleep(0.3)
            assert not rig.of("BootNotification", mark)

    run(body())


def test_a_boot_triggered_while_pending_comes_at_once_with_reason_triggered():
    async def body() -> None:
        async with Rig([], heartbeat_interval=60, boot_statuses=("Pending",)) as rig:
            started = time.monotonic()
            answer = await rig.call(call.TriggerMessage(requested_message="BootNotification"))
            assert answer["status"] == "Accepted"
            await rig.wait_for(lambda: len(rig.of("BootNotification")) >= 2)
            assert time.monotonic() - started < 5  # not the 60 s of the Pending answer
            assert rig.of("BootNotification")[1]["reason"] == "Triggered"
            await rig.wait_for(lambda: len(rig.of("StatusNotification")) >= 2)

    run(body())


def test_deviation_trigger_boot_not_sent_while_pending():
    async def body() -> None:
        async with Rig(["trigger_boot_not_sent"], 60, boot_statuses=("Pending",)) as rig:
            answer = await rig.call(call.TriggerMessage(requested_message="BootNotification"))
            assert answer["status"] == "Accepted"
            await asyncio.sleep(1.0)
            assert len(rig.of("BootNotification")) == 1

    run(body())


# -- B11/B12 Reset ---------------------------------------------------------------------------


def test_reset_when_idle_reboots_with_reason_remote_reset_and_one_evse_is_rejected():
    async def body() -> None:
        async with Rig([]) as rig:
            answer = await rig.call(call.Reset(type="OnIdle", evse_id=1))
            assert answer["status"] == "Rejected"
            for kind in ("Immediate", "OnIdle"):
                mark = len(rig.log)
                answer = await rig.call(call.Reset(type=kind))
                assert answer["status"] == "Accepted"
                await rig.wait_for(lambda m=mark: rig.of("BootNotification", m))
                assert rig.of("BootNotification", mark)[0]["reason"] == "RemoteReset"
                await rig.wait_for(lambda m=mark: len(rig.of("StatusNotification", m)) >= 2)

    run(body())


# -- E01-E07, C01 sessions: Authorize and TransactionEvent ------------------------------------


def test_a_session_is_authorize_then_transaction_events_numbered_without_gaps():
    """E01-E07: Started (idToken, EVSE, Transaction.Begin register), Updated at the sample
    interval, Ended with stoppedReason; one transaction id, seqNo 0, 1, 2, … (the back
    office's library checks every frame against the 2.0.1 schemas)."""

    async def body() -> None:
        async with Rig([], heartbeat_interval=3600) as rig:
            st = await rig.set("SampledDataCtrlr", "TxUpdatedInterval", "1")
            assert st["attributeStatus"] == "Accepted"
            tag = rig.cfg.tags.valid[0]
            rig.station.physics.set_ev_state("B")
            rig.station.charging.present_tag(tag)
            await rig.wait_for(lambda: rig.of("TransactionEvent"))
            auth = rig.of("Authorize")[0]
            assert auth["idToken"] == {"idToken": tag, "type": "ISO14443"}
            rig.station.physics.set_ev_state("C")
            await rig.wait_for(lambda: len(rig.of("TransactionEvent")) >= 3, 6)
            rig.station.charging.present_tag(tag)  # the same tag ends it
            await rig.wait_for(
                lambda: any(e["eventType"] == "Ended" for e in rig.of("TransactionEvent"))
            )
            events = rig.of("TransactionEvent")
            started, ended = events[0], events[-1]
            assert started["eventType"] == "Started" and started["idToken"]["idToken"] == tag
            assert started["evse"] == {"id": 1, "connectorId": 1}
            begin = started["meterValue"][0]["sampledValue"][0]
            assert begin["context"] == "Transaction.Begin"
            assert {e["eventType"] for e in events[1:-1]} == {"Updated"}
            assert ended["transactionInfo"]["stoppedReason"] == "Local"
            end = ended["meterValue"][-1]["sampledValue"][-1]
            assert end["context"] == "Transaction.End" and end["value"] >= begin["value"]
            ids = {e["transactionInfo"]["transactionId"] for e in events}
            assert len(ids) == 1
            assert [e["seqNo"] for e in events] == list(range(len(events)))
            assert not any(e.get("offline") for e in events)

    run(body())


def test_tx_start_point_ev_connected_opens_the_transaction_at_the_plug():
    """E01 TxStartPoint EVConnected: the plug starts a transaction without an idToken
    (CablePluggedIn, EVConnected); an unplug without authorization ends it (EVDisconnected);
    a tag authorizes the open one in an Updated event of it, not a new transaction."""

    async def body() -> None:
        async with Rig(
            [], heartbeat_interval=3600, station={"tx_start_point": "EVConnected"}
        ) as rig:
            got = await rig.get("TxCtrlr", "TxStartPoint")
            assert got["attributeValue"] == "EVConnected"
            rig.station.physics.set_ev_state("B")
            await rig.wait_for(lambda: rig.of("TransactionEvent"))
            started = rig.of("TransactionEvent")[0]
            assert started["eventType"] == "Started" and "idToken" not in started
            assert started["triggerReason"] == "CablePluggedIn"
            assert started["transactionInfo"]["chargingState"] == "EVConnected"
            rig.station.physics.set_ev_state("A")
            await rig.wait_for(lambda: len(rig.of("TransactionEvent")) >= 2)
            ended = rig.of("TransactionEvent")[1]
            assert ended["eventType"] == "Ended"
            assert ended["transactionInfo"]["stoppedReason"] == "EVDisconnected"
            first = started["transactionInfo"]["transactionId"]
            assert ended["transactionInfo"]["transactionId"] == first
            mark = len(rig.log)
            tag = rig.cfg.tags.valid[0]
            rig.station.physics.set_ev_state("B")
            await rig.wait_for(lambda: rig.of("TransactionEvent", mark))
            rig.station.charging.present_tag(tag)
            await rig.wait_for(
                lambda: any("idToken" in e for e in rig.of("TransactionEvent", mark))
            )
            rig.station.charging.present_tag(tag)
            await rig.wait_for(lambda: rig.of("TransactionEvent", mark)[-1]["eventType"] == "Ended")
            events = rig.of("TransactionEvent", mark)
            ids = {e["transactionInfo"]["transactionId"] for e in events}
            assert len(ids) == 1 and first not in ids
            authorized = next(e for e in events if "idToken" in e)
            assert authorized["eventType"] == "Updated"
            assert authorized["triggerReason"] == "Authorized"
            assert authorized["idToken"]["idToken"] == tag
            assert [e["eventType"] for e in events].count("Started") == 1
            assert events[-1]["transactionInfo"]["stoppedReason"] == "Local"
            assert [e["seqNo"] for e in events] == list(range(len(events)))

    run(body())


def test_data_transfer_of_an_unknown_vendor():
    """P01: a vendor the station does not know is UnknownVendorId (not a CALLERROR)."""

    async def body() -> None:
        async with Rig([], heartbeat_interval=3600) as rig:
            answer = await rig.call(call.DataTransfer(vendor_id="org.example.lab", data="x"))
            assert answer["status"] == "UnknownVendorId"

    run(body())


def test_request_stop_transaction_ends_it_with_reason_remote():
    """F03: RequestStopTransaction of the running transaction is Accepted and it ends with
    stoppedReason Remote; an unknown id is Rejected."""

    async def body() -> None:
        async with Rig([], heartbeat_interval=3600) as rig:
            rig.station.physics.set_ev_state("B")
            rig.station.charging.present_tag(rig.cfg.tags.valid[0])
            await rig.wait_for(lambda: rig.of("TransactionEvent"))
            tx = rig.of("TransactionEvent")[0]["transactionInfo"]["transactionId"]
            answer = await rig.call(call.RequestStopTransaction(transaction_id="no-such-tx"))
            assert answer["status"] == "Rejected"
            answer = await rig.call(call.RequestStopTransaction(transaction_id=tx))
            assert answer["status"] == "Accepted"
            await rig.wait_for(
                lambda: any(e["eventType"] == "Ended" for e in rig.of("TransactionEvent"))
            )
            ended = rig.of("TransactionEvent")[-1]
            assert ended["transactionInfo"] == {"transactionId": tx, "stoppedReason": "Remote"}
            assert ended["triggerReason"] == "RemoteStop"

    run(body())


def test_deviation_transaction_seq_gap():
    """The defect the lab's 2.0.1 session steps must catch: a seqNo left out."""

    async def body() -> None:
        async with Rig(["transaction_seq_gap"], 3600) as rig:
            await rig.set("SampledDataCtrlr", "TxUpdatedInterval", "1")
            tag = rig.cfg.tags.valid[0]
            rig.station.physics.set_ev_state("B")
            rig.station.charging.present_tag(tag)
            await rig.wait_for(lambda: len(rig.of("TransactionEvent")) >= 2, 6)
            seqs = [e["seqNo"] for e in rig.of("TransactionEvent")]
            assert seqs[:2] == [0, 2], seqs

    run(body())


def test_events_of_an_offline_station_say_offline():
    """E12: an event that happened while the station was offline carries offline=true (the
    flag is set when the event happens, not when it is sent)."""
    from types import SimpleNamespace

    from hil.sim.station.v201 import transactions

    events = transactions.TransactionEvents()
    online = SimpleNamespace(online=True, deviations=set())
    offline = SimpleNamespace(online=False, deviations=set())
    first = events.event(online, "Updated", "t1", "MeterValuePeriodic", "2026-01-01T00:00:00Z")
    second = events.event(offline, "Updated", "t1", "MeterValuePeriodic", "2026-01-01T00:00:01Z")
    assert "offline" not in first and second["offline"] is True
    assert (first["seqNo"], second["seqNo"]) == (0, 1)
