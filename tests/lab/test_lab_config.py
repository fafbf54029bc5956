"""A bad lab config fails with one line naming the file, the field and the value."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from hil.lab.config import LabConfigError, load_lab_config

REPO = Path(__file__).resolve().parents[2]


def write(tmp_path, mutate):
    data = yaml.safe_load((REPO / "lab_configs" / "virtual.yaml").read_text())
    mutate(data)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_shipped_lab_configs_are_valid():
    for path in (REPO / "lab_configs").glob("*.yaml"):
        assert load_lab_config(path).dut.station_id


def test_typo_field_names_file_field_and_value(tmp_path):
    path = write(tmp_path, lambda d: d["timings"].update(heartbeat_intervall_s=5))
    with pytest.raises(LabConfigError) as err:
        load_lab_config(path)
    msg = str(err.value)
    assert msg.startswith(str(path))
    assert "timings.heartbeat_intervall_s" in msg and "unknown field" in msg and "5" in msg
    assert "\n" not in msg


def test_wrong_type_names_file_field_and_value(tmp_path):
    path = write(tmp_path, lambda d: d["dut"].update(connectors="two"))
    with pytest.raises(LabConfigError, match=r"field dut\.connectors: .*\(value 'two'\)"):
        load_lab_config(path)


def test_unknown_deviation_is_refused(tmp_path):
    path = write(tmp_path, lambda d: d["virtual"].update(deviations=["made_up"]))
    with pytest.raises(LabConfigError, match=r"virtual\.deviations.*unknown deviation 'made_up'"):
        load_lab_config(path)


def test_missing_file_and_broken_yaml(tmp_path):
    with pytest.raises(LabConfigError, match="cannot read lab config"):
        load_lab_config(tmp_path / "nope.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("dut: [unclosed\n")
    with pytest.raises(
        LabConfigError, match=r"broken.yaml: line \d+, column \d+ is not valid YAML"
    ):
        load_lab_config(broken)


def test_virtual_address_on_a_real_bench_is_refused(tmp_path):
    def mutate(d):
        d["lab"]["bench"] = "real"
        d["instruments"] = {"energy_meter": {"driver": "sdm630", "address": "virtual"}}

    with pytest.raises(LabConfigError, match=r"instruments.energy_meter.address is 'virtual'"):
        load_lab_config(write(tmp_path, mutate))
