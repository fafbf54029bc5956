"""Register maps and codec, checked against documented addresses and encodings."""

from __future__ import annotations

import math
import struct

import pytest

from drivers.energy_meter.modbus import _blocks, parse_address
from drivers.energy_meter.registers import (
    REQUIRED,
    RegisterMapError,
    decode_words,
    encode_raw,
    load_map,
    load_map_file,
    not_available,
    parse_map,
)


def _words(hex_bytes: str) -> list[int]:
    data = bytes.fromhex(hex_bytes)
    return [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2)]


# -- documented addresses --------------------------------------------------------------


def test_sdm630_addresses_follow_the_30001_register_numbers() -> None:
    m = load_map("sdm630")
    documented = {  # Eastron register number -> quantity
        30001: "voltage_l1",
        30003: "voltage_l2",
        30005: "voltage_l3",
        30007: "current_l1",
        30009: "current_l2",
        30011: "current_l3",
        30053: "power_total",
        30073: "energy_import",
    }
    for number, quantity in documented.items():
        reg = m[quantity]
        assert reg.address == number - 30001, quantity
        assert (reg.function, reg.type, reg.word_order) == ("input", "float32", "big")
    assert m["energy_import"].unit == "kWh"
    assert m.identity["serial_number"].address == 0xFC00  # 464513: holding, uint32
    assert m.identity["serial_number"].function == "holding"


def test_abb_b23_addresses_types_and_resolutions() -> None:
    m = load_map("abb_b23")
    expected = {
        "energy_import": (0x5000, "uint64", 0.01, "kWh"),
        "voltage_l1": (0x5B00, "uint32", 0.1, "V"),
        "voltage_l3": (0x5B04, "uint32", 0.1, "V"),
        "current_l1": (0x5B0C, "uint32", 0.01, "A"),
        "current_l3": (0x5B10, "uint32", 0.01, "A"),
        "power_total": (0x5B14, "int32", 0.01, "W"),
    }
    for quantity, (address, type_name, scale, unit) in expected.items():
        reg = m[quantity]
        assert (reg.address, reg.type, reg.scale, reg.unit) == (address, type_name, scale, unit)
        assert (reg.function, reg.word_order) == ("holding", "big")


def test_em340_addresses_scales_and_word_swap() -> None:
    m = load_map("em340")
    expected = {
        "voltage_l1": (0x0000, 0.1),
        "current_l1": (0x000C, 0.001),
        "power_l1": (0x0012, 0.1),
        "power_total": (0x0028, 0.1),
        "energy_import": (0x0034, 0.1),
    }
    for quantity, (address, scale) in expected.items():
        reg = m[quantity]
        assert (reg.address, reg.scale, reg.type, reg.word_order) == (
            address,
            scale,
            "int32",
            "little",
        )
    assert m.identity["identification_code"].address == 0x000B


@pytest.mark.parametrize("name", ["sdm630", "abb_b23", "em340"])
def test_every_bundled_map_has_the_role_quantities_without_overlaps(name: str) -> None:
    m = load_map(name)
    assert set(REQUIRED) <= set(m.registers)
    for function in ("input", "holding"):
        used: set[int] = set()
        for reg in m.all_registers():
            if reg.function == function:
                span = set(range(reg.address, reg.address + reg.count))
                assert not used & span, f"{name}: {reg.name} overlaps"
                used |= span


# -- decoding known byte sequences -----------------------------------------------------


def test_float32_big_endian_as_eastron_sends_it() -> None:
    # IEEE-754: 230.0 = 0x43660000, 1.5 = 0x3FC00000, -1.0 = 0xBF800000
    assert decode_words(_words("43660000"), "float32", "big") == 230.0
    reg = load_map("sdm630")["energy_import"]
    assert reg.to_base(reg.decode_raw(_words("3FC00000"))) == 1500.0  # 1.5 kWh in Wh
    assert decode_words(_words("BF800000"), "float32", "big") == -1.0


def test_carlo_gavazzi_sends_the_least_significant_word_first() -> None:
    # EM300 protocol: the 32-bit value 0x12345678 travels as words 0x5678, 0x1234
    assert decode_words([0x5678, 0x1234], "int32", "little") == 0x12345678
    volts = load_map("em340")["voltage_l1"]
    assert volts.to_base(volts.decode_raw([0x08FD, 0x0000])) == pytest.approx(230.1)  # 2301
    energy = load_map("em340")["energy_import"]
    # 123456 = 0x0001E240 -> 12345.6 kWh
    assert energy.to_base(energy.decode_raw([0xE240, 0x0001])) == pytest.approx(12_345_600.0)
    # a signed export power: -1234.5 W = -12345 = 0xFFFFCFC7
    power = load_map("em340")["power_total"]
    assert power.to_base(power.decode_raw([0xCFC7, 0xFFFF])) == pytest.approx(-1234.5)


def test_abb_scaled_integers() -> None:
    m = load_map("abb_b23")
    energy = m["energy_import"]  # 123456789 * 0.01 kWh = 1234567.89 kWh
    raw = energy.decode_raw(_words("00000000075BCD15"))
    assert raw == 123_456_789
    assert energy.to_base(raw) == pytest.approx(1_234_567_890.0)
    power = m["power_total"]  # -2500.00 W = -250000 = 0xFFFC2F70
    assert power.to_base(power.decode_raw(_words("FFFC2F70"))) == pytest.approx(-2500.0)
    current = m["current_l1"]  # 16.00 A = 1600 = 0x00000640
    assert current.to_base(current.decode_raw(_words("00000640"))) == pytest.approx(16.0)


