"""Fixtures the driver tests share."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from hil.sim.instruments.lem_dcbm import VirtualLemDcbm


@pytest.fixture
def virtual_dcbm() -> Iterator[VirtualLemDcbm]:
    """A virtual LEM DCBM serving its REST API on loopback, stopped after the test."""
    meter = VirtualLemDcbm().start()
    try:
        yield meter
    finally:
        meter.stop()
