"""How many stations and messages the back office serves, with every frame journaled.

Starts the back office on loopback with journals in a temporary folder, connects
``--stations`` OCPP-J clients (plain WebSocket clients speaking raw OCPP 1.6J frames,
so the client side costs little), has each send ``--messages`` CALLs one at a time
(MeterValues and Heartbeat, as a station in a session does) and prints throughput and
round-trip latency percentiles. Bounded in count and time: it stops after ``--limit-s``.

    python benchmarks/back_office_load.py --stations 50 --messages 200
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path

from websockets.asyncio.client import connect

from hil.csms.loop import BackgroundLoop
from hil.csms.policy import ResponsePolicy
from hil.csms.server import BackOffice

METER_VALUES = {
    "connectorId": 1,
    "transactionId": 1,
    "meterValue": [
        {
            "timestamp": "2026-11-21T12:00:00Z",
            "sampledValue": [
                {"value": "1250012.3", "measurand": "Energy.Active.Import.Register", "unit": "Wh"}
            ],
        }
    ],
}


async def station(url: str, messages: int, latencies: list[float]) -> int:
    done = 0
    async with connect(url, subprotocols=["ocpp1.6"]) as ws:
        await ws.send(
            json.dumps(
                [
                    2,
                    "b",
                    "BootNotification",
                    {"chargePointVendor": "Bench", "chargePointModel": "Load"},
                ]
            )
        )
        await ws.recv()
        for i in range(messages):
            action, payload = ("Heartbeat", {}) if i % 10 == 0 else ("MeterValues", METER_VALUES)
            started = time.perf_counter()
            await ws.send(json.dumps([2, str(i), action, payload]))
            reply = json.loads(await ws.recv())
            latencies.append(time.perf_counter() - started)
            if reply[0] != 3:
                raise RuntimeError(f"unexpected reply {reply}")
            done += 1
    return done


async def run_load(
    port: int, stations: int, messages: int, limit_s: float
) -> tuple[int, float, list[float]]:
    latencies: list[float] = []
    started = time.perf_counter()
    tasks = [
        station(f"ws://127.0.0.1:{port}/LOAD-{n:04d}", messages, latencies) for n in range(stations)
    ]
    counts = await asyncio.wait_for(asyncio.gather(*tasks), limit_s)
    return sum(counts), time.perf_counter() - started, latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stations", type=int, default=50)
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--limit-s", type=float, default=120.0)
    args = parser.parse_args()

    loop = BackgroundLoop("bench-backoffice").start()
    with tempfile.TemporaryDirectory() as tmp:
        office = BackOffice(ResponsePolicy(300), Path(tmp), ping_interval=None)
        port = loop.run(office.start(), 10)
        try:
            total, elapsed, lat = asyncio.run(
                run_load(port, args.stations, args.messages, args.limit_s)
            )
        finally:
            loop.run(office.stop(), 10)
            loop.stop()
        journal_bytes = sum(p.stat().st_size for p in Path(tmp).glob("*.jsonl"))
    lat.sort()
    print(f"stations            {args.stations}")
    print(f"CALLs answered      {total} in {elapsed:.2f} s = {total / elapsed:.0f} CALL/s")
    print(f"round trip p50      {statistics.median(lat) * 1000:.2f} ms")
    print(f"round trip p99      {lat[int(len(lat) * 0.99) - 1] * 1000:.2f} ms")
    print(f"round trip max      {lat[-1] * 1000:.2f} ms")
    print(f"journal written     {journal_bytes / 1e6:.1f} MB, flushed per frame")


if __name__ == "__main__":
    main()
