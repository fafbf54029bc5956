"""The virtual station's Eichrecht meter: signed begin and end readings in OCMF.

When the DUT config says ``capabilities.signed_meter_values``, each connector's meter
signs the register at the start of a transaction (``TX=B``, value = ``meterStart``) and at
its end (``TX=E``, value = ``meterStop``), identification = the idTag. The readings travel
as OCPP 1.6 SampledValues with format ``SignedData``: the begin in a MeterValues at once
(context ``Transaction.Begin``), the end in StopTransaction ``transactionData`` (context
``Transaction.End``). The value is, as the OCA application note "Signed Meter Values in
OCPP" recommends, the JSON signed-meter-value object (``signedMeterData`` = base64 OCMF,
``encodingMethod`` OCMF, ``publicKey``); ``deviation_options.ocmf_transport: text`` sends
the plain OCMF text instead.

Each meter's public key is the read-only configuration key ``MeterPublicKey[<connector>]``
(hex DER SubjectPublicKeyInfo). Keys are made when the station is created (P-256, or
``deviation_options.ocmf_curve``), or taken from ``deviation_options.ocmf_private_key_hex``
(a hex scalar or hex DER private key). The pagination counter lives in this object, which
lives as long as the station: it survives reboots, as a meter's own counter does.

The ``ocmf_*`` deviations of step EI1 change what the meter signs, each one defect.
A DC station with a DC meter signs nothing itself: its meter does
(:mod:`hil.sim.station.dc_eichrecht`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from hil.sim.station.config_store import KeyDef
from hil.sim.station.extensions import EXTENSIONS, StationExtension
from hil.verify.ocmf import (
    OcmfSigner,
    generate_private_key,
    private_key_from_scalar,
    tamper_signature,
)

if TYPE_CHECKING:
    from hil.lab.config import LabConfig
    from hil.sim.station.charging import Transaction
    from hil.sim.station.station import VirtualStation

LOG = logging.getLogger("hil.sim.station")

SIGNED_DATA = "SignedData"
MEASURAND = "Energy.Active.Import.Register"
TRANSPORTS = ("json", "text")
#: The factor ``ocmf_energy_off`` applies to the signed energy of a session.
ENERGY_OFF_FACTOR = 1.05
#: What ``ocmf_end_mismatch`` adds to the signed end reading (Wh).
END_MISMATCH_WH = 5


@dataclass
class SigningMeter:
    """One connector's Eichrecht meter: its signer and its pagination counter."""

    connector: int
    signer: OcmfSigner
    pagination: int = 0  # the last PG counter used (non-volatile)

    def next_page(self, skip: int = 0) -> int:
        self.pagination += 1 + skip
        return self.pagination


def signs_on_dc_meter(cfg: LabConfig) -> bool:
    """A DC station whose bench has a DC meter: that meter signs, not the station."""
    return cfg.dut.current_type == "DC" and cfg.instruments.dc_meter is not None


