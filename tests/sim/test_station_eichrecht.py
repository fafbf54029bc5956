"""The virtual station's Eichrecht meter: what it signs, how it sends it, and its defects.

A real back office and the virtual station talk OCPP-J over loopback; the bench physics
runs on a hand-moved clock, so a session delivers a known energy at once. What the
station sent is read back from the journal and checked with the OCMF verifier.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from hil.csms.journal import CALL, RX, Frame, message_matcher
from hil.csms.loop import BackgroundLoop
from hil.csms.server import BackOffice
from hil.lab.bench import make_policy
from hil.lab.config import parse_lab_config
from hil.sim.physics import BenchPhysics
from hil.sim.station.eichrecht import EichrechtMeter
from hil.sim.station.station import VirtualStation
from hil.verify.ocmf import (
    OcmfSigner,
    extract_ocmf,
    meter_public_keys,
    parse_record,
    private_key_from_scalar,
    signed_values_from_meter_values,
    signed_values_from_stop_transaction,
    verify_session,
)
from hil.verify.ocmf.session import (
    BEGIN_VS_START,
    END_VS_STOP,
    ENERGY_VS_REFERENCE,
    METER_STATUS,
    PAGINATION,
    SAME_SERIAL,
    SIGNATURES,
)

REPO = Path(__file__).resolve().parents[2]
TAG = "VALID-TAG-01"
WAIT_S = 8.0


class FakeClock:
    """The physics clock: energy flows only when the test moves it."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class StationRig:
    """Back office + virtual station on one background loop; the test drives the EV."""

    def __init__(self, tmp: Path, deviations: list[str], options: dict[str, Any], **dut: Any):
        data = yaml.safe_load((REPO / "lab_configs" / "virtual.yaml").read_text())
        data["virtual"].update(deviations=deviations, deviation_options=options, boot_delay_s=0)
        data["dut"]["capabilities"].update(dut)
        self.cfg = parse_lab_config(data, "test")
        self.loop = BackgroundLoop("eichrecht-test").start()
        self.office = BackOffice(make_policy(self.cfg), tmp / "journal", call_timeout=3)
        self.loop.run(self.office.start(), timeout=5)
        self.clock = FakeClock()
        self.physics = BenchPhysics(clock=self.clock)
        self.station = VirtualStation(self.cfg, self.physics, self.office.url())
        # the station's journal exists before it connects (as Bench.open does it)
        self.journal = self.office.session(self.cfg.dut.station_id).journal
        self.task = self.loop.run(self._spawn(), timeout=5)
        boot = self.wait_for("BootNotification", kinds=("CALLRESULT",), direction="tx")
        self.wait_for("StatusNotification", boot.seq)  # sent once the station is online

    async def _spawn(self) -> asyncio.Task[None]:
        return asyncio.get_running_loop().create_task(self.station.run())

    def close(self) -> None:
        async def stop() -> None:
            # let the last CALL be answered: a station stopped mid-CALL waits for its timeout
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.station.nv.outbox.flushed(), 2)
            await self.station.stop()
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)
            await self.office.stop()

        self.loop.run(stop(), timeout=10)
        self.loop.stop()

    # -- helpers -------------------------------------------------------------------

    def wait_for(
        self,
        action: str,
        after: int = 0,
        kinds: tuple[str, ...] = (CALL,),
        direction: str = RX,
    ) -> Frame:
        return self.journal.wait_for(
            message_matcher(action, kinds, direction), after, WAIT_S, action
        )

    def on_loop(self, fn: Any, *args: Any) -> Any:
        async def call() -> Any:
            return fn(*args)

        return self.loop.run(call(), timeout=5)

    def session(self, charge_s: float = 60.0) -> dict[str, Any]:
        """Plug in, present the tag, charge ``charge_s`` of bench time, stop with the tag."""
        mark = self.journal.cursor
        self.on_loop(self.physics.set_ev_state, "B")
        self.on_loop(self.station.charging.present_tag, TAG)
        start = self.wait_for("StartTransaction", mark)
        answer = self.wait_for("StartTransaction", start.seq, ("CALLRESULT",), "tx")
        energy_before = self.on_loop(self.physics.energy_wh)
        self.on_loop(self.physics.set_ev_state, "C")

        def run_for() -> None:
            self.clock.now += charge_s
            self.physics.set_ev_state("B")  # integrates up to now, then draws nothing

        self.on_loop(run_for)
        energy_after = self.on_loop(self.physics.energy_wh)
        self.on_loop(self.station.charging.present_tag, TAG)
        stop = self.wait_for("StopTransaction", answer.seq)
        self.on_loop(self.physics.set_ev_state, "A")
        tx_id = answer.payload["transactionId"]
        meter_values = [
            f
            for f in self.journal.frames(mark)
            if f.dir == RX
            and f.kind == CALL
            and f.action == "MeterValues"
            and f.payload.get("transactionId") == tx_id
        ]
        return {
            "transaction_id": tx_id,
            "id_tag": start.payload["idTag"],
            "connector": start.payload["connectorId"],
            "meter_start": start.payload["meterStart"],
            "meter_stop": stop.payload["meterStop"],
            "reference_wh": energy_after - energy_before,
            "signed": [v for f in meter_values for v in signed_values_from_meter_values(f.payload)]
            + signed_values_from_stop_transaction(stop.payload),
        }

    def meter_key(self, connector: int = 1) -> tuple[str, bool]:
        answer = self.loop.run(
            self.office.session(self.cfg.dut.station_id).call(
                "GetConfiguration", {"key": [f"MeterPublicKey[{connector}]"]}
            ),
            timeout=5,
        )
        (entry,) = answer["configurationKey"]
        return meter_public_keys([entry])[connector], entry["readonly"]


