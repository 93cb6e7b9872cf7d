"""Fault injection and request statistics for /graphql.

Faults, each optionally limited to root operation names (`operations`) and a count:
added latency; a share of 5xx answers; a burst of 429s; a hang (no answer for
`hang_seconds`, nothing executed, then 504); and "commit then drop": the mutation runs and
commits, then the client gets HTTP 502 with an empty body, as through a proxy that lost
the upstream answer.
"""

from __future__ import annotations

import secrets
import threading
from collections import Counter
from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict, Field


class DropAfterCommit(BaseModel):
    model_config = ConfigDict(extra="forbid")
    operations: list[str] | None = None
    count: int = Field(default=1, ge=0)


class FaultSpec(BaseModel):
    """The body of `POST /_sandbox/faults`."""

    model_config = ConfigDict(extra="forbid")
    operations: list[str] | None = None
    latency_ms: int = Field(default=0, ge=0, le=60_000)
    error_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    error_status: int = Field(default=503, ge=500, le=599)
    error_count: int | None = Field(default=None, ge=0)
    rate_limit_burst: int = Field(default=0, ge=0)
    retry_after: int = Field(default=1, ge=0)
    hang_seconds: float = Field(default=0.0, ge=0.0, le=600.0)
    hang_count: int = Field(default=1, ge=0)
    drop_after_commit: DropAfterCommit | None = None


class Faults:
    """The active faults; `take_*` consume a fault's count when it fires."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.spec = FaultSpec()
        self.wake = threading.Event()

    def set(self, spec: FaultSpec) -> None:
        with self._lock:
            self.spec = spec
            self.wake = threading.Event()

    def clear(self) -> None:
        with self._lock:
            self.wake.set()  # release requests hanging now
            self.spec = FaultSpec()
            self.wake = threading.Event()

    def _applies(self, operations: Iterable[str], only: list[str] | None) -> bool:
        return only is None or bool(set(operations) & set(only))

    def latency(self, operations: list[str]) -> float:
        spec = self.spec
        return spec.latency_ms / 1000 if self._applies(operations, spec.operations) else 0.0

    def take_burst(self, operations: list[str]) -> int | None:
        with self._lock:
            spec = self.spec
            if spec.rate_limit_burst <= 0 or not self._applies(operations, spec.operations):
                return None
            spec.rate_limit_burst -= 1
            return spec.retry_after

    def take_error(self, operations: list[str]) -> int | None:
        with self._lock:
            spec = self.spec
            if spec.error_rate <= 0 or spec.error_count == 0:
                return None
            if not self._applies(operations, spec.operations):
                return None
            if secrets.randbelow(1_000_000) >= int(spec.error_rate * 1_000_000):
                return None
            if spec.error_count is not None:
                spec.error_count -= 1
            return spec.error_status

    def take_hang(self, operations: list[str]) -> tuple[float, threading.Event] | None:
        with self._lock:
            spec = self.spec
            if spec.hang_seconds <= 0 or spec.hang_count <= 0:
                return None
            if not self._applies(operations, spec.operations):
                return None
            spec.hang_count -= 1
            return spec.hang_seconds, self.wake

    def take_drop(self, operations: list[str]) -> bool:
        with self._lock:
            drop = self.spec.drop_after_commit
            if drop is None or drop.count <= 0 or not self._applies(operations, drop.operations):
                return False
            drop.count -= 1
            return True


class Stats:
    """HTTP requests to /graphql: total, by root field name, by status code, and the root
    fields of the requests being worked on right now (`in_flight`, e.g. during a latency
    fault: a test can act while Sage is busy with a request) and how many requests those
    are (`requests_in_flight`)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests = 0
        self.by_operation: Counter[str] = Counter()
        self.by_status: Counter[str] = Counter()
        self.in_flight: Counter[str] = Counter()
        self.requests_in_flight = 0

    def begin(self, operations: list[str]) -> None:
        """A parsed request's `operations` start (`record` ends them)."""
        with self._lock:
            self.in_flight.update(operations)
            self.requests_in_flight += 1

    def record(self, operations: list[str], status: int) -> None:
        """A request answered; `operations` are those passed to `begin` (or none)."""
        with self._lock:
            self.requests += 1
            self.by_operation.update(operations)
            self.by_status[str(status)] += 1
            if operations:  # begun
                self.requests_in_flight -= 1
            self.in_flight.subtract(operations)
            self.in_flight = +self.in_flight  # drop the zeros

    def reset(self) -> None:
        with self._lock:
            self.requests = 0
            self.by_operation.clear()
            self.by_status.clear()

    def snapshot(self) -> dict[str, object]:
        with self._lock:
            return {
                "requests": self.requests,
                "by_operation": dict(self.by_operation),
                "by_status": dict(self.by_status),
                "in_flight": dict(self.in_flight),
                "requests_in_flight": self.requests_in_flight,
            }
