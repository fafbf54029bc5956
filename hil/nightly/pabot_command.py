"""The files and the command line that make pabot run the checklist once per bench.

- the **resource file** (``benches.dat``): one PabotLib value set per bench, tagged
  ``bench``, with its lab config as ``lab``; `Open Lab` (``${LAB}`` = ``pabot``) acquires one
  and `Close Lab` releases it, so two workers never drive the same bench;
- the **ordering file**: one ``{ ... }`` group of every suite, so a bench's suites run in
  checklist order in one Robot process with one Suite Setup (one lab opened);
- one **argument file** per bench (``--argumentfile1..N``): pabot runs one copy of the
  group per argument file, i.e. one worker per bench.
"""

from __future__ import annotations

import configparser
import io
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from hil.nightly.benches import Bench

#: ``${LAB}`` value and value-set tag `Open Lab` understands (hil.robot.keywords.lab).
PABOT_LAB = "pabot"
BENCH_TAG = "bench"
RESOURCE_FILE = "benches.dat"
ORDERING_FILE = "ordering.txt"


@dataclass
class Selection:
    """Which checklist tests a night runs: the suites that hold any, and how many."""

    suites: list[str]  # full names, in checklist order: "Robot Suites.01 Core"
    total: int


@dataclass
class NightOptions:
    results: Path
    suites_dir: Path
    include: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    history: str = ""
    night: str = ""
    #: a PabotLib server on another host ("host:port"); empty: pabot starts its own
    pabotlib_uri: str = ""


def select_tests(suites_dir: Path, include: Sequence[str], exclude: Sequence[str]) -> Selection:
    """The suites and the number of tests ``--include`` / ``--exclude`` select (Robot's own
    parser and filter, so the count is what each bench will run)."""
    from robot.api import TestSuiteBuilder

    suite = TestSuiteBuilder().build(str(suites_dir))
    suite.filter(included_tags=list(include) or None, excluded_tags=list(exclude) or None)
    return Selection([child.full_name for child in suite.suites], suite.test_count)


def resource_file_text(benches: Sequence[Bench]) -> str:
    """PabotLib's resource file (INI): a value set per bench, named by its lab name."""
    conf = configparser.ConfigParser(interpolation=None)
    for bench in benches:
        conf[bench.name] = {"tags": BENCH_TAG, "lab": str(bench.config)}
    out = io.StringIO()
    conf.write(out)
    return out.getvalue()


def ordering_text(suites: Sequence[str]) -> str:
    """One group of all suites: pabot runs them in this order in one process."""
    return "\n".join(["{", *(f"--suite {name}" for name in suites), "}"]) + "\n"


def argument_file_text(index: int) -> str:
    """What differs between the copies: only the slot number (the bench comes from the
    value set, so a worker that starts first simply takes the first free bench)."""
    return f"--variable HIL_SLOT:{index}\n"


def write_pabot_files(work: Path, benches: Sequence[Bench], selection: Selection) -> list[Path]:
    """Write the resource, ordering and argument files into ``work``; returns the argument
    files, one per bench."""
    work.mkdir(parents=True, exist_ok=True)
    (work / RESOURCE_FILE).write_text(resource_file_text(benches), encoding="utf-8")
    (work / ORDERING_FILE).write_text(ordering_text(selection.suites), encoding="utf-8")
    argfiles = []
    for i in range(1, len(benches) + 1):
        path = work / f"bench{i}.args"
        path.write_text(argument_file_text(i), encoding="utf-8")
        argfiles.append(path)
    return argfiles


def pabot_command(
    options: NightOptions, work: Path, argfiles: Sequence[Path], python: str = sys.executable
) -> list[str]:
    """pabot's command line: pabot options first (pabot requires it), then Robot's."""
    cmd = [python, "-m", "pabot.pabot", "--processes", str(len(argfiles))]
    if options.pabotlib_uri:
        host, _, port = options.pabotlib_uri.rpartition(":")
        cmd += ["--pabotlibhost", host, "--pabotlibport", port]
    else:
        # port 0: a free port, so two nights (or tests) on one PC do not collide
        cmd += ["--pabotlib", "--pabotlibport", "0"]
    cmd += ["--resourcefile", str(work / RESOURCE_FILE)]
    cmd += ["--ordering", str(work / ORDERING_FILE)]
    for i, path in enumerate(argfiles, 1):
        cmd += [f"--argumentfile{i}", str(path)]
    cmd += ["--outputdir", str(options.results), "--variable", f"LAB:{PABOT_LAB}"]
    if options.pabotlib_uri:
        # pabot 5.2 hands its workers 127.0.0.1:8270 even with --pabotlibhost; Open Lab
        # uses this one instead
        cmd += ["--variable", f"HIL_PABOTLIB_URI:{options.pabotlib_uri}"]
    if options.history:
        cmd += ["--variable", f"HIL_HISTORY:{options.history}"]
    if options.night:
        cmd += ["--variable", f"HIL_NIGHT:{options.night}"]
    for tag in options.include:
        cmd += ["--include", tag]
    for tag in options.exclude:
        cmd += ["--exclude", tag]
    cmd.append(str(options.suites_dir))
    return cmd
