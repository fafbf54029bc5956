"""The history on a terminal (rich): per bench a table of steps × nights, with the step's
failing streak and flakiness in the last columns; or (``--failures``) only what fails or
is flaky, in a table that fits 80 columns."""

from __future__ import annotations

from rich import box
from rich.console import Console
from rich.table import Table

from hil.history.trends import BenchTrend, History, new_failure_text

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


def failures_table(b: BenchTrend) -> Table | None:
    """The bench's failing steps (new ones first, with what changed) and its flaky ones;
    None when there is neither. Columns shrink and the note folds to fit 80 columns."""
    news = [s for s in b.steps if s.new_failure]
    old = [s for s in b.steps if s.failing_since and not s.new_failure]
    flaky = [s for s in b.steps if s.flaky_on and not s.failing_since]
    if not (news or old or flaky):
        return None
    latest = next((b.runs[n] for n in reversed(b.nights) if n in b.runs), None)
    title = f"Bench {b.bench or '(unnamed)'}"
    if latest is not None:
        title += f" · {latest.night} · fw {latest.firmware}"
        if latest.state != "completed":
            title += f" · {latest.state}"
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("Step", no_wrap=True)
    table.add_column("Action", no_wrap=True, overflow="ellipsis", max_width=22)
    table.add_column("Since", no_wrap=True)
    table.add_column("Firmware", no_wrap=True, overflow="ellipsis", max_width=10)
    table.add_column("Note", overflow="fold", ratio=1)
    for s in news:
        table.add_row(
            s.step,
            s.name,
            s.failing_since or "",
            s.failing_firmware or "",
            f"[bold red]{new_failure_text(s)}[/]",
        )
    for s in old:
        note = "failing"
        if s.flaky_on:
            note += f"; flaky on {', '.join(s.flaky_on)}"
        table.add_row(s.step, s.name, s.failing_since or "", s.failing_firmware or "", note)
    for s in flaky:
        table.add_row(s.step, s.name, "", "", f"flaky on {', '.join(s.flaky_on)} (passes now)")
    return table


def print_failures(h: History, console: Console | None = None) -> None:
    """Only what fails or is flaky, per bench; a bench with neither gets one line."""
    console = console or Console()
    if not h.benches:
        console.print("no runs in this history yet")
        return
    for b in h.benches:
        table = failures_table(b)
        if table is None:
            console.print(f"Bench {b.bench or '(unnamed)'}: nothing failing, nothing flaky")
        else:
            console.print(table)
