"""The lab's benches, declared once as a folder of lab config files, and their preflight.

A bench whose instruments cannot be reached is left out of the night (and reported), so
one broken cable never costs the other benches their run.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
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


def preflight(benches: list[Bench]) -> None:
    """``hil lab check`` on every good bench at once (threads: each mostly waits on its
    instruments); a failing instrument's message goes into the bench's ``problems``."""
    from hil.lab.preflight import check_lab

    def check(bench: Bench) -> None:
        try:
            results = check_lab(load_lab_config(bench.config))
        except Exception as exc:  # a bench that cannot be checked is not run
            bench.problems.append(f"preflight: {type(exc).__name__}: {exc}")
            return
        bench.problems += [
            f"{r.role} ({r.driver} at {r.address}): {r.detail}" for r in results if not r.ok
        ]

    todo = [b for b in benches if b.ok]
    if not todo:
        return
    with ThreadPoolExecutor(max_workers=len(todo)) as pool:
        list(pool.map(check, todo))
