"""Carlo Gavazzi EM340: word-swapped int32 registers (map ``maps/em340.yaml``)."""

from __future__ import annotations

from drivers.energy_meter.modbus import ModbusEnergyMeter


class Em340(ModbusEnergyMeter):
    MAP_NAME = "em340"
