"""snmp-pdu driver (pysnmp client) against the virtual PDU (pysnmp agent) over UDP loopback."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest

from drivers.base import InstrumentError
from drivers.power_relay import PowerRelay
from drivers.registry import create_driver
from hil.sim.instruments.snmp_pdu import VirtualPdu
from tests.conftest import SimLoop

SYS_DESCR = "Test bench PDU 8-outlet"


class Feed:
    """What an outlet powers: records every switch, as the virtual station's mains would."""

    def __init__(self) -> None:
        self.events: list[bool] = []

    def __call__(self, on: bool) -> None:
        self.events.append(on)


@pytest.fixture(scope="module")
def loop() -> Iterator[SimLoop]:
    sim = SimLoop()
    yield sim
    sim.close()


@pytest.fixture
def pdu(loop: SimLoop) -> Iterator[tuple[VirtualPdu, Feed]]:
    feed = Feed()
    agent = VirtualPdu({3: feed}, outlets=4, sys_descr=SYS_DESCR)
    loop.run(agent.start())
    yield agent, feed
    loop.run(agent.stop())


def _relay(url: str, **options: Any) -> Any:
    options = {"outlet": 3, "timeout": 0.3, "retries": 0, "readback_timeout_s": 0.5, **options}
    driver = create_driver("power_relay", "snmp-pdu", url, options)
    driver.open()
    return driver


def test_identify_reads_sysdescr(pdu: tuple[VirtualPdu, Feed]) -> None:
    agent, _ = pdu
    relay = _relay(agent.url or "")
    try:
        assert isinstance(relay, PowerRelay)
        assert relay.identify().startswith(SYS_DESCR)
        assert "outlet 3" in relay.identify()
    finally:
        relay.close()


def test_off_and_on_switch_the_outlet_and_what_it_feeds(pdu: tuple[VirtualPdu, Feed]) -> None:
    agent, feed = pdu
    relay = _relay(agent.url or "")
    try:
        assert relay.is_on()
        relay.power_off()
        assert not relay.is_on()
        assert agent.outlets[3] is False
        assert agent.outlets[1] is True  # only the configured outlet
        relay.power_on()
        assert relay.is_on()
        assert feed.events == [False, True]
    finally:
        relay.close()


def test_power_cycle_goes_off_then_on(pdu: tuple[VirtualPdu, Feed]) -> None:
    agent, feed = pdu
    relay = _relay(agent.url or "")
    try:
        relay.power_cycle(0.05)
        assert feed.events == [False, True]
        assert relay.is_on()
    finally:
        relay.close()


def test_a_read_back_that_disagrees_fails_naming_role_and_address(loop: SimLoop) -> None:
    """A PDU that acknowledges SETs but switches nothing (a welded contact)."""
    feed = Feed()
    agent = VirtualPdu({3: feed}, outlets=4, ignore_sets=True)
    url = loop.run(agent.start())
    try:
        relay = _relay(url)
        try:
            with pytest.raises(InstrumentError) as err:
                relay.power_cycle(0.0)
            text = str(err.value)
            assert text.startswith(f"power_relay at {url}: ")
            assert "switched off, but the relay still reads back on" in text
            assert feed.events == []
        finally:
            relay.close()
    finally:
        loop.run(agent.stop())


def test_wrong_community_names_role_and_address(pdu: tuple[VirtualPdu, Feed]) -> None:
    agent, _ = pdu
    url = agent.url or ""
    with pytest.raises(InstrumentError, match=rf"^power_relay at {url}: .*community 'nope'"):
        _relay(url, community="nope")


def test_read_only_community_cannot_switch(pdu: tuple[VirtualPdu, Feed]) -> None:
    agent, feed = pdu
    relay = _relay(agent.url or "", write_community="public")
    try:
        with pytest.raises(InstrumentError, match=r"refused with .*write_community"):
            relay.power_off()
        assert feed.events == []
        assert relay.is_on()
    finally:
        relay.close()


def test_unreachable_agent_names_role_and_address() -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))  # a port that stays silent
    try:
        url = f"snmp://127.0.0.1:{sock.getsockname()[1]}"
        with pytest.raises(InstrumentError, match=rf"^power_relay at {url}: .*no answer"):
            _relay(url)
    finally:
        sock.close()


def test_an_outlet_the_pdu_lacks_is_named(pdu: tuple[VirtualPdu, Feed]) -> None:
    agent, _ = pdu
    relay = _relay(agent.url or "", outlet=9)
    try:
        with pytest.raises(InstrumentError, match=r"outlet 9"):
            relay.is_on()
    finally:
        relay.close()


def test_a_map_serves_another_model(loop: SimLoop) -> None:
    """The Gude map (on 1 / off 0) drives an agent serving that map."""
    feed = Feed()
    agent = VirtualPdu({2: feed}, outlets=2, model="gude-epc8226")
    url = loop.run(agent.start())
    try:
        relay = _relay(url, outlet=2, model="gude-epc8226")
        try:
            relay.power_cycle(0.0)
            assert feed.events == [False, True]
        finally:
            relay.close()
    finally:
        loop.run(agent.stop())


def test_bad_options_are_refused_at_construction() -> None:
    with pytest.raises(InstrumentError, match="address must look like snmp://"):
        create_driver("power_relay", "snmp-pdu", "udp://x", {})
    with pytest.raises(InstrumentError, match="no relay map 'nope'"):
        create_driver("power_relay", "snmp-pdu", "snmp://127.0.0.1", {"model": "nope"})


def test_the_declared_models_are_the_bundled_maps() -> None:
    from typing import get_args

    from drivers.power_relay.relay_maps import (
        MAPS_DIR,
        ModbusRelayModel,
        SnmpPduModel,
        load_modbus_map,
        load_snmp_map,
    )

    bundled = {p.stem.replace("_", "-") for p in MAPS_DIR.glob("*.yaml")}
    assert bundled == set(get_args(SnmpPduModel)) | set(get_args(ModbusRelayModel))
    for name in get_args(SnmpPduModel):
        assert load_snmp_map(name).source
    for name in get_args(ModbusRelayModel):
        assert load_modbus_map(name).source
