"""A driver's failure is said once, by the lab: the libraries it talks through (pymodbus,
pyvisa) do not add their own second-hand lines beside it."""

from __future__ import annotations

import logging
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from drivers.base import InstrumentError
from drivers.registry import create_driver

REPO = Path(__file__).resolve().parents[2]


def _closed_port() -> int:
    with socket.socket() as sock:  # bound, never listening: a connection is refused
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_an_unreachable_modbus_meter_logs_no_pymodbus_line(caplog):
    """Harm prevented: pymodbus logged its own "Connection to (127.0.0.1, N) failed"
    (ERROR) beside the lab's "energy_meter at modbus-tcp://...: cannot connect", so the
    engineer saw two messages for one fault, the library's without the instrument's role.
    The lab's loggers and pymodbus's CRITICAL lines still pass: logging is not switched
    off, only the library's lower levels."""
    address = f"modbus-tcp://127.0.0.1:{_closed_port()}"
    meter = create_driver("energy_meter", "sdm630", address, {"timeout_s": 0.5})
    with caplog.at_level(logging.DEBUG):
        with pytest.raises(InstrumentError) as err:
            meter.open()
        logging.getLogger("hil.lab").warning("energy_meter unreachable: %s", err.value)
        logging.getLogger("pymodbus.logging").critical("a library's CRITICAL still shows")
    assert str(err.value) == f"energy_meter at {address}: cannot connect to " + (
        f"{address.removeprefix('modbus-tcp://')} (refused, unreachable or busy)"
    )
    names = [(r.name, r.getMessage()) for r in caplog.records]
    assert ("hil.lab", f"energy_meter unreachable: {err.value}") in names
    assert [m for n, m in names if n.startswith("pymodbus")] == [
        "a library's CRITICAL still shows"
    ], names
    assert not any("Connection to" in m for _, m in names), names


def test_hil_lab_check_prints_the_labs_line_and_no_library_line(tmp_path):
    """What the engineer sees: ``hil lab check`` on a bench whose meter and Modbus relay
    are unreachable prints the lab's line for each, and nothing from pymodbus (before, its
    ERROR lines reached stderr through Python's last-resort handler)."""
    meter = f"modbus-tcp://127.0.0.1:{_closed_port()}"
    relay = f"modbus-tcp://127.0.0.1:{_closed_port()}"
    data = yaml.safe_load((REPO / "lab_configs" / "virtual.yaml").read_text())
    data["lab"]["bench"] = "real"
    data["instruments"] = {
        "energy_meter": {"driver": "sdm630", "address": meter, "options": {"timeout_s": 0.5}},
        "power_relay": {"driver": "modbus-relay", "address": relay},
    }
    lab = tmp_path / "lab.yaml"
    lab.write_text(yaml.safe_dump(data))
    proc = subprocess.run(
        [sys.executable, "-m", "hil", "lab", "check", "--lab", str(lab)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert f"energy_meter at {meter}: cannot connect" in proc.stdout, proc.stdout
    assert f"power_relay at {relay}: cannot connect" in proc.stdout, proc.stdout
    assert "Connection to" not in proc.stdout + proc.stderr
    assert "pymodbus" not in proc.stdout + proc.stderr
    assert proc.stderr == "", proc.stderr
