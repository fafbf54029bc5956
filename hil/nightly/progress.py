"""The live console of a night: a progress bar per bench (the step it is on, steps done of
the selected ones, verdicts so far), redrawn from the status records.

The records come from polling small files a few times a second (``status.night_status``);
a bench's Robot process never talks to this console, so a slow terminal cannot slow a run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Column

STATE_STYLE = {
    "running": "cyan",
    "finished": "green",
    "interrupted": "yellow",
    "preflight-failed": "red",
}
#: the bench name's column: a longer name is shortened from the middle
NAME_WIDTH = 18
#: the bar's width, whatever the line says after it
BAR_WIDTH = 16


def shorten(name: str, width: int = NAME_WIDTH) -> str:
    """``name`` in at most ``width`` characters, cut from the middle so both ends stay
    (benches are told apart by their start and their end): "bench-ab…-west"."""
    if len(name) <= width:
        return name
    tail = max((width - 1) // 2 - 1, 1)  # the start a little longer: "bench-ab"
    head = width - 1 - tail
    return f"{name[:head]}…{name[-tail:]}"


def describe(record: dict[str, Any]) -> str:
    """What a bench's line says after its bar: verdicts so far with the numbers of the
    steps that ended N (and E), the state once not running, the current step."""
    v = record["verdicts"]
    state = record["state"]
    style = STATE_STYLE.get(state, "white")
    if state == "preflight-failed":
        return f"[{style}]preflight failed[/]: {record.get('message', '')}"
    failed = record.get("failed") or []
    verdicts = f"[green]Y {v['Y']}[/] [red]N {v['N']}"
    verdicts += f" ({' '.join(failed)})[/]" if failed else "[/]"
    if v.get("N/A"):
        verdicts += f" N/A {v['N/A']}"
    if v.get("E"):  # lab errors: the lab needs a look, the station is not blamed
        errors = record.get("lab_errors") or []
        verdicts += f" [yellow]E {v['E']}" + (f" ({' '.join(errors)})[/]" if errors else "[/]")
    where = f"step {record['step']}: {record['name']}" if record["step"] else ""
    head = "" if state == "running" else f"[{style}]{state}[/] "
    return f"{head}{verdicts}  {where}".rstrip()


class NightProgress:
    """A rich ``Progress`` with one line per bench: its name (shortened from the middle to
    a steady width), a bar of steady width, steps done of the selected ones, the time since
    its line appeared, then :func:`describe` cut to what the terminal has left.
    ``update`` takes the status records; ``clock``: the time source (tests)."""

    def __init__(
        self, console: Console | None = None, clock: Callable[[], float] | None = None
    ) -> None:
        extra = {"get_time": clock} if clock is not None else {}
        self.progress = Progress(
            TextColumn(
                "[bold]{task.fields[short]}",
                table_column=Column(no_wrap=True, min_width=NAME_WIDTH, max_width=NAME_WIDTH),
            ),
            BarColumn(bar_width=BAR_WIDTH, table_column=Column(no_wrap=True)),
            MofNCompleteColumn(table_column=Column(no_wrap=True)),
            TimeElapsedColumn(table_column=Column(no_wrap=True)),
            TextColumn(
                "{task.fields[info]}",
                table_column=Column(no_wrap=True, overflow="ellipsis", ratio=1),
            ),
            console=console,
            auto_refresh=False,
            expand=True,
            **extra,
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
                    record["bench"],
                    total=max(record["total"], 1),
                    info="",
                    short=shorten(record["bench"]),
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
