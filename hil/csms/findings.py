"""Findings: protocol defects of a station noticed by the back office, not by a keyword.

A schema violation, an unexpected CALL or a malformed frame is answered on the wire (or
ignored, for unparsable text) and also recorded here, so the running test can fail with
the frame that proves it. Each finding names the station it belongs to; readers that care
about one station (the DUT) filter with ``since(mark, station=...)``.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True)
class Finding:
    station: str
    seq: int  # journal frame that shows it (0 when none)
    # malformed-frame, binary-frame, schema-violation, protocol-error, unexpected-call,
    # unexpected-response, bad-response, frame-too-big, websocket-protocol-error,
    # routing-error (the back office failed on a frame), back-office-error (a handler failed),
    # second-connection (a remark)
    kind: str
    detail: str
    #: a remark the lab should know (a SHOULD, or allowed but unusual): the step still passes
    remark: bool = False

    def describe(self) -> str:
        where = f" (frame #{self.seq})" if self.seq else ""
        return f"{self.station}: {self.kind}{where}: {self.detail}"


#: findings kept in memory; every one is also in its station's journal (``finding``)
MAX_KEPT = 10_000


class FindingLog:
    """Thread-safe record of findings; readers take those after a mark.

    Bounded: the newest :data:`MAX_KEPT` are kept (a station that sends a malformed frame
    a millisecond all night must not grow the lab's memory); marks count every finding,
    so a reader's mark stays valid, and the journal keeps them all.
    """

    def __init__(self, max_kept: int = MAX_KEPT) -> None:
        self._lock = threading.Lock()
        self._items: deque[Finding] = deque(maxlen=max_kept)
        self._total = 0

    def record(self, finding: Finding) -> None:
        with self._lock:
            self._items.append(finding)
            self._total += 1

    @property
    def mark(self) -> int:
        with self._lock:
            return self._total

    def since(self, mark: int, station: str | None = None) -> list[Finding]:
        """Findings recorded after ``mark`` that are still kept; only ``station``'s when
        it is given."""
        with self._lock:
            first_kept = self._total - len(self._items)
            items = list(self._items)[max(0, mark - first_kept) :]
        if station is None:
            return items
        return [f for f in items if f.station == station]
