"""One run's evidence in its output folder, never mixed with an earlier run's.

Robot overwrites ``output.xml`` and the logs when a run reuses an output folder; the lab's
own evidence must do the same, or a journal would hold two runs. A run leaves a marker,
``hil-run.json`` (run id, start time, lab config); a new run that finds one removes what
the last run left — only the files and folders the lab itself writes, so a run started in
a folder with other files (the current folder by default) never deletes anything else.
"""

from __future__ import annotations

import json
import shutil
import uuid
from datetime import UTC, datetime
from pathlib import Path

MARKER = "hil-run.json"
#: What a run writes into its output folder (files, and folders wholly the lab's).
RUN_FILES = ("samples.jsonl", "remarks.jsonl", "transfers.jsonl", "virtual-bench.log")
RUN_DIRS = ("journal", "plots", "files")


def start_run(output_dir: Path, lab_source: str) -> str:
    """Clear the previous run's evidence (if this folder had one) and mark a new run.
    Returns the new run id."""
    output_dir.mkdir(parents=True, exist_ok=True)
    if (output_dir / MARKER).is_file():
        for name in RUN_FILES:
            (output_dir / name).unlink(missing_ok=True)
        for name in RUN_DIRS:
            shutil.rmtree(output_dir / name, ignore_errors=True)
    run_id = uuid.uuid4().hex[:12]
    record = {
        "run_id": run_id,
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "lab_config": lab_source,
    }
    (output_dir / MARKER).write_text(json.dumps(record) + "\n", encoding="utf-8")
    return run_id
