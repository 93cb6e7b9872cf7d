"""Inbound events: the processing task, the periodic sweep, and the outbox relay.

The ingress only writes to Redis (record + outbox, one atomic call). Each worker runs a
relay thread that moves refs from the outbox into Celery (`OutboxRelay`); see
`bridge.store.events` for why no acknowledged event can be lost on the way.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import redis
from celery import Task, signals
from kombu.exceptions import OperationalError

from bridge.observability import log_context
from bridge.services import redis_client
from bridge.store.events import EventStatus, EventStore
from bridge.sync.dispatch import RunResult, run_event
from tasks.app import app, get_services, settings
from tasks.doctor import first_check, hold_message
from tasks.heartbeat import current_worker

log = logging.getLogger(__name__)


@app.task(bind=True, name="tasks.ingest.process_event", max_retries=None)  # type: ignore[untyped-decorator]
def process_event(self: Task, ref: str) -> str:
    """Process inbound event `ref` (idempotent); transient failures come back as retries."""
    task_id = str(self.request.id or "local")
    with log_context(provider=ref.partition(":")[0], event_id=ref, task_id=task_id):
        try:
            if _held(ref):
                return "held"
            worker = current_worker(self.request.hostname)
            result: RunResult = run_event(
                get_services(), ref, task_id, self.request.retries, worker
            )
        except redis.RedisError as exc:
            # The ledger is unreachable: nothing was recorded, try again shortly.
            raise self.retry(exc=exc, countdown=5) from exc
        log.info("event %s: %s %s", ref, result.status, result.detail)
        if result.retry_in is not None:
            raise self.retry(countdown=result.retry_in)
        return result.status


def _held(ref: str) -> bool:
    """True if the mapping holds processing: `ref` goes back on the outbox, where the relay
    keeps it until the hold is lifted (no attempt spent, not failed).

    Raises:
        redis.RedisError: Redis is unreachable.
    """
    services = get_services()
    if not hold_message(services):
        return False
    services.events.mark(ref, EventStatus.QUEUED, requeue=True, allowed=(EventStatus.QUEUED,))
    log.info("event %s held: the mapping is being fixed (see bridge doctor)", ref)
    return True


@app.task(name="tasks.ingest.sweep")  # type: ignore[untyped-decorator]
def sweep() -> dict[str, int]:
    """Re-send dropped hand-offs, orphaned, stale and due events; trim expired entries."""
    services = get_services()
    # While held, queued events wait on purpose: re-sending them would only pile them up.
    queued_grace = float("inf") if hold_message(services) else 300.0
    result = services.events.sweep(queued_grace=queued_grace)
    if any(result.model_dump().values()):
        log.info("sweep re-sent %s", result.model_dump())
    return result.model_dump()


class OutboxRelay(threading.Thread):
    """Drains the outbox into Celery: BLMOVE to in-flight, send the task, confirm."""

    def __init__(self, store: EventStore, client: redis.Redis) -> None:
        super().__init__(name="outbox-relay", daemon=True)
        self._store = store
        self._client = client
        self._stop_event = threading.Event()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop_event.set()
        self.join(timeout)
        self._client.close()

    def run(self) -> None:
        # The mapping is checked before the first event is handed over (bounded wait).
        first_check(get_services())
        # The ref taken from the outbox and not yet confirmed sent. On a Redis error it is
        # kept, and sent again as soon as Redis answers: a restart costs it a second or
        # two, not the sweep's grace for in-flight refs.
        pending: str | None = None
        recovering = True  # at start, and after an outage: was Redis restarted meanwhile?
        while not self._stop_event.is_set():
            try:
                if pending is None and hold_message(get_services()):
                    self._stop_event.wait(1.0)  # held: events stay on the outbox, queued
                    continue
                if pending is None:
                    pending = self._store.next_for_relay(timeout=1.0)
                if pending is not None:
                    process_event.apply_async(args=[pending])
                    self._store.relayed(pending)
                    pending = None
                if recovering:
                    resent = self._store.resend_after_restart()
                    if resent:
                        log.info("outbox relay: Redis restarted; re-sent %d in flight", resent)
                    recovering = False
            except (redis.RedisError, OperationalError):
                # Wait for Redis to come back; the ref (if any) is sent then.
                log.warning("outbox relay: Redis unavailable, retrying", exc_info=True)
                recovering = True
                self._stop_event.wait(1.0)


_relay: OutboxRelay | None = None


def _start_relay(**_: Any) -> None:
    global _relay
    if settings.redis_url and _relay is None:
        # A client of its own: its blocking BLMOVE must not hold a task's connection.
        client = redis_client(settings)
        _relay = OutboxRelay(EventStore(client, settings), client)
        _relay.start()


def _stop_relay(**_: Any) -> None:
    global _relay
    if _relay is not None:
        _relay.stop()
        _relay = None


signals.worker_ready.connect(_start_relay, weak=False)
signals.worker_shutdown.connect(_stop_relay, weak=False)
