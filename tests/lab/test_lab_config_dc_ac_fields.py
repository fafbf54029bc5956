"""AC-only fields on the shipped DC lab configs, and the refusals
``test_lab_config_dc.py`` does not show: several AC fields at once, an AC field put into
the DC section, a current type in the wrong case.

Each refusal is one line naming the file, the field and the value.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from hil.lab.config import LabConfigError, load_lab_config

REPO = Path(__file__).resolve().parents[2]
DC_CONFIGS = ("virtual-dc.yaml", "virtual-dc-201.yaml")


def shipped(name: str) -> dict[str, Any]:
    return yaml.safe_load((REPO / "lab_configs" / name).read_text(encoding="utf-8"))


def refusal(tmp_path: Path, data: dict[str, Any]) -> tuple[Path, str]:
    path = tmp_path / "bench-dc.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(LabConfigError) as err:
        load_lab_config(path)
    msg = str(err.value)
    assert msg.startswith(f"{path}: field "), msg
    assert "\n" not in msg, msg
    return path, msg


@pytest.mark.parametrize("name", DC_CONFIGS)
def test_the_shipped_dc_configs_are_dc_without_ac_fields(name: str) -> None:
    """The virtual DC benches load as DC stations, with the DC rating they give and
    neither an AC field nor an AC-only instrument (AC EV simulator, AC energy meter)."""
    raw = shipped(name)
    cfg = load_lab_config(REPO / "lab_configs" / name)
    assert cfg.dut.current_type == "DC"
    assert cfg.dut.dc is not None and cfg.dut.dc.model_dump() == raw["dut"]["dc"]
    assert not {"phases", "max_current_a"} & set(raw["dut"])
    assert "voltage_v" not in raw.get("smart_charging", {})
    assert cfg.instruments.ev_simulator is None and cfg.instruments.energy_meter is None
    assert cfg.instruments.dc_ev_emulator is not None and cfg.instruments.dc_meter is not None


@pytest.mark.parametrize("name", DC_CONFIGS)
@pytest.mark.parametrize(
    ("section", "field", "value", "words"),
    [
        ("dut", "phases", 3, "dut.phases applies to AC stations"),
        ("dut", "max_current_a", 125, "dut.max_current_a (the current per phase)"),
        ("dut", "cable", "socket", "a DC station (dut.current_type: DC) has a tethered cable"),
        ("smart_charging", "voltage_v", 230, "smart_charging.voltage_v is the AC voltage"),
    ],
)
def test_an_ac_field_on_a_shipped_dc_bench_is_refused(
    tmp_path: Path, name: str, section: str, field: str, value: Any, words: str
) -> None:
    """Harm prevented: copying an AC bench's line into a DC bench (1.6 or 2.0.1) would
    describe a station that does not exist; it is refused naming file, field and value."""
    data = shipped(name)
    data.setdefault(section, {})[field] = value
    path, msg = refusal(tmp_path, data)
    assert msg.startswith(f"{path}: field {section}.{field}: {words}"), msg
    assert msg.endswith(f"(value {value!r})"), msg


def test_two_ac_fields_name_the_first_and_count_the_rest(tmp_path: Path) -> None:
    """With both AC rating fields given, the first is named in full and the other is
    counted, so fixing one does not leave the engineer thinking the file is done."""
    data = shipped("virtual-dc.yaml")
    data["dut"].update(phases=3, max_current_a=32)
    path, msg = refusal(tmp_path, data)
    assert msg == (
        f"{path}: field dut.phases: dut.phases applies to AC stations; a DC station "
        "(dut.current_type: DC) has no phases (value 3) (and 1 more problem(s))"
    )


def test_an_ac_field_inside_the_dc_section_is_an_unknown_field(tmp_path: Path) -> None:
    """``phases`` moved into ``dut.dc`` (where an engineer might look for it) is not
    silently dropped: the DC section has no such field."""
    data = shipped("virtual-dc.yaml")
    data["dut"]["dc"]["phases"] = 3
    path, msg = refusal(tmp_path, data)
    assert msg == f"{path}: field dut.dc.phases: unknown field (value 3); check the spelling"


def test_a_current_type_in_lower_case_is_named(tmp_path: Path) -> None:
    """``current_type: dc`` is not taken for AC (the default) nor for DC: it is refused
    naming the two values there are."""
    data = shipped("virtual-dc.yaml")
    data["dut"]["current_type"] = "dc"
    path, msg = refusal(tmp_path, data)
    assert msg == f"{path}: field dut.current_type: Input should be 'AC' or 'DC' (value 'dc')"
