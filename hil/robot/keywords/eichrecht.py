"""Eichrecht (step EI1): the station's signed meter readings verify and match the lab.

The signed values of one transaction are taken from the journal -- SignedData
SampledValues in its MeterValues and in StopTransaction ``transactionData`` (2.0.1: the
TransactionEvents' ``signedMeterValue``) -- and checked with
:func:`hil.verify.ocmf.verify_session` against the OCPP figures of the session and the
reference (energy meter, else power analyser), within the lab's energy tolerance. On a DC
station the records are also held against what its signing DC meter itself holds, read
through the ``dc_meter`` driver (:func:`hil.verify.ocmf.meter_record.compare_with_meter`).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from robot.api import logger
from robot.api.deco import keyword
from robot.libraries.BuiltIn import BuiltIn

from drivers.base import InstrumentError
from drivers.dc_meter.base import DcMeter
from hil.csms.journal import CALL, RX, Frame
from hil.robot.context import LabContext
from hil.robot.keywords.capabilities import require_capability
from hil.verdict import LabFault
from hil.verify.ocmf import (
    KeyFormatError,
    SessionVerdict,
    SignedValue,
    load_public_key,
    parse_record,
    verify_session,
)
from hil.verify.ocmf.meter_record import MeterTransaction, compare_with_meter
from hil.verify.ocmf.session import ENERGY_VS_REFERENCE, RECORDS_READABLE

#: where the meter key came from when only the signed values carried it
TRANSPORT_KEY = "publicKey of the signed meter value"
#: where it came from on a DC station whose lab config names none
DC_METER_KEY = "the DC meter itself (dc_meter driver, its publicKeyOcmf)"
#: the reference instruments, the first one the session has wins
REFERENCES = (("reference_wh", "energy_meter"), ("analyser_wh", "power_analyser"))


class EichrechtKeywords:
    def __init__(self, ctx: LabContext) -> None:
        self.ctx = ctx

    # -- keywords --------------------------------------------------------------------

    @keyword
    def require_signed_meter_values(self) -> None:
        """SKIP the test (N/A in the report) when the DUT config says the station does not
        sign its meter values (``dut.capabilities.signed_meter_values: false``)."""
        require_capability(self.ctx.cfg, "signed_meter_values")

    @keyword
    def meter_public_key(self, connector: int = 1) -> str | None:
        """The meter key the lab verifies with: ``dut.meter.public_key`` from the lab config,
        else the station's ``MeterPublicKey[<connector>]`` configuration key (None if
        neither has one)."""
        key, source = self._configured_key(int(connector))
        logger.info(f"Meter public key: {source}")
        return key

    @keyword
    def signed_meter_values_should_verify(self, session: dict[str, Any]) -> dict[str, Any]:
        """The signed readings of ``session`` (as returned by `Run Charging Session`) verify.

        Gathers the transaction's SignedData values (MeterValues with its transactionId,
        StopTransaction ``transactionData``; 2.0.1 ``signedMeterValue``), takes the meter key
        from the lab config, else (DC) from the DC meter itself, else from
        ``MeterPublicKey[<connector>]``, else from the signed value's ``publicKey``. Each
        check and its rule (MUST: fails; SHOULD or only recommended: a remark):

        - both signatures verify (OCMF signature section; Eichrecht: MUST);
        - one begin (``TX=B``) and one end reading (OCMF ``TX``: MUST), in separate records
          or in ONE record: OCMF's ``RD`` is a list, and a transaction's begin and end in
          one dataset is the spec's own single-record form (the SAFE OCPP keys call it
          ``SR`` beside ``MR``; the OCA note's separate Transaction.Begin value is a way to
          send the begin early, not a rule), so one record passes, no remark;
        - same meter serial, register and unit, consecutive pagination, the id tag, meter
          status G, no error flags (OCMF ``MS``/``RI``/``RU``/``PG``/``ID``/``ST``/``EF``:
          MUST; an ``EF`` other than ``E`` is a remark);
        - clock synchronised (OCMF ``TM`` status ``S``: SHOULD, a remark);
        - every reading's ``RT`` is the station's current type (``dut.current_type``): an
          OCMF reading saying AC on a DC station fails (Eichrecht / PTB-A 50.7: a DC charge
          is billed from a DC meter; OCMF field ``RT``: MUST); a reading without ``RT``
          is a remark;
        - signed begin/end = meterStart/meterStop (OCPP 1.6 §6.47/§6.48 with the OCA note;
          2.0.1 E06: MUST);
        - signed energy = the reference within the lab's tolerance plus both resolutions:
          the energy meter, else (a DC bench) the power analyser (PTB-A 50.7 maximum
          permissible error: MUST); a bench without either is a remark.

        On a DC station (``dut.current_type: DC``) also, read through the ``dc_meter``
        driver (the meter's last legal transaction and its OCMF), each a MUST:
        the meter's legal transaction has ended; the forwarded record is the meter's own
        record of it, byte for byte (the station only transmits it: PTB-A 50.7); the
        forwarded begin/end and meterStart/meterStop are the meter's own registers. A DC
        meter that cannot be read (unreachable, malformed JSON or OCMF) is a lab error
        naming its role and address, never the station's failure.

        Fails naming every violated check. Returns the figures.
        """
        self.require_signed_meter_values()
        for field in ("transaction_id", "meter_start", "meter_stop", "start_seq", "stop_seq"):
            if session.get(field) is None:
                raise AssertionError(f"The session has no {field}; has it stopped? ({session})")
        tx_id = session["transaction_id"]
        connector = self._connector(session)
        values = self._signed_values(session, connector)
        logger.info(self._describe_values(tx_id, values), html=False)

        unreadable = [
            f"{v.source} {v.context}: {v.extracted.error}" for v in values if not v.extracted.ok
        ]
        texts = [v.extracted.text for v in values if v.extracted.text is not None]
        dc = self.ctx.cfg.dut.current_type == "DC"
        dc_meter = self._dc_meter() if dc else None
        key, key_source = self._configured_key(connector, dc_meter)
        transport_keys = [v.extracted.public_key for v in values if v.extracted.public_key]
        if key is None and transport_keys:
            key, key_source = transport_keys[0], TRANSPORT_KEY
        logger.info(f"Meter public key from {key_source}: {key}")

        pct, extra_wh = self.ctx.cfg.energy_tolerance()
        reference, reference_source = _reference(session)
        tolerance_wh = extra_wh + self._signed_resolution_wh(texts)
        if reference_source == "energy_meter":
            tolerance_wh += self._reference_resolution_wh()
        tolerance_wh = round(tolerance_wh, 3)
        verdict = verify_session(
            texts,
            key,
            id_tag=session.get("id_tag"),
            meter_start_wh=session["meter_start"],
            meter_stop_wh=session["meter_stop"],
            reference_wh=reference,
            tolerance_percent=pct,
            tolerance_wh=tolerance_wh,
            current_type=self.ctx.cfg.dut.current_type,
            title=(
                f"OCMF session: transaction {tx_id} (key: {key_source}; reference: "
                f"{reference_source or 'none'}; energy tolerance {pct:g} % + "
                f"{tolerance_wh:g} Wh)"
            ),
        )
        held: MeterTransaction | None = None
        if dc_meter is not None:
            held = self._meter_transaction(dc_meter, tx_id)
            verdict.checks += compare_with_meter(
                texts,
                held,
                meter_start_wh=session["meter_start"],
                meter_stop_wh=session["meter_stop"],
            )
        logger.info(verdict.render(), html=False)
        self.ctx.record_evidence(
            "eichrecht",
            transaction_id=tx_id,
            title=verdict.title,
            signed_energy_wh=(
                None if verdict.signed_energy_wh is None else float(verdict.signed_energy_wh)
            ),
            reference_wh=reference,
            reference_source=reference_source,
            current_type=self.ctx.cfg.dut.current_type,
            dc_meter_transaction=held.transaction_id if held is not None else None,
            tolerance_percent=pct,
            tolerance_wh=tolerance_wh,
            checks=[
                {"name": c.name, "status": c.status.name, "detail": c.detail}
                for c in verdict.checks
            ],
        )
        self._remarks(verdict, reference, key, transport_keys)
        problem = self.ctx.lab.instrument_problem("energy_meter")
        if problem is not None and reference_source == "power_analyser":
            BuiltIn().run_keyword(
                "Record Remark",
                "EI1: the signed energy was compared with the power analyser; the energy "
                f"meter cannot be used: {problem}",
            )
        if key_source == TRANSPORT_KEY:
            BuiltIn().run_keyword(
                "Record Remark",
                "EI1: the meter's public key came only with the signed values themselves "
                "(the station publishes none elsewhere and the lab config names no "
                "dut.meter.public_key): the signatures prove the readings are unchanged, "
                "not which meter made them",
            )

        failed = [f"{c.name}: {c.detail}" for c in verdict.failed]
        if unreadable:
            failed.insert(0, f"{RECORDS_READABLE}: " + "; ".join(unreadable))
        if failed:
            frames = [f"#{seq}" for seq in sorted(self._value_frames(session, connector))]
            raise AssertionError(
                f"Signed meter values of transaction {tx_id} do not verify: "
                + " | ".join(failed)
                + f" (signed values from frames {', '.join(frames)})"
            )
        return {
            "signed_energy_wh": _float(verdict.signed_energy_wh),
            "signed_begin_wh": _float(verdict.begin.value_wh if verdict.begin else None),
            "signed_end_wh": _float(verdict.end.value_wh if verdict.end else None),
            "reference_wh": reference,
            "reference_source": reference_source,
            "key_source": key_source,
            "records": len(verdict.records),
            "dc_meter_transaction": held.transaction_id if held is not None else None,
        }

    # -- gathering -------------------------------------------------------------------

    def _connector(self, session: dict[str, Any]) -> int:
        if session.get("connector") is not None:
            return int(session["connector"])
        start = self.ctx.journal.frame(int(session["start_seq"]))
        facts = self.ctx.protocol.transaction_facts(start.action or "", start.payload or {})
        return int(facts.connector) if facts and facts.connector is not None else 1

    def _belongs(self, frame: Frame, tx_id: Any, connector: int) -> bool:
        """A message of the transaction; a reading sent before the station knew the
        transaction id (1.6 MeterValues without transactionId) by its connector."""
        protocol = self.ctx.protocol
        if (
            frame.dir != RX
            or frame.kind != CALL
            or frame.action not in protocol.transaction_actions
        ):
            return False
        facts = protocol.transaction_facts(frame.action or "", frame.payload or {})
        if facts is None:
            return False
        if facts.transaction_id is not None:
            return facts.transaction_id == tx_id
        return facts.connector == connector

    def _value_frames(self, session: dict[str, Any], connector: int) -> dict[int, Frame]:
        """The transaction's messages with signed readings, from its start (a 2.0.1 Started
        event may carry the signed begin) to its end, which is always included."""
        start, stop = int(session["start_seq"]), int(session["stop_seq"])
        protocol = self.ctx.protocol
        frames = {
            f.seq: f
            for f in self.ctx.journal.frames(start - 1, stop)
            if self._belongs(f, session["transaction_id"], connector)
            and protocol.signed_values(f.action or "", f.payload or {})
        }
        frames[stop] = self.ctx.journal.frame(stop)
        return frames

    def _signed_values(self, session: dict[str, Any], connector: int) -> list[SignedValue]:
        frames = self._value_frames(session, connector)
        stop = frames[int(session["stop_seq"])]
        protocol = self.ctx.protocol
        facts = protocol.transaction_facts(stop.action or "", stop.payload or {})
        if facts is None or facts.event != "ended":
            raise AssertionError(
                f"stop_seq {stop.seq} is not a {protocol.end_label}: {stop.describe()}"
            )
        values: list[SignedValue] = []
        for seq in sorted(frames):
            frame = frames[seq]
            values += protocol.signed_values(frame.action or "", frame.payload or {})
        return values

    def _configured_key(
        self, connector: int, dc_meter: DcMeter | None = None
    ) -> tuple[str | None, str]:
        configured = self.ctx.cfg.dut.meter.public_key
        if configured:
            return configured, "the lab config (dut.meter.public_key)"
        if dc_meter is not None:
            try:
                return dc_meter.read_public_key(), DC_METER_KEY
            except InstrumentError as exc:
                raise LabFault(f"EI1 cannot read the DC meter's public key: {exc}") from None
        try:
            return self.ctx.protocol.meter_public_key(self.ctx.lab.call, connector)
        except (AssertionError, TimeoutError) as exc:
            logger.warn(f"Reading the meter's public key failed: {exc}")
            return None, f"nowhere (reading the station's meter key failed: {exc})"

    # -- the DC meter ------------------------------------------------------------------

    def _dc_meter(self) -> DcMeter | None:
        """The bench's DC meter driver; a lab error when it is configured but cannot be
        used; None (a remark) when the bench has none."""
        lab = self.ctx.lab
        problem = lab.instrument_problem("dc_meter")
        if problem is not None:
            raise LabFault(f"EI1 needs the DC meter, but {problem}")
        meter = lab.instrument("dc_meter")
        if meter is None:
            BuiltIn().run_keyword(
                "Record Remark",
                "EI1: the bench has no DC meter (instruments.dc_meter), so the OCMF the DC "
                "station forwarded was not held against the meter's own record",
            )
            return None
        if not isinstance(meter, DcMeter):
            raise LabFault(f"instruments.dc_meter is a {type(meter).__name__}, not a DC meter")
        return meter

    def _meter_transaction(self, meter: DcMeter, tx_id: Any) -> MeterTransaction:
        """The meter's last legal transaction and its OCMF, read through the driver (the
        meter's id need not be the OCPP id: a 1.6 station names it before the back office
        gives one)."""
        try:
            last = meter.read_last_transaction()
            ocmf = None
            if last.transaction_id and not last.running:
                ocmf = meter.read_ocmf(last.transaction_id).text
        except InstrumentError as exc:
            raise LabFault(f"EI1 cannot read the DC meter's transaction: {exc}") from None
        same = "the OCPP id" if last.transaction_id == str(tx_id) else f"OCPP id {tx_id}"
        logger.info(
            f"DC meter's last legal transaction: {last.transaction_id!r} ({same}; "
            f"running: {last.running})\n{ocmf or 'no OCMF'}",
            html=False,
        )
        return MeterTransaction(last.transaction_id, last.running, ocmf)

    # -- tolerances ------------------------------------------------------------------

    def _signed_resolution_wh(self, texts: list[str]) -> float:
        """The coarser of the DUT's declared register resolution and the signed values'."""
        resolution = Decimal(str(self.ctx.cfg.dut.meter.register_resolution_wh))
        for text in texts:
            record = parse_record(text).record
            for reading in record.readings if record else []:
                if reading.resolution_wh is not None:
                    resolution = max(resolution, reading.resolution_wh)
        return float(resolution)

    def _reference_resolution_wh(self) -> float:
        """Two steps of the reference meter's register (one at each end of the window)."""
        meter = self.ctx.lab.instrument("energy_meter")
        resolution = getattr(meter, "energy_resolution_wh", None)
        if meter is None or resolution is None:
            return 0.0
        try:
            reading = meter.read_energy_wh()  # type: ignore[attr-defined]
        except InstrumentError as exc:
            logger.warn(f"Reference meter resolution unknown: {exc}")
            return 0.0
        return 2 * float(resolution(reading))

    # -- reporting -------------------------------------------------------------------

    def _remarks(
        self,
        verdict: SessionVerdict,
        reference: float | None,
        key: str | None,
        transport_keys: list[str],
    ) -> None:
        remarks: list[str] = []
        for check in verdict.remarks:
            if check.name == ENERGY_VS_REFERENCE and reference is None:
                remarks.append(
                    "EI1: the bench has no reference energy meter or power analyser, so the "
                    "signed energy was not compared with a reference (the other checks "
                    "still ran)"
                )
            else:
                remarks.append(f"EI1 {check.name}: {check.detail}")
        if key is not None and any(not _same_key(key, k) for k in transport_keys):
            remarks.append(
                "EI1: the publicKey sent with the signed values differs from the key the "
                "lab verified with"
            )
        for text in remarks:
            BuiltIn().run_keyword("Record Remark", text)

    @staticmethod
    def _describe_values(tx_id: Any, values: list[SignedValue]) -> str:
        lines = [f"Signed values of transaction {tx_id}: {len(values)}"]
        for v in values:
            where = f"  {v.source} {v.context} ({v.extracted.transport})"
            lines.append(f"{where}: {v.extracted.text or v.extracted.error}")
        return "\n".join(lines)


def _reference(session: dict[str, Any]) -> tuple[float | None, str | None]:
    """The session's reference energy and its instrument: the energy meter's, else the
    power analyser's (a DC bench has no AC energy meter)."""
    for key, role in REFERENCES:
        if session.get(key) is not None:
            return float(session[key]), role
    return None, None


def _same_key(a: str, b: str) -> bool:
    try:
        ka, kb = load_public_key(a), load_public_key(b)
    except KeyFormatError:
        return False
    return ka.point == kb.point and (ka.curve is None or kb.curve is None or ka.curve == kb.curve)


def _float(value: Decimal | None) -> float | None:
    return None if value is None else float(value)
