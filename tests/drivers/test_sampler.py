"""The background sampler: cadence, JSON lines, failures, event-driven waits."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from drivers.base import InstrumentError
from drivers.energy_meter.sdm630 import Sdm630
from hil.lab.sampler import Sampler, SamplerTimeout
from hil.sim.instruments.modbus_meter import VirtualEnergyMeter
from hil.sim.physics import BenchPhysics


class Counter:
    """A source whose reading goes up by one per poll."""

    def __init__(self) -> None:
        self.n = 0
        self.lock = threading.Lock()

    def __call__(self) -> dict[str, float]:
        with self.lock:
            self.n += 1
            return {"n": self.n}


class Flaky:
    """A source that fails while ``broken`` is set, like an unplugged instrument."""

    def __init__(self) -> None:
        self.broken = threading.Event()

    def __call__(self) -> dict[str, float]:
        if self.broken.is_set():
            raise InstrumentError("energy_meter", "modbus-tcp://10.0.0.9:502", "connection lost")
        return {"power_w": 1500.0}


@pytest.fixture
def out(tmp_path: Path) -> Path:
    return tmp_path / "run" / "samples.jsonl"


@pytest.fixture
def sampler(out: Path) -> Iterator[Sampler]:
    s = Sampler(out, interval_s=0.02)
    try:
        yield s
    finally:
        s.stop()


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_polls_every_source_and_writes_flushed_json_lines(sampler: Sampler, out: Path) -> None:
    sampler.add_source("counter", Counter())
    sampler.add_source("meter", lambda: {"energy_wh": 10.0, "power_w": 2.5})
    sampler.start()
    hit = sampler.wait_for("counter", lambda v: v["n"] >= 5, timeout=5)
    assert hit.values == {"n": 5.0}
    # the file already holds what was sampled, before stop() closes it
    records = lines(out)
    assert {r["source"] for r in records} == {"counter", "meter"}
    first = next(r for r in records if r["source"] == "meter")
    assert first["values"] == {"energy_wh": 10.0, "power_w": 2.5}
    assert first["wall"].endswith("+00:00")
    assert isinstance(first["mono"], float)
    counts = [r["values"]["n"] for r in records if r["source"] == "counter"]
    assert counts == sorted(counts)
    assert counts[:5] == [1.0, 2.0, 3.0, 4.0, 5.0]


def test_cadence_follows_the_interval(sampler: Sampler) -> None:
    sampler.add_source("counter", Counter())
    sampler.start()
    sampler.wait_for("counter", lambda v: v["n"] >= 6, timeout=5)
    monos = [s.mono for s in sampler.samples("counter")[:6]]
    gaps = [b - a for a, b in zip(monos, monos[1:], strict=False)]
    assert min(gaps) >= 0.015
    assert sum(gaps) / len(gaps) < 0.1


def test_failing_source_is_recorded_and_others_keep_going(sampler: Sampler, out: Path) -> None:
    flaky = Flaky()
    sampler.add_source("meter", flaky)
    sampler.add_source("counter", Counter())
    sampler.start()
    sampler.wait_for("meter", lambda v: True, timeout=5)
    flaky.broken.set()
    before = sampler.wait_for("counter", lambda v: True, timeout=5).values["n"]
    sampler.wait_for("counter", lambda v: v["n"] >= before + 3, timeout=5)
    errors = sampler.errors("meter")
    assert errors, "the failure was not recorded"
    assert errors[0].error == "energy_meter at modbus-tcp://10.0.0.9:502: connection lost"
    kept = sampler.samples("meter")
    assert kept and all(s.values == {"power_w": 1500.0} for s in kept)
    assert all(s.mono < errors[0].mono for s in kept)
    failed = [r for r in lines(out) if r["source"] == "meter" and "error" in r]
    assert failed and "connection lost" in failed[0]["error"]
    flaky.broken.clear()  # polled again: it recovers
    recovered = sampler.wait_for("meter", lambda v: True, timeout=5, since_mono=time.monotonic())
    assert recovered.mono > errors[-1].mono


def test_a_bug_in_a_source_does_not_stop_the_sampler(sampler: Sampler) -> None:
    def broken() -> dict[str, float]:
        raise ZeroDivisionError("division by zero")

    sampler.add_source("broken", broken)
    sampler.add_source("counter", Counter())
    sampler.start()
    sampler.wait_for("counter", lambda v: v["n"] >= 3, timeout=5)
    assert sampler.errors("broken")[0].error == "ZeroDivisionError: division by zero"


def test_wait_for_returns_the_current_sample_at_once(sampler: Sampler) -> None:
    sampler.add_source("counter", Counter())
    sampler.poll_once()  # one sample, no thread
    start = time.monotonic()
    assert sampler.wait_for("counter", lambda v: v["n"] == 1, timeout=5).values == {"n": 1.0}
    assert time.monotonic() - start < 0.5


def test_wait_for_wakes_on_a_new_sample_without_polling(sampler: Sampler) -> None:
    counter = Counter()
    sampler.add_source("counter", counter)
    sampler.poll_once()
    result: list[Any] = []
    waiter = threading.Thread(
        target=lambda: result.append(sampler.wait_for("counter", lambda v: v["n"] >= 2, 5))
    )
    waiter.start()
    time.sleep(0.05)  # the waiter is blocked on the condition now
    assert result == []
    sampler.poll_once()
    waiter.join(timeout=2)
    assert result[0].values == {"n": 2.0}


def test_wait_for_timeout_says_what_came_instead(sampler: Sampler) -> None:
    flaky = Flaky()
    sampler.add_source("meter", flaky)
    sampler.poll_once()
    flaky.broken.set()
    sampler.poll_once()
    with pytest.raises(SamplerTimeout) as err:
        sampler.wait_for("meter", lambda v: v["power_w"] > 2000, timeout=0.05)
    message = str(err.value)
    assert "no meter sample met the condition within 0.05 s" in message
    assert "last sample {'power_w': 1500.0}" in message
    assert "last poll failed: energy_meter at modbus-tcp://10.0.0.9:502: connection lost" in message


def test_queries_since_and_unknown_sources(sampler: Sampler) -> None:
    sampler.add_source("counter", Counter())
    assert sampler.latest("counter") is None
    sampler.poll_once()
    cut = time.monotonic()
    sampler.poll_once()
    assert [s.values["n"] for s in sampler.samples("counter", since_mono=cut)] == [2.0]
    assert len(sampler.samples("counter")) == 2
    with pytest.raises(KeyError, match="no sampler source 'nope'; registered: counter"):
        sampler.latest("nope")
    with pytest.raises(ValueError, match="already registered"):
        sampler.add_source("counter", Counter())


def test_stop_joins_and_is_idempotent(out: Path) -> None:
    sampler = Sampler(out, interval_s=0.01)
    sampler.add_source("counter", Counter())
    sampler.start()
    sampler.start()  # second start is a no-op
    sampler.wait_for("counter", lambda v: v["n"] >= 2, timeout=5)
    sampler.stop()
    sampler.stop()
    assert not any(t.name == "hil-sampler" for t in threading.enumerate())
    count = len(sampler.samples("counter"))
    time.sleep(0.05)
    assert len(sampler.samples("counter")) == count
    assert len(lines(out)) == count


def test_real_meter_that_stops_mid_run_keeps_earlier_samples(sim_loop: Any, out: Path) -> None:
    physics = BenchPhysics()
    virtual = VirtualEnergyMeter(physics)
    address = sim_loop.run(virtual.start())
    meter = Sdm630(address, timeout_s=0.3, retries=0)
    meter.open()
    sampler = Sampler(out, interval_s=0.02)
    sampler.add_source("energy_meter", meter.read_sample)
    try:
        sampler.start()
        sampler.wait_for("energy_meter", lambda v: v["energy_wh"] > 0, timeout=5)
        good = len(sampler.samples("energy_meter"))
        sim_loop.run(virtual.stop())
        deadline = time.monotonic() + 5
        while not sampler.errors("energy_meter") and time.monotonic() < deadline:
            time.sleep(0.02)
        errors = sampler.errors("energy_meter")
        assert errors and address in errors[0].error
        assert len(sampler.samples("energy_meter")) >= good
        assert all(
            s.values["energy_wh"] == pytest.approx(1_234_500.0)
            for s in sampler.samples("energy_meter")
        )
    finally:
        sampler.stop()
        meter.close()
        sim_loop.run(virtual.stop())
    records = lines(out)
    assert sum("values" in r for r in records) >= good
    assert any(address in r.get("error", "") for r in records)
