"""Outbound webhook tasks: one attempt of one delivery, and the pump that finds due ones.

Pending deliveries wait in a Redis sorted set by due time (see `bridge.outbound.delivery`), not in
Celery countdowns, so no wait ever outlives the broker's visibility timeout. Every few
seconds `pump` claims the due deliveries (each claimed once, atomically) and sends one
`deliver` task per delivery; `deliver` is idempotent: a delivery that is finished, not yet
due or being attempted elsewhere is left alone.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

import redis
from celery import Task
from pydantic import BaseModel

from bridge.observability import log_context
from bridge.outbound.delivery import Outbound
from bridge.outbound.events import EventType
from bridge.store.outbound import Attempt
from tasks.app import app, get_services, services_for

log = logging.getLogger(__name__)

PUMP_BATCH = 500
DELIVERIES_METRIC = "bridge_outbound_deliveries_total"


@app.task(bind=True, name="tasks.outbound.deliver", max_retries=3)  # type: ignore[untyped-decorator]
def deliver(self: Task, delivery_id: str, connection: str | None = None) -> str:
    """Attempt delivery `delivery_id` (of `connection`, None: the environment's) once:
    "succeeded", "failed" or "skipped"."""
    task_id = str(self.request.id or "local")
    with log_context(
        provider="outbound", event_id=delivery_id, task_id=task_id, connection=connection
    ):
        services = services_for(connection)
        if services is None:
            return "skipped"  # the connection was removed
        try:
            attempt = services.outbound.attempt(delivery_id)
        except redis.RedisError as exc:
            # Nothing was recorded; the claim also expires, so the pump would retry anyway.
            raise self.retry(exc=exc, countdown=5) from exc
        if attempt is None:
            return "skipped"
        outcome = delivery_outcome(attempt)
        services.metrics.incr(DELIVERIES_METRIC, {"outcome": outcome})
        if attempt.next_attempt_at is None:
            # finished: the next event of the same invoice is due now; send it without
            # waiting for the pump's next tick
            enqueue(services.outbound, services.outbound.due(limit=PUMP_BATCH), connection)
        log.info(
            "delivery %s attempt %d: %s %s",
            delivery_id,
            attempt.number,
            attempt.status_code,
            attempt.error or "ok",
        )
        return "succeeded" if attempt.ok else "failed"


def delivery_outcome(attempt: Attempt) -> str:
    """`succeeded`, `retrying` (another attempt is scheduled) or `dead_lettered`."""
    if attempt.ok:
        return "succeeded"
    return "retrying" if attempt.next_attempt_at is not None else "dead_lettered"


def enqueue(outbound: Outbound, delivery_ids: Iterable[str], connection: str | None = None) -> int:
    """Claim each delivery and send its task now; how many were sent (others are taken)."""
    sent = 0
    for delivery_id in delivery_ids:
        if outbound.claim(delivery_id):
            deliver.delay(delivery_id, connection=connection)
            sent += 1
    return sent


def publish(
    event_type: EventType | str, data: BaseModel | Mapping[str, Any], *, key: str = ""
) -> str:
    """Emit an outbound event and send its first attempts at once; the event id.

    For the worker's own use (it uses this process's services). Without it, `emit` alone
    is enough: the pump sends due deliveries within seconds.

    Raises:
        ValueError, pydantic.ValidationError: see `Outbound.emit`.
    """
    outbound = get_services().outbound
    event_id = outbound.emit(event_type, data, key=key)
    enqueue(outbound, outbound.event(event_id).delivery_ids)
    return event_id


@app.task(name="tasks.outbound.pump")  # type: ignore[untyped-decorator]
def pump() -> int:
    """Send a task for every due delivery (claimed first, so never twice)."""
    outbound = get_services().outbound
    due = outbound.claim_due(limit=PUMP_BATCH)
    for delivery_id in due:
        deliver.delay(delivery_id)
    if due:
        log.info("outbound pump sent %d deliveries", len(due))
    return len(due)
