"""Every driver's options declared in ``drivers/registry.py`` match what its constructor takes.

The lab config validates ``instruments.<role>.options`` against the registry's declaration
without importing the drivers, so a declaration that drifted from the driver would let a
bad option through (or refuse a good one). These tests import every driver and compare.
"""

from __future__ import annotations

import inspect
from typing import Annotated, Any, Literal, get_args, get_origin, get_type_hints

import pytest

from drivers.base import Instrument, InstrumentError
from drivers.energy_meter import modbus
from drivers.energy_meter.modbus import ModbusEnergyMeter
from drivers.energy_meter.registers import MAPS_DIR
from drivers.power_analyser.commands import load_command_set
from drivers.power_analyser.scpi import ScpiPowerAnalyser
from drivers.registry import DRIVERS, DriverSpec, driver_class, options_model
from hil.lab.config import Instruments

ALL = [(role, name) for role, models in DRIVERS.items() for name in sorted(models)]

#: an address each role's drivers can be constructed with (constructing opens nothing)
ADDRESSES = {
    "ev_simulator": "/dev/ttyHIL-nope",
    "energy_meter": "modbus-rtu:///dev/ttyHIL-nope",  # RTU: the serial options apply
    "power_analyser": "TCPIP0::127.0.0.1::5025::SOCKET",
    "network_switch": "snmp://127.0.0.1",
    "identification": "socket://127.0.0.1:9",
    "power_relay": "snmp://127.0.0.1",
    "dc_ev_emulator": "TCPIP0::127.0.0.1::5025::SOCKET",
    "dc_meter": "https://127.0.0.1",  # tls_certificate only goes with https
}
#: drivers of one role that take another kind of address
DRIVER_ADDRESSES = {("power_relay", "modbus-relay"): "modbus-tcp://127.0.0.1"}


def address_for(role: str, name: str) -> str:
    return DRIVER_ADDRESSES.get((role, name), ADDRESSES[role])


#: a valid value per option name where a plain one of its type would not do
SAMPLES: dict[str, Any] = {
    "parity": "E",
    "stopbits": 2,
    "bytesize": 7,
    "baudrate": 19200,
    "unit_id": 7,
    "port": 3,
    "register_map": str(MAPS_DIR / "sdm630.yaml"),
    "element": "1",
    "phase_element": 2,
}


def base_type(tp: Any) -> Any:
    """The declared type without its pydantic constraints (``Annotated[int, ...]`` -> int)."""
    return get_args(tp)[0] if get_origin(tp) is Annotated else tp


def sample(name: str, tp: Any) -> Any:
    if name in SAMPLES:
        return SAMPLES[name]
    if get_origin(base_type(tp)) is Literal:  # e.g. a relay map name: its first choice
        return get_args(base_type(tp))[0]
    return {int: 2, float: 1.5, str: "text", bool: True}[base_type(tp)]


def explicit_options(cls: type[Instrument]) -> dict[str, inspect.Parameter]:
    """The keyword-only parameters of ``cls.__init__`` (its ``**unknown`` catch-all aside)."""
    params = inspect.signature(cls.__init__).parameters.values()
    return {p.name: p for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY}


def data_declared_options(cls: type[Instrument]) -> set[str]:
    """What a driver taking ``**options`` accepts, from the data its constructor checks."""
    if issubclass(cls, ModbusEnergyMeter):
        return set(modbus._OPTIONS)
    if issubclass(cls, ScpiPowerAnalyser):
        return {"timeout_s", *load_command_set(cls.COMMAND_SET).options}
    raise AssertionError(
        f"{cls.__qualname__} takes **options but the test does not know where it declares "
        "them: give its __init__ keyword-only parameters, or teach this test"
    )


@pytest.mark.parametrize(("role", "name"), ALL)
def test_declared_options_match_the_constructor(role: str, name: str) -> None:
    spec: DriverSpec = DRIVERS[role][name]
    cls = driver_class(role, name)
    assert cls.role == role
    explicit = explicit_options(cls)
    if not explicit:
        assert set(spec.options) == data_declared_options(cls)
        return
    assert set(spec.options) == set(explicit), f"{name}: registry vs {cls.__qualname__}.__init__"
    hints = get_type_hints(cls.__init__)
    for option, declared in spec.options.items():
        hint = hints[option]
        expected = base_type(declared)
        optional = explicit[option].default is None
        assert hint == (expected | None if optional else expected), (
            f"{name} option {option}: registry declares {declared}, __init__ says {hint}"
        )


@pytest.mark.parametrize(("role", "name"), ALL)
def test_the_driver_accepts_every_declared_option(role: str, name: str) -> None:
    spec = DRIVERS[role][name]
    given = {option: sample(option, tp) for option, tp in spec.options.items()}
    typed = options_model(role, name).model_validate(given).model_dump(exclude_unset=True)
    assert typed == given  # the samples are valid by the declaration, too
    address = address_for(role, name) if name != "operator" else "x"
    driver = driver_class(role, name)(address, **typed)
    for option, value in typed.items():
        assert driver.options[option] == value


@pytest.mark.parametrize(("role", "name"), ALL)
def test_the_driver_refuses_an_undeclared_option(role: str, name: str) -> None:
    cls = driver_class(role, name)
    with pytest.raises(InstrumentError, match="no_such_option"):
        cls(address_for(role, name), no_such_option=1)
    model = options_model(role, name)
    with pytest.raises(ValueError, match="no_such_option"):
        model.model_validate({"no_such_option": 1})


def test_every_lab_config_role_has_a_registry_entry() -> None:
    assert set(DRIVERS) == set(Instruments.model_fields)
