"""The live console's lines, rendered to a string."""

from __future__ import annotations

import io

from rich.console import Console

from hil.nightly.progress import NightProgress


def test_a_bar_per_bench_with_its_step_and_verdicts() -> None:
    out = io.StringIO()
    console = Console(file=out, width=160, force_terminal=False)
    records = [
        {
            "bench": "Bench A",
            "step": "23",
            "name": "TriggerMessage",
            "done": 2,
            "total": 3,
            "verdicts": {"Y": 1, "N": 1, "N/A": 0},
            "state": "running",
        },
        {
            "bench": "Bench B",
            "step": "",
            "name": "",
            "done": 0,
            "total": 3,
            "verdicts": {"Y": 0, "N": 0, "N/A": 0},
            "state": "preflight-failed",
            "message": "energy_meter refused",
        },
    ]
    with NightProgress(console) as progress:
        progress.update(records)
    text = out.getvalue()
    assert "Bench A" in text and "2/3" in text and "step 23: TriggerMessage" in text
    assert "Y 1" in text and "N 1" in text
    assert "preflight failed: energy_meter refused" in text
