"""``hil ocmf verify``: records, record files and saved OCPP journals."""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from hil.verify.ocmf import signed_meter_value, tamper_signature
from hil.verify.ocmf.cli import add_arguments, run
from tests.verify._ocmf_helpers import T0, TAG, Session, good_session

T1 = T0 + timedelta(minutes=30)


def _run(argv: list[str]) -> tuple[int, str]:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    out = io.StringIO()
    code = run(parser.parse_args(argv), out)
    return code, out.getvalue()


class _Journal:
    """Writes journal lines the way the back office does (one JSON object per line)."""

    def __init__(self, station: str = "CP1") -> None:
        self.station = station
        self.lines: list[str] = []
        self._seq = 0

    def _add(self, direction: str, frame: list | None, kind: str, action: str, uid: str) -> None:
        self._seq += 1
        entry = {
            "seq": self._seq,
            "wall": "2026-11-21T16:31:02.123456+00:00",
            "mono": 1000.0 + self._seq,
            "station": self.station,
            "dir": direction,
            "raw": json.dumps(frame) if frame is not None else "",
            "kind": kind,
            "action": action,
            "unique_id": uid,
        }
        self.lines.append(json.dumps(entry))

    def call(self, direction: str, action: str, payload: dict, uid: str) -> None:
        self._add(direction, [2, uid, action, payload], "CALL", action, uid)

    def result(self, direction: str, action: str, payload: dict, uid: str) -> None:
        self._add(direction, [3, uid, payload], "CALLRESULT", action, uid)

    def event(self) -> None:
        self._add("event", None, "connect", "", "")

    def write(self, path: Path) -> Path:
        path.write_text("\n".join(self.lines) + "\n", encoding="utf-8")
        return path


def _session_journal(
    session: Session, *, end: str | None = None, with_key: bool = True, tx_id: int = 42
) -> _Journal:
    j = _Journal()
    j.event()
    if with_key:
        j.call("tx", "GetConfiguration", {"key": ["MeterPublicKey[1]"]}, "g1")
        j.result(
            "rx",
            "GetConfiguration",
            {
                "configurationKey": [
                    {
                        "key": "MeterPublicKey[1]",
                        "readonly": True,
                        "value": session.meter.public_key_oca,
                    }
                ]
            },
            "g1",
        )
    start = {"connectorId": 1, "idTag": TAG, "meterStart": session.start_wh, "timestamp": "t0"}
    j.call("rx", "StartTransaction", start, "s1")
    j.result(
        "tx",
        "StartTransaction",
        {"transactionId": tx_id, "idTagInfo": {"status": "Accepted"}},
        "s1",
    )
    begin_value = {
        "value": signed_meter_value(session.begin),
        "format": "SignedData",
        "context": "Transaction.Begin",
        "measurand": "Energy.Active.Import.Register",
    }
    meter_values = {
        "connectorId": 1,
        "transactionId": tx_id,
        "meterValue": [{"timestamp": "t0", "sampledValue": [begin_value]}],
    }
    j.call("rx", "MeterValues", meter_values, "m1")
    j.result("tx", "MeterValues", {}, "m1")
    stop = {
        "transactionId": tx_id,
        "meterStop": session.stop_wh,
        "timestamp": "t1",
        "reason": "Local",
        "transactionData": [
            {
                "timestamp": "t1",
                "sampledValue": [
                    dict(begin_value),
                    {
                        "value": signed_meter_value(end or session.end),
                        "format": "SignedData",
                        "context": "Transaction.End",
                    },
                ],
            }
        ],
    }
    j.call("rx", "StopTransaction", stop, "x1")
    j.result("tx", "StopTransaction", {}, "x1")
    return j


def test_single_record_with_key(tmp_path: Path) -> None:
    session = good_session()
    code, out = _run([session.begin, "--key", session.meter.public_key_hex])
    assert code == 0, out
    assert "record 1: PASS" in out and "signature: valid" in out
    code, out = _run([tamper_signature(session.begin), "--key", session.meter.public_key_hex])
    assert code == 1 and "record 1: FAIL" in out
    key_file = tmp_path / "meter.pem"
    key_file.write_text(session.meter.public_key_oca)
    assert _run([session.begin, "--key", str(key_file)])[0] == 0


