"""Find the signed sessions in a saved OCPP journal (pure: lines in, sessions out).

The journal has one JSON object per line: ``seq``, ``wall``, ``mono``, ``station``,
``dir`` (``rx`` = station to back office, ``tx`` = back office to station, ``event``),
``raw`` (the OCPP-J frame text), ``kind``, ``action`` (for a CALLRESULT: the action of
the CALL it answers) and ``unique_id``. Event lines and empty frames are skipped.

A session is everything of one ``transactionId`` at one station: the StartTransaction
(id tag, meterStart, connector), MeterValues and StopTransaction (meterStop,
transactionData), and the signed values they carry; on OCPP 2.0.1 its TransactionEvents
(Started: Transaction.Begin register, Ended: Transaction.End register, signedMeterValue
readings in any of them). Meter keys come from
GetConfiguration answers holding ``MeterPublicKey[<n>]``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from hil.verify.meter_values import context_register_wh
from hil.verify.ocmf.transport import (
    SignedValue,
    meter_public_keys,
    signed_values_from_meter_values,
    signed_values_from_stop_transaction,
    signed_values_from_transaction_event,
)

CALL, CALLRESULT, CALLERROR = 2, 3, 4


@dataclass
class JournalSession:
    station: str
    transaction_id: int | str
    connector_id: int | None = None
    id_tag: str | None = None
    meter_start_wh: int | None = None
    meter_stop_wh: int | None = None
    stop_reason: str | None = None
    signed_values: list[SignedValue] = field(default_factory=list)

    @property
    def label(self) -> str:
        station = f"{self.station} " if self.station else ""
        return f"{station}transaction {self.transaction_id}"


@dataclass
class JournalScan:
    sessions: list[JournalSession]
    meter_keys: dict[str, dict[int, str]]  # station -> connector -> MeterPublicKey value
    loose_values: list[tuple[str, SignedValue]]  # signed values outside any transaction
    skipped: list[str]  # lines that could not be read, with the reason

    def key_for(self, session: JournalSession) -> tuple[str | None, str]:
        """The meter key for a session and where it came from (None when there is none).

        Order: a publicKey sent with the session's signed values, then
        ``MeterPublicKey[<connector>]``, then the station's only MeterPublicKey.
        """
        for value in session.signed_values:
            if value.extracted.public_key:
                return value.extracted.public_key, "publicKey of the signed meter value"
        keys = self.meter_keys.get(session.station, {})
        if session.connector_id is not None and session.connector_id in keys:
            return keys[session.connector_id], f"MeterPublicKey[{session.connector_id}]"
        distinct = set(keys.values())
        if len(distinct) == 1:
            connector = next(iter(keys))
            return distinct.pop(), f"MeterPublicKey[{connector}]"
        return None, "no key in the journal"


def scan_journal(lines: Iterable[str]) -> JournalScan:
    """Read journal lines; unreadable lines are listed in ``skipped``, never raised."""
    sessions: dict[tuple[str, Any], JournalSession] = {}
    keys: dict[str, dict[int, str]] = {}
    loose: list[tuple[str, SignedValue]] = []
    skipped: list[str] = []
    pending: dict[tuple[str, str], tuple[str, dict[str, Any]]] = {}  # uid -> (action, payload)

    def session(station: str, tx_id: Any) -> JournalSession:
        key = (station, tx_id)
        if key not in sessions:
            sessions[key] = JournalSession(station, tx_id)
        return sessions[key]

    for number, line in enumerate(lines, 1):
        line = line.strip()
        if not line:
            continue
        try:
            entry = json.loads(line)
        except ValueError as exc:
            skipped.append(f"line {number}: not JSON ({exc})")
            continue
        if not isinstance(entry, dict) or entry.get("dir") == "event" or not entry.get("raw"):
            continue
        try:
            frame = json.loads(entry["raw"])
        except (TypeError, ValueError) as exc:
            skipped.append(f"line {number}: raw is not an OCPP-J frame ({exc})")
            continue
        if not isinstance(frame, list) or len(frame) < 3 or frame[0] not in (2, 3, 4):
            skipped.append(f"line {number}: raw is not an OCPP-J frame")
            continue
        station = str(entry.get("station") or "")
        uid = str(frame[1])
        if frame[0] == CALL:
            if len(frame) < 4 or not isinstance(frame[3], dict):
                skipped.append(f"line {number}: CALL without a payload object")
                continue
            action, payload = str(frame[2]), frame[3]
            pending[(station, uid)] = (action, payload)
            if entry.get("dir") != "rx":
                continue
            if action == "MeterValues":
                for value in signed_values_from_meter_values(payload):
                    if value.transaction_id is None:
                        loose.append((station, value))
                    else:
                        s = session(station, value.transaction_id)
                        if s.connector_id is None:
                            s.connector_id = _int(payload.get("connectorId"))
                        s.signed_values.append(value)
            elif action == "TransactionEvent":
                _transaction_event(payload, session, station)
            elif action == "StopTransaction" and "transactionId" in payload:
                s = session(station, payload["transactionId"])
                s.meter_stop_wh = _int(payload.get("meterStop"))
                s.stop_reason = payload.get("reason")
                if s.id_tag is None and isinstance(payload.get("idTag"), str):
                    s.id_tag = payload["idTag"]
                s.signed_values.extend(signed_values_from_stop_transaction(payload))
        elif frame[0] == CALLRESULT:
            call = pending.pop((station, uid), None)
            action = str(entry.get("action") or (call[0] if call else ""))
            result = frame[2] if isinstance(frame[2], dict) else {}
            if action == "StartTransaction" and call is not None and "transactionId" in result:
                request = call[1]
                s = session(station, result["transactionId"])
                s.connector_id = _int(request.get("connectorId"))
                s.id_tag = request.get("idTag") if isinstance(request.get("idTag"), str) else None
                s.meter_start_wh = _int(request.get("meterStart"))
            elif action == "GetConfiguration" and entry.get("dir") == "rx":
                found = meter_public_keys(result.get("configurationKey") or [])
                keys.setdefault(station, {}).update(found)
        else:
            pending.pop((station, uid), None)
    return JournalScan(list(sessions.values()), keys, loose, skipped)


def _transaction_event(
    payload: dict[str, Any], session: Callable[[str, Any], JournalSession], station: str
) -> None:
    """OCPP 2.0.1: every TransactionEvent names its transaction; Started carries the
    Transaction.Begin register (or a later event the idToken), Ended the Transaction.End
    register and stoppedReason; any event may carry signedMeterValue readings."""
    info = payload.get("transactionInfo")
    if not isinstance(info, dict) or info.get("transactionId") is None:
        return
    s = session(station, info["transactionId"])
    evse = payload.get("evse")
    if s.connector_id is None and isinstance(evse, dict):
        s.connector_id = _int(evse.get("id"))
    token = payload.get("idToken")
    if s.id_tag is None and isinstance(token, dict) and isinstance(token.get("idToken"), str):
        s.id_tag = token["idToken"]
    event = payload.get("eventType")
    if event == "Started":
        s.meter_start_wh = _register_wh(payload, "Transaction.Begin")
    elif event == "Ended":
        s.meter_stop_wh = _register_wh(payload, "Transaction.End")
        s.stop_reason = info.get("stoppedReason")
    s.signed_values.extend(signed_values_from_transaction_event(payload))


def _register_wh(payload: dict[str, Any], context: str) -> int | None:
    """The energy register (whole Wh) of the ``context`` reading of a 2.0.1 event."""
    wh = context_register_wh(payload, context)
    return None if wh is None else round(wh)


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None
