"""The handler registry: which function processes an inbound event, and what it may answer.

A handler is a plain function `(event, services) -> Outcome` registered for one
`(provider, topic)` pair with the `@handler` decorator. It returns one of:

- `Processed(detail)` - the event's effects are in Sage (or were already there);
- `Ignored(reason)`   - nothing to do for this event (e.g. a topic we only record);
- `Parked(retry_in, reason)` - it waits for something else (usually its order) to exist
  and is retried later; it is never dropped.

or raises one of the two errors below. Those are the only exceptions a handler lets out:
connector errors are turned into them by the handler (see STYLE.md 5).

- `TransientError(reason, retry_in=None)` - may succeed later (rate limit, 5xx, timeout);
  the task retries it with backoff and jitter, up to a bound.
- `PermanentError(reason)` - will not heal by itself (business error, bad payload); the
  event is dead-lettered as `failed` with the reason, visible and replayable.
- `Waiting(reason, gate)` - a `TransientError` for an outage of something the bridge
  depends on (Sage needs a login, Sage's circuit is open): not the event's fault. The event
  is parked on that gate (`bridge.ops.gates`), released the moment the gate opens, and the
  attempt (outcome `held`) does not count toward `MAX_ATTEMPTS`, however long it lasts.

Attempts that count: `retry` outcomes since the event last parked, failed or finished
(`counted_failures`), so waiting at a gate, being throttled by Sage (429, retried after its
`Retry-After`), being requeued or replayed never uses up an event's attempts.

An event whose `(provider, topic)` has no handler is `Ignored`.

`run_event` is what the Celery task calls: it records the attempt and its outcome in the
event ledger and tells the task whether (and when) to retry.
"""

from __future__ import annotations

import datetime as dt
import importlib
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeAlias, TypeVar

from bridge.observability import report
from bridge.ops.gates import HOLD_RECHECK
from bridge.outbound.events import EventType, SyncFailedData
from bridge.store.alert_queue import queue_alert
from bridge.store.events import Attempt, EventStatus
from bridge.store.workers import WorkerId

if TYPE_CHECKING:
    from bridge.services import Services
    from bridge.store.events import EventRecord

MAX_ATTEMPTS = 8  # transient failures before an event is dead-lettered
RETRY_BASE = 5.0  # seconds; doubled per attempt
RETRY_CAP = 900.0  # seconds; far below the broker's visibility timeout


@dataclass(frozen=True)
class Processed:
    """The event's effects are done; `detail` says what, for people (e.g. the invoice id)."""

    detail: str = ""


@dataclass(frozen=True)
class Ignored:
    """Nothing to do for this event."""

    reason: str = ""


@dataclass(frozen=True)
class Parked:
    """The event waits for something (e.g. its order) and is retried in `retry_in` seconds."""

    retry_in: float
    reason: str


Outcome: TypeAlias = Processed | Ignored | Parked


