"""The lab's actions and observations as one interface, whatever OCPP version the station speaks.

A keyword says what the lab does in a test engineer's words ("read the station's
configuration", "change a setting", "the heartbeat interval"); a :class:`ProtocolAdapter`
says how that is done in one OCPP version: which message, which payload shape, which
field, which rule of the specification. Adapters hold no connection: every action takes
``call``, a function ``(action, payload) -> answer payload`` (the lab's ``LabContext.lab.call``
in a run, a fake in a test), so they can be tested without a station and keywords stay the
only place that waits on the journal.

Results are normalised to the lab's words (:class:`SettingStatus`, :class:`SettingValue`,
:class:`ConnectorStatus`); each keeps the version's raw value too, for the log and the report.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from hil.verify.charging_profiles import CompositeSchedule, ProfileStore

#: ``(action, payload) -> answer payload``: how an adapter sends a back-office CALL.
Call = Callable[[str, dict[str, Any]], dict[str, Any]]

# -- the lab's names for settings (each adapter maps them to its version's address) ------

HEARTBEAT_INTERVAL = "heartbeat interval"
METER_SAMPLE_INTERVAL = "meter sample interval"
SAMPLED_MEASURANDS = "sampled measurands"
CONNECTION_TIMEOUT = "connection timeout"
AUTHORIZATION_CACHE = "authorization cache"
#: may the station accept a tag from its cache without asking (1.6 LocalPreAuthorize;
#: 2.0.1 AuthCtrlr.LocalPreAuthorize)
LOCAL_PRE_AUTHORIZE = "local pre-authorize"
#: does a remote start need the station's own Authorize (1.6 AuthorizeRemoteTxRequests;
#: 2.0.1 AuthCtrlr.AuthorizeRemoteStart)
AUTHORIZE_REMOTE_START = "authorize remote start"
#: how many settings one read may name (1.6 GetConfigurationMaxKeys; 2.0.1
#: ItemsPerMessageGetVariables)
SETTINGS_PER_READ = "settings per read"
#: a setting every station has and no one may write (the lab's probe for "read-only
#: settings are refused")
READ_ONLY_PROBE = "read-only setting"

LAB_SETTINGS = (
    HEARTBEAT_INTERVAL,
    METER_SAMPLE_INTERVAL,
    SAMPLED_MEASURANDS,
    CONNECTION_TIMEOUT,
    AUTHORIZATION_CACHE,
    AUTHORIZE_REMOTE_START,
    LOCAL_PRE_AUTHORIZE,
    SETTINGS_PER_READ,
    READ_ONLY_PROBE,
)
#: the lab's name for "a setting no station has" (the adapter numbers its own probes)
UNKNOWN_SETTING = "unknown setting"

# -- rule topics (for docstrings, failure messages and the report's references) ----------

RULE_BOOT = "boot"
RULE_HEARTBEAT = "heartbeat"
RULE_STATUS = "status notification"
RULE_BOOT_STATUS = "status after boot"
RULE_READ_CONFIGURATION = "read configuration"
RULE_FULL_REPORT = "full configuration report"
RULE_CHANGE_SETTING = "change setting"
RULE_REQUIRED_SETTINGS = "required settings"
RULE_AVAILABILITY = "change availability"
RULE_RESET = "reset"


class SettingStatus(StrEnum):
    """How a station answered "change a setting", in the lab's words (1.6's vocabulary;
    2.0.1's unknown component / variable / attribute type are NotSupported)."""

    ACCEPTED = "Accepted"
    REJECTED = "Rejected"
    REBOOT_REQUIRED = "RebootRequired"
    NOT_SUPPORTED = "NotSupported"

    @property
    def applied(self) -> bool:
        """The station took the value (now, or after the reboot it asks for)."""
        return self in (SettingStatus.ACCEPTED, SettingStatus.REBOOT_REQUIRED)


