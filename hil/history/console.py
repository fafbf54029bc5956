"""The history on a terminal (rich): per bench a table of steps × nights, with the step's
failing streak and flakiness in the last columns."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from hil.history.trends import BenchTrend, History

_STYLE = {"Y": "green", "N": "bold red", "N/A": "dim", "E": "yellow"}


def bench_table(b: BenchTrend) -> Table:
    table = Table(title=f"Bench {b.bench or '(unnamed)'}", title_justify="left")
    table.add_column("Step")
    table.add_column("Action", overflow="fold", max_width=40)
    for n in b.nights:
        run = b.runs.get(n)
        head = n if run is None else f"{n}\nfw {run.firmware}"
        if run is not None and run.state != "completed":
            head += f"\n{run.state}"
        table.add_column(head, justify="center")
    table.add_column("Failing since")
    table.add_column("Flaky on")
    for s in b.steps:
        cells = [f"[{_STYLE[v]}]{v}[/]" if v in _STYLE else "–" for v in s.verdicts.values()]
        since = f"{s.failing_since} (firmware {s.failing_firmware})" if s.failing_since else ""
        table.add_row(s.step, s.name, *cells, since, ", ".join(s.flaky_on))
    return table


def print_history(h: History, console: Console | None = None) -> None:
    console = console or Console()
    if not h.benches:
        console.print("no runs in this history yet")
        return
    for b in h.benches:
        console.print(bench_table(b))
