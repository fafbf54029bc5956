"""Runs as the listener would record them: hil-run.json facts, step records, evidence."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hil.history.recorder import HistoryRecorder


def facts(
    run_id: str,
    started: str,
    bench: str = "bench-a",
    firmware: str = "1.0",
    lab_config: Path | str = "lab.yaml",
) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "started": started,
        "lab_config": str(lab_config),
        "lab": {"name": bench, "platform": "virtual", "tester": "T", "bench": "virtual"},
        "dut": {
            "station_id": "CS-1",
            "vendor": "ACME",
            "model": "Wallbox",
            "firmware": firmware,
            "serial": "S1",
            "current_type": "AC",
            "cable": "attached",
        },
    }


def step(
    step_id: str, status: str, started: str = "2026-11-01T01:00:00.000+00:00"
) -> dict[str, Any]:
    return {
        "run_id": "",
        "step": step_id,
        "test": f"Suite.{step_id}",
        "name": f"Step {step_id}",
        "status": status,
        "message": "" if status == "PASS" else "went wrong",
        "remarks": ["a remark"] if step_id == "5" else [],
        "tags": [f"step:{step_id}"],
        "started": started,
        "ended": started,
        "elapsed_s": 1.5,
    }


def energy_evidence(diff_percent: float) -> list[dict[str, Any]]:
    ref = 1000.0
    wh = ref * (1 + diff_percent / 100)
    return [
        {
            "kind": "energy",
            "step": "6",
            "transaction_id": 7,
            "reference": {"source": "energy_meter delta", "wh": ref, "window": "tx"},
            "tolerance": "2 % + 10 Wh",
            "checks": [
                {
                    "source": "meterStop - meterStart",
                    "wh": wh,
                    "reference_wh": ref,
                    "diff_wh": wh - ref,
                    "diff_percent": diff_percent,
                    "allowed_wh": 30.0,
                    "ok": abs(wh - ref) <= 30.0,
                    "window": "tx",
                }
            ],
            "missing": {},
            "plot": None,
        },
        {
            "kind": "eichrecht",
            "step": "6",
            "transaction_id": 7,
            "signed_energy_wh": 1010.0,
            "reference_wh": ref,
            "tolerance_percent": 2.0,
            "tolerance_wh": 10.0,
            "checks": [],
        },
    ]


def record_run(
    url: str,
    out: Path,
    run_id: str,
    night: str,
    firmware: str,
    verdicts: dict[str, str],
    bench: str = "bench-a",
    end: bool = True,
    diff_percent: float = 1.0,
    lab_config: Path | str = "lab.yaml",
) -> None:
    started = f"{night}T01:00:00.000+00:00"
    run_facts = facts(run_id, started, bench, firmware, lab_config)
    rec = HistoryRecorder.open(url, run_facts, night, out / run_id)
    for sid, status in verdicts.items():
        rec.step(step(sid, status, started), energy_evidence(diff_percent) if sid == "6" else [])
    if end:
        rec.end()
    else:
        rec.engine.dispose()


def record_run_in_process(url: str, out: Path, *args: Any, **kwargs: Any) -> None:
    """``record_run`` in a process of its own that is gone afterwards (a killed bench)."""
    import multiprocessing

    proc = multiprocessing.get_context("spawn").Process(
        target=record_run, args=(url, out, *args), kwargs=kwargs
    )
    proc.start()
    proc.join(60)
    assert proc.exitcode == 0, f"recording process exit code {proc.exitcode}"
