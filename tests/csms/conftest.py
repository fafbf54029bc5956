from __future__ import annotations

import pytest

from hil.csms.loop import BackgroundLoop
from hil.csms.policy import ResponsePolicy
from hil.csms.server import BackOffice


def _back_office(tmp_path, versions):
    loop = BackgroundLoop("test-backoffice").start()
    policy = ResponsePolicy(heartbeat_interval=30)
    policy.set_tag("GOOD", "Accepted")
    office = BackOffice(
        policy, tmp_path / "journal", call_timeout=2, ping_interval=None, versions=versions
    )
    loop.run(office.start(), timeout=5)
    office.loop = loop  # type: ignore[attr-defined]
    return office, loop


@pytest.fixture
def back_office(tmp_path):
    """A back office on a free loopback port, on its own background loop, pinned to OCPP
    1.6 as the lab pins it by default (``dut.ocpp``)."""
    office, loop = _back_office(tmp_path, ("1.6",))
    yield office
    loop.run(office.stop(), timeout=5)
    loop.stop()


@pytest.fixture
def back_office_any(tmp_path):
    """A back office that speaks OCPP 1.6 and 2.0.1: the station's offer picks."""
    office, loop = _back_office(tmp_path, None)
    yield office
    loop.run(office.stop(), timeout=5)
    loop.stop()


@pytest.fixture
def start_office(tmp_path):
    """Start back offices as a run does (the DUT's journal opened first, refusals logged
    beside the journals); each is stopped, with its loop, when the test ends."""
    started = []

    def start(dut: str, **kwargs) -> BackOffice:
        loop = BackgroundLoop("test-office").start()
        office = BackOffice(
            ResponsePolicy(heartbeat_interval=30),
            tmp_path / "journal",
            call_timeout=2,
            ping_interval=None,
            refusals_path=tmp_path / "refusals.jsonl",
            **kwargs,
        )
        office.session(dut)  # the DUT's journal exists before it connects, as in a run
        loop.run(office.start(), timeout=5)
        started.append((office, loop))
        return office

    yield start
    for office, loop in started:
        loop.run(office.stop(), timeout=5)
        loop.stop()