@dataclass(frozen=True)
class SettingAddress:
    """Where a setting lives in one version: a 1.6 key, or a 2.0.1 component and variable
    (with the component's EVSE and instance when it has them)."""

    name: str  # the 1.6 key / the 2.0.1 variable name
    component: str | None = None
    evse: int | None = None
    instance: str | None = None  # the component's instance
    connector: int | None = None  # with ``evse``: the connector's component
    variable_instance: str | None = None

    @property
    def label(self) -> str:
        """As a test engineer reads it: ``HeartbeatInterval``,
        ``OCPPCommCtrlr.HeartbeatInterval``, ``EVSE[1].EVSE.Power``,
        ``EVSE[1/1].Connector.AvailabilityState``,
        ``DeviceDataCtrlr.ItemsPerMessage[GetVariables]`` (a variable's instance)."""
        if self.component is None:
            return self.name
        where = ""
        if self.evse is not None:
            where = f"EVSE[{self.evse}" + (f"/{self.connector}" if self.connector else "") + "]."
        inst = f"[{self.instance}]" if self.instance else ""
        var = f"[{self.variable_instance}]" if self.variable_instance else ""
        return f"{where}{self.component}{inst}.{self.name}{var}"


@dataclass(frozen=True)
class SettingChange:
    """The answer to "change a setting"."""

    address: SettingAddress
    value: str
    status: SettingStatus
    raw_status: str  # as the station sent it
    detail: str = ""  # 2.0.1 statusInfo reasonCode / additionalInfo, when given

    def describe(self) -> str:
        raw = f" ({self.raw_status})" if self.raw_status != self.status else ""
        more = f": {self.detail}" if self.detail else ""
        return f"{self.address.label}={self.value} -> {self.status}{raw}{more}"


@dataclass(frozen=True)
class SettingValue:
    """One setting as the station reported it; ``known`` False when it has no such setting."""

    address: SettingAddress
    value: str | None
    known: bool = True
    readonly: bool | None = None  # None when the answer does not say
    raw_status: str | None = None  # 2.0.1 attributeStatus
    #: False when the answer said nothing at all of this setting (neither a value nor
    #: "unknown"): a setting silently dropped
    answered: bool = True


@dataclass(frozen=True)
class ConfigurationReport:
    """The station's whole configuration, as the lab read it: the settings, and the raw
    answer(s) it came in (1.6: one GetConfiguration answer; 2.0.1: the NotifyReport parts)."""

    settings: list[SettingValue]
    raw: list[dict[str, Any]]

    def labels(self) -> set[str]:
        return {s.address.label for s in self.settings}


@dataclass(frozen=True)
class ConnectorStatus:
    """One StatusNotification in the lab's words. ``connector`` is the lab's connector
    number (1.6 connectorId; 2.0.1 evseId — the lab numbers one connector per EVSE);
    0 is the station as a whole (1.6 only)."""

    connector: int
    status: str  # as sent: 1.6 ChargePointStatus, 2.0.1 ConnectorStatusEnumType
    evse_id: int | None = None
    connector_id: int | None = None
    error_code: str | None = None  # 1.6 only; 2.0.1 reports faults with NotifyEvent


@dataclass(frozen=True)
class BootFacts:
    """What a BootNotification says, in the lab's words."""

    vendor: str | None
    model: str | None
    firmware: str | None
    serial: str | None
    reason: str | None  # 2.0.1 BootReasonEnumType; None on 1.6 (no reason field)


@dataclass(frozen=True)
class StatusVariants:
    """What a version allows in a sequence of transfer statuses besides the lab's expected
    ones: ``between`` may come anywhere in between (logged), ``alternatives`` are other
    words for an expected status, ``skippable`` expected statuses may be left out when the
    next one comes instead."""

    between: frozenset[str] = frozenset()
    alternatives: dict[str, frozenset[str]] = field(default_factory=dict)
    skippable: frozenset[str] = frozenset()

    def means(self, status: Any, expected: str) -> bool:
        return status == expected or status in self.alternatives.get(expected, frozenset())


