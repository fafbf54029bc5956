"""Does a night of three benches take as long as one? And how fast does a waiting keyword
wake up when its frame arrives?

    python benchmarks/parallel_benches.py [--whole] [--include TAG ...] [--skip-benches]
                                          [--waits N]

1. Runs the checklist (default: the Core profile, ``--whole`` for all of it) with
   ``hil nightly`` on one virtual bench, then on three in parallel; prints both wall times,
   their ratio (goal <= 1.3: a bench mostly waits on its station, so three share the
   cores) and the CPU time per bench (user + sys of pabot, Robot and the virtual bench
   processes, from ``getrusage(RUSAGE_CHILDREN)``) as a fraction of one core.
2. Wake-up latency of ``Journal.wait_for``: a thread appends a frame while another waits
   for it; from the frame's ``mono`` timestamp to ``wait_for`` returning, p50 and p99 over
   ``--waits`` waits (goal p99 < 5 ms).
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
VIRTUAL_LAB = REPO / "lab_configs" / "virtual.yaml"


def write_benches(folder: Path, count: int) -> Path:
    data = yaml.safe_load(VIRTUAL_LAB.read_text())
    folder.mkdir(parents=True)
    for i in range(1, count + 1):
        data["lab"]["name"] = f"Virtual bench {i}"
        data["dut"]["station_id"] = f"VIRTUAL-CP-{i:03d}"
        (folder / f"bench{i}.yaml").write_text(yaml.safe_dump(data))
    return folder


def _cpu_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def night(tmp: Path, count: int, include: list[str]) -> tuple[float, float, int]:
    """(wall s, CPU s of every process of the night, exit code) of ``hil nightly``."""
    benches = write_benches(tmp / f"benches-{count}", count)
    cmd = [sys.executable, "-m", "hil", "nightly", "--benches", str(benches), "--no-live"]
    cmd += ["-d", str(tmp / f"results-{count}")]
    for tag in include:
        cmd += ["--include", tag]
    cpu0, t0 = _cpu_children(), time.perf_counter()
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    wall, cpu = time.perf_counter() - t0, _cpu_children() - cpu0
    if done.returncode not in (0, 1):
        print(done.stdout[-2000:], done.stderr[-2000:], file=sys.stderr)
    return wall, cpu, done.returncode


def wake_up_latency(waits: int) -> list[float]:
    """Seconds from a frame's append (its ``mono``) to ``wait_for`` returning it."""
    from hil.csms.journal import EVENT, Journal

    with tempfile.TemporaryDirectory() as tmp:
        journal = Journal("CP-BENCH", Path(tmp) / "journal.jsonl")  # written as in a run
        waiting = threading.Event()
        stop = threading.Event()

        def appender() -> None:
            for i in range(waits):
                if not waiting.wait(5) or stop.is_set():
                    return
                waiting.clear()
                time.sleep(0.002)  # the waiter is inside wait_for by now
                journal.record_event("note", n=i)

        thread = threading.Thread(target=appender, daemon=True)
        thread.start()
        latencies = []
        for i in range(waits):
            mark = journal.cursor
            waiting.set()
            frame = journal.wait_for(
                lambda f, i=i: f.dir == EVENT and f.info.get("n") == i, mark, 5.0
            )
            latencies.append(time.monotonic() - frame.mono)
        stop.set()
        thread.join(5)
        journal.close()
    return latencies


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--whole", action="store_true", help="the whole checklist")
    parser.add_argument("--include", action="append", help="Robot --include (overrides Core)")
    parser.add_argument("--skip-benches", action="store_true", help="only the wake-up latency")
    parser.add_argument("--waits", type=int, default=500)
    args = parser.parse_args(argv)
    include = args.include or ([] if args.whole else ["profile:Core"])
    what = "whole checklist" if args.whole and not args.include else " ".join(include)
    if not args.skip_benches:
        with tempfile.TemporaryDirectory() as tmp:
            one, cpu1, rc1 = night(Path(tmp), 1, include)
            print(f"1 bench  ({what}): wall {one:6.1f} s, exit {rc1}", flush=True)
            three, cpu3, rc3 = night(Path(tmp), 3, include)
            print(f"3 benches ({what}): wall {three:6.1f} s, exit {rc3}", flush=True)
        print(f"ratio 3 benches / 1 bench: {three / one:.2f} (goal <= 1.3)")
        print(
            f"CPU per bench: 1 bench {cpu1:.1f} s = {cpu1 / one:.2f} core; "
            f"3 benches {cpu3 / 3:.1f} s each = {cpu3 / 3 / three:.2f} core "
            f"(all three: {cpu3 / three:.2f} cores)"
        )
    latencies = wake_up_latency(args.waits)
    print(
        f"Journal.wait_for wake-up over {len(latencies)} waits: "
        f"p50 {percentile(latencies, 50) * 1000:.3f} ms, "
        f"p99 {percentile(latencies, 99) * 1000:.3f} ms, "
        f"max {max(latencies) * 1000:.3f} ms (goal p99 < 5 ms)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
