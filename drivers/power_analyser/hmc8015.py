"""Rohde & Schwarz HMC8015: command set ``command_sets/hmc8015.yaml``."""

from __future__ import annotations

from drivers.power_analyser.scpi import ScpiPowerAnalyser


class Hmc8015(ScpiPowerAnalyser):
    COMMAND_SET = "hmc8015"
