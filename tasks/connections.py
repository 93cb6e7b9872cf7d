"""The registered connections' periodic work, from the one beat of the deployment.

`tick` (every few seconds) does for each enabled registered connection what the
environment's connection gets from its own beat entries (`bridge.connections.periodic`):
the ledger's sweep, the outbound pump and, every `BRIDGE_POLL_INTERVAL`, a Sage poll cycle
(a task of its own). A disabled connection is skipped: its events wait.
"""

from __future__ import annotations

import logging

import redis
from celery import Task

from bridge.connections.periodic import tick_connection
from bridge.connections.secrets import SecretKeyError
from bridge.observability import log_context, report
from bridge.poller.cycle import LockLost, poll_once
from connectors.sage_active.errors import SageError
from tasks.app import app, get_hub, settings
from tasks.backfill import reconcile
from tasks.doctor import hold_message
from tasks.month import tick as month_tick
from tasks.outbound import deliver

log = logging.getLogger(__name__)


@app.task(name="tasks.connections.tick")  # type: ignore[untyped-decorator]
def tick() -> dict[str, int]:
    """Sweep, pump and schedule polls for every enabled registered connection."""
    hub = get_hub()
    done: dict[str, int] = {}
    for name in hub.names()[1:]:
        if not hub.enabled(name):
            continue
        with log_context(connection=name):
            try:
                done[name] = _tick_one(name)
            except (redis.RedisError, SecretKeyError) as exc:
                log.warning("connection %s: periodic work failed: %s", name, exc)
                report(exc)
    return done


def _tick_one(name: str) -> int:
    services = get_hub().services(name)
    if services is None:
        return 0
    result = tick_connection(
        services,
        deliver=lambda delivery_id: deliver.delay(delivery_id, connection=name),
        poll=lambda: poll.delay(name),
        poll_interval=settings.poll_interval,
        reconcile=lambda: reconcile.delay(connection=name),
        # While held, queued events wait on purpose: re-sending them would only pile them up.
        queued_grace=float("inf") if hold_message(services) else 300.0,
        month_end=lambda: month_tick.delay(connection=name),
    )
    if any(result.swept.model_dump().values()):
        log.info("sweep of %s re-sent %s", name, result.swept.model_dump())
    return result.deliveries


@app.task(bind=True, name="tasks.connections.poll", ignore_result=True)  # type: ignore[untyped-decorator]
def poll(self: Task, connection: str) -> str:
    """One Sage polling cycle for `connection`: "busy", "ok", "failed" or "unknown"."""
    task_id = str(self.request.id or "local")
    with log_context(provider="sage", event_id="poll", task_id=task_id, connection=connection):
        services = get_hub().services(connection)
        if services is None:
            return "unknown"
        try:
            result = poll_once(services, services.sage)
        except (SageError, redis.RedisError, LockLost) as exc:
            log.warning("poll cycle of %s failed: %s", connection, exc)
            return "failed"
        return "busy" if result is None else "ok"