def test_not_available_markers() -> None:
    assert not_available(0xFFFFFFFF, "uint32")  # ABB "value not available"
    assert not_available(0x7FFFFFFF, "int32")
    assert not_available(0xFFFFFFFFFFFFFFFF, "uint64")
    assert not_available(struct.unpack(">f", bytes.fromhex("7FC00000"))[0], "float32")
    assert not_available(math.inf, "float32")
    assert not not_available(0xFFFFFFFE, "uint32")
    assert not not_available(230.0, "float32")


@pytest.mark.parametrize(
    ("type_name", "raw"),
    [
        ("int16", -2),
        ("uint16", 65535),
        ("int32", -123456),
        ("uint32", 4_000_000_000),
        ("int64", -(2**40)),
        ("uint64", 2**63 + 5),
        ("float32", 0.5),
        ("float64", 1e-9),
    ],
)
@pytest.mark.parametrize("order", ["big", "little"])
def test_encode_is_the_inverse_of_decode(type_name: str, raw: float, order: str) -> None:
    words = encode_raw(raw, type_name, order)
    assert all(0 <= w <= 0xFFFF for w in words)
    assert decode_words(words, type_name, order) == raw


def test_word_order_really_swaps_words() -> None:
    assert encode_raw(0x12345678, "uint32", "big") == [0x1234, 0x5678]
    assert encode_raw(0x12345678, "uint32", "little") == [0x5678, 0x1234]
    assert encode_raw(0x1122334455667788, "uint64", "little") == [0x7788, 0x5566, 0x3344, 0x1122]


def test_encoding_a_value_that_does_not_fit_raises() -> None:
    with pytest.raises(ValueError, match="does not fit uint32"):
        encode_raw(-1, "uint32", "big")
    with pytest.raises(ValueError, match="needs 2 registers"):
        decode_words([1], "int32", "big")


def test_encode_base_rounds_to_the_register_resolution() -> None:
    volts = load_map("abb_b23")["voltage_l1"]
    assert volts.encode_base(230.04) == [0, 2300]
    energy = load_map("sdm630")["energy_import"]
    assert energy.to_base(energy.decode_raw(energy.encode_base(2500.0))) == pytest.approx(2500.0)


# -- map files -------------------------------------------------------------------------

_GOOD = {
    "model": "Test meter",
    "defaults": {"function": "holding", "type": "uint32"},
    "registers": {q: {"address": 2 * i} for i, q in enumerate(REQUIRED)},
}


def test_parse_map_applies_defaults() -> None:
    m = parse_map("test", _GOOD, "test.yaml")
    assert m.model == "Test meter"
    assert m["power_total"].function == "holding"
    assert m["power_total"].type == "uint32"
    assert m["power_total"].word_order == "big"


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"registers": {"voltage_l1": {"address": 0}}}, "registers lacks"),
        ({"defaults": {"type": "int24"}}, r"test.yaml: registers\.voltage_l1\.type: 'int24'"),
        ({"defaults": {"function": "coil"}}, r"\.function: 'coil' is not one of"),
        ({"defaults": {"word_order": "middle"}}, r"\.word_order"),
        ({"defaults": {"scale": 0}}, r"\.scale: must be a non-zero number"),
        ({"defaults": {"offset": 3}}, r"unknown field\(s\) offset"),
    ],
)
def test_parse_map_errors_name_file_and_field(patch: dict, message: str) -> None:
    with pytest.raises(RegisterMapError, match=message):
        parse_map("test", {**_GOOD, **patch}, "test.yaml")


def test_parse_map_rejects_bad_addresses() -> None:
    bad = {**_GOOD, "registers": {**_GOOD["registers"], "power_total": {"address": 0x1FFFF}}}
    with pytest.raises(RegisterMapError, match=r"registers\.power_total\.address"):
        parse_map("test", bad, "test.yaml")


def test_load_map_file_and_unknown_bundled_map(tmp_path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text("registers: [1, 2]\n")
    with pytest.raises(RegisterMapError, match=r"mine.yaml: registers must be a mapping"):
        load_map_file(path)
    with pytest.raises(RegisterMapError, match="bundled maps: abb_b23, em340, sdm630"):
        load_map("nope")


# -- transaction grouping and addresses ------------------------------------------------


def test_adjacent_registers_are_read_together_gaps_are_not() -> None:
    m = load_map("sdm630")
    volts = _blocks([m["voltage_l3"], m["voltage_l1"], m["voltage_l2"]])
    assert [[r.name for r in b] for b in volts] == [["voltage_l1", "voltage_l2", "voltage_l3"]]
    split = _blocks([m["voltage_l1"], m["energy_import"]])
    assert len(split) == 2
    mixed = _blocks([m["energy_import"], m.identity["serial_number"]])
    assert {b[0].function for b in mixed} == {"input", "holding"}


def test_address_parsing() -> None:
    tcp = parse_address("modbus-tcp://192.168.1.50", {})
    assert (tcp.kind, tcp.host, tcp.port) == ("tcp", "192.168.1.50", 502)
    rtu = parse_address("modbus-rtu:///dev/ttyUSB0?baudrate=19200&parity=e", {"stopbits": 2})
    assert (rtu.serial_port, rtu.baudrate, rtu.parity, rtu.stopbits) == (
        "/dev/ttyUSB0",
        19200,
        "E",
        2,
    )
    gateway = parse_address("modbus-rtu-over-tcp://10.0.0.9:4001", {})
    assert gateway.serial_port == "socket://10.0.0.9:4001"
    for bad, message in [
        ("tcp://1.2.3.4", "unsupported scheme"),
        ("modbus-rtu:///dev/ttyUSB0?speed=9600", "unknown serial setting"),
        ("modbus-rtu:///dev/ttyUSB0?parity=X", "parity must be"),
        ("modbus-tcp://1.2.3.4?unit_id=3", "take no query"),
    ]:
        with pytest.raises(ValueError, match=message):
            parse_address(bad, {})
