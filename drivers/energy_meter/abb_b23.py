"""ABB B23 / B24: scaled integers in holding registers (map ``maps/abb_b23.yaml``)."""

from __future__ import annotations

from drivers.energy_meter.modbus import ModbusEnergyMeter


class AbbB23(ModbusEnergyMeter):
    MAP_NAME = "abb_b23"
