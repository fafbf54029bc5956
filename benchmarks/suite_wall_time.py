"""Wall time of the checklist on the virtual bench, per step and in total.

    python benchmarks/suite_wall_time.py [robot options, e.g. -i profile:Core]

Runs ``robot robot_suites/`` into a temporary folder and prints each test's time, so a
slower step shows up as a number, not as a feeling.
"""

from __future__ import annotations

import io
import sys
import tempfile
import time
from pathlib import Path

from robot.api import ExecutionResult

SUITES = Path(__file__).resolve().parents[1] / "robot_suites"


def main(argv: list[str]) -> int:
    with tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        rc = _run(out, argv)
        wall = time.perf_counter() - started
        result = ExecutionResult(str(Path(out) / "output.xml"))
        rows = []

        def visit(suite):
            for test in suite.tests:
                step = next((t[5:] for t in test.tags if t.startswith("step:")), "-")
                rows.append((step, test.status, test.elapsed_time.total_seconds(), test.name))
            for child in suite.suites:
                visit(child)

        visit(result.suite)
    for step, status, secs, name in rows:
        print(f"step {step:>4}  {status:4}  {secs:6.1f} s  {name}")
    print(f"{len(rows)} tests, wall time {wall:.1f} s (robot exit code {rc})")
    return rc


def _run(out: str, argv: list[str]) -> int:
    from robot import run

    return run(
        str(SUITES),
        outputdir=out,
        log="NONE",
        report="NONE",
        stdout=io.StringIO(),
        **_options(argv),
    )


def _options(argv: list[str]) -> dict[str, list[str]]:
    """The few robot options worth passing here: -i/--include, -e/--exclude, -v/--variable."""
    names = {
        "-i": "include",
        "--include": "include",
        "-e": "exclude",
        "--exclude": "exclude",
        "-v": "variable",
        "--variable": "variable",
    }
    options: dict[str, list[str]] = {}
    for flag, value in zip(argv[::2], argv[1::2], strict=False):
        if flag not in names:
            raise SystemExit(f"unsupported option {flag}; use -i, -e or -v")
        options.setdefault(names[flag], []).append(value)
    return options


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
