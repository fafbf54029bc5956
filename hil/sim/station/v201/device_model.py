"""The 2.0.1 station's device model: components, variables, attributes (OCPP 2.0.1 Part 1 §4,
Part 2 B05–B08 and the appendix of standardized components and variables).

A variable belongs to a component (name, instance, EVSE, connector) and has up to four
attributes (Actual, Target, MinSet, MaxSet), each with its own mutability and value; values
are strings on the wire. Where the station model already keeps a setting as an OCPP 1.6
configuration key (the one :class:`~hil.sim.station.config_store.ConfigStore` in flash),
the variable is *bound* to that key: reads and writes go through it, with its validator,
so the 1.6 and the 2.0.1 view of the station never disagree. Other values live here; the
device model itself sits in the station's non-volatile memory, so it survives a power cut.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hil.sim.station.config_store import ConfigStore, is_bool, is_uint

ATTRIBUTE_TYPES = ("Actual", "Target", "MinSet", "MaxSet")
READ_ONLY, READ_WRITE, WRITE_ONLY = "ReadOnly", "ReadWrite", "WriteOnly"
#: OCPP 2.0.1 DeviceDataCtrlr.ConfigurationValueSize default (a SetVariables value's length).
VALUE_SIZE = 1000


@dataclass(frozen=True)
class ComponentKey:
    name: str
    instance: str | None = None
    evse: int | None = None
    connector: int | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name}
        if self.instance is not None:
            out["instance"] = self.instance
        if self.evse is not None:
            evse: dict[str, Any] = {"id": self.evse}
            if self.connector is not None:
                evse["connectorId"] = self.connector
            out["evse"] = evse
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ComponentKey:
        evse = d.get("evse") or {}
        return cls(d["name"], d.get("instance"), evse.get("id"), evse.get("connectorId"))

    def label(self) -> str:
        text = self.name + (f"[{self.instance}]" if self.instance else "")
        if self.evse is not None:
            text += f"@evse{self.evse}" + (f".{self.connector}" if self.connector else "")
        return text


@dataclass
class Attribute:
    value: str = ""
    mutability: str = READ_WRITE
    persistent: bool = True
    constant: bool = False


@dataclass
class Variable:
    component: ComponentKey
    name: str
    instance: str | None = None
    data_type: str = "string"  # string, decimal, integer, dateTime, boolean, OptionList, ...
    #: required by the Core profile (appendix: "Required" in the variable's table)
    required: bool = False
    attributes: dict[str, Attribute] = field(default_factory=dict)
    #: a 1.6 configuration key of the station model that holds the Actual value
    key: str | None = None
    #: a live value computed by the station (e.g. AvailabilityState); read-only
    getter: Callable[[], str] | None = None
    validator: Callable[[str], bool] | None = None
    values_list: str | None = None
    unit: str | None = None
    reboot_required: bool = False
    #: the characteristic maxLimit (e.g. SmartChargingCtrlr.Entries: the most entries)
    max_limit: float | None = None

    def label(self) -> str:
        return f"{self.component.label()}.{self.name}" + (
            f"[{self.instance}]" if self.instance else ""
        )


class DeviceModel:
    """The variables of one station, and the Get/Set/report operations on them."""

    def __init__(self, config: ConfigStore) -> None:
        self.config = config
        self.variables: dict[tuple[ComponentKey, str, str | None], Variable] = {}

    # -- building ------------------------------------------------------------------------

    def add(
        self,
        component: ComponentKey,
        name: str,
        value: str = "",
        *,
        instance: str | None = None,
        mutability: str = READ_WRITE,
        data_type: str = "string",
        required: bool = False,
        key: str | None = None,
        getter: Callable[[], str] | None = None,
        validator: Callable[[str], bool] | None = None,
        values_list: str | None = None,
        unit: str | None = None,
        reboot_required: bool = False,
        extra: dict[str, Attribute] | None = None,
        max_limit: float | None = None,
    ) -> Variable:
        if validator is None and data_type == "boolean":
            validator = is_bool
        if validator is None and data_type == "integer":
            validator = is_uint
        if validator is None and values_list is not None:
            options = values_list.split(",")

            def member_list(v: str, options: list[str] = options) -> bool:
                return all(i.strip() in options for i in v.split(",") if i.strip())

            validator = member_list
        var = Variable(
            component,
            name,
            instance,
            data_type,
            required,
            {"Actual": Attribute(value, mutability, constant=mutability == READ_ONLY)},
            key,
            getter,
            validator,
            values_list,
            unit,
            reboot_required,
        )
        var.attributes.update(extra or {})
        var.max_limit = max_limit
        self.variables[(component, name, instance)] = var
        return var

    # -- access ----------------------------------------------------------------------------

    def components(self) -> set[ComponentKey]:
        return {c for c, _, _ in self.variables}

    def find(self, component: ComponentKey, name: str, instance: str | None = None) -> Variable:
        return self.variables[(component, name, instance)]

    def value(self, var: Variable, attr: str = "Actual") -> str:
        if attr == "Actual":
            if var.getter is not None:
                return var.getter()
            if var.key is not None:
                return self.config.get(var.key)
        return var.attributes[attr].value

    def actual(self, component: str, name: str, instance: str | None = None) -> str:
        return self.value(self.find(ComponentKey(component), name, instance))

    def lookup(
        self, component: dict[str, Any], variable: dict[str, Any]
    ) -> tuple[Variable | None, str | None]:
        """(variable, None), or (None, "UnknownComponent" / "UnknownVariable")."""
        comp = ComponentKey.from_dict(component)
        if comp not in self.components():
            return None, "UnknownComponent"
        var = self.variables.get((comp, variable["name"], variable.get("instance")))
        if var is None:
            return None, "UnknownVariable"
        return var, None

    # -- B06 GetVariables ------------------------------------------------------------------

    def get_variable(self, data: dict[str, Any]) -> dict[str, Any]:
        attr = data.get("attributeType") or "Actual"
        result: dict[str, Any] = {
            "component": data["component"],
            "variable": data["variable"],
        }
        if data.get("attributeType"):
            result["attributeType"] = attr
        var, unknown = self.lookup(data["component"], data["variable"])
        if var is None:
            result["attributeStatus"] = unknown
        elif attr not in var.attributes:
            result["attributeStatus"] = "NotSupportedAttributeType"
        elif var.attributes[attr].mutability == WRITE_ONLY:
            result["attributeStatus"] = "Rejected"  # B06.FR.? a WriteOnly value is not read
        else:
            result["attributeStatus"] = "Accepted"
            result["attributeValue"] = self.value(var, attr)
        return result

    # -- B05 SetVariables ------------------------------------------------------------------

    def set_variable(self, data: dict[str, Any]) -> tuple[dict[str, Any], Variable | None]:
        """The SetVariableResult, and the variable whose value changed (None: nothing did)."""
        attr = data.get("attributeType") or "Actual"
        value = str(data["attributeValue"])
        result: dict[str, Any] = {"component": data["component"], "variable": data["variable"]}
        if data.get("attributeType"):
            result["attributeType"] = attr
        var, unknown = self.lookup(data["component"], data["variable"])
        if var is None:
            result["attributeStatus"] = unknown
            return result, None
        if attr not in var.attributes:
            result["attributeStatus"] = "NotSupportedAttributeType"
            return result, None
        attribute = var.attributes[attr]
        if (
            attribute.mutability == READ_ONLY
            or var.getter is not None
            or len(value) > VALUE_SIZE
            or (var.validator is not None and not var.validator(value))
        ):
            result["attributeStatus"] = "Rejected"
            return result, None
        if var.data_type == "boolean":
            value = value.lower()
        reboot = var.reboot_required
        if attr == "Actual" and var.key is not None:
            status = self.config.change(var.key, value)
            if status not in ("Accepted", "RebootRequired"):
                result["attributeStatus"] = "Rejected"
                return result, None
            reboot = reboot or status == "RebootRequired"
        else:
            attribute.value = value
        result["attributeStatus"] = "RebootRequired" if reboot else "Accepted"
        return result, var

    # -- B07/B08 GetBaseReport ---------------------------------------------------------------

    def report_data(self, var: Variable) -> dict[str, Any]:
        attributes = []
        for kind in ATTRIBUTE_TYPES:
            a = var.attributes.get(kind)
            if a is None:
                continue
            entry: dict[str, Any] = {
                "type": kind,
                "mutability": a.mutability,
                "persistent": a.persistent,
                "constant": a.constant,
            }
            if a.mutability != WRITE_ONLY:
                entry["value"] = self.value(var, kind)
            attributes.append(entry)
        characteristics: dict[str, Any] = {"dataType": var.data_type, "supportsMonitoring": False}
        if var.values_list:
            characteristics["valuesList"] = var.values_list
        if var.unit:
            characteristics["unit"] = var.unit
        if var.max_limit is not None:
            characteristics["maxLimit"] = var.max_limit
        variable: dict[str, Any] = {"name": var.name}
        if var.instance is not None:
            variable["instance"] = var.instance
        return {
            "component": var.component.as_dict(),
            "variable": variable,
            "variableAttribute": attributes,
            "variableCharacteristics": characteristics,
        }

    def report(self, base: str, hide: set[str] = frozenset()) -> list[dict[str, Any]]:
        """ReportData of a base report (B07: Configuration, B08: Full, Summary inventory).

        ConfigurationInventory: every variable that can be set; FullInventory: all;
        SummaryInventory: what says whether a component works (AvailabilityState,
        Available, Problem). ``hide``: variable labels left out (a deviation)."""
        picked = []
        for var in self.variables.values():
            if var.label() in hide:
                continue
            if base == "ConfigurationInventory":
                ok = any(a.mutability != READ_ONLY for a in var.attributes.values())
                ok = ok and var.getter is None
            elif base == "SummaryInventory":
                ok = var.name in ("AvailabilityState", "Available", "Problem")
            else:
                ok = True
            if ok:
                picked.append(self.report_data(var))
        return picked


def build_device_model(
    config: ConfigStore,
    *,
    evses: int,
    availability: Callable[[int, int | None], str],
    vendor: str,
    model: str,
    serial: str | None,
    firmware: Callable[[], str],
    phases: int,
    max_current_a: float,
    security_profile: int,
    connector_type: str = "cType2",
    max_power_w: float | None = None,
) -> DeviceModel:
    """The Core profile's components and variables for a station with ``evses`` EVSEs of one
    connector each. ``availability(evse, connector)`` gives the live AvailabilityState.
    ``max_power_w`` (a DC station's rating) is EVSE.Power's MaxSet and maxLimit; without
    it MaxSet is the AC rating 230 V x phases x ``max_current_a`` (see
    :mod:`hil.sim.station.v201.dc_device_model` for what a DC station passes)."""
    dm = DeviceModel(config)
    ro = READ_ONLY

    cs = ComponentKey("ChargingStation")
    dm.add(
        cs,
        "AvailabilityState",
        mutability=ro,
        required=True,
        getter=lambda: availability(0, None),
        values_list="Available,Occupied,Reserved,Unavailable,Faulted",
    )
    dm.add(cs, "Available", "true", mutability=ro, data_type="boolean", required=True)
    dm.add(cs, "SupplyPhases", str(phases), mutability=ro, data_type="integer", required=True)
    dm.add(cs, "Model", model, mutability=ro)
    dm.add(cs, "VendorName", vendor, mutability=ro)
    if serial:
        dm.add(cs, "SerialNumber", serial, mutability=ro)
    dm.add(cs, "Problem", "false", mutability=ro, data_type="boolean")
    fw = ComponentKey("Controller")
    dm.add(fw, "FirmwareVersion", mutability=ro, getter=firmware)
    evse_max_w = 230 * phases * max_current_a if max_power_w is None else max_power_w
    for e in range(1, evses + 1):
        evse = ComponentKey("EVSE", evse=e)
        dm.add(
            evse,
            "AvailabilityState",
            mutability=ro,
            required=True,
            getter=lambda e=e: availability(e, None),
            values_list="Available,Occupied,Reserved,Unavailable,Faulted",
        )
        dm.add(evse, "Available", "true", mutability=ro, data_type="boolean", required=True)
        dm.add(
            evse,
            "Power",
            "0",
            mutability=ro,
            data_type="decimal",
            required=True,
            unit="W",
            extra={"MaxSet": Attribute(str(round(evse_max_w)), ro, constant=True)},
            max_limit=max_power_w,  # appendix: maxLimit is the EVSE's most power
        )
        dm.add(evse, "SupplyPhases", str(phases), mutability=ro, data_type="integer", required=True)
        conn = ComponentKey("Connector", evse=e, connector=1)
        dm.add(
            conn,
            "AvailabilityState",
            mutability=ro,
            required=True,
            getter=lambda e=e: availability(e, 1),
            values_list="Available,Occupied,Reserved,Unavailable,Faulted",
        )
        dm.add(conn, "Available", "true", mutability=ro, data_type="boolean", required=True)
        dm.add(conn, "ConnectorType", connector_type, mutability=ro, required=True)
        dm.add(conn, "SupplyPhases", str(phases), mutability=ro, data_type="integer", required=True)

    auth = ComponentKey("AuthCtrlr")
    dm.add(auth, "Enabled", "true", data_type="boolean")
    dm.add(
        auth,
        "AuthorizeRemoteStart",
        data_type="boolean",
        required=True,
        key="AuthorizeRemoteTxRequests",
    )
    dm.add(
        auth,
        "LocalAuthorizeOffline",
        data_type="boolean",
        required=True,
        key="LocalAuthorizeOffline",
    )
    dm.add(auth, "LocalPreAuthorize", data_type="boolean", required=True, key="LocalPreAuthorize")
    cache = ComponentKey("AuthCacheCtrlr")
    dm.add(cache, "Enabled", data_type="boolean", key="AuthorizationCacheEnabled")
    dm.add(cache, "Available", "true", mutability=ro, data_type="boolean")
    dm.add(cache, "LifeTime", "86400", data_type="integer", unit="s")

    clock = ComponentKey("ClockCtrlr")
    from hil.sim.station.station import utc_now  # a live clock; import here: no cycle

    dm.add(clock, "DateTime", mutability=ro, data_type="dateTime", required=True, getter=utc_now)
    dm.add(
        clock,
        "TimeSource",
        "Heartbeat",
        required=True,
        values_list="Heartbeat,NTP,GPS,RealTimeClock,MobileNetwork,RadioTimeTransmitter",
    )

    data = ComponentKey("DeviceDataCtrlr")
    for inst, items in (("GetReport", "10"), ("GetVariables", "20"), ("SetVariables", "20")):
        dm.add(
            data,
            "ItemsPerMessage",
            items,
            instance=inst,
            mutability=ro,
            data_type="integer",
            required=True,
        )
        dm.add(
            data,
            "BytesPerMessage",
            "65000",
            instance=inst,
            mutability=ro,
            data_type="integer",
            required=True,
        )
    dm.add(data, "ConfigurationValueSize", str(VALUE_SIZE), mutability=ro, data_type="integer")
    dm.add(data, "ReportingValueSize", "2500", mutability=ro, data_type="integer")

    comm = ComponentKey("OCPPCommCtrlr")
    dm.add(comm, "HeartbeatInterval", data_type="integer", unit="s", key="HeartbeatInterval")
    dm.add(
        comm,
        "MessageTimeout",
        "30",
        instance="Default",
        mutability=ro,
        data_type="integer",
        required=True,
        unit="s",
    )
    dm.add(
        comm,
        "MessageAttempts",
        instance="TransactionEvent",
        data_type="integer",
        required=True,
        key="TransactionMessageAttempts",
    )
    dm.add(
        comm,
        "MessageAttemptInterval",
        instance="TransactionEvent",
        data_type="integer",
        required=True,
        unit="s",
        key="TransactionMessageRetryInterval",
    )
    dm.add(
        comm,
        "FileTransferProtocols",
        "HTTP,HTTPS,FTP",
        mutability=ro,
        required=True,
        values_list="FTP,FTPS,HTTP,HTTPS,SFTP",
    )
    # a new priority takes effect when the station connects anew: after a reboot (B05)
    dm.add(comm, "NetworkConfigurationPriority", "0", required=True, reboot_required=True)
    dm.add(comm, "NetworkProfileConnectionAttempts", "3", data_type="integer", required=True)
    dm.add(comm, "OfflineThreshold", "60", data_type="integer", required=True, unit="s")
    dm.add(comm, "ResetRetries", data_type="integer", required=True, key="ResetRetries")
    dm.add(
        comm,
        "UnlockOnEVSideDisconnect",
        data_type="boolean",
        required=True,
        key="UnlockConnectorOnEVSideDisconnect",
    )
    dm.add(
        comm, "WebSocketPingInterval", data_type="integer", unit="s", key="WebSocketPingInterval"
    )

    sec = ComponentKey("SecurityCtrlr")
    dm.add(sec, "OrganizationName", vendor, required=True)
    dm.add(sec, "CertificateEntries", "0", mutability=ro, data_type="integer", required=True)
    dm.add(
        sec,
        "SecurityProfile",
        str(security_profile),
        mutability=ro,
        data_type="integer",
        required=True,
    )

    measurands = ",".join(config.measurands)
    sampled = ComponentKey("SampledDataCtrlr")
    dm.add(sampled, "Enabled", "true", data_type="boolean")
    dm.add(
        sampled,
        "TxEndedMeasurands",
        required=True,
        key="StopTxnSampledData",
        data_type="MemberList",
        values_list=measurands,
    )
    dm.add(sampled, "TxEndedInterval", "0", data_type="integer", required=True, unit="s")
    dm.add(
        sampled,
        "TxStartedMeasurands",
        "Energy.Active.Import.Register",
        required=True,
        data_type="MemberList",
        values_list=measurands,
    )
    dm.add(
        sampled,
        "TxUpdatedMeasurands",
        required=True,
        key="MeterValuesSampledData",
        data_type="MemberList",
        values_list=measurands,
    )
    dm.add(
        sampled,
        "TxUpdatedInterval",
        data_type="integer",
        required=True,
        unit="s",
        key="MeterValueSampleInterval",
    )
    aligned = ComponentKey("AlignedDataCtrlr")
    dm.add(aligned, "Enabled", "true", data_type="boolean")
    dm.add(
        aligned,
        "Measurands",
        required=True,
        key="MeterValuesAlignedData",
        data_type="MemberList",
        values_list=measurands,
    )
    dm.add(
        aligned,
        "Interval",
        data_type="integer",
        required=True,
        unit="s",
        key="ClockAlignedDataInterval",
    )
    dm.add(
        aligned,
        "TxEndedMeasurands",
        "",
        required=True,
        data_type="MemberList",
        values_list=measurands,
    )
    dm.add(aligned, "TxEndedInterval", "0", data_type="integer", required=True, unit="s")

    tx = ComponentKey("TxCtrlr")
    points = "ParkingBayOccupancy,EVConnected,Authorized,DataSigned,PowerPathClosed,EnergyTransfer"
    dm.add(
        tx,
        "EVConnectionTimeOut",
        data_type="integer",
        required=True,
        unit="s",
        key="ConnectionTimeOut",
    )
    dm.add(
        tx,
        "StopTxOnEVSideDisconnect",
        data_type="boolean",
        required=True,
        key="StopTransactionOnEVSideDisconnect",
    )
    dm.add(
        tx,
        "StopTxOnInvalidId",
        data_type="boolean",
        required=True,
        key="StopTransactionOnInvalidId",
    )
    dm.add(tx, "TxBeforeAcceptedEnabled", "false", data_type="boolean")
    dm.add(
        tx,
        "TxStartPoint",
        # the station model starts a transaction when the contactor closes for an
        # authorized, plugged EV
        "PowerPathClosed",
        required=True,
        data_type="MemberList",
        values_list=points,
    )
    dm.add(
        tx,
        "TxStopPoint",
        "Authorized,EVConnected",
        required=True,
        data_type="MemberList",
        values_list=points,
    )
    return dm


def _is_decimal(value: str) -> bool:
    try:
        return float(value) >= 0
    except ValueError:
        return False


#: 1.6 ChargingScheduleAllowedChargingRateUnit values as 2.0.1 ChargingRateUnitEnumType
RATE_UNITS_201 = {"Current": "A", "Power": "W"}


def add_smart_charging(dm: DeviceModel, *, profiles: Callable[[], int]) -> None:
    """The SmartChargingCtrlr of a station with the Smart Charging functional block (OCPP
    2.0.1 Part 2 appendix; K01-K10), bound to the station model's 1.6 Smart Charging keys
    where one holds the value: ProfileStackLevel (ChargeProfileMaxStackLevel),
    PeriodsPerSchedule (ChargingScheduleMaxPeriods), RateUnit
    (ChargingScheduleAllowedChargingRateUnit, Current/Power as A/W),
    Entries[ChargingProfiles] (``profiles()`` installed, maxLimit
    MaxChargingProfilesInstalled). The station cannot switch phases or turn smart charging
    off: ACPhaseSwitchingSupported and Phases3to1 are false, Enabled is true (read-only)."""
    config = dm.config
    ro = READ_ONLY
    sc = ComponentKey("SmartChargingCtrlr")
    dm.add(sc, "Enabled", "true", mutability=ro, data_type="boolean")
    dm.add(sc, "Available", "true", mutability=ro, data_type="boolean", required=True)
    dm.add(sc, "ACPhaseSwitchingSupported", "false", mutability=ro, data_type="boolean")
    dm.add(sc, "Phases3to1", "false", mutability=ro, data_type="boolean")
    dm.add(
        sc,
        "ProfileStackLevel",
        mutability=ro,
        data_type="integer",
        required=True,
        key="ChargeProfileMaxStackLevel",
    )
    dm.add(
        sc,
        "PeriodsPerSchedule",
        mutability=ro,
        data_type="integer",
        required=True,
        key="ChargingScheduleMaxPeriods",
    )
    dm.add(
        sc,
        "RateUnit",
        mutability=ro,
        data_type="MemberList",
        required=True,
        values_list="A,W",
        getter=lambda: ",".join(
            RATE_UNITS_201[u] for u in config.get_list("ChargingScheduleAllowedChargingRateUnit")
        ),
    )
    dm.add(
        sc,
        "Entries",
        instance="ChargingProfiles",
        mutability=ro,
        data_type="integer",
        required=True,
        getter=lambda: str(profiles()),
        max_limit=float(config.get_int("MaxChargingProfilesInstalled")),
    )
    dm.add(
        sc,
        "LimitChangeSignificance",
        "0.1",
        data_type="decimal",
        required=True,
        validator=_is_decimal,
    )
    dm.add(sc, "NotifyChargingLimitWithSchedules", "false", data_type="boolean")
