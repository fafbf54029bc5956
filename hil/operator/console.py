"""The console fallback: the prompt is printed and the operator answers with a line.

``d`` / ``done`` / an empty line: done. ``c <reason>`` / ``cannot <reason>``: cannot do it.
Only available when stdin is a terminal (a run under CI has none). The wait for the line
is a ``select()`` with the prompt's timeout, so it ends like the other channels.
"""

from __future__ import annotations

import os
import select
import sys
import threading
import time
from typing import IO

from hil.operator.base import DONE, TIMEOUT, Answer, OperatorChannel, Outcome, Prompt


class ConsoleChannel(OperatorChannel):
    name = "console"

    def __init__(self, stdin: IO[str] | None = None, stdout: IO[str] | None = None) -> None:
        self._stdin = stdin
        self._stdout = stdout
        self._buffer = b""
        self._lock = threading.Lock()

    @property
    def stdin(self) -> IO[str]:
        return self._stdin if self._stdin is not None else sys.__stdin__

    @property
    def stdout(self) -> IO[str]:
        # sys.__stdout__: Robot captures sys.stdout for its log while a keyword runs
        return self._stdout if self._stdout is not None else sys.__stdout__

    def available(self) -> bool:
        try:
            return self.stdin is not None and self.stdin.isatty()
        except (ValueError, OSError):  # closed
            return False

    def _write(self, text: str) -> None:
        self.stdout.write(text)
        self.stdout.flush()

    def ask(self, prompt: Prompt) -> Answer:
        with self._lock:
            self._write(
                f"\n=== Operator: {prompt.title} ===\n{prompt.instruction}\n"
                f"Type 'd' + Enter when done, 'c <reason>' if you cannot "
                f"(within {prompt.timeout_s:g} s): "
            )
            deadline = time.monotonic() + prompt.timeout_s
            while True:
                line = self._readline(deadline)
                if line is None:
                    self._write(f"\n{prompt.timeout_message()}\n")
                    return TIMEOUT
                answer = parse_line(line)
                if answer is not None:
                    return answer
                self._write("Please type 'd' (done) or 'c <reason>' (cannot do it): ")

    def _readline(self, deadline: float) -> str | None:
        """One line from stdin, or None at the deadline or at end of input."""
        fd = self.stdin.fileno()
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                return None
            chunk = os.read(fd, 1024)
            if not chunk:  # end of input: nobody will answer
                return None
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        return line.decode("utf-8", errors="replace")


def parse_line(line: str) -> Answer | None:
    """``d``/``done``/empty -> DONE; ``c <reason>``/``cannot <reason>`` -> CANNOT."""
    text = line.strip()
    word, _, rest = text.partition(" ")
    word = word.lower()
    if word in ("", "d", "done"):
        return DONE
    if word in ("c", "cannot"):
        return Answer(Outcome.CANNOT, rest.strip() or "no reason given")
    return None
