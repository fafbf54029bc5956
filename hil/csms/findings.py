"""Findings: protocol defects of a station noticed by the back office, not by a keyword.

A schema violation, an unexpected CALL or a malformed frame is answered on the wire (or
ignored, for unparsable text) and also recorded here, so the running test can fail with
the frame that proves it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass


@dataclass(frozen=True)
class Finding:
    station: str
    seq: int  # journal frame that shows it (0 when none)
    kind: str  # malformed-frame, schema-violation, unexpected-call, bad-response
    detail: str

    def describe(self) -> str:
        where = f" (frame #{self.seq})" if self.seq else ""
        return f"{self.station}: {self.kind}{where}: {self.detail}"


class FindingLog:
    """Thread-safe list of findings; readers take those after a mark."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: list[Finding] = []

    def record(self, finding: Finding) -> None:
        with self._lock:
            self._items.append(finding)

    @property
    def mark(self) -> int:
        with self._lock:
            return len(self._items)

    def since(self, mark: int) -> list[Finding]:
        with self._lock:
            return list(self._items[mark:])