def test_a_record_without_any_key_is_not_a_pass() -> None:
    code, out = _run([good_session().begin])
    assert code == 1
    assert "signature: no key" in out


def test_a_signed_meter_value_brings_its_own_key() -> None:
    session = good_session()
    code, out = _run([session.meter.signed_meter_value(session.end)])
    assert code == 0, out
    assert "publicKey of the signed meter value" in out


def test_file_of_records_one_per_line_and_as_a_json_list(tmp_path: Path) -> None:
    session = good_session()
    key = session.meter.public_key_hex
    lines = tmp_path / "records.txt"
    lines.write_text(f"# a comment\n{session.begin}\n\n{session.end.encode().hex()}\n")
    code, out = _run([str(lines), "--key", key])
    assert code == 0, out
    assert "record 2 (hex): PASS" in out
    listed = tmp_path / "records.json"
    listed.write_text(json.dumps([session.begin, tamper_signature(session.end)]))
    code, out = _run([str(listed), "--key", key])
    assert code == 1 and "record 1: PASS" in out and "record 2: FAIL" in out


def test_records_checked_as_one_session(tmp_path: Path) -> None:
    session = good_session()
    path = tmp_path / "s.txt"
    path.write_text(f"{session.begin}\n{session.end}\n")
    common = [str(path), "--key", session.meter.public_key_hex, "--session", "--id-tag", TAG]
    figures = ["--meter-start", "12345", "--meter-stop", "13790", "--reference-wh", "1445"]
    code, out = _run(common + figures)
    assert code == 0, out
    assert "verdict: PASS" in out
    code, out = _run(common + ["--meter-start", "12345", "--meter-stop", "13000"])
    assert code == 1
    assert "signed end = meterStop" in out and "verdict: FAIL" in out


def test_journal_session_with_key_from_get_configuration(tmp_path: Path) -> None:
    session = good_session()
    path = _session_journal(session).write(tmp_path / "journal.jsonl")
    code, out = _run([str(path)])
    assert code == 0, out
    assert "== CP1 transaction 42 (key: MeterPublicKey[1])" in out
    assert "MeterValues Transaction.Begin #1: PASS" in out
    assert "StopTransaction Transaction.End #3: PASS" in out
    assert "1 duplicate(s) counted once" in out  # begin in MeterValues and StopTransaction
    assert "signed begin = meterStart   PASS" in out
    assert "identification matches tag  PASS" in out
    assert "verdict: REMARK" in out  # no reference meter figure in a journal
    code, out = _run([str(path), "--reference-wh", "1445"])
    assert code == 0 and "verdict: PASS" in out


def test_journal_with_a_changed_serial_fails(tmp_path: Path) -> None:
    session = good_session()
    bad_end = session.meter.end(session.stop_wh, T1, TAG, 8, meter_serial="EXCHANGED")
    path = _session_journal(session, end=bad_end).write(tmp_path / "journal.jsonl")
    code, out = _run([str(path)])
    assert code == 1
    assert "same meter serial           FAIL" in out


def test_journal_without_a_key_fails_unless_one_is_given(tmp_path: Path) -> None:
    session = good_session()
    path = _session_journal(session, with_key=False).write(tmp_path / "journal.jsonl")
    code, out = _run([str(path)])
    assert code == 1
    assert "no key in the journal" in out and "no key" in out
    code, out = _run([str(path), "--key", session.meter.public_key_hex])
    assert code == 0, out


