"""The virtual station's diagnostics upload against the real lab file server (§5.9)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hil.csms.link import CallErrorReceived
from hil.sim.station.diagnostics import DiagnosticsUploader
from tests.sim.maintenance_rig import rig_factory_for

DSN = "DiagnosticsStatusNotification"
FINAL = ("Uploaded", "UploadFailed")


@pytest.fixture
def rig_factory(tmp_path) -> Iterator[Any]:
    yield from rig_factory_for(tmp_path)


def _request(rig: Any, location: str, **extra: Any) -> tuple[int, str]:
    mark = rig.journal.cursor
    answer = rig.call("GetDiagnostics", {"location": location, **extra})
    return mark, answer["fileName"]


def _statuses(rig: Any, mark: int) -> list[str]:
    return [f.payload["status"] for f in rig.statuses(DSN, mark, FINAL)]


def test_diagnostics_file_is_uploaded_to_the_given_directory(rig_factory):
    rig = rig_factory()
    mark, name = _request(rig, rig.files.upload_url("diagnostics"), retries=0)
    assert name.startswith("diagnostics-VIRTUAL-CP-001-") and name.endswith(".txt")
    assert _statuses(rig, mark) == ["Uploading", "Uploaded"]
    transfer = rig.files.wait_for_transfer(lambda t: t.kind == "upload", timeout=1)
    assert transfer.ok and transfer.path == f"uploads/diagnostics/{name}"
    data = (rig.files.root / transfer.path).read_bytes()
    assert hashlib.sha256(data).hexdigest() == transfer.sha256 and len(data) == transfer.size
    text = data.decode()
    assert "station: VIRTUAL-CP-001" in text and "firmware: 1.0.0" in text
    assert "HeartbeatInterval=" in text and "[connectors]" in text


@pytest.mark.parametrize("kind", ["wrong_login", "full_disk", "refused"])
def test_failed_upload_is_retried_then_reported_upload_failed(rig_factory, kind):
    rig = rig_factory()
    location = {
        "wrong_login": rig.files.wrong_login_ftp_url("uploads/diagnostics/"),
        "full_disk": rig.files.upload_url("diagnostics"),
        "refused": rig.files.unreachable_url("refused", "ftp", "uploads/"),
    }[kind]
    if kind == "full_disk":
        rig.files.upload_quota_bytes = 16
    mark, name = _request(rig, location, retries=1, retryInterval=0)
    assert _statuses(rig, mark) == ["Uploading", "UploadFailed"]
    seen = rig.files.wait_for_transfers(0 if kind == "refused" else 2, timeout=5)
    if kind == "wrong_login":
        assert [t.kind for t in seen] == ["login", "login"]  # the retry was made
        assert all("530" in (t.error or "") for t in seen)
    elif kind == "full_disk":
        assert [t.kind for t in seen] == ["upload", "upload"]
        assert all("quota" in (t.error or "") and not t.ok for t in seen)
        assert not (rig.files.uploads_dir / "diagnostics" / name).exists()
    else:
        assert seen == []


def test_station_keeps_serving_while_an_upload_hangs(rig_factory):
    rig = rig_factory(transfer_timeout_s=1.5)
    mark, _ = _request(rig, rig.files.unreachable_url("timeout", "ftp", "uploads/"), retries=0)
    uploading = rig.wait_for(DSN, mark, status="Uploading")
    answer = rig.call("TriggerMessage", {"requestedMessage": "DiagnosticsStatusNotification"})
    assert answer == {"status": "Accepted"}
    triggered = rig.wait_for(DSN, uploading.seq)
    assert triggered.payload == {"status": "Uploading"}
    failed = rig.wait_for(DSN, triggered.seq)
    assert failed.payload == {"status": "UploadFailed"}
    assert failed.mono - uploading.mono >= 1.4


def test_no_file_deviation_reports_uploaded_without_uploading(rig_factory):
    rig = rig_factory(deviations=("diagnostics_no_file",))
    mark, _ = _request(rig, rig.files.upload_url("diagnostics"))
    assert _statuses(rig, mark) == ["Uploading", "Uploaded"]
    assert rig.files.transfers() == []


def test_log_window_limits_the_log_lines(rig_factory, caplog):
    caplog.set_level("INFO", logger="hil.sim.station")
    rig = rig_factory()
    uploader = rig.station.extension(DiagnosticsUploader)
    future = datetime.now(UTC) + timedelta(hours=1)
    everything = rig.on_loop(uploader.report).decode().split("[log]")[1]
    nothing = rig.on_loop(uploader.report, future).decode().split("[log]")[1]
    assert "INFO BootNotification answered Accepted" in everything
    assert nothing.strip() == ""


def test_station_without_diagnostics_refuses_get_diagnostics(rig_factory):
    rig = rig_factory(diagnostics=False)
    with pytest.raises(CallErrorReceived, match="NotImplemented"):
        rig.call("GetDiagnostics", {"location": rig.files.upload_url("diagnostics")})
