"""The station model's charging-session messages as OCPP 2.0.1 (E01–E07, E12, C01).

The one station model (``hil/sim/station/charging.py``) speaks 1.6's Authorize,
StartTransaction, MeterValues and StopTransaction. A 2.0.1 station says the same with
Authorize (an ``idToken``) and one TransactionEvent per event of a transaction: Started,
Updated, Ended. What 2.0.1 adds is the station's own: the transaction id (the station
chooses it), a ``seqNo`` per transaction counted from 0 without gaps, the ``offline`` flag on
events that were queued while the station was offline, a ``triggerReason`` and, when it
ends, a ``stoppedReason``. Each translation returns the 2.0.1 action, a payload builder and
an answer handler that hands the model the answer in 1.6's shape.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from hil.sim.station.station import utc_now

if TYPE_CHECKING:
    from hil.sim.station.v201.station import VirtualStation201

#: (action, payload builder, answer handler)
Translated = tuple[str, Callable[[], dict[str, Any]], Callable[[dict[str, Any]], None] | None]

#: the id token type of the lab's RFID cards
TOKEN_TYPE = "ISO14443"
REGISTER = "Energy.Active.Import.Register"

#: the model's 1.6 stop reasons -> (2.0.1 stoppedReason, triggerReason of the Ended event)
STOP_REASONS = {
    "Local": ("Local", "StopAuthorized"),
    "Remote": ("Remote", "RemoteStop"),
    "EVDisconnected": ("EVDisconnected", "EVCommunicationLost"),
    "HardReset": ("ImmediateReset", "ResetCommand"),
    "SoftReset": ("Reboot", "ResetCommand"),
    "DeAuthorized": ("DeAuthorized", "Deauthorized"),
    "PowerLoss": ("PowerLoss", "AbnormalCondition"),
    "UnlockCommand": ("Other", "UnlockCommand"),
    "Other": ("Other", "AbnormalCondition"),
    "StoppedByEV": ("StoppedByEV", "ChargingStateChanged"),
}


def id_token(tag: str) -> dict[str, Any]:
    return {"idToken": tag, "type": TOKEN_TYPE}


def signed_meter_value(value: str) -> dict[str, str]:
    """A 1.6 SignedData value (the OCA JSON object, or the OCMF text) as 2.0.1
    SignedMeterValueType: signedMeterData (base64 OCMF), signingMethod, encodingMethod,
    publicKey, every field present (2.0.1 requires them; empty when not sent)."""
    if value.lstrip().startswith("{"):
        obj = json.loads(value)
    else:
        obj = {"signedMeterData": base64.b64encode(value.encode()).decode("ascii")}
    obj.setdefault("encodingMethod", "OCMF")
    keys = ("signedMeterData", "signingMethod", "encodingMethod", "publicKey")
    return {k: str(obj.get(k) or "") for k in keys}


def sampled_values_201(
    values: list[dict[str, Any]], register_wh: float | None = None
) -> list[dict[str, Any]]:
    """1.6 SampledValue (string value, unit) as 2.0.1 SampledValueType (a number,
    unitOfMeasure). A 1.6 signed reading (format SignedData) is, in 2.0.1, the register
    reading it signs with a ``signedMeterValue``: ``register_wh`` is that register (the
    station's own, which a defective meter's signature may contradict); without it the
    signed reading is left out."""
    out = []
    for sv in values:
        if sv.get("format") == "SignedData":
            if register_wh is not None:
                out.append(
                    {
                        "value": float(register_wh),
                        "context": sv.get("context", "Sample.Periodic"),
                        "measurand": REGISTER,
                        "location": sv.get("location", "Outlet"),
                        "unitOfMeasure": {"unit": "Wh"},
                        "signedMeterValue": signed_meter_value(str(sv["value"])),
                    }
                )
            continue
        value: dict[str, Any] = {
            "value": float(sv["value"]),
            "context": sv.get("context", "Sample.Periodic"),
            "measurand": sv.get("measurand", REGISTER),
            "location": sv.get("location", "Outlet"),
        }
        if sv.get("unit"):
            value["unitOfMeasure"] = {"unit": sv["unit"]}
        if sv.get("phase"):
            value["phase"] = sv["phase"]
        out.append(value)
    return out


def _register_reading(timestamp: str, wh: float, context: str) -> dict[str, Any]:
    """A MeterValueType with the energy register alone (a transaction's begin or end)."""
    value = {
        "value": float(wh),
        "context": context,
        "measurand": REGISTER,
        "unitOfMeasure": {"unit": "Wh"},
    }
    return {"timestamp": timestamp, "sampledValue": [value]}


def register_reading(station: VirtualStation201, context: str) -> dict[str, Any]:
    """The station meter's register now, as a reading of ``context``."""
    wh = round(station.charging.meter.register_wh())
    return _register_reading(utc_now(), wh, context)


def meter_values_201(
    meter_value: list[dict[str, Any]], register_wh: float | None = None
) -> list[dict[str, Any]]:
    out = []
    for mv in meter_value:
        values = sampled_values_201(mv["sampledValue"], register_wh)
        if values:
            out.append({"timestamp": mv["timestamp"], "sampledValue": values})
    return out


class TransactionEvents:
    """Numbers the events of each transaction and builds them; lives in the station's
    flash (a queued event keeps its number through a reboot)."""

    def __init__(self) -> None:
        #: transaction id -> the next seqNo
        self.next_seq: dict[str, int] = {}

    def new_id(self) -> str:
        return str(uuid.uuid4())

    def seq(self, station: VirtualStation201, transaction_id: str) -> int:
        n = self.next_seq.get(transaction_id, 0)
        self.next_seq[transaction_id] = n + 1
        if "transaction_seq_gap" in station.deviations and n == 1:
            self.next_seq[transaction_id] = n + 2  # the defect: one number is never sent
            n += 1
        return n

    def event(
        self,
        station: VirtualStation201,
        event_type: str,
        transaction_id: str,
        trigger: str,
        timestamp: str,
        **info: Any,
    ) -> dict[str, Any]:
        """A TransactionEvent's fixed part; numbered and flagged now, at the event (a
        queued event is sent later, with the number and the flag it got here)."""
        payload: dict[str, Any] = {
            "eventType": event_type,
            "timestamp": timestamp,
            "triggerReason": trigger,
            "seqNo": self.seq(station, transaction_id),
            "transactionInfo": {"transactionId": transaction_id, **info},
        }
        if not station.online and "offline_flag_missing" not in station.deviations:
            payload["offline"] = True  # E12: it happened while the station was offline
        return payload


def _accepted(answer: dict[str, Any]) -> dict[str, Any]:
    """A 2.0.1 answer's idTokenInfo as 1.6's idTagInfo (no idTokenInfo: nothing to say)."""
    info = answer.get("idTokenInfo")
    return {"idTagInfo": {"status": (info or {}).get("status", "Accepted")}} if info else {}


def authorize(station: VirtualStation201, build: Any, on_result: Any) -> Translated:
    """C01: Authorize with the idToken; the answer's idTokenInfo as idTagInfo."""

    def built() -> dict[str, Any]:
        return {"idToken": id_token(build()["idTag"])}

    def answered(answer: dict[str, Any]) -> None:
        if on_result is not None:
            info = answer.get("idTokenInfo") or {}
            on_result({"idTagInfo": {"status": info.get("status", "Invalid")}})

    return "Authorize", built, answered


def start_transaction(station: VirtualStation201, build: Any, on_result: Any) -> Translated:
    """E01-E03: TransactionEvent Started, with the station's own transaction id (given to
    the model's transaction at once, so its later events name it even while queued)."""
    payload = build()
    connector = int(payload["connectorId"])
    tx = station.charging.transaction(connector)
    # TxStartPoint EVConnected: the plug opened the transaction; the authorization is an
    # event of it (E01), not a new one
    opened = station.plug_transactions.get(connector)
    transaction_id = opened or station.tx_events.new_id()
    if tx is not None:
        tx.transaction_id = transaction_id  # type: ignore[assignment]
    remote_start_id = station.remote_start_ids.pop(connector, None)
    # E02: the EV is connected; the contactor closes next (ChargingStateChanged Charging)
    info: dict[str, Any] = {"chargingState": station.charging_started(connector)}
    if remote_start_id is not None:
        info["remoteStartId"] = remote_start_id  # F01: the request that started it
    trigger = "RemoteStart" if remote_start_id is not None else "Authorized"
    event = station.tx_events.event(
        station,
        "Updated" if opened else "Started",
        transaction_id,
        trigger,
        payload["timestamp"],
        **info,
    )
    event["idToken"] = id_token(payload["idTag"])
    event["evse"] = {"id": connector, "connectorId": 1}
    if not opened:
        event["meterValue"] = [
            _register_reading(payload["timestamp"], payload["meterStart"], "Transaction.Begin")
        ]

    def answered(answer: dict[str, Any]) -> None:
        if on_result is not None:
            on_result({"transactionId": transaction_id, **_accepted(answer)})

    return "TransactionEvent", lambda: event, answered


def meter_values(station: VirtualStation201, build: Any, on_result: Any) -> Translated:
    """During a transaction: TransactionEvent Updated (E02, periodic or triggered); outside
    one: MeterValues of the EVSE."""
    payload = build()
    transaction_id = payload.get("transactionId")
    tx = station.charging.transaction(int(payload["connectorId"]))
    # the meter's signed begin reading signs the transaction's start register
    begin = tx.meter_start if tx is not None else None
    values = meter_values_201(payload["meterValue"], begin)
    if transaction_id is None:
        return (
            "MeterValues",
            lambda: {"evseId": int(payload["connectorId"]), "meterValue": values},
            on_result,
        )
    contexts = {sv["context"] for mv in values for sv in mv["sampledValue"]}
    signed = all("signedMeterValue" in sv for mv in values for sv in mv["sampledValue"])
    if values and signed:
        trigger = "SignedDataReceived"  # the meter's signed reading came in
    elif contexts == {"Trigger"}:
        trigger = "Trigger"
    else:
        trigger = "MeterValuePeriodic"
    stamp = values[0]["timestamp"] if values else payload["meterValue"][0]["timestamp"]
    state = station.charging_state(int(payload["connectorId"]))
    event = station.tx_events.event(
        station, "Updated", str(transaction_id), trigger, stamp, chargingState=state
    )
    if values:
        event["meterValue"] = values
    return "TransactionEvent", lambda: event, on_result


def stop_transaction(station: VirtualStation201, build: Any, on_result: Any) -> Translated:
    """E06/E07: TransactionEvent Ended with stoppedReason (Local may be left out: it is the
    default), the final register as Transaction.End."""
    payload = build()
    for evse, opened in list(station.plug_transactions.items()):
        if opened == str(payload["transactionId"]):
            del station.plug_transactions[evse]  # the transaction the plug opened ends here
    reason = payload.get("reason", "Local")
    stopped, trigger = STOP_REASONS.get(reason, ("Other", "AbnormalCondition"))
    info: dict[str, Any] = {"stoppedReason": stopped}
    if reason == "Remote" and "ended_without_stopped_reason" in station.deviations:
        info = {}  # the defect: absent means Local (E06), not the Remote it was
    event = station.tx_events.event(
        station, "Ended", str(payload["transactionId"]), trigger, payload["timestamp"], **info
    )
    data = meter_values_201(payload.get("transactionData") or [], payload["meterStop"])
    has_register = any(
        sv.get("measurand") == REGISTER and sv.get("context") == "Transaction.End"
        for mv in data
        for sv in mv["sampledValue"]
    )
    if not has_register:
        data.append(
            _register_reading(payload["timestamp"], payload["meterStop"], "Transaction.End")
        )
    event["meterValue"] = data
    if payload.get("idTag"):
        event["idToken"] = id_token(payload["idTag"])
    return "TransactionEvent", lambda: event, on_result
