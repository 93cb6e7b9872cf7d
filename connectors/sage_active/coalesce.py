"""Merge concurrent calls of one process into one aliased GraphQL document.

Several worker threads each calling `close_and_post` at about the same time would cost
one request each; `Coalescer.submit` lets them share one. A caller enqueues its
operations and waits for its own results. The first caller of an empty window becomes
its leader (no extra thread): it waits `window` seconds (or less, once `max_size`
operations are pending), takes everything pending and sends it through `execute_batch`.
Queries and mutations wait in separate windows, since a document holds only one kind.

Each caller gets exactly its own results: a refused alias is a `SageBusinessError` for
its caller only (`execute_batch` maps errors by alias). A whole-request failure goes to
every caller of that request, as the same exception, so `maybe_committed` is kept and
the pipeline's look-before-act decides. Callers are packed into requests whole and in
arrival order, within `max_cost` / `max_size` (the split `batch.plan` makes), so one
caller's close and post stay in one document, run in order, and a failed request never
hides the results of another one. A document Sage refuses unrun (HTTP 400, e.g. one
caller's malformed id) is sent again caller by caller, so only the bad caller fails.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from connectors.sage_active.batch import Operation
from connectors.sage_active.errors import (
    SageComplexityError,
    SageError,
    SageInvalidRequest,
    SageTransientError,
)

Result = dict[str, Any] | SageError
RunBatch = Callable[[Sequence[Operation]], list[Result]]
# The leader sends within `window` and the request is bounded by the client's timeouts,
# retries and limiter waits: this only guards a waiter against a lost wake-up.
_LOST_WAKEUP_GUARD = 3600.0


@dataclass
class _Call:
    """One caller's operations and, once sent, its results or the request's error."""

    operations: list[Operation]
    done: threading.Event = field(default_factory=threading.Event)
    results: list[Result] = field(default_factory=list)
    error: SageError | None = None

    @property
    def cost(self) -> int:
        return sum(op.estimated_cost() for op in self.operations)


@dataclass
class _Window:
    """The calls waiting for one kind of document (queries or mutations)."""

    calls: list[_Call] = field(default_factory=list)
    leader: bool = False

    @property
    def size(self) -> int:
        return sum(len(call.operations) for call in self.calls)


class Coalescer:
    """Thread-safe batching of `run_batch` calls; see the module docstring.

    `window` is in seconds; 0 sends every call on its own, at once.
    """

    def __init__(
        self,
        run_batch: RunBatch,
        *,
        window: float,
        max_cost: int,
        max_size: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if window < 0 or max_size < 1 or max_cost < 1:
            raise ValueError("window must be >= 0, max_size and max_cost >= 1")
        self._run_batch = run_batch
        self._window = window
        self._max_cost = max_cost
        self._max_size = max_size
        self._clock = clock
        self._cond = threading.Condition()
        self._windows = {True: _Window(), False: _Window()}

    def submit(self, operations: Sequence[Operation]) -> list[Result]:
        """Run `operations` (all queries or all mutations), possibly with other callers'.

        Returns one result per operation: the alias' data or its own `SageError`.

        Raises:
            ValueError: no operations, or queries mixed with mutations.
            SageAuthError, SageTransientError, SageInvalidRequest: the request that carried
                these operations failed as a whole (the same error as every caller in it).
        """
        ops = list(operations)
        if not ops or any(op.mutation != ops[0].mutation for op in ops):
            raise ValueError("submit needs operations of one kind")
        if self._window == 0:
            return self._run_batch(ops)
        call = _Call(ops)
        window = self._windows[ops[0].mutation]
        with self._cond:
            window.calls.append(call)
            lead = not window.leader
            window.leader = True
            if window.size >= self._max_size:
                self._cond.notify_all()  # a full window need not wait any longer
        if lead:
            self._send(self._collect(window))
        if not call.done.wait(_LOST_WAKEUP_GUARD):
            raise SageTransientError("coalesced Sage request never finished", maybe_committed=True)
        if call.error is not None:
            raise call.error
        return call.results

    def _collect(self, window: _Window) -> list[_Call]:
        """Wait out the window (or until it is full), then take its calls."""
        deadline = self._clock() + self._window
        with self._cond:
            while window.size < self._max_size:
                left = deadline - self._clock()
                if left <= 0:
                    break
                self._cond.wait(left)
            calls, window.calls = window.calls, []
            window.leader = False  # the next caller opens a new window
        return calls

    def _send(self, calls: list[_Call]) -> None:
        """Send `calls` in as few requests as the limits allow; wake every caller.

        Raises:
            Exception: an unexpected (non-Sage) failure, to the leader; the other callers
                still wake, with a `SageTransientError(maybe_committed=True)`.
        """
        try:
            for chunk in self._chunks(calls):
                self._send_chunk(chunk)
        finally:
            for call in calls:
                if not call.done.is_set():
                    call.error = SageTransientError(
                        "the request carrying this call failed unexpectedly",
                        maybe_committed=True,
                    )
                    call.done.set()

    def _send_chunk(self, chunk: list[_Call]) -> None:
        ops = [op for call in chunk for op in call.operations]
        try:
            results = self._run_batch(ops)
        except SageError as err:
            if len(chunk) > 1 and _refused_unrun(err):
                # One caller's bad input (say, a malformed id) must not fail the others:
                # Sage ran nothing, so each caller is sent again on its own.
                for call in chunk:
                    self._send_chunk([call])
                return
            for call in chunk:  # the whole request failed: every caller in it sees it
                call.error = err
                call.done.set()
            return
        start = 0
        for call in chunk:
            call.results = results[start : start + len(call.operations)]
            start += len(call.operations)
            call.done.set()

    def _chunks(self, calls: list[_Call]) -> list[list[_Call]]:
        """Pack whole calls, in order, into chunks within the size and cost budgets."""
        chunks: list[list[_Call]] = []
        size = cost = 0
        for call in calls:
            n, c = len(call.operations), call.cost
            if not chunks or size + n > self._max_size or cost + c > self._max_cost:
                chunks.append([call])
                size, cost = n, c
            else:
                chunks[-1].append(call)
                size += n
                cost += c
        return chunks


def _refused_unrun(err: SageError) -> bool:
    """Whether Sage refused the document before running any of it (HTTP 400 and the like:
    invalid variables or document). A complexity refusal is split by the client itself."""
    return (
        isinstance(err, SageInvalidRequest)
        and not isinstance(err, SageComplexityError)
        and err.status is not None
        and 400 <= err.status < 500
    )
