"""Instruments that stop answering: a virtual Modbus meter (and SCPI analyser) on loopback that
hangs mid-run is lost after the grace period, naming role and address; an instrument that is
unreachable when the lab opens does not abort the run; the keywords judge power from the
working references only, stop the energy and fail the step when one is lost."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from robot.api.exceptions import SkipExecution

from drivers.energy_meter.sdm630 import Sdm630
from drivers.power_analyser.wt300 import Wt300
from hil.lab.bench import Bench
from hil.lab.config import parse_lab_config
from hil.lab.sampler import InstrumentLost, Sampler
from hil.robot.context import LabContext
from hil.robot.keywords.instruments import InstrumentKeywords
from hil.sim.instruments.modbus_meter import VirtualEnergyMeter
from hil.sim.instruments.scpi_analyser import VirtualPowerAnalyser
from hil.sim.physics import BenchPhysics, current_to_duty
from hil.verdict import LabFault
from tests.conftest import SimLoop
from tests.suites.runner import VIRTUAL_LAB

GRACE_S = 1.5


def charge(sim_loop: SimLoop, physics: BenchPhysics) -> None:
    """The EV draws 3 x 32 A (22 kW) from now on."""

    def start() -> None:
        physics.set_ev_state("C")
        physics.set_pilot(current_to_duty(32))
        physics.set_contactor(True)

    sim_loop.call(start)


def closed_port() -> int:
    with socket.socket() as sock:  # bound, never listening, then closed: refused
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(predicate: Any, timeout: float) -> float:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return time.monotonic()
        time.sleep(0.02)
    raise AssertionError(f"not within {timeout} s")


# -- the virtual instruments hang ------------------------------------------------------------


def test_virtual_meter_hangs_and_the_sampler_reports_it_lost(
    sim_loop: SimLoop, tmp_path: Path
) -> None:
    physics = BenchPhysics()
    virtual = VirtualEnergyMeter(physics, hang_after_wh=2.0)
    address = sim_loop.run(virtual.start())
    meter = Sdm630(address)  # the driver's default timeouts, as in a lab config
    meter.open()
    sampler = Sampler(tmp_path / "samples.jsonl", interval_s=0.25, grace_s=GRACE_S)
    sampler.add_source("energy_meter", meter.read_sample, address=address)
    try:
        sampler.start()
        sampler.wait_for("energy_meter", lambda v: True, timeout=5)
        charge(sim_loop, physics)  # 2 Wh at 22 kW: hangs about 0.3 s from now
        with pytest.raises(InstrumentLost) as err:
            sampler.wait_for("energy_meter", lambda v: v["energy_wh"] > 2e9, timeout=60)
        raised = time.monotonic()
        assert virtual.hung
        last_good = sampler.latest("energy_meter")
        assert last_good is not None and last_good.values["power_w"] > 20_000
        silent = raised - last_good.mono
        assert GRACE_S <= silent < GRACE_S + 2, f"lost {silent:.2f} s after the last reading"
        message = str(err.value)
        assert message.startswith(f"energy_meter at {address}: instrument lost")
        assert f"last good reading energy_wh={last_good.values['energy_wh']:.10g}" in message
        assert last_good.wall in message
        # a hung Modbus read fails by the driver's own timeout (2 s x 2 tries), not later
        failed = wait_until(lambda: sampler.errors("energy_meter"), 10)
        assert failed - last_good.mono < 2 * 2.0 + 1.5
        assert "no valid answer within 2 s x 2 tries" in sampler.errors("energy_meter")[0].error
    finally:
        sampler.stop()
        meter.close()
        sim_loop.run(virtual.stop())


def test_virtual_analyser_hangs_and_the_driver_times_out(sim_loop: SimLoop) -> None:
    physics = BenchPhysics()
    virtual = VirtualPowerAnalyser(physics, hang_after_wh=1.0)
    address = sim_loop.run(virtual.start())
    analyser = Wt300(address)
    analyser.open()
    try:
        assert analyser.read_sample()["power_w"] == 0.0
        charge(sim_loop, physics)
        time.sleep(0.3)  # 1 Wh at 22 kW takes 0.16 s
        start = time.monotonic()
        with pytest.raises(Exception, match=rf"power_analyser at {address}: no answer within 2"):
            analyser.read_sample()
        assert time.monotonic() - start < 3.0
        assert virtual.hung
    finally:
        analyser.close()
        sim_loop.run(virtual.stop())


# -- the Bench ---------------------------------------------------------------------------


def real_bench_config(tmp_path: Path, meter: str, analyser: str) -> Any:
    """A real-bench lab config whose meter and analyser are at the given addresses (served
    in this process, or nothing at all); no other instruments."""
    data = yaml.safe_load(VIRTUAL_LAB.read_text())
    data["lab"]["bench"] = "real"
    data["timings"]["instrument_grace_s"] = GRACE_S
    data["instruments"] = {
        "energy_meter": {"driver": "sdm630", "address": meter},
        "power_analyser": {"driver": "wt300", "address": analyser},
    }
    data.pop("virtual", None)
    path = tmp_path / "lab.yaml"
    path.write_text(yaml.safe_dump(data))
    return parse_lab_config(data, str(path))


@pytest.fixture
def analyser(sim_loop: SimLoop) -> Iterator[tuple[BenchPhysics, str]]:
    physics = BenchPhysics()
    virtual = VirtualPowerAnalyser(physics)
    address = sim_loop.run(virtual.start())
    try:
        yield physics, address
    finally:
        sim_loop.run(virtual.stop())


def test_unreachable_meter_does_not_abort_the_lab(
    tmp_path: Path, analyser: tuple[BenchPhysics, str]
) -> None:
    dead = f"modbus-tcp://127.0.0.1:{closed_port()}"
    bench = Bench(real_bench_config(tmp_path, dead, analyser[1]), tmp_path / "out")
    try:
        bench.open()
        assert "energy_meter" not in bench.instruments
        assert bench.instrument("energy_meter") is None
        problem = bench.unreachable["energy_meter"]
        assert problem.startswith("energy_meter unreachable when the lab opened")
        assert f"energy_meter at {dead}" in problem
        assert bench.instrument_problem("energy_meter") == problem
        assert not bench.instrument_works("energy_meter")
        assert bench.instrument_works("power_analyser")
        assert bench.sampler is not None and bench.sampler.sources == ["power_analyser"]
        assert bench.addresses == {"energy_meter": dead, "power_analyser": analyser[1]}
    finally:
        bench.close()


def test_bench_reports_a_meter_lost_mid_run(
    sim_loop: SimLoop, tmp_path: Path, analyser: tuple[BenchPhysics, str]
) -> None:
    physics = analyser[0]
    meter = VirtualEnergyMeter(physics, hang_after_wh=2.0)
    address = sim_loop.run(meter.start())
    bench = Bench(real_bench_config(tmp_path, address, analyser[1]), tmp_path / "out")
    try:
        bench.open()
        assert bench.unreachable == {}
        assert bench.sampler is not None
        bench.sampler.wait_for("energy_meter", lambda v: True, timeout=5)
        charge(sim_loop, physics)
        lost_at = wait_until(lambda: bench.lost_instruments(), GRACE_S + 5)
        last_good = bench.sampler.latest("energy_meter")
        assert last_good is not None
        assert lost_at - last_good.mono < GRACE_S + 2
        loss = bench.instrument_loss("energy_meter")
        assert loss is not None and list(bench.lost_instruments()) == ["energy_meter"]
        assert loss.message.startswith(f"energy_meter at {address}: instrument lost")
        assert bench.instrument_problem("energy_meter") == loss.message
        assert not bench.instrument_works("energy_meter")
        assert bench.instrument_works("power_analyser")
        # the analyser kept its cadence while the meter hung
        recent = bench.sampler.samples("power_analyser", since_mono=last_good.mono)
        assert len(recent) >= GRACE_S / bench.cfg.timings.instrument_poll_s - 2
        assert all(s.values["power_w"] > 20_000 for s in recent[2:])
    finally:
        bench.close()
        sim_loop.run(meter.stop())
    lost = [line for line in (tmp_path / "out" / "samples.jsonl").read_text().splitlines()]
    assert any('"lost": true' in line and address in line for line in lost)


# -- the keywords, on a bench with fake instruments ----------------------------------------------


class FakeEv:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def stop_charge_request(self) -> None:
        self.calls.append("B")


class Source:
    """A sampled instrument that answers until ``dead`` is set."""

    def __init__(self, role: str, address: str, power_w: float) -> None:
        self.role, self.address, self.power_w = role, address, power_w
        self.dead = False

    def read_sample(self) -> dict[str, float]:
        if self.dead:
            from drivers.base import InstrumentError

            raise InstrumentError(self.role, self.address, "no valid answer within 2 s")
        return {"power_w": self.power_w, "energy_wh": 10.0}


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[tuple[InstrumentKeywords, Bench, dict[str, Any]]]:
    cfg = parse_lab_config(yaml.safe_load(VIRTUAL_LAB.read_text()), str(VIRTUAL_LAB))
    cfg.timings.instrument_grace_s = 0.3
    bench = Bench(cfg, tmp_path / "out")
    meter = Source("energy_meter", "modbus-tcp://10.0.0.9:502", 22080.0)
    analyser = Source("power_analyser", "TCPIP0::10.0.0.8::5025::SOCKET", 22080.0)
    ev = FakeEv()
    calls: list[tuple[str, dict[str, Any]]] = []
    bench.instruments = {"energy_meter": meter, "power_analyser": analyser, "ev_simulator": ev}  # type: ignore[dict-item]
    bench.call = lambda action, payload, timeout=None: (  # type: ignore[method-assign]
        calls.append((action, payload)) or {"status": "Accepted"}
    )
    bench.sampler = Sampler(tmp_path / "out" / "samples.jsonl", 0.02, grace_s=0.3)
    for source in (meter, analyser):
        bench.sampler.add_source(source.role, source.read_sample, address=source.address)
    bench.sampler.start()
    ctx = LabContext(bench=bench)
    keywords = InstrumentKeywords(ctx)
    try:
        yield keywords, bench, {"meter": meter, "ev": ev, "calls": calls, "ctx": ctx}
    finally:
        bench.sampler.stop()


def test_a_loss_during_a_wait_stops_the_energy_and_fails_the_step(lab: Any) -> None:
    keywords, bench, parts = lab
    keywords.start_test(None, None)
    parts["ctx"].state["session"] = {"transaction_id": 7}
    assert keywords.power_sources() == ["energy_meter", "power_analyser"]
    keywords.energy_should_flow(timeout=2)
    parts["meter"].dead = True
    start = time.monotonic()
    with pytest.raises(LabFault) as err:  # the lab's instrument failed: a lab error, not N
        keywords.energy_should_keep_flowing_for(30)
    assert time.monotonic() - start < 0.3 + 1.0
    message = str(err.value)
    assert message.startswith(
        "Lab error: energy_meter at modbus-tcp://10.0.0.9:502: instrument lost: "
    )
    assert "last good reading" in message and "last error at " in message
    assert (
        "EV pause charging (state B)" in message
        and "RemoteStopTransaction(7) -> Accepted" in message
    )
    assert parts["ev"].calls == ["B"]
    assert parts["calls"] == [("RemoteStopTransaction", {"transactionId": 7})]
    # afterwards: decided from the analyser alone, and a step needing the meter is N/A
    keywords.end_test(None, None)
    keywords.start_test(None, None)
    assert keywords.power_sources() == ["power_analyser"]
    assert keywords.require_power_source() == ["power_analyser"]
    keywords.energy_should_flow(timeout=2)
    with pytest.raises(SkipExecution, match="instrument lost") as skip:
        keywords.require_instrument("energy_meter")
    assert "modbus-tcp://10.0.0.9:502" in str(skip.value)
    assert not keywords.bench_has_instruments("energy_meter")
    assert parts["ev"].calls == ["B"]  # the energy is stopped once per loss


class KeywordResult:
    def __init__(self, status: str, message: str = "") -> None:
        self.status, self.message = status, message


def test_a_loss_outside_a_wait_fails_the_running_keyword(lab: Any) -> None:
    keywords, bench, parts = lab
    keywords.start_test(None, None)
    parts["meter"].dead = True
    wait_until(lambda: bench.lost_instruments(), 3)
    result = KeywordResult("PASS")
    keywords.end_keyword(None, result)  # e.g. a journal wait that just ended
    assert result.status == "FAIL"
    assert result.message.startswith(
        "Lab error: energy_meter at modbus-tcp://10.0.0.9:502: instrument lost"
    )
    assert parts["ev"].calls == ["B"] and parts["calls"] == []  # no session was running
    later = KeywordResult("PASS")
    keywords.end_keyword(None, later)
    assert later.status == "PASS"  # reported once


def test_a_loss_between_tests_only_takes_the_instrument_out_of_use(lab: Any) -> None:
    keywords, bench, parts = lab
    parts["meter"].dead = True
    wait_until(lambda: bench.lost_instruments(), 3)
    keywords.start_test(None, None)
    result = KeywordResult("PASS")
    keywords.end_keyword(None, result)
    assert result.status == "PASS" and parts["ev"].calls == []
    assert keywords.require_power_source() == ["power_analyser"]


def test_every_power_source_lost_is_na(lab: Any) -> None:
    keywords, bench, parts = lab
    for source in (parts["meter"], bench.instruments["power_analyser"]):
        source.dead = True
    wait_until(lambda: len(bench.lost_instruments()) == 2, 3)
    keywords.start_test(None, None)
    with pytest.raises(SkipExecution, match="every one was lost: energy_meter at "):
        keywords.require_power_source()


def test_unreachable_instrument_fails_the_step_that_needs_it(lab: Any) -> None:
    keywords, bench, _ = lab
    bench.unreachable["identification"] = (
        "identification unreachable when the lab opened: identification at "
        "socket://10.0.0.7:4001: cannot connect"
    )
    keywords.start_test(None, None)
    with pytest.raises(LabFault, match=r"needs an automated tag reader, but identif"):
        keywords.require_instrument("ev_simulator", "identification")
    with pytest.raises(LabFault, match="socket://10.0.0.7:4001"):
        keywords.present_tag("VALID-TAG-01")
    assert not keywords.bench_has_instruments("identification")
    with pytest.raises(SkipExecution, match="does not have"):
        keywords.require_instrument("network_switch")
