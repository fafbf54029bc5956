"""A run from the repository root leaves the working folder clean (``git status``).

Harm prevented: `robot robot_suites/` in a fresh clone left the steps, evidence, refusals,
the run marker and the certification report as untracked files — easy to commit by
mistake, and they hide the files an engineer did change.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hil.lab.evidence import MARKER, RUN_DIRS, RUN_FILES

REPO = Path(__file__).resolve().parents[1]
ROBOT_OUTPUTS = ("output.xml", "log.html", "report.html")

needs_git = pytest.mark.skipif(
    shutil.which("git") is None or not (REPO / ".git").exists(), reason="not a git checkout"
)


@needs_git
def test_every_file_a_run_writes_into_the_root_is_ignored():
    names = [*RUN_FILES, MARKER, *ROBOT_OUTPUTS, *(f"{d}/x.jsonl" for d in RUN_DIRS)]
    done = subprocess.run(
        ["git", "check-ignore", "--no-index", "--verbose", "--non-matching", *names],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    not_ignored = [
        line.split("\t", 1)[1] for line in done.stdout.splitlines() if line.startswith("::")
    ]
    assert not not_ignored, f"not in .gitignore: {not_ignored}"


@needs_git
@pytest.mark.robot
def test_a_run_in_a_fresh_clone_leaves_git_status_clean(tmp_path):
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(REPO), str(clone)], check=True)
    env = {**os.environ, "PYTHONPATH": str(clone)}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "robot",
            "--include",
            "step:1",
            "--console",
            "none",
            "robot_suites/",
        ],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert (clone / "certification-report.html").is_file()
    status = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=clone,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert status == "", f"a run left these in the working folder:\n{status}"
