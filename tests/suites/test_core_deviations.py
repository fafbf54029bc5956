"""Each Core step fails, naming the violation, when the virtual station misbehaves."""

from __future__ import annotations

import pytest

from tests.suites.runner import assert_step_fails

pytestmark = pytest.mark.robot

CASES = [
    ("message_before_accepted", "1", r"sent StatusNotification before BootNotification"),
    # the failure cites the rule that asks for connector 0 (the main controller)
    (
        "no_status_connector_0",
        "1",
        r"No StatusNotification for connector\(s\) \[0\] .*\(OCPP 1\.6 §4\.9 and §6\.47: "
        r"StatusNotification connectorId 0 is the Charge Point main controller",
    ),
    ("boot_retry_ignores_interval", "1", r"retried BootNotification after 0\.\d+ s"),
    (
        "no_availability_status",
        "2",
        r"waiting for CALL StatusNotification with connectorId=1, status=Unavailable",
    ),
    (
        "unavailable_lost_after_reboot",
        "2",
        r"After the reboot connector 1 reported Available, expected Unavailable",
    ),
    (
        "availability_applied_during_session",
        "2",
        r"Expected no CALL StatusNotification with connectorId=1, status=Unavailable",
    ),
    ("unknown_key_dropped", "3", r"Unknown key\(s\) HilNoSuchKey1, HilNoSuchKey2 were silently"),
    (
        "required_key_missing",
        "3",
        r"Required Core configuration key\(s\) missing.*HeartbeatInterval",
    ),
    (
        "readonly_key_accepted",
        "4",
        r"ChangeConfiguration\(NumberOfConnectors=9\) with Accepted, expected Rejected",
    ),
    ("config_not_applied", "4", r"GetConfiguration still reports HeartbeatInterval="),
    (
        "unsupported_measurand_accepted",
        "4",
        r"ChangeConfiguration\(MeterValuesSampledData=Hil\.Unknown\.Measurand\) with Accepted",
    ),
    ("heartbeat_interval_ignored", "5", r"No Heartbeat within 2\.5 s|Heartbeat gaps"),
]


@pytest.mark.parametrize(("deviation", "step", "violation"), CASES, ids=[c[0] for c in CASES])
def test_deviation_fails_its_step(tmp_path, deviation, step, violation):
    assert_step_fails(tmp_path, deviation, step, violation)
