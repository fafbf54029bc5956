"""How much memory the back office holds as its journals grow (the file is the record).

Starts the real back office on loopback with journals in a temporary folder and prints
the process's resident memory (VmRSS, MiB) at start and after each load, sent over real
WebSockets as raw OCPP 1.6J frames (the client runs in this process too, so its share is
in the figures; it keeps nothing between CALLs):

1. ``--meter-values`` MeterValues CALLs from one station (default 50,000);
2. a night of a real bench's traffic: 12 h at one MeterValues per 10 s per connector on
   ``--night-stations`` stations with ``--connectors`` connectors each (8 x 2 x 4,320 =
   69,120 MeterValues), sent as fast as 8 concurrent clients can — the count matters,
   not the pace;
3. ``--transfers`` DataTransfers of ``--transfer-mib`` MiB each (default thirty of 8 MiB).

CALLs are pipelined (at most ``--in-flight`` unanswered per client); frames/s counts
both directions (a CALL and its CALLRESULT are two journaled frames). Bounded in count
and time: each load stops after ``--limit-s``.

    python benchmarks/journal_memory.py            # the full run (a few minutes)
    python benchmarks/journal_memory.py --quick    # a small run (seconds)
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from websockets.asyncio.client import connect

from hil.csms.loop import BackgroundLoop
from hil.csms.policy import ResponsePolicy
from hil.csms.server import BackOffice

BOOT = {"chargePointVendor": "Bench", "chargePointModel": "Memory"}
NIGHT_S = 12 * 3600
METER_PERIOD_S = 10


def meter_values(connector: int, n: int) -> dict:
    return {
        "connectorId": connector,
        "transactionId": connector,
        "meterValue": [
            {
                "timestamp": "2026-11-21T12:00:00Z",
                "sampledValue": [
                    {
                        "value": f"{1250012.3 + n * 0.7:.1f}",
                        "measurand": "Energy.Active.Import.Register",
                        "unit": "Wh",
                    }
                ],
            }
        ],
    }


def rss_mib() -> float:
    """This process's resident memory (VmRSS from /proc/self/status), in MiB."""
    gc.collect()
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status (this benchmark needs Linux)")


Plan = tuple[int, Callable[[int], tuple[str, dict]]]  # how many CALLs, and the n-th CALL


async def client(url: str, plan: Plan, in_flight: int) -> int:
    """Boot, then send the plan's CALLs (made one at a time, so that the client holds
    none of them) with at most ``in_flight`` unanswered; the count answered."""
    count, make = plan
    async with connect(url, subprotocols=["ocpp1.6"], max_size=None) as ws:
        await ws.send(json.dumps([2, "boot", "BootNotification", BOOT]))
        await ws.recv()
        window = asyncio.Semaphore(in_flight)
        answered = 0

        async def receive() -> None:
            nonlocal answered
            while answered < count:
                reply = json.loads(await ws.recv())
                if reply[0] != 3:
                    raise RuntimeError(f"unexpected reply {str(reply)[:200]}")
                answered += 1
                window.release()

        receiver = asyncio.create_task(receive())
        for i in range(count):
            await window.acquire()
            action, payload = make(i)
            await ws.send(json.dumps([2, str(i), action, payload]))
        await receiver
    return answered


async def load(
    port: int, plans: dict[str, Plan], in_flight: int, limit_s: float
) -> tuple[int, float]:
    """Run one client per station concurrently; (CALLs answered, seconds)."""
    started = time.perf_counter()
    tasks = [
        client(f"ws://127.0.0.1:{port}/{station}", plan, in_flight)
        for station, plan in plans.items()
    ]
    counts = await asyncio.wait_for(asyncio.gather(*tasks), limit_s)
    return sum(counts), time.perf_counter() - started


def report(label: str, answered: int, elapsed: float, stations: int) -> None:
    frames = 2 * (answered + stations)  # each CALL and its answer, and each boot
    print(
        f"{label:<34} {rss_mib():8.1f} MiB   {answered} CALLs in {elapsed:.1f} s = "
        f"{frames / elapsed:,.0f} frames/s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--meter-values", type=int, default=50_000)
    parser.add_argument("--night-stations", type=int, default=8)
    parser.add_argument("--connectors", type=int, default=2)
    parser.add_argument("--night-s", type=int, default=NIGHT_S)
    parser.add_argument("--transfers", type=int, default=30)
    parser.add_argument("--transfer-mib", type=float, default=8)
    parser.add_argument("--in-flight", type=int, default=32)
    parser.add_argument("--limit-s", type=float, default=600.0)
    parser.add_argument("--quick", action="store_true", help="a small run: seconds, not minutes")
    args = parser.parse_args()
    if args.quick:
        args.meter_values, args.night_s, args.transfers = 2_000, 600, 3

    connectors = args.connectors
    per_station = args.night_s // METER_PERIOD_S * connectors

    def night_call(i: int) -> tuple[str, dict]:  # the connectors take turns
        return "MeterValues", meter_values(1 + i % connectors, i // connectors)

    night: dict[str, Plan] = {
        f"NIGHT-{s:02d}": (per_station, night_call) for s in range(1, args.night_stations + 1)
    }
    night_calls = per_station * args.night_stations
    blob = "x" * int(args.transfer_mib * 1024 * 1024)

    def transfer(_: int) -> tuple[str, dict]:
        return "DataTransfer", {"vendorId": "Bench", "messageId": "blob", "data": blob}

    loop = BackgroundLoop("bench-journal-memory").start()
    with tempfile.TemporaryDirectory() as tmp:
        office = BackOffice(ResponsePolicy(300), Path(tmp), ping_interval=None)
        port = loop.run(office.start(), 10)
        try:
            print(f"{'at start':<34} {rss_mib():8.1f} MiB")
            one: dict[str, Plan] = {
                "MEM-0001": (args.meter_values, lambda n: ("MeterValues", meter_values(1, n)))
            }
            answered, elapsed = asyncio.run(load(port, one, args.in_flight, args.limit_s))
            report(f"after {args.meter_values:,} MeterValues", answered, elapsed, 1)
            answered, elapsed = asyncio.run(load(port, night, args.in_flight, args.limit_s))
            report(f"after a night ({night_calls:,} MV)", answered, elapsed, args.night_stations)
            big: dict[str, Plan] = {"BLOB-0001": (args.transfers, transfer)}
            answered, elapsed = asyncio.run(load(port, big, 1, args.limit_s))
            report(
                f"after {args.transfers} x {args.transfer_mib:g} MiB DataTransfer",
                answered,
                elapsed,
                1,
            )
        finally:
            loop.run(office.stop(), 10)
            loop.stop()
        journal_bytes = sum(p.stat().st_size for p in Path(tmp).glob("*.jsonl"))
    print(f"{'journals written':<34} {journal_bytes / 2**20:8.1f} MiB on disk")
    print(f"{'at the end (back office stopped)':<34} {rss_mib():8.1f} MiB")


if __name__ == "__main__":
    main()
