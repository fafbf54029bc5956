"""Time to build the certification report of a run, per phase and per format.

    python benchmarks/report_build.py RESULTS_DIR [--repeat 5]

RESULTS_DIR is the output folder of a run (``robot -d RESULTS_DIR robot_suites/``). Every
run writes its report when it ends, so this is time added to every run; it prints the
median of ``--repeat`` rounds for reading output.xml, reading the step records, and
rendering each format.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from hil.report.build import report_for_output_dir, report_from_outputs
from hil.report.render import write_report


def _median_ms(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("results", type=Path)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    out = Path(tempfile.mkdtemp(prefix="hil-report-bench-"))
    report = report_for_output_dir(args.results)
    rows = [
        ("read output.xml", lambda: report_from_outputs([args.results / "output.xml"], out)),
        ("read steps.jsonl", lambda: report_for_output_dir(args.results)),
    ]
    rows += [
        (f"render {fmt}", lambda fmt=fmt: write_report(report, out, formats=(fmt,)))
        for fmt in ("html", "md", "pdf")
    ]
    print(
        f"report of {args.results} ({len(report.sessions)} session(s), {len(report.plots)} plot(s))"
    )
    for name, fn in rows:
        print(f"  {name:<18} {_median_ms(fn, args.repeat):8.1f} ms (median of {args.repeat})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