def test_journal_filters_and_damaged_lines(tmp_path: Path) -> None:
    session = good_session()
    journal = _session_journal(session)
    journal.lines.insert(1, "{this is not json")
    path = journal.write(tmp_path / "journal.jsonl")
    code, out = _run([str(path), "--transaction", "42"])
    assert code == 0, out
    assert "warning: line 2: not JSON" in out
    code, out = _run([str(path), "--transaction", "7"])
    assert code == 2 and "no transaction with signed meter values" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["no-such-file.jsonl"], "neither a file nor an OCMF record"),
        (["OCMF|x|y", "--key", "zz"], "--key: unreadable public key"),
    ],
)
def test_unreadable_input_exits_2(argv: list[str], message: str) -> None:
    code, out = _run(argv)
    assert code == 2 and message in out


def test_run_accepts_a_bare_namespace() -> None:
    session = good_session()
    out = io.StringIO()
    args = argparse.Namespace(source=session.end, key=session.meter.public_key_hex)
    assert run(args, out) == 0, out.getvalue()


def test_module_entry_point(tmp_path: Path) -> None:
    session = good_session()
    path = _session_journal(session).write(tmp_path / "journal.jsonl")
    repo = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-m", "hil.verify.ocmf.cli", str(path)],
        capture_output=True,
        text=True,
        cwd=repo,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "verdict: REMARK" in done.stdout


def _session_journal_201(session: Session, *, end: str | None = None) -> _Journal:
    """The same session as OCPP 2.0.1 TransactionEvents: Started with the Begin register,
    the signed begin in an Updated (SignedDataReceived), Ended with the End register and
    the signed end; the meter key only in signedMeterValue.publicKey."""
    j = _Journal()
    j.event()
    tx = "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"

    def reading(wh: int, context: str, record: str | None = None) -> dict:
        value: dict = {
            "value": float(wh),
            "context": context,
            "measurand": "Energy.Active.Import.Register",
            "unitOfMeasure": {"unit": "Wh"},
        }
        if record is not None:
            value["signedMeterValue"] = json.loads(
                signed_meter_value(record, session.meter.public_key_hex)
            )
        return {"timestamp": "2026-11-21T15:31:02Z", "sampledValue": [value]}

    events = [
        {
            "eventType": "Started",
            "triggerReason": "Authorized",
            "idToken": {"idToken": TAG, "type": "ISO14443"},
            "evse": {"id": 1, "connectorId": 1},
            "meterValue": [reading(session.start_wh, "Transaction.Begin")],
        },
        {
            "eventType": "Updated",
            "triggerReason": "SignedDataReceived",
            "meterValue": [reading(session.start_wh, "Transaction.Begin", session.begin)],
        },
        {
            "eventType": "Ended",
            "triggerReason": "StopAuthorized",
            "meterValue": [reading(session.stop_wh, "Transaction.End", end or session.end)],
        },
    ]
    for seq, event in enumerate(events):
        stopped = {"stoppedReason": "Local"} if event["eventType"] == "Ended" else {}
        payload = {
            **event,
            "timestamp": "2026-11-21T15:31:02Z",
            "seqNo": seq,
            "transactionInfo": {"transactionId": tx, **stopped},
        }
        j.call("rx", "TransactionEvent", payload, f"e{seq}")
        j.result("tx", "TransactionEvent", {}, f"e{seq}")
    return j


def test_journal_of_a_201_station_verifies_from_its_transaction_events(tmp_path: Path) -> None:
    """OCPP 2.0.1: the session is the TransactionEvents of one transactionId; the signed
    readings are their signedMeterValue; begin/end against the Begin/End registers."""
    session = good_session()
    path = _session_journal_201(session).write(tmp_path / "journal.jsonl")
    code, out = _run([str(path), "--reference-wh", "1445"])
    assert code == 0, out
    assert "== CP1 transaction 0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0" in out
    assert "publicKey of the signed meter value" in out
    assert "signed begin = meterStart   PASS" in out
    assert "identification matches tag  PASS" in out
    assert "verdict: PASS" in out
    bad_end = session.meter.end(13790 + 40, T1, TAG, 8)
    path = _session_journal_201(session, end=bad_end).write(tmp_path / "bad.jsonl")
    code, out = _run([str(path)])
    assert code == 1 and "signed end = meterStop" in out and "FAIL" in out, out
