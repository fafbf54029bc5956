"""Steps 17-23 fail, naming the violation, when the virtual station misbehaves; and end as
SKIP (N/A) with the reason when the DUT cannot do them by design."""

from __future__ import annotations

import re

import pytest

from hil.report.build import report_from_outputs
from tests.suites.runner import assert_step_fails, run_steps, write_lab

pytestmark = pytest.mark.robot

#: The lab waits this long for each next status / message in these runs (the station's
#: own socket timeout is 2 s), so a missing one fails in seconds.
QUICK = {"file_server": {"transfer_timeout_s": 4}, "timings": {"message_timeout_s": 4}}

CASES = [
    (
        "download_failed_not_reported",
        "17",
        r"Missing FirmwareStatusNotification DownloadFailed: none within 4 s\. "
        r"Statuses so far: Downloading",
    ),
    (
        "firmware_version_unchanged",
        "18",
        r"Unexpected FirmwareStatusNotification Installed where InstallationFailed should come",
    ),
    (
        "firmware_version_unchanged",
        "19",
        r"rebooted with firmware '1\.0\.0', expected '1\.0\.1' from the new image",
    ),
    ("installed_without_reboot", "19", r"Installed was reported without a reboot"),
    (
        "diagnostics_no_file",
        "20",
        r"diagnostics file diagnostics-\S+ never reached the lab's file server although it "
        r"reported Uploaded",
    ),
    (
        "diagnostics_no_file",
        "21",
        r"Unexpected DiagnosticsStatusNotification Uploaded where UploadFailed should come",
    ),
    (
        "no_authorization_cache",
        "22",
        r"answered ClearCache with Rejected, expected Accepted: it has no authorization cache",
    ),
    (
        "cache_not_cleared",
        "22",
        r"After ClearCache the station accepted tag VALID-TAG-01 without an Authorize: the "
        r"cache still decided \(#\d+ rx CALL StatusNotification",
    ),
    (
        "trigger_boot_not_sent",
        "23",
        r"answered TriggerMessage BootNotification Accepted .* but never sent BootNotification"
        r".*Accepted promises the message \(OCPP 1\.6 §5\.17: the response \"SHALL indicate "
        r"whether the Charge Point will send it or not\"",
    ),
]


@pytest.mark.parametrize(
    ("deviation", "step", "violation"), CASES, ids=[f"{c[0]}-step{c[1]}" for c in CASES]
)
def test_deviation_fails_its_step(tmp_path, deviation, step, violation):
    assert_step_fails(tmp_path, deviation, step, violation, **QUICK)


def test_steps_the_dut_cannot_do_are_na_with_the_reason(tmp_path):
    caps = {"firmware_update": "maker_cloud", "diagnostics": False, "trigger_message": False}
    lab = write_lab(tmp_path, [], dut={"capabilities": caps})
    outcomes = run_steps(tmp_path, lab, ["17", "18", "19", "20", "21", "23"])
    for step in ("17", "18", "19"):
        assert outcomes[step].status == "SKIP", outcomes[step]
        assert "maker's cloud" in outcomes[step].message
    for step in ("20", "21"):
        assert outcomes[step].status == "SKIP", outcomes[step]
        assert "dut.capabilities.diagnostics: false" in outcomes[step].message
    assert outcomes["23"].status == "SKIP"
    assert "dut.capabilities.trigger_message: false" in outcomes["23"].message


def test_trigger_of_what_the_dut_lacks_is_not_implemented(tmp_path):
    """A station without diagnostics answers NotImplemented for that trigger; step 23
    passes, since the DUT config says so."""
    lab = write_lab(tmp_path, [], dut={"capabilities": {"diagnostics": False}})
    outcome = run_steps(tmp_path, lab, ["23"])["23"]
    assert outcome.status == "PASS", outcome.message
    log = (tmp_path / "out" / "output.xml").read_text()
    assert "DiagnosticsStatusNotification not triggered: the station answered NotImplemented" in (
        log
    )


@pytest.mark.parametrize("ocpp", ["1.6", "2.0.1"])
def test_a_diagnostics_file_that_is_not_a_readable_archive_passes_with_a_remark(tmp_path, ocpp):
    """Issue 18 item 6: a 10-byte truncated .tar.gz used to pass as "the file is whole".
    OCPP fixes no format for the diagnostics file, so step 20 still passes, but a remark
    names what the file is, in the version's words, and shows in the report."""
    lab = write_lab(tmp_path, ["diagnostics_not_an_archive"], dut={"ocpp": ocpp}, **QUICK)
    outcome = run_steps(tmp_path, lab, ["20"])["20"]
    assert outcome.status == "PASS", outcome.message
    assert "remark" in outcome.tags, outcome.message
    action, rule = ("GetDiagnostics", "OCPP 1.6 §5.9") if ocpp == "1.6" else ("GetLog", "N01")
    report = report_from_outputs([tmp_path / "out" / "output.xml"], tmp_path)
    row = next(r for r in report.checklist if r.step == "20")
    assert row.verdict == "Y", row
    text = " ".join(row.remarks)
    assert re.search(
        r"The diagnostics file diagnostics-\S+\.tar\.gz is not a readable archive: gzip data "
        r"truncated after 10 bytes",
        text,
    ), row.remarks
    assert action in text and rule in text, text