@pytest.fixture
def rig_factory(tmp_path) -> Iterator[Any]:
    rigs: list[StationRig] = []

    def make(deviations=(), options=None, **dut: Any) -> StationRig:
        rig = StationRig(tmp_path / f"rig{len(rigs)}", list(deviations), options or {}, **dut)
        rigs.append(rig)
        return rig

    yield make
    for rig in rigs:
        rig.close()


def _verdict(rig: StationRig, s: dict[str, Any]):
    key, _ = rig.meter_key(s["connector"])
    texts = [v.extracted.text for v in s["signed"]]
    return verify_session(
        texts,
        key,
        id_tag=s["id_tag"],
        meter_start_wh=s["meter_start"],
        meter_stop_wh=s["meter_stop"],
        reference_wh=s["reference_wh"],
        tolerance_percent=1,
        tolerance_wh=1,
    )


def test_a_session_carries_signed_begin_and_end_that_verify(rig_factory):
    rig = rig_factory()
    key, readonly = rig.meter_key()
    assert readonly
    s = rig.session()
    assert s["reference_wh"] > 300  # 60 s at 22 kW
    places = [(v.source, v.context, v.extracted.transport) for v in s["signed"]]
    assert places == [
        ("MeterValues", "Transaction.Begin", "signed-meter-value"),
        ("StopTransaction", "Transaction.End", "signed-meter-value"),
    ]
    # The JSON object carries the same key the configuration key gives.
    assert all(v.extracted.public_key for v in s["signed"])
    begin = parse_record(s["signed"][0].extracted.text).record
    end = parse_record(s["signed"][1].extracted.text).record
    assert begin.readings[0].value_wh == s["meter_start"]
    assert end.readings[0].value_wh == s["meter_stop"]
    assert (begin.id_data, end.id_data) == (TAG, TAG)
    verdict = _verdict(rig, s)
    assert verdict.passed, verdict.render()
    assert not verdict.remarks, verdict.render()


def test_pagination_runs_on_across_sessions_and_a_reboot(rig_factory):
    rig = rig_factory()
    first = rig.session(charge_s=5)
    mark = rig.journal.cursor
    rig.on_loop(rig.station.request_reset, "Hard")  # a power cut: volatile state is gone
    boot = rig.wait_for("BootNotification", mark, ("CALLRESULT",), "tx")
    rig.wait_for("StatusNotification", boot.seq)
    second = rig.session(charge_s=5)
    pages = [
        parse_record(v.extracted.text).record.pagination
        for s in (first, second)
        for v in s["signed"]
    ]
    assert pages == ["T1", "T2", "T3", "T4"]
    assert _verdict(rig, second).passed


