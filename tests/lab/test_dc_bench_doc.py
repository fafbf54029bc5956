"""docs/dc-bench.md: its lab config example is a complete, valid DC bench config.

A lab engineer copies that block as the start of a real DC bench; an example that does
not load (a renamed field, an option the driver does not take) would fail on their first
``hil lab check``, so it is loaded here as the lab would load it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from drivers.registry import DRIVERS
from hil.lab.config import load_lab_config

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "dc-bench.md"


def example() -> str:
    text = DOC.read_text(encoding="utf-8")
    section = text[text.index("## Lab config") :]
    [block] = re.findall(r"```yaml\n(.*?)```", section[: section.index("\n## ", 3)], re.S)
    return block


def test_the_example_is_a_dc_bench_with_the_dc_roles() -> None:
    data = yaml.safe_load(example())
    assert data["lab"]["bench"] == "real"
    assert data["dut"]["current_type"] == "DC"
    assert not {"phases", "max_current_a", "cable"} & set(data["dut"])
    roles = data["instruments"]
    assert roles["power_analyser"]["options"] == {
        "mode": "DC",
        "element": "1",
        "phase_element": "1",
    }
    assert {"dc_ev_emulator", "dc_meter", "power_analyser"} <= set(roles)
    assert not {"ev_simulator", "energy_meter"} & set(roles)


def test_the_example_loads(tmp_path: Path) -> None:
    if "mode" not in DRIVERS["power_analyser"]["wt300"].options:
        pytest.skip("the wt300 driver does not take option mode (DC) yet")
    path = tmp_path / "bench-dc.yaml"
    path.write_text(example(), encoding="utf-8")
    cfg = load_lab_config(path)
    assert cfg.dut.current_type == "DC" and cfg.dut.dc is not None
    assert cfg.instruments.dc_ev_emulator is not None and cfg.instruments.dc_meter is not None


def test_the_example_loads_apart_from_the_analysers_dc_mode(tmp_path: Path) -> None:
    """Everything but ``mode`` loads today, so the rest of the example is checked even
    before the wt300 driver takes it."""
    data = yaml.safe_load(example())
    del data["instruments"]["power_analyser"]["options"]["mode"]
    path = tmp_path / "bench-dc.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    cfg = load_lab_config(path)
    assert cfg.dut.dc is not None and cfg.dut.dc.max_power_w == 150_000
    assert cfg.dut.cable == "tethered"
