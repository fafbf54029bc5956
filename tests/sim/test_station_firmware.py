"""The virtual station's firmware update against the real lab file server (OCPP 1.6 §5.20)."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from hil.csms.link import CallErrorReceived
from tests.sim.maintenance_rig import NEW_VERSION, OLD_VERSION, iso_in, rig_factory_for

FSN = "FirmwareStatusNotification"
FINAL = ("Installed", "InstallationFailed", "DownloadFailed")


@pytest.fixture
def rig_factory(tmp_path) -> Iterator[Any]:
    yield from rig_factory_for(tmp_path)


def _seq(frames) -> list[str]:
    return [f.payload["status"] for f in frames]


def test_good_image_over_http_installs_after_retrieve_date_and_reboots(rig_factory):
    rig = rig_factory()
    url = rig.files.http_url("firmware/" + rig.images["good"].name)
    retrieve = iso_in(1.0)
    mark = rig.update_firmware(url, retrieveDate=retrieve)
    frames = rig.statuses(FSN, mark, FINAL)
    assert _seq(frames) == ["Downloading", "Downloaded", "Installing", "Installed"]
    downloading, installing, installed = frames[0], frames[2], frames[3]
    # nothing before retrieveDate: neither the notification nor the transfer itself
    assert datetime.fromisoformat(downloading.wall) >= datetime.fromisoformat(retrieve)
    transfer = rig.files.wait_for_transfer(lambda t: t.kind == "download", timeout=1)
    assert transfer.ok and transfer.started >= datetime.fromisoformat(retrieve).timestamp()
    assert transfer.sha256 == hashlib.sha256(rig.images["good"].read_bytes()).hexdigest()
    # a reboot between Installing and Installed, into the new version, accepted first
    boots = [f for f in rig.calls("BootNotification", installing.seq) if f.seq < installed.seq]
    assert [b.payload["firmwareVersion"] for b in boots] == [NEW_VERSION]
    accepted = rig.wait_for("BootNotification", boots[0].seq, ("CALLRESULT",), "tx")
    assert accepted.seq < installed.seq and accepted.payload["status"] == "Accepted"
    assert rig.on_loop(lambda: rig.station.nv.firmware) == NEW_VERSION


def test_good_image_over_ftp_installs(rig_factory):
    rig = rig_factory()
    mark = rig.update_firmware(rig.files.ftp_url("firmware/" + rig.images["good"].name))
    assert _seq(rig.statuses(FSN, mark, FINAL))[-1] == "Installed"
    transfer = rig.files.wait_for_transfer(lambda t: t.kind == "download", timeout=1)
    assert transfer.protocol == "ftp" and transfer.ok


def test_corrupt_image_fails_installation_and_keeps_the_old_firmware(rig_factory):
    rig = rig_factory()
    mark = rig.update_firmware(rig.files.http_url("firmware/" + rig.images["corrupt"].name))
    frames = rig.statuses(FSN, mark, FINAL)
    assert _seq(frames) == ["Downloading", "Downloaded", "Installing", "InstallationFailed"]
    assert rig.calls("BootNotification", mark) == []
    assert rig.on_loop(lambda: rig.station.nv.firmware) == OLD_VERSION


def test_refused_login_is_retried_retry_interval_apart_then_download_failed(rig_factory):
    rig = rig_factory()
    mark = rig.update_firmware(
        rig.files.wrong_login_ftp_url("firmware/" + rig.images["good"].name),
        retries=2,
        retryInterval=1,
    )
    assert _seq(rig.statuses(FSN, mark, FINAL)) == ["Downloading", "DownloadFailed"]
    logins = [t for t in rig.files.wait_for_transfers(3, timeout=5) if t.kind == "login"]
    assert len(logins) == 3, [t.describe() for t in logins]
    gaps = [b.started - a.started for a, b in zip(logins, logins[1:], strict=False)]
    assert all(g >= 0.9 for g in gaps), gaps
    assert all("530" in (t.error or "") for t in logins)


def test_url_that_times_out_fails_without_blocking_the_station(rig_factory):
    rig = rig_factory(transfer_timeout_s=1.5)
    mark = rig.update_firmware(rig.files.unreachable_url("timeout"), retries=0)
    downloading = rig.wait_for(FSN, mark, status="Downloading")
    started = time.monotonic()
    # while the download hangs, the station still answers at once
    rig.call("GetConfiguration", {"key": ["HeartbeatInterval"]})
    trigger = rig.call("TriggerMessage", {"requestedMessage": "FirmwareStatusNotification"})
    assert time.monotonic() - started < 1.0
    assert trigger == {"status": "Accepted"}
    triggered = rig.wait_for(FSN, downloading.seq)
    assert triggered.payload == {"status": "Downloading"}  # a trigger reports the state now
    failed = rig.wait_for(FSN, triggered.seq)
    assert failed.payload == {"status": "DownloadFailed"}
    assert failed.mono - downloading.mono >= 1.4
    assert rig.calls("BootNotification", mark) == []


def test_installation_waits_for_the_running_session_to_end(rig_factory):
    rig = rig_factory()
    tag = rig.cfg.tags.valid[0]
    rig.on_loop(rig.physics.set_ev_state, "B")
    rig.on_loop(rig.station.charging.present_tag, tag)
    start = rig.wait_for("StartTransaction")
    mark = rig.update_firmware(rig.files.http_url("firmware/" + rig.images["good"].name))
    downloaded = rig.wait_for(FSN, mark, status="Downloaded")
    rig.journal.expect_none(
        lambda f: f.action == FSN and f.dir == "rx", downloaded.seq, 1.0, "Installing"
    )
    rig.on_loop(rig.station.charging.present_tag, tag)  # the same tag ends the session
    stop = rig.wait_for("StopTransaction", start.seq)
    installing = rig.wait_for(FSN, mark, status="Installing")
    assert installing.seq > stop.seq
    rig.on_loop(rig.physics.set_ev_state, "A")
    rig.wait_for(FSN, installing.seq, status="Installed")


@pytest.mark.parametrize(
    ("deviation", "expected", "boots", "version"),
    [
        ("download_failed_not_reported", ["Downloading"], [], OLD_VERSION),
        (
            "firmware_version_unchanged",
            ["Downloading", "Downloaded", "Installing", "Installed"],
            [OLD_VERSION],
            OLD_VERSION,
        ),
        (
            "installed_without_reboot",
            ["Downloading", "Downloaded", "Installing", "Installed"],
            [],
            NEW_VERSION,
        ),
    ],
)
def test_deviations_show_their_defect(rig_factory, deviation, expected, boots, version):
    rig = rig_factory(deviations=(deviation,))
    name = rig.images["good"].name
    location = (
        rig.files.unreachable_url("refused")
        if deviation == "download_failed_not_reported"
        else rig.files.http_url("firmware/" + name)
    )
    mark = rig.update_firmware(location, retries=0)
    if expected[-1] in FINAL:
        rig.statuses(FSN, mark, FINAL)
    else:
        last = rig.wait_for(FSN, mark, status=expected[-1])
        rig.journal.expect_none(lambda f: f.action == FSN and f.dir == "rx", last.seq, 1.5, FSN)
    assert _seq(rig.calls(FSN, mark)) == expected
    assert [b.payload["firmwareVersion"] for b in rig.calls("BootNotification", mark)] == boots
    assert rig.on_loop(lambda: rig.station.nv.firmware) == version


def test_firmware_corrupt_image_is_installed_by_the_no_op_installer(rig_factory):
    """firmware_version_unchanged checks nothing, so step 18 fails with it as well."""
    rig = rig_factory(deviations=("firmware_version_unchanged",))
    mark = rig.update_firmware(rig.files.http_url("firmware/" + rig.images["corrupt"].name))
    assert _seq(rig.statuses(FSN, mark, FINAL))[-1] == "Installed"


def test_station_updated_only_by_its_maker_refuses_update_firmware(rig_factory):
    rig = rig_factory(firmware_update="maker_cloud")
    with pytest.raises(CallErrorReceived, match="NotImplemented"):
        rig.update_firmware("http://127.0.0.1:1/fw.bin")
