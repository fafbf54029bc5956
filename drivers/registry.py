"""Which driver class serves which ``(role, driver name)``; imported lazily."""

from __future__ import annotations

import importlib
from typing import Any

from drivers.base import Instrument

#: role -> driver name -> "module:Class". Extend here when adding a model.
DRIVERS: dict[str, dict[str, str]] = {
    "ev_simulator": {
        "hil-evsim": "drivers.ev_simulator.hil_evsim:HilEvSim",
    },
    "energy_meter": {
        "sdm630": "drivers.energy_meter.sdm630:Sdm630",
        "abb_b23": "drivers.energy_meter.abb_b23:AbbB23",
        "em340": "drivers.energy_meter.em340:Em340",
    },
    "power_analyser": {
        "wt300": "drivers.power_analyser.wt300:Wt300",
        "hmc8015": "drivers.power_analyser.hmc8015:Hmc8015",
    },
    "network_switch": {
        "snmp-ifmib": "drivers.network_switch.snmp_ifmib:SnmpIfMib",
    },
    "identification": {
        "virtual": "drivers.identification.line_reader:LineRfidReader",
        "operator": "drivers.identification.operator:OperatorPrompt",
    },
    "power_relay": {},
}


def driver_class(role: str, name: str) -> type[Instrument]:
    """The driver class for ``role`` / ``name``; ValueError lists the known names."""
    try:
        models = DRIVERS[role]
    except KeyError:
        raise ValueError(f"unknown instrument role {role!r}; known: {', '.join(DRIVERS)}") from None
    try:
        target = models[name]
    except KeyError:
        known = ", ".join(sorted(models)) or "(none yet)"
        raise ValueError(f"unknown {role} driver {name!r}; known: {known}") from None
    module_name, _, cls_name = target.partition(":")
    return getattr(importlib.import_module(module_name), cls_name)


def create_driver(role: str, name: str, address: str, options: dict[str, Any]) -> Instrument:
    """Instantiate (not open) the driver for one configured instrument."""
    return driver_class(role, name)(address, **options)
