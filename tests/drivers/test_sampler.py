"""The background sampler: cadence, JSON lines, failures, event-driven waits, one thread per
source, and instruments lost after the grace period."""

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
from hil.lab.sampler import InstrumentLost, Loss, Sampler, SamplerTimeout
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
    assert not any(t.name.startswith("hil-sampler") for t in threading.enumerate())
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


# -- one thread per source, lost instruments ------------------------------------------------

METER = "modbus-tcp://10.0.0.9:502"


class Hanging:
    """A source that answers until ``hang`` is set, then blocks in the read (like a meter
    behind a dead gateway) until ``release`` is set, and then fails as a driver would."""

    def __init__(self) -> None:
        self.hang = threading.Event()
        self.release = threading.Event()

    def __call__(self) -> dict[str, float]:
        if self.hang.is_set():
            self.release.wait(10)
            raise InstrumentError("energy_meter", METER, "no valid answer within 2 s")
        return {"energy_wh": 1200.5, "power_w": 22080.0}


@pytest.fixture
def hanging() -> Iterator[Hanging]:
    source = Hanging()
    try:
        yield source
    finally:
        source.release.set()


def lossy(out: Path, grace_s: float = 0.5) -> Sampler:
    return Sampler(out, interval_s=0.02, grace_s=grace_s)


def test_a_hanging_source_does_not_delay_another(out: Path, hanging: Hanging) -> None:
    sampler = Sampler(out, interval_s=0.02)  # no grace: only the threads matter here
    sampler.add_source("energy_meter", hanging, address=METER)
    sampler.add_source("counter", Counter())
    try:
        sampler.start()
        sampler.wait_for("energy_meter", lambda v: True, timeout=5)
        hanging.hang.set()
        time.sleep(0.1)  # the meter's thread is stuck in its read now
        cut = time.monotonic()
        first = sampler.wait_for("counter", lambda v: True, timeout=1, since_mono=cut)
        sampler.wait_for("counter", lambda v: v["n"] >= first.values["n"] + 10, timeout=2)
        monos = [s.mono for s in sampler.samples("counter", since_mono=cut)]
        gaps = [b - a for a, b in zip(monos, monos[1:], strict=False)]
        assert max(gaps) < 0.2, f"the counter waited for the hung meter: gaps {gaps}"
        assert {t.name for t in threading.enumerate()} >= {
            "hil-sampler-energy_meter",
            "hil-sampler-counter",
        }
    finally:
        hanging.release.set()
        sampler.stop()


def test_a_hanging_source_is_lost_after_the_grace(out: Path, hanging: Hanging) -> None:
    sampler = lossy(out, grace_s=0.5)
    sampler.add_source("energy_meter", hanging, address=METER)
    sampler.add_source("counter", Counter())
    heard: list[Loss] = []
    sampler.on_lost(heard.append)
    try:
        sampler.start()
        sampler.wait_for("energy_meter", lambda v: True, timeout=5)
        hanging.hang.set()
        time.sleep(0.05)
        last_good = sampler.latest("energy_meter")
        assert last_good is not None
        assert sampler.loss("energy_meter") is None  # within the grace: still working
        deadline = time.monotonic() + 5
        while sampler.loss("energy_meter") is None and time.monotonic() < deadline:
            time.sleep(0.01)
        loss = sampler.loss("energy_meter")
        assert loss is not None
        assert 0.5 <= loss.mono - last_good.mono < 0.5 + 0.3
        assert sampler.is_lost("energy_meter") and not sampler.is_lost("counter")
        assert list(sampler.losses()) == ["energy_meter"]
        deadline = time.monotonic() + 2
        while not heard and time.monotonic() < deadline:
            time.sleep(0.01)
        assert heard == [loss]  # the listener hears of it once
    finally:
        hanging.release.set()
        sampler.stop()
    lost = [r for r in lines(out) if r.get("lost")]
    assert len(lost) == 1
    assert lost[0]["source"] == "energy_meter"
    assert lost[0]["error"].startswith(f"energy_meter at {METER}: instrument lost")


def test_wait_for_raises_promptly_when_the_grace_runs_out(out: Path, hanging: Hanging) -> None:
    sampler = lossy(out, grace_s=0.6)
    sampler.add_source("energy_meter", hanging, address=METER)
    try:
        sampler.start()
        sampler.wait_for("energy_meter", lambda v: True, timeout=5)
        hanging.hang.set()
        time.sleep(0.05)
        last_good = sampler.latest("energy_meter")
        with pytest.raises(InstrumentLost) as err:
            sampler.wait_for("energy_meter", lambda v: v["energy_wh"] > 5000, timeout=30)
        raised = time.monotonic()
        assert last_good is not None
        assert raised - last_good.mono < 0.6 + 0.5, "the wait did not end with the grace"
        # a new wait on a lost source raises at once, not after its timeout
        start = time.monotonic()
        with pytest.raises(InstrumentLost):
            sampler.wait_for("energy_meter", lambda v: True, timeout=30)
        assert time.monotonic() - start < 0.1
    finally:
        hanging.release.set()
        sampler.stop()
    exc = err.value
    assert (exc.role, exc.address) == ("energy_meter", METER)
    message = str(exc)
    assert message.startswith(f"energy_meter at {METER}: instrument lost: no good reading for")
    assert "(grace 0.6 s)" in message
    assert f"last good reading energy_wh=1200.5, power_w=22080 at {last_good.wall}" in message
    assert "last error: none yet" in message  # the read hangs: no error came back yet
    assert "a read has been pending for" in message


