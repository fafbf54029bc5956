"""``hil sim`` as a real process: it stops cleanly on Ctrl-C, SIGTERM and a closed stdin.

Exit codes: 130 after SIGINT (Ctrl-C), 143 after SIGTERM (the shell convention 128 + signal
number), 0 when stdin closes (the launcher went away or stopped it), 2 for a bad lab config.
"""

from __future__ import annotations

import os
import queue
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from hil.lab.launcher import READY_PREFIX

REPO = Path(__file__).resolve().parents[2]
READY_TIMEOUT_S = 30.0
EXIT_TIMEOUT_S = 10.0


def closed_port() -> int:
    with socket.socket() as sock:  # bound, never listened on: connecting is refused
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Sim:
    """One ``python -m hil sim`` process; its output is collected by reader threads."""

    def __init__(self, lab: Path) -> None:
        cmd = [sys.executable, "-m", "hil", "sim", "--lab", str(lab)]
        cmd += ["--csms-url", f"ws://127.0.0.1:{closed_port()}"]
        self.proc = subprocess.Popen(
            cmd,
            cwd=REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=dict(os.environ, PYTHONUNBUFFERED="1"),
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self._threads = [
            threading.Thread(target=self._pump, args=(self.proc.stdout, self.stdout), daemon=True),
            threading.Thread(target=self._pump, args=(self.proc.stderr, self.stderr), daemon=True),
        ]
        for t in self._threads:
            t.start()

    def _pump(self, stream, into: list[str]) -> None:
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", errors="replace")
            into.append(line)
            if into is self.stdout:
                self.lines.put(line)

    def wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while (left := deadline - time.monotonic()) > 0:
            try:
                if self.lines.get(timeout=min(left, 0.5)).startswith(READY_PREFIX):
                    return
            except queue.Empty:
                if self.proc.poll() is not None:
                    break
        pytest.fail(f"no {READY_PREFIX.strip()} line; output:\n{self.output()}")

    def wait_exit(self) -> int:
        code = self.proc.wait(EXIT_TIMEOUT_S)
        for t in self._threads:
            t.join(EXIT_TIMEOUT_S)
        return code

    def output(self) -> str:
        return "".join(self.stdout) + "".join(self.stderr)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(EXIT_TIMEOUT_S)
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()


@pytest.fixture
def lab(tmp_path: Path) -> Path:
    copy = tmp_path / "virtual.yaml"
    shutil.copy(REPO / "lab_configs" / "virtual.yaml", copy)
    return copy


@pytest.fixture
def sim(lab: Path) -> Iterator[Sim]:
    process = Sim(lab)
    yield process
    process.kill()


def assert_clean(output: str) -> None:
    assert "Fatal Python error" not in output, output
    assert "Traceback" not in output, output
    assert "virtual bench stopped" in output, output


@pytest.mark.timeout(60)
def test_ctrl_c_exits_130_cleanly(sim: Sim) -> None:
    sim.wait_ready()
    sim.proc.send_signal(signal.SIGINT)
    assert sim.wait_exit() == 130, sim.output()
    assert_clean(sim.output())


@pytest.mark.timeout(60)
def test_sigterm_exits_143_cleanly(sim: Sim) -> None:
    sim.wait_ready()
    sim.proc.send_signal(signal.SIGTERM)
    assert sim.wait_exit() == 143, sim.output()
    assert_clean(sim.output())


@pytest.mark.timeout(60)
def test_closed_stdin_exits_0_cleanly(sim: Sim) -> None:
    sim.wait_ready()
    assert sim.proc.stdin is not None
    sim.proc.stdin.close()
    assert sim.wait_exit() == 0, sim.output()
    assert_clean(sim.output())


@pytest.mark.timeout(60)
def test_bad_option_is_one_line_and_exit_2(tmp_path: Path) -> None:
    data = yaml.safe_load((REPO / "lab_configs" / "virtual.yaml").read_text())
    data["instruments"]["network_switch"]["options"] = {"port": "one"}
    lab = tmp_path / "lab.yaml"
    lab.write_text(yaml.safe_dump(data))
    sim = Sim(lab)
    try:
        code = sim.wait_exit()
    finally:
        sim.kill()
    assert code == 2, sim.output()
    assert "".join(sim.stdout) == ""
    assert "".join(sim.stderr) == (
        f"error: {lab}: field instruments.network_switch.options.port: Input should be a "
        "valid integer, unable to parse string as an integer (value 'one')\n"
    )
