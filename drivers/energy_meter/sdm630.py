"""Eastron SDM630: float32 input registers (map ``maps/sdm630.yaml``)."""

from __future__ import annotations

from drivers.energy_meter.modbus import ModbusEnergyMeter


class Sdm630(ModbusEnergyMeter):
    MAP_NAME = "sdm630"
