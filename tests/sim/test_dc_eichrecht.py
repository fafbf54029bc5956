"""The virtual DC station's Eichrecht path: the legal transaction runs on its DC meter and
the station forwards the meter's own OCMF, on OCPP 1.6 and 2.0.1.

The virtual DC bench runs in-process against a real back office (which checks every frame
against the version's schemas); the meter is read only through the lab's ``lem-dcbm``
driver, as step EI1 reads it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
import yaml

from hil.csms.journal import CALL, RX, Frame
from hil.lab.config import parse_lab_config
from hil.sim.physics import BenchPhysics
from hil.sim.station.dc_eichrecht import DcEichrechtMeter
from hil.sim.station.eichrecht import EichrechtMeter
from hil.sim.station.station import VirtualStation
from hil.verify.ocmf import (
    load_public_key,
    meter_public_keys,
    parse_record,
    signed_values_from_stop_transaction,
    signed_values_from_transaction_event,
    verify_session,
)
from hil.verify.ocmf.session import CURRENT_TYPE
from tests.sim.test_virtual_dc_bench import REPO, DcRig, start_dc_session


@pytest.fixture
def rig(tmp_path) -> Iterator[Callable[..., DcRig]]:
    rigs: list[DcRig] = []

    def make(lab_file: str, deviations: tuple[str, ...] = ()) -> DcRig:
        rig = DcRig(tmp_path / f"rig{len(rigs)}", lab_file, deviations=list(deviations))
        rigs.append(rig)
        return rig

    yield make
    for made in rigs:
        made.close()


def _session(rig: DcRig) -> dict[str, Any]:
    """A remote-started DC session of about 2 s at full power, stopped remotely; the
    OCPP figures, the signed values forwarded and the frames of the transaction."""
    mark = start_dc_session(rig)
    time.sleep(2)
    tx = rig.bench.station.charging.transaction(1)
    assert tx is not None and tx.transaction_id is not None
    stop_mark = rig.journal.cursor
    if rig.v201:
        answer = rig.call("RequestStopTransaction", {"transactionId": tx.transaction_id})
        assert answer["status"] == "Accepted"
        started = rig.wait_for("TransactionEvent", mark, eventType="Started")
        stop = rig.wait_for("TransactionEvent", stop_mark, eventType="Ended")
        meter_start = _register(started, "Transaction.Begin")
        meter_stop = _register(stop, "Transaction.End")
        signed = signed_values_from_transaction_event(stop.payload)
    else:
        answer = rig.call("RemoteStopTransaction", {"transactionId": tx.transaction_id})
        assert answer["status"] == "Accepted"
        started = rig.wait_for("StartTransaction", mark)
        stop = rig.wait_for("StopTransaction", stop_mark)
        meter_start = started.payload["meterStart"]
        meter_stop = stop.payload["meterStop"]
        signed = signed_values_from_stop_transaction(stop.payload)
    return {
        "transaction_id": tx.transaction_id,
        "meter_start": meter_start,
        "meter_stop": meter_stop,
        "signed": signed,
        "frames": [
            f
            for f in rig.journal.frames(mark)
            if f.dir == RX and f.kind == CALL and f.seq <= stop.seq
        ],
        "findings_mark": 0,
    }


def _register(frame: Frame, context: str) -> int:
    for mv in frame.payload["meterValue"]:
        for sv in mv["sampledValue"]:
            if sv.get("context") == context and sv.get("measurand", "").startswith("Energy"):
                return int(sv["value"])
    raise AssertionError(f"no {context} register in {frame.payload}")


@pytest.mark.parametrize("lab_file", ["virtual-dc.yaml", "virtual-dc-201.yaml"])
def test_the_station_forwards_the_dc_meters_own_ocmf(rig, lab_file):
    """A DC station with a signing DC meter forwards the meter's own OCMF record of the
    transaction, unchanged (one record, begin and end, ``RT: DC``), where OCPP carries a
    signed end (1.6 StopTransaction transactionData; 2.0.1 the Ended event's
    signedMeterValue); meterStart/meterStop are the meter's registers (harm: a station
    whose OCPP figures or forwarded record were not the meter's would bill what no
    calibrated meter signed)."""
    dc = rig(lab_file)
    s = _session(dc)
    findings = dc.session.findings.since(0, dc.cfg.dut.station_id)
    assert not [f for f in findings if f.kind == "schema-violation"], findings
    (value,) = s["signed"]
    assert value.context == "Transaction.End"
    assert value.extracted.ok, value.extracted.error
    # the meter's own record of its last legal transaction, through the lab's driver
    last = dc.meter.read_last_transaction()
    assert not last.running
    if dc.v201:
        assert last.transaction_id == s["transaction_id"]  # the station's own id
    own = dc.meter.read_ocmf(last.transaction_id)
    assert value.extracted.text == own.text
    assert own.current_types == {"DC"}
    assert own.begin is not None and own.end is not None
    assert (own.begin.value_wh, own.end.value_wh) == (s["meter_start"], s["meter_stop"])
    assert s["meter_stop"] - s["meter_start"] > 5
    key = dc.meter.read_public_key()
    sent = load_public_key(value.extracted.public_key or "")
    assert sent.point == load_public_key(key).point  # the JSON object carries the meter's key
    verdict = verify_session(
        [value.extracted.text],
        key,
        id_tag=dc.cfg.tags.valid[0],
        meter_start_wh=s["meter_start"],
        meter_stop_wh=s["meter_stop"],
        current_type="DC",
    )
    assert verdict.passed, verdict.render()
    # nothing signed is sent at the start: the meter signs only at stop
    signed_frames = [f for f in s["frames"] if "SignedData" in str(f.payload)]
    signed_frames += [f for f in s["frames"] if "signedMeterValue" in str(f.payload)]
    assert len(signed_frames) == 1, [f.describe() for f in signed_frames]


def test_meter_public_key_is_the_dc_meters(rig):
    """OCPP 1.6: ``MeterPublicKey[1]`` is the key the DC meter signs with (the lab may take
    it from the station as well as from the meter; both must be the same)."""
    dc = rig("virtual-dc.yaml")
    dc.wait_for("BootNotification")
    answer = dc.call("GetConfiguration", {"key": ["MeterPublicKey[1]"]})
    (entry,) = answer["configurationKey"]
    assert entry["readonly"]
    assert meter_public_keys([entry])[1] == dc.meter.read_public_key()


def test_ocmf_rt_ac_makes_the_meter_sign_ac(rig):
    dc = rig("virtual-dc.yaml", ("ocmf_rt_ac",))
    s = _session(dc)
    (value,) = s["signed"]
    record = parse_record(value.extracted.text).record
    assert record is not None
    assert {r.current_type for r in record.readings} == {"AC"}
    verdict = verify_session([value.extracted.text], dc.meter.read_public_key(), current_type="DC")
    assert verdict.check(CURRENT_TYPE).status.value == "fail", verdict.render()


def test_ocmf_registers_disagree_forwards_an_earlier_record(rig):
    dc = rig("virtual-dc.yaml", ("ocmf_registers_disagree",))
    s = _session(dc)
    (value,) = s["signed"]
    last = dc.meter.read_last_transaction()
    own = dc.meter.read_ocmf(last.transaction_id)
    assert value.extracted.text != own.text
    forwarded = parse_record(value.extracted.text).record
    assert forwarded is not None and own.end is not None
    end = next(r for r in forwarded.readings if r.is_end)
    assert end.value_wh != own.end.value_wh
    assert own.end.value_wh == Decimal(s["meter_stop"])  # the meter is right; the record not


@pytest.mark.parametrize(
    ("dc_meter", "deviations"), [(True, []), (False, []), (False, ["ocmf_rt_ac"])]
)
def test_who_signs_on_a_dc_station(dc_meter, deviations):
    """With a DC meter on the bench the meter signs (the station's own signer is off); a
    DC station whose meter the lab cannot reach signs itself, with RT DC (RT AC only as
    the ocmf_rt_ac defect): a DC station's readings never claim AC by accident."""
    data = yaml.safe_load((REPO / "lab_configs" / "virtual-dc.yaml").read_text())
    data["virtual"]["deviations"] = deviations
    if not dc_meter:
        data["instruments"]["dc_meter"] = None
    station = VirtualStation(parse_lab_config(data, "test"), BenchPhysics(), "ws://127.0.0.1:1")
    own = next(e for e in station.extensions if type(e) is EichrechtMeter)
    dc = next(e for e in station.extensions if isinstance(e, DcEichrechtMeter))
    assert (own.enabled, dc.enabled) == (not dc_meter, dc_meter)
    if not dc_meter:
        expected = "AC" if deviations else "DC"
        assert {m.signer.current_type for m in own.meters.values()} == {expected}
