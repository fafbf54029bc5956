"""The live console's lines, rendered to a string."""

from __future__ import annotations

import io
import re

from rich.console import Console

from hil.nightly.progress import NightProgress, shorten


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


def test_two_long_bench_names_at_80_columns() -> None:
    """The harm: at 80 columns the bench names were squeezed away (two benches whose names
    differ only at the end could not be told apart), the bar changed width as the text
    after it did, and the numbers of the steps that ended N were nowhere."""
    out = io.StringIO()
    console = Console(file=out, width=80, force_terminal=True, color_system=None)
    now = [1000.0]

    def record(bench: str, done: int, failed: list[str], step: str) -> dict[str, object]:
        return {
            "bench": bench,
            "step": step,
            "name": "RemoteStartTransaction with a long name",
            "done": done,
            "total": 27,
            "verdicts": {"Y": done - len(failed), "N": len(failed), "N/A": 0, "E": 0},
            "failed": failed,
            "lab_errors": [],
            "state": "running",
        }

    west, east = "bench-ab-hall-3-west", "bench-ab-hall-3-east"
    with NightProgress(console, clock=lambda: now[0]) as progress:
        progress.update([record(west, 3, [], "4"), record(east, 2, [], "3")])
        first = out.getvalue().splitlines()[-2:]
        now[0] += 754  # 12 min 34 s later; step 23 of the east bench just ended N
        progress.update([record(west, 12, [], "13"), record(east, 23, ["23"], "24")])
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out.getvalue())  # cursor moves
    assert max(len(line) for line in text.splitlines()) <= 80, text
    w, e = [line for line in text.splitlines() if "bench-ab" in line][-2:]
    short_w, short_e = shorten(west), shorten(east)
    assert short_w != short_e and short_w.endswith("-west") and short_e.endswith("-east")
    assert short_w.startswith("bench-ab") and "…" in short_w
    assert w.startswith(short_w) and e.startswith(short_e)
    assert "12/27" in w and "23/27" in e
    assert "0:12:34" in w and "0:12:34" in e
    assert "N 1 (23)" in e and "N 0" in w
    first = [re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", line) for line in first]
    start = len(short_w) + 1
    bars = [line[start : start + 17] for line in [*first, w, e]]
    # the bar is 16 wide on every line, and the count starts right after it
    assert all(b[-1] == " " and len(b[:16]) == 16 for b in bars), bars
    assert len({line.index("/27") - len(line.split()[2].split("/")[0]) for line in [w, e]}) == 1


def test_shorten_keeps_both_ends() -> None:
    assert shorten("bench-ab-very-long-west", 14) == "bench-ab…-west"
    assert shorten("Bench A") == "Bench A"
