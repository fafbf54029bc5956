"""OCPP 2.0.1: the device model (components and variables), GetVariables / SetVariables /
GetBaseReport, EVSE and connector ids. Use case ids are those of OCPP 2.0.1 Part 2."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

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
    StatusVariants,
    TransactionFacts,
    normalise_status,
)
from hil.verify.charging_profiles import CompositeSchedule, parse_composite
from hil.verify.charging_profiles.v201 import PURPOSES_201, ProfileStore201
from hil.verify.meter_values import context_register_wh, parse_time

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
        if address.connector is not None:
            component["evse"]["connectorId"] = address.connector
    if address.instance:
        component["instance"] = address.instance
    return component


def _variable(address: SettingAddress) -> dict[str, Any]:
    variable: dict[str, Any] = {"name": address.name}
    if address.variable_instance:
        variable["instance"] = address.variable_instance
    return variable


def _address(component: dict[str, Any], variable: dict[str, Any]) -> SettingAddress:
    evse = component.get("evse") or {}
    return SettingAddress(
        str(variable.get("name", "")),
        str(component.get("name", "")),
        evse.get("id"),
        component.get("instance"),
        evse.get("connectorId"),
        variable.get("instance"),
    )


def _detail(result: dict[str, Any]) -> str:
    info = result.get("attributeStatusInfo") or {}
    return " ".join(str(v) for v in (info.get("reasonCode"), info.get("additionalInfo")) if v)


#: 2.0.1 stoppedReason -> the lab's (1.6's) words where they differ
STOPPED_REASONS = {"ImmediateReset": "HardReset", "Reboot": "SoftReset"}


def _stopped_reason(info: dict[str, Any]) -> str | None:
    """stoppedReason in the lab's words (None when absent: Local, the only reason it MAY
    be left out for)."""
    reason = info.get("stoppedReason")
    return None if reason is None else STOPPED_REASONS.get(str(reason), str(reason))


#: The lab's trigger names (1.6's) that are another message in 2.0.1 (F06)
TRIGGER_NAMES = {"DiagnosticsStatusNotification": "LogStatusNotification"}

#: The variables OCPP 2.0.1 Part 2 marks required for a Core station (the lab's reading
#: of the appendix's component tables; a station that lacks one fails step 3).
REQUIRED_STATION_VARIABLES = (
    "ChargingStation.AvailabilityState",
    "ChargingStation.Available",
    "ChargingStation.SupplyPhases",
    "AuthCtrlr.AuthorizeRemoteStart",
    "AuthCtrlr.LocalAuthorizeOffline",
    "AuthCtrlr.LocalPreAuthorize",
    "ClockCtrlr.DateTime",
    "ClockCtrlr.TimeSource",
    "DeviceDataCtrlr.ItemsPerMessage[GetReport]",
    "DeviceDataCtrlr.ItemsPerMessage[GetVariables]",
    "DeviceDataCtrlr.ItemsPerMessage[SetVariables]",
    "DeviceDataCtrlr.BytesPerMessage[GetReport]",
    "DeviceDataCtrlr.BytesPerMessage[GetVariables]",
    "DeviceDataCtrlr.BytesPerMessage[SetVariables]",
    "OCPPCommCtrlr.FileTransferProtocols",
    "OCPPCommCtrlr.MessageTimeout[Default]",
    "OCPPCommCtrlr.MessageAttempts[TransactionEvent]",
    "OCPPCommCtrlr.MessageAttemptInterval[TransactionEvent]",
    "OCPPCommCtrlr.NetworkConfigurationPriority",
    "OCPPCommCtrlr.NetworkProfileConnectionAttempts",
    "OCPPCommCtrlr.OfflineThreshold",
    "OCPPCommCtrlr.ResetRetries",
    "OCPPCommCtrlr.UnlockOnEVSideDisconnect",
    "SampledDataCtrlr.TxEndedMeasurands",
    "SampledDataCtrlr.TxEndedInterval",
    "SampledDataCtrlr.TxStartedMeasurands",
    "SampledDataCtrlr.TxUpdatedMeasurands",
    "SampledDataCtrlr.TxUpdatedInterval",
    "AlignedDataCtrlr.Measurands",
    "AlignedDataCtrlr.Interval",
    "AlignedDataCtrlr.TxEndedMeasurands",
    "AlignedDataCtrlr.TxEndedInterval",
    "SecurityCtrlr.OrganizationName",
    "SecurityCtrlr.CertificateEntries",
    "SecurityCtrlr.SecurityProfile",
    "TxCtrlr.EVConnectionTimeOut",
    "TxCtrlr.StopTxOnEVSideDisconnect",
    "TxCtrlr.StopTxOnInvalidId",
    "TxCtrlr.TxStartPoint",
    "TxCtrlr.TxStopPoint",
)
REQUIRED_EVSE_VARIABLES = ("AvailabilityState", "Available", "Power", "SupplyPhases")
REQUIRED_CONNECTOR_VARIABLES = ("AvailabilityState", "Available", "ConnectorType", "SupplyPhases")


def _event_label(frame: Any) -> str:
    payload = frame.payload or {}
    event, seq = payload.get("eventType"), payload.get("seqNo")
    return f"TransactionEvent {event} seqNo {seq} (#{frame.seq})"


class Ocpp201(ProtocolAdapter):
    version = "2.0.1"
    subprotocol = "ocpp2.0.1"
    certification = "OCPP 2.0.1 Core"
    boot_reason_field = "reason"
    rules = {
        RULE_BOOT: "OCPP 2.0.1 Part 2 B01-B04 (BootNotification with reason)",
        RULE_HEARTBEAT: "OCPP 2.0.1 Part 2 G02 (Heartbeat; OCPPCommCtrlr.HeartbeatInterval)",
        RULE_STATUS: "OCPP 2.0.1 Part 2 B01, G01 (StatusNotification per EVSE and connector)",
        RULE_BOOT_STATUS: (
            "OCPP 2.0.1 Part 2 B01 (once the BootNotification is Accepted, a "
            "StatusNotificationRequest for each connector) and G01 (per EVSE and connector: "
            "2.0.1 has no connector 0)"
        ),
        RULE_READ_CONFIGURATION: "OCPP 2.0.1 Part 2 B06 (GetVariables)",
        RULE_FULL_REPORT: "OCPP 2.0.1 Part 2 B07-B08 (GetBaseReport -> NotifyReport)",
        RULE_CHANGE_SETTING: "OCPP 2.0.1 Part 2 B05 (SetVariables)",
        RULE_REQUIRED_SETTINGS: "OCPP 2.0.1 Part 2 Appendix (Core required variables), B07",
        RULE_AVAILABILITY: "OCPP 2.0.1 Part 2 G03-G04 (ChangeAvailability)",
        RULE_RESET: "OCPP 2.0.1 Part 2 B11-B12 (Reset)",
    }
    change_action = "SetVariables"
    read_action = "GetVariables"
    remote_reset_boot_reason = "RemoteReset"
    settings = {
        HEARTBEAT_INTERVAL: SettingAddress("HeartbeatInterval", "OCPPCommCtrlr"),
        METER_SAMPLE_INTERVAL: SettingAddress("TxUpdatedInterval", "SampledDataCtrlr"),
        SAMPLED_MEASURANDS: SettingAddress("TxUpdatedMeasurands", "SampledDataCtrlr"),
        CONNECTION_TIMEOUT: SettingAddress("EVConnectionTimeOut", "TxCtrlr"),
        AUTHORIZATION_CACHE: SettingAddress("Enabled", "AuthCacheCtrlr"),
        AUTHORIZE_REMOTE_START: SettingAddress("AuthorizeRemoteStart", "AuthCtrlr"),
        LOCAL_PRE_AUTHORIZE: SettingAddress("LocalPreAuthorize", "AuthCtrlr"),
        SETTINGS_PER_READ: SettingAddress(
            "ItemsPerMessage", "DeviceDataCtrlr", variable_instance="GetVariables"
        ),
        READ_ONLY_PROBE: SettingAddress(
            "ItemsPerMessage", "DeviceDataCtrlr", variable_instance="GetVariables"
        ),
    }
    full_report_arrives_in = "NotifyReport"

    def parse_address(self, name: str) -> SettingAddress:
        """``Component.Variable``, ``Component[instance].Variable``,
        ``Component.Variable[instance]`` (the variable's instance), ``EVSE[n].Component.Variable``
        or ``EVSE[n/c].Connector.Variable``."""
        parts = name.split(".")
        evse = connector = None
        if parts and parts[0].startswith("EVSE[") and parts[0].endswith("]"):
            where = parts.pop(0)[5:-1]
            evse_text, _, connector_text = where.partition("/")
            evse = int(evse_text)
            connector = int(connector_text) if connector_text else None
        if len(parts) != 2 or not all(parts):
            raise ValueError(
                f"{name!r} is no OCPP 2.0.1 setting: name it Component.Variable "
                "(e.g. OCPPCommCtrlr.HeartbeatInterval)"
            )
        component, variable = parts
        instance = variable_instance = None
        if component.endswith("]") and "[" in component:
            component, instance = component[:-1].split("[", 1)
        if variable.endswith("]") and "[" in variable:
            variable, variable_instance = variable[:-1].split("[", 1)
        return SettingAddress(variable, component, evse, instance, connector, variable_instance)

    def unknown_settings(self, count: int) -> list[str]:
        """An unknown variable of a component every station has, then unknown components
        (B06: UnknownVariable, UnknownComponent)."""
        names = ["OCPPCommCtrlr.HilNoSuchVariable1"]
        names += [f"HilNoSuchCtrlr.HilNoSuchVariable{i}" for i in range(2, count + 1)]
        return names[:count]

    def required_settings_for(self, connectors: int) -> list[str]:
        labels = list(REQUIRED_STATION_VARIABLES)
        for e in range(1, connectors + 1):
            labels += [f"EVSE[{e}].EVSE.{v}" for v in REQUIRED_EVSE_VARIABLES]
            labels += [f"EVSE[{e}/1].Connector.{v}" for v in REQUIRED_CONNECTOR_VARIABLES]
        return labels

    def status_connectors(self, connectors: int) -> list[int]:
        """Every EVSE's connector (the lab numbers one connector per EVSE); 2.0.1 has no
        connector 0 (B01: a StatusNotification per connector)."""
        return list(range(1, connectors + 1))

    def availability_request(self, connector: int, operative: bool) -> tuple[str, dict[str, Any]]:
        """G03/G04: no ``evse`` for the whole station, else the EVSE (its one connector)."""
        payload: dict[str, Any] = {"operationalStatus": "Operative" if operative else "Inoperative"}
        if int(connector):
            payload["evse"] = {"id": int(connector)}
        return "ChangeAvailability", payload

    def reset_request(self, kind: str) -> tuple[str, dict[str, Any]]:
        """B11/B12: the lab's Hard reset is ``Immediate``, its Soft (graceful) reset is
        ``OnIdle``; ``Immediate`` / ``OnIdle`` may be named directly too."""
        types = {
            "Hard": "Immediate",
            "Soft": "OnIdle",
            "Immediate": "Immediate",
            "OnIdle": "OnIdle",
        }
        if kind not in types:
            raise ValueError(f"reset type {kind!r}: use Hard (Immediate) or Soft (OnIdle)")
        return "Reset", {"type": types[kind]}

    trigger_promise_rule = (
        "OCPP 2.0.1 Part 2 F06: TriggerMessageResponse status says whether the Charging "
        'Station will send the requested message; Accepted: "Requested message will be sent"'
    )
    trigger_order_rule = (
        "OCPP 2.0.1 Part 2 F06.FR.04: the Charging Station first sends the "
        "TriggerMessageResponse, before sending the requested message"
    )

    def triggered_action(self, message: str) -> str:
        """F06: 2.0.1 reports log uploads (1.6's diagnostics) with LogStatusNotification."""
        return TRIGGER_NAMES.get(message, message)

    def trigger_request(self, message: str, connector: int | None) -> tuple[str, dict[str, Any]]:
        """F06: requestedMessage, with the EVSE (and its connector, for a
        StatusNotification) when a connector is given."""
        payload: dict[str, Any] = {"requestedMessage": self.triggered_action(message)}
        if connector is not None:
            evse: dict[str, Any] = {"id": int(connector)}
            if message == "StatusNotification":
                evse["connectorId"] = 1  # the lab's one connector per EVSE
            payload["evse"] = evse
        return "TriggerMessage", payload

    def trigger_expected_answer(self, message: str) -> str | None:
        """F06.FR.17: a registered station (its last boot Accepted) rejects a trigger for
        BootNotification."""
        return "Rejected" if message == "BootNotification" else None

    def unknown_trigger_request(self, name: str) -> Any:
        from ocpp.v201 import call

        return call.TriggerMessage(requested_message=name)

    def message_connector(self, payload: dict[str, Any]) -> int | None:
        return payload.get("evseId")

    transaction_actions = ("TransactionEvent",)
    start_label = "TransactionEvent Started"
    update_label = "TransactionEvent Updated"
    end_label = "TransactionEvent Ended"

    def transaction_facts(
        self, action: str, payload: dict[str, Any], answer: dict[str, Any] | None = None
    ) -> TransactionFacts | None:
        """E01-E07: TransactionEvent Started / Updated / Ended; the station's transaction id;
        the register from a Transaction.Begin / Transaction.End reading; stoppedReason in
        1.6's words (absent: Local, its default)."""
        if action != "TransactionEvent":
            return None
        info = payload.get("transactionInfo") or {}
        event = str(payload.get("eventType", "")).lower()
        context = {"started": "Transaction.Begin", "ended": "Transaction.End"}.get(event)
        return TransactionFacts(
            event,
            info.get("transactionId"),
            (payload.get("evse") or {}).get("id"),
            (payload.get("idToken") or {}).get("idToken"),
            context_register_wh(payload, context) if context else None,
            _stopped_reason(info) if event == "ended" else None,
            payload.get("seqNo"),
            bool(payload.get("offline", False)),
        )

    def authorize_tag(self, payload: dict[str, Any]) -> str | None:
        return (payload.get("idToken") or {}).get("idToken")

    def authorize_fields(self, tag: str) -> dict[str, Any]:
        return {"idToken.idToken": tag}

    def remote_stop_request(self, transaction_id: Any) -> tuple[str, dict[str, Any]]:
        """F03 RequestStopTransaction."""
        return "RequestStopTransaction", {"transactionId": str(transaction_id)}

    #: N07: a station reports a problem of a component with NotifyEvent (the connector's
    #: StatusNotification says only Faulted, G01)
    fault_detail_action = "NotifyEvent"

    def fault_detail_fields(self, connector: int) -> dict[str, Any]:
        return {"eventData.0.actualValue": "true", "eventData.0.component.evse.id": connector}

    def recovery_cues(self, connector: int, state: str) -> list[tuple[str, dict[str, Any]]]:
        """G01: the connector leaves Faulted (Occupied, the EV still plugged); E02: the
        transaction's chargingState says the lab's state again."""
        cues = [(self.status_action, self.status_fields(connector, "Occupied"))]
        cue = self.state_cue(connector, state)
        if cue is not None and cue[0] != self.status_action:
            cues.append(cue)
        return cues

    def signed_values(self, action: str, payload: dict[str, Any]) -> list[Any]:
        """A TransactionEvent's SampledValueType.signedMeterValue (OCMF in signedMeterData,
        E01-E07 with the meter values of the transaction)."""
        from hil.verify.ocmf import signed_values_from_transaction_event

        return signed_values_from_transaction_event(payload) if action == "TransactionEvent" else []

    def meter_public_key(self, call: Call, connector: int) -> tuple[str | None, str]:
        """2.0.1 sends the key with the signed value (signedMeterValue.publicKey, as
        SampledDataCtrlr.PublicKeyWithSignedMeterValue says); the lab reads no variable."""
        return None, "nowhere (2.0.1 sends it in signedMeterValue.publicKey)"

    def remote_start_request(self, tag: str, connector: int) -> tuple[str, dict[str, Any]]:
        """F01/F02 RequestStartTransaction: the idToken, the EVSE and the back office's
        remoteStartId (the station names it in the transaction it starts, F01)."""
        self._remote_start_id += 1
        return "RequestStartTransaction", {
            "idToken": {"idToken": tag, "type": "ISO14443"},
            "evseId": int(connector),
            "remoteStartId": self._remote_start_id,
        }

    _remote_start_id = 0

    def unknown_transaction_id(self, known: list[Any]) -> Any:
        """The station names its transactions (E01: transactionId, up to 36 characters):
        one no station chose."""
        return "hil-lab-unknown-transaction"

    def reset_answer(self, kind: str, during_session: bool) -> str:
        """B12: a Reset OnIdle (the lab's Soft reset) while a transaction runs is
        Scheduled; otherwise Accepted (B11)."""
        return "Scheduled" if kind in ("Soft", "OnIdle") and during_session else "Accepted"

    soft_reset_waits_for_idle = True

    def expected_stop_reason(self, reason: str) -> str:
        """B12: Immediate ends the transaction with ImmediateReset (the lab's HardReset);
        OnIdle waits for it to end, and F05: an unlock is refused while it runs; in both
        cases the lab ends it with RequestStopTransaction (stoppedReason Remote)."""
        return "Remote" if reason in ("SoftReset", "UnlockCommand") else reason

    def unlock_request(self, connector: int) -> tuple[str, dict[str, Any]]:
        """F05: the EVSE and its connector (the lab's one connector per EVSE)."""
        return "UnlockConnector", {"evseId": int(connector), "connectorId": 1}

    #: F05: an unlock while an authorized transaction runs is refused
    unlock_refusal_during_session = "OngoingAuthorizedTransaction"

    def authorize_status(self, answer: dict[str, Any]) -> str | None:
        return (answer.get("idTokenInfo") or {}).get("status")

    start_may_precede_tag = True

    #: 2.0.1 ReasonEnumType has StoppedByEV ("the transaction was stopped by the EV")
    ev_stop_reasons: dict[str, str | None] = {
        "StoppedByEV": None,
        "Other": "2.0.1 has stoppedReason StoppedByEV for a transaction the EV ended",
        "Local": "Local means the user stopped it at the station; StoppedByEV says the EV did",
    }

    def offline_flag_problems(
        self, frames: list[Any], down: datetime, up: datetime, tolerance_s: float
    ) -> list[str]:
        """E12 (TransactionEventRequest.offline): an event that happened while the station
        was offline says ``offline`` true. A station notices a lost connection only after a
        while (its ping or a message timing out), so the first events of the outage may
        still say online; from the first flagged one until the reconnect every event is
        flagged, at least one is, and none after the reconnect is."""
        margin = timedelta(seconds=tolerance_s)
        during: list[tuple[datetime, Any]] = []
        problems = []
        for f in frames:
            payload = f.payload or {}
            try:
                when = parse_time(str(payload.get("timestamp", "")))
            except ValueError:
                continue  # the schema check reports a bad timestamp
            if when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
            if down + margin < when < up - margin:
                during.append((when, f))
            elif when > up + margin and payload.get("offline"):
                problems.append(f"{_event_label(f)} of {when.isoformat()}, online, says offline")
        during.sort(key=lambda item: item[0])
        flags = [bool((f.payload or {}).get("offline")) for _, f in during]
        if during and not any(flags):
            problems.append(
                f"none of the {len(during)} TransactionEvent(s) of the connection loss says "
                f"offline true (first: {_event_label(during[0][1])})"
            )
        elif any(flags):
            first = flags.index(True)
            problems += [
                f"{_event_label(f)} of {when.isoformat()}, after an event flagged offline and "
                "before the reconnect, does not say offline true"
                for (when, f), flag in zip(during[first:], flags[first:], strict=True)
                if not flag
            ]
        return problems

    def sequence_problems(self, events: list[TransactionFacts]) -> list[str]:
        """TransactionEventRequest.seqNo counts a transaction's events so the CSMS can tell
        that none is missing: each next event has the next number (a repeated number, a
        message sent again, is no gap)."""
        numbers = [e.seq_no for e in events if e.seq_no is not None]
        problems = []
        for a, b in zip(numbers, numbers[1:], strict=False):
            if b not in (a, a + 1):
                problems.append(f"seqNo {a} is followed by {b}")
        return problems

    def firmware_request(
        self,
        url: str,
        retrieve: str,
        request_id: int,
        retries: int | None = None,
        retry_interval: int | None = None,
    ) -> tuple[str, dict[str, Any]]:
        """L01 UpdateFirmware with the lab's request id (no signature: the lab's test
        images are not signed)."""
        payload: dict[str, Any] = {
            "requestId": int(request_id),
            "firmware": {"location": url, "retrieveDateTime": retrieve},
        }
        if retries is not None:
            payload["retries"] = int(retries)
        if retry_interval is not None:
            payload["retryInterval"] = int(retry_interval)
        return "UpdateFirmware", payload

    def firmware_answer_problem(self, answer: dict[str, Any]) -> str | None:
        status = answer.get("status")
        if status in ("Accepted", "AcceptedCanceled"):
            return None
        return f"the station answered UpdateFirmware {status}: it will not update"

    #: L01: a station may report a scheduled download or install, a verified signature and
    #: the reboot of an install; a corrupt image may fail its verification instead of its
    #: installation, without Installing
    firmware_variants = StatusVariants(
        between=frozenset(
            {"DownloadScheduled", "SignatureVerified", "InstallScheduled", "InstallRebooting"}
        ),
        alternatives={"InstallationFailed": frozenset({"InstallVerificationFailed"})},
        skippable=frozenset({"Installing"}),
    )
    firmware_boot_reason = "FirmwareUpdate"

    def firmware_status_problem(self, payload: dict[str, Any], request_id: int) -> str | None:
        """L01: FirmwareStatusNotification names the UpdateFirmware's requestId."""
        got = payload.get("requestId")
        if got != request_id:
            return f"requestId {got!r}, expected {request_id} (the UpdateFirmware's)"
        return None

    diagnostics_status_action = "LogStatusNotification"
    diagnostics_action = "GetLog"
    diagnostics_file_field = "filename"
    diagnostics_file_rule = (
        "OCPP 2.0.1 Part 2 N01 GetLogResponse: filename is not present when no logging "
        "information is available"
    )

    def diagnostics_request(
        self,
        url: str,
        request_id: int,
        retries: int | None = None,
        retry_interval: int | None = None,
        start_time: str | None = None,
    ) -> tuple[str, dict[str, Any]]:
        """N01 GetLog of the DiagnosticsLog, with the lab's request id."""
        log: dict[str, Any] = {"remoteLocation": url}
        if start_time is not None:
            log["oldestTimestamp"] = start_time
        payload: dict[str, Any] = {
            "logType": "DiagnosticsLog",
            "requestId": int(request_id),
            "log": log,
        }
        if retries is not None:
            payload["retries"] = int(retries)
        if retry_interval is not None:
            payload["retryInterval"] = int(retry_interval)
        return "GetLog", payload

    def diagnostics_file_name(self, answer: dict[str, Any]) -> str | None:
        """N01: Accepted (or AcceptedCanceled, an earlier upload cancelled) with the file
        name; Rejected means no upload."""
        status = answer.get("status")
        if status not in ("Accepted", "AcceptedCanceled"):
            raise AssertionError(f"The station answered GetLog {status}: it will not upload")
        return answer.get("filename")

    def diagnostics_status(self, status: str) -> str:
        return "UploadFailure" if status == "UploadFailed" else status

    def diagnostics_status_problem(self, payload: dict[str, Any], request_id: int) -> str | None:
        """N01: LogStatusNotification names the GetLog's requestId."""
        got = payload.get("requestId")
        if got != request_id:
            return f"requestId {got!r}, expected {request_id} (the GetLog's)"
        return None

    def malformed_settings(self, report: ConfigurationReport) -> list[str]:
        """On 2.0.1 the form of every NotifyReport part is its JSON schema, which the back
        office checks as each part arrives (a violation is a finding that fails the step);
        the one rule beyond it: a variable is reported once (B07: one ReportData per
        component and variable)."""
        seen: set[SettingAddress] = set()
        twice = []
        for value in report.settings:
            if value.address in seen:
                twice.append(f"{value.address.label}: reported more than once")
            seen.add(value.address)
        return twice

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

    def state_cue(
        self, connector: int, state: str, plugged: bool = True
    ) -> tuple[str, dict[str, Any]] | None:
        """2.0.1 has no Preparing, Charging or Finishing connector status (G01: a connector
        is Occupied from the plug to the unplug); the transaction says the rest (E02): its
        chargingState (Charging, SuspendedEV, SuspendedEVSE) and its end (Finishing: the
        transaction ended with the EV still plugged). A tag waiting for its cable
        (1.6 Preparing without a plug) leaves the connector Available: nothing to see."""
        if state == "Preparing" and not plugged:
            return None
        if state == "Preparing":
            return self.status_action, self.status_fields(connector, "Occupied")
        if state in ("Charging", "SuspendedEV", "SuspendedEVSE"):
            return "TransactionEvent", {"transactionInfo.chargingState": state}
        if state == "Finishing":
            return "TransactionEvent", {"eventType": "Ended"}
        return self.status_action, self.status_fields(connector, state)

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
                    {"component": _component(a), "variable": _variable(a)} for a in addresses
                ]
            },
        )
        results = {
            _address(r.get("component") or {}, r.get("variable") or {}): r
            for r in answer.get("getVariableResult") or []
        }
        values = []
        for a in addresses:
            r = results.get(a)
            if r is None:  # B06: a result for every requested variable
                values.append(
                    SettingValue(a, None, known=False, raw_status="(no result)", answered=False)
                )
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
                        "variable": _variable(address),
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
                address = _address(component, variable)
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

    # -- smart charging (SC1-SC3) ---------------------------------------------------------

    #: K01, K08, K10 (Smart Charging functional block) are checked
    rules = {
        **rules,
        RULE_SET_PROFILE: "OCPP 2.0.1 Part 2 K01 (SetChargingProfile)",
        RULE_CLEAR_PROFILE: "OCPP 2.0.1 Part 2 K10 (ClearChargingProfile)",
        RULE_COMPOSITE: "OCPP 2.0.1 Part 2 K08 (GetCompositeSchedule)",
        RULE_PROFILE_LIMIT: "OCPP 2.0.1 Part 2 K01, K08 (the output follows the composite)",
    }
    #: the SmartChargingCtrlr variables; the most profiles a station holds is the maxLimit
    #: of SmartChargingCtrlr.Entries[ChargingProfiles], a characteristic GetVariables
    #: cannot read (only a report shows it)
    profile_limit_settings = {
        "max_stack_level": "SmartChargingCtrlr.ProfileStackLevel",
        "max_periods": "SmartChargingCtrlr.PeriodsPerSchedule",
        "max_profiles": None,
    }

    #: K01's rules: a profile with the same id replaces the installed one (K01.FR.05);
    #: another with the same purpose and stack level on the same EVSE is refused (K01.FR.06,
    #: K01.FR.39); a TxProfile names its transaction (K01.FR.03)
    profile_store_class = ProfileStore201

    def purpose_name(self, purpose: str) -> str:
        """ChargePointMaxProfile is 2.0.1's ChargingStationMaxProfile."""
        return PURPOSES_201.get(purpose, purpose)

    def set_profile_request(
        self, connector: int, profile: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        """K01 SetChargingProfile: evseId (0: the station) and chargingProfile with its
        ``id``, the purpose in 2.0.1's words, a transactionId as the station's string
        (K01.FR.03) and the schedule as a list of one ChargingScheduleType, numbered with
        the profile's id."""
        schedule = dict(profile["chargingSchedule"])
        periods = schedule.pop("chargingSchedulePeriod")
        body: dict[str, Any] = {
            "id": int(profile["chargingProfileId"]),
            "stackLevel": int(profile["stackLevel"]),
            "chargingProfilePurpose": self.purpose_name(profile["chargingProfilePurpose"]),
            "chargingProfileKind": profile["chargingProfileKind"],
        }
        for key in ("recurrencyKind", "validFrom", "validTo"):
            if profile.get(key) is not None:
                body[key] = profile[key]
        if profile.get("transactionId") is not None:
            body["transactionId"] = str(profile["transactionId"])
        body["chargingSchedule"] = [
            {
                "id": int(profile["chargingProfileId"]),
                **schedule,
                "chargingSchedulePeriod": [dict(p) for p in periods],
            }
        ]
        return "SetChargingProfile", {"evseId": int(connector), "chargingProfile": body}

    def clear_profile_requests(
        self,
        profile_id: int | None = None,
        connector: int | None = None,
        purpose: str | None = None,
        stack_level: int | None = None,
    ) -> list[tuple[str, dict[str, Any]]]:
        """K10 ClearChargingProfile: chargingProfileId, or chargingProfileCriteria (evseId,
        chargingProfilePurpose, stackLevel together). K10.FR.02: the back office names an
        id or at least one criterion, so "every profile" is one request per purpose the lab
        sets (ChargingStationExternalConstraints are not the back office's to clear)."""
        if profile_id is not None:
            return [("ClearChargingProfile", {"chargingProfileId": int(profile_id)})]
        criteria: dict[str, Any] = {}
        if connector is not None:
            criteria["evseId"] = int(connector)
        if purpose is not None:
            criteria["chargingProfilePurpose"] = self.purpose_name(purpose)
        if stack_level is not None:
            criteria["stackLevel"] = int(stack_level)
        if criteria:
            return [("ClearChargingProfile", {"chargingProfileCriteria": criteria})]
        return [
            ("ClearChargingProfile", {"chargingProfileCriteria": {"chargingProfilePurpose": p}})
            for p in PURPOSES_201.values()
        ]

    composite_target_field = "evseId"

    def composite_schedule(self, answer: dict[str, Any], connector: int) -> CompositeSchedule:
        """K08: an Accepted answer carries ``schedule`` (CompositeScheduleType: evseId,
        duration, scheduleStart, chargingRateUnit, chargingSchedulePeriod) for the EVSE
        asked for."""
        status = answer.get("status")
        if status != "Accepted":
            raise ValueError(f"status: {status!r}, so there is no schedule to read")
        schedule = answer.get("schedule")
        if not isinstance(schedule, dict):
            raise ValueError(f"schedule: an Accepted answer has one (K08), got {schedule!r}")
        if schedule.get("evseId") != int(connector):
            raise ValueError(
                f"schedule.evseId is {schedule.get('evseId')!r}: the composite of EVSE "
                f"{connector} was asked for (K08)"
            )
        bare = {k: v for k, v in schedule.items() if k not in ("evseId", "scheduleStart")}
        if schedule.get("scheduleStart") is not None:
            bare["startSchedule"] = schedule["scheduleStart"]
        try:
            return parse_composite(bare)
        except ValueError as exc:
            text = f"schedule.{exc}".replace("schedule.startSchedule", "schedule.scheduleStart")
            raise ValueError(text) from None
