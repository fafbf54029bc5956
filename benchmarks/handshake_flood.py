"""Flood the back office with refused handshakes while the station under test heartbeats.

Anyone who can reach the back office's port can try to connect. This floods it from
loopback with handshakes it must refuse — a wrong Basic auth password under a new station
id each time (the default), or accepted connections under made-up ids (``--kind new-ids``,
security profile 0) — while a station with the right password sends a Heartbeat every
0.2 s, and prints the heartbeat round-trip (the back office must keep serving the station
under test), the back office's open files and journals, and the refusals log's size.
Bounded in count (``--count``) and time (``--limit-s``).

    python benchmarks/handshake_flood.py --count 1100 --concurrency 50

With ``--url`` it only floods a back office that is already running (the tests use that,
from another process, as a real flood comes from other hosts) and prints what came back.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

STATION = "CP-DUT"
PASSWORD = "flood-test-key-0123456789"


def _auth(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
    return {"Authorization": f"Basic {token}"}


async def _one(base_url: str, i: int, kind: str) -> str:
    """One handshake of the flood; what came back (an HTTP status, accepted, or an error)."""
    station = f"FLOOD-{i}"
    headers = _auth(station, "wrong-password") if kind == "wrong-password" else {}
    try:
        async with connect(
            base_url + station,
            subprotocols=["ocpp1.6"],  # type: ignore[list-item]
            additional_headers=headers,
            open_timeout=10,
        ):
            return "accepted"
    except InvalidStatus as exc:
        return str(exc.response.status_code)
    except Exception as exc:  # noqa: BLE001 - the flood counts whatever happens
        return type(exc).__name__


async def flood(base_url: str, count: int, concurrency: int, kind: str, limit_s: float) -> Counter:
    """``count`` handshakes, ``concurrency`` at a time, stopping after ``limit_s``."""
    outcomes: Counter[str] = Counter()
    deadline = time.monotonic() + limit_s
    queue = iter(range(count))

    async def worker() -> None:
        for i in queue:
            if time.monotonic() > deadline:
                outcomes["not sent (time limit)"] += 1
                continue
            outcomes[await _one(base_url, i, kind)] += 1

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return outcomes


def open_files() -> int:
    return len(os.listdir("/proc/self/fd"))


def _heartbeats(url: str, stop: threading.Event, latencies: list[float]) -> None:
    async def beat() -> None:
        async with connect(
            url,
            subprotocols=["ocpp1.6"],  # type: ignore[list-item]
            additional_headers=_auth(STATION, PASSWORD),
        ) as ws:
            boot = {"chargePointVendor": "Bench", "chargePointModel": "Flood"}
            await ws.send(json.dumps([2, "boot", "BootNotification", boot]))
            await ws.recv()
            n = 0
            while not stop.is_set():
                n += 1
                started = time.perf_counter()
                await ws.send(json.dumps([2, f"hb{n}", "Heartbeat", {}]))
                await asyncio.wait_for(ws.recv(), 10)
                latencies.append(time.perf_counter() - started)
                await asyncio.sleep(0.2)

    asyncio.run(beat())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=1100)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--kind", choices=("wrong-password", "new-ids"), default="wrong-password")
    parser.add_argument("--limit-s", type=float, default=60.0)
    parser.add_argument("--url", help="flood this running back office (ws://host:port/)")
    args = parser.parse_args()
    if args.url:
        outcomes = asyncio.run(
            flood(args.url, args.count, args.concurrency, args.kind, args.limit_s)
        )
        print(json.dumps(dict(outcomes)))
        return 0

    from hil.csms.loop import BackgroundLoop
    from hil.csms.policy import ResponsePolicy
    from hil.csms.security import ServerSecurity
    from hil.csms.server import BackOffice

    with tempfile.TemporaryDirectory() as tmp:
        profile = 1 if args.kind == "wrong-password" else 0
        security = ServerSecurity(profile=profile, passwords={STATION: PASSWORD})
        office = BackOffice(
            ResponsePolicy(300),
            Path(tmp) / "journal",
            ping_interval=None,
            security=security,
            refusals_path=Path(tmp) / "refusals.jsonl",
        )
        office.session(STATION)
        loop = BackgroundLoop("flood").start()
        loop.run(office.start(), timeout=5)
        files_before = open_files()
        stop, latencies = threading.Event(), []
        dut = threading.Thread(target=_heartbeats, args=(office.url(STATION), stop, latencies))
        dut.start()
        time.sleep(0.5)
        started = time.perf_counter()
        outcomes = asyncio.run(
            flood(office.url(), args.count, args.concurrency, args.kind, args.limit_s)
        )
        elapsed = time.perf_counter() - started
        files_during = open_files()
        stop.set()
        dut.join(15)
        journals = len(list((Path(tmp) / "journal").iterdir()))
        refusal_lines = len((Path(tmp) / "refusals.jsonl").read_text().splitlines())
        loop.run(office.stop(), timeout=5)
        loop.stop()
    print(f"flood: {args.count} {args.kind} handshakes, {args.concurrency} at a time")
    print(f"  took {elapsed:.1f} s ({args.count / elapsed:.0f} handshakes/s): {dict(outcomes)}")
    if latencies:
        q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else latencies * 99
        print(
            f"  DUT heartbeats: {len(latencies)}, round trip median {q[49] * 1000:.1f} ms, "
            f"p99 {q[98] * 1000:.1f} ms, max {max(latencies) * 1000:.1f} ms"
        )
    print(f"  open files: {files_before} before, {files_during} after the flood (this process)")
    print(f"  journal files: {journals}; refusals log lines: {refusal_lines}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
