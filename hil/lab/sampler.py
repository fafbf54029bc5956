"""Background sampling of instruments into a JSON-lines file and memory.

A :class:`Sampler` polls every registered source (a callable returning ``{name: value}``,
e.g. an energy meter's ``read_sample``) at a fixed cadence on its own thread. Each sample
carries wall (ISO, UTC) and monotonic time; it is appended to the file and flushed at once,
so a crashed run keeps what it saw. A failing source is recorded with its error and polled
again next time; the other sources carry on. Keywords wait on samples through a condition
variable (:meth:`Sampler.wait_for`), never by sleeping.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from drivers.base import InstrumentError

Reader = Callable[[], dict[str, float]]
Predicate = Callable[[dict[str, float]], bool]


@dataclass(frozen=True)
class Sample:
    """One poll of one source: its values, or the error it raised instead."""

    source: str
    wall: str
    mono: float
    values: dict[str, float] | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_json(self) -> str:
        record: dict[str, Any] = {"wall": self.wall, "mono": self.mono, "source": self.source}
        if self.ok:
            record["values"] = self.values
        else:
            record["error"] = self.error
        return json.dumps(record, sort_keys=True)


class SamplerTimeout(TimeoutError):
    """:meth:`Sampler.wait_for` gave up; the message says what came instead."""


class Sampler:
    """Poll sources every ``interval_s`` on a background thread; thread-safe queries."""

    def __init__(self, output_path: str | Path, interval_s: float) -> None:
        if interval_s <= 0:
            raise ValueError(f"interval_s must be positive, got {interval_s}")
        self.output_path = Path(output_path)
        self.interval_s = float(interval_s)
        self._sources: dict[str, Reader] = {}
        self._samples: dict[str, list[Sample]] = {}
        self._errors: dict[str, list[Sample]] = {}
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._file: IO[str] | None = None

    # -- set-up ------------------------------------------------------------------------

    def add_source(self, name: str, read: Reader) -> None:
        """Poll ``read()`` from the next cycle on; names are unique."""
        with self._cond:
            if name in self._sources:
                raise ValueError(f"sampler source {name!r} is already registered")
            self._sources[name] = read
            self._samples.setdefault(name, [])
            self._errors.setdefault(name, [])

    def start(self) -> None:
        """Open the file (append) and start polling; a second call does nothing."""
        if self._thread is not None:
            return
        self.output_path.parent.mkdir(parents=True, exist_ok=True)
        self._file = self.output_path.open("a", encoding="utf-8")
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="hil-sampler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop polling, join the thread, close the file; idempotent."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join()
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self) -> Sampler:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- the polling thread ------------------------------------------------------------

    def _run(self) -> None:
        deadline = time.monotonic()
        while not self._stop.is_set():
            self.poll_once()
            deadline += self.interval_s
            # keep the cadence; if a slow source overran, start again from now
            deadline = max(deadline, time.monotonic())
            self._stop.wait(deadline - time.monotonic())

    def poll_once(self) -> None:
        """Read every source once (the thread calls this each interval)."""
        with self._cond:
            sources = list(self._sources.items())
        for name, read in sources:
            if self._stop.is_set():
                return
            try:
                values = {key: float(value) for key, value in read().items()}
                error = None
            except InstrumentError as exc:
                values, error = None, str(exc)
            except Exception as exc:  # a driver bug must not stop the other sources
                values, error = None, f"{type(exc).__name__}: {exc}"
            self._record(
                Sample(
                    source=name,
                    wall=datetime.now(UTC).isoformat(timespec="milliseconds"),
                    mono=time.monotonic(),
                    values=values,
                    error=error,
                )
            )

    def _record(self, sample: Sample) -> None:
        with self._cond:
            if self._file is not None:
                self._file.write(sample.to_json() + "\n")
                self._file.flush()
            (self._samples if sample.ok else self._errors)[sample.source].append(sample)
            self._cond.notify_all()

    # -- queries -----------------------------------------------------------------------

    def _known(self, source: str) -> None:
        if source not in self._sources:
            known = ", ".join(sorted(self._sources)) or "(none)"
            raise KeyError(f"no sampler source {source!r}; registered: {known}")

    def samples(self, source: str, since_mono: float | None = None) -> list[Sample]:
        """Good samples of ``source`` (oldest first), optionally from ``since_mono`` on."""
        with self._cond:
            self._known(source)
            found = self._samples[source]
            if since_mono is None:
                return list(found)
            return [s for s in found if s.mono >= since_mono]

    def latest(self, source: str) -> Sample | None:
        """The newest good sample of ``source``, or None before the first."""
        with self._cond:
            self._known(source)
            found = self._samples[source]
            return found[-1] if found else None

    def errors(self, source: str) -> list[Sample]:
        """Failed polls of ``source`` with their error messages."""
        with self._cond:
            self._known(source)
            return list(self._errors[source])

    def wait_for(
        self,
        source: str,
        predicate: Predicate,
        timeout: float,
        since_mono: float | None = None,
    ) -> Sample:
        """The first good sample of ``source`` whose values satisfy ``predicate``.

        The newest sample at call time counts (unless older than ``since_mono``); then each
        new one as it arrives. On timeout :class:`SamplerTimeout` says what came instead.
        """
        end = time.monotonic() + timeout
        with self._cond:
            self._known(source)
            found = self._samples[source]
            start = max(len(found) - 1, 0)
            while True:
                for sample in found[start:]:
                    if (since_mono is None or sample.mono >= since_mono) and predicate(
                        dict(sample.values or {})
                    ):
                        return sample
                start = len(found)
                remaining = end - time.monotonic()
                if remaining <= 0:
                    raise SamplerTimeout(self._timeout_message(source, timeout))
                self._cond.wait(remaining)

    def _timeout_message(self, source: str, timeout: float) -> str:
        last = self._samples[source][-1] if self._samples[source] else None
        last_error = self._errors[source][-1] if self._errors[source] else None
        seen = f"last sample {last.values} at {last.wall}" if last else "no good sample yet"
        if last_error and (last is None or last_error.mono > last.mono):
            seen += f"; last poll failed: {last_error.error}"
        return f"no {source} sample met the condition within {timeout:g} s ({seen})"
