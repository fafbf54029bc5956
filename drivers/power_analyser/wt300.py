"""Yokogawa WT300 series (WT310/WT332/WT333): command set ``command_sets/wt300.yaml``."""

from __future__ import annotations

from drivers.power_analyser.scpi import ScpiPowerAnalyser


class Wt300(ScpiPowerAnalyser):
    COMMAND_SET = "wt300"
