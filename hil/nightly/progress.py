"""The live console of a night: a progress bar per bench (the step it is on, steps done of
the selected ones, verdicts so far), redrawn from the status records.

The records come from polling small files a few times a second (``status.night_status``);
a bench's Robot process never talks to this console, so a slow terminal cannot slow a run.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.live import Live
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

STATE_STYLE = {
    "running": "cyan",
    "finished": "green",
    "interrupted": "yellow",
    "preflight-failed": "red",
}


def describe(record: dict[str, Any]) -> str:
    """What a bench's line says after its bar: state, current step, verdicts."""
    v = record["verdicts"]
    state = record["state"]
    style = STATE_STYLE.get(state, "white")
    if state == "preflight-failed":
        return f"[{style}]preflight failed[/]: {record.get('message', '')}"
    verdicts = f"[green]Y {v['Y']}[/] [red]N {v['N']}[/] N/A {v['N/A']}"
    if v.get("E"):  # lab errors: the lab needs a look, the station is not blamed
        verdicts += f" [yellow]E {v['E']}[/]"
    where = f"step {record['step']}: {record['name']}" if record["step"] else ""
    return f"[{style}]{state}[/] {verdicts}  {where}".rstrip()


class NightProgress:
    """A rich ``Progress`` with one task per bench; ``update`` takes the status records."""

    def __init__(self, console: Console | None = None) -> None:
        self.progress = Progress(
            TextColumn("[bold]{task.description}", justify="left"),
            BarColumn(bar_width=30),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.fields[info]}"),
            console=console,
            auto_refresh=False,
        )
        self._tasks: dict[str, Any] = {}
        self.live = Live(self.progress, console=console, refresh_per_second=4)

    def __enter__(self) -> NightProgress:
        self.live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.live.__exit__(*exc)  # type: ignore[arg-type]

    def update(self, records: list[dict[str, Any]]) -> None:
        for record in records:
            task = self._tasks.get(record["bench"])
            if task is None:
                task = self.progress.add_task(
                    record["bench"], total=max(record["total"], 1), info=""
                )
                self._tasks[record["bench"]] = task
            self.progress.update(
                task,
                completed=record["done"],
                total=max(record["total"], 1),
                info=describe(record),
            )
            if record["state"] != "running":
                self.progress.stop_task(task)
        self.live.refresh()
