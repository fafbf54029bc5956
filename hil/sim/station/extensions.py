"""Optional station behaviour (firmware management, Eichrecht signing, ...) as plug-ins.

Each extension gets the station at construction and is told about the moments that
matter to it. Add an extension by appending its class to :data:`EXTENSIONS`; add the
OCPP handlers it needs as a mixin of :class:`hil.sim.station.link.StationLink`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from hil.sim.station.charging import Transaction
    from hil.sim.station.station import VirtualStation


class StationExtension:
    """Base: every hook does nothing unless overridden."""

    def __init__(self, station: VirtualStation) -> None:
        self.station = station

    def power_on(self) -> None:
        """The station (re)booted; volatile state starts afresh."""

    def registered(self, first_since_boot: bool) -> None:
        """BootNotification was Accepted (first_since_boot) or a connection came back."""

    def transaction_started(self, tx: Transaction) -> None:
        """A transaction began."""

    def transaction_ending(
        self, tx: Transaction, meter_stop: int, stamp: str
    ) -> list[dict[str, Any]]:
        """Extra sampled values for StopTransaction.transactionData."""
        return []


E = TypeVar("E", bound=StationExtension)


def supported_extension(station: VirtualStation, kind: type[E], what: str) -> E:
    """The station's extension ``kind`` when the DUT does ``what`` by design; otherwise the
    request is answered with CALLERROR NotImplemented, saying ``what`` it does not do."""
    from ocpp.exceptions import NotImplementedError as OcppNotImplemented

    ext = station.extension(kind)
    if not isinstance(ext, kind) or not getattr(ext, "supported", True):
        raise OcppNotImplemented(description=f"this station does not do {what}", details={})
    return ext


#: Extension classes every virtual station gets, in order.
EXTENSIONS: list[type[StationExtension]] = []

# Built-in extensions append themselves to EXTENSIONS when imported (they subclass
# StationExtension, so they are imported after it; either import order works).
# EichrechtMeter and DcEichrechtMeter (step EI1), SmartCharging (steps SC1-SC3):
# (eichrecht imports DcEichrechtMeter, its subclass, once it is defined)
from hil.sim.station import eichrecht, smart_charging  # noqa: E402, F401
