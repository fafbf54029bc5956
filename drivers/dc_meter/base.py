"""The DC meter role: what every signing (Eichrecht) DC meter driver offers the lab.

A DC charge station's legal energy register is a DC meter inside the station that signs its
readings as OCMF. The lab reads that meter directly (over the station's internal network),
so it holds the meter's own signed record against the one the station forwards in OCPP.

Units are in the names and are the lab's (V, A, W, Wh) whatever the meter uses; drivers
convert at their boundary. Energy registers are :class:`~decimal.Decimal`, converted
exactly from the meter's text, so they compare equal to the signed OCMF values
(:attr:`hil.verify.ocmf.OcmfReading.value_wh`) without float noise.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from drivers.base import Instrument
from hil.verify.ocmf.model import OcmfReading, OcmfRecord

#: the longest client id a LEM DCBM takes (its ``/legal`` ``clientId``)
CLIENT_ID_MAX_LEN = 37


@dataclass(frozen=True)
class DcMeterIdentity:
    """Who the meter says it is (read from the meter, not the lab config)."""

    meter_id: str
    firmware: str
    model: str


@dataclass(frozen=True)
class DcMeterStatus:
    """The meter's state flags the lab cares about."""

    transaction_ongoing: bool
    time_synchronised: bool | None  # None: the meter does not say
    error_flags: int  # the meter's error word; 0 = no error


@dataclass(frozen=True)
class DcMeasurement:
    """One live reading, in the meter's own sign convention."""

    voltage_v: float
    current_a: float
    power_w: float
    energy_import_wh: Decimal
    energy_export_wh: Decimal
    timestamp: datetime  # the meter's clock, timezone-aware


@dataclass(frozen=True)
class DcTransactionRequest:
    """What a legal (signed) transaction is started with.

    ``client_id`` is what the meter signs as the user identification; a LEM DCBM takes at
    most :data:`CLIENT_ID_MAX_LEN` characters. ``tariff_text`` only reaches meters whose API
    carries it (LEM API v2).
    """

    evse_id: str
    transaction_id: str
    client_id: str
    tariff_id: int = 0
    cable_id: int = 0
    user_data: str = ""
    tariff_text: str = ""

    def __post_init__(self) -> None:
        if not self.transaction_id:
            raise ValueError("a legal transaction needs a transaction id")
        if len(self.client_id) > CLIENT_ID_MAX_LEN:
            raise ValueError(
                f"client id {self.client_id!r} has {len(self.client_id)} characters; "
                f"the meter takes at most {CLIENT_ID_MAX_LEN}"
            )


@dataclass(frozen=True)
class DcTransactionStarted:
    transaction_id: str
    running: bool


@dataclass(frozen=True)
class DcTransactionState:
    """The meter's running transaction, or the last one it ran (empty id: none yet)."""

    transaction_id: str
    running: bool


@dataclass(frozen=True)
class DcTransactionStopped:
    """The meter's summary of a stopped transaction (registers in Wh)."""

    transaction_id: str
    energy_import_start_wh: Decimal
    energy_import_stop_wh: Decimal
    energy_export_start_wh: Decimal
    energy_export_stop_wh: Decimal
    transaction_status: int  # the meter's status word at stop

    @property
    def energy_import_wh(self) -> Decimal:
        return self.energy_import_stop_wh - self.energy_import_start_wh


@dataclass(frozen=True)
class SignedOcmf:
    """A signed OCMF record exactly as the meter handed it out, and its parsed form.

    ``text`` is the meter's, unchanged but for surrounding whitespace (the signature covers
    its payload section byte for byte); ``record`` is how
    :func:`hil.verify.ocmf.parse_record` reads it. The driver checks only that it parses:
    whether it verifies, and whether it says what the station forwarded, is the lab's
    verdict, not the driver's.
    """

    text: str
    record: OcmfRecord

    @property
    def begin(self) -> OcmfReading | None:
        return next((r for r in self.record.readings if r.is_begin), None)

    @property
    def end(self) -> OcmfReading | None:
        return next((r for r in reversed(self.record.readings) if r.is_end), None)

    @property
    def current_types(self) -> set[str | None]:
        """The ``RT`` of every reading (a DC meter's should all be ``"DC"``)."""
        return {r.current_type for r in self.record.readings}


class DcMeter(Instrument):
    """A signing DC meter. ``identify()`` is ``"<model> <meter id> fw <firmware>"``."""

    role = "dc_meter"

    def identify(self) -> str:
        who = self.read_identity()
        return f"{who.model} {who.meter_id} fw {who.firmware}"

    @abc.abstractmethod
    def read_identity(self) -> DcMeterIdentity:
        """Meter id and firmware version, read from the meter."""

    @abc.abstractmethod
    def read_status(self) -> DcMeterStatus:
        """Whether a legal transaction is ongoing, time sync, error word."""

    @abc.abstractmethod
    def read_measurement(self) -> DcMeasurement:
        """Voltage, current, power and the energy registers, now."""

    @abc.abstractmethod
    def read_public_key(self) -> str:
        """The key the meter signs OCMF with (hex DER SubjectPublicKeyInfo, as printed)."""

    @abc.abstractmethod
    def set_time(self, utc: datetime) -> None:
        """Set the meter's clock (its signed readings carry it; unsynchronised ones say so)."""

    @abc.abstractmethod
    def read_last_transaction(self) -> DcTransactionState:
        """The id the station's controller gave the running (or last) legal transaction:
        the key to its OCMF, which need not be the OCPP transaction id."""

    @abc.abstractmethod
    def start_transaction(self, request: DcTransactionRequest) -> DcTransactionStarted:
        """Start a legal transaction; raise unless the meter says it is running."""

    @abc.abstractmethod
    def stop_transaction(self, transaction_id: str) -> DcTransactionStopped:
        """Stop it; raise unless the meter says it is no longer running."""

    @abc.abstractmethod
    def read_ocmf(self, transaction_id: str) -> SignedOcmf:
        """The signed OCMF of a (stopped) transaction; raise if it is not an OCMF record."""