@dataclass(frozen=True)
class TransactionFacts:
    """What a station's message says about a transaction, in the lab's words."""

    event: str  # "started", "updated" or "ended"
    transaction_id: str | int | None
    connector: int | None = None
    tag: str | None = None
    #: the register at the start / the end (Wh), when the message carries it
    meter_wh: float | None = None
    #: why it ended, in 1.6's words (2.0.1's stoppedReason mapped); None when the message
    #: leaves it out, which means Local
    reason: str | None = None
    #: 2.0.1 TransactionEvent: its sequence number and offline flag
    seq_no: int | None = None
    offline: bool = False


class ProtocolAdapter(ABC):
    """One OCPP version's way of doing the lab's actions and reading its observations."""

    #: "1.6" or "2.0.1" (the session's negotiated version)
    version: str
    #: the WebSocket subprotocol
    subprotocol: str
    #: the certification level the report names ("OCPP 1.6 JSON", "OCPP 2.0.1 Core")
    certification: str
    #: the boot message and the field that says why it booted (None: the version has none)
    boot_action = "BootNotification"
    boot_reason_field: str | None = None
    status_action = "StatusNotification"
    #: rule topic -> the specification's reference, for docstrings and failure messages
    rules: dict[str, str] = {}
    #: lab setting name -> its address in this version
    settings: dict[str, SettingAddress] = {}
    #: the message that changes a setting and the one that reads settings (for messages)
    change_action = "ChangeConfiguration"
    read_action = "GetConfiguration"
    #: the settings every station of this version must report (labels), with the rule
    required_settings: tuple[str, ...] = ()
    #: the checklist steps the lab can check on this version (None: every step); a step
    #: outside is N/A for a station of this version, saying why
    checked_steps: frozenset[str] | None = None
    #: the steps that exist only in other versions (N/A by the version, not the bench)
    foreign_steps: frozenset[str] = frozenset()

    # -- names ---------------------------------------------------------------------

    def rule(self, topic: str) -> str:
        """The specification's reference for ``topic`` (one of the ``RULE_*`` names)."""
        try:
            return self.rules[topic]
        except KeyError:
            raise KeyError(f"OCPP {self.version}: no rule reference for {topic!r}") from None

    def address(self, setting: str) -> SettingAddress:
        """The address of a lab setting (``HEARTBEAT_INTERVAL``), or of a name in this
        version's own terms (a 1.6 key; a 2.0.1 ``Component.Variable``)."""
        if setting in self.settings:
            return self.settings[setting]
        return self.parse_address(setting)

    @abstractmethod
    def parse_address(self, name: str) -> SettingAddress:
        """A setting named in this version's terms."""

    @abstractmethod
    def unknown_settings(self, count: int) -> list[str]:
        """``count`` setting names no station has, in this version's terms."""

    def required_settings_for(self, connectors: int) -> list[str]:
        """The labels of the settings a station with ``connectors`` connectors must have."""
        return list(self.required_settings)

    def step_not_checked(self, step: str) -> str | None:
        """Why step ``step`` is N/A for a station of this version (None: it is checked)."""
        if step in self.foreign_steps:
            return f"step {step} does not exist in OCPP {self.version}"
        if self.checked_steps is not None and step not in self.checked_steps:
            return f"this lab version does not yet check this step on OCPP {self.version}"
        return None

    # -- the station's connectors --------------------------------------------------

    @abstractmethod
    def status_connectors(self, connectors: int) -> list[int]:
        """The lab's connector numbers that report their status after a boot, for a
        station with ``connectors`` connectors (1.6 includes 0, the station itself)."""

    @abstractmethod
    def availability_request(self, connector: int, operative: bool) -> tuple[str, dict[str, Any]]:
        """The CALL that makes ``connector`` (0: the whole station) operative or not."""

    @abstractmethod
    def reset_request(self, kind: str) -> tuple[str, dict[str, Any]]:
        """The CALL for the lab's ``Hard`` (reboot now) or ``Soft`` (reboot gracefully)
        reset."""

    # -- TriggerMessage (the lab names messages as 1.6 does) ---------------------------

    #: the SHALLs a TriggerMessage answer rests on, quoted for failure messages: the
    #: answer says whether the station will send the message (Accepted: it will), and the
    #: answer comes before the message
    trigger_promise_rule = (
        'OCPP 1.6 §5.17: the response "SHALL indicate whether the Charge Point will send it '
        'or not"; TriggerMessageStatus Accepted: "Requested notification will be sent"'
    )
    trigger_order_rule = (
        'OCPP 1.6 §5.17: the Charge Point "SHALL first send the TriggerMessage response, '
        'before sending the requested message"'
    )

    def triggered_action(self, message: str) -> str:
        """The message the station sends for the lab's trigger name ``message``."""
        return message

    @abstractmethod
    def trigger_request(self, message: str, connector: int | None) -> tuple[str, dict[str, Any]]:
        """The TriggerMessage CALL for ``message`` (on ``connector`` when given)."""

    def trigger_expected_answer(self, message: str) -> str | None:
        """The answer a registered station must give for ``message`` when the version
        fixes one (None: Accepted, or NotImplemented for what it cannot do)."""
        return None

    @abstractmethod
    def unknown_trigger_request(self, name: str) -> Any:
        """A TriggerMessage request object asking for ``name``, a message no station knows
        (sent without schema validation)."""

    @abstractmethod
    def message_connector(self, payload: dict[str, Any]) -> int | None:
        """The lab's connector a StatusNotification or MeterValues payload is about."""

    # -- firmware update (steps 17-19) ------------------------------------------------

    @abstractmethod
    def firmware_request(
        self,
        url: str,
        retrieve: str,
        request_id: int,
        retries: int | None = None,
        retry_interval: int | None = None,
    ) -> tuple[str, dict[str, Any]]:
        """The UpdateFirmware CALL for the image at ``url``, not before ``retrieve``."""

    def firmware_answer_problem(self, answer: dict[str, Any]) -> str | None:
        """Why the answer to UpdateFirmware refuses the update (None: it is taken)."""
        return None

    #: what the version allows in a firmware status sequence besides the lab's statuses
    firmware_variants = StatusVariants()

    def firmware_status_problem(self, payload: dict[str, Any], request_id: int) -> str | None:
        """What is wrong with a FirmwareStatusNotification beyond its status."""
        return None

    #: the boot reason after a firmware update's reboot (None: the version has none)
    firmware_boot_reason: str | None = None

    # -- diagnostics / log upload (steps 20-21) ------------------------------------------

    #: the station's upload status message
    diagnostics_status_action = "DiagnosticsStatusNotification"
    #: the back office's request for the upload, and the field of its answer that names the
    #: file (failure and log messages use these, never 1.6's words on another version)
    diagnostics_action = "GetDiagnostics"
    diagnostics_file_field = "fileName"
    #: where the answer's file name is defined, and why it may be absent
    diagnostics_file_rule = (
        "OCPP 1.6 §6.26 GetDiagnostics.conf: fileName is not present when no diagnostic "
        "information is available"
    )

    @abstractmethod
    def diagnostics_request(
        self,
        url: str,
        request_id: int,
        retries: int | None = None,
        retry_interval: int | None = None,
        start_time: str | None = None,
    ) -> tuple[str, dict[str, Any]]:
        """The CALL that asks for the station's diagnostics / log upload to ``url``."""

    @abstractmethod
    def diagnostics_file_name(self, answer: dict[str, Any]) -> str | None:
        """The file name the station announced in its answer (None: none); an answer that
        refuses the upload raises AssertionError saying so."""

    def diagnostics_status(self, status: str) -> str:
        """The lab's upload status (1.6's words: Uploading, Uploaded, UploadFailed) in this
        version's words."""
        return status

    def diagnostics_status_problem(self, payload: dict[str, Any], request_id: int) -> str | None:
        """What is wrong with an upload status message beyond its status (None: nothing)."""
        return None

    # -- charging sessions (steps 6-16) -------------------------------------------------

    #: the station messages that carry a transaction's events
    transaction_actions: tuple[str, ...] = ("StartTransaction", "MeterValues", "StopTransaction")
    #: how failure messages name a transaction's start, readings and end
    start_label = "StartTransaction"
    update_label = "MeterValues"
    end_label = "StopTransaction"

    @abstractmethod
    def transaction_facts(
        self, action: str, payload: dict[str, Any], answer: dict[str, Any] | None = None
    ) -> TransactionFacts | None:
        """What ``action`` with ``payload`` says about a transaction (None: nothing). The
        back office's ``answer`` gives 1.6's transaction id."""

    @abstractmethod
    def authorize_tag(self, payload: dict[str, Any]) -> str | None:
        """The tag an Authorize request (or a transaction message) names."""

    @abstractmethod
    def authorize_fields(self, tag: str) -> dict[str, Any]:
        """The Authorize request fields that name ``tag`` (dotted paths)."""

    @abstractmethod
    def authorize_status(self, answer: dict[str, Any]) -> str | None:
        """The status the back office's answer to Authorize gave."""

    @abstractmethod
    def remote_stop_request(self, transaction_id: Any) -> tuple[str, dict[str, Any]]:
        """The CALL that asks the station to stop transaction ``transaction_id``."""

    @abstractmethod
    def remote_start_request(self, tag: str, connector: int) -> tuple[str, dict[str, Any]]:
        """The CALL that asks the station to start a transaction for ``tag``."""

    @abstractmethod
    def unknown_transaction_id(self, known: list[Any]) -> Any:
        """A transaction id none of the ``known`` ones is (the station cannot know it)."""

    def reset_answer(self, kind: str, during_session: bool) -> str:
        """The answer the version requires to the lab's ``kind`` reset."""
        return "Accepted"

    #: the lab's Soft reset waits for a running transaction to end before the station
    #: resets (2.0.1 B12 OnIdle: Scheduled), instead of ending it itself (1.6 Reset Soft)
    soft_reset_waits_for_idle = False

    def expected_stop_reason(self, reason: str) -> str:
        """The reason, in the lab's words, a transaction must give when the lab's action
        ``reason`` (HardReset, SoftReset, UnlockCommand, …) led to its end."""
        return reason

    def clear_cache_request(self) -> tuple[str, dict[str, Any]]:
        """The CALL that empties the authorization cache (1.6 §5.4; 2.0.1 C11): the same
        empty ClearCache in both versions."""
        return "ClearCache", {}

    def unlock_request(self, connector: int) -> tuple[str, dict[str, Any]]:
        """The CALL that unlocks ``connector``'s cable."""
        return "UnlockConnector", {"connectorId": int(connector)}

    #: the answer to an unlock while a transaction runs, when the version refuses it
    #: (None: the unlock ends the transaction)
    unlock_refusal_during_session: str | None = None

    def sequence_problems(self, events: list[TransactionFacts]) -> list[str]:
        """What is wrong with the numbering of one transaction's messages, in arrival order
        (1.6 numbers nothing)."""
        return []

    def fault_code_problem(self, status_payload: dict[str, Any]) -> tuple[str | None, str | None]:
        """What is wrong (a failure, a remark) with how a Faulted StatusNotification names
        the fault; (None, None) when the version names it elsewhere."""
        return None, None

    #: the message that names a fault when the status does not (None: the status does)
    fault_detail_action: str | None = None

    def fault_detail_fields(self, connector: int) -> dict[str, Any]:
        """The fields of the ``fault_detail_action`` message about ``connector``."""
        return {}

    def recovery_cues(self, connector: int, state: str) -> list[tuple[str, dict[str, Any]]]:
        """The messages that say ``connector`` is back in the lab's ``state`` after a
        fault, in any order."""
        return [(self.status_action, self.status_fields(connector, state))]

    @abstractmethod
    def signed_values(self, action: str, payload: dict[str, Any]) -> list[Any]:
        """The signed meter readings (``hil.verify.ocmf.SignedValue``) a station's message
        carries (Eichrecht)."""

    @abstractmethod
    def meter_public_key(self, call: Call, connector: int) -> tuple[str | None, str]:
        """The meter's public key as the station publishes it (None when it does not),
        and where it was read."""

    def offline_flag_problems(
        self, frames: list[Any], down: datetime, up: datetime, tolerance_s: float
    ) -> list[str]:
        """What is wrong with the offline flags of one transaction's messages (journal
        frames), the station having been offline from ``down`` to ``up`` (1.6 has none)."""
        return []

    def start_problem(self, payload: dict[str, Any]) -> str | None:
        """What is wrong with a transaction's start message beyond the schema (None)."""
        return None

    #: a transaction may start before its tag is known (2.0.1 TxStartPoint EVConnected:
    #: Started at the plug, the idToken in a later event)
    start_may_precede_tag = False

    #: A transaction the station ends because the EV ended its charging session (DC: the
    #: EV's SessionStop at its target SoC): the reasons that pass, with the remark each
    #: earns (None: none). 1.6 (§7.38 Reason) has no reason for it: Other fits; Local and
    #: EVDisconnected describe the user or the cable, so they pass with a remark.
    ev_stop_reasons: dict[str, str | None] = {
        "Other": None,
        "Local": "Local means the user stopped it at the station; the EV ended it",
        "EVDisconnected": "EVDisconnected means the cable was unplugged; it was still plugged",
    }

    #: the boot reason a station gives after a reset the back office asked for (None:
    #: the version has no boot reason)
    remote_reset_boot_reason: str | None = None

    # -- checks of the version's own shapes ------------------------------------------

    @abstractmethod
    def malformed_settings(self, report: ConfigurationReport) -> list[str]:
        """What in the whole configuration breaks the version's rules of form (each a
        sentence naming the setting); schema checks have already been made."""

    # -- observations --------------------------------------------------------------

    @abstractmethod
    def boot_facts(self, payload: dict[str, Any]) -> BootFacts:
        """What a BootNotification request says."""

    @abstractmethod
    def connector_status(self, payload: dict[str, Any]) -> ConnectorStatus:
        """A StatusNotification request in the lab's words."""

    def state_cue(
        self, connector: int, state: str, plugged: bool = True
    ) -> tuple[str, dict[str, Any]] | None:
        """The message (action, fields) that says ``connector`` is in the lab's ``state``
        (1.6's ChargePointStatus words: Preparing, Charging, Finishing, …); None when the
        version says nothing for that state (``plugged``: is the EV's cable in)."""
        return self.status_action, self.status_fields(connector, state)

    @abstractmethod
    def status_fields(self, connector: int, status: str | None = None) -> dict[str, Any]:
        """The StatusNotification fields that say "``connector`` is ``status``", for the
        journal's ``message_matcher``."""

    # -- actions -------------------------------------------------------------------

    @abstractmethod
    def read_settings(self, call: Call, settings: Iterable[str]) -> list[SettingValue]:
        """Ask the station for ``settings`` (lab names or this version's names); one
        :class:`SettingValue` per setting asked, in order, ``known`` False for those the
        station does not have."""

    @abstractmethod
    def change_setting(self, call: Call, setting: str, value: str) -> SettingChange:
        """Ask the station to set ``setting`` to ``value``; the answer normalised."""

    @abstractmethod
    def full_report_request(self, request_id: int) -> tuple[str, dict[str, Any]]:
        """The CALL that asks for the station's whole configuration (1.6 GetConfiguration
        without keys; 2.0.1 GetBaseReport FullInventory)."""

    #: where the whole configuration arrives: "answer" (the CALLRESULT of the request) or
    #: the station's CALLs of this action (2.0.1 ``NotifyReport``, in parts)
    full_report_arrives_in = "answer"

    @abstractmethod
    def settings_from_report(self, payloads: Iterable[dict[str, Any]]) -> list[SettingValue]:
        """The settings in the whole-configuration answer(s), in order."""

    # -- smart charging (SC1-SC3) ---------------------------------------------------------
    # The lab says what it wants in 1.6's words (the lab's profile model,
    # hil/verify/charging_profiles: csChargingProfiles, ChargePointMaxProfile, connector);
    # each adapter puts it in its version's message.

    #: the station's limits on charging profiles (the lab's names ``max_stack_level``,
    #: ``max_periods``, ``max_profiles``) -> the setting that holds each in this version
    #: (None: no setting the lab can read says it; the lab then predicts no such limit)
    profile_limit_settings: dict[str, str | None] = {}

    #: the profile store with this version's rules (2.0.1: K01's)
    profile_store_class: type[ProfileStore] = ProfileStore

    def profile_store(
        self,
        connectors: int | None,
        *,
        max_stack_level: int | None = None,
        max_periods: int | None = None,
        max_profiles: int | None = None,
    ) -> ProfileStore:
        """An empty copy of what a station of this version must keep: the profiles it
        accepted, with this version's rules for accepting and replacing them."""
        return self.profile_store_class(
            connectors,
            max_stack_level=max_stack_level,
            max_periods=max_periods,
            max_profiles=max_profiles,
        )

    def purpose_name(self, purpose: str) -> str:
        """The lab's profile purpose (1.6's word) as this version names it."""
        return purpose

    @abstractmethod
    def set_profile_request(
        self, connector: int, profile: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        """The CALL that installs ``profile`` (the lab's csChargingProfiles, 1.6's shape)
        on ``connector`` (0: the whole station)."""

    @abstractmethod
    def clear_profile_requests(
        self,
        profile_id: int | None = None,
        connector: int | None = None,
        purpose: str | None = None,
        stack_level: int | None = None,
    ) -> list[tuple[str, dict[str, Any]]]:
        """The CALL(s) that clear the profiles with ``profile_id``, or those matching all the
        criteria given, or every profile when nothing is given; the lab judges their
        answers together (Accepted when one cleared something, Unknown when none did)."""

    #: the GetCompositeSchedule field naming the connector (1.6) or EVSE (2.0.1)
    composite_target_field = "connectorId"

    def composite_request(
        self, connector: int, duration: int, unit: str | None = None
    ) -> tuple[str, dict[str, Any]]:
        """The CALL asking for ``connector``'s composite schedule over ``duration``
        seconds from now, in ``unit`` (A or W; None: the station's choice): 1.6 §5.13 of
        connectorId, 2.0.1 K08 of evseId (0: the station's grid connection)."""
        payload: dict[str, Any] = {self.composite_target_field: int(connector)}
        payload["duration"] = int(duration)
        if unit:
            payload["chargingRateUnit"] = unit
        return "GetCompositeSchedule", payload

    @abstractmethod
    def composite_schedule(self, answer: dict[str, Any], connector: int) -> CompositeSchedule:
        """The composite schedule in an Accepted answer to :meth:`composite_request`;
        ``ValueError`` names what cannot be read or is not what was asked."""


def normalise_status(raw: str, known: dict[str, SettingStatus]) -> SettingStatus:
    """``raw`` in the lab's words; a status the version does not define is an error."""
    try:
        return known[raw]
    except KeyError:
        raise AssertionError(
            f"the station answered {raw!r}, not a status of this message "
            f"(expected one of {', '.join(known)})"
        ) from None


# -- smart charging rule topics (SC1-SC3) -------------------------------------------------

RULE_SET_PROFILE = "set charging profile"
RULE_CLEAR_PROFILE = "clear charging profile"
RULE_COMPOSITE = "composite schedule"
#: the limit in force (the composite) is what the output offers
RULE_PROFILE_LIMIT = "charging limit"
