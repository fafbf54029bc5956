"""A DC station's lab config: ``dut.dc``, its defaults, and what contradicts a DC station.

Each refusal is checked as the whole line a lab engineer sees (file, field, value, why)
and as documented in docs/lab-config.md ("DC stations").
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hil.lab import config
from hil.lab.config import LabConfigError, load_lab_config, parse_lab_config

REPO = Path(__file__).resolve().parents[2]
DOC = (REPO / "docs" / "lab-config.md").read_text(encoding="utf-8")
AC_FIELDS = ("phases", "max_current_a", "cable")


def dc_config() -> dict[str, Any]:
    """lab_configs/virtual.yaml as a DC station: current_type DC, its AC fields left out."""
    data = yaml.safe_load((REPO / "lab_configs" / "virtual.yaml").read_text(encoding="utf-8"))
    data["dut"]["current_type"] = "DC"
    for field in AC_FIELDS:
        del data["dut"][field]
    del data["smart_charging"]["voltage_v"]
    return data


def write(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "bench-dc.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def refusal(path: Path) -> str:
    """The one-line error of ``path``, which must also appear in the docs (without the
    file name)."""
    with pytest.raises(LabConfigError) as err:
        load_lab_config(path)
    msg = str(err.value)
    assert msg.startswith(f"{path}: field "), msg
    assert "\n" not in msg, msg
    return msg


def test_a_dc_station_without_a_dc_section_gets_the_documented_defaults(tmp_path):
    """Rule: every DC value has a default, a typical 150 kW CCS2 station's, so
    ``current_type: DC`` alone loads, with ``cfg.dut.dc`` filled in (never None on DC), and
    the AC fields' defaults do not contradict it. Its cable defaults to tethered: a DC
    station has no socket, and a socket default would run the unlock step against it."""
    cfg = load_lab_config(write(tmp_path, dc_config()))
    assert cfg.dut.current_type == "DC"
    assert cfg.dut.dc == config.DcLimits(
        max_power_w=150_000,
        max_current_a=375,
        min_voltage_v=150,
        max_voltage_v=920,
        connector="CCS2",
        protocols=["DIN70121", "ISO15118-2"],
        evses=1,
    )
    assert cfg.dut.cable == "tethered"


def test_the_documented_dc_defaults_are_the_models_defaults():
    """Harm: a default changed in code but not in docs/lab-config.md (or back) makes a lab
    engineer certify against a rating the lab does not use. The DC table's default column
    must equal ``config.DcLimits()``."""
    section = DOC[DOC.index("#### DC stations") :]
    table = section[section.index("| field | default |") :]
    table = table[: table.index("\n\n")]
    documented: dict[str, str] = {}
    for row in table.splitlines()[2:]:
        cells = [c.strip() for c in row.strip("|").split("|")]
        names = [n.strip(" `") for n in cells[0].split(",")]
        values = [v.strip(" `") for v in cells[1].split("`, `")]
        if len(values) == 1 and len(names) > 1:
            values *= len(names)
        documented.update(zip(names, values, strict=True))
    defaults = config.DcLimits()
    assert set(documented) == set(config.DcLimits.model_fields)
    for name, value in documented.items():
        actual = getattr(defaults, name)
        if isinstance(actual, list):
            assert value == f"[{', '.join(actual)}]", name
        elif isinstance(actual, float):
            assert float(value) == actual, name
        else:
            assert value == str(actual), name


def test_a_dc_station_may_state_its_cable_tethered_and_its_dc_section(tmp_path):
    """Rule: the values a DC station does have load as given (a two-EVSE CCS1 station,
    DIN 70121 only), including an explicit ``cable: tethered``."""
    data = dc_config()
    data["dut"]["cable"] = "tethered"
    data["dut"]["dc"] = {
        "max_power_w": 50_000,
        "max_current_a": 125,
        "min_voltage_v": 200,
        "max_voltage_v": 500,
        "connector": "CCS1",
        "protocols": ["DIN70121"],
        "evses": 2,
    }
    cfg = load_lab_config(write(tmp_path, data))
    assert cfg.dut.dc is not None
    assert cfg.dut.dc.model_dump() == data["dut"]["dc"]
    assert cfg.dut.cable == "tethered"


def _set(section: str, **values: Any):
    def mutate(d: dict[str, Any]) -> None:
        d.setdefault(section, {}).update(values)

    return mutate


def _dc(**values: Any):
    def mutate(d: dict[str, Any]) -> None:
        d["dut"].setdefault("dc", {}).update(values)

    return mutate


#: Refusals the docs do not show a line for (one example of each kind is enough there).
UNDOCUMENTED = {"min-equals-max"}

REFUSALS = [
    pytest.param(
        _set("dut", phases=3),
        "field dut.phases: dut.phases applies to AC stations; a DC station "
        "(dut.current_type: DC) has no phases (value 3)",
        id="phases-on-dc",
    ),
    pytest.param(
        _set("dut", max_current_a=375),
        "field dut.max_current_a: dut.max_current_a (the current per phase) applies to AC "
        "stations; a DC station (dut.current_type: DC) gives its output current as "
        "dut.dc.max_current_a (value 375)",
        id="ac-current-on-dc",
    ),
    pytest.param(
        _set("dut", cable="socket"),
        "field dut.cable: a DC station (dut.current_type: DC) has a tethered cable: a DC "
        "charging cable is permanently attached to the station (connection case C), there "
        "is no socket to unlock; leave dut.cable out or give tethered (value 'socket')",
        id="socket-on-dc",
    ),
    pytest.param(
        _set("smart_charging", voltage_v=230),
        "field smart_charging.voltage_v: smart_charging.voltage_v is the AC voltage (phase "
        "to neutral) and applies to AC stations; a DC station (dut.current_type: DC) has an "
        "output voltage range instead, dut.dc.min_voltage_v to dut.dc.max_voltage_v "
        "(value 230)",
        id="ac-voltage-on-dc",
    ),
    pytest.param(
        _dc(min_voltage_v=950),
        "field dut.dc.min_voltage_v: the output voltage range is empty: min_voltage_v must "
        "be below max_voltage_v, which is 920 V (the default) (value 950)",
        id="min-above-default-max",
    ),
    pytest.param(
        _dc(min_voltage_v=500, max_voltage_v=500),
        "field dut.dc.min_voltage_v: the output voltage range is empty: min_voltage_v must "
        "be below max_voltage_v, which is 500 V (value 500)",
        id="min-equals-max",
    ),
    pytest.param(
        _dc(max_power_w=400_000),
        "field dut.dc.max_power_w: a station cannot deliver more than max_voltage_v x "
        "max_current_a = 920 V (the default) x 375 A (the default) = 345000 W "
        "(value 400000)",
        id="power-above-v-times-i",
    ),
    pytest.param(
        _dc(evses=2),
        "field dut.dc.evses: each EVSE has at least one connector, but dut.connectors is 1 "
        "(the default) (value 2)",
        id="evses-above-connectors",
    ),
    pytest.param(
        _dc(connector="CHAdeMO"),
        "field dut.dc.connector: unsupported connector 'CHAdeMO'; the lab supports CCS1, "
        "CCS2 (value 'CHAdeMO')",
        id="chademo",
    ),
    pytest.param(
        _dc(protocols=["DIN70121", "ISO15118-20"]),
        "field dut.dc.protocols: unsupported high-level protocol 'ISO15118-20'; the lab "
        "supports DIN70121, ISO15118-2 (value ['DIN70121', 'ISO15118-20'])",
        id="iso15118-20",
    ),
]


@pytest.mark.parametrize(("mutate", "expected"), REFUSALS)
def test_a_value_contradicting_a_dc_station_is_refused_naming_file_field_and_value(
    tmp_path, request, mutate, expected
):
    """Harm prevented: an AC field on a DC station (phases, current per phase, AC voltage,
    a socket) describes a station that does not exist, and an impossible DC rating (empty
    voltage range, more power than voltage x current, more EVSEs than connectors, a
    connector or protocol the lab cannot test) would be certified as given. Each is
    refused when the file loads, in the words docs/lab-config.md shows."""
    data = dc_config()
    del data["dut"]["connectors"]  # the default (1), to see it named as such
    mutate(data)
    path = write(tmp_path, data)
    msg = refusal(path)
    assert msg == f"{path}: {expected}"
    if request.node.callspec.id not in UNDOCUMENTED:
        assert f"bench-dc.yaml: {expected}" in DOC


@pytest.mark.parametrize(
    ("current_type", "stated"),
    [(None, "AC by default"), ("AC", "dut.current_type: AC")],
)
def test_a_dc_section_on_an_ac_station_is_refused(tmp_path, current_type, stated):
    """Harm prevented: ``dut.dc`` with ``current_type`` forgotten (it defaults to AC) would
    certify a DC station as AC, its DC rating silently unused. Shown in the docs for the
    forgotten case."""
    data = yaml.safe_load((REPO / "lab_configs" / "virtual.yaml").read_text(encoding="utf-8"))
    if current_type is not None:
        data["dut"]["current_type"] = current_type
    data["dut"]["dc"] = {"max_power_w": 50000}
    path = write(tmp_path, data)
    expected = (
        f"field dut.dc: dut.dc applies to DC stations; this station is AC ({stated}); give "
        "dut.current_type: DC for a DC station (value {'max_power_w': 50000})"
    )
    assert refusal(path) == f"{path}: {expected}"
    if current_type is None:
        assert f"bench-2.yaml: {expected}" in DOC


@pytest.mark.parametrize(
    ("values", "field", "value"),
    [
        ({"max_current_a": 1200}, "max_current_a", "1200"),
        ({"max_voltage_v": 1500}, "max_voltage_v", "1500"),
        ({"evses": 3}, "evses", "3"),
        ({"protocols": []}, "protocols", "[]"),
        ({"protocols": ["DIN70121", "DIN70121"]}, "protocols", "['DIN70121', 'DIN70121']"),
        ({"max_power_w": 0}, "max_power_w", "0"),
    ],
)
def test_a_dc_value_out_of_range_is_refused(tmp_path, values, field, value):
    """Harm prevented: more than 1000 A or 1000 V (beyond what a CCS connector is rated
    for), a third EVSE, no protocol or one twice, or no power would be taken as the
    station's rating."""
    data = dc_config()
    data["dut"]["dc"] = values
    msg = refusal(write(tmp_path, data))
    assert f": field dut.dc.{field}: " in msg and msg.endswith(f"(value {value})"), msg


