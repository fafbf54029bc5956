"""A bad lab config fails with one line naming the file, the field and the value."""

from __future__ import annotations

import subprocess
import sys
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
    for path in (REPO / "lab_configs").glob("**/*.yaml"):
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
    broken.write_text("lab:\n  name: x\ndut: [unclosed\n")
    with pytest.raises(
        LabConfigError, match=r"broken.yaml: line \d+, column \d+ is not valid YAML"
    ) as err:
        load_lab_config(broken)
    assert str(err.value) == (
        f"{broken}: line 4, column 1 is not valid YAML: expected ',' or ']', but got "
        "'<stream end>' (while parsing a flow sequence at line 3, column 6)"
    )


ROLES_AND_DRIVERS = [
    ("ev_simulator", "hil-evsim"),
    ("energy_meter", "sdm630"),
    ("power_analyser", "wt300"),
    ("network_switch", "snmp-ifmib"),
    ("identification", "virtual"),
    ("power_relay", "snmp-pdu"),
]


def load_error(path) -> str:
    with pytest.raises(LabConfigError) as err:
        load_lab_config(path)
    msg = str(err.value)
    assert "\n" not in msg and "Traceback" not in msg
    return msg


@pytest.mark.parametrize(("role", "driver"), ROLES_AND_DRIVERS)
def test_virtual_address_on_a_real_bench_names_the_address_field(tmp_path, role, driver):
    def mutate(d):
        d["lab"]["bench"] = "real"
        d["instruments"] = {role: {"driver": driver, "address": "virtual"}}

    path = write(tmp_path, mutate)
    msg = load_error(path)
    assert msg.startswith(f"{path}: field instruments.{role}.address: "), msg
    assert "lab.bench is 'real'" in msg and msg.endswith("(value 'virtual')"), msg
    assert "'dut'" not in msg and "VIRTUAL-CP-001" not in msg  # not the whole config
    assert len(msg) < len(str(path)) + 200, msg


def test_virtual_addresses_of_several_roles_on_a_real_bench_are_counted(tmp_path):
    def mutate(d):
        d["lab"]["bench"] = "real"
        d["instruments"]["energy_meter"]["address"] = "modbus-tcp://192.0.2.1:502"

    msg = load_error(write(tmp_path, mutate))
    # the other five roles are still `virtual`: the first is named, the rest counted
    assert "field instruments.ev_simulator.address: " in msg, msg
    assert msg.endswith("(value 'virtual') (and 4 more problem(s))"), msg


def test_not_utf8_names_file_and_position(tmp_path):
    path = tmp_path / "latin1.yaml"
    text = (REPO / "lab_configs" / "virtual.yaml").read_text(encoding="utf-8")
    text = text.replace("name: Virtual bench", "name: Prüfstand Süd")
    path.write_bytes(text.encode("latin-1"))
    line = next(i for i, x in enumerate(text.splitlines(), 1) if "Prüfstand" in x)
    offset = text.encode("latin-1").index("ü".encode("latin-1"))
    msg = load_error(path)
    assert msg.startswith(f"{path}: "), msg
    assert f"line {line}, column 11" in msg and f"byte {offset}" in msg, msg
    assert "UTF-8" in msg and "0xfc" in msg, msg


def test_utf8_with_a_byte_order_mark_is_read(tmp_path):
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + (REPO / "lab_configs" / "virtual.yaml").read_bytes())
    assert load_lab_config(path).dut.station_id == "VIRTUAL-CP-001"


@pytest.mark.parametrize("content", ["", "\n\n", "# nothing here yet\n   \n", "---\n"])
def test_empty_file_says_so(tmp_path, content):
    path = tmp_path / "empty.yaml"
    path.write_text(content)
    assert load_error(path) == f"{path}: the lab config is empty"


def test_not_a_mapping_names_the_type(tmp_path):
    path = tmp_path / "list.yaml"
    path.write_text("- dut\n- tags\n")
    assert load_error(path) == f"{path}: a lab config must be a mapping of sections, got a list"


# ------------------------------------------------------------------ driver options


def test_option_of_the_wrong_type_is_named_at_load_time(tmp_path):
    path = write(
        tmp_path, lambda d: d["instruments"]["network_switch"].update(options={"port": "one"})
    )
    msg = load_error(path)
    assert msg == (
        f"{path}: field instruments.network_switch.options.port: Input should be a valid "
        "integer, unable to parse string as an integer (value 'one')"
    )


def test_unknown_option_is_named_with_the_options_the_driver_takes(tmp_path):
    path = write(tmp_path, lambda d: d["instruments"]["energy_meter"].update(options={"unitid": 2}))
    msg = load_error(path)
    assert msg.startswith(f"{path}: field instruments.energy_meter.options.unitid: "), msg
    assert "unknown option for driver sdm630" in msg, msg
    assert "unit_id" in msg and "baudrate" in msg and msg.endswith("(value 2)"), msg


