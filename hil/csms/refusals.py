"""The refusals log: every refused connection attempt, bounded whatever the network sends.

A refused handshake (wrong password, no station id, a TLS failure, an impostor's
certificate) is evidence, but it is also what anyone who can reach the port can produce
by the thousand. So refusals never open a journal of their own: they go to one JSON-lines
file (``refusals.jsonl`` beside the journals), through a limiter — a burst, then a steady
rate, and a total cap on lines — and what the limiter holds back is counted, so the log
still says how many came, from where and why. The lab's own log gets fewer lines still.

A refusal that names a station the lab already journals (the DUT) is also written to
that station's journal, when the limiter lets it through (:meth:`RefusalLog.admit`).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

LOG = logging.getLogger("hil.csms")

#: refusals written at once before the steady rate applies
BURST = 50
#: refusals written per second after the burst (the rest are counted)
RATE_PER_S = 10.0
#: the most lines the refusals log gets in a run (a few MiB); then only counts
MAX_LINES = 10_000
#: refusals the lab's log shows one by one; then one summary line per interval
LOG_FIRST = 20
LOG_SUMMARY_INTERVAL_S = 30.0
#: distinct (station id, reason) pairs counted apiece; the rest count as "other"
MAX_COUNTED = 200


@dataclass
class _Bucket:
    """A token bucket: ``take()`` is True while the burst or the rate allows."""

    burst: int
    rate: float
    tokens: float = 0.0
    at: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self.tokens = float(self.burst)

    def take(self, now: float) -> bool:
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


class RefusalLog:
    """Counts every refusal; writes as many as the limits allow, flushed at once."""

    def __init__(
        self,
        path: Path | None,
        burst: int = BURST,
        rate_per_s: float = RATE_PER_S,
        max_lines: int = MAX_LINES,
    ) -> None:
        self.path = path
        self.max_lines = max_lines
        self.total = 0
        self.written = 0
        self.held_back = 0  # counted, not written, since the last written line
        self.by_cause: Counter[tuple[str, str]] = Counter()
        self._bucket = _Bucket(burst, rate_per_s)
        self._lock = threading.Lock()
        self._logged = 0
        self._log_held = 0
        self._last_summary = 0.0
        self._file: IO[str] | None = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._file = path.open("w", encoding="utf-8")  # this run's, never appended

    def admit(self, station_id: str, reason: str, **info: Any) -> bool:
        """Count one refusal; True when it was written (and may be journaled elsewhere)."""
        now = time.monotonic()
        with self._lock:
            self.total += 1
            cause = (station_id, _reason_kind(reason))
            if cause in self.by_cause or len(self.by_cause) < MAX_COUNTED:
                self.by_cause[cause] += 1
            else:
                self.by_cause[("…", "other")] += 1
            admitted = self.written < self.max_lines and self._bucket.take(now)
            if admitted:
                record = {
                    "wall": datetime.now(UTC).isoformat(timespec="microseconds"),
                    "station_id": station_id,
                    "reason": reason,
                    **info,
                }
                if self.held_back:
                    record["held_back_before"] = self.held_back
                self.held_back = 0
                self.written += 1
                self._write(record)
            else:
                self.held_back += 1
            self._log(station_id, reason, info.get("remote", "?"), now)
        return admitted

    def _write(self, record: dict[str, Any]) -> None:
        if self._file is not None:
            self._file.write(json.dumps(record, ensure_ascii=False) + "\n")
            self._file.flush()

    def _log(self, station_id: str, reason: str, remote: str, now: float) -> None:
        where = f" ({self.path})" if self.path is not None else ""
        if self._logged < LOG_FIRST:
            self._logged += 1
            named = f" as {station_id!r}" if station_id else ""
            LOG.warning("refused connection from %s%s: %s", remote, named, reason)
            if self._logged == LOG_FIRST:
                LOG.warning(
                    "further refusals are summarised every %gs%s", LOG_SUMMARY_INTERVAL_S, where
                )
            self._last_summary = now
            return
        self._log_held += 1
        if now - self._last_summary >= LOG_SUMMARY_INTERVAL_S:
            LOG.warning("%d more refused connection(s)%s", self._log_held, where)
            self._log_held = 0
            self._last_summary = now

    def close(self) -> None:
        """Write the run's counts (every refusal, written or not) and close the file."""
        with self._lock:
            if self._file is None:
                return
            causes = [
                {"station_id": sid, "reason": kind, "count": n}
                for (sid, kind), n in self.by_cause.most_common(50)
            ]
            self._write(
                {
                    "wall": datetime.now(UTC).isoformat(timespec="microseconds"),
                    "summary": True,
                    "refused": self.total,
                    "written": self.written,
                    "held_back": self.total - self.written,
                    "causes": causes,
                }
            )
            self._file.close()
            self._file = None


def _reason_kind(reason: str) -> str:
    """The reason without its particulars (station ids, addresses), to count alike ones."""
    return reason.split(":", 1)[0].split("(", 1)[0].strip()[:80]
