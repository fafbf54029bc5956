"""A clock the test moves by hand: the virtual instruments' physics and sessions read it,
so energy and timed phases need no waiting."""

from __future__ import annotations


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
