"""A clock the test moves by hand."""

from __future__ import annotations


class Clock:
    """A settable clock: `clock.now += 60` moves time for the store under test."""

    def __init__(self, now: float = 1_750_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now
