"""snmp-ifmib driver (pysnmp client) against the virtual switch (pysnmp agent) over UDP."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from drivers.base import InstrumentError
from drivers.network_switch import NetworkSwitch
from drivers.registry import create_driver
from hil.sim.instruments.snmp_switch import VirtualSwitch
from hil.sim.network import BlackholeRelay
from tests.conftest import SimLoop

SYS_DESCR = "Test bench switch 8-port"
ADMIN = "1.3.6.1.2.1.2.2.1.7"


@pytest.fixture(scope="module")
def bench() -> Iterator[tuple[SimLoop, dict[int, BlackholeRelay], str]]:
    """A virtual switch with ports 3 and 5, each a relay (to a port nobody listens on)."""
    loop = SimLoop()
    relays = {3: BlackholeRelay("127.0.0.1", 9), 5: BlackholeRelay("127.0.0.1", 9)}
    switch = VirtualSwitch(relays, sys_descr=SYS_DESCR)

    async def start() -> str:
        for relay in relays.values():
            await relay.start()
        return await switch.start()

    url = loop.run(start())
    yield loop, relays, url

    async def stop() -> None:
        await switch.stop()
        for relay in relays.values():
            await relay.stop()

    loop.run(stop())
    loop.close()


@pytest.fixture
def relays(bench: tuple[Any, ...]) -> dict[int, BlackholeRelay]:
    for relay in bench[1].values():
        relay.set_link(True)
    return bench[1]


def _switch(url: str, **options: Any) -> Any:
    driver = create_driver("network_switch", "snmp-ifmib", url, options)
    driver.open()
    return driver


@pytest.fixture
def switch(bench: tuple[Any, ...]) -> Iterator[Any]:
    driver = _switch(bench[2], port=3, community="public", write_community="private")
    yield driver
    driver.close()


def _snmp_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("snmp-")]


def test_identify_reads_sysdescr(switch: Any, bench: tuple[Any, ...]) -> None:
    assert isinstance(switch, NetworkSwitch)
    assert switch.identify() == SYS_DESCR
    assert bench[2].startswith("snmp://127.0.0.1:")


def test_set_port_down_and_up_pulls_the_relay_cable(
    switch: Any, relays: dict[int, BlackholeRelay]
) -> None:
    assert switch.port_is_up(3) and switch.oper_is_up(3)
    switch.set_port(3, False)
    assert relays[3].link_up is False
    assert relays[5].link_up is True  # only that port
    assert not switch.port_is_up(3) and not switch.oper_is_up(3)
    assert switch.port_is_up(5)
    switch.set_port(3, True)
    assert relays[3].link_up is True
    assert switch.port_is_up(3)


def test_port_state_is_read_from_the_agent_not_cached(
    switch: Any, relays: dict[int, BlackholeRelay], bench: tuple[Any, ...]
) -> None:
    bench[0].run(_call(relays[5].set_link, False))
    assert switch.port_is_up(5) is False
    bench[0].run(_call(relays[5].set_link, True))
    assert switch.port_is_up(5) is True


async def _call(fn: Any, *args: Any) -> Any:
    return fn(*args)


def test_station_port_comes_from_the_options(switch: Any, bench: tuple[Any, ...]) -> None:
    assert switch.station_port == 3
    no_port = create_driver("network_switch", "snmp-ifmib", bench[2], {})
    with pytest.raises(InstrumentError, match="no station port configured"):
        _ = no_port.station_port


def test_unknown_port_on_read_and_write(switch: Any) -> None:
    with pytest.raises(InstrumentError, match=r"no 1\.3\.6\.1\.2\.1\.2\.2\.1\.7\.4"):
        switch.port_is_up(4)
    with pytest.raises(InstrumentError, match="refused with noCreation"):
        switch.set_port(4, False)
    with pytest.raises(ValueError, match="ifIndex"):
        switch.set_port(0, False)


def test_write_with_the_read_community_is_refused(
    bench: tuple[Any, ...], relays: dict[int, BlackholeRelay]
) -> None:
    driver = _switch(bench[2], write_community="public")
    try:
        with pytest.raises(InstrumentError) as err:
            driver.set_port(3, False)
    finally:
        driver.close()
    assert err.value.role == "network_switch" and err.value.address == bench[2]
    assert "noAccess" in err.value.reason and "write_community" in err.value.reason
    assert relays[3].link_up is True


def test_unknown_write_community_times_out_with_a_hint(
    bench: tuple[Any, ...], relays: dict[int, BlackholeRelay]
) -> None:
    driver = _switch(bench[2], write_community="wrong", timeout=0.4, retries=0)
    started = time.monotonic()
    try:
        with pytest.raises(InstrumentError, match="community 'wrong' unknown"):
            driver.set_port(3, False)
    finally:
        driver.close()
    assert time.monotonic() - started < 0.4 + 1.0
    assert relays[3].link_up is True


def test_agent_that_does_not_answer() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as mute:
        mute.bind(("127.0.0.1", 0))  # receives, never answers
        url = f"snmp://127.0.0.1:{mute.getsockname()[1]}"
        driver = create_driver("network_switch", "snmp-ifmib", url, {"timeout": 0.3, "retries": 1})
        started = time.monotonic()
        with pytest.raises(InstrumentError) as err:
            driver.open()
        elapsed = time.monotonic() - started
    assert err.value.address == url
    assert "no answer within 0.3 s x 2 tries" in err.value.reason
    assert elapsed < 0.3 * 2 + 1.0
    assert not _snmp_threads()  # the private loop was stopped after the failed open


def test_unused_udp_port() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    driver = create_driver(
        "network_switch", "snmp-ifmib", f"snmp://127.0.0.1:{port}", {"timeout": 0.3, "retries": 0}
    )
    started = time.monotonic()
    with pytest.raises(InstrumentError, match="network_switch at snmp://127.0.0.1:.*no answer"):
        driver.open()
    assert time.monotonic() - started < 0.3 + 1.0


def test_wrong_read_community_fails_open(bench: tuple[Any, ...]) -> None:
    driver = create_driver(
        "network_switch",
        "snmp-ifmib",
        bench[2],
        {"community": "nope", "timeout": 0.3, "retries": 0},
    )
    with pytest.raises(InstrumentError, match="read sysDescr: no answer.*community 'nope'"):
        driver.open()


@pytest.mark.parametrize("address", ["udp://10.0.0.1", "snmp://", "10.0.0.1", "snmp://h:99999"])
def test_bad_address(address: str) -> None:
    with pytest.raises(InstrumentError, match="address must look like snmp://host"):
        create_driver("network_switch", "snmp-ifmib", address, {})


def test_unknown_option() -> None:
    with pytest.raises(InstrumentError, match="unknown option.*comunity"):
        create_driver("network_switch", "snmp-ifmib", "snmp://10.0.0.1", {"comunity": "x"})


def test_close_stops_the_private_loop(bench: tuple[Any, ...]) -> None:
    driver = _switch(bench[2])
    assert len(_snmp_threads()) == 1
    driver.close()
    driver.close()
    assert not _snmp_threads()
    with pytest.raises(InstrumentError, match="driver not open"):
        driver.port_is_up(3)


def test_callable_from_inside_a_running_event_loop(bench: tuple[Any, ...]) -> None:
    """Robot may call keywords while an asyncio loop runs in its thread."""

    async def inside() -> str:
        driver = _switch(bench[2])
        try:
            return driver.identify()
        finally:
            driver.close()

    assert asyncio.run(inside()) == SYS_DESCR


# -- the agent itself, with a plain pysnmp manager ------------------------------------------


def _manager(url: str, community: str, job: Any) -> Any:
    """Run ``await job(api, send)`` with a fresh pysnmp manager; ``send(cmd, *binds)``."""
    from pysnmp.hlapi.v3arch import asyncio as api  # the submodule itself: imported here

    host, port = url.removeprefix("snmp://").split(":")

    async def go() -> Any:
        engine = api.SnmpEngine()
        target = await api.UdpTransportTarget.create((host, int(port)), timeout=1, retries=0)

        async def send(cmd: Any, *binds: Any) -> Any:
            auth = api.CommunityData(community)
            return await cmd(engine, auth, target, api.ContextData(), *binds, lookupMib=False)

        try:
            return await job(api, send)
        finally:
            engine.close_dispatcher()

    return asyncio.run(go())


def test_agent_rejects_bad_values_and_read_only_objects(bench: tuple[Any, ...]) -> None:
    async def job(api: Any, send: Any) -> list[str]:
        obj = api.ObjectType
        oid = api.ObjectIdentity
        cases = [
            obj(oid(f"{ADMIN}.3"), api.Integer(3)),  # testing(3): not supported
            obj(oid(f"{ADMIN}.3"), api.OctetString("down")),
            obj(oid("1.3.6.1.2.1.1.1.0"), api.OctetString("x")),
            obj(oid("1.3.6.1.2.1.2.2.1.8.3"), api.Integer(2)),
        ]
        out = []
        for bind in cases:
            error_indication, error_status, _, _ = await send(api.set_cmd, bind)
            assert error_indication is None
            out.append(error_status.prettyPrint())
        return out

    assert _manager(bench[2], "private", job) == [
        "wrongValue",
        "wrongType",
        "notWritable",
        "notWritable",
    ]


def test_agent_set_is_all_or_nothing(
    bench: tuple[Any, ...], relays: dict[int, BlackholeRelay]
) -> None:
    async def job(api: Any, send: Any) -> Any:
        obj, oid = api.ObjectType, api.ObjectIdentity
        return await send(
            api.set_cmd,
            obj(oid(f"{ADMIN}.3"), api.Integer(2)),
            obj(oid(f"{ADMIN}.9"), api.Integer(2)),
        )

    _, error_status, error_index, _ = _manager(bench[2], "private", job)
    assert (error_status.prettyPrint(), int(error_index)) == ("noCreation", 2)
    assert relays[3].link_up is True


def test_agent_walks_the_if_table_in_order(
    bench: tuple[Any, ...], relays: dict[int, BlackholeRelay]
) -> None:
    bench[0].run(_call(relays[5].set_link, False))

    async def job(api: Any, send: Any) -> list[tuple[str, str]]:
        seen = []
        oid = "1.3.6.1.2.1.2"
        while True:
            _, status, _, binds = await send(api.next_cmd, api.ObjectType(api.ObjectIdentity(oid)))
            assert not status
            name, value = binds[0]
            if isinstance(value, api.EndOfMibView) or not str(name).startswith("1.3.6.1.2.1.2."):
                return seen
            seen.append((str(name), value.prettyPrint()))
            oid = str(name)

    assert _manager(bench[2], "public", job) == [
        ("1.3.6.1.2.1.2.1.0", "2"),
        ("1.3.6.1.2.1.2.2.1.1.3", "3"),
        ("1.3.6.1.2.1.2.2.1.1.5", "5"),
        ("1.3.6.1.2.1.2.2.1.2.3", "port 3"),
        ("1.3.6.1.2.1.2.2.1.2.5", "port 5"),
        ("1.3.6.1.2.1.2.2.1.7.3", "1"),
        ("1.3.6.1.2.1.2.2.1.7.5", "2"),
        ("1.3.6.1.2.1.2.2.1.8.3", "1"),
        ("1.3.6.1.2.1.2.2.1.8.5", "2"),
    ]
