"""The typed view of an OCMF record.

The record keeps its exact text (``raw``) and the exact bytes the signature covers
(``payload_bytes``); everything else is a reading of those bytes that never feeds back
into them. Values are :class:`decimal.Decimal` built from the literal text, so a
reading of ``100.000`` kWh stays exactly that, with its resolution.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

ENERGY_UNITS_TO_WH = {"kWh": Decimal(1000), "Wh": Decimal(1)}
END_TRANSACTION_CODES = frozenset("ELRAP")


@dataclass(frozen=True)
class Deviation:
    """A departure from the OCMF specification that does not stop the record being read.

    ``kind`` uses the names of the public OCMF conformance suite (e.g.
    ``MeterSerialMissing``) so results can be compared with other implementations.
    """

    kind: str
    where: str = ""
    detail: str = ""

    def __str__(self) -> str:
        text = self.kind
        if self.where:
            text += f" at {self.where}"
        if self.detail:
            text += f" ({self.detail})"
        return text


@dataclass
class OcmfReading:
    """One entry of ``RD`` after carry-forward (fields omitted repeat the previous reading)."""

    index: int
    time: datetime | None = None
    time_text: str | None = None  # TM as written (or carried)
    time_status: str | None = None  # Tab. 19 letter: U, I, S, R
    transaction: str | None = None  # TX
    value: Decimal | None = None  # RV, exact
    value_text: str | None = None  # RV literal as written
    obis: str | None = None  # RI
    unit: str | None = None  # RU
    current_type: str | None = None  # RT
    cumulated_loss: Decimal | None = None  # CL
    error_flags: str = ""  # EF
    status: str | None = None  # ST
    carried: frozenset[str] = frozenset()  # fields taken from the previous reading
    written: frozenset[str] = frozenset()  # fields this reading wrote itself
    extensions: dict[str, Any] = field(default_factory=dict)

    @property
    def resolution(self) -> Decimal | None:
        """The smallest step the written value can express, in its own unit."""
        if self.value is None:
            return None
        exponent = self.value.as_tuple().exponent
        if not isinstance(exponent, int):
            return None
        return Decimal(1).scaleb(exponent)

    @property
    def value_wh(self) -> Decimal | None:
        """The value in Wh (exact), or None when the unit is not an energy unit."""
        factor = ENERGY_UNITS_TO_WH.get(self.unit or "")
        if self.value is None or factor is None:
            return None
        return self.value * factor

    @property
    def resolution_wh(self) -> Decimal | None:
        factor = ENERGY_UNITS_TO_WH.get(self.unit or "")
        res = self.resolution
        if res is None or factor is None:
            return None
        return res * factor

    @property
    def billable(self) -> bool:
        """Meter OK, no error flag, an energy unit, and a value to bill."""
        return (
            self.status == "G"
            and not self.error_flags
            and self.unit in ENERGY_UNITS_TO_WH
            and self.value is not None
        )

    @property
    def is_begin(self) -> bool:
        return self.transaction == "B"

    @property
    def is_end(self) -> bool:
        return self.transaction is not None and self.transaction in END_TRANSACTION_CODES


@dataclass
class OcmfRecord:
    """One ``OCMF|payload|signature`` record, read without disturbing its bytes."""

    raw: str
    payload_text: str
    signature_text: str
    payload: dict[str, Any]
    signature: dict[str, Any]
    public_key_section: str | None = None  # the withdrawn fourth section, if any
    # General, pagination, meter (Tab. 1-3)
    format_version: str | None = None
    gateway_id: str | None = None
    gateway_serial: str | None = None
    gateway_version: str | None = None
    pagination: str | None = None
    meter_vendor: str | None = None
    meter_model: str | None = None
    meter_serial: str | None = None
    meter_firmware: str | None = None
    # User assignment (Tab. 4)
    id_status: bool | None = None
    id_level: str | None = None
    id_flags: list[str] | None = None
    id_type: str | None = None
    id_data: str | None = None
    tariff_text: str | None = None
    # EVSE metrology and charge point (Tab. 5-6)
    charge_controller_version: str | None = None
    loss_compensation: dict[str, Any] | None = None
    charge_point_type: str | None = None
    charge_point_id: str | None = None
    readings: list[OcmfReading] = field(default_factory=list)
    # Signature section (Tab. 8)
    algorithm_text: str | None = None  # SA as written; None when defaulted
    algorithm: str | None = None  # the algorithm in force, in Tab. 22 spelling
    signature_encoding: str = "hex"  # SE in force
    signature_mime: str = "application/x-der"  # SM in force
    signature_data_text: str | None = None  # SD as written
    signature_bytes: bytes | None = None  # SD decoded, None when absent/undecodable
    deviations: list[Deviation] = field(default_factory=list)

    @property
    def payload_bytes(self) -> bytes:
        """Exactly the bytes the signature covers: the payload section as written."""
        return self.payload_text.encode("utf-8")

    def to_text(self) -> str:
        """The record as text; identical to what was read."""
        return self.raw

    @property
    def pagination_context(self) -> str | None:
        pg = self.pagination or ""
        return pg[0] if pg[:1].isalpha() and pg[1:].isdigit() else None

    @property
    def pagination_counter(self) -> int | None:
        pg = self.pagination or ""
        return int(pg[1:]) if pg[:1].isalpha() and pg[1:].isdigit() else None

    @property
    def billable_readings(self) -> list[OcmfReading]:
        return [r for r in self.readings if r.billable]


@dataclass(frozen=True)
class ParseResult:
    """The outcome of reading a text: a record, or why there is none."""

    record: OcmfRecord | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.record is not None
