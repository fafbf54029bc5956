"""The steps the lab checks on an OCPP 2.0.1 station: each fails, naming the violation,
when the 2.0.1 virtual station misbehaves. The same suite tests as for 1.6; only the lab config's
``dut.ocpp`` differs."""

from __future__ import annotations

import pytest

from tests.suites.runner import assert_step_fails

pytestmark = pytest.mark.robot

OCPP201 = {"ocpp": "2.0.1"}

CASES = [
    ("message_before_accepted", "1", r"sent StatusNotification before BootNotification"),
    ("boot_retry_ignores_interval", "1", r"retried BootNotification after 0\.\d+ s"),
    (
        "no_availability_status",
        "2",
        r"waiting for CALL StatusNotification with evseId=1, connectorStatus=Unavailable",
    ),
    (
        "unavailable_lost_after_reboot",
        "2",
        r"After the reboot connector 1 reported Available, expected Unavailable",
    ),
    # G03/G04 during a transaction: Scheduled, applied when it ends
    (
        "availability_applied_during_session",
        "2",
        r"Expected no CALL StatusNotification with evseId=1, connectorStatus=Unavailable",
    ),
    (
        "report_missing_required_variable",
        "3",
        r"Required Core configuration key\(s\) missing.*TxCtrlr\.EVConnectionTimeOut",
    ),
    # B07: the failure names the part that never came (seqNo), and those that did
    (
        "report_part_missing",
        "3",
        r"GetBaseReport \(requestId \d+\) was Accepted, but NotifyReport part seqNo 1 never "
        r"arrived within 8 s; received seqNo 0 \(tbc=true\), 2 \(tbc=(true|false)\)",
    ),
    (
        "set_variables_not_applied",
        "4",
        r"SetVariables\(OCPPCommCtrlr\.HeartbeatInterval=7\) was Accepted, but GetVariables "
        r"still reports OCPPCommCtrlr\.HeartbeatInterval=",
    ),
    (
        "readonly_variable_accepted",
        "4",
        r"SetVariables\(DeviceDataCtrlr\.ItemsPerMessage\[GetVariables\]=9\) with Accepted, "
        r"expected Rejected",
    ),
    ("heartbeat_interval_ignored", "5", r"No Heartbeat within 2\.5 s|Heartbeat gaps"),
    # sessions E01-E07: a transaction's events numbered without gaps
    (
        "transaction_seq_gap",
        "6",
        r"not numbered without gaps: seqNo 0 is followed by 2 \(a message is missing\)",
    ),
    # E12 connection loss: queued TransactionEvents flagged offline, in order, none lost
    (
        "offline_flag_missing",
        "7",
        r"none of the \d+ TransactionEvent\(s\) of the connection loss says offline true",
    ),
    ("offline_queue_out_of_order", "7", r"Queued messages after the connection loss: missing"),
    (
        "offline_queue_drops_old",
        "7",
        r"Timed out after \d+ s waiting for CALL TransactionEvent Ended with transactionId=",
    ),
    ("boot_on_reconnect", "7", r"sent a BootNotification after reconnecting"),
    # E03 / TxCtrlr.EVConnectionTimeOut: a tag without a cable lapses, not before
    (
        "connection_timeout_ignored",
        "8",
        r"Expected no TransactionEvent Started \(or another transaction event\) naming the tag "
        r"presented [\d.]+ s before the plug",
    ),
    (
        "connection_timeout_early",
        "8",
        r"the EV plugged in 2\.5 s after it \(EVConnectionTimeOut 5 s\), started no "
        r"transaction: its authorization lapsed too early",
    ),
    # resets B11/B12 (the lab's Hard reset is Immediate, its Soft reset OnIdle)
    (
        "reset_wrong_reason",
        "9",
        r"TransactionEvent Ended reason is Other, expected HardReset",
    ),
    (
        "reset_stop_duplicated",
        "9",
        r"Expected no second TransactionEvent Ended for transaction \S+ within",
    ),
    ("reset_keeps_power", "9", r"Energy keeps flowing after the Hard reset"),
    (
        "reset_onidle_during_transaction",
        "11",
        r"Energy stopped: energy_meter read 0 W .* into the 1\.5 s it had to keep flowing",
    ),
    # C01 unauthorized, F01-F03 remote start and stop
    ("charges_when_invalid", "13", r"Expected no TransactionEvent Started within"),
    (
        "ended_without_stopped_reason",
        "14",
        r"TransactionEvent Ended reason is \(absent = Local\), expected Remote",
    ),
    (
        "remote_stop_ignored",
        "14",
        r"Timed out after \d+ s waiting for CALL TransactionEvent Ended with transactionId=",
    ),
    (
        "unavailable_lost_after_reboot",
        "10",
        r"After the reboot connector 1 reported Available, expected Unavailable",
    ),
    ("message_before_accepted", "12", r"sent StatusNotification before BootNotification"),
    # L01 UpdateFirmware: the lab's firmware steps
    (
        "download_failed_not_reported",
        "17",
        r"Missing FirmwareStatusNotification DownloadFailed: none within 8 s\. "
        r"Statuses so far: Downloading",
    ),
    (
        "firmware_version_unchanged",
        "18",
        r"Unexpected FirmwareStatusNotification Installed where InstallationFailed should come",
    ),
    ("installed_without_reboot", "19", r"Installed was reported without a reboot"),
    (
        "firmware_status_without_request_id",
        "19",
        r"FirmwareStatusNotification has requestId None, expected \d+ \(the UpdateFirmware's\)",
    ),
    # N01 GetLog: the lab's diagnostics steps
    (
        "diagnostics_no_file",
        "20",
        r"diagnostics file diagnostics-\S+ never reached the lab's file server although it "
        r"reported Uploaded",
    ),
    (
        "log_status_without_request_id",
        "20",
        r"LogStatusNotification has requestId None, expected \d+ \(the GetLog's\)",
    ),
    (
        "diagnostics_no_file",
        "21",
        r"Unexpected LogStatusNotification Uploaded where UploadFailure should come",
    ),
    # F05: no unlock while an authorized transaction runs
    (
        "unlock_during_transaction",
        "15",
        r"answered UnlockConnector\(1\) during the transaction with Unlocked, expected "
        r"OngoingAuthorizedTransaction",
    ),
    # G01 a fault: Faulted status (and N07 NotifyEvent), back to Occupied and Charging
    (
        "no_faulted_status",
        "16",
        r"waiting for CALL StatusNotification with evseId=1, connectorStatus=Faulted",
    ),
    # Eichrecht: the meter's signed begin and end in TransactionEvent signedMeterValue
    (
        "ocmf_bad_signature",
        "EI1",
        r"do not verify: signatures verify: T\d+: invalid \(signature does not match",
    ),
    (
        "ocmf_end_mismatch",
        "EI1",
        r"do not verify: signed end = meterStop: signed [\d.]+ kWh = \d+ Wh, meterStop",
    ),
    # C11 ClearCache: the cache decided before, an Authorize after
    (
        "no_authorization_cache",
        "22",
        r"answered ClearCache with Rejected, expected Accepted: it has no authorization cache",
    ),
    (
        "cache_not_cleared",
        "22",
        r"After ClearCache the station accepted tag VALID-TAG-01 without an Authorize: the "
        r"cache still decided \(#\d+ rx CALL TransactionEvent",
    ),
    # F06: a registered 2.0.1 station rejects a boot trigger; while Pending it must send it
    (
        "trigger_boot_not_sent",
        "23",
        r"answered TriggerMessage BootNotification Accepted .* but never sent BootNotification"
        r".*Accepted promises the message \(OCPP 2\.0\.1 Part 2 F06: TriggerMessageResponse",
    ),
]


@pytest.mark.parametrize(
    ("deviation", "step", "violation"), CASES, ids=[f"{c[0]}-step{c[1]}" for c in CASES]
)
def test_deviation_fails_its_step_on_201(tmp_path, deviation, step, violation):
    """The ids name deviation and step: a deviation may prove more than one step."""
    assert_step_fails(tmp_path, deviation, step, violation, dut=OCPP201)
