"""A back office, the virtual station and the lab's file server, for the firmware,
diagnostics, cache and trigger tests of the station.

Everything is real and on loopback: the station speaks OCPP-J to the back office on a
background loop and fetches / uploads files from / to a :class:`LabFileServer`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from hil.csms.journal import CALL, RX, Frame, message_matcher
from hil.csms.loop import BackgroundLoop
from hil.csms.server import BackOffice
from hil.lab.bench import make_policy
from hil.lab.config import parse_lab_config
from hil.lab.fileserver import LabFileServer
from hil.lab.firmware_image import write_test_images
from hil.sim.physics import BenchPhysics
from hil.sim.station.station import VirtualStation

REPO = Path(__file__).resolve().parents[2]
WAIT_S = 8.0
OLD_VERSION = "1.0.0"
NEW_VERSION = "1.0.1"


def iso_in(seconds: float) -> str:
    stamp = datetime.now(UTC) + timedelta(seconds=seconds)
    return stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class MaintenanceRig:
    """Back office + virtual station on one background loop, file server on its threads."""

    def __init__(
        self,
        tmp: Path,
        deviations: list[str],
        capabilities: dict[str, Any],
        transfer_timeout_s: float = 1.0,
    ) -> None:
        data = yaml.safe_load((REPO / "lab_configs" / "virtual.yaml").read_text())
        data["virtual"].update(
            deviations=deviations, boot_delay_s=0, transfer_timeout_s=transfer_timeout_s
        )
        data["dut"]["firmware"] = OLD_VERSION
        data["dut"]["capabilities"].update(capabilities)
        self.cfg = parse_lab_config(data, "test")
        self.files = LabFileServer(tmp / "files", tmp / "transfers.jsonl")
        self.files.start()
        self.images = write_test_images(self.files.root / "firmware", NEW_VERSION)
        self.loop = BackgroundLoop("maintenance-test").start()
        self.office = BackOffice(make_policy(self.cfg), tmp / "journal", call_timeout=3)
        self.loop.run(self.office.start(), timeout=5)
        self.physics = BenchPhysics()
        self.station = VirtualStation(self.cfg, self.physics, self.office.url())
        self.session = self.office.session(self.cfg.dut.station_id)
        self.journal = self.session.journal
        self.task = self.loop.run(self._spawn(), timeout=5)
        self.wait_for("BootNotification", kinds=("CALLRESULT",), direction="tx")
        for cid in range(self.cfg.dut.connectors + 1):  # the boot's reports are all in
            self.wait_for("StatusNotification", connectorId=cid)

    async def _spawn(self) -> asyncio.Task[None]:
        return asyncio.get_running_loop().create_task(self.station.run())

    def close(self) -> None:
        async def stop() -> None:
            # the back office first: a station CALL still waiting for its answer ends at
            # once instead of at its response timeout
            await self.office.stop()
            await self.station.stop()
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)

        try:
            self.loop.run(stop(), timeout=10)
            self.loop.stop()
        finally:
            self.files.stop()

    # -- helpers -------------------------------------------------------------------

    def call(self, action: str, payload: dict[str, Any], timeout: float = 5) -> dict[str, Any]:
        return self.loop.run(self.session.call(action, payload), timeout=timeout)

    def on_loop(self, fn: Any, *args: Any) -> Any:
        async def call() -> Any:
            return fn(*args)

        return self.loop.run(call(), timeout=5)

    def wait_for(
        self,
        action: str | None,
        after: int = 0,
        kinds: tuple[str, ...] = (CALL,),
        direction: str = RX,
        timeout: float = WAIT_S,
        **fields: Any,
    ) -> Frame:
        return self.journal.wait_for(
            message_matcher(action, kinds, direction, fields), after, timeout, str(action)
        )

    def calls(self, action: str, after: int = 0) -> list[Frame]:
        return [
            f
            for f in self.journal.frames(after)
            if f.dir == RX and f.kind == CALL and f.action == action
        ]

    def statuses(self, action: str, after: int, until_final: tuple[str, ...]) -> list[Frame]:
        """Status notifications of ``action`` after ``after`` up to one in ``until_final``."""
        frames: list[Frame] = []
        cursor = after
        while True:
            frame = self.wait_for(action, cursor)
            frames.append(frame)
            cursor = frame.seq
            if frame.payload["status"] in until_final:
                return frames

    def update_firmware(self, location: str, **extra: Any) -> int:
        mark = self.journal.cursor
        payload = {"location": location, "retrieveDate": extra.pop("retrieveDate", iso_in(0))}
        payload.update(extra)
        assert self.call("UpdateFirmware", payload) == {}
        return mark


def rig_factory_for(tmp_path: Path) -> Iterator[Any]:
    """Body of a ``rig_factory`` fixture: make rigs, and close them all afterwards."""
    rigs: list[MaintenanceRig] = []

    def make(
        deviations: tuple[str, ...] = (), transfer_timeout_s: float = 1.0, **capabilities: Any
    ) -> MaintenanceRig:
        rig = MaintenanceRig(
            tmp_path / f"rig{len(rigs)}", list(deviations), capabilities, transfer_timeout_s
        )
        rigs.append(rig)
        return rig

    yield make
    for rig in rigs:
        rig.close()
