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
