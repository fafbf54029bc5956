"""Steps 20-21 speak the station's version: on 2.0.1 the messages say GetLog, filename and
UploadFailure (N01), never 1.6's GetDiagnostics, fileName and UploadFailed."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from hil.protocol import adapter_for
from hil.robot.keywords.maintenance import MaintenanceKeywords


def _keywords(version: str) -> MaintenanceKeywords:
    ctx = SimpleNamespace(
        protocol=adapter_for(version),
        state={"diagnostics_request": {"file_name": None, "transfers": 0, "frames": {}}},
    )
    return MaintenanceKeywords(ctx)  # type: ignore[arg-type]


def test_201_missing_file_name_says_getlog_and_cites_n01():
    with pytest.raises(AssertionError) as err:
        _keywords("2.0.1").diagnostics_file_should_be_named()
    text = str(err.value)
    assert text.startswith("GetLog was answered without a filename: "), text
    assert "OCPP 2.0.1 Part 2 N01 GetLogResponse" in text
    assert "GetDiagnostics" not in text and "fileName" not in text


def test_16_missing_file_name_says_getdiagnostics_and_cites_6_26():
    with pytest.raises(AssertionError) as err:
        _keywords("1.6").diagnostics_file_should_be_on_the_lab_server()
    text = str(err.value)
    assert text.startswith("GetDiagnostics was answered without a fileName: "), text
    assert "OCPP 1.6 §6.26" in text


def test_the_adapters_name_the_diagnostics_messages():
    v16, v201 = adapter_for("1.6"), adapter_for("2.0.1")
    assert (v16.diagnostics_action, v201.diagnostics_action) == ("GetDiagnostics", "GetLog")
    assert v201.diagnostics_status("UploadFailed") == "UploadFailure"
    assert v201.diagnostics_status_action == "LogStatusNotification"
