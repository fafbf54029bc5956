"""Starts the virtual bench as its own process and makes sure it never outlives the run.

The child reads its stdin until EOF, so it stops when this process dies however it dies;
:meth:`VirtualBenchProcess.stop` closes stdin, then terminates, then kills. The child's
output goes to a log file in the run's output folder, written afresh by each start.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO

#: First word of the line the virtual bench prints once everything listens.
READY_PREFIX = "HIL-BENCH-READY "


class VirtualBenchError(RuntimeError):
    pass


class VirtualBenchProcess:
    def __init__(
        self, lab_file: Path, csms_url: str, log_path: Path, tls_dir: Path | None = None
    ) -> None:
        self.lab_file = lab_file
        self.csms_url = csms_url
        self.tls_dir = tls_dir  # the run's ``auto`` certificates, for the virtual station
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None
        self.addresses: dict[str, str] = {}
        self._ready = threading.Event()
        self._reader: threading.Thread | None = None
        self._log: IO[str] | None = None

    def start(self, timeout: float = 30.0) -> dict[str, str]:
        """Start the process and wait for its ready line; returns instrument addresses."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        # "w": each run starts its own log; appending would mix a re-run in the same output
        # folder with the run before it
        self._log = self.log_path.open("w", encoding="utf-8")
        cmd = [
            sys.executable,
            "-m",
            "hil",
            "sim",
            "--lab",
            str(self.lab_file),
            "--csms-url",
            self.csms_url,
        ]
        if self.tls_dir is not None:
            cmd += ["--tls-dir", str(self.tls_dir)]
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.proc = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env
        )
        self._reader = threading.Thread(
            target=self._read_output, name="virtual-bench-log", daemon=True
        )
        self._reader.start()
        if not self._ready.wait(timeout) or not self.addresses and self.proc.poll() is not None:
            code = self.proc.poll()
            self.stop()
            state = f"exited with code {code}" if code is not None else f"not ready in {timeout}s"
            raise VirtualBenchError(f"virtual bench {state}; see {self.log_path}:\n{self._tail()}")
        return self.addresses

    def _read_output(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for line in iter(self.proc.stdout.readline, b""):
            text = line.decode("utf-8", errors="replace")
            if text.startswith(READY_PREFIX):
                self.addresses = json.loads(text[len(READY_PREFIX) :])["instruments"]
                self._ready.set()
            if self._log is not None:
                self._log.write(text)
                self._log.flush()
        self._ready.set()  # the process ended; start() looks at why

    def _tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_path.read_text(encoding="utf-8").splitlines()[-lines:])
        except OSError:
            return ""

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = 5.0) -> None:
        proc, self.proc = self.proc, None
        if proc is not None:
            try:
                if proc.stdin is not None:
                    proc.stdin.close()  # EOF: the bench shuts down cleanly
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.terminate()
                try:
                    proc.wait(timeout)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        if self._reader is not None:
            self._reader.join(timeout)
            self._reader = None
        if self._log is not None:
            self._log.close()
            self._log = None
