"""How the back office answers what a station asks: configurable per run, changed by keywords.

Reads happen on the back office loop and writes on Robot's thread, so every access goes
through one lock.
"""

from __future__ import annotations

import itertools
import threading
from collections import deque
from dataclasses import dataclass

AUTH_STATUSES = ("Accepted", "Invalid", "Blocked", "Expired", "ConcurrentTx")
BOOT_STATUSES = ("Accepted", "Pending", "Rejected")


@dataclass(frozen=True)
class BootAnswer:
    status: str
    interval: int


@dataclass(frozen=True)
class PolicyCheckpoint:
    boot: BootAnswer
    tags: dict[str, str]
    data_transfer_status: str


class ResponsePolicy:
    """Answers to station-initiated calls: boot, authorization, transaction ids, DataTransfer."""

    def __init__(self, heartbeat_interval: int, first_transaction_id: int = 1) -> None:
        self._lock = threading.Lock()
        self._boot = BootAnswer("Accepted", heartbeat_interval)
        self._boot_queue: deque[BootAnswer] = deque()
        self._tags: dict[str, str] = {}
        self._tx_ids = itertools.count(first_transaction_id)
        self._data_transfer_status = "UnknownVendorId"

    # -- checkpoints ---------------------------------------------------------------

    def checkpoint(self) -> PolicyCheckpoint:
        """The answers as they are now, to go back to after a test changed them."""
        with self._lock:
            return PolicyCheckpoint(self._boot, dict(self._tags), self._data_transfer_status)

    def restore(self, checkpoint: PolicyCheckpoint) -> None:
        """Answer as at ``checkpoint`` again; queued boot answers are dropped."""
        with self._lock:
            self._boot = checkpoint.boot
            self._boot_queue.clear()
            self._tags = dict(checkpoint.tags)
            self._data_transfer_status = checkpoint.data_transfer_status

    # -- boot ----------------------------------------------------------------------

    def set_boot_answer(self, status: str, interval: int) -> None:
        """Answer every following BootNotification with ``status`` / ``interval``."""
        _check(status, BOOT_STATUSES, "BootNotification status")
        with self._lock:
            self._boot = BootAnswer(status, int(interval))
            self._boot_queue.clear()

    def queue_boot_answers(self, *answers: BootAnswer) -> None:
        """Answer the next BootNotifications with these, then fall back to the default."""
        for a in answers:
            _check(a.status, BOOT_STATUSES, "BootNotification status")
        with self._lock:
            self._boot_queue.extend(answers)

    def next_boot_answer(self) -> BootAnswer:
        with self._lock:
            return self._boot_queue.popleft() if self._boot_queue else self._boot

    @property
    def heartbeat_interval(self) -> int:
        with self._lock:
            return self._boot.interval

    # -- authorization -------------------------------------------------------------

    def set_tag(self, tag: str, status: str) -> None:
        _check(status, AUTH_STATUSES, "authorization status")
        with self._lock:
            self._tags[tag] = status

    def tag_status(self, tag: str) -> str:
        """The status for ``tag``; a tag the lab never configured is Invalid."""
        with self._lock:
            return self._tags.get(tag, "Invalid")

    # -- transactions and data transfer ---------------------------------------------

    def next_transaction_id(self) -> int:
        with self._lock:
            return next(self._tx_ids)

    def set_data_transfer_status(self, status: str) -> None:
        _check(
            status,
            ("Accepted", "Rejected", "UnknownMessageId", "UnknownVendorId"),
            "DataTransfer status",
        )
        with self._lock:
            self._data_transfer_status = status

    @property
    def data_transfer_status(self) -> str:
        with self._lock:
            return self._data_transfer_status


def _check(value: str, allowed: tuple[str, ...], what: str) -> None:
    if value not in allowed:
        raise ValueError(f"{what} must be one of {', '.join(allowed)}, got {value!r}")