def load_private_key(text: str, curve: str = "secp256r1") -> ec.EllipticCurvePrivateKey:
    """A private key from hex: a bare scalar, or DER (PKCS#8 or SEC1)."""
    compact = "".join(text.split()).removeprefix("0x")
    raw = bytes.fromhex(compact)
    if raw[:1] == b"\x30" and len(raw) > 70:
        key = serialization.load_der_private_key(raw, password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ValueError("ocmf_private_key_hex: not an EC private key")
        return key
    return private_key_from_scalar(int.from_bytes(raw, "big"), curve)


class EichrechtMeter(StationExtension):
    """Signs transaction begin/end readings in OCMF and sends them over OCPP."""

    def __init__(self, station: VirtualStation) -> None:
        super().__init__(station)
        cfg = station.cfg
        # a DC station with a DC meter: the meter signs (hil.sim.station.dc_eichrecht)
        self.enabled = cfg.dut.capabilities.signed_meter_values and not signs_on_dc_meter(cfg)
        options = cfg.virtual.deviation_options
        self.transport = str(options.get("ocmf_transport", "json")).lower()
        if self.transport not in TRANSPORTS:
            raise ValueError(
                f"virtual.deviation_options.ocmf_transport must be one of "
                f"{', '.join(TRANSPORTS)}, got {self.transport!r}"
            )
        self.meters: dict[int, SigningMeter] = {}
        if not self.enabled:
            return
        curve = str(options.get("ocmf_curve", "secp256r1"))
        fixed = options.get("ocmf_private_key_hex")
        base_serial = cfg.dut.serial or cfg.dut.station_id
        # RT: the current the station delivers (ocmf_rt_ac: a DC station's meter says AC)
        current_type = "AC" if "ocmf_rt_ac" in station.deviations else cfg.dut.current_type
        for connector in range(1, station.n_connectors + 1):
            key = load_private_key(str(fixed), curve) if fixed else generate_private_key(curve)
            signer = OcmfSigner(
                key,
                meter_serial=f"{base_serial}-M{connector}",
                gateway_id=cfg.dut.station_id,
                gateway_serial=cfg.dut.serial,
                gateway_version=cfg.dut.firmware,
                current_type=current_type,
            )
            self.meters[connector] = SigningMeter(connector, signer)
            station.nv.config.add_key(
                KeyDef(f"MeterPublicKey[{connector}]", signer.public_key_hex, readonly=True)
            )

    # -- hooks -----------------------------------------------------------------------

    def transaction_started(self, tx: Transaction) -> None:
        meter = self.meters.get(tx.connector)
        if meter is None:
            return
        page = meter.next_page()
        record = meter.signer.begin(tx.meter_start, _when(tx.started), tx.id_tag, page)
        tx.extra["ocmf_begin"] = record
        value = {
            "timestamp": tx.started,
            "sampledValue": [self._sampled(meter, record, "Transaction.Begin")],
        }
        LOG.info("connector %s: signed begin %s Wh (PG T%s)", tx.connector, tx.meter_start, page)
        self.station.charging.send_meter_values(tx.connector, tx, [value])

    def transaction_ending(
        self, tx: Transaction, meter_stop: int, stamp: str
    ) -> list[dict[str, Any]]:
        meter = self.meters.get(tx.connector)
        if meter is None:
            return []
        dev = self.station.deviations
        page = meter.next_page(skip=1 if "ocmf_pagination_gap" in dev else 0)
        signed_wh = meter_stop
        if "ocmf_end_mismatch" in dev:
            signed_wh = meter_stop + END_MISMATCH_WH
        if "ocmf_energy_off" in dev:
            energy = max(0, meter_stop - tx.meter_start)
            signed_wh = tx.meter_start + round(energy * ENERGY_OFF_FACTOR)
        serial = None
        if "ocmf_serial_changed" in dev:
            serial = meter.signer.meter_serial + "-X"
        record = meter.signer.end(
            signed_wh,
            _when(stamp),
            tx.id_tag,
            page,
            status="T" if "ocmf_status_not_ok" in dev else "G",
            meter_serial=serial,
        )
        if "ocmf_bad_signature" in dev:
            record = tamper_signature(record)
        tx.extra["ocmf_end"] = record
        LOG.info("connector %s: signed end %s Wh (PG T%s)", tx.connector, signed_wh, page)
        return [self._sampled(meter, record, "Transaction.End")]

    # -- encoding --------------------------------------------------------------------

    def _sampled(self, meter: SigningMeter, record: str, context: str) -> dict[str, Any]:
        value = record if self.transport == "text" else meter.signer.signed_meter_value(record)
        return {
            "value": value,
            "context": context,
            "format": SIGNED_DATA,
            "measurand": MEASURAND,
            "location": "Outlet",
        }


def _when(stamp: str) -> datetime:
    """The station's ISO timestamp (``...Z``) as an aware datetime."""
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


if EichrechtMeter not in EXTENSIONS:
    EXTENSIONS.append(EichrechtMeter)

# the DC station's Eichrecht meter, a subclass: registers itself once this module is done
from hil.sim.station import dc_eichrecht  # noqa: E402, F401
