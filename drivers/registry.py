"""Which driver class serves which ``(role, driver name)``, and which options it takes.

Driver modules are imported lazily, only when an instrument is created: validating a lab
config needs just this module, so it never imports pymodbus, pysnmp, pyvisa or pyserial.
That is why each driver's options are declared here, next to its module path, and not read
from the class. ``tests/drivers/test_registry_options.py`` checks every declaration against
its driver's constructor, so the two cannot drift apart.

An option's type is anything pydantic validates (a type, a union, ``Annotated`` with
constraints); the lab config validates ``instruments.<role>.options`` against it at load
time and hands the driver the typed values.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from drivers.base import Instrument
from drivers.power_relay.relay_maps import ModbusRelayModel, SnmpPduModel

PositiveSeconds = Annotated[float, Field(gt=0)]
NonNegativeInt = Annotated[int, Field(ge=0)]

#: ``LineDevice`` drivers (a serial port or ``socket://`` / ``rfc2217://``)
LINE_OPTIONS: dict[str, Any] = {
    "baudrate": Annotated[int, Field(gt=0)],
    "timeout": PositiveSeconds,
}
#: ``ModbusEnergyMeter`` (its ``_OPTIONS``); the serial settings only matter for RTU
MODBUS_OPTIONS: dict[str, Any] = {
    "unit_id": Annotated[int, Field(ge=0, le=255)],
    "timeout_s": PositiveSeconds,
    "retries": NonNegativeInt,
    "register_map": Annotated[str, Field(min_length=1)],
    "baudrate": Annotated[int, Field(gt=0)],
    "parity": Annotated[str, Field(pattern=r"^[NEOneo]$")],
    "stopbits": Annotated[int, Field(ge=1, le=2)],
    "bytesize": Annotated[int, Field(ge=5, le=8)],
}
#: ``ScpiPowerAnalyser``: ``timeout_s`` plus the command set's placeholders (any
#: placeholder value is written into a command with ``str()``)
SCPI_TIMEOUT: dict[str, Any] = {"timeout_s": PositiveSeconds}
SCPI_PLACEHOLDER = int | str


@dataclass(frozen=True)
class DriverSpec:
    """Where a driver class lives (``"module:Class"``) and the options it accepts."""

    target: str
    options: Mapping[str, Any]


#: role -> driver name -> driver. Extend here when adding a model (declare its options too).
DRIVERS: dict[str, dict[str, DriverSpec]] = {
    "ev_simulator": {
        "hil-evsim": DriverSpec("drivers.ev_simulator.hil_evsim:HilEvSim", LINE_OPTIONS),
    },
    "energy_meter": {
        "sdm630": DriverSpec("drivers.energy_meter.sdm630:Sdm630", MODBUS_OPTIONS),
        "abb_b23": DriverSpec("drivers.energy_meter.abb_b23:AbbB23", MODBUS_OPTIONS),
        "em340": DriverSpec("drivers.energy_meter.em340:Em340", MODBUS_OPTIONS),
    },
    "power_analyser": {
        "wt300": DriverSpec(
            "drivers.power_analyser.wt300:Wt300",
            {
                **SCPI_TIMEOUT,
                "element": SCPI_PLACEHOLDER,
                "phase_element": SCPI_PLACEHOLDER,
                "mode": Literal["RMS", "VMEAN", "DC"],  # RMS on AC, DC on a DC output
            },
        ),
        "hmc8015": DriverSpec("drivers.power_analyser.hmc8015:Hmc8015", SCPI_TIMEOUT),
    },
    "network_switch": {
        "snmp-ifmib": DriverSpec(
            "drivers.network_switch.snmp_ifmib:SnmpIfMib",
            {
                "port": Annotated[int, Field(ge=1)],  # the station's ifIndex
                "community": str,
                "write_community": str,
                "timeout": PositiveSeconds,
                "retries": NonNegativeInt,
            },
        ),
    },
    "identification": {
        "virtual": DriverSpec("drivers.identification.line_reader:LineRfidReader", LINE_OPTIONS),
        "operator": DriverSpec("drivers.identification.operator:OperatorPrompt", {"reader": str}),
    },
    "power_relay": {
        "snmp-pdu": DriverSpec(
            "drivers.power_relay.snmp_pdu:SnmpPdu",
            {
                "outlet": Annotated[int, Field(ge=1)],
                "model": SnmpPduModel,  # a map in drivers/power_relay/maps
                "community": str,
                "write_community": str,
                "timeout": PositiveSeconds,
                "retries": NonNegativeInt,
                "readback_timeout_s": PositiveSeconds,
            },
        ),
        "modbus-relay": DriverSpec(
            "drivers.power_relay.modbus_relay:ModbusRelay",
            {
                "channel": Annotated[int, Field(ge=1)],
                "model": ModbusRelayModel,
                "unit_id": Annotated[int, Field(ge=0, le=255)],
                "timeout_s": PositiveSeconds,
                "readback_timeout_s": PositiveSeconds,
            },
        ),
    },
    "dc_ev_emulator": {
        "hil-dcev": DriverSpec(
            "drivers.dc_ev_emulator.hil_dcev:HilDcEv", {"timeout_s": PositiveSeconds}
        ),
    },
    "dc_meter": {
        "lem-dcbm": DriverSpec(
            "drivers.dc_meter.lem_dcbm:LemDcbm",
            {"timeout_s": PositiveSeconds, "tls_certificate": str},
        ),
    },
}


def driver_spec(role: str, name: str) -> DriverSpec:
    """The declaration of ``role`` / ``name``; ValueError lists the known names."""
    try:
        models = DRIVERS[role]
    except KeyError:
        raise ValueError(f"unknown instrument role {role!r}; known: {', '.join(DRIVERS)}") from None
    try:
        return models[name]
    except KeyError:
        known = ", ".join(sorted(models)) or "(none yet)"
        raise ValueError(f"unknown {role} driver {name!r}; known: {known}") from None


@cache
def options_model(role: str, name: str) -> type[BaseModel]:
    """A pydantic model of the driver's options: each optional, unknown ones forbidden.

    Validate with ``model_validate(options)`` and pass on ``model_dump(exclude_unset=True)``,
    so an option the lab config leaves out keeps the driver's own default.
    """
    spec = driver_spec(role, name)
    fields: dict[str, Any] = {option: (tp, None) for option, tp in spec.options.items()}
    return create_model(
        f"{role}.{name} options",
        __config__=ConfigDict(extra="forbid", arbitrary_types_allowed=False),
        **fields,
    )


def driver_class(role: str, name: str) -> type[Instrument]:
    """The driver class for ``role`` / ``name`` (imported now); ValueError lists the known."""
    module_name, _, cls_name = driver_spec(role, name).target.partition(":")
    return getattr(importlib.import_module(module_name), cls_name)


def create_driver(role: str, name: str, address: str, options: dict[str, Any]) -> Instrument:
    """Instantiate (not open) the driver for one configured instrument."""
    return driver_class(role, name)(address, **options)
