"""Outlet and coil maps as data: which OID or coil switches a relay, and which values mean what.

A map (``maps/<name>.yaml``) is an SNMP map (``kind: snmp``: ``control_oid`` and
``state_oid``, to which the outlet number is appended, and the INTEGER values that mean on
and off when SET and when read) or a Modbus map (``kind: modbus``: the coil of channel 1
and the number of channels). Each names the vendor document its numbers come from
(``source``). Pure Python and YAML: the lab config and the virtual PDU read these without
importing pysnmp or pymodbus.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml

MAPS_DIR = Path(__file__).with_name("maps")

#: Bundled SNMP outlet maps (``maps/<name with _>.yaml``); a test keeps this in step with
#: the files. Add a model: write its map, then add its name here.
SnmpPduModel = Literal["apc-powernet", "gude-epc8226"]
#: Bundled Modbus relay maps.
ModbusRelayModel = Literal["waveshare-poe-eth-relay"]

_OID = re.compile(r"^\d+(\.\d+)+$")


class RelayMapError(ValueError):
    """A map that cannot be used; the message names the file and the field."""


@dataclass(frozen=True)
class SnmpOutletMap:
    name: str
    model: str
    source: str
    identity_oid: str
    control_oid: str
    state_oid: str
    set_on: int
    set_off: int
    read_on: int
    read_off: int

    def control(self, outlet: int) -> str:
        return f"{self.control_oid}.{outlet}"

    def state(self, outlet: int) -> str:
        return f"{self.state_oid}.{outlet}"


@dataclass(frozen=True)
class ModbusRelayMap:
    name: str
    model: str
    source: str
    coil_base: int
    channels: int

    def coil(self, channel: int) -> int:
        return self.coil_base + channel - 1


def _path(name: str) -> Path:
    return MAPS_DIR / f"{name.replace('-', '_')}.yaml"


def _load(name: str, kind: str) -> dict[str, Any]:
    path = _path(name)
    if not path.is_file():
        known = ", ".join(sorted(p.stem.replace("_", "-") for p in MAPS_DIR.glob("*.yaml")))
        raise RelayMapError(f"no relay map {name!r} ({path}); bundled: {known}")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise RelayMapError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict) or data.get("kind") != kind:
        raise RelayMapError(f"{path}: kind must be {kind!r}, got {data.get('kind')!r}")
    for key in ("model", "source"):
        if not isinstance(data.get(key), str) or not data[key].strip():
            raise RelayMapError(f"{path}: field {key!r} must name the model / vendor document")
    return data


def _int(path: Path, data: dict[str, Any], key: str, low: int = 0) -> int:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise RelayMapError(f"{path}: field {key!r} must be an integer >= {low}, got {value!r}")
    return value


@cache
def load_snmp_map(name: str) -> SnmpOutletMap:
    data = _load(name, "snmp")
    path = _path(name)
    oids = {}
    for key in ("identity_oid", "control_oid", "state_oid"):
        value = str(data.get(key, ""))
        if not _OID.match(value):
            raise RelayMapError(f"{path}: field {key!r} must be a numeric OID, got {value!r}")
        oids[key] = value
    values = {k: _int(path, data, k) for k in ("set_on", "set_off", "read_on", "read_off")}
    if values["set_on"] == values["set_off"] or values["read_on"] == values["read_off"]:
        raise RelayMapError(f"{path}: on and off must be different values")
    return SnmpOutletMap(name, data["model"], " ".join(data["source"].split()), **oids, **values)


@cache
def load_modbus_map(name: str) -> ModbusRelayMap:
    data = _load(name, "modbus")
    path = _path(name)
    return ModbusRelayMap(
        name,
        data["model"],
        " ".join(data["source"].split()),
        coil_base=_int(path, data, "coil_base"),
        channels=_int(path, data, "channels", low=1),
    )
