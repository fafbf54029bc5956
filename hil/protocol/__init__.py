"""What differs between OCPP versions, and nothing else.

:func:`adapter_for` picks the :class:`~hil.protocol.base.ProtocolAdapter` of the version a
station's connection negotiated (``StationSession.ocpp_version``); keywords call it and
never branch on the version themselves.
"""

from __future__ import annotations

from typing import Any

from hil.protocol.base import ProtocolAdapter
from hil.protocol.v16 import Ocpp16
from hil.protocol.v201 import Ocpp201

ADAPTERS: dict[str, ProtocolAdapter] = {"1.6": Ocpp16(), "2.0.1": Ocpp201()}


def adapter_for(version: str | None) -> ProtocolAdapter:
    """The adapter of OCPP ``version`` ("1.6" or "2.0.1")."""
    try:
        return ADAPTERS[str(version)]
    except KeyError:
        raise ValueError(f"the lab speaks OCPP {' and '.join(ADAPTERS)}, not {version!r}") from None


def adapter_for_session(session: Any, default: str | None = None) -> ProtocolAdapter:
    """The adapter of the version ``session`` (a ``StationSession``) negotiated; before the
    station ever connected, ``default`` (the lab config's ``dut.ocpp``)."""
    version = getattr(session, "ocpp_version", None) or default
    if version is None:
        raise AssertionError(
            f"Station {getattr(session, 'station_id', '?')} has not connected yet: "
            "its OCPP version is not known"
        )
    return adapter_for(version)


__all__ = ["ADAPTERS", "ProtocolAdapter", "adapter_for", "adapter_for_session"]
