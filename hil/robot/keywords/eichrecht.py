"""Eichrecht (step EI1): the station's signed meter readings verify and match the lab.

The signed values of one transaction are taken from the journal -- SignedData
SampledValues in its MeterValues and in StopTransaction ``transactionData`` -- and checked
with :func:`hil.verify.ocmf.verify_session` against the OCPP figures of the session and the
reference meter, within the lab's energy tolerance.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from robot.api import logger
from robot.api.deco import keyword
from robot.libraries.BuiltIn import BuiltIn

from drivers.base import InstrumentError
from hil.csms.journal import CALL, RX, Frame
from hil.robot.context import LabContext
from hil.robot.keywords.capabilities import require_capability
from hil.verify.ocmf import (
    KeyFormatError,
    SessionVerdict,
    SignedValue,
    load_public_key,
    parse_record,
    verify_session,
)
from hil.verify.ocmf.session import ENERGY_VS_REFERENCE, RECORDS_READABLE

#: where the meter key came from when only the signed values carried it
TRANSPORT_KEY = "publicKey of the signed meter value"


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
        StopTransaction ``transactionData``), takes the meter key from the lab config, else
        from ``MeterPublicKey[<connector>]``, else from the signed value's ``publicKey``,
        and checks: both signatures, one begin and one end, same serial / register / unit,
        consecutive pagination, the id tag, meter status G, no error flags, the signed
        begin/end against meterStart/meterStop, and the signed energy against the
        reference meter within the lab's tolerance (plus the resolutions of both
        registers). A time status other than synchronised, or a bench without a reference
        meter, is a remark. Fails naming every violated check. Returns the figures.
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
        key, key_source = self._configured_key(connector)
        transport_keys = [v.extracted.public_key for v in values if v.extracted.public_key]
        if key is None and transport_keys:
            key, key_source = transport_keys[0], TRANSPORT_KEY
        logger.info(f"Meter public key from {key_source}: {key}")

        pct, extra_wh = self.ctx.cfg.energy_tolerance()
        reference = session.get("reference_wh")
        tolerance_wh = extra_wh + self._signed_resolution_wh(texts)
        if reference is not None:
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
            title=(
                f"OCMF session: transaction {tx_id} (key: {key_source}; energy tolerance "
                f"{pct:g} % + {tolerance_wh:g} Wh)"
            ),
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
            tolerance_percent=pct,
            tolerance_wh=tolerance_wh,
            checks=[
                {"name": c.name, "status": c.status.name, "detail": c.detail}
                for c in verdict.checks
            ],
        )
        self._remarks(verdict, reference, key, transport_keys)
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
            "key_source": key_source,
            "records": len(verdict.records),
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

    def _configured_key(self, connector: int) -> tuple[str | None, str]:
        configured = self.ctx.cfg.dut.meter.public_key
        if configured:
            return configured, "the lab config (dut.meter.public_key)"
        try:
            return self.ctx.protocol.meter_public_key(self.ctx.lab.call, connector)
        except (AssertionError, TimeoutError) as exc:
            logger.warn(f"Reading the meter's public key failed: {exc}")
            return None, f"nowhere (reading the station's meter key failed: {exc})"

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
                    "EI1: the bench has no reference energy meter, so the signed energy "
                    "was not compared with a reference (the other checks still ran)"
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


def _same_key(a: str, b: str) -> bool:
    try:
        ka, kb = load_public_key(a), load_public_key(b)
    except KeyFormatError:
        return False
    return ka.point == kb.point and (ka.curve is None or kb.curve is None or ka.curve == kb.curve)


def _float(value: Decimal | None) -> float | None:
    return None if value is None else float(value)
