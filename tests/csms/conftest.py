from __future__ import annotations

import pytest

from hil.csms.loop import BackgroundLoop
from hil.csms.policy import ResponsePolicy
from hil.csms.server import BackOffice


@pytest.fixture
def back_office(tmp_path):
    """A back office on a free loopback port, on its own background loop."""
    loop = BackgroundLoop("test-backoffice").start()
    policy = ResponsePolicy(heartbeat_interval=30)
    policy.set_tag("GOOD", "Accepted")
    office = BackOffice(policy, tmp_path / "journal", call_timeout=2, ping_interval=None)
    loop.run(office.start(), timeout=5)
    office.loop = loop  # type: ignore[attr-defined]
    yield office
    loop.run(office.stop(), timeout=5)
    loop.stop()