def test_unknown_driver_is_named_with_the_known_ones(tmp_path):
    path = write(tmp_path, lambda d: d["instruments"]["energy_meter"].update(driver="sdm360"))
    msg = load_error(path)
    assert msg == (
        f"{path}: field instruments.energy_meter.driver: unknown energy_meter driver "
        "'sdm360'; known: abb_b23, em340, sdm630 (value 'sdm360')"
    )


def test_a_driver_of_another_role_is_unknown(tmp_path):
    path = write(tmp_path, lambda d: d["instruments"]["network_switch"].update(driver="sdm630"))
    assert "unknown network_switch driver 'sdm630'; known: snmp-ifmib" in load_error(path)


def test_options_are_typed_by_the_driver_declaration(tmp_path):
    def mutate(d):
        d["instruments"]["network_switch"]["options"] = {"port": "7", "timeout": 2}
        d["instruments"]["power_analyser"]["options"] = {"element": 1, "timeout_s": "2.5"}

    cfg = load_lab_config(write(tmp_path, mutate))
    assert cfg.instruments.network_switch.options == {"port": 7, "timeout": 2.0}
    assert type(cfg.instruments.network_switch.options["timeout"]) is float
    assert cfg.instruments.power_analyser.options == {"element": 1, "timeout_s": 2.5}
    assert cfg.instruments.energy_meter.options == {"unit_id": 1}  # only what was given


def test_option_out_of_range_is_refused(tmp_path):
    path = write(
        tmp_path, lambda d: d["instruments"]["network_switch"].update(options={"timeout": 0})
    )
    msg = load_error(path)
    assert "field instruments.network_switch.options.timeout: " in msg, msg
    assert "greater than 0" in msg and msg.endswith("(value 0)"), msg


