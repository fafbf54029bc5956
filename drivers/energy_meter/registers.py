"""Register maps as data, and the codec both the driver and the virtual meter use.

A map (``maps/<name>.yaml``) names, for each quantity, where it lives (address, input or
holding registers), how it is encoded (type, word order) and its scale and unit: the
engineering value is ``raw * scale`` in ``unit``. Bytes inside a register are always
big-endian (Modbus); ``word_order`` says whether the most significant register comes first
(``big``, "ABCD") or last (``little``, "CDAB", word-swapped).

Pure Python, no pymodbus: importing a map is cheap and the encoder serves the virtual meter.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

MAPS_DIR = Path(__file__).with_name("maps")

#: type name -> (struct format, registers)
TYPES: dict[str, tuple[str, int]] = {
    "int16": ("h", 1),
    "uint16": ("H", 1),
    "int32": ("i", 2),
    "uint32": ("I", 2),
    "int64": ("q", 4),
    "uint64": ("Q", 4),
    "float32": ("f", 2),
    "float64": ("d", 4),
}
#: register block name -> Modbus read function code
FUNCTIONS = {"holding": 3, "input": 4}
WORD_ORDERS = ("big", "little")
#: unit -> factor to the lab's base units (V, A, W, Wh)
UNIT_FACTORS = {"V": 1.0, "A": 1.0, "W": 1.0, "kW": 1000.0, "Wh": 1.0, "kWh": 1000.0, "": 1.0}
#: quantities every energy meter map must provide
REQUIRED = (
    "voltage_l1",
    "voltage_l2",
    "voltage_l3",
    "current_l1",
    "current_l2",
    "current_l3",
    "power_total",
    "energy_import",
)


class RegisterMapError(ValueError):
    """A register map file that cannot be used; the message names file and field."""


def decode_words(words: list[int], type_name: str, word_order: str) -> int | float:
    """The raw number held in ``words`` (one 16-bit int per register)."""
    fmt, count = TYPES[type_name]
    if len(words) != count:
        raise ValueError(f"{type_name} needs {count} registers, got {len(words)}")
    ordered = words if word_order == "big" else list(reversed(words))
    data = b"".join(int(w).to_bytes(2, "big") for w in ordered)
    return struct.unpack(">" + fmt, data)[0]


def encode_raw(raw: int | float, type_name: str, word_order: str) -> list[int]:
    """Registers holding the raw number ``raw`` (inverse of :func:`decode_words`)."""
    fmt, count = TYPES[type_name]
    try:
        data = struct.pack(">" + fmt, raw)
    except struct.error as exc:
        raise ValueError(f"{raw!r} does not fit {type_name}: {exc}") from None
    words = [int.from_bytes(data[i : i + 2], "big") for i in range(0, 2 * count, 2)]
    return words if word_order == "big" else list(reversed(words))


def not_available(raw: int | float, type_name: str) -> bool:
    """True for values meters use to say "no valid value": NaN, infinity, all-ones maxima.

    ABB B-series documents 0xFFFF... (unsigned) and 0x7FFF... (signed) as "not available";
    Carlo Gavazzi uses 0x7FFFFFFF likewise.
    """
    if isinstance(raw, float):
        return math.isnan(raw) or math.isinf(raw)
    bits = 16 * TYPES[type_name][1]
    top = (1 << bits) - 1 if type_name.startswith("u") else (1 << (bits - 1)) - 1
    return raw == top


@dataclass(frozen=True)
class Register:
    """One quantity in a meter's register map."""

    name: str
    address: int
    function: str  # "input" | "holding"
    type: str
    word_order: str
    scale: float
    unit: str

    @property
    def count(self) -> int:
        return TYPES[self.type][1]

    @property
    def function_code(self) -> int:
        return FUNCTIONS[self.function]

    def decode_raw(self, words: list[int]) -> int | float:
        return decode_words(words, self.type, self.word_order)

    def to_base(self, raw: int | float) -> float:
        """Engineering value of ``raw`` in the lab's base unit (V, A, W, Wh)."""
        return float(raw) * self.scale * UNIT_FACTORS[self.unit]

    def resolution(self, value: float) -> float:
        """The smallest step this register can show near ``value`` (base unit): one count
        of a scaled integer, or one float32 ulp (a 24-bit significand) at ``value``."""
        if self.type.startswith("float"):
            bits = 52 if self.type == "float64" else 23
            return abs(value) * 2.0**-bits
        return self.scale * UNIT_FACTORS[self.unit]

    def encode_base(self, value: float) -> list[int]:
        """Registers a meter would hold for ``value`` given in the base unit."""
        raw = value / UNIT_FACTORS[self.unit] / self.scale
        if not self.type.startswith("float"):
            raw = int(round(raw))
        return encode_raw(raw, self.type, self.word_order)


