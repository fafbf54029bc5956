"""A deviation of DC stations only (its catalogue entry says ``current_type: DC``) cannot be
switched on for an AC station: the virtual AC station could not show it, and a step would
pass with the defect said to be on."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from hil.lab.config import LabConfigError, parse_lab_config
from hil.lab.deviations import KNOWN_DEVIATIONS

LABS = Path(__file__).resolve().parents[2] / "lab_configs"
DC_ONLY = sorted(n for n, d in KNOWN_DEVIATIONS.items() if d.current_type == "DC")


def _lab(name: str, deviations: list[str]) -> dict:
    data = yaml.safe_load((LABS / name).read_text())
    data["virtual"]["deviations"] = deviations
    return data


def test_the_dc_eichrecht_deviations_are_dc_only():
    assert {"ocmf_rt_ac", "ocmf_registers_disagree"} <= set(DC_ONLY)


@pytest.mark.parametrize("name", DC_ONLY)
def test_a_dc_only_deviation_on_an_ac_station_is_refused_by_name(name):
    with pytest.raises(LabConfigError, match=f"deviation '{name}' applies to DC stations only"):
        parse_lab_config(_lab("virtual.yaml", ["ocmf_bad_signature", name]), "virtual.yaml")


@pytest.mark.parametrize("name", DC_ONLY)
def test_a_dc_only_deviation_on_a_dc_station_is_taken(name):
    cfg = parse_lab_config(_lab("virtual-dc.yaml", [name]), "virtual-dc.yaml")
    assert cfg.virtual.deviations == [name]