def test_the_loss_names_the_last_error(out: Path) -> None:
    flaky = Flaky()
    sampler = lossy(out, grace_s=0.3)
    sampler.add_source("energy_meter", flaky, address=METER)
    try:
        sampler.start()
        good = sampler.wait_for("energy_meter", lambda v: True, timeout=5)
        flaky.broken.set()
        with pytest.raises(InstrumentLost) as err:
            sampler.wait_for("energy_meter", lambda v: v["power_w"] > 2000, timeout=30)
    finally:
        sampler.stop()
    message = str(err.value)
    loss = err.value.loss
    assert loss.last_good == sampler.samples("energy_meter")[-1]
    assert loss.last_good.mono >= good.mono
    assert f"last good reading power_w=1500 at {loss.last_good.wall}" in message
    assert loss.last_error is not None
    # the driver's error, without its "role at address" prefix repeated
    assert f"last error at {loss.last_error.wall}: connection lost" in message
    assert message.count(METER) == 1


def test_a_lost_source_stays_lost_when_it_answers_again(out: Path) -> None:
    flaky = Flaky()
    sampler = lossy(out, grace_s=0.2)
    sampler.add_source("energy_meter", flaky, address=METER)
    try:
        sampler.start()
        sampler.wait_for("energy_meter", lambda v: True, timeout=5)
        flaky.broken.set()
        with pytest.raises(InstrumentLost):
            sampler.wait_for("energy_meter", lambda v: False, timeout=30)
        flaky.broken.clear()
        cut = time.monotonic()
        deadline = cut + 5
        while not sampler.samples("energy_meter", since_mono=cut) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert sampler.samples("energy_meter", since_mono=cut), "it was not polled again"
        assert sampler.is_lost("energy_meter")
        with pytest.raises(InstrumentLost):
            sampler.wait_for("energy_meter", lambda v: True, timeout=1)
    finally:
        sampler.stop()


def test_a_source_that_never_answers_is_lost_too(out: Path) -> None:
    def dead() -> dict[str, float]:
        raise InstrumentError("power_analyser", "TCPIP0::10.0.0.8::5025::SOCKET", "no answer")

    sampler = lossy(out, grace_s=0.2)
    sampler.add_source("power_analyser", dead, address="TCPIP0::10.0.0.8::5025::SOCKET")
    try:
        sampler.start()
        with pytest.raises(InstrumentLost) as err:
            sampler.wait_for("power_analyser", lambda v: True, timeout=30)
    finally:
        sampler.stop()
    assert "last good reading: none since sampling started" in str(err.value)


def test_without_a_grace_nothing_is_lost(sampler: Sampler) -> None:
    flaky = Flaky()
    flaky.broken.set()
    sampler.add_source("meter", flaky)
    sampler.start()
    time.sleep(0.2)
    assert sampler.losses() == {}
    with pytest.raises(SamplerTimeout):
        sampler.wait_for("meter", lambda v: True, timeout=0.1)


def test_memory_keeps_recent_samples_only_and_waits_keep_their_place(out: Path) -> None:
    """A night of polling must not grow the lab's memory: good samples older than
    ``keep_s`` leave memory (the file keeps them all), failed polls are capped, and a wait
    that started before a trim still sees every new sample."""
    from hil.lab import sampler as sampler_module
    from hil.lab.sampler import KEEP_ERRORS, TRIM_CHUNK, Sample

    s = Sampler(out, interval_s=1.0, keep_s=100.0)
    s.add_source("meter", Counter())
    s.start()
    s.stop()  # the file stays closed: _record below keeps memory only
    s._stop.clear()
    total = 5 * TRIM_CHUNK
    for i in range(total):  # one sample a second: 5,000 s of them
        s._record(Sample("meter", "w", float(i), {"n": float(i)}))
        s._record(Sample("meter", "w", float(i), error="timeout"))
    kept = s.samples("meter")
    assert len(kept) < 2 * TRIM_CHUNK + 1 and kept[-1].values == {"n": total - 1.0}
    assert kept[-1].mono - kept[0].mono >= 100.0  # at least keep_s is kept
    assert len(s.errors("meter")) <= 2 * KEEP_ERRORS
    assert s.latest("meter").values == {"n": total - 1.0}

    # a wait looking for a value still to come keeps its place while memory is trimmed
    found: list[Sample] = []
    waiter = threading.Thread(
        target=lambda: found.append(
            s.wait_for("meter", lambda v: v["n"] == total + TRIM_CHUNK * 2.0, timeout=10)
        )
    )
    with s._cond:
        waiter.start()
        s._cond.wait(0.2)
    for i in range(total, total + TRIM_CHUNK * 3):
        s._record(Sample("meter", "w", float(i), {"n": float(i)}))
    waiter.join(10)
    assert found and found[0].values == {"n": total + TRIM_CHUNK * 2.0}
    assert sampler_module.KEEP_S == 6 * 3600.0  # the default: a working day and then some