class DispatchError(Exception):
    """Base of the errors a handler may raise; `reason` is shown to operators."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class PermanentError(DispatchError):
    """Will not succeed by trying again: the event is dead-lettered with the reason."""


class TransientError(DispatchError):
    """May succeed later; `retry_in` (seconds) is a hint such as a `Retry-After`.

    `counted=False` (Sage throttling us with 429s): retried after the hint, and the
    attempt does not count toward `MAX_ATTEMPTS` (outcome `throttled`).
    """

    def __init__(self, reason: str, retry_in: float | None = None, counted: bool = True) -> None:
        super().__init__(reason)
        self.retry_in = retry_in
        self.counted = counted


class Waiting(TransientError):
    """A dependency is down (`gate` names which): hold the event, do not count it."""

    def __init__(self, reason: str, gate: str) -> None:
        super().__init__(reason)
        self.gate = gate


Handler: TypeAlias = Callable[["EventRecord", "Services"], Outcome]
H = TypeVar("H", bound=Handler)

_HANDLERS: dict[tuple[str, str], Handler] = {}
_INTERNAL: set[tuple[str, str]] = set()

# Modules that register handlers when imported; the worker imports them all before the
# first event (`load_handlers`). Add yours here, one line each.
HANDLER_MODULES: tuple[str, ...] = (
    "bridge.sync.shopify.handlers",
    "bridge.sync.stripe.refunds",
    "bridge.sync.stripe.invoices",
    "bridge.sync.stripe.payments",
    "bridge.sync.stripe.handlers",
    "bridge.sync.stripe.invoice_status",
    "bridge.payouts.handlers",
    "bridge.sync.writeback_handler",
)


def load_handlers() -> None:
    """Import every module of `HANDLER_MODULES` (each import registers its handlers).

    Raises:
        ImportError: a listed module does not exist or fails to import.
    """
    for name in HANDLER_MODULES:
        importlib.import_module(name)


def handler(provider: str, topic: str, *, internal: bool = False) -> Callable[[H], H]:
    """Register the decorated function for `(provider, topic)`.

    `internal` marks a topic no webhook carries: the bridge records such events itself
    (the reconciliation job's payouts, the poller's write-back), so the ingress need not
    accept it.

    Raises:
        ValueError: another function is already registered for the same pair.
    """

    def register(func: H) -> H:
        key = (provider, topic)
        existing = _HANDLERS.get(key)
        if existing is not None and existing is not func:
            raise ValueError(f"a handler is already registered for {provider} {topic!r}")
        _HANDLERS[key] = func
        if internal:
            _INTERNAL.add(key)
        return func

    return register


def handler_for(provider: str, topic: str) -> Handler | None:
    """The handler registered for `(provider, topic)`, or None."""
    return _HANDLERS.get((provider, topic))


def registered(*, internal: bool = True) -> list[tuple[str, str]]:
    """Every registered `(provider, topic)` pair, sorted; without the internal ones (those
    no webhook carries) when `internal` is False."""
    return sorted(key for key in _HANDLERS if internal or key not in _INTERNAL)


def process_event(event: EventRecord, services: Services) -> Outcome:
    """Run the handler for `event`; no handler means `Ignored`.

    Raises:
        TransientError: the handler says to try again later.
        PermanentError: the handler says the event cannot be processed.
    """
    load_handlers()
    func = handler_for(event.provider, event.topic)
    if func is None:
        return Ignored(f"no handler for {event.provider} {event.topic!r}")
    return func(event, services)


@dataclass(frozen=True)
class RunResult:
    """What `run_event` did: the event's status now, and a retry delay when one is due."""

    status: str  # an EventStatus value, or "missing" / "skipped"
    retry_in: float | None = None
    detail: str = ""


def retry_delay(
    retries: int, hint: float | None, rng: Callable[[], float] = random.random
) -> float:
    """Exponential backoff with jitter, at least `hint` (e.g. a Retry-After), bounded."""
    base = min(RETRY_CAP, RETRY_BASE * 2**retries)
    delay = base / 2 + rng() * base / 2
    if hint is not None:
        delay = max(delay, hint + rng())
    return float(min(delay, RETRY_CAP))


def counted_failures(attempts: Sequence[Attempt]) -> int:
    """Transient failures that count toward `MAX_ATTEMPTS`: the `retry` outcomes of the
    latest run of attempts (held, throttled and unfinished ones are passed over; any other
    outcome - parked, failed, processed - ends the run)."""
    count = 0
    for attempt in reversed(attempts):
        if attempt.outcome == "retry":
            count += 1
        elif attempt.outcome not in (None, "held", "throttled"):
            break
    return count


def dead_letter(
    services: Services, event: EventRecord, reason: str, started: dt.datetime, exc: BaseException
) -> None:
    """Report a dead-lettered event to Sentry and announce it as `sync.failed`.

    The key makes a retried announcement of the same failed attempt go out once.
    """
    report(exc)
    data = SyncFailedData(
        event_ref=event.ref, provider=event.provider, topic=event.topic, reason=reason
    )
    services.outbound.emit(
        EventType.SYNC_FAILED, data, key=f"sync.failed:{event.ref}:{started.isoformat()}"
    )
    queue_alert(
        services.redis,
        services.settings,
        "dead_letter",
        f"Event failed: {event.provider} {event.topic}",
        reason,
        key=f"dead_letter:{event.ref}:{started.isoformat()}",
        path=f"/console/events/{event.ref}",
    )


