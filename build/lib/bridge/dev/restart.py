"""When `bridge dev` starts a child again after it exited on its own: back-off per child.

A child that exits is started again after a delay that grows with each exit in a row
(1 s, 2 s, 5 s, 10 s, then every 30 s), so a process that cannot start (a bad setting, a
port taken) is retried patiently instead of in a tight loop, while a crash now and then is
repaired within a second or two. A child that stayed up `STABLE_AFTER` seconds starts from
the shortest delay again. The supervisor asks `due()` twice a second.
"""

from __future__ import annotations

from dataclasses import dataclass, field

DELAYS = (1.0, 2.0, 5.0, 10.0, 30.0)
STABLE_AFTER = 60.0


@dataclass
class Backoff:
    """Restart times of the children that exited, by name."""

    delays: tuple[float, ...] = DELAYS
    stable_after: float = STABLE_AFTER
    _in_a_row: dict[str, int] = field(default_factory=dict)
    _due: dict[str, float] = field(default_factory=dict)

    def exited(self, name: str, ran_for: float, now: float) -> float:
        """Note that `name` exited after running `ran_for` s; return the delay before restart."""
        stable = ran_for >= self.stable_after
        in_a_row = 1 if stable else self._in_a_row.get(name, 0) + 1
        self._in_a_row[name] = in_a_row
        delay = self.delays[min(in_a_row, len(self.delays)) - 1]
        self._due[name] = now + delay
        return delay

    def waiting(self, name: str) -> bool:
        """True while `name` exited and waits for its restart."""
        return name in self._due

    def due(self, name: str, now: float) -> bool:
        """True (once) when `name`'s restart time has come."""
        if name in self._due and now >= self._due[name]:
            del self._due[name]
            return True
        return False

    def in_a_row(self, name: str) -> int:
        """How many times in a row `name` exited without staying up (0: never)."""
        return self._in_a_row.get(name, 0)
