"""OCPP 1.6 JSON: configuration keys, GetConfiguration / ChangeConfiguration, connectorId."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from hil.ocpp16 import REQUIRED_CORE_KEYS
from hil.protocol.base import (
    AUTHORIZATION_CACHE,
    AUTHORIZE_REMOTE_START,
    CONNECTION_TIMEOUT,
    HEARTBEAT_INTERVAL,
    LOCAL_PRE_AUTHORIZE,
    METER_SAMPLE_INTERVAL,
    READ_ONLY_PROBE,
    RULE_AVAILABILITY,
    RULE_BOOT,
    RULE_BOOT_STATUS,
    RULE_CHANGE_SETTING,
    RULE_CLEAR_PROFILE,
    RULE_COMPOSITE,
    RULE_FULL_REPORT,
    RULE_HEARTBEAT,
    RULE_PROFILE_LIMIT,
    RULE_READ_CONFIGURATION,
    RULE_REQUIRED_SETTINGS,
    RULE_RESET,
    RULE_SET_PROFILE,
    RULE_STATUS,
    SAMPLED_MEASURANDS,
    SETTINGS_PER_READ,
    BootFacts,
    Call,
    ConfigurationReport,
    ConnectorStatus,
    ProtocolAdapter,
    SettingAddress,
    SettingChange,
    SettingStatus,
    SettingValue,
    TransactionFacts,
    normalise_status,
)
from hil.verify.charging_profiles import CompositeSchedule, parse_composite

_CHANGE_STATUSES = {s.value: s for s in SettingStatus}


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


class Ocpp16(ProtocolAdapter):
    version = "1.6"
    subprotocol = "ocpp1.6"
    certification = "OCPP 1.6 JSON"
    boot_reason_field = None
    rules = {
        RULE_BOOT: "OCPP 1.6 §4.2 (BootNotification)",
        RULE_HEARTBEAT: "OCPP 1.6 §4.6 (Heartbeat), §9.1.10 (HeartbeatInterval)",
        RULE_STATUS: "OCPP 1.6 §4.9 (StatusNotification)",
        RULE_BOOT_STATUS: (
            "OCPP 1.6 §4.9 and §6.47: StatusNotification connectorId 0 is the Charge Point "
            "main controller (Available, Unavailable or Faulted), 1 to n each connector; step 1 "
            "asks for every one once the BootNotification is Accepted (§4.2)"
        ),
        RULE_READ_CONFIGURATION: "OCPP 1.6 §5.8 (GetConfiguration)",
        RULE_FULL_REPORT: "OCPP 1.6 §5.8 (GetConfiguration without keys), §9.1 (Core keys)",
        RULE_CHANGE_SETTING: "OCPP 1.6 §5.3 (ChangeConfiguration)",
        RULE_REQUIRED_SETTINGS: "OCPP 1.6 §9.1 (Core configuration keys)",
        RULE_AVAILABILITY: "OCPP 1.6 §5.2 (ChangeAvailability)",
        RULE_RESET: "OCPP 1.6 §5.14 (Reset)",
    }
    required_settings = tuple(REQUIRED_CORE_KEYS)
    settings = {
        HEARTBEAT_INTERVAL: SettingAddress("HeartbeatInterval"),
        METER_SAMPLE_INTERVAL: SettingAddress("MeterValueSampleInterval"),
        SAMPLED_MEASURANDS: SettingAddress("MeterValuesSampledData"),
        CONNECTION_TIMEOUT: SettingAddress("ConnectionTimeOut"),
        AUTHORIZATION_CACHE: SettingAddress("AuthorizationCacheEnabled"),
        AUTHORIZE_REMOTE_START: SettingAddress("AuthorizeRemoteTxRequests"),
        LOCAL_PRE_AUTHORIZE: SettingAddress("LocalPreAuthorize"),
        SETTINGS_PER_READ: SettingAddress("GetConfigurationMaxKeys"),
        READ_ONLY_PROBE: SettingAddress("NumberOfConnectors"),
    }

    def parse_address(self, name: str) -> SettingAddress:
        return SettingAddress(name)

    def unknown_settings(self, count: int) -> list[str]:
        return [f"HilNoSuchKey{i}" for i in range(1, count + 1)]

    def status_connectors(self, connectors: int) -> list[int]:
        """Connector 0 (the station) and every connector (§4.9)."""
        return list(range(0, connectors + 1))

    def availability_request(self, connector: int, operative: bool) -> tuple[str, dict[str, Any]]:
        return "ChangeAvailability", {
            "connectorId": int(connector),
            "type": "Operative" if operative else "Inoperative",
        }

    def reset_request(self, kind: str) -> tuple[str, dict[str, Any]]:
        """§5.14: Reset Hard or Soft."""
        if kind not in ("Hard", "Soft"):
            raise ValueError(f"reset type {kind!r}: use Hard or Soft")
        return "Reset", {"type": kind}

    def trigger_request(self, message: str, connector: int | None) -> tuple[str, dict[str, Any]]:
        """§5.17: requestedMessage, with connectorId when given."""
        payload: dict[str, Any] = {"requestedMessage": message}
        if connector is not None:
            payload["connectorId"] = int(connector)
        return "TriggerMessage", payload

    def unknown_trigger_request(self, name: str) -> Any:
        from ocpp.v16 import call

        return call.TriggerMessage(requested_message=name)

    def message_connector(self, payload: dict[str, Any]) -> int | None:
        return payload.get("connectorId")

    def transaction_facts(
        self, action: str, payload: dict[str, Any], answer: dict[str, Any] | None = None
    ) -> TransactionFacts | None:
        """§4.8 StartTransaction (the id is in the back office's answer), §4.7 MeterValues
        with a transactionId, §4.10 StopTransaction (no reason: Local)."""
        if action == "StartTransaction":
            return TransactionFacts(
                "started",
                (answer or {}).get("transactionId"),
                payload.get("connectorId"),
                payload.get("idTag"),
                _number(payload.get("meterStart")),
            )
        if action == "MeterValues" and payload.get("transactionId") is not None:
            return TransactionFacts("updated", payload["transactionId"], payload.get("connectorId"))
        if action == "StopTransaction":
            return TransactionFacts(
                "ended",
                payload.get("transactionId"),
                tag=payload.get("idTag"),
                meter_wh=_number(payload.get("meterStop")),
                reason=payload.get("reason"),
            )
        return None

    def authorize_tag(self, payload: dict[str, Any]) -> str | None:
        return payload.get("idTag")

    def authorize_fields(self, tag: str) -> dict[str, Any]:
        return {"idTag": tag}

    def remote_stop_request(self, transaction_id: Any) -> tuple[str, dict[str, Any]]:
        """§5.12 RemoteStopTransaction."""
        return "RemoteStopTransaction", {"transactionId": transaction_id}

    def fault_code_problem(self, status_payload: dict[str, Any]) -> tuple[str | None, str | None]:
        """§4.9/§7.6: Faulted comes with an errorCode other than NoError; a generic
        OtherError without a vendorErrorCode says nothing a technician can use (remark)."""
        code = status_payload.get("errorCode")
        if code == "NoError":
            return f"Faulted is reported with errorCode NoError: {status_payload}", None
        if code == "OtherError" and not status_payload.get("vendorErrorCode"):
            return None, (
                "Fault reported as OtherError without a vendorErrorCode; a specific "
                "errorCode is expected"
            )
        return None, None

    def recovery_cues(self, connector: int, state: str) -> list[tuple[str, dict[str, Any]]]:
        """§4.9: StatusNotification of the state with errorCode NoError."""
        return [
            (self.status_action, {**self.status_fields(connector, state), "errorCode": "NoError"})
        ]

    def signed_values(self, action: str, payload: dict[str, Any]) -> list[Any]:
        """OCA "Signed Meter Values in OCPP" (1.6): format SignedData in MeterValues and in
        StopTransaction ``transactionData``."""
        from hil.verify.ocmf import (
            signed_values_from_meter_values,
            signed_values_from_stop_transaction,
        )

        if action == "StopTransaction":
            return signed_values_from_stop_transaction(payload)
        if action == "MeterValues":
            return signed_values_from_meter_values(payload)
        return []

    def meter_public_key(self, call: Call, connector: int) -> tuple[str | None, str]:
        """The OCA note's read-only key ``MeterPublicKey[<connector>]`` (GetConfiguration)."""
        from hil.verify.ocmf import meter_public_keys

        name = f"MeterPublicKey[{connector}]"
        answer = call("GetConfiguration", {"key": [name]})
        keys = meter_public_keys(answer.get("configurationKey") or [])
        if connector in keys:
            return keys[connector], f"the station's {name}"
        return None, f"nowhere (the station has no {name})"

    def remote_start_request(self, tag: str, connector: int) -> tuple[str, dict[str, Any]]:
        """§5.11 RemoteStartTransaction."""
        return "RemoteStartTransaction", {"idTag": tag, "connectorId": int(connector)}

    def unknown_transaction_id(self, known: list[Any]) -> Any:
        """An integer above every id the back office gave (§4.8: the back office numbers)."""
        return max([k for k in known if isinstance(k, int)] + [0]) + 100_000

    def authorize_status(self, answer: dict[str, Any]) -> str | None:
        return (answer.get("idTagInfo") or {}).get("status")

    def start_problem(self, payload: dict[str, Any]) -> str | None:
        """§4.8: meterStart is an integer (Wh)."""
        meter_start = payload.get("meterStart")
        if not isinstance(meter_start, int) or isinstance(meter_start, bool):
            return f"meterStart {meter_start!r} is not an integer Wh value"
        return None

    def firmware_request(
        self,
        url: str,
        retrieve: str,
        request_id: int,
        retries: int | None = None,
        retry_interval: int | None = None,
    ) -> tuple[str, dict[str, Any]]:
        """§5.20 UpdateFirmware (1.6 has no request id)."""
        payload: dict[str, Any] = {"location": url, "retrieveDate": retrieve}
        if retries is not None:
            payload["retries"] = int(retries)
        if retry_interval is not None:
            payload["retryInterval"] = int(retry_interval)
        return "UpdateFirmware", payload

    def diagnostics_request(
        self,
        url: str,
        request_id: int,
        retries: int | None = None,
        retry_interval: int | None = None,
        start_time: str | None = None,
    ) -> tuple[str, dict[str, Any]]:
        """§5.9 GetDiagnostics (1.6 has no request id)."""
        payload: dict[str, Any] = {"location": url}
        if retries is not None:
            payload["retries"] = int(retries)
        if retry_interval is not None:
            payload["retryInterval"] = int(retry_interval)
        if start_time is not None:
            payload["startTime"] = start_time
        return "GetDiagnostics", payload

    def diagnostics_file_name(self, answer: dict[str, Any]) -> str | None:
        return answer.get("fileName")

    def malformed_settings(self, report: ConfigurationReport) -> list[str]:
        """§5.8: each entry has a key, a boolean readonly flag and (if present) a string
        value."""
        bad = []
        for answer in report.raw:
            for entry in answer.get("configurationKey") or []:
                if not isinstance(entry.get("readonly"), bool):
                    bad.append(f"{entry.get('key')}: readonly is {entry.get('readonly')!r}")
                if "value" in entry and not isinstance(entry["value"], str):
                    bad.append(f"{entry.get('key')}: value {entry['value']!r} is not a string")
        return bad

    def boot_facts(self, payload: dict[str, Any]) -> BootFacts:
        return BootFacts(
            vendor=payload.get("chargePointVendor"),
            model=payload.get("chargePointModel"),
            firmware=payload.get("firmwareVersion"),
            serial=payload.get("chargePointSerialNumber"),
            reason=None,
        )

    def connector_status(self, payload: dict[str, Any]) -> ConnectorStatus:
        return ConnectorStatus(
            connector=int(payload["connectorId"]),
            status=payload["status"],
            error_code=payload.get("errorCode"),
        )

    def status_fields(self, connector: int, status: str | None = None) -> dict[str, Any]:
        fields: dict[str, Any] = {"connectorId": int(connector)}
        if status is not None:
            fields["status"] = status
        return fields

    def read_settings(self, call: Call, settings: Iterable[str]) -> list[SettingValue]:
        addresses = [self.address(s) for s in settings]
        answer = call("GetConfiguration", {"key": [a.name for a in addresses]})
        return self._values(addresses, answer)

    @staticmethod
    def _unknown(answer: dict[str, Any]) -> set[str]:
        return {str(k) for k in answer.get("unknownKey") or []}

    def _values(
        self, addresses: list[SettingAddress], answer: dict[str, Any]
    ) -> list[SettingValue]:
        entries = {e.get("key"): e for e in answer.get("configurationKey") or []}
        unknown = self._unknown(answer)
        values = []
        for a in addresses:
            entry = entries.get(a.name)
            if entry is None:  # §5.8: a key it does not know is listed in unknownKey
                values.append(SettingValue(a, None, known=False, answered=a.name in unknown))
            else:
                values.append(SettingValue(a, entry.get("value"), readonly=entry.get("readonly")))
        return values

    def change_setting(self, call: Call, setting: str, value: str) -> SettingChange:
        address = self.address(setting)
        answer = call("ChangeConfiguration", {"key": address.name, "value": str(value)})
        raw = str(answer.get("status"))
        return SettingChange(address, str(value), normalise_status(raw, _CHANGE_STATUSES), raw)

    def full_report_request(self, request_id: int) -> tuple[str, dict[str, Any]]:
        return "GetConfiguration", {}

    def settings_from_report(self, payloads: Iterable[dict[str, Any]]) -> list[SettingValue]:
        values = []
        for answer in payloads:
            for e in answer.get("configurationKey") or []:
                values.append(
                    SettingValue(
                        SettingAddress(str(e.get("key"))),
                        e.get("value"),
                        readonly=e.get("readonly"),
                    )
                )
        return values

    # -- smart charging (SC1-SC3) ---------------------------------------------------------

    rules = {
        **rules,
        RULE_SET_PROFILE: "OCPP 1.6 §5.16 (SetChargingProfile), §3.13.1 (profile purposes)",
        RULE_CLEAR_PROFILE: "OCPP 1.6 §5.7 (ClearChargingProfile)",
        RULE_COMPOSITE: "OCPP 1.6 §5.13 (GetCompositeSchedule), §3.13.2-3.13.3",
        RULE_PROFILE_LIMIT: "OCPP 1.6 §3.13 (the output follows the composite schedule)",
    }
    #: §9.4 Smart Charging configuration keys
    profile_limit_settings = {
        "max_stack_level": "ChargeProfileMaxStackLevel",
        "max_periods": "ChargingScheduleMaxPeriods",
        "max_profiles": "MaxChargingProfilesInstalled",
    }

    def set_profile_request(
        self, connector: int, profile: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        """§5.16 SetChargingProfile: connectorId and csChargingProfiles."""
        return "SetChargingProfile", {"connectorId": int(connector), "csChargingProfiles": profile}

    def clear_profile_requests(
        self,
        profile_id: int | None = None,
        connector: int | None = None,
        purpose: str | None = None,
        stack_level: int | None = None,
    ) -> list[tuple[str, dict[str, Any]]]:
        """§5.7 ClearChargingProfile: id, or connectorId, chargingProfilePurpose and
        stackLevel together; none of them clears every profile."""
        payload: dict[str, Any] = {}
        if profile_id is not None:
            payload["id"] = int(profile_id)
        if connector is not None:
            payload["connectorId"] = int(connector)
        if purpose is not None:
            payload["chargingProfilePurpose"] = purpose
        if stack_level is not None:
            payload["stackLevel"] = int(stack_level)
        return [("ClearChargingProfile", payload)]

    def composite_schedule(self, answer: dict[str, Any], connector: int) -> CompositeSchedule:
        """§5.13: scheduleStart and chargingSchedule (its startSchedule when scheduleStart
        is left out)."""
        return parse_composite(answer)
