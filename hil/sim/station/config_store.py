"""The virtual station's configuration keys, as OCPP 1.6 chapter 9 defines them.

Keys carry their read-only flag and a validator; values are always strings on the wire.
The store lives in the station's non-volatile memory, so values survive a reboot.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

#: Measurands the virtual station can sample (an AC station has no SoC).
SUPPORTED_MEASURANDS = (
    "Energy.Active.Import.Register",
    "Power.Active.Import",
    "Current.Import",
    "Current.Offered",
    "Voltage",
)


Validator = Callable[[str], bool]


def is_uint(value: str) -> bool:
    return value.isdigit() and len(value) <= 9


def is_bool(value: str) -> bool:
    return value.lower() in ("true", "false")


def measurand_list(max_len: int, supported: tuple[str, ...] = SUPPORTED_MEASURANDS) -> Validator:
    """A comma-separated measurand list; one it does not support makes the whole value
    Rejected (OCPP 1.6 edition 2 §3.16.4)."""

    def check(value: str) -> bool:
        items = [v.strip() for v in value.split(",") if v.strip()]
        return len(items) <= max_len and all(i in supported for i in items)

    return check


def uint_at_least(minimum: int) -> Validator:
    def check(value: str) -> bool:
        return is_uint(value) and int(value) >= minimum

    return check


_PHASE_ROTATION = re.compile(r"^\d+\.(NotApplicable|Unknown|RST|RTS|SRT|STR|TRS|TSR)$")


def is_phase_rotation(value: str) -> bool:
    return all(_PHASE_ROTATION.match(p.strip()) for p in value.split(",") if p.strip())


@dataclass
class KeyDef:
    name: str
    value: str
    readonly: bool = False
    validator: Validator | None = None
    reboot_required: bool = False


class ChangeResult:
    ACCEPTED = "Accepted"
    REJECTED = "Rejected"
    REBOOT_REQUIRED = "RebootRequired"
    NOT_SUPPORTED = "NotSupported"


class ConfigStore:
    """Key definitions and current values."""

    MAX_LEN = 8

    def __init__(
        self,
        connectors: int,
        *,
        heartbeat_interval: int,
        sample_interval: int,
        connection_timeout: int,
        ping_interval: int,
        profiles: list[str],
        smart_charging: bool,
        meter_public_key: str | None = None,
        measurands: tuple[str, ...] = SUPPORTED_MEASURANDS,
        min_connection_timeout: int = 0,
        sampled_data: tuple[str, ...] = ("Energy.Active.Import.Register",),
    ) -> None:
        ml = self.MAX_LEN
        self.measurands = measurands
        defs = [
            KeyDef("AllowOfflineTxForUnknownId", "false", validator=is_bool),
            KeyDef("AuthorizationCacheEnabled", "true", validator=is_bool),
            KeyDef("AuthorizeRemoteTxRequests", "false", validator=is_bool),
            KeyDef("ClockAlignedDataInterval", "0", validator=is_uint),
            KeyDef(
                "ConnectionTimeOut",
                str(max(connection_timeout, min_connection_timeout)),
                validator=uint_at_least(min_connection_timeout),
            ),
            KeyDef(
                "ConnectorPhaseRotation",
                ",".join(f"{i}.RST" for i in range(connectors + 1)),
                validator=is_phase_rotation,
                reboot_required=True,
            ),
            KeyDef("ConnectorPhaseRotationMaxLength", str(connectors + 1), readonly=True),
            KeyDef("GetConfigurationMaxKeys", "40", readonly=True),
            KeyDef("HeartbeatInterval", str(heartbeat_interval), validator=is_uint),
            KeyDef("LocalAuthorizeOffline", "true", validator=is_bool),
            KeyDef("LocalPreAuthorize", "false", validator=is_bool),
            KeyDef(
                "MeterValuesAlignedData",
                "Energy.Active.Import.Register",
                validator=measurand_list(ml, measurands),
            ),
            KeyDef("MeterValuesAlignedDataMaxLength", str(ml), readonly=True),
            KeyDef(
                "MeterValuesSampledData",
                ",".join(sampled_data),
                validator=measurand_list(ml, measurands),
            ),
            KeyDef("MeterValuesSampledDataMaxLength", str(ml), readonly=True),
            KeyDef("MeterValueSampleInterval", str(sample_interval), validator=is_uint),
            KeyDef("MinimumStatusDuration", "0", validator=is_uint),
            KeyDef("NumberOfConnectors", str(connectors), readonly=True),
            KeyDef("ResetRetries", "3", validator=is_uint),
            KeyDef("StopTransactionOnEVSideDisconnect", "true", validator=is_bool),
            KeyDef("StopTransactionOnInvalidId", "true", validator=is_bool),
            KeyDef("StopTxnAlignedData", "", validator=measurand_list(ml, measurands)),
            KeyDef("StopTxnAlignedDataMaxLength", str(ml), readonly=True),
            KeyDef("StopTxnSampledData", "", validator=measurand_list(ml, measurands)),
            KeyDef("StopTxnSampledDataMaxLength", str(ml), readonly=True),
            KeyDef("SupportedFeatureProfiles", ",".join(profiles), readonly=True),
            KeyDef("TransactionMessageAttempts", "3", validator=is_uint),
            KeyDef("TransactionMessageRetryInterval", "5", validator=is_uint),
            KeyDef("UnlockConnectorOnEVSideDisconnect", "true", validator=is_bool),
            KeyDef("WebSocketPingInterval", str(ping_interval), validator=is_uint),
        ]
        if smart_charging:
            defs += [
                KeyDef("ChargeProfileMaxStackLevel", "10", readonly=True),
                KeyDef("ChargingScheduleAllowedChargingRateUnit", "Current,Power", readonly=True),
                KeyDef("ChargingScheduleMaxPeriods", "24", readonly=True),
                KeyDef("ConnectorSwitch3to1PhaseSupported", "false", readonly=True),
                KeyDef("MaxChargingProfilesInstalled", "10", readonly=True),
            ]
        if meter_public_key:
            defs += [
                KeyDef(f"MeterPublicKey[{c}]", meter_public_key, readonly=True)
                for c in range(1, connectors + 1)
            ]
        self._defs = {d.name: d for d in defs}

    # -- access --------------------------------------------------------------------

    def __contains__(self, key: str) -> bool:
        return key in self._defs

    def get(self, key: str) -> str:
        return self._defs[key].value

    def get_int(self, key: str) -> int:
        return int(self._defs[key].value or 0)

    def get_bool(self, key: str) -> bool:
        return self._defs[key].value.lower() == "true"

    def get_list(self, key: str) -> list[str]:
        return [v.strip() for v in self._defs[key].value.split(",") if v.strip()]

    def add_key(self, key: KeyDef) -> None:
        """Add a key an extension brings (e.g. MeterPublicKey[1])."""
        self._defs[key.name] = key

    def is_readonly(self, key: str) -> bool:
        return self._defs[key].readonly

    def force(self, key: str, value: str) -> None:
        """Set a value from inside the station (e.g. the interval from BootNotification)."""
        self._defs[key].value = value

    @property
    def max_keys(self) -> int:
        return self.get_int("GetConfigurationMaxKeys")

    # -- OCPP operations -------------------------------------------------------------

    def entries(
        self, keys: list[str] | None, hide: set[str] = frozenset()
    ) -> tuple[list[dict[str, object]], list[str]]:
        """(configurationKey, unknownKey) for GetConfiguration."""
        known, unknown = [], []
        names = keys if keys else [k for k in self._defs if k not in hide]
        for name in names:
            d = self._defs.get(name)
            if d is None or name in hide:
                unknown.append(name)
            else:
                known.append({"key": d.name, "readonly": d.readonly, "value": d.value})
        return known, unknown

    def change(self, key: str, value: str) -> str:
        """ChangeConfiguration semantics: NotSupported, Rejected, Accepted, RebootRequired."""
        d = self._defs.get(key)
        if d is None:
            return ChangeResult.NOT_SUPPORTED
        if d.readonly:
            return ChangeResult.REJECTED
        if d.validator is not None and not d.validator(value):
            return ChangeResult.REJECTED
        d.value = value.lower() if d.validator is is_bool else value
        return ChangeResult.REBOOT_REQUIRED if d.reboot_required else ChangeResult.ACCEPTED