def test_shipped_ac_configs_load_unchanged_and_have_no_dc_rating():
    """Harm prevented: the DC fields changing an AC bench. Every config in lab_configs/
    but the virtual DC benches (virtual-dc*.yaml) is AC and loads with exactly the AC
    values it gives (or the old defaults: 3 phases, 32 A, socket, 230 V), and
    ``cfg.dut.dc`` is None."""
    paths = sorted(
        p for p in (REPO / "lab_configs").glob("**/*.yaml") if not p.name.startswith("virtual-dc")
    )
    assert paths
    for path in paths:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        cfg = load_lab_config(path)
        dut = raw["dut"]
        assert cfg.dut.current_type == dut.get("current_type", "AC") == "AC", path
        assert cfg.dut.dc is None, path
        assert cfg.dut.phases == dut.get("phases", 3), path
        assert cfg.dut.max_current_a == dut.get("max_current_a", 32.0), path
        assert cfg.dut.cable == dut.get("cable", "socket"), path
        voltage = raw.get("smart_charging", {}).get("voltage_v", 230.0)
        assert cfg.smart_charging.voltage_v == voltage, path


MINIMAL = {
    "dut": {"station_id": "CP-DC", "vendor": "V", "model": "M", "firmware": "1", "connectors": 2},
    "tags": {"valid": ["T1"]},
}