def test_text_transport_and_a_key_from_the_lab_config(rig_factory):
    scalar = 0x1F2E3D4C5B6A79880123456789ABCDEF0123456789ABCDEF0123456789ABCDEF
    rig = rig_factory(options={"ocmf_transport": "text", "ocmf_private_key_hex": f"{scalar:x}"})
    expected = OcmfSigner(private_key_from_scalar(scalar)).public_key_hex
    key, _ = rig.meter_key()
    assert key == expected
    s = rig.session(charge_s=10)
    assert [v.extracted.transport for v in s["signed"]] == ["plain", "plain"]
    assert _verdict(rig, s).passed


def test_without_signed_meter_values_nothing_is_signed(rig_factory):
    rig = rig_factory(signed_meter_values=False)
    answer = rig.loop.run(
        rig.office.session(rig.cfg.dut.station_id).call(
            "GetConfiguration", {"key": ["MeterPublicKey[1]"]}
        ),
        timeout=5,
    )
    assert answer.get("unknownKey") == ["MeterPublicKey[1]"]
    s = rig.session(charge_s=5)
    assert s["signed"] == []
    meter = rig.station.extension(EichrechtMeter)
    assert meter is not None and not meter.enabled


def test_an_unknown_transport_is_refused_by_name(tmp_path):
    data = yaml.safe_load((REPO / "lab_configs" / "virtual.yaml").read_text())
    data["virtual"]["deviation_options"] = {"ocmf_transport": "xml"}
    cfg = parse_lab_config(data, "test")
    with pytest.raises(ValueError, match="ocmf_transport must be one of json, text, got 'xml'"):
        VirtualStation(cfg, BenchPhysics(), "ws://127.0.0.1:1")


DEVIATIONS = [
    ("ocmf_bad_signature", SIGNATURES, "invalid"),
    ("ocmf_serial_changed", SAME_SERIAL, "end MS="),
    ("ocmf_pagination_gap", PAGINATION, "not consecutive"),
    ("ocmf_end_mismatch", END_VS_STOP, ""),
    ("ocmf_energy_off", ENERGY_VS_REFERENCE, ""),
    ("ocmf_status_not_ok", METER_STATUS, "ST=T"),
]


@pytest.mark.parametrize(
    ("deviation", "check", "detail"), DEVIATIONS, ids=[d[0] for d in DEVIATIONS]
)
def test_each_deviation_breaks_its_check(rig_factory, deviation, check, detail):
    rig = rig_factory([deviation])
    s = rig.session()
    verdict = _verdict(rig, s)
    failed = {c.name: c.detail for c in verdict.failed}
    assert check in failed, verdict.render()
    assert detail in failed[check], verdict.render()
    # The begin reading is untouched by every defect: it still equals meterStart.
    assert verdict.check(BEGIN_VS_START).status.value == "pass", verdict.render()
    if deviation == "ocmf_energy_off":
        assert verdict.signed_energy_wh == round((s["meter_stop"] - s["meter_start"]) * 1.05)


def test_the_signed_value_is_what_the_oca_note_describes(rig_factory):
    rig = rig_factory()
    s = rig.session(charge_s=5)
    stop = rig.journal.find(message_matcher("StopTransaction"))[-1]
    (sampled,) = stop.payload["transactionData"][0]["sampledValue"]
    assert sampled["format"] == "SignedData"
    assert sampled["context"] == "Transaction.End"
    assert sampled["measurand"] == "Energy.Active.Import.Register"
    obj = json.loads(sampled["value"])
    assert set(obj) == {"signedMeterData", "signingMethod", "encodingMethod", "publicKey"}
    assert obj["encodingMethod"] == "OCMF"
    assert extract_ocmf(sampled["value"]).text == s["signed"][-1].extracted.text