def run_event(
    services: Services,
    ref: str,
    task_id: str,
    retries: int = 0,
    worker: WorkerId | None = None,
) -> RunResult:
    """Process event `ref` once: mark it, dispatch it, record the outcome and the attempt.

    An event already processed, ignored or failed is skipped (tasks are idempotent).
    `worker` (the Celery worker running this) is recorded with the attempt: if it dies
    mid-task, the sweep sees its heartbeat gone and re-sends the event at once.
    `retries` (the task's retry count) is a floor for `counted_failures`.

    Raises:
        redis.RedisError: Redis is unreachable (the task retries).
        Exception: a bug in a handler, after it was recorded as `failed` and reported.
    """
    store = services.events
    event = store.get(ref)
    if event is None:
        return RunResult("missing", detail=f"no event {ref}")
    started = dt.datetime.now(dt.UTC)
    allowed = (EventStatus.QUEUED, EventStatus.PARKED, EventStatus.PROCESSING)
    begun = Attempt(task_id=task_id, started_at=started, worker=worker.hostname if worker else None)
    previous = store.mark(
        ref, EventStatus.PROCESSING, allowed=allowed, attempt=("start", begun), worker=worker
    )
    if previous not in allowed:
        return RunResult("skipped", detail=f"already {previous}")

    def finish(
        status: EventStatus, outcome: str, error: str = "", retry_in: float | None = None
    ) -> None:
        done = begun.model_copy(
            update={"finished_at": dt.datetime.now(dt.UTC), "outcome": outcome, "error": error}
        )
        store.mark(
            ref, status, error=error, outcome=outcome, attempt=("finish", done), retry_in=retry_in
        )

    try:
        result = process_event(event, services)
    except Waiting as exc:
        finish(EventStatus.PARKED, "held", exc.reason, retry_in=HOLD_RECHECK)
        services.gates.hold(exc.gate, ref)  # after the park: a release finds it parked
        return RunResult(EventStatus.PARKED, detail=exc.reason)
    except TransientError as exc:
        if not exc.counted:
            delay = retry_delay(0, exc.retry_in)
            finish(EventStatus.QUEUED, "throttled", exc.reason, retry_in=delay)
            return RunResult(EventStatus.QUEUED, retry_in=delay, detail=exc.reason)
        failures = max(retries, counted_failures(event.attempts))
        if failures + 1 >= MAX_ATTEMPTS:
            reason = f"gave up after {failures + 1}: {exc.reason}"
            finish(EventStatus.FAILED, "failed", reason)
            dead_letter(services, event, reason, started, exc)
            return RunResult(EventStatus.FAILED, detail=exc.reason)
        delay = retry_delay(failures, exc.retry_in)
        finish(EventStatus.QUEUED, "retry", exc.reason, retry_in=delay)
        return RunResult(EventStatus.QUEUED, retry_in=delay, detail=exc.reason)
    except PermanentError as exc:
        finish(EventStatus.FAILED, "failed", exc.reason)
        dead_letter(services, event, exc.reason, started, exc)
        return RunResult(EventStatus.FAILED, detail=exc.reason)
    except Exception as exc:  # a bug must not leave the event "processing"
        reason = f"unexpected error: {type(exc).__name__}: {exc}"
        finish(EventStatus.FAILED, "failed", reason)
        dead_letter(services, event, reason, started, exc)
        raise
    if isinstance(result, Parked):
        finish(EventStatus.PARKED, "parked", result.reason, retry_in=result.retry_in)
        return RunResult(EventStatus.PARKED, detail=result.reason)
    if isinstance(result, Ignored):
        finish(EventStatus.IGNORED, "ignored", result.reason)  # the why, kept as a parked one
        return RunResult(EventStatus.IGNORED, detail=result.reason)
    finish(EventStatus.PROCESSED, "processed")
    return RunResult(EventStatus.PROCESSED, detail=result.detail)