@st.composite
def dc_sections(draw: st.DrawFn) -> dict[str, Any]:
    """Any DC section the lab must accept: a non-empty voltage range up to 1000 V, a current
    up to 1000 A, a power up to voltage x current, a supported connector and protocols."""
    low = draw(st.floats(min_value=1, max_value=999, allow_nan=False))
    high = draw(st.floats(min_value=low, max_value=1000, exclude_min=True, allow_nan=False))
    amps = draw(st.floats(min_value=0.1, max_value=1000, allow_nan=False))
    share = draw(st.floats(min_value=0.001, max_value=1))
    protocols = draw(
        st.lists(st.sampled_from(["DIN70121", "ISO15118-2"]), min_size=1, max_size=2, unique=True)
    )
    return {
        "max_power_w": high * amps * share,
        "max_current_a": amps,
        "min_voltage_v": low,
        "max_voltage_v": high,
        "connector": draw(st.sampled_from(["CCS1", "CCS2"])),
        "protocols": protocols,
        "evses": draw(st.integers(1, 2)),
    }


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dc_sections())
def test_any_valid_dc_section_round_trips(section):
    """Rule: any physically possible DC rating of a supported connector loads as given, and
    what ``cfg.dut.dc`` holds loads again to the same values (nothing a valid section says
    is altered or refused)."""
    raw = {**MINIMAL, "dut": {**MINIMAL["dut"], "current_type": "DC", "dc": section}}
    loaded = parse_lab_config(raw).dut.dc
    assert loaded is not None and loaded.model_dump() == section
    again = {**raw, "dut": {**raw["dut"], "dc": loaded.model_dump()}}
    assert parse_lab_config(again).dut.dc == loaded
