"""A DC station's Eichrecht path: the legal transaction runs on its signing DC meter.

A DC station with ``capabilities.signed_meter_values`` and a DC meter (``dc_meter``, a
LEM DCBM) does what real DC stations with such a meter do: the meter, not the station,
signs. At the start of a transaction the station sets the meter's clock and starts a legal
transaction on it (``POST /legal``: the id tag as ``clientId``); at the end it stops it
(``PUT /legal``), takes the meter's own OCMF of that transaction -- ONE record holding the
begin (``TX: B``) and end (``TX: E``) readings, signed at stop -- and forwards it unchanged:
on 1.6 in StopTransaction ``transactionData`` (context ``Transaction.End``, format
``SignedData``, measurand ``Energy.Active.Import.Register``), on 2.0.1 as the Ended
event's ``signedMeterValue`` (the 2.0.1 front-end translates it, as for AC). Nothing signed
goes out at the start: the meter signs nothing then.

The station's register *is* the meter's import register (whole Wh), so ``meterStart`` and
``meterStop`` equal the signed begin and end. ``MeterPublicKey[<connector>]`` is the
meter's key. The virtual meter is used in-process (the bench attaches it to the power
stage); the HTTP API it serves is the lab's view of it.

Defects (``virtual.deviations``): ``ocmf_rt_ac`` -- the meter signs ``RT: AC``;
``ocmf_registers_disagree`` -- the station forwards the wrong legal transaction's record:
its controller opens and closes an empty legal transaction before the real one and forwards
that earlier record, not the meter's record of the session.
"""

from __future__ import annotations

import logging
from itertools import count
from typing import TYPE_CHECKING, Any

from hil.sim.station.config_store import KeyDef
from hil.sim.station.eichrecht import MEASURAND, SIGNED_DATA, EichrechtMeter, signs_on_dc_meter
from hil.sim.station.extensions import EXTENSIONS, StationExtension
from hil.verify.ocmf import signed_meter_value

if TYPE_CHECKING:
    from hil.sim.instruments.lem_dcbm import VirtualLemDcbm
    from hil.sim.station.charging import Transaction
    from hil.sim.station.station import VirtualStation

LOG = logging.getLogger("hil.sim.station")

#: ``extra`` keys of a transaction: the meter's legal transaction id, the record forwarded
LEGAL_ID = "dc_legal_id"
FORWARDED = "ocmf_end"
STALE = "dc_stale_ocmf"
#: the longest ``clientId`` the meter takes (drivers.dc_meter.base.CLIENT_ID_MAX_LEN)
CLIENT_ID_MAX_LEN = 37


