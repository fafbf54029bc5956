"""The virtual DC bench: a DC station (``dut.current_type: DC``) with the virtual DC EV
emulator and the virtual LEM DCBM, against a real back office, all on loopback.

The bench (:class:`hil.sim.bench.VirtualBench`, what ``hil sim`` runs) is started in-process
on a background loop with the back office; the test drives the EV and reads the meter only
through the lab's drivers (``hil-dcev``, ``lem-dcbm``), as a suite would.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from drivers.registry import create_driver
from hil.csms.journal import CALL, RX, message_matcher
from hil.csms.loop import BackgroundLoop
from hil.csms.server import BackOffice
from hil.lab.bench import make_policy
from hil.lab.config import parse_lab_config
from hil.sim.bench import VirtualBench
from hil.sim.physics import BenchPhysics
from hil.sim.station.power_stage import DcPowerStage, make_power_stage

REPO = Path(__file__).resolve().parents[2]
WAIT_S = 10.0


class DcRig:
    """Back office + virtual DC bench on one background loop; the DC drivers, opened."""

    def __init__(self, tmp: Path, lab_file: str, deviations: list[str] | None = None) -> None:
        data = yaml.safe_load((REPO / "lab_configs" / lab_file).read_text())
        data["virtual"].update(boot_delay_s=0, deviations=list(deviations or []))
        data["timings"]["meter_sample_interval_s"] = 1
        self.cfg = parse_lab_config(data, lab_file)
        self.v201 = self.cfg.dut.ocpp == "2.0.1"
        self.loop = BackgroundLoop("dc-bench-test").start()
        self.office = BackOffice(make_policy(self.cfg), tmp / "journal", call_timeout=3)
        self.loop.run(self.office.start(), timeout=5)
        self.session = self.office.session(self.cfg.dut.station_id)
        self.journal = self.session.journal
        self.bench = VirtualBench(self.cfg, self.office.url())
        self.addresses = self.loop.run(self.bench.start(), timeout=10)
        self.ev = create_driver("dc_ev_emulator", "hil-dcev", self.addresses["dc_ev_emulator"], {})
        self.meter = create_driver("dc_meter", "lem-dcbm", self.addresses["dc_meter"], {})
        self.ev.open()
        self.meter.open()

    def close(self) -> None:
        for driver in (self.ev, self.meter):
            driver.close()

        async def stop() -> None:
            await self.office.stop()
            await self.bench.stop()

        self.loop.run(stop(), timeout=10)
        self.loop.stop()

    def call(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        return self.loop.run(self.session.call(action, payload), timeout=5)

    def wait_for(self, action: str, after: int = 0, kinds: tuple[str, ...] = (CALL,), **fields):
        return self.journal.wait_for(
            message_matcher(action, kinds, RX, fields), after, WAIT_S, action
        )

    def readings(self, after: int) -> list[tuple[int, dict[str, dict[str, Any]]]]:
        """(seq, measurand -> sampled value) of every periodic reading after ``after``."""
        out = []
        for frame in self.journal.frames(after):
            if frame.dir != RX or frame.kind != CALL:
                continue
            if frame.action not in ("MeterValues", "TransactionEvent"):
                continue
            for mv in frame.payload.get("meterValue", []):
                values = {sv.get("measurand"): sv for sv in mv["sampledValue"]}
                out.append((frame.seq, values))
        return out

    def wait_reading(
        self, after: int, check: Callable[[dict[str, dict[str, Any]]], bool], what: str
    ) -> tuple[int, dict[str, dict[str, Any]]]:
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            for seq, values in self.readings(after):
                if check(values):
                    return seq, values
            time.sleep(0.1)
        raise AssertionError(f"no reading with {what}; got {self.readings(after)[-3:]}")


@pytest.fixture
def dc_rig(tmp_path) -> Iterator[Callable[[str], DcRig]]:
    rigs: list[DcRig] = []

    def make(lab_file: str) -> DcRig:
        rig = DcRig(tmp_path / f"rig{len(rigs)}", lab_file)
        rigs.append(rig)
        return rig

    yield make
    for rig in rigs:
        rig.close()


def value(values: dict[str, dict[str, Any]], measurand: str) -> float:
    return float(values[measurand]["value"])


def start_dc_session(rig: DcRig) -> int:
    """Boot seen, EV plugged, a remote start, the EV's DIN 70121 session until current
    flows; the journal cursor before the start."""
    rig.wait_for("BootNotification")
    rig.ev.plug()
    mark = rig.journal.cursor
    tag = rig.cfg.tags.valid[0]
    if rig.v201:
        answer = rig.call(
            "RequestStartTransaction",
            {"idToken": {"idToken": tag, "type": "ISO14443"}, "remoteStartId": 1, "evseId": 1},
        )
        assert answer["status"] == "Accepted"
        rig.wait_for("TransactionEvent", mark, eventType="Started")
    else:
        answer = rig.call("RemoteStartTransaction", {"idTag": tag, "connectorId": 1})
        assert answer["status"] == "Accepted"
        rig.wait_for("StartTransaction", mark)
    rig.ev.start_session("DIN70121")
    deadline = time.monotonic() + WAIT_S
    while rig.ev.read_present().current_a < 1.0:
        assert time.monotonic() < deadline, "no DC current within the wait"
        time.sleep(0.1)
    return mark


def set_watt_limit(rig: DcRig, watts: float) -> None:
    start = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    period = [{"startPeriod": 0, "limit": watts}]
    if rig.v201:
        profile = {
            "id": 7,
            "stackLevel": 0,
            "chargingProfilePurpose": "TxDefaultProfile",
            "chargingProfileKind": "Absolute",
            "chargingSchedule": [
                {
                    "id": 1,
                    "startSchedule": start,
                    "chargingRateUnit": "W",
                    "chargingSchedulePeriod": period,
                }
            ],
        }
        answer = rig.call("SetChargingProfile", {"evseId": 1, "chargingProfile": profile})
    else:
        profile = {
            "chargingProfileId": 7,
            "stackLevel": 0,
            "chargingProfilePurpose": "TxDefaultProfile",
            "chargingProfileKind": "Absolute",
            "chargingSchedule": {
                "startSchedule": start,
                "chargingRateUnit": "W",
                "chargingSchedulePeriod": period,
            },
        }
        answer = rig.call("SetChargingProfile", {"connectorId": 1, "csChargingProfiles": profile})
    assert answer["status"] == "Accepted"


@pytest.mark.parametrize("lab_file", ["virtual-dc.yaml", "virtual-dc-201.yaml"])
def test_dc_session_reports_dc_measurands_and_a_watt_limit_lowers_the_power(dc_rig, lab_file):
    """A DC station's MeterValues carry what a DC charge has (OCPP 1.6 §7.31 / 2.0.1
    MeasurandEnumType): the EV's SoC (location EV), the DC voltage, Power.Offered; a
    charging limit in W must cap the DC power the station delivers and Power.Offered
    (harm: a DC station that reported AC phases or ignored a W limit would pass the
    checklist unseen, or a virtual DC bench would not exist at all)."""
    rig = dc_rig(lab_file)
    mark = start_dc_session(rig)
    seq, values = rig.wait_reading(
        mark,
        lambda v: "SoC" in v and value(v, "Current.Import") > 120,  # ramped up to 125 A
        "SoC and the full DC current",
    )
    assert values["SoC"]["location"] == "EV"
    assert 20.0 <= value(values, "SoC") <= 100.0
    assert 300.0 < value(values, "Voltage") < 450.0  # the EV battery's, not 230 V AC
    assert "phase" not in values["Voltage"]
    assert value(values, "Power.Offered") > 40_000  # dut.dc: 50 kW / 125 A
    assert value(values, "Power.Active.Import") > 40_000
    assert rig.ev.read_present().power_w > 40_000

    set_watt_limit(rig, 20_000)
    seq, values = rig.wait_reading(
        seq,
        lambda v: "Power.Offered" in v and value(v, "Power.Offered") == pytest.approx(20_000),
        "Power.Offered 20000",
    )
    assert value(values, "Power.Active.Import") <= 20_000 + 1
    assert rig.ev.read_present().power_w <= 20_000 + 1


def test_the_lem_meter_counts_what_the_station_register_counts(dc_rig):
    """The station's own register and its signing DC meter (LEM DCBM, read through the
    lem-dcbm driver) measure the same energy: a virtual bench whose meters disagree would
    fail every energy check of a correct station (Eichrecht: the meter's reading is the
    billed one)."""
    rig = dc_rig("virtual-dc.yaml")
    start_dc_session(rig)
    meter_start = rig.wait_for("StartTransaction").payload["meterStart"]
    time.sleep(3)  # about 35 Wh at 45 kW
    tx_id = rig.loop.run(_tx_id(rig), timeout=5)
    mark = rig.journal.cursor
    assert rig.call("RemoteStopTransaction", {"transactionId": tx_id})["status"] == "Accepted"
    stop = rig.wait_for("StopTransaction", mark)
    station_wh = stop.payload["meterStop"] - meter_start
    meter_wh = float(rig.meter.read_measurement().energy_import_wh)
    assert station_wh > 20
    # the meter counts from the bench's start: energy flows only in the transaction
    assert meter_wh == pytest.approx(station_wh, abs=2)  # whole Wh on both sides


async def _tx_id(rig: DcRig) -> int:
    tx = rig.bench.station.charging.transaction(1)
    assert tx is not None and tx.transaction_id is not None
    return tx.transaction_id


def _stage(limit: tuple[float, str] | None, closed: bool = True) -> DcPowerStage:
    cfg = parse_lab_config(yaml.safe_load((REPO / "lab_configs" / "virtual-dc.yaml").read_text()))
    stage = make_power_stage(cfg, BenchPhysics())
    assert isinstance(stage, DcPowerStage)
    stage.physics.set_contactor(closed)
    stage.limit_source = lambda: limit
    return stage


def test_dc_offer_reads_a_watt_limit_as_power_and_an_amp_limit_as_dc_current():
    """On a DC station a charging limit in A is the DC output current and one in W the DC
    power (OCPP 1.6 §3.13.2 chargingRateUnit), never an AC phase current at 230 V over
    three phases; nothing is offered while the station has not closed its output
    (no authorised transaction): a DC output live without one would charge for free."""
    assert _stage(None).offer(400.0) == (50_000.0, 125.0)  # dut.dc: 50 kW, 125 A
    assert _stage((50.0, "A")).offer(400.0) == (20_000.0, 50.0)
    assert _stage((20_000.0, "W")).offer(400.0) == (20_000.0, 50.0)
    assert _stage((90_000.0, "W")).offer(400.0) == (50_000.0, 125.0)  # dut.dc caps it
    assert _stage(None, closed=False).offer(400.0) == (0.0, 0.0)
