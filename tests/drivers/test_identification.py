"""Identification drivers: the line RFID reader against the virtual reader, and the operator."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from drivers.base import InstrumentError
from drivers.identification import Identification
from drivers.registry import create_driver
from hil.sim.instruments.rfid_reader import VirtualRfidReader
from tests.conftest import SimLoop


class _Station:
    """Stands in for the virtual station's tag callback; records where it ran."""

    def __init__(self) -> None:
        self.tags: list[str] = []
        self.threads: list[threading.Thread] = []
        self.fail_with: Exception | None = None

    def on_tag(self, tag: str) -> None:
        self.threads.append(threading.current_thread())
        if self.fail_with is not None:
            raise self.fail_with
        self.tags.append(tag)


@pytest.fixture(scope="module")
def reader_bench() -> Iterator[tuple[SimLoop, _Station, Any]]:
    loop = SimLoop()
    station = _Station()
    reader = VirtualRfidReader(station.on_tag)
    address = loop.run(reader.start())
    driver = create_driver("identification", "virtual", address, {"timeout": 1.0})
    driver.open()
    yield loop, station, driver
    driver.close()
    loop.run(reader.stop())
    loop.close()


@pytest.fixture
def bench(reader_bench: tuple[SimLoop, _Station, Any]) -> tuple[SimLoop, _Station, Any]:
    station = reader_bench[1]
    station.tags.clear()
    station.threads.clear()
    station.fail_with = None
    return reader_bench


def test_present_hands_the_tag_to_the_station_on_the_bench_loop(bench: Any) -> None:
    loop, station, driver = bench
    assert isinstance(driver, Identification)
    assert driver.address.startswith("socket://127.0.0.1:")
    assert driver.identify() == VirtualRfidReader.IDN
    driver.present("04A2B3C4D5")
    driver.present("TAG-2")
    assert station.tags == ["04A2B3C4D5", "TAG-2"]
    loop_thread = loop.call(threading.current_thread)
    assert station.threads == [loop_thread, loop_thread]


def test_overlong_tag_is_refused_by_the_reader(bench: Any) -> None:
    _, station, driver = bench
    with pytest.raises(InstrumentError, match=r"refused 'PRESENT .*': ERR 102 idTag must be 1-20"):
        driver.present("X" * 21)
    assert station.tags == []


def test_station_failure_is_reported(bench: Any) -> None:
    _, station, driver = bench
    station.fail_with = RuntimeError("station is rebooting")
    with pytest.raises(InstrumentError, match="ERR 104 .*station is rebooting") as err:
        driver.present("ABC")
    assert err.value.role == "identification"


def test_tag_with_spaces_is_rejected_before_sending(bench: Any) -> None:
    _, station, driver = bench
    with pytest.raises(ValueError, match="without spaces"):
        driver.present("A B")
    with pytest.raises(ValueError, match="ASCII"):
        driver.present("TÄG")
    assert station.threads == []


@pytest.mark.parametrize(
    ("line", "reply"),
    [
        ("*IDN?", VirtualRfidReader.IDN),
        ("PRESENT", "ERR 101 expected 1 argument (the idTag), got 0"),
        ("PRESENT A B", "ERR 101 expected 1 argument (the idTag), got 2"),
        ("READ", "ERR 100 unknown command READ"),
        ("", None),
    ],
)
def test_reader_protocol(line: str, reply: str | None) -> None:
    reader = VirtualRfidReader(lambda tag: None)
    assert reader.handle_line(line) == reply


def test_reader_gone(sim_loop: SimLoop) -> None:
    reader = VirtualRfidReader(lambda tag: None)
    address = sim_loop.run(reader.start())
    sim_loop.run(reader.stop())
    driver = create_driver("identification", "virtual", address, {"timeout": 0.3})
    with pytest.raises(InstrumentError, match=f"identification at {address}: cannot open"):
        driver.open()


# -- operator --------------------------------------------------------------------------


@pytest.fixture
def dialogs(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Record what would be shown to the operator (the operator is the real instrument)."""
    dialogs_module = pytest.importorskip("robot.libraries.Dialogs")
    shown: list[tuple[str, str]] = []

    def execute_manual_step(message: str, default_error: str = "") -> None:
        shown.append((message, default_error))

    monkeypatch.setattr(dialogs_module, "execute_manual_step", execute_manual_step)
    return shown


def test_operator_is_asked_to_present_the_named_tag(dialogs: list[tuple[str, str]]) -> None:
    driver = create_driver("identification", "operator", "operator", {})
    driver.open()
    assert driver.identify() == "operator prompt"
    driver.present("04A2B3C4D5")
    driver.close()
    assert len(dialogs) == 1
    assert "'04A2B3C4D5'" in dialogs[0][0]
    assert "04A2B3C4D5" in dialogs[0][1]


def test_operator_fail_raises_naming_the_tag(monkeypatch: pytest.MonkeyPatch) -> None:
    dialogs_module = pytest.importorskip("robot.libraries.Dialogs")

    def operator_presses_fail(message: str, default_error: str = "") -> None:
        raise AssertionError("no such card in the lab")

    monkeypatch.setattr(dialogs_module, "execute_manual_step", operator_presses_fail)
    driver = create_driver("identification", "operator", "operator", {"reader": "reader R1"})
    with pytest.raises(InstrumentError, match="could not present tag 'BLOCKED1': no such card"):
        driver.present("BLOCKED1")
