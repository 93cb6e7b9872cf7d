"""Operator alerts: send what is queued (beat, every few seconds) and the daily digest
(beat, at `BRIDGE_ALERT_DIGEST_HOUR` UTC when `BRIDGE_ALERT_DIGEST=daily`).
See `bridge.ops.notify`."""

from __future__ import annotations

import logging

import redis

from bridge.ops.notify import channels, flush, send_digest
from bridge.services import Services
from bridge.store.alert_queue import AlertQueue
from bridge.store.events import EventStatus
from tasks.app import app, get_services

log = logging.getLogger(__name__)


def open_now(services: Services) -> str:
    """What is open right now, for the top of the digest."""
    failed = services.events.counts().get(EventStatus.FAILED.value, 0)
    attention = len(services.attention.items(limit=10_000))
    return f"Open now: {failed} failed event(s), {attention} item(s) to book by hand."


@app.task(name="tasks.alerts.flush", ignore_result=True)  # type: ignore[untyped-decorator]
def flush_alerts() -> int:
    """Send the queued alerts; how many were taken."""
    services = get_services()
    try:
        return flush(AlertQueue(services.redis), services.settings, channels(services.settings))
    except redis.RedisError as exc:
        log.warning("alerts not sent (Redis): %s", exc)
        return 0


@app.task(name="tasks.alerts.digest", ignore_result=True)  # type: ignore[untyped-decorator]
def digest() -> int:
    """Send the daily digest; how many alerts it held."""
    services = get_services()
    try:
        return send_digest(
            AlertQueue(services.redis),
            services.settings,
            channels(services.settings),
            lambda: open_now(services),
        )
    except redis.RedisError as exc:
        log.warning("digest not sent (Redis): %s", exc)
        return 0
