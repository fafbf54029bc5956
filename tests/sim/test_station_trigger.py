"""The virtual station's TriggerMessage (§5.17) and ClearCache (§5.4)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from ocpp.v16 import call

from hil.csms.journal import CALLRESULT, RX
from tests.sim.maintenance_rig import rig_factory_for


@pytest.fixture
def rig_factory(tmp_path) -> Iterator[Any]:
    yield from rig_factory_for(tmp_path)


def _trigger(rig: Any, message: str, connector: int | None = None) -> tuple[str, Any, int]:
    """(status, the station's CALLRESULT frame, mark) of one TriggerMessage."""
    mark = rig.journal.cursor
    payload: dict[str, Any] = {"requestedMessage": message}
    if connector is not None:
        payload["connectorId"] = connector
    status = rig.call("TriggerMessage", payload)["status"]
    answer = next(f for f in rig.journal.frames(mark) if f.dir == RX and f.kind == CALLRESULT)
    return status, answer, mark


@pytest.mark.parametrize(
    ("message", "connector", "fields"),
    [
        ("BootNotification", None, {"firmwareVersion": "1.0.0"}),
        ("Heartbeat", None, {}),
        ("StatusNotification", 2, {"connectorId": 2, "status": "Available"}),
        ("MeterValues", 1, {"connectorId": 1}),
        ("FirmwareStatusNotification", None, {"status": "Idle"}),
        ("DiagnosticsStatusNotification", None, {"status": "Idle"}),
    ],
)
def test_triggered_message_follows_the_accepted_answer(rig_factory, message, connector, fields):
    rig = rig_factory()
    status, answer, mark = _trigger(rig, message, connector)
    assert status == "Accepted"
    frame = rig.wait_for(message, mark)
    assert frame.seq > answer.seq, "the triggered message came before the answer"
    assert {k: frame.payload.get(k) for k in fields} == fields
    if message == "MeterValues":
        values = [sv for mv in frame.payload["meterValue"] for sv in mv["sampledValue"]]
        assert values and all(sv["context"] == "Trigger" for sv in values)
    assert len(rig.calls(message, mark)) == 1


def test_status_notification_without_connector_covers_every_connector(rig_factory):
    rig = rig_factory()
    status, answer, mark = _trigger(rig, "StatusNotification")
    assert status == "Accepted"
    for cid in (0, 1, 2):
        assert rig.wait_for("StatusNotification", answer.seq, connectorId=cid)


def test_unknown_message_is_not_implemented_and_bad_connector_rejected(rig_factory):
    rig = rig_factory()
    link = rig.session.link
    request = call.TriggerMessage(requested_message="HilNoSuchMessage")
    result = rig.loop.run(
        link.call(request, suppress=False, skip_schema_validation=True), timeout=5
    )
    assert result.status == "NotImplemented"
    status, _, mark = _trigger(rig, "StatusNotification", 3)
    assert status == "Rejected"
    rig.journal.expect_none(
        lambda f: f.action == "StatusNotification" and f.dir == RX, mark, 0.5, "StatusNotification"
    )


def test_boot_not_sent_deviation_accepts_and_stays_silent(rig_factory):
    rig = rig_factory(deviations=("trigger_boot_not_sent",))
    status, _, mark = _trigger(rig, "BootNotification")
    assert status == "Accepted"
    rig.journal.expect_none(
        lambda f: f.action == "BootNotification" and f.dir == RX, mark, 1.0, "BootNotification"
    )


def test_capabilities_decide_what_is_not_implemented(rig_factory):
    rig = rig_factory(diagnostics=False, firmware_update="none")
    assert _trigger(rig, "DiagnosticsStatusNotification")[0] == "NotImplemented"
    assert _trigger(rig, "FirmwareStatusNotification")[0] == "NotImplemented"
    assert _trigger(rig, "Heartbeat")[0] == "Accepted"


def _authorize_count(rig: Any, mark: int) -> int:
    return len(rig.calls("Authorize", mark))


def test_clear_cache_empties_the_cache_so_the_tag_is_authorized_online(rig_factory):
    rig = rig_factory()
    tag = rig.cfg.tags.valid[0]
    assert rig.call("ChangeConfiguration", {"key": "LocalPreAuthorize", "value": "true"}) == {
        "status": "Accepted"
    }
    mark = rig.journal.cursor
    rig.on_loop(rig.station.charging.present_tag, tag)
    rig.wait_for("StatusNotification", mark, status="Preparing")
    assert _authorize_count(rig, mark) == 1
    assert rig.on_loop(lambda: dict(rig.station.charging.cache)) == {tag: "Accepted"}
    mark = rig.journal.cursor
    rig.on_loop(rig.station.charging.present_tag, tag)  # from the cache: no Authorize
    rig.journal.expect_none(lambda f: f.action == "Authorize", mark, 0.5, "Authorize")
    assert rig.call("ClearCache", {}) == {"status": "Accepted"}
    assert rig.on_loop(lambda: dict(rig.station.charging.cache)) == {}
    mark = rig.journal.cursor
    rig.on_loop(rig.station.charging.present_tag, tag)
    rig.wait_for("Authorize", mark, idTag=tag)


def test_station_without_cache_rejects_clear_cache(rig_factory):
    rig = rig_factory(deviations=("no_authorization_cache",))
    assert rig.call("ClearCache", {}) == {"status": "Rejected"}


def test_data_transfer_of_an_unknown_vendor_is_unknown_vendor_id(rig_factory):
    """§4.3/§5.6: a station with no implementation for the vendorId answers UnknownVendorId."""
    rig = rig_factory()
    answer = rig.call("DataTransfer", {"vendorId": "org.example.lab", "data": "x"})
    assert answer == {"status": "UnknownVendorId"}
