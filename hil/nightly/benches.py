"""The lab's benches, declared once as a folder of lab config files, and their preflight.

A bench whose instruments cannot be reached is left out of the night (and reported), so
one broken cable never costs the other benches their run.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from hil.lab.config import LabConfig, LabConfigError, load_lab_config

CONFIG_SUFFIXES = (".yaml", ".yml")


@dataclass
class Bench:
    """One bench of the night: its lab config and what its preflight found."""

    config: Path  # absolute: the value set's ``lab`` and the run marker's ``lab_config``
    name: str  # lab.name, as the summary and status file name it
    model: str = ""
    firmware: str = ""
    #: why the bench is not run (a bad config, an unreachable instrument); empty when good
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def find_benches(folder: Path) -> list[Bench]:
    """Every lab config in ``folder`` (sorted by file name), read but not yet checked."""
    paths = sorted(p for p in folder.iterdir() if p.suffix in CONFIG_SUFFIXES and p.is_file())
    benches: list[Bench] = []
    for path in paths:
        path = path.resolve()
        try:
            cfg = load_lab_config(path)
        except LabConfigError as exc:
            benches.append(Bench(path, path.stem, problems=[str(exc)]))
            continue
        benches.append(_bench_of(cfg, path))
    names = [b.name for b in benches]
    for bench in benches:
        if names.count(bench.name) > 1:  # the summary and the history key on the name
            bench.problems.append(f"lab.name {bench.name!r} is used by more than one bench")
    return benches


def _bench_of(cfg: LabConfig, path: Path) -> Bench:
    return Bench(path, cfg.lab.name, cfg.dut.model, cfg.dut.firmware)


def _problems(config: Path) -> list[str]:
    """The failing instruments of one bench (run in a process of its own)."""
    from hil.lab.preflight import check_lab

    try:
        results = check_lab(load_lab_config(config))
    except Exception as exc:  # a bench that cannot be checked is not run
        return [f"preflight: {type(exc).__name__}: {exc}"]
    return [f"{r.role} ({r.driver} at {r.address}): {r.detail}" for r in results if not r.ok]


def preflight(benches: list[Bench]) -> None:
    """``hil lab check`` on every good bench at once; a failing instrument's message goes
    into the bench's ``problems``. A process per bench, not a thread: two benches' VISA
    instruments opened from threads of one process fail (pyvisa's shared resource
    manager: "argument must be an int, or have a fileno() method")."""
    todo = [b for b in benches if b.ok]
    if not todo:
        return
    context = multiprocessing.get_context("spawn")  # no fork of a threaded process
    with ProcessPoolExecutor(max_workers=len(todo), mp_context=context) as pool:
        found = list(pool.map(_problems, [b.config for b in todo]))
    for bench, problems in zip(todo, found, strict=True):
        bench.problems += problems
