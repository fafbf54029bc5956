"""OCPP 2.0.1: the device model (components and variables), GetVariables / SetVariables /
GetBaseReport, EVSE and connector ids. Use case ids are those of OCPP 2.0.1 Part 2."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from hil.protocol.base import (
    AUTHORIZATION_CACHE,
    CONNECTION_TIMEOUT,
    HEARTBEAT_INTERVAL,
    METER_SAMPLE_INTERVAL,
    RULE_BOOT,
    RULE_CHANGE_SETTING,
    RULE_FULL_REPORT,
    RULE_HEARTBEAT,
    RULE_READ_CONFIGURATION,
    RULE_STATUS,
    SAMPLED_MEASURANDS,
    BootFacts,
    Call,
    ConnectorStatus,
    ProtocolAdapter,
    SettingAddress,
    SettingChange,
    SettingStatus,
    SettingValue,
    normalise_status,
)

#: SetVariableStatusEnumType -> the lab's words
_SET_STATUSES = {
    "Accepted": SettingStatus.ACCEPTED,
    "Rejected": SettingStatus.REJECTED,
    "RebootRequired": SettingStatus.REBOOT_REQUIRED,
    "UnknownComponent": SettingStatus.NOT_SUPPORTED,
    "UnknownVariable": SettingStatus.NOT_SUPPORTED,
    "NotSupportedAttributeType": SettingStatus.NOT_SUPPORTED,
}
#: GetVariableStatusEnumType values that mean "the station has no such variable"
_UNKNOWN = {"UnknownComponent", "UnknownVariable", "NotSupportedAttributeType"}


def _component(address: SettingAddress) -> dict[str, Any]:
    component: dict[str, Any] = {"name": address.component}
    if address.evse is not None:
        component["evse"] = {"id": address.evse}
    if address.instance:
        component["instance"] = address.instance
    return component


def _key(component: dict[str, Any], variable: dict[str, Any]) -> tuple[Any, ...]:
    evse = (component.get("evse") or {}).get("id")
    return (component.get("name"), evse, component.get("instance"), variable.get("name"))


def _address_key(a: SettingAddress) -> tuple[Any, ...]:
    return (a.component, a.evse, a.instance or None, a.name)


def _detail(result: dict[str, Any]) -> str:
    info = result.get("attributeStatusInfo") or {}
    return " ".join(str(v) for v in (info.get("reasonCode"), info.get("additionalInfo")) if v)


class Ocpp201(ProtocolAdapter):
    version = "2.0.1"
    subprotocol = "ocpp2.0.1"
    certification = "OCPP 2.0.1 Core"
    boot_reason_field = "reason"
    rules = {
        RULE_BOOT: "OCPP 2.0.1 Part 2 B01-B04 (BootNotification with reason)",
        RULE_HEARTBEAT: "OCPP 2.0.1 Part 2 G02 (Heartbeat; OCPPCommCtrlr.HeartbeatInterval)",
        RULE_STATUS: "OCPP 2.0.1 Part 2 B01, G01 (StatusNotification per EVSE and connector)",
        RULE_READ_CONFIGURATION: "OCPP 2.0.1 Part 2 B06 (GetVariables)",
        RULE_FULL_REPORT: "OCPP 2.0.1 Part 2 B07-B08 (GetBaseReport -> NotifyReport)",
        RULE_CHANGE_SETTING: "OCPP 2.0.1 Part 2 B05 (SetVariables)",
    }
    settings = {
        HEARTBEAT_INTERVAL: SettingAddress("HeartbeatInterval", "OCPPCommCtrlr"),
        METER_SAMPLE_INTERVAL: SettingAddress("TxUpdatedInterval", "SampledDataCtrlr"),
        SAMPLED_MEASURANDS: SettingAddress("TxUpdatedMeasurands", "SampledDataCtrlr"),
        CONNECTION_TIMEOUT: SettingAddress("EVConnectionTimeOut", "TxCtrlr"),
        AUTHORIZATION_CACHE: SettingAddress("Enabled", "AuthCacheCtrlr"),
    }
    full_report_arrives_in = "NotifyReport"

    def parse_address(self, name: str) -> SettingAddress:
        """``Component.Variable``, ``Component[instance].Variable`` or
        ``EVSE[n].Component.Variable``."""
        parts = name.split(".")
        evse = None
        if parts and parts[0].startswith("EVSE[") and parts[0].endswith("]"):
            evse = int(parts.pop(0)[5:-1])
        if len(parts) != 2 or not all(parts):
            raise ValueError(
                f"{name!r} is no OCPP 2.0.1 setting: name it Component.Variable "
                "(e.g. OCPPCommCtrlr.HeartbeatInterval)"
            )
        component, variable = parts
        instance = None
        if component.endswith("]") and "[" in component:
            component, instance = component[:-1].split("[", 1)
        return SettingAddress(variable, component, evse, instance)

    def boot_facts(self, payload: dict[str, Any]) -> BootFacts:
        station = payload.get("chargingStation") or {}
        return BootFacts(
            vendor=station.get("vendorName"),
            model=station.get("model"),
            firmware=station.get("firmwareVersion"),
            serial=station.get("serialNumber"),
            reason=payload.get("reason"),
        )

    def connector_status(self, payload: dict[str, Any]) -> ConnectorStatus:
        return ConnectorStatus(
            connector=int(payload["evseId"]),
            status=payload["connectorStatus"],
            evse_id=int(payload["evseId"]),
            connector_id=int(payload["connectorId"]),
        )

    def status_fields(self, connector: int, status: str | None = None) -> dict[str, Any]:
        fields: dict[str, Any] = {"evseId": int(connector)}
        if status is not None:
            fields["connectorStatus"] = status
        return fields

    def read_settings(self, call: Call, settings: Iterable[str]) -> list[SettingValue]:
        addresses = [self.address(s) for s in settings]
        answer = call(
            "GetVariables",
            {
                "getVariableData": [
                    {"component": _component(a), "variable": {"name": a.name}} for a in addresses
                ]
            },
        )
        results = {
            _key(r.get("component") or {}, r.get("variable") or {}): r
            for r in answer.get("getVariableResult") or []
        }
        values = []
        for a in addresses:
            r = results.get(_address_key(a))
            if r is None:
                values.append(SettingValue(a, None, known=False, raw_status="(no result)"))
                continue
            status = str(r.get("attributeStatus"))
            values.append(
                SettingValue(
                    a,
                    r.get("attributeValue"),
                    known=status not in _UNKNOWN,
                    raw_status=status,
                )
            )
        return values

    def change_setting(self, call: Call, setting: str, value: str) -> SettingChange:
        address = self.address(setting)
        answer = call(
            "SetVariables",
            {
                "setVariableData": [
                    {
                        "attributeValue": str(value),
                        "component": _component(address),
                        "variable": {"name": address.name},
                    }
                ]
            },
        )
        results = answer.get("setVariableResult") or []
        if len(results) != 1:
            raise AssertionError(
                f"SetVariables {address.label}={value}: expected one setVariableResult, "
                f"got {len(results)}"
            )
        raw = str(results[0].get("attributeStatus"))
        status = normalise_status(raw, _SET_STATUSES)
        return SettingChange(address, str(value), status, raw, _detail(results[0]))

    def full_report_request(self, request_id: int) -> tuple[str, dict[str, Any]]:
        return "GetBaseReport", {"requestId": int(request_id), "reportBase": "FullInventory"}

    def settings_from_report(self, payloads: Iterable[dict[str, Any]]) -> list[SettingValue]:
        """The Actual attribute of every variable in NotifyReport parts (in ``seqNo`` order)."""
        values = []
        for part in sorted(payloads, key=lambda p: p.get("seqNo", 0)):
            for data in part.get("reportData") or []:
                component, variable = data.get("component") or {}, data.get("variable") or {}
                address = SettingAddress(
                    variable.get("name", ""),
                    component.get("name", ""),
                    (component.get("evse") or {}).get("id"),
                    component.get("instance"),
                )
                attributes = data.get("variableAttribute") or []
                actual = next(
                    (a for a in attributes if a.get("type", "Actual") == "Actual"),
                    attributes[0] if attributes else {},
                )
                mutability = actual.get("mutability")
                values.append(
                    SettingValue(
                        address,
                        actual.get("value"),
                        readonly=None if mutability is None else mutability == "ReadOnly",
                    )
                )
        return values
