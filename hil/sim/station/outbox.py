"""The station's outgoing messages, sent one at a time and in order.

OCPP allows one outstanding CALL per connection, so one sender drains one queue.
Transaction-related messages (StartTransaction, MeterValues of a transaction,
StopTransaction) are kept until the back office answers them — across outages and
reboots — as OCPP 1.6 §4.10 asks; other messages are dropped while offline, since the
station reports its current state anew when it reconnects.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

LOG = logging.getLogger("hil.sim.station")

Sender = Callable[[str, dict[str, Any]], Any]  # async (action, payload) -> response


@dataclass
class OutMsg:
    action: str
    build: Callable[[], dict[str, Any]]  # payload built at send time (tx id may come late)
    transactional: bool = False
    on_result: Callable[[dict[str, Any]], None] | None = None
    created: float = field(default_factory=time.monotonic)
    attempts: int = 0


class CallFailed(Exception):
    """The back office answered with a CALLERROR."""


class Outbox:
    """FIFO of outgoing messages; the transactional part survives reboots."""

    def __init__(self) -> None:
        self.items: deque[OutMsg] = deque()
        self.held = False
        self._wake = asyncio.Event()
        self._empty = asyncio.Event()
        self._empty.set()

    def put(self, msg: OutMsg, online: bool) -> None:
        if not online and not msg.transactional:
            return  # nobody to tell; the current state is reported on reconnect
        self.items.append(msg)
        self._empty.clear()
        self._wake.set()

    def drop_volatile(self) -> None:
        """Forget what need not survive a lost connection or a reboot."""
        self.items = deque(m for m in self.items if m.transactional)
        self._update_empty()

    def _update_empty(self) -> None:
        if self.items:
            self._empty.clear()
        else:
            self._empty.set()

    async def flushed(self) -> None:
        """Return once everything queued has been answered."""
        await self._empty.wait()

    def drop_older_than(self, action: str, age_s: float) -> int:
        """Drop queued ``action`` messages older than ``age_s`` (a defect some stations have)."""
        limit = time.monotonic() - age_s
        keep = deque(m for m in self.items if not (m.action == action and m.created < limit))
        dropped = len(self.items) - len(keep)
        self.items = keep
        self._update_empty()
        return dropped

    def reverse(self, action: str) -> None:
        """Deliver queued ``action`` messages newest first (a defect some stations have)."""
        positions = [i for i, m in enumerate(self.items) if m.action == action]
        picked = [self.items[i] for i in positions]
        for i, msg in zip(positions, reversed(picked), strict=True):
            self.items[i] = msg

    async def drain(
        self, send: Sender, attempts: Callable[[], int], retry_interval: Callable[[], float]
    ) -> None:
        """Send queued messages in order until cancelled or the connection breaks.

        A CALLERROR answer to a transactional message is retried up to ``attempts()``
        times, ``retry_interval() * attempt`` apart (OCPP 1.6 §4.10); a timeout or a
        closed connection leaves the message at the head for the next connection.
        """
        while True:
            if not self.items or self.held:
                self._wake.clear()
                await self._wake.wait()
                continue
            msg = self.items[0]
            try:
                result = await send(msg.action, msg.build())
            except CallFailed as exc:
                msg.attempts += 1
                if msg.transactional and msg.attempts < attempts():
                    LOG.warning(
                        "%s answered with CALLERROR (%s); retry %d", msg.action, exc, msg.attempts
                    )
                    await asyncio.sleep(retry_interval() * msg.attempts)
                    continue
                LOG.warning("%s dropped after CALLERROR: %s", msg.action, exc)
                self._pop(msg)
                continue
            self._pop(msg)
            if msg.on_result is not None:
                msg.on_result(result)

    def _pop(self, msg: OutMsg) -> None:
        if self.items and self.items[0] is msg:
            self.items.popleft()
        else:
            with contextlib.suppress(ValueError):
                self.items.remove(msg)
        self._update_empty()

    def wake(self) -> None:
        self._wake.set()

    def hold(self) -> None:
        """Send nothing until :meth:`release` (a station busy shutting down)."""
        self.held = True

    def release(self) -> None:
        self.held = False
        self._wake.set()
