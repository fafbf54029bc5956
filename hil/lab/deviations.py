"""The catalogue of defects the virtual station can be told to show.

Each deviation mimics a defect seen in real stations and names the checklist step it must
make fail (or, ``remark_only``, the step that must pass with a remark: a defect OCPP does not
forbid). The lab config switches them on (``virtual.deviations``); the virtual station
reads the same names. Kept here, outside ``hil.sim``, so the config can be validated
without importing the virtual bench.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Deviation:
    name: str
    step: str
    description: str
    #: other steps whose own checks the same defect rightly fails (a full run with the
    #: deviation on fails exactly ``targets``; tests/suites/test_chained_failures.py)
    also: tuple[str, ...] = ()
    #: a defect OCPP does not forbid: ``step`` passes with a remark naming it (no target)
    remark_only: bool = False
    #: the stations that can show it (``dut.current_type``): None for both, ``"DC"`` for a
    #: defect of DC stations only (e.g. of their signing DC meter); the lab config refuses
    #: a deviation on a station it does not apply to
    current_type: str | None = None

    def applies_to(self, current_type: str) -> bool:
        """Whether a station of ``current_type`` (AC or DC) can show this defect."""
        return self.current_type is None or self.current_type == current_type

    @property
    def targets(self) -> set[str]:
        """The steps a run with this deviation on fails."""
        return set() if self.remark_only else {self.step, *self.also}


_CATALOGUE = [
    # step 1 - boot
    Deviation(
        "message_before_accepted",
        "1",
        "sends StatusNotification before its BootNotification is Accepted",
    ),
    Deviation(
        "no_status_connector_0", "1", "sends no StatusNotification for connector 0 after boot"
    ),
    Deviation(
        "boot_retry_ignores_interval",
        "1",
        "retries a Pending/Rejected BootNotification without waiting for the interval",
    ),
    # step 2 - availability
    Deviation(
        "no_availability_status",
        "2",
        "accepts ChangeAvailability but sends no StatusNotification",
        also=("10",),  # step 10 makes a connector Inoperative too
    ),
    Deviation(
        "unavailable_lost_after_reboot",
        "2",
        "forgets an Inoperative connector when it reboots",
        also=("10",),  # step 10 reboots an Inoperative connector too
    ),
    Deviation(
        "availability_applied_during_session",
        "2",
        "answers ChangeAvailability Inoperative Scheduled during a transaction but reports "
        "the connector Unavailable at once",
    ),
    # step 3 - get configuration
    Deviation(
        "unknown_key_dropped", "3", "drops unknown keys instead of listing them in unknownKey"
    ),
    Deviation(
        "required_key_missing",
        "3",
        "leaves the required key HeartbeatInterval out of GetConfiguration",
    ),
    # step 4 - change configuration
    Deviation("readonly_key_accepted", "4", "answers Accepted when a read-only key is changed"),
    Deviation(
        "config_not_applied",
        "4",
        "answers Accepted for HeartbeatInterval but keeps the old value",
        also=("5",),  # step 5 sets HeartbeatInterval too
    ),
    Deviation(
        "unsupported_measurand_accepted",
        "4",
        "accepts a MeterValuesSampledData list with a measurand it does not support and "
        "stores it (OCPP 1.6 edition 2 §3.16.4 says Rejected, no change)",
    ),
    # OCPP 2.0.1 station (dut.ocpp "2.0.1"): steps 3 and 4
    Deviation(
        "report_missing_required_variable",
        "3",
        "2.0.1: leaves the required variable TxCtrlr.EVConnectionTimeOut out of the "
        "GetBaseReport's NotifyReport",
    ),
    Deviation(
        "report_part_missing",
        "3",
        "2.0.1: never sends the NotifyReport part seqNo 1 of a GetBaseReport (the parts "
        "before and after it come)",
    ),
    Deviation(
        "set_variables_not_applied",
        "4",
        "2.0.1: answers SetVariables Accepted but keeps the old value",
        also=("5",),  # step 5 sets OCPPCommCtrlr.HeartbeatInterval too
    ),
    Deviation(
        "readonly_variable_accepted",
        "4",
        "2.0.1: answers SetVariables Accepted for a ReadOnly variable (the value stays)",
    ),
    # OCPP 2.0.1 sessions (E01-E07)
    Deviation(
        "transaction_seq_gap",
        "6",
        "2.0.1: skips a seqNo in a transaction's TransactionEvents",
    ),
    Deviation(
        "ended_without_stopped_reason",
        "14",
        "2.0.1: leaves stoppedReason out of the TransactionEvent Ended of a "
        "RequestStopTransaction (absent means Local)",
    ),
    Deviation(
        "offline_flag_missing",
        "7",
        "2.0.1: queues the TransactionEvents of a connection loss without offline true",
    ),
    Deviation(
        "unlock_during_transaction",
        "15",
        "2.0.1: unlocks the cable and ends the transaction on UnlockConnector while it "
        "runs (F05 says OngoingAuthorizedTransaction)",
    ),
    # OCPP 2.0.1 resets (B12)
    Deviation(
        "reset_onidle_during_transaction",
        "11",
        "2.0.1: answers Reset OnIdle Scheduled during a transaction but resets at once",
    ),
    # step 5 - heartbeat
    Deviation(
        "heartbeat_interval_ignored",
        "5",
        "keeps its original heartbeat cadence after HeartbeatInterval changes",
    ),
    # step 6 - local session
    Deviation(
        "energy_register_skew",
        "6",
        "its own meter register runs 3 % fast (deviation_options.energy_skew)",
    ),
    Deviation(
        "available_without_finishing",
        "6",
        "goes from Charging straight to Available after the session, no Finishing",
    ),
    Deviation(
        "power_after_stop",
        "6",
        "keeps the contactor closed and the pilot offering after StopTransaction",
        also=("7", "14", "15", "EI1"),  # every step that checks energy stops after a stop
    ),
    # step 7 - connection loss
    Deviation(
        "offline_queue_drops_old",
        "7",
        "drops queued transaction messages older than deviation_options.queue_max_age_s",
    ),
    Deviation(
        "offline_queue_out_of_order", "7", "delivers queued transaction messages newest first"
    ),
    Deviation("boot_on_reconnect", "7", "sends a new BootNotification after every reconnect"),
    # step 8 - connection timeout
    Deviation(
        "connection_timeout_ignored",
        "8",
        "stays Preparing forever when no cable is plugged after authorization",
        also=("22",),  # step 22 relies on a presented tag lapsing after ConnectionTimeOut
    ),
    Deviation(
        "connection_timeout_early",
        "8",
        "lets a presented tag lapse after a fifth of ConnectionTimeOut",
    ),
    # step 13 - unauthorized
    Deviation("charges_when_invalid", "13", "starts charging even when Authorize answers Invalid"),
    # step 14 / 15 - remote
    Deviation(
        "remote_stop_wrong_reason",
        "14",
        "reports StopTransaction reason Local for a RemoteStopTransaction",
    ),
    Deviation(
        "remote_stop_ignored", "14", "answers RemoteStopTransaction Accepted but keeps charging"
    ),
    Deviation(
        "unlock_wrong_reason", "15", "reports StopTransaction reason Local for an UnlockConnector"
    ),
    # step 16 - fault
    Deviation(
        "no_faulted_status", "16", "stops charging on a pilot fault but never reports Faulted"
    ),
    # steps 9-12 - resets
    Deviation(
        "reset_wrong_reason", "9", "reports StopTransaction reason Other on Hard and Soft reset"
    ),
    Deviation(
        "reset_stop_lost",
        "9",
        "never sends the StopTransaction of a session ended by a reset",
        also=("11",),  # the soft reset loses it too
    ),
    Deviation("reset_stop_duplicated", "9", "sends the StopTransaction of a reset session twice"),
    Deviation("reset_keeps_power", "9", "keeps energy flowing through a reset"),
    Deviation(
        "soft_reset_stop_after_boot",
        "11",
        "sends the StopTransaction of a soft reset only after rebooting",
    ),
    # firmware / diagnostics
    Deviation(
        "firmware_version_unchanged",
        "19",
        "reports Installed but boots with the old firmware version",
    ),
    Deviation("installed_without_reboot", "19", "reports Installed without rebooting"),
    Deviation(
        "download_failed_not_reported", "17", "never reports DownloadFailed when a download fails"
    ),
    Deviation(
        "diagnostics_no_file",
        "20",
        "reports Uploaded although no file was uploaded",
        also=("21",),  # it fakes Uploaded where the upload must fail, too
    ),
    Deviation(
        "diagnostics_not_an_archive",
        "20",
        "uploads a diagnostics file named .tar.gz that is 10 bytes, a gzip header and nothing "
        "more (OCPP fixes no format: step 20 passes with a remark naming what the file is)",
        remark_only=True,
    ),
    Deviation(
        "firmware_status_without_request_id",
        "19",
        "2.0.1: reports FirmwareStatusNotification without the UpdateFirmware's requestId",
        also=("17", "18"),  # every update's statuses lack it
    ),
    Deviation(
        "log_status_without_request_id",
        "20",
        "2.0.1: reports LogStatusNotification without the GetLog's requestId",
    ),
    # cache / trigger
    Deviation("no_authorization_cache", "22", "has no authorization cache: ClearCache is Rejected"),
    Deviation(
        "trigger_boot_not_sent",
        "23",
        "answers TriggerMessage BootNotification Accepted but never sends it (2.0.1: while "
        "its boot is Pending; once registered it rejects the trigger as F06.FR.17 says)",
    ),
    Deviation(
        "cache_not_cleared",
        "22",
        "answers ClearCache Accepted but keeps the cached tags",
    ),
    # smart charging
    Deviation(
        "limit_not_applied_to_pilot",
        "SC1",
        "reports the charging limit as Current.Offered in MeterValues, but the pilot keeps "
        "offering the station's maximum (and the EV draws it)",
        also=("SC2", "SC3"),  # both check an applied limit at the pilot
    ),
    Deviation(
        "stack_level_ignored",
        "SC1",
        "among charging profiles of the same purpose the lowest stack level wins, in the "
        "output and in GetCompositeSchedule",
        also=("SC2", "SC3"),  # SC2's recurring profile and SC3's 8 A profile are at stack 1
    ),
    Deviation(
        "composite_misreported",
        "SC1",
        "GetCompositeSchedule reports the highest-stack TxDefaultProfile alone (no per-period "
        "minimum over the other profiles); the output obeys the true composite",
    ),
    Deviation(
        "watts_read_as_amps",
        "SC1",
        "applies a limit given in W as if it were in A (11000 W: only the station's maximum "
        "caps the current)",
    ),
    Deviation(
        "phases_ignored",
        "SC1",
        "converts a W limit to A dividing by the voltage only, as if on one phase (a 3-phase "
        "limit gives 3x the current)",
    ),
    Deviation(
        "profiles_lost_after_reboot", "SC2", "forgets its installed charging profiles on reboot"
    ),
    Deviation(
        "tx_default_not_applied_to_running",
        "SC2",
        "a TxDefaultProfile set while a transaction runs takes effect only from the next "
        "transaction",
        also=("SC1", "SC3"),  # both set their TxDefaultProfiles during a session
    ),
    Deviation(
        "only_stack_level_0",
        "SC2",
        "rejects SetChargingProfile with a stackLevel above 0",
        also=("SC1", "SC3"),  # both set a profile at stack level 1
    ),
    Deviation(
        "recurring_wrong_time",
        "SC2",
        "repeats a Recurring profile from the moment it was installed instead of from its "
        "startSchedule's time of day (week)",
    ),
    Deviation(
        "clear_keeps_limit",
        "SC3",
        "answers ClearChargingProfile Accepted and forgets the profile in GetCompositeSchedule, "
        "but the limit stays on the output until the running transaction ends",
    ),
    # Eichrecht
    Deviation("ocmf_bad_signature", "EI1", "signs the end reading with a corrupted signature"),
    Deviation("ocmf_serial_changed", "EI1", "reports a different meter serial at the end"),
    Deviation("ocmf_pagination_gap", "EI1", "skips a pagination number between readings"),
    Deviation("ocmf_end_mismatch", "EI1", "signs an end value different from meterStop"),
    Deviation("ocmf_energy_off", "EI1", "signed energy is 5 % away from what really flowed"),
    Deviation("ocmf_status_not_ok", "EI1", "signs readings with meter status other than G"),
    # DC stations (dut.current_type DC; tests/suites/test_dc_deviations.py)
    Deviation(
        "power_offered_ignores_profile",
        "SC1",
        "DC: reports its maximum power as Power.Offered whatever charging profile limits it",
        also=("SC2", "SC3"),  # both verify a limit in the readings too
        current_type="DC",
    ),
    Deviation(
        "dc_current_above_ev_request",
        "6",
        "DC: delivers the current it offers even above what the EV asks for",
        # every step that lets energy flow checks it
        also=("7", "9", "11", "14", "16", "SC1", "SC2", "SC3", "EI1"),
        current_type="DC",
    ),
    Deviation(
        "soc_missing",
        "6",
        "DC: lists SoC in its sampled measurands but sends no SoC in its readings",
        also=("7",),  # step 7 checks a periodic reading too
        current_type="DC",
    ),
    Deviation(
        "energy_after_ev_stop",
        "6",
        "DC: keeps delivering its current for 6 s after the EV ended its session",
        current_type="DC",
    ),
    Deviation(
        "insulation_fault_not_reported",
        "16",
        "DC: stops charging on an insulation fault in the cable check but never reports Faulted",
        current_type="DC",
    ),
    # Eichrecht on a DC station: its signing DC meter (dc_meter) holds the legal record
    Deviation(
        "ocmf_rt_ac",
        "EI1",
        "DC: the station's OCMF says RT AC (its DC meter signs its readings as AC)",
        current_type="DC",
    ),
    Deviation(
        "ocmf_registers_disagree",
        "EI1",
        "DC: the OCMF the station forwards is not the DC meter's record of the transaction "
        "(an earlier, empty legal transaction's), so its registers disagree with the meter's",
        current_type="DC",
    ),
    # OCPP 2.0.1 smart charging (K01, K08, K10; the model's SC deviations act on 2.0.1 too)
    Deviation(
        "composite_wrong_evse",
        "SC1",
        "2.0.1: answers GetCompositeSchedule with the EVSE's composite under another evseId "
        "(0 for an EVSE)",
        also=("SC2", "SC3"),  # both read a composite schedule too
    ),
]

KNOWN_DEVIATIONS: dict[str, Deviation] = {d.name: d for d in _CATALOGUE}
