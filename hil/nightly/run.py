"""``hil nightly``: preflight every bench, run the checklist on the good ones in parallel
through pabot, show and write where each bench is, then the merged results and the
nightly report.

Stopping: SIGINT / SIGTERM make pabot stop its workers (pabot's own Ctrl-C handling: each
Robot process group gets SIGTERM, Robot stops gracefully, finished steps stay in
``steps.jsonl`` and the history); then the final status marks every bench that had not run
all its steps ``interrupted``. After a SIGKILL nobody writes a final status:
``hil nightly --status RESULTS`` rebuilds it (a run without ``ended`` whose Robot process
is gone is interrupted; one whose process still runs is running).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hil.lab.evidence import now, process_alive, read_run
from hil.nightly.benches import Bench, find_benches, preflight
from hil.nightly.pabot_command import (
    NightOptions,
    pabot_command,
    select_tests,
    write_pabot_files,
)
from hil.nightly.status import (
    FINISHED,
    INTERRUPTED,
    RUNNING,
    STATUS_FILE,
    bench_folders,
    night_status,
    write_status,
)
from hil.nightly.summary import (
    HISTORY_PAGE,
    any_failure,
    failed_steps_lines,
    write_morning_summary,
)

SUITES = Path(__file__).resolve().parents[2] / "robot_suites"
WORK_DIR = "nightly"  # pabot's input files, its console log, the night's facts
NIGHT_FILE = "night.json"
POLL_S = 0.25
#: how often the history page (with the live status) is rewritten during a night
PAGE_EVERY_S = 60.0
#: nights the history page shows
HISTORY_NIGHTS = 7
#: how long pabot gets to stop its workers after SIGINT before it is killed
STOP_GRACE_S = 45.0


def default_results(night: str) -> Path:
    return Path("results") / night


def default_history(results: Path | None) -> str:
    """Without ``-d`` every night's folder is ``results/<night>`` and they share
    ``results/history.sqlite``, so a night is compared with the one before; with ``-d``
    the history is ``<results>/history.sqlite`` unless ``--history`` names another."""
    folder = results if results is not None else default_results("x").parent
    return f"sqlite:///{(folder / 'history.sqlite').resolve()}"


def today() -> str:
    return datetime.now(UTC).date().isoformat()


class Night:
    """One night's state on disk: ``<results>/nightly/night.json`` says which benches, the
    selected test count and when it started, so ``--status`` can rebuild the status."""

    def __init__(self, results: Path, benches: list[Bench], total: int, night: str) -> None:
        self.results = results
        self.benches = benches
        self.total = total
        self.night = night
        self.since = now()
        self.stopped = False
        #: the history database the night writes (its page is rewritten as the night goes)
        self.history = ""
        self._page_written = 0.0

    @property
    def pabot_results(self) -> Path:
        return self.results / "pabot_results"

    def save(self) -> None:
        work = self.results / WORK_DIR
        work.mkdir(parents=True, exist_ok=True)
        record = {
            "night": self.night,
            "since": self.since,
            "total": self.total,
            "pid": os.getpid(),
            "benches": [{**asdict(b), "config": str(b.config)} for b in self.benches],
        }
        (work / NIGHT_FILE).write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, results: Path) -> tuple[Night, int]:
        record = json.loads((results / WORK_DIR / NIGHT_FILE).read_text(encoding="utf-8"))
        benches = [Bench(**{**b, "config": Path(b["config"])}) for b in record["benches"]]
        night = cls(results, benches, int(record["total"]), str(record["night"]))
        night.since = str(record["since"])
        return night, int(record.get("pid", 0))

    def status(self, over: bool) -> list[dict[str, Any]]:
        return night_status(
            self.benches, self.pabot_results, self.total, self.since, over, self.stopped
        )

    def write_status(self, over: bool) -> list[dict[str, Any]]:
        records = self.status(over)
        write_status(self.results / STATUS_FILE, records)
        return records

    def write_history_page(self, quiet: bool) -> Path | None:
        """``<results>/history.html`` (docs/history.md): the history with the night's
        live status beside it. ``quiet``: a history that cannot be read yet (none of the
        night's runs has written it) is no news; at the end it is said on stderr."""
        from hil.history.db import HistoryDbError
        from hil.history.page import write_history_page

        self._page_written = time.monotonic()
        if not self.history:
            return None
        page = self.results / HISTORY_PAGE
        try:
            write_history_page(self.history, page, nights=HISTORY_NIGHTS)
        except HistoryDbError as exc:
            if not quiet:
                print(f"the history page was not written: {exc}", file=sys.stderr)
            return None
        except Exception as exc:  # the page is an extra; the night's results stand
            print(f"the history page was not written: {exc!r}", file=sys.stderr)
            return None
        return page

    def history_page_due(self) -> bool:
        return time.monotonic() - self._page_written >= PAGE_EVERY_S


def rebuild_status(results: Path) -> list[dict[str, Any]]:
    """``--status``: the status of a night from its files, e.g. after ``hil nightly`` was
    SIGKILLed. A run whose Robot process is gone and that has no ``ended`` is interrupted."""
    night, pid = Night.load(results)
    over = not (pid and process_alive(pid))
    records = night.status(over=over)
    folders = bench_folders(night.pabot_results, night.benches, night.since)
    for record in records:
        folder = folders.get(record["bench"])
        run = read_run(folder) if folder else None
        if record["state"] in (RUNNING, INTERRUPTED) and run and not run.get("ended"):
            # pabot starts each Robot process in its own session: one outlives a SIGKILL
            # of hil nightly's process group and goes on with its bench
            pid_of_run = int(run.get("pid") or 0)
            alive = bool(pid_of_run and process_alive(pid_of_run))
            record["state"] = RUNNING if alive else INTERRUPTED
    write_status(results / STATUS_FILE, records)
    return records


def _stop_pabot(proc: subprocess.Popen[bytes], night: Night) -> None:
    """pabot stops its workers on SIGINT; if it has not ended within the grace time, it
    and every Robot process still running a bench are killed."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
    try:
        proc.wait(STOP_GRACE_S)
        return
    except subprocess.TimeoutExpired:
        pass
    proc.kill()
    for folder in bench_folders(night.pabot_results, night.benches, night.since).values():
        pid = int((read_run(folder) or {}).get("pid") or 0)
        if pid and process_alive(pid):
            # pabot starts each Robot process in its own session (group = its pid)
            with contextlib.suppress(OSError):
                os.killpg(pid, signal.SIGKILL)
    proc.wait()


def run_nightly(
    benches_dir: Path,
    results: Path | None = None,
    include: list[str] | None = None,
    exclude: list[str] | None = None,
    history: str | None = None,
    night_id: str | None = None,
    pabotlib_uri: str = "",
    live: bool = True,
) -> int:
    """The whole night; returns the exit code (0: every bench finished, nothing failed)."""
    night_id = night_id or today()
    history = history or default_history(results)
    results = (results or default_results(night_id)).resolve()
    results.mkdir(parents=True, exist_ok=True)
    benches = find_benches(benches_dir)
    if not benches:
        print(f"error: no lab configs (*.yaml) in {benches_dir}", file=sys.stderr)
        return 2
    selection = select_tests(SUITES, include or [], exclude or [])
    if not selection.total:
        print("error: --include / --exclude select no checklist test", file=sys.stderr)
        return 2
    print(f"Preflight of {len(benches)} bench(es) ...", flush=True)
    preflight(benches)
    for bench in benches:
        if not bench.ok:
            print(f"  {bench.name}: PREFLIGHT FAILED: {'; '.join(bench.problems)}", flush=True)
    night = Night(results, benches, selection.total, night_id)
    night.save()
    night.history = history
    night.write_status(over=False)
    night.write_history_page(quiet=True)  # "Tonight": the preflight, before pabot starts
    good = [b for b in benches if b.ok]
    pabot_rc = 0
    if good:
        pabot_rc = _run_pabot(night, good, selection, include, exclude, history, pabotlib_uri, live)
    records = night.write_status(over=True)
    states = {r["bench"]: r["state"] for r in records}
    folders = bench_folders(night.pabot_results, benches, night.since)
    _complete_history(history, folders, night_id)
    history_page = night.write_history_page(quiet=False)
    page, summaries, found = write_morning_summary(
        results, night_id, benches, folders, states, history
    )
    failed = failed_steps_lines(summaries, found)
    if failed:  # the morning's first question: what failed, and why
        print("Failed steps:")
        for line in failed:
            print(f"  {line}")
    for s in summaries:
        counts = " ".join(f"{k} {v}" for k, v in s.counts.items())
        print(f"{s.name}: {s.state}{': ' + s.message if s.message else ''}  {counts}")
    print(f"Nightly report: {page}")
    if history_page is not None:
        print(f"History page: {history_page}")
    if (results / "output.xml").is_file():
        print(f"Merged results: {results / 'output.xml'}, {results / 'log.html'}")
    if night.stopped:
        return 130
    failed = any_failure(summaries) or any(r["state"] != FINISHED for r in records)
    return 1 if failed or (pabot_rc and not good) else 0


def _complete_history(url: str, folders: dict[str, Path], night_id: str) -> None:
    """Every step a bench recorded goes into the history, also those a killed Robot process
    recorded but could not store (hil/history/backfill.py)."""
    from hil.history.backfill import backfill_run

    for name, folder in folders.items():
        try:
            added = backfill_run(url, folder, night_id)
        except Exception as exc:  # the night's own results are safe in the bench folders
            print(f"{name}: the history {url} could not be completed: {exc!r}", file=sys.stderr)
            continue
        if added:
            print(f"{name}: {added} finished step(s) added to the history from {folder}")


def _run_pabot(
    night: Night,
    good: list[Bench],
    selection: Any,
    include: list[str] | None,
    exclude: list[str] | None,
    history: str,
    pabotlib_uri: str,
    live: bool,
) -> int:
    work = night.results / WORK_DIR
    argfiles = write_pabot_files(work, good, selection)
    options = NightOptions(
        results=night.results,
        suites_dir=SUITES,
        include=list(include or []),
        exclude=list(exclude or []),
        history=history,
        night=night.night,
        pabotlib_uri=pabotlib_uri,
    )
    cmd = pabot_command(options, work, argfiles)
    (work / "pabot.cmd").write_text(" ".join(cmd) + "\n", encoding="utf-8")

    def stop(signum: int, _frame: Any) -> None:
        night.stopped = True

    old = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        with (work / "pabot.log").open("wb") as log:
            # cwd: pabot keeps its .pabotsuitenames there
            proc = subprocess.Popen(cmd, cwd=work, stdout=log, stderr=subprocess.STDOUT)
        _watch(night, proc, live)
        if night.stopped:
            print("Stopping: pabot stops its workers ...", file=sys.stderr, flush=True)
            _stop_pabot(proc, night)
        return proc.wait()
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)


def _watch(night: Night, proc: subprocess.Popen[bytes], live: bool) -> None:
    """Read the benches' small files a few times a second until pabot ends or a stop.

    The benches' progress is in files other processes write, so it is read on a cadence;
    the end of pabot is waited on, so the night's end is seen at once, not a tick later.
    """
    from hil.nightly.progress import NightProgress

    with NightProgress() if live else contextlib.nullcontext() as progress:
        while proc.poll() is None and not night.stopped:
            records = night.write_status(over=False)
            if progress is not None:
                progress.update(records)
            if night.history_page_due():
                night.write_history_page(quiet=True)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=POLL_S)
        if progress is not None:
            progress.update(night.status(over=not night.stopped))
