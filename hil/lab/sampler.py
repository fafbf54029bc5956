"""Background sampling of instruments into a JSON-lines file and memory.

A :class:`Sampler` polls every registered source (a callable returning ``{name: value}``,
e.g. an energy meter's ``read_sample``) at a fixed cadence, each source on its own thread,
so a hung instrument never delays another's samples. Each sample carries wall (ISO, UTC)
and monotonic time; it is appended to the file and flushed at once, so a crashed run keeps
what it saw. A failing source is recorded with its error and polled again next time.
Keywords wait on samples through a condition variable (:meth:`Sampler.wait_for`), never by
sleeping.

With a grace period (``grace_s``), a source that gives no good reading for longer than that
is *lost* (a :class:`Loss`, also written to the file as an error line with ``"lost":
true``): :meth:`Sampler.wait_for` on it raises :class:`InstrumentLost` at once, and waits
already running raise as soon as the grace runs out. A lost source stays lost for the rest
of the run, even if it answers again (it is still polled, so the file shows whether it did):
a reference that dropped out once is not trusted again mid-run.

Memory is bounded: the file is the record, memory keeps the good samples of the last
:data:`KEEP_S` seconds (a step compares energy over a session, minutes long) and the newest
:data:`KEEP_ERRORS` failed polls per source, however long the night.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from drivers.base import InstrumentError

#: good samples younger than this stay in memory (6 h); older ones are in the file only
KEEP_S = 6 * 3600.0
#: good samples dropped from memory at a time, once older than KEEP_S
TRIM_CHUNK = 1_000
#: failed polls kept in memory per source (the newest; the file has them all)
KEEP_ERRORS = 100

Reader = Callable[[], dict[str, float]]
Predicate = Callable[[dict[str, float]], bool]
LossListener = Callable[["Loss"], None]

LOG = logging.getLogger("hil.lab.sampler")


def _now_wall() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


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


class InstrumentLost(InstrumentError):
    """A sampled instrument gave no good reading for longer than the grace period.

    The message names the role and address, how long it has been silent, the last good
    reading with its time and the last error (or the read still pending). ``loss`` holds
    the details.
    """

    def __init__(self, loss: Loss) -> None:
        super().__init__(loss.source, loss.address, loss.reason)
        self.loss = loss


@dataclass(frozen=True)
class Loss:
    """When and how a source was found lost."""

    source: str
    address: str
    wall: str
    mono: float
    grace_s: float
    reason: str  # "instrument lost: ..." (without the role and address)
    last_good: Sample | None
    last_error: Sample | None

    @property
    def message(self) -> str:
        return f"{self.source} at {self.address}: {self.reason}"

    def exception(self) -> InstrumentLost:
        return InstrumentLost(self)


def _values_text(values: dict[str, float] | None) -> str:
    """Energy and power first (what a lab engineer looks for), then the rest by name."""
    first = ("energy_wh", "power_w")
    items = sorted((values or {}).items(), key=lambda kv: (kv[0] not in first, kv[0]))
    return ", ".join(f"{k}={v:.10g}" for k, v in items) or "(none)"


class Sampler:
    """Poll sources every ``interval_s``, each on its own thread; thread-safe queries.

    ``grace_s`` (None: never) is how long a source may go without a good reading before it
    is lost.
    """

    def __init__(
        self,
        output_path: str | Path,
        interval_s: float,
        grace_s: float | None = None,
        keep_s: float = 0.0,
    ) -> None:
        if interval_s <= 0:
            raise ValueError(f"interval_s must be positive, got {interval_s}")
        if grace_s is not None and grace_s <= 0:
            raise ValueError(f"grace_s must be positive, got {grace_s}")
        self.output_path = Path(output_path)
        self.interval_s = float(interval_s)
        self.grace_s = None if grace_s is None else float(grace_s)
        self._sources: dict[str, Reader] = {}
        self._addresses: dict[str, str] = {}
        self._samples: dict[str, list[Sample]] = {}
        self._errors: dict[str, list[Sample]] = {}
        self.keep_s = keep_s or KEEP_S
        #: source -> good samples dropped from memory (older than keep_s); they are in the file
        self._dropped: dict[str, int] = {}
        self._since: dict[str, float] = {}  # when each source's silence is counted from
        self._pending: dict[str, float] = {}  # source -> monotonic start of a running read
        self._lost: dict[str, Loss] = {}
        self._notified: set[str] = set()
        self._listeners: list[LossListener] = []
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._running = False
        self._file: IO[str] | None = None

    # -- set-up ------------------------------------------------------------------------

    def add_source(self, name: str, read: Reader, address: str = "") -> None:
        """Poll ``read()`` from now on (on its own thread once started); names are unique.
        ``address`` (the instrument's) goes into the :class:`InstrumentLost` message."""
        with self._cond:
            if name in self._sources:
                raise ValueError(f"sampler source {name!r} is already registered")
            self._sources[name] = read
            self._addresses[name] = address or "(address unknown)"
            self._samples.setdefault(name, [])
            self._errors.setdefault(name, [])
            running = self._running
            if running:
                self._since[name] = time.monotonic()
        if running:
            self._start_thread(name, read)

    def on_lost(self, listener: LossListener) -> None:
        """Call ``listener(loss)`` once per lost source, from the sampler's watch thread."""
        with self._cond:
            self._listeners.append(listener)

    def start(self) -> None:
        """Open the file (append) and start polling; a second call does nothing."""
        with self._cond:
            if self._running:
                return
            self.output_path.parent.mkdir(parents=True, exist_ok=True)
            self._file = self.output_path.open("a", encoding="utf-8")
            self._stop.clear()
            self._running = True
            now = time.monotonic()
            for name in self._sources:
                self._since.setdefault(name, now)
            sources = list(self._sources.items())
        for name, read in sources:
            self._start_thread(name, read)
        if self.grace_s is not None:
            self._spawn(self._watch, "hil-sampler-watch")

    def _start_thread(self, name: str, read: Reader) -> None:
        self._spawn(lambda: self._run(name, read), f"hil-sampler-{name}")

    def _spawn(self, target: Callable[[], None], name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        with self._cond:
            self._threads.append(thread)
        thread.start()

    def stop(self, join_timeout: float = 15.0) -> None:
        """Stop polling, join the threads, close the file; idempotent.

        A thread stuck in a hung read is waited for up to ``join_timeout`` (the driver's
        own timeout ends it sooner); what it reads after that is not recorded.
        """
        self._stop.set()
        with self._cond:
            self._running = False
            threads, self._threads = self._threads, []
            self._cond.notify_all()
        end = time.monotonic() + join_timeout
        for thread in threads:
            if thread is not threading.current_thread():
                thread.join(max(end - time.monotonic(), 0.0))
        with self._cond:
            if self._file is not None:
                self._file.close()
                self._file = None

    def __enter__(self) -> Sampler:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- the polling threads -----------------------------------------------------------

    def _run(self, name: str, read: Reader) -> None:
        deadline = time.monotonic()
        while not self._stop.is_set():
            self._poll(name, read)
            deadline += self.interval_s
            # keep the cadence; if a slow read overran, start again from now
            deadline = max(deadline, time.monotonic())
            self._stop.wait(deadline - time.monotonic())

    def poll_once(self) -> None:
        """Read every source once, one after the other (for tests; the threads poll each
        source on its own)."""
        with self._cond:
            sources = list(self._sources.items())
        for name, read in sources:
            if self._stop.is_set():
                return
            self._poll(name, read)

    def _poll(self, name: str, read: Reader) -> None:
        with self._cond:
            self._pending[name] = time.monotonic()
        try:
            values = {key: float(value) for key, value in read().items()}
            error = None
        except InstrumentError as exc:
            values, error = None, str(exc)
        except Exception as exc:  # a driver bug must not stop the sampling
            values, error = None, f"{type(exc).__name__}: {exc}"
        self._record(
            Sample(source=name, wall=_now_wall(), mono=time.monotonic(), values=values, error=error)
        )

    def _record(self, sample: Sample) -> None:
        with self._cond:
            self._pending.pop(sample.source, None)
            if self._stop.is_set() and self._file is None:
                return  # a hung read that ended after stop(): not part of the run
            if self._file is not None:
                self._file.write(sample.to_json() + "\n")
                self._file.flush()
            (self._samples if sample.ok else self._errors)[sample.source].append(sample)
            self._trim(sample.source, sample.mono)
            if sample.ok and sample.source in self._lost:
                good = self._samples[sample.source]
                if len(good) < 2 or good[-2].mono < self._lost[sample.source].mono:
                    LOG.warning(
                        "%s at %s answers again; it stays lost for this run",
                        sample.source,
                        self._addresses[sample.source],
                    )
            self._cond.notify_all()

    def _trim(self, source: str, now: float) -> None:
        """Drop what memory need not keep (under self._cond): good samples older than
        ``keep_s`` — in chunks, so a wait's place in the list moves rarely — and all but
        the newest failed polls."""
        good = self._samples[source]
        if len(good) >= 2 * TRIM_CHUNK and now - good[TRIM_CHUNK - 1].mono > self.keep_s:
            del good[:TRIM_CHUNK]
            self._dropped[source] = self._dropped.get(source, 0) + TRIM_CHUNK
        errors = self._errors[source]
        if len(errors) > 2 * KEEP_ERRORS:
            del errors[:-KEEP_ERRORS]

    def _watch(self) -> None:
        """Mark sources lost when their grace runs out, and tell the listeners."""
        assert self.grace_s is not None
        tick = min(0.1, self.grace_s / 10)
        while not self._stop.wait(tick):
            with self._cond:
                self._expire(time.monotonic())
                new = [loss for name, loss in self._lost.items() if name not in self._notified]
                self._notified.update(loss.source for loss in new)
                listeners = list(self._listeners)
            for loss in new:
                LOG.warning("%s", loss.message)
                for listener in listeners:
                    try:
                        listener(loss)
                    except Exception:  # a listener's bug must not stop the watch
                        LOG.exception("instrument-loss listener failed")

    # -- loss (under self._cond) -------------------------------------------------------

    def _silent_since(self, source: str) -> float | None:
        """Monotonic time the source's silence counts from (None: not counted)."""
        if self.grace_s is None or source not in self._since:
            return None
        good = self._samples[source]
        return max(good[-1].mono, self._since[source]) if good else self._since[source]

    def _expire(self, now: float) -> None:
        if self.grace_s is None or not self._running:
            return
        for source in self._sources:
            if source in self._lost:
                continue
            since = self._silent_since(source)
            if since is not None and now - since > self.grace_s:
                self._mark_lost(source, now, since)

    def _mark_lost(self, source: str, now: float, since: float) -> None:
        assert self.grace_s is not None
        good = self._samples[source]
        last_good = good[-1] if good else None
        errors = self._errors[source]
        last_error = errors[-1] if errors and errors[-1].mono >= since else None
        prefix = f"{source} at {self._addresses[source]}: "
        parts = [
            f"instrument lost: no good reading for {now - since:.1f} s (grace {self.grace_s:g} s)"
        ]
        if last_good is not None:
            parts.append(f"last good reading {_values_text(last_good.values)} at {last_good.wall}")
        else:
            parts.append("last good reading: none since sampling started")
        if last_error is not None:
            parts.append(
                f"last error at {last_error.wall}: {(last_error.error or '').removeprefix(prefix)}"
            )
        else:
            parts.append("last error: none yet")
        pending = self._pending.get(source)
        if pending is not None:
            parts.append(f"a read has been pending for {now - pending:.1f} s (no answer)")
        loss = Loss(
            source=source,
            address=self._addresses[source],
            wall=_now_wall(),
            mono=now,
            grace_s=self.grace_s,
            reason="; ".join(parts),
            last_good=last_good,
            last_error=last_error,
        )
        self._lost[source] = loss
        if self._file is not None:
            record = {
                "wall": loss.wall,
                "mono": loss.mono,
                "source": source,
                "error": loss.message,
                "lost": True,
            }
            self._file.write(json.dumps(record, sort_keys=True) + "\n")
            self._file.flush()
        self._cond.notify_all()

    # -- queries -----------------------------------------------------------------------

    def _known(self, source: str) -> None:
        if source not in self._sources:
            known = ", ".join(sorted(self._sources)) or "(none)"
            raise KeyError(f"no sampler source {source!r}; registered: {known}")

    @property
    def sources(self) -> list[str]:
        """Registered source names, in registration order."""
        with self._cond:
            return list(self._sources)

    def address(self, source: str) -> str:
        with self._cond:
            self._known(source)
            return self._addresses[source]

    def loss(self, source: str) -> Loss | None:
        """How ``source`` was lost, or None while it is working."""
        with self._cond:
            self._known(source)
            self._expire(time.monotonic())
            return self._lost.get(source)

    def losses(self) -> dict[str, Loss]:
        """Every lost source (name -> :class:`Loss`), oldest loss first."""
        with self._cond:
            self._expire(time.monotonic())
            return dict(sorted(self._lost.items(), key=lambda item: item[1].mono))

    def is_lost(self, source: str) -> bool:
        return self.loss(source) is not None

    def samples(self, source: str, since_mono: float | None = None) -> list[Sample]:
        """Good samples of ``source`` in memory (oldest first; the last ``keep_s`` at
        least), optionally from ``since_mono`` on."""
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
        A lost source raises :class:`InstrumentLost` at once, and a wait running when the
        source's grace runs out raises then.
        """
        end = time.monotonic() + timeout
        with self._cond:
            self._known(source)
            found = self._samples[source]
            # counted from the run's first sample: trimming memory never moves the place
            start = self._dropped.get(source, 0) + max(len(found) - 1, 0)
            while True:
                now = time.monotonic()
                self._expire(now)
                if source in self._lost:
                    raise self._lost[source].exception()
                dropped = self._dropped.get(source, 0)
                for sample in found[max(start - dropped, 0) :]:
                    if (since_mono is None or sample.mono >= since_mono) and predicate(
                        dict(sample.values or {})
                    ):
                        return sample
                start = dropped + len(found)
                remaining = end - now
                if remaining <= 0:
                    raise SamplerTimeout(self._timeout_message(source, timeout))
                since = self._silent_since(source) if self._running else None
                if since is not None and self.grace_s is not None:
                    # wake just after the grace would run out, to raise promptly
                    remaining = min(remaining, max(since + self.grace_s - now, 0.0) + 0.02)
                self._cond.wait(remaining)

    def _timeout_message(self, source: str, timeout: float) -> str:
        last = self._samples[source][-1] if self._samples[source] else None
        last_error = self._errors[source][-1] if self._errors[source] else None
        seen = f"last sample {last.values} at {last.wall}" if last else "no good sample yet"
        if last_error and (last is None or last_error.mono > last.mono):
            seen += f"; last poll failed: {last_error.error}"
        return f"no {source} sample met the condition within {timeout:g} s ({seen})"
