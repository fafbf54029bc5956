"""The Remarks sentence from Robot's raw message (hil.report.wording).

The messages below are copied from real runs (shortened where a frame or a list of
frames runs long, the structure kept); the expected sentences are what a lab technician
would write in the report's Remarks column.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hil.report.wording import FALLBACK, is_na_by_dut, person_summary

CORPUS = Path("/tmp/failure_corpus.json")
RAW = ('[2,"', '[3,"', '[4,"', '{"', "{'")

CASES = [
    pytest.param(
        "FAIL",
        "The station answered SetChargingProfile TxDefaultProfile 102 (stack level 1, connector"
        " 0) with Rejected, expected Accepted (TxDefaultProfile installed on connector 0) (#43"
        ' rx CALLRESULT SetChargingProfile [3,"bea0a7a8-c99f-44bc-b262-9b2b10bfe951",'
        '{"status":"Rejected"}])',
        [
            "The station answered SetChargingProfile TxDefaultProfile 102 (stack level 1,"
            " connector 0) with Rejected, expected Accepted (TxDefaultProfile installed on"
            " connector 0) (frame #43)"
        ],
        id="frame-in-parentheses",
    ),
    pytest.param(
        # the journal cut the frame inside a JSON string ("2026-11-30T09:57:34.4...)
        "FAIL",
        "After the reboot connector 1 reported Available, expected Unavailable (#50 rx CALL"
        ' StatusNotification [2,"c254d73a-286b-4014-a2bd-490f88fb7a4b","StatusNotification",'
        '{"connectorId":1,"errorCode":"NoError","status":"Available","timestamp":'
        '"2026-11-30T09:57:34.4...)',
        ["After the reboot connector 1 reported Available, expected Unavailable (frame #50)"],
        id="frame-cut-inside-a-string",
    ),
    pytest.param(
        # a cut inside a string, then an event description in the same parentheses
        "FAIL",
        'StopTransaction came after the restart (#32 rx CALL StopTransaction [2,"54272de8",'
        '"StopTransaction",{"meterStop":1250001,"transactionId":1,"reason":"SoftReset...'
        ' after #29 event connect {"path": "/VIRTUAL-CP-001", "subprotocol": "ocpp1.6",'
        ' "remote": "127.0.0.1:52316", "offered": ["ocpp1.6"]}); a soft reset must stop the'
        " transaction first",
        [
            "StopTransaction came after the restart (frame #32 after frame #29); a soft reset"
            " must stop the transaction first"
        ],
        id="cut-string-and-event",
    ),
    pytest.param(
        # the body ended in "." before the journal's "..." cut: four dots
        "FAIL",
        'Expected no StartTransaction within 1.5 s, but got: #20 rx CALL StartTransaction [2,"b3f5'
        'd540","StartTransaction",{"connectorId":1,"idTag":"INVALID-TAG-01","meterStart":1250000,'
        '"timestamp":"2026-11-30T09:58:25....',
        ["Expected no StartTransaction within 1.5 s, but got: frame #20"],
        id="four-dots",
    ),
    pytest.param(
        "FAIL",
        "The station sent a BootNotification after reconnecting (not rebooting): #32 rx CALL"
        ' BootNotification [2,"0e078d9e-438b-467f-b635-db6944a4a195","BootNotification",'
        '{"chargePointModel":"Virtual AC22","chargePointVendor":"HIL Lab",'
        '"chargePointSerialNumber":"VCP-...',
        ["The station sent a BootNotification after reconnecting (not rebooting): frame #32"],
        id="frame-after-colon",
    ),
    pytest.param(
        "FAIL",
        "The station rebooted with firmware '1.0.0', expected '1.0.1' from the new image, yet"
        ' reported Installed (#26 rx CALL BootNotification [2,"3c878aff","BootNotification",'
        '{"chargePointModel":"Virtual AC22","chargePointSerialNumber":"VCP-...; #34 rx CALL'
        ' FirmwareStatusNotification [2,"28c2543a","FirmwareStatusNotification",'
        '{"status":"Installed"}])',
        [
            "The station rebooted with firmware '1.0.0', expected '1.0.1' from the new image,"
            " yet reported Installed (frames #26, #34)"
        ],
        id="frames-merged",
    ),
    pytest.param(
        "FAIL",
        "StopTransaction reason is (absent = Local), expected UnlockCommand (#30 rx CALL"
        ' StopTransaction [2,"f603d545","StopTransaction",{"meterStop":1250002,'
        '"transactionId":1,"transactionData":[...)',
        ["StopTransaction reason is (absent = Local), expected UnlockCommand (frame #30)"],
        id="cut-outside-a-string",
    ),
    pytest.param(
        "FAIL",
        "WaitTimeout: Timed out after 8 s waiting for CALL StatusNotification with connectorId=1,"
        " status=Unavailable from the station (after frame #53).\nArrived instead (10"
        ' frame(s)):\n  #54 tx CALL ChangeAvailability [2,"a5b8cddc","ChangeAvailability",'
        '{"connectorId":1,"type":"Inoperative"}]\n  #55 rx CALLRESULT ChangeAvailability'
        ' [3,"a5b8cddc",{"status":"Accepted"}]\n  #56 rx CALL Heartbeat [2,"0497fd6b",'
        '"Heartbeat",{}]\n  #57 tx CALLRESULT Heartbeat [3,"0497fd6b",{"currentTime":"2026-11-3',
        [
            "The station sent no StatusNotification with connectorId=1, status=Unavailable"
            " within 8 s (journal after frame #53)"
        ],
        id="timeout",
    ),
    pytest.param(
        "FAIL",
        "The station answered TriggerMessage BootNotification Accepted (#677 rx CALLRESULT"
        ' TriggerMessage [3,"f0fa6f73",{"status":"Accepted"}]) but never sent BootNotification'
        " : Timed out after 8 s waiting for CALL BootNotification from the station (after"
        " frame #676).\nArrived instead (1 frame(s)):\n  #677 rx CALLRESULT TriggerMessage"
        ' [3,"f0fa6f73",{"status":"Accepted"}]',
        [
            "The station answered TriggerMessage BootNotification Accepted (frame #677) but"
            " never sent BootNotification within 8 s (journal after frame #676)"
        ],
        id="timeout-continuing-a-sentence",
    ),
    pytest.param(
        "FAIL",
        "ConnectionTimeOut is 5 s but the connector did not return to Available within 6.5 s:\n"
        "Timed out after 6.5 s waiting for CALL StatusNotification with connectorId=1,"
        " status=Available from the station (after frame #282).\nArrived instead (3 frame(s)):"
        '\n  #283 tx CALLRESULT StatusNotification [3,"9f160c6d",{}]',
        [
            "ConnectionTimeOut is 5 s but the connector did not return to Available within"
            " 6.5 s (journal after frame #282)"
        ],
        id="timeout-on-the-next-line",
    ),
    pytest.param(
        "FAIL",
        "Unexpected DiagnosticsStatusNotification Uploaded where UploadFailed should come next"
        " (after: Uploading; expected Uploading -> UploadFailed, nothing skipped):\n  #584 rx"
        ' CALL DiagnosticsStatusNotification [2,"0240864c","DiagnosticsStatusNotification",'
        '{"status":"Uploading"}]\n  #586 rx CALL DiagnosticsStatusNotification [2,"27a54a94",'
        '"DiagnosticsStatusNotification",{"status":"Uploaded"}]',
        [
            "Unexpected DiagnosticsStatusNotification Uploaded where UploadFailed should come"
            " next (after: Uploading; expected Uploading -> UploadFailed, nothing skipped)"
            " (frames #584, #586)"
        ],
        id="frames-listed-under-a-colon",
    ),
    pytest.param(
        "FAIL",
        "Period from +1 s: The current measured by energy_meter did not come to the limit 10 A"
        " ± 1 A within 2 s (10.0 A from the composite): no energy_meter sample met the"
        " condition within 2 s (last sample {'energy_wh': 1234514.404296875, 'power_w':"
        " 20700.0, 'current_l1_a': 30.0, 'current_l2_a': 30.0, 'current_l3_a': 30.0} at"
        " 2026-11-30T09:00:34.168+00:00)",
        [
            "Period from +1 s: the current measured by energy_meter did not come to the limit"
            " 10 A ± 1 A within 2 s (10.0 A from the composite): energy_meter still read 30 A"
            " per phase, 20700 W after 2 s"
        ],
        id="dict-dump",
    ),
    pytest.param(
        "FAIL",
        "Energy keeps flowing after StopTransaction: no energy_meter sample met the condition"
        " within 2 s (last sample {'energy_wh': 1234667.236328125, 'power_w': 22078.619140625}"
        " at 2026-11-30T06:59:43.316+00:00)",
        [
            "Energy keeps flowing after StopTransaction: energy_meter still read 22078.62 W"
            " after 2 s"
        ],
        id="dict-dump-power-only",
    ),
    pytest.param(
        "FAIL",
        "GetCompositeSchedule differs from the composite of the profiles the station accepted:"
        " the lab expects the limit to change at +18 s (2026-11-30T09:00:46.108000Z) from 9660"
        " W to 13800 W; the station's schedule has no change there (its nearest is at +12 s"
        " (2026-11-30T09:00:40.108000Z)); +12 s (2026-11-30T09:00:40.108000Z) to +18 s"
        " (2026-11-30T09:00:46.108000Z): the lab expects 9660 W, the station reports 22080 W"
        ' (tolerance 690 W) (#41 rx CALLRESULT GetCompositeSchedule [3,"1a2b",{"status":'
        '"Accepted","connectorId":1,"chargingSchedule":{"duration":24,"chargingRateUnit":"W",'
        '"chargingSchedulePeriod":[{"startPeriod":0,"limit":6900.0,"numberPhases":3}...)',
        [
            "GetCompositeSchedule differs from the composite of the profiles the station"
            " accepted: the lab expects the limit to change at +18 s from 9660 W to 13800 W;"
            " the station's schedule has no change there (its nearest is at +12 s)… (frame #41)"
        ],
        id="long-cut-keeps-the-frame",
    ),
    pytest.param(
        "FAIL",
        "Signed meter values of transaction 1 do not verify: signed end = meterStop: signed"
        " 1250.127 kWh = 1250127 Wh, meterStop 1250121 Wh (|diff| 6 not < 2 Wh allowed) |"
        " energy vs reference meter: signed 127 Wh, reference 121.09375 Wh, diff 5.90625 Wh"
        " (+4.88 %); allowed +/-1.89946875 Wh (0.5 % + 1.294 Wh) (signed values from frames"
        " #16, #48)",
        [
            "Signed meter values of transaction 1 do not verify: signed end = meterStop:"
            " signed 1250.127 kWh = 1250127 Wh, meterStop 1250121 Wh (|diff| 6 not < 2 Wh"
            " allowed)… (signed values from frames #16, #48)"
        ],
        id="signed-meter-values",
    ),
    pytest.param(
        "FAIL",
        "energy_meter at modbus-tcp://127.0.0.1:44915: instrument lost: no good reading for"
        " 3.0 s (grace 3 s); last good reading energy_wh=1234539.795, power_w=22078.61914,"
        " current_l1_a=31.99799919, current_l2_a=31.99799919, current_l3_a=31.99799919 at"
        " 2026-11-30T09:34:30.251+00:00; last error: none yet; a read has been pending for"
        " 2.8 s (no answer). The lab stopped the energy: EV set to state B (no charge"
        " request); RemoteStopTransaction(1) -> Accepted",
        [
            "The energy_meter (modbus-tcp://127.0.0.1:44915) gave no good reading for 3.0 s"
            " (grace 3 s); last good reading 32 A per phase, 22078.62 W at 09:34:30; a read"
            " has been pending for 2.8 s (no answer)"
        ],
        id="instrument-lost",
    ),
    pytest.param(
        "FAIL",
        "Setup failed:\nWaitTimeout: Timed out after 8 s waiting for CALL StatusNotification"
        " with connectorId=1, status=Available from the station (after frame #0).\nArrived"
        ' instead (11 frame(s)):\n  #1 event connect {"path": "/VIRTUAL-CP-001", "subprotocol":'
        ' "ocpp1.6", "remote": "127.0.0.1:56496", "offered": ["ocpp1.6"]}\n  #2 rx CALL'
        ' BootNotification [2,"5d4a369c","BootNotification",{"chargePointModel":"Virtual AC22",'
        '"chargePointSerialNumber":"VCP-...',
        [
            "Before the step, the bench was not at rest: the station sent no StatusNotification"
            " with connectorId=1, status=Available within 8 s (journal after frame #0)"
        ],
        id="setup-failed",
    ),
    pytest.param(
        "FAIL",
        "Setup failed:\nThis step needs a reference energy meter, but energy_meter unreachable"
        " when the lab opened: energy_meter at modbus-tcp://127.0.0.1:34521: cannot connect to"
        " 127.0.0.1:34521 (refused, unreachable or busy)",
        [
            "This step needs a reference energy meter, but energy_meter unreachable when the lab"
            " opened: energy_meter at modbus-tcp://127.0.0.1:34521: cannot connect to"
            " 127.0.0.1:34521 (refused, unreachable or busy)"
        ],
        id="setup-failed-about-na",
    ),
    pytest.param(
        "FAIL",
        "Parent suite setup failed:\n/tmp/pytest-of-root/pytest-100/popen-gw0/test_bad_lab_con"
        "fig_fails_suit0/lab.yaml: field timings.heartbeat_intervall_s: unknown field (value"
        " 3); check the spelling",
        [
            "The run could not start: the lab config field timings.heartbeat_intervall_s:"
            " unknown field (value 3); check the spelling"
        ],
        id="parent-suite-setup",
    ),
    pytest.param(
        "FAIL",
        "Parent suite setup failed:\nThe station did not register (no BootNotification answered"
        " Accepted within 3 s). Is it powered and pointed at ws://127.0.0.1:38511/VIRTUAL-CP-001"
        " with subprotocol ocpp1.6? What the back office saw: 'VIRTUAL-CP-001' never connected"
        " to the back office (expected at ws://127.0.0.1:38511/VIRTUAL-CP-001 offering"
        " subprotocol ocpp1.6).\nA station connected as 'CP-TYPO' at /ocpp/CP-TYPO (4 times) —"
        " is dut.station_id right?",
        [
            "The run could not start: the station did not register (no BootNotification"
            " answered Accepted within 3 s). Is it powered and pointed at"
            " ws://127.0.0.1:38511/VIRTUAL-CP-001 with subprotocol ocpp1.6?"
        ],
        id="parent-suite-setup-long",
    ),
    pytest.param(
        "FAIL",
        "The diagnostics file diagnostics-VIRTUAL-CP-001-20261130T095352289371Z.txt never"
        " reached the lab's file server although it reported Uploaded (#14 rx CALL"
        ' DiagnosticsStatusNotification [2,"81db04e3","DiagnosticsStatusNotification",'
        '{"status":"Uploaded"}]): no matching transfer within 2 s; transfers that did'
        " happen:\n  (none)",
        [
            "The diagnostics file diagnostics-VIRTUAL-CP-001-20261130T095352289371Z.txt never"
            " reached the lab's file server although it reported Uploaded (frame #14): no"
            " matching transfer within 2 s; transfers that did happen: (none)"
        ],
        id="short-continuation-line",
    ),
    # Robot's wrapping and the listener's findings (shapes from robot.running.status and
    # hil.robot.listener; not in the corpus yet)
    pytest.param(
        "FAIL",
        "Several failures occurred:\n\n1) AssertionError: The station answered ClearCache with"
        " Rejected, expected Accepted: it has no authorization cache (or will not clear it)\n\n"
        "2) WaitTimeout: Timed out after 8 s waiting for CALL Heartbeat from the station (after"
        " frame #3).\nArrived instead (1 frame(s)):\n  #4 rx CALL Authorize"
        ' [2,"a","Authorize",{"idTag":"X"}]\n\n3) boom',
        [
            "The station answered ClearCache with Rejected, expected Accepted: it has no"
            " authorization cache (or will not clear it) (and 2 more failures)"
        ],
        id="several-failures",
    ),
    pytest.param(
        "FAIL",
        "Teardown failed:\nAssertionError: the EV simulator is still in state C",
        ["Cleaning up after the step failed: the EV simulator is still in state C"],
        id="teardown",
    ),
    pytest.param(
        "FAIL",
        "Finding: VIRTUAL-CP-001: schema-violation (frame #12): StatusNotification:"
        " FormationViolation: status 'Ready' is not one of the allowed values {'cause': 'enum'}",
        [
            "Protocol defect in frame #12: schema-violation — StatusNotification:"
            " FormationViolation: status 'Ready' is not one of the allowed values"
        ],
        id="finding",
    ),
    pytest.param(
        "FAIL",
        "Station answered ChangeConfiguration(NumberOfConnectors=9) with Accepted, expected"
        " Rejected\nFinding: VIRTUAL-CP-001: protocol-error (frame #40): ChangeConfiguration:"
        " answered twice",
        [
            "Station answered ChangeConfiguration(NumberOfConnectors=9) with Accepted, expected"
            " Rejected",
            "Protocol defect in frame #40: protocol-error — ChangeConfiguration: answered twice",
        ],
        id="failure-and-finding",
    ),
    pytest.param(
        "SKIP",
        "N/A by DUT capability: the DUT has a tethered cable (dut.cable: tethered); nothing to"
        " unlock",
        ["The DUT has a tethered cable (dut.cable: tethered); nothing to unlock"],
        id="na-by-dut",
    ),
    pytest.param(
        "SKIP",
        "N/A: this step needs an EV simulator (instruments.ev_simulator), which the lab config"
        " /tmp/pytest-of-root/pytest-100/popen-gw0/test_missing_instruments_skip_0/lab.yaml"
        " does not have",
        [
            "This step needs an EV simulator (instruments.ev_simulator), which the lab config"
            " does not have"
        ],
        id="na-by-bench",
    ),
    pytest.param(
        "PASS",
        "Remark: MeterValues carry no Current.Offered: the limit is checked on"
        " Power.Active.Import only\nRemark: MeterValues carry no Current.Offered: the limit is"
        " checked on Power.Active.Import only",
        ["MeterValues carry no Current.Offered: the limit is checked on Power.Active.Import only"],
        id="remarks-once-each",
    ),
    pytest.param(
        "PASS",
        "Remark: EI1: the bench has no reference energy meter, so the signed energy was not"
        " compared with a reference (the other checks still ran)",
        [
            "The bench has no reference energy meter, so the signed energy was not compared"
            " with a reference (the other checks still ran)"
        ],
        id="remark-without-step-id",
    ),
    pytest.param("PASS", "", [], id="pass-without-remarks"),
]


@pytest.mark.parametrize(("status", "message", "expected"), CASES)
def test_person_summary(status: str, message: str, expected: list[str]) -> None:
    assert person_summary(status, message) == expected


def test_cut_at_a_word_with_an_ellipsis() -> None:
    message = "The station answered " + "and answered again " * 20
    [said] = person_summary("FAIL", message, limit=60)
    assert said == "The station answered and answered again and answered again…"


def test_fail_never_empty() -> None:
    assert person_summary("FAIL", "") == [FALLBACK]
    assert person_summary("FAIL", '#5 rx CALL X [2,"a","X",{}]') == ["Frame #5"]


def test_na_by_dut() -> None:
    assert is_na_by_dut("N/A by DUT capability: the DUT has a tethered cable")
    assert is_na_by_dut("Skipped in parent suite setup:\nN/A by DUT capability: no diagnostics")
    assert not is_na_by_dut("N/A: this step needs an EV simulator (instruments.ev_simulator)")


#: Pieces of the real messages, so the generated text hits the parsing paths, not only
#: arbitrary characters.
PIECES = st.sampled_from(
    [
        "#12 rx CALL StatusNotification ",
        "#3 event connect ",
        '[2,"ab","Heartbeat",{',
        '"status":"Acc',
        "...",
        "....",
        "]",
        "}",
        ")",
        "(",
        "\n",
        "\n\n",
        "Setup failed:\n",
        "Parent suite setup failed:\n",
        "Several failures occurred:\n\n1) ",
        "\n\n2) ",
        "WaitTimeout: ",
        "Timed out after 8 s waiting for CALL X from the station (after frame #4).",
        "Finding: CP: schema-violation (frame #2): ",
        "Remark: ",
        "N/A by DUT capability: ",
        "(last sample {'power_w': 1.23456} at 2026-11-30T09:00:34.168+00:00)",
        "{'",
        '{"',
        "\\",
        "31.99799919128418",
        "/tmp/x/lab.yaml",
        " ",
    ]
)
TEXTS = st.lists(st.one_of(PIECES, st.text(max_size=12)), max_size=30).map("".join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    status=st.sampled_from(["PASS", "FAIL", "SKIP", "NOT RUN"]),
    message=TEXTS,
    limit=st.integers(min_value=1, max_value=400),
)
def test_any_text(status: str, message: str, limit: int) -> None:
    said = person_summary(status, message, limit)
    assert all(isinstance(s, str) and len(s) <= limit for s in said)
    assert not any(token in s for s in said for token in RAW)
    if status == "FAIL":
        assert said


@pytest.mark.skipif(not CORPUS.exists(), reason=f"no corpus at {CORPUS}")
def test_corpus() -> None:
    corpus = json.loads(CORPUS.read_text(encoding="utf-8"))
    for number, entry in enumerate(corpus):
        said = person_summary(entry["status"], entry["message"])
        if number < 30:
            print(f"{entry['status']} {entry['step']}: {said}")
        assert all(0 < len(s) <= 240 for s in said), said
        assert not any(token in s for s in said for token in RAW), said
        if entry["status"] == "FAIL":
            assert said