@dataclass(frozen=True)
class RegisterMap:
    """A whole meter model: its registers by quantity name and its identity registers."""

    name: str
    model: str
    source: str
    registers: dict[str, Register]
    identity: dict[str, Register] = field(default_factory=dict)

    def __getitem__(self, quantity: str) -> Register:
        return self.registers[quantity]

    def all_registers(self) -> list[Register]:
        return [*self.registers.values(), *self.identity.values()]


def _register(origin: str, section: str, name: str, spec: Any, defaults: dict) -> Register:
    where = f"{origin}: {section}.{name}"
    if not isinstance(spec, dict):
        raise RegisterMapError(f"{where}: must be a mapping, got {spec!r}")
    merged = {**defaults, **spec}
    unknown = set(merged) - {"address", "function", "type", "word_order", "scale", "unit"}
    if unknown:
        raise RegisterMapError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    address = merged.get("address")
    if not isinstance(address, int) or not 0 <= address <= 0xFFFF:
        raise RegisterMapError(f"{where}.address: must be 0..0xFFFF, got {address!r}")
    checks = (
        ("function", FUNCTIONS, "input"),
        ("type", TYPES, "float32"),
        ("word_order", WORD_ORDERS, "big"),
        ("unit", UNIT_FACTORS, ""),
    )
    values: dict[str, Any] = {}
    for key, allowed, default in checks:
        value = merged.get(key, default)
        if value not in allowed:
            raise RegisterMapError(
                f"{where}.{key}: {value!r} is not one of {', '.join(map(str, allowed))}"
            )
        values[key] = value
    scale = merged.get("scale", 1.0)
    if not isinstance(scale, int | float) or scale == 0:
        raise RegisterMapError(f"{where}.scale: must be a non-zero number, got {scale!r}")
    if address + TYPES[values["type"]][1] - 1 > 0xFFFF:
        raise RegisterMapError(f"{where}.address: {values['type']} runs past 0xFFFF")
    return Register(name=name, address=address, scale=float(scale), **values)


def parse_map(name: str, data: Any, origin: str = "<memory>") -> RegisterMap:
    """Validate a parsed map document; errors name the file and the field."""
    if not isinstance(data, dict):
        raise RegisterMapError(f"{origin}: a register map must be a mapping")
    defaults = data.get("defaults", {}) or {}
    if not isinstance(defaults, dict):
        raise RegisterMapError(f"{origin}: defaults must be a mapping")
    sections: dict[str, dict[str, Register]] = {}
    for section in ("registers", "identity"):
        entries = data.get(section, {}) or {}
        if not isinstance(entries, dict):
            raise RegisterMapError(f"{origin}: {section} must be a mapping")
        sections[section] = {
            key: _register(origin, section, key, spec, defaults) for key, spec in entries.items()
        }
    missing = [q for q in REQUIRED if q not in sections["registers"]]
    if missing:
        raise RegisterMapError(f"{origin}: registers lacks {', '.join(missing)}")
    return RegisterMap(
        name=name,
        model=str(data.get("model", name)),
        source=str(data.get("source", "")),
        registers=sections["registers"],
        identity=sections["identity"],
    )


def load_map_file(path: str | Path) -> RegisterMap:
    """Load a map from any YAML file (the lab can point a driver at its own map)."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RegisterMapError(f"{path}: cannot read register map: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise RegisterMapError(f"{path}: not valid YAML: {exc}") from None
    return parse_map(path.stem, data, str(path))


@cache
def load_map(name: str) -> RegisterMap:
    """The bundled map ``maps/<name>.yaml``."""
    path = MAPS_DIR / f"{name}.yaml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in MAPS_DIR.glob("*.yaml")))
        raise RegisterMapError(f"no register map {name!r}; bundled maps: {known}")
    return load_map_file(path)
