"""``hil lab check`` reaches every instrument of the virtual bench over its real protocol,
and names the instrument and address that cannot be reached."""

from __future__ import annotations

import socket

import yaml

from hil.cli import main
from tests.suites.runner import VIRTUAL_DC_LAB, VIRTUAL_LAB


def test_virtual_bench_instruments_all_ok(capsys):
    assert main(["lab", "check", "--lab", str(VIRTUAL_LAB)]) == 0
    out = capsys.readouterr().out
    assert "6 of 6 instrument(s) OK" in out
    for role in (
        "ev_simulator",
        "energy_meter",
        "power_analyser",
        "network_switch",
        "identification",
        "power_relay",
    ):
        assert any(line.startswith(role) and " OK " in line for line in out.splitlines()), out
    # the relay is only read, never switched: the station stays powered
    relay = next(line for line in out.splitlines() if line.startswith("power_relay"))
    assert relay.endswith("station supply on"), relay


def test_virtual_dc_bench_instruments_answer_with_a_reading(capsys):
    """The DC roles are probed with a reading of their own, not just an identity: the
    emulator's pilot and session, the DC meter's register and voltage."""
    assert main(["lab", "check", "--lab", str(VIRTUAL_DC_LAB)]) == 0
    out = capsys.readouterr().out
    lines = {line.split()[0]: line for line in out.splitlines() if line.strip()}
    assert "pilot state A, session idle" in lines["dc_ev_emulator"], out
    assert "Wh imported, 0 V" in lines["dc_meter"], out
    assert " OK " in lines["power_analyser"], out


def test_unreachable_instrument_is_named_with_its_address(tmp_path, capsys):
    with socket.socket() as sock:  # a port that is certainly closed
        sock.bind(("127.0.0.1", 0))
        dead = f"modbus-tcp://127.0.0.1:{sock.getsockname()[1]}"
    data = yaml.safe_load(VIRTUAL_LAB.read_text())
    data["instruments"]["energy_meter"]["address"] = dead
    lab = tmp_path / "lab.yaml"
    lab.write_text(yaml.safe_dump(data))
    assert main(["lab", "check", "--lab", str(lab)]) == 1
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if x.startswith("energy_meter"))
    assert "FAIL" in line and f"energy_meter at {dead}" in line
    assert "5 of 6 instrument(s) OK" in out


def test_station_url_names_the_subprotocol_of_the_configured_version():
    """A 2.0.1 station must be told ``ocpp2.0.1`` (OCPP-J 2.0.1 Part 4 §3.1.2), a 1.6 one
    ``ocpp1.6`` (OCPP-J 1.6 §3.1.2): ``hil lab check`` prints the one of ``dut.ocpp``."""
    from hil.lab.config import load_lab_config
    from hil.lab.preflight import station_url_text

    lab_201 = VIRTUAL_LAB.with_name("virtual-201.yaml")
    text = station_url_text(load_lab_config(lab_201))
    assert "(subprotocol ocpp2.0.1;" in text, text
    assert "ocpp1.6" not in text, text
    assert "(subprotocol ocpp1.6;" in station_url_text(load_lab_config(VIRTUAL_LAB))


def _prompting(tmp_path, bench: str, drop: tuple[str, ...]):
    data = yaml.safe_load(VIRTUAL_LAB.read_text())
    data["lab"].update(bench=bench, missing_instrument="prompt")
    data["operator"] = {"channel": "web", "host": "0.0.0.0", "port": 8090, "timeout_s": 120}
    for role in drop:
        del data["instruments"][role]
    lab = tmp_path / "lab.yaml"
    lab.write_text(yaml.safe_dump(data))
    return lab


def test_virtual_bench_that_would_prompt_an_operator_is_refused(tmp_path, capsys):
    """Harm prevented: ``hil lab check`` passed a virtual bench with
    ``missing_instrument: prompt`` and no tag reader. Nobody stands at a virtual bench and
    no card can be held to a virtual station's reader: a run waited for an operator who
    could not act, and a "Done" there would make the station's N of what follows. Now the
    check refuses it with exit 2 and one line naming the file, the setting and the role,
    before it starts anything."""
    lab = _prompting(tmp_path, "virtual", ("identification",))
    assert main(["lab", "check", "--lab", str(lab)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""  # refused before the bench was started
    [line] = captured.err.splitlines()
    assert line.startswith(
        f"error: {lab}: lab.missing_instrument is 'prompt' on a virtual bench"
    ), line
    assert "for identification:" in line and "missing_instrument: skip" in line


def test_lab_check_names_the_roles_an_operator_stands_in_for(tmp_path, capsys):
    """Harm prevented: a real bench with ``missing_instrument: prompt`` passed the check
    without a word about the operator, so nobody learnt before the run that a person must
    stay at the bench, for which roles, and where the prompts would appear. Now the check
    names the roles configured null or absent, the channel and where the page listens."""
    lab = _prompting(tmp_path, "real", ("ev_simulator", "identification"))
    data = yaml.safe_load(lab.read_text())
    data["instruments"] = {}  # nothing to reach: the check itself is instant
    lab.write_text(yaml.safe_dump(data))
    assert main(["lab", "check", "--lab", str(lab)]) == 0
    out = capsys.readouterr().out
    assert (
        "operator prompts (lab.missing_instrument: prompt): an operator stands in for "
        "ev_simulator, identification (configured null or absent); channel web (the web "
        "page listens on 0.0.0.0:8090), timeout 120 s"
    ) in out, out
