"""The virtual bench process: one physics model, the virtual station, virtual instruments.

Started by the bench launcher as ``hil sim --lab FILE --csms-url URL``. When everything
listens it prints one line, ``HIL-BENCH-READY {json}``, with the address of every virtual
instrument; it runs until its stdin closes (the launcher went away, however it died) or it
gets SIGTERM, so it never outlives the run that started it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import sys
import threading
from typing import Any

from hil.lab.config import LabConfig
from hil.sim.physics import BenchPhysics
from hil.sim.station.station import VirtualStation

READY_PREFIX = "HIL-BENCH-READY "
LOG = logging.getLogger("hil.sim")


class VirtualBench:
    """Everything of the virtual bench that runs on its one asyncio loop."""

    def __init__(self, cfg: LabConfig, csms_url: str) -> None:
        self.cfg = cfg
        self.csms_url = csms_url
        self.physics = BenchPhysics(supply_phases=cfg.dut.phases)
        self.station: VirtualStation | None = None
        self.addresses: dict[str, str] = {}
        self._servers: list[Any] = []
        self._station_task: asyncio.Task[None] | None = None

    async def start(self) -> dict[str, str]:
        station_url = self.csms_url
        self.station = VirtualStation(self.cfg, self.physics, station_url)
        self._station_task = asyncio.create_task(self.station.run(), name="virtual-station")
        return self.addresses

    async def stop(self) -> None:
        if self.station is not None:
            await self.station.stop()
        if self._station_task is not None:
            self._station_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._station_task
        for server in reversed(self._servers):
            with contextlib.suppress(Exception):
                await server.stop()


def _watch_stdin(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> None:
    """Stop the bench when stdin reaches EOF: the launching process is gone."""

    def reader() -> None:
        with contextlib.suppress(Exception):
            while sys.stdin.buffer.read(1024):
                pass
        loop.call_soon_threadsafe(stop.set)

    threading.Thread(target=reader, name="stdin-watch", daemon=True).start()


async def serve(cfg: LabConfig, csms_url: str) -> None:
    bench = VirtualBench(cfg, csms_url)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    _watch_stdin(loop, stop)
    try:
        addresses = await bench.start()
        print(READY_PREFIX + json.dumps({"instruments": addresses}), flush=True)
        await stop.wait()
    finally:
        await bench.stop()
        LOG.info("virtual bench stopped")


def main(cfg: LabConfig, csms_url: str) -> int:
    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )
    logging.getLogger("websockets").setLevel(logging.WARNING)
    logging.getLogger("ocpp").setLevel(logging.WARNING)
    asyncio.run(serve(cfg, csms_url))
    return 0