def test_loading_a_config_imports_no_driver_module(tmp_path):
    """Validating options needs only the registry: no pymodbus, pysnmp, pyvisa, pyserial."""
    code = (
        "import sys\n"
        "from hil.lab.config import load_lab_config\n"
        f"load_lab_config({str(REPO / 'lab_configs' / 'virtual.yaml')!r})\n"
        "heavy = ('pymodbus', 'pysnmp', 'pyvisa', 'serial', 'drivers.energy_meter',\n"
        "         'drivers.network_switch', 'drivers.power_analyser', 'drivers.ev_simulator',\n"
        "         'drivers.identification')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy or\n"
        "      any(m.startswith(h) for h in heavy)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_a_bad_power_relay_model_names_file_field_and_value(tmp_path):
    path = write(
        tmp_path,
        lambda d: d["instruments"]["power_relay"].update(options={"model": "apc-9999"}),
    )
    msg = load_error(path)
    assert msg.startswith(f"{path}: field instruments.power_relay.options.model: "), msg
    assert "'apc-powernet' or 'gude-epc8226'" in msg and "apc-9999" in msg, msg


def test_a_field_given_twice_is_refused_with_both_lines(tmp_path):
    """Harm prevented: with plain ``yaml.safe_load`` the second of two equal keys silently
    wins, so a lab config that sets ``back_office.ping_interval_s`` twice loses the first
    value (on the virtual bench: its short timings vanish) without a word. The error names
    the file, the dotted key path and both lines."""
    path = tmp_path / "lab.yaml"
    text = (REPO / "lab_configs" / "virtual.yaml").read_text(encoding="utf-8")
    text = text.replace("  ping_interval_s: 2\n", "  ping_interval_s: 2\n  ping_interval_s: 30\n")
    path.write_text(text, encoding="utf-8")
    lines = text.splitlines()
    first = lines.index("  ping_interval_s: 2") + 1
    msg = load_error(path)
    assert msg == (
        f"{path}: field back_office.ping_interval_s is given twice (line {first} and line "
        f"{first + 1}); the second would silently win"
    )


def test_a_section_given_twice_is_refused(tmp_path):
    """Harm prevented: a whole section written twice (here ``timings``, e.g. pasted from
    another bench) would replace the first one entirely, the virtual bench's short timings
    with them; the message calls it a section and gives both lines."""
    path = tmp_path / "lab.yaml"
    text = (REPO / "lab_configs" / "virtual.yaml").read_text(encoding="utf-8")
    text += "\ntimings:\n  boot_timeout_s: 60\n"
    path.write_text(text, encoding="utf-8")
    first = text.splitlines().index("timings:") + 1
    last = len(text.splitlines()) - 1
    msg = load_error(path)
    assert msg == (
        f"{path}: section timings is given twice (line {first} and line {last}); the second "
        "would silently win"
    )


def test_a_key_given_twice_deep_inside_a_list_names_its_path(tmp_path):
    """Harm prevented: duplicates are found at any depth, also in a list item
    (``virtual.instrument_faults[0].after_wh``), with the list index in the path."""
    path = write(
        tmp_path, lambda d: d["virtual"].update(instrument_faults=[{"role": "energy_meter"}])
    )
    text = path.read_text().replace(
        "- role: energy_meter\n", "- after_wh: 1\n    after_wh: 2\n    role: energy_meter\n"
    )
    assert "after_wh: 2" in text
    path.write_text(text)
    msg = load_error(path)
    assert msg.startswith(f"{path}: field virtual.instrument_faults.0.after_wh is given twice"), msg


def test_merge_keys_still_work_and_may_override(tmp_path):
    """Merge keys (``<<: *anchor``) are not duplicates: a key a mapping sets itself overrides
    the merged one as YAML intends. Here the anchored mapping has its own merge and sits
    deeper than the section merging it, so PyYAML rewrites its pairs in place before it is
    itself constructed: the check must look at the keys as written, or it refuses a valid
    file. The result is what ``yaml.safe_load`` gives."""
    text = (
        "virtual:\n"
        "  deviation_options:\n"
        "    shared: &short\n"
        "      <<: {boot_timeout_s: 1, message_timeout_s: 2}\n"
        "      boot_timeout_s: 9\n"
        "dut: {station_id: CP-1, vendor: V, model: M, firmware: '1.0'}\n"
        "tags: {valid: [T1]}\n"
        "timings:\n"
        "  <<: *short\n"
        "  message_timeout_s: 3\n"
    )
    path = tmp_path / "merge.yaml"
    path.write_text(text)
    cfg = load_lab_config(path)
    plain = yaml.safe_load(text)
    assert cfg.timings.message_timeout_s == 3
    assert cfg.timings.boot_timeout_s == plain["timings"]["boot_timeout_s"]
    assert cfg.virtual.deviation_options == plain["virtual"]["deviation_options"]


@pytest.mark.parametrize("profile", [1, 2])
def test_a_station_id_with_a_colon_is_refused_under_basic_auth(tmp_path, profile):
    """Harm prevented: under security profiles 1 and 2 the station logs in with HTTP Basic
    auth, user name = station id. RFC 7617 splits user-id and password at the first ':', so
    a station id containing ':' can never be the user name: every connection would be
    refused at run time. It is refused when the lab config loads instead, naming file,
    field and value and why."""

    def mutate(d):
        d["dut"]["station_id"] = "CP:0042"
        d["back_office"]["security"] = {
            "profile": profile,
            "basic_auth": "virtual-lab-key-0001",
            **({"certificate": "auto"} if profile == 2 else {}),
        }

    msg = load_error(write(tmp_path, mutate))
    assert msg.startswith(f"{tmp_path / 'bad.yaml'}: field dut.station_id: "), msg
    assert "RFC 7617" in msg and "first ':'" in msg, msg
    assert msg.endswith("(value 'CP:0042')"), msg


@pytest.mark.parametrize("profile", [0, 3])
def test_a_station_id_with_a_colon_is_fine_without_basic_auth(tmp_path, profile):
    """Profiles 0 and 3 send no Basic auth: a ':' in the station id (the OCPP identity
    allows it) stays accepted there."""

    def mutate(d):
        d["dut"]["station_id"] = "CP:0042"
        d["back_office"]["security"] = {"profile": profile}
        if profile == 3:
            d["back_office"]["security"]["certificate"] = "auto"

    assert load_lab_config(write(tmp_path, mutate)).dut.station_id == "CP:0042"


def test_instrument_serial_calibration_and_report_section_load(tmp_path):
    """Harm: the report's instrument table and its sign-off have nowhere to come from."""

    def mutate(d):
        d["instruments"]["energy_meter"].update(serial="EM-77", calibration_due="2027-03-31")
        d["report"] = {"number": "CR-2026-0042", "authorised_by": "Dr. B. Head"}

    cfg = load_lab_config(write(tmp_path, mutate))
    meter = cfg.instruments.energy_meter
    assert meter is not None and meter.serial == "EM-77"
    assert meter.calibration_due is not None and meter.calibration_due.isoformat() == "2027-03-31"
    assert (cfg.report.number, cfg.report.authorised_by) == ("CR-2026-0042", "Dr. B. Head")


@pytest.mark.parametrize(
    ("mutate", "field", "value"),
    [
        (
            lambda d: d["instruments"]["energy_meter"].update(calibration_due="31.03.2027"),
            "instruments.energy_meter.calibration_due",
            "'31.03.2027'",
        ),
        (lambda d: d.update(report={"numbr": "CR-1"}), "report.numbr", "'CR-1'"),
    ],
)
def test_a_bad_calibration_date_or_report_field_names_file_field_and_value(
    tmp_path, mutate, field, value
):
    """Harm: a calibration date the lab cannot read would never warn that it is overdue."""
    path = write(tmp_path, mutate)
    with pytest.raises(LabConfigError) as err:
        load_lab_config(path)
    msg = str(err.value)
    assert msg.startswith(f"{path}: field {field}") and value in msg, msg
