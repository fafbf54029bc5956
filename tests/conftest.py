"""Shared fixtures: a background-thread asyncio loop for virtual servers (drivers, lab)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, TypeVar

import pytest

T = TypeVar("T")


class SimLoop:
    """An asyncio loop on its own thread, as the virtual bench runs its servers.

    ``run(coro, timeout)`` runs a coroutine there and returns its result; ``call(fn, ...)``
    runs a plain function there (for touching loop-owned state such as the physics).
    """

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="sim-loop", daemon=True)
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 10.0) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def call(self, fn: Callable[..., T], *args: Any, timeout: float = 10.0) -> T:
        async def _call() -> T:
            return fn(*args)

        return self.run(_call(), timeout)

    def close(self) -> None:
        async def _cancel_rest() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        self.run(_cancel_rest())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        self.loop.close()


@pytest.fixture
def sim_loop() -> Iterator[SimLoop]:
    loop = SimLoop()
    try:
        yield loop
    finally:
        loop.close()
