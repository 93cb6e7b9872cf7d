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
from bridge.store.events import EventStore
from bridge.sync.dispatch import RunResult, run_event
from tasks.app import app, get_services, settings
from tasks.heartbeat import current_worker

log = logging.getLogger(__name__)


@app.task(bind=True, name="tasks.ingest.process_event", max_retries=None)  # type: ignore[untyped-decorator]
def process_event(self: Task, ref: str) -> str:
    """Process inbound event `ref` (idempotent); transient failures come back as retries."""
    task_id = str(self.request.id or "local")
    with log_context(provider=ref.partition(":")[0], event_id=ref, task_id=task_id):
        try:
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


@app.task(name="tasks.ingest.sweep")  # type: ignore[untyped-decorator]
def sweep() -> dict[str, int]:
    """Re-send dropped hand-offs, orphaned, stale and due events; trim expired entries."""
    services = get_services()
    result = services.events.sweep()
    if any(result.model_dump().values()):
        log.info("sweep re-sent %s", result.model_dump())
    if services.settings.sage_api_url:
        services.sage.writer.ensure_running()  # the organisation's Sage writer, if it died
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
        while not self._stop_event.is_set():
            try:
                ref = self._store.next_for_relay(timeout=1.0)
                if ref is None:
                    continue
                process_event.apply_async(args=[ref])
                self._store.relayed(ref)
            except (redis.RedisError, OperationalError):
                # Left in flight: the sweep re-sends it. Wait for Redis to come back.
                log.warning("outbox relay: Redis unavailable, retrying", exc_info=True)
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
