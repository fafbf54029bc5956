"""The WT300 driver against the virtual WT300 over SCPI on a TCP socket (pyvisa-py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from drivers.base import InstrumentError
from drivers.power_analyser.commands import load_command_set
from drivers.power_analyser.wt300 import Wt300
from drivers.registry import create_driver
from hil.sim.instruments.scpi_analyser import VirtualPowerAnalyser
from hil.sim.physics import BenchPhysics
from tests.clock import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(50.0)


@pytest.fixture
def physics(clock: FakeClock) -> BenchPhysics:
    return BenchPhysics(clock=clock)


@pytest.fixture
def analyser(
    sim_loop: Any, physics: BenchPhysics, clock: FakeClock
) -> Iterator[VirtualPowerAnalyser]:
    virtual = VirtualPowerAnalyser(physics, clock=clock)
    sim_loop.run(virtual.start())
    try:
        yield virtual
    finally:
        sim_loop.run(virtual.stop())


@pytest.fixture
def wt(analyser: VirtualPowerAnalyser) -> Iterator[Wt300]:
    driver = Wt300(analyser.address, timeout_s=1.0)
    driver.open()
    try:
        yield driver
    finally:
        driver.close()


def charge(sim_loop: Any, physics: BenchPhysics, duty: float = 50.0, phases: int = 3) -> None:
    def go() -> None:
        physics.set_ev_limits(phases=phases)
        physics.set_ev_state("C")
        physics.set_contactor(True)
        physics.set_pilot(duty)

    sim_loop.call(go)


def test_resource_string_carries_the_bound_port(analyser: VirtualPowerAnalyser) -> None:
    assert analyser.port > 0
    assert analyser.address == f"TCPIP0::127.0.0.1::{analyser.port}::SOCKET"


def test_open_sets_the_instrument_up_and_identifies_it(
    wt: Wt300, analyser: VirtualPowerAnalyser
) -> None:
    assert wt.identify() == "YOKOGAWA,WT333,VIRTUAL0001,F1.03"
    assert analyser.header is False
    assert analyser.item_count == 4
    assert [analyser.items[i] for i in range(1, 5)] == ["U,1", "I,1", "P,SIGMA", "WH,SIGMA"]
    assert list(analyser.errors) == []


def test_idle_then_charging_readings(sim_loop: Any, physics: BenchPhysics, wt: Wt300) -> None:
    assert wt.read_all() == {"voltage_v": 0.0, "current_a": 0.0, "power_w": 0.0, "energy_wh": 0.0}
    charge(sim_loop, physics, duty=25.0)  # 25 % -> 15 A on each of three phases
    assert wt.read_voltage_v() == pytest.approx(230.0)
    assert wt.read_current_a() == pytest.approx(15.0)
    assert wt.read_power_w() == pytest.approx(3 * 230.0 * 15.0)


def test_integration_start_stop_resume_reset(
    sim_loop: Any, physics: BenchPhysics, clock: FakeClock, wt: Wt300
) -> None:
    charge(sim_loop, physics)  # 20.7 kW
    sim_loop.call(clock.advance, 600.0)  # energy before the start does not count
    wt.integration_reset()
    wt.integration_start()
    sim_loop.call(clock.advance, 1800.0)
    assert wt.read_energy_wh() == pytest.approx(10_350.0, rel=1e-5)
    wt.integration_stop()
    sim_loop.call(clock.advance, 900.0)  # stopped: holds its value
    assert wt.read_energy_wh() == pytest.approx(10_350.0, rel=1e-5)
    wt.integration_start()  # resumes from the held value
    sim_loop.call(clock.advance, 180.0)
    assert wt.read_sample() == pytest.approx(
        {"power_w": 20_700.0, "energy_wh": 11_385.0, "current_a": 30.0}, rel=1e-5
    )
    with pytest.raises(InstrumentError, match=r"refused ':INTEGrate:RESet': error 221"):
        wt.integration_reset()  # not while integrating
    wt.integration_stop()
    wt.integration_reset()
    assert wt.read_energy_wh() == 0.0


def test_element_options_pick_what_is_read(
    sim_loop: Any, physics: BenchPhysics, analyser: VirtualPowerAnalyser
) -> None:
    charge(sim_loop, physics, duty=50.0, phases=1)  # single-phase EV on L1, 30 A
    l1 = Wt300(analyser.address, timeout_s=1.0, element=2, phase_element=1)
    l1.open()
    try:
        assert l1.read_current_a() == pytest.approx(30.0)
        assert l1.read_power_w() == 0.0  # element 2 (L2) carries nothing
    finally:
        l1.close()


def test_integral_is_the_physics_energy_delta(
    sim_loop: Any, physics: BenchPhysics, clock: FakeClock, wt: Wt300
) -> None:
    charge(sim_loop, physics, duty=16.0, phases=1)  # 9.6 A single phase
    wt.integration_start()
    start = sim_loop.call(physics.energy_wh)
    sim_loop.call(clock.advance, 3600.0)
    charge(sim_loop, physics, duty=50.0, phases=1)  # limit raised mid-session
    sim_loop.call(clock.advance, 3600.0)
    delta = sim_loop.call(physics.energy_wh) - start
    assert delta == pytest.approx(230.0 * 9.6 + 230.0 * 30.0)
    assert wt.read_energy_wh() == pytest.approx(delta, rel=1e-5)


def test_registry_and_command_set() -> None:
    driver = create_driver("power_analyser", "wt300", "TCPIP0::10.0.0.2::10001::SOCKET", {})
    assert isinstance(driver, Wt300)
    wt300 = load_command_set("wt300")
    assert wt300.error_query == ":STATus:ERRor?"
    assert (wt300.start, wt300.stop, wt300.reset) == (
        ":INTEGrate:STARt",
        ":INTEGrate:STOP",
        ":INTEGrate:RESet",
    )
    # WH is the watt-hour function on the wire (the display calls it WP)
    assert wt300.setup_commands({"element": "SIGMa"})[-1] == ":NUMeric:NORMal:ITEM4 WH,SIGMa"


# -- the virtual instrument's SCPI grammar ---------------------------------------------


@pytest.fixture
def bare(physics: BenchPhysics) -> VirtualPowerAnalyser:
    return VirtualPowerAnalyser(physics)


def test_long_short_and_optional_mnemonics(bare: VirtualPowerAnalyser) -> None:
    bare.handle_line(":COMM:HEAD OFF")
    for spelling in (
        ":NUMERIC:NORMAL:ITEM3 WH,SIGMA",
        ":num:item3 wh,sigm",
        ":NUM:NORM:ITEM3 WH,3",
    ):
        assert bare.handle_line(spelling) == []
    assert bare.handle_line(":NUMeric:ITEM3?") == ["WH,3"]
    assert list(bare.errors) == []


def test_semicolons_join_commands_with_relative_headers(bare: VirtualPowerAnalyser) -> None:
    answers = bare.handle_line(":COMM:HEAD OFF;:NUM:NORM:ITEM1 P,2;ITEM2 I,3;ITEM1?;ITEM2?;*IDN?")
    assert answers == ["P,2", "I,3", "YOKOGAWA,WT333,VIRTUAL0001,F1.03"]


def test_headers_on_answers_carry_the_header(bare: VirtualPowerAnalyser) -> None:
    assert bare.handle_line(":INTEG:STAT?") == [":INTEG:STAT RESET"]
    bare.handle_line(":COMM:VERB ON")
    assert bare.handle_line(":INTEG:STAT?") == [":INTEGRATE:STATE RESET"]


def test_unknown_commands_are_silent_and_queue_an_error(bare: VirtualPowerAnalyser) -> None:
    # WT300 has no :SYSTem:ERRor?; the rest of the message is discarded after an error
    assert bare.handle_line("SYST:ERR?;*IDN?") == []
    assert bare.handle_line(":NUM:NORM:ITEM1 XX,1") == []
    assert bare.handle_line(":NUM:NORM:ITEM0 U,1") == []
    assert bare.handle_line(":STAT:ERR?") == ['113,"Undefined header"']
    assert bare.handle_line(":STAT:ERR?") == ['220,"Parameter error"']
    assert bare.handle_line(":STAT:ERR?") == ['220,"Parameter error"']
    assert bare.handle_line(":STAT:ERR?") == ['0,"No error"']


def test_value_query_for_all_and_one_item(bare: VirtualPowerAnalyser) -> None:
    bare.handle_line(":NUM:NORM:NUM 3;ITEM3 NONE")
    (answer,) = bare.handle_line(":NUM:NORM:VAL?")
    assert answer.split(",") == ["0.00000E+00", "0.00000E+00", "NAN"]
    assert bare.handle_line(":NUM:VAL? 1") == ["0.00000E+00"]
