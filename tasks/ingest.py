"""Inbound events: the processing task, the periodic sweep, and the outbox relay.

The ingress only writes to Redis (record + outbox, one atomic call). Each worker runs a
relay thread that moves refs from every connection's outbox into Celery, round-robin and
bounded per connection (`bridge.connections.scheduler.FairRelay`); see
`bridge.store.events` for why no acknowledged event can be lost on the way.
"""

from __future__ import annotations

import logging
from typing import Any

import redis
from celery import Task, signals

from bridge.connections.hub import ServicesHub
from bridge.connections.scheduler import FairRelay, FairScheduler
from bridge.connections.secrets import SecretKeyError
from bridge.observability import log_context
from bridge.services import Services, redis_client
from bridge.store.events import EventStatus
from bridge.sync.dispatch import RunResult, run_event
from tasks.app import app, get_hub, get_services, settings
from tasks.doctor import first_check, hold_message
from tasks.heartbeat import current_worker

log = logging.getLogger(__name__)


@app.task(bind=True, name="tasks.ingest.process_event", max_retries=None)  # type: ignore[untyped-decorator]
def process_event(self: Task, ref: str, connection: str | None = None) -> str:
    """Process inbound event `ref` of `connection` (None: the environment's), idempotent;
    transient failures come back as retries. A disabled connection's event goes back to
    wait in its outbox."""
    task_id = str(self.request.id or "local")
    name = connection or settings.connection
    with log_context(
        provider=ref.partition(":")[0], event_id=ref, task_id=task_id, connection=name
    ):
        try:
            return _process(self, ref, connection, task_id)
        finally:
            _release(name, ref)


def _process(self: Task, ref: str, connection: str | None, task_id: str) -> str:
    try:
        hub = get_hub()
        services = hub.services(connection)
        if services is None:
            log.warning("event %s: connection %s is unknown (removed?)", ref, connection)
            return "unknown_connection"
        if not hub.enabled_now(connection):
            # Paused: back to its outbox, untouched, until `bridge connections enable`.
            services.events.mark(
                ref, EventStatus.QUEUED, requeue=True, allowed=(EventStatus.QUEUED,)
            )
            return "held"
        if _held(services, ref):
            return "held"
        worker = current_worker(self.request.hostname)
        result: RunResult = run_event(services, ref, task_id, self.request.retries, worker)
    except redis.RedisError as exc:
        # The ledger is unreachable: nothing was recorded, try again shortly.
        raise self.retry(exc=exc, countdown=5) from exc
    except SecretKeyError as exc:
        # BRIDGE_SECRET_KEY lost or rotated too early: nothing ran; wait for the key.
        log.error("event %s: %s", ref, exc)
        raise self.retry(exc=exc, countdown=60) from exc
    log.info("event %s: %s %s", ref, result.status, result.detail)
    if result.retry_in is not None:
        raise self.retry(countdown=result.retry_in)
    return result.status


def _held(services: Services, ref: str) -> bool:
    """True if the mapping of the connection `services` serve holds its processing
    (`bridge doctor` found an error in it): `ref` goes back on its outbox, where it waits
    until the hold is lifted (no attempt spent, not failed).

    Raises:
        redis.RedisError: Redis is unreachable.
    """
    if not hold_message(services):
        return False
    services.events.mark(ref, EventStatus.QUEUED, requeue=True, allowed=(EventStatus.QUEUED,))
    log.info("event %s held: the mapping is being fixed (see bridge doctor)", ref)
    return True


def _release(name: str, ref: str) -> None:
    """Free `ref`'s slot among its connection's events in flight (see the scheduler)."""
    try:
        FairScheduler(get_services().redis, settings.connection_max_in_flight).release(name, ref)
    except redis.RedisError:
        log.warning("could not free the in-flight slot of %s; its lease will end", ref)


@app.task(name="tasks.ingest.sweep")  # type: ignore[untyped-decorator]
def sweep() -> dict[str, int]:
    """Re-send dropped hand-offs, orphaned, stale and due events; trim expired entries."""
    services = get_services()
    # While held, queued events wait on purpose: re-sending them would only pile them up.
    queued_grace = float("inf") if hold_message(services) else 300.0
    result = services.events.sweep(queued_grace=queued_grace)
    if any(result.model_dump().values()):
        log.info("sweep re-sent %s", result.model_dump())
    if services.settings.sage.api_url:
        services.sage.writer.ensure_running()  # the organisation's Sage writer, if it died
    return result.model_dump()


_relay: FairRelay | None = None


def _send(name: str, ref: str) -> None:
    connection = None if name == settings.connection else name
    process_event.apply_async(args=[ref], kwargs={"connection": connection} if connection else {})


def _start_relay(**_: Any) -> None:
    global _relay
    if settings.redis_url and _relay is None:
        # A client of its own: the relay's calls must not wait behind a task's.
        client = redis_client(settings)
        hub = get_hub()
        scheduler = FairScheduler(client, settings.connection_max_in_flight)

        def names() -> list[str]:
            # A connection waits while `bridge doctor` holds its mapping.
            return [n for n in hub.names() if hub.enabled(n) and not _connection_held(hub, n)]

        def resend_after_restart() -> None:
            for name in hub.names():
                services = hub.services(name)
                resent = services.events.resend_after_restart() if services else 0
                if resent:
                    log.info("outbox relay: Redis restarted; re-sent %d of %s", resent, name)

        _relay = FairRelay(
            scheduler,
            names,
            _send,
            client,
            on_start=lambda: first_check(hub),
            on_recover=resend_after_restart,
        )
        _relay.start()


def _connection_held(hub: ServicesHub, name: str) -> bool:
    """True while `bridge doctor` holds `name`'s mapping (its report, cached 2 s).

    Raises:
        redis.RedisError: Redis is unreachable.
    """
    try:
        services = hub.services(name)
    except SecretKeyError:
        return False  # its tasks wait for the key themselves (process_event retries)
    return services is not None and bool(hold_message(services))


def _stop_relay(**_: Any) -> None:
    global _relay
    if _relay is not None:
        _relay.stop()
        _relay = None


signals.worker_ready.connect(_start_relay, weak=False)
signals.worker_shutdown.connect(_stop_relay, weak=False)
