"""Where each bench of a night is, from the small files its run writes as it goes.

Every bench's Robot process has its own output folder under ``pabot_results/``; which
bench it drives is known only once `Open Lab` took a value set, from the run marker
(``hil-run.json``: ``lab_config``). From there: ``current-step.json`` (the step it is on),
``steps.jsonl`` (a line per finished step, with its verdict) and ``ended`` in the marker.

The list written to ``nightly-status.json`` is read by the history page: its field names
(bench, step, name, done, total, verdicts {Y, N, N/A, E}, failed, lab_errors, state) are
an interface.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hil.lab.evidence import CURRENT_STEP_FILE, MARKER, STEPS_FILE, read_json_lines, read_run
from hil.nightly.benches import Bench
from hil.verdict import record_verdict

STATUS_FILE = "nightly-status.json"
RUNNING, FINISHED, INTERRUPTED, PREFLIGHT_FAILED = (
    "running",
    "finished",
    "interrupted",
    "preflight-failed",
)


def bench_folders(
    pabot_results: Path, benches: Sequence[Bench], since: str = ""
) -> dict[str, Path]:
    """Bench name -> the output folder of its run (a run marker naming its lab config and
    started at or after ``since``, so a folder of an earlier night never counts)."""
    by_config = {str(b.config): b.name for b in benches}
    found: dict[str, tuple[str, Path]] = {}
    if not pabot_results.is_dir():
        return {}
    for marker in pabot_results.glob(f"*/*/{MARKER}"):
        run = read_run(marker.parent) or {}
        name = by_config.get(str(run.get("lab_config", "")))
        started = str(run.get("started", ""))
        if name is None or started < since:
            continue
        if name not in found or started > found[name][0]:
            found[name] = (started, marker.parent)
    return {name: folder for name, (_, folder) in found.items()}


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def bench_status(
    bench: Bench, folder: Path | None, total: int, over: bool, stopped: bool = False
) -> dict[str, Any]:
    """One bench's line. ``over``: pabot has ended (or is gone), so a run without ``ended``
    will never get one; ``stopped``: the night was interrupted, so a run that ended before
    all its steps (Robot's graceful stop still closes the lab) is interrupted too."""
    record: dict[str, Any] = {
        "bench": bench.name,
        "step": "",
        "name": "",
        "done": 0,
        "total": total,
        "verdicts": {"Y": 0, "N": 0, "N/A": 0, "E": 0},
        #: the steps that ended N, and those that ended as a lab error, as they end
        "failed": [],
        "lab_errors": [],
        "state": RUNNING,
    }
    if not bench.ok:
        record.update(state=PREFLIGHT_FAILED, message="; ".join(bench.problems))
        return record
    if folder is None:
        record["state"] = INTERRUPTED if over else RUNNING
        return record
    steps = read_json_lines(folder / STEPS_FILE)
    for step in steps:
        verdict = record_verdict(step)
        if verdict:
            record["verdicts"][verdict] += 1
        if verdict in ("N", "E"):
            record["failed" if verdict == "N" else "lab_errors"].append(str(step.get("step", "")))
    record["done"] = len(steps)
    current = _read_json(folder / CURRENT_STEP_FILE)
    if current and not current.get("finished"):
        record["step"] = str(current.get("step", ""))
        record["name"] = str(current.get("name", ""))
    ended = bool((read_run(folder) or {}).get("ended"))
    if ended and not (stopped and record["done"] < total):
        record["state"] = FINISHED
    elif over or stopped:
        record["state"] = INTERRUPTED
    return record


def night_status(
    benches: Sequence[Bench],
    pabot_results: Path,
    total: int,
    since: str = "",
    over: bool = False,
    stopped: bool = False,
) -> list[dict[str, Any]]:
    folders = bench_folders(pabot_results, benches, since)
    return [
        bench_status(b, folders.get(b.name) if b.ok else None, total, over, stopped)
        for b in benches
    ]


def write_status(path: Path, records: list[dict[str, Any]]) -> None:
    """Replace the status file atomically: the history page never reads half of it."""
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(records, indent=1) + "\n", encoding="utf-8")
    tmp.replace(path)
