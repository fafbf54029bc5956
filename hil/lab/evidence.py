"""One run's evidence in its output folder, never mixed with an earlier run's.

Robot overwrites ``output.xml`` and the logs when a run reuses an output folder; the lab's
own evidence must do the same, or a journal would hold two runs. A run leaves a marker,
``hil-run.json`` (run id, start time, lab config); a new run that finds one removes what
the last run left — only the files and folders the lab itself writes, so a run started in
a folder with other files (the current folder by default) never deletes anything else.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

MARKER = "hil-run.json"
#: The step a run is on now (live progress of a nightly run reads it).
CURRENT_STEP_FILE = "current-step.json"
#: Each finished step's verdict, remarks and evidence pointers, a line as it ends (the
#: report of a run that died is built from it).
STEPS_FILE = "steps.jsonl"
#: Evidence records for the report (energy reconciliations, plots, Eichrecht verdicts, the
#: configuration read in step 3, the instruments used), a line as it is produced.
EVIDENCE_FILE = "evidence.jsonl"
#: What a run writes into its output folder (files, and folders wholly the lab's).
RUN_FILES = (
    "samples.jsonl",
    "remarks.jsonl",
    "refusals.jsonl",
    "transfers.jsonl",
    "virtual-bench.log",
    STEPS_FILE,
    EVIDENCE_FILE,
    CURRENT_STEP_FILE,
    "certification-report.html",
    "certification-report.md",
    "certification-report.pdf",
)
RUN_DIRS = ("journal", "plots", "files", "report-plots", "run-files")


def now() -> str:
    """UTC, ISO 8601 with milliseconds (steps that end within a second still sort)."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def start_run(output_dir: Path, lab_source: str, facts: dict[str, Any] | None = None) -> str:
    """Clear the previous run's evidence (if this folder had one) and mark a new run.
    ``facts`` (the DUT and the lab as configured) go into the marker for the report.
    Returns the new run id."""
    output_dir.mkdir(parents=True, exist_ok=True)
    if (output_dir / MARKER).is_file():
        for name in RUN_FILES:
            (output_dir / name).unlink(missing_ok=True)
        for name in RUN_DIRS:
            shutil.rmtree(output_dir / name, ignore_errors=True)
    run_id = uuid.uuid4().hex[:12]
    record = {"run_id": run_id, "started": now(), "lab_config": lab_source, **(facts or {})}
    write_json_atomically(output_dir / MARKER, record)
    return run_id


def write_json_atomically(path: Path, record: dict[str, Any]) -> None:
    """Replace ``path`` as a whole: other processes (hil nightly, the report) read these
    small files while the run rewrites them, and must never see half a file."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(record) + "\n", encoding="utf-8")
    tmp.replace(path)


#: the messages Robot gives a test it stopped or never ran because the run was stopped
#: (SIGINT/SIGTERM, a fatal error): not a verdict on the station
ROBOT_STOP_MESSAGES = (
    "Execution terminated by signal",
    "Test execution stopped due to a fatal error.",
)


def stopped_by_robot(message: str) -> bool:
    """True when Robot, not the station, ended this test: the run was being stopped."""
    return any(m in message for m in ROBOT_STOP_MESSAGES)


def update_run(output_dir: Path, **facts: Any) -> None:
    """Add ``facts`` to the run marker (the DUT as configured once the config is read; the
    end time when the run ends — a report of a run without it says interrupted)."""
    record = read_run(output_dir)
    if record is None:
        return
    record.update(facts)
    write_json_atomically(output_dir / MARKER, record)


def write_current_step(
    output_dir: Path, step: str, name: str, started: str, finished: bool = False
) -> None:
    """Say which step the run is on (a live view for hil nightly)."""
    record = {"step": step, "name": name, "started": started, "finished": finished}
    write_json_atomically(output_dir / CURRENT_STEP_FILE, record)


def process_alive(pid: int) -> bool:
    """Is process ``pid`` (of this host) still there? A run without an end time whose
    process is gone was interrupted; one whose process lives is still running."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # there, but someone else's
        return True
    return True


def read_run(output_dir: Path) -> dict[str, Any] | None:
    """The run marker of ``output_dir``, or None when there is none (or it is unreadable)."""
    try:
        record = json.loads((output_dir / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


class JsonLines:
    """An append-only JSON lines file, each line written and flushed as it comes, so a run
    that is killed keeps every line it wrote (a half line at most, which readers skip)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def append(self, record: dict[str, Any]) -> None:
        line = json.dumps(record, ensure_ascii=False, default=str) + "\n"
        with self._lock, self.path.open("a", encoding="utf-8") as fh:
            fh.write(line)
            fh.flush()


def read_json_lines(path: Path) -> list[dict[str, Any]]:
    """Every whole record of a JSON lines file; a torn last line (a killed run) is skipped."""
    records: list[dict[str, Any]] = []
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return records
    for line in text.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict):
            records.append(record)
    return records