class DcEichrechtMeter(EichrechtMeter):
    """Runs each transaction's legal transaction on the DC meter and forwards its OCMF.

    A subclass of :class:`EichrechtMeter` so that every front-end (1.6 and 2.0.1) keeps it
    as the station's Eichrecht meter; it shares only the transport and the encoding."""

    def __init__(self, station: VirtualStation) -> None:
        StationExtension.__init__(self, station)
        cfg = station.cfg
        self.enabled = cfg.dut.capabilities.signed_meter_values and signs_on_dc_meter(cfg)
        self.transport = str(cfg.virtual.deviation_options.get("ocmf_transport", "json")).lower()
        self.meters = {}  # the AC signers: none here
        self._ids = count(1)
        if self.enabled:
            # meterStart/meterStop are the legal meter's register, as on a real DC station
            station.charging.meter.legal_register = self.register_wh

    # -- the meter -------------------------------------------------------------------

    def meter(self) -> VirtualLemDcbm | None:
        """The DC meter the bench attached to the power stage (None: not attached)."""
        if not self.enabled:
            return None
        return getattr(self.station.charging.power_stage, "meter", None)

    def register_wh(self) -> float | None:
        """The meter's import register in whole Wh (what it shows and signs), counted up to
        now (the power stage counts per tick; a meter counts continuously)."""
        meter = self.meter()
        if meter is None:
            return None
        settle = getattr(self.station.charging.power_stage, "settle", None)
        if settle is not None:
            settle()
        return float(int(meter.energy_import_wh))

    # -- hooks -----------------------------------------------------------------------

    def power_on(self) -> None:
        meter = self.meter()
        if meter is None:
            return
        if "ocmf_rt_ac" in self.station.deviations:
            meter.current_type = "AC"  # the defect: the meter signs AC readings
        name = f"MeterPublicKey[{self.station.charging.ev_connector}]"
        self.station.nv.config.add_key(KeyDef(name, meter.public_key_hex, readonly=True))
        if meter.transaction_running:  # lost with the power: a controller closes it at boot
            LOG.info("DC meter: closing the legal transaction left running before the boot")
            self._stop(meter, None)

    def transaction_started(self, tx: Transaction) -> None:
        meter = self.meter()
        if meter is None:
            if self.enabled:
                LOG.warning("no DC meter attached: transaction %s is not signed", tx.id_tag)
            return
        try:
            self._begin(meter, tx)
        except Exception:  # the meter refused: the transaction goes on unsigned, as logged
            LOG.exception("DC meter: the legal transaction did not start")

    def transaction_ending(
        self, tx: Transaction, meter_stop: int, stamp: str
    ) -> list[dict[str, Any]]:
        meter = self.meter()
        legal_id = tx.extra.get(LEGAL_ID)
        if meter is None or legal_id is None:
            return []
        try:
            record = self._end(meter, legal_id, meter_stop)
        except Exception:  # the meter refused: nothing signed to forward, as logged
            LOG.exception("DC meter: the legal transaction %s did not stop", legal_id)
            return []
        record = tx.extra.get(STALE, record)  # ocmf_registers_disagree
        tx.extra[FORWARDED] = record
        return [self._signed(meter, record)]

    def _begin(self, meter: VirtualLemDcbm, tx: Transaction) -> None:
        meter.set_time({"time": {"utc": tx.started}})  # refused while a transaction runs
        if meter.transaction_running:
            self._stop(meter, None)
        if "ocmf_registers_disagree" in self.station.deviations:
            stale = self._start(meter, tx, f"{self._legal_id(tx)}-0")
            self._stop(meter, stale)
            tx.extra[STALE] = meter.ocmf(stale)
        legal_id = self._start(meter, tx, self._legal_id(tx))
        tx.extra[LEGAL_ID] = legal_id
        LOG.info("DC meter: legal transaction %s started at %s Wh", legal_id, tx.meter_start)

    def _end(self, meter: VirtualLemDcbm, legal_id: str, meter_stop: int) -> str:
        reply = self._stop(meter, legal_id)
        stop_kwh = reply["meterValue"]["sampleValue"]["energyImportTotalStop"]
        stop_wh = round(float(stop_kwh) * 1000)
        if stop_wh != meter_stop:
            LOG.warning("DC meter stopped at %s Wh, the station says %s Wh", stop_wh, meter_stop)
        LOG.info("DC meter: legal transaction %s stopped at %s Wh", legal_id, stop_wh)
        return meter.ocmf(legal_id)

    # -- helpers ---------------------------------------------------------------------

    def _legal_id(self, tx: Transaction) -> str:
        """The OCPP transaction id when the station has it at the start (2.0.1 chooses its
        own), else one the station's controller makes (1.6 learns it from the answer)."""
        if tx.transaction_id is not None:
            return str(tx.transaction_id)
        return f"{self.station.cfg.dut.station_id}-{next(self._ids)}"

    def _start(self, meter: VirtualLemDcbm, tx: Transaction, legal_id: str) -> str:
        body: dict[str, Any] = {
            "evseId": f"{self.station.cfg.dut.station_id}*{tx.connector}",
            "transactionId": legal_id,
            "clientId": tx.id_tag[:CLIENT_ID_MAX_LEN],
            "tariffId": 0,
            "cableId": 0,
            "userData": "",
        }
        if meter.api_version >= 2:
            body.update({"TT": "", "UV": "", "UD": "", "SC": 0})
        meter.start_transaction(body, meter.api_version)
        return legal_id

    @staticmethod
    def _stop(meter: VirtualLemDcbm, legal_id: str | None) -> dict[str, Any]:
        return meter.stop_transaction(legal_id, {"running": False})

    def _signed(self, meter: VirtualLemDcbm, record: str) -> dict[str, Any]:
        """The meter's record as a 1.6 SignedData SampledValue (the OCA JSON object with the
        meter's key, or the plain text with ``ocmf_transport: text``)."""
        value = (
            record if self.transport == "text" else signed_meter_value(record, meter.public_key_hex)
        )
        return {
            "value": value,
            "context": "Transaction.End",
            "format": SIGNED_DATA,
            "measurand": MEASURAND,
            "location": "Outlet",
        }


if DcEichrechtMeter not in EXTENSIONS:
    EXTENSIONS.append(DcEichrechtMeter)
