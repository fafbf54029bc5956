"""Fake bench output folders, as a Robot process of ``hil nightly`` leaves them: a run
marker naming the lab config, step lines, the current step - without running anything."""

from __future__ import annotations

from pathlib import Path

from hil.lab.evidence import (
    STEPS_FILE,
    JsonLines,
    now,
    start_run,
    update_run,
    write_current_step,
)
from hil.nightly.benches import Bench
from hil.verdict import LAB_ERROR_TAG

DUT = {"vendor": "Acme", "model": "AC22", "firmware": "1.2.3", "serial": "S-1"}


def bench(tmp: Path, name: str, problems: list[str] | None = None) -> Bench:
    config = tmp / "benches" / f"{name}.yaml"
    return Bench(config, name, "AC22", "1.2.3", list(problems or []))


def write_config(b: Bench, deviations: list[str] | None = None) -> None:
    """The bench's lab config file, with ``deviations`` (defects of the virtual station)
    switched on: what the history records of the lab config comes from this file."""
    import yaml

    data = {
        "lab": {"name": b.name, "bench": "virtual"},
        "dut": {"station_id": f"CP-{b.name}", "firmware": DUT["firmware"]},
        "virtual": {"deviations": list(deviations or [])},
    }
    b.config.parent.mkdir(parents=True, exist_ok=True)
    b.config.write_text(yaml.safe_dump(data), encoding="utf-8")


def bench_folder(
    pabot_results: Path,
    slot: int,
    b: Bench,
    steps: list[tuple[str, str]],
    current: str = "",
    ended: bool = False,
) -> Path:
    """``pabot_results/<slot>/0`` with a run of ``b`` that finished ``steps`` (id, status:
    PASS, FAIL, SKIP or LAB for a lab error) and is on ``current`` (or has ended)."""
    folder = pabot_results / str(slot) / "0"
    run_id = start_run(folder, str(b.config))
    update_run(
        folder,
        lab_config=str(b.config),
        pid=999999,
        lab={"name": b.name, "bench": "virtual"},
        dut=DUT,
    )
    lines = JsonLines(folder / STEPS_FILE)
    for step, status in steps:
        lab_error = status == "LAB"  # a failure the listener tagged as the lab's
        lines.append(
            {
                "run_id": run_id,
                "step": step,
                "name": f"Step {step}",
                "status": "FAIL" if lab_error else status,
                "tags": [LAB_ERROR_TAG] if lab_error else [],
                "message": "Lab error: boom" if lab_error else "boom" if status == "FAIL" else "",
                "remarks": [],
                "started": now(),
                "ended": now(),
            }
        )
    if current:
        write_current_step(folder, current, f"Step {current}", now())
    if ended:
        update_run(folder, ended=now())
        write_current_step(folder, "", "", now(), finished=True)
    return folder
