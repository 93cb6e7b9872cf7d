"""Operator alerts waiting to be sent by e-mail and chat (`bridge.ops.notify` sends them).

Where something happens (Sage needs a login, the circuit opens, an event is dead-lettered,
an attention item is recorded) the process only queues an `Alert` in Redis: no SMTP or
HTTP call inside a worker's event or a Sage request. Beat's `tasks.alerts.flush` sends
what is queued every few seconds, one message per channel for the whole batch.

Keys (shared by the connections of one Redis: the alerts go to the operator's channels,
each alert names its connection):
    bridge:alerts:queue        list of JSON `Alert`, oldest first
    bridge:alerts:digest       list of JSON `Alert` kept for the daily digest
    bridge:alerts:seen:<key>   set once per alert key (a day): the same alert is queued once

Nothing is queued unless a channel is configured (`alerts_enabled`).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Literal

import redis
from pydantic import BaseModel, Field

from bridge.settings import Settings

log = logging.getLogger(__name__)

QUEUE = "bridge:alerts:queue"
DIGEST = "bridge:alerts:digest"
SEEN = "bridge:alerts:seen:"
SEEN_TTL = 86_400
MAX_QUEUED = 10_000  # alerts beyond this are dropped (with a log line): channels are down

AlertKind = Literal["needs_login", "circuit_open", "dead_letter", "attention"]
URGENT: frozenset[str] = frozenset({"needs_login", "circuit_open"})


class Alert(BaseModel):
    """One thing a person should know about."""

    kind: AlertKind
    connection: str
    title: str
    detail: str
    path: str | None = None  # the console page about it, e.g. /console/events/<ref>
    at: dt.datetime
    key: str = Field(min_length=1, max_length=400)
    pending: list[str] = Field(default_factory=list)  # channels still to send to (retry)
    tries: int = 0


def alerts_enabled(settings: Settings) -> bool:
    """Whether any alert channel (e-mail or chat) is configured."""
    email = bool(settings.alert_smtp_host and settings.alert_email_to)
    return email or settings.alert_chat_webhook_url is not None


class AlertQueue:
    """Queue, take and keep alerts; see the module docstring."""

    def __init__(self, client: redis.Redis) -> None:
        self._redis = client

    def push(self, alert: Alert) -> bool:
        """Queue `alert` unless one with its key was queued within a day; True if queued.

        Raises:
            redis.RedisError: Redis is unreachable.
        """
        if not self._redis.set(SEEN + alert.key, "1", nx=True, ex=SEEN_TTL):
            return False
        if int(self._redis.llen(QUEUE)) >= MAX_QUEUED:
            log.error("alert queue full (%s): dropped %s", MAX_QUEUED, alert.key)
            return False
        self._redis.rpush(QUEUE, alert.model_dump_json())
        return True

    def take(self, count: int = 200) -> list[Alert]:
        """Remove and return up to `count` queued alerts, oldest first.

        Raises:
            redis.RedisError: Redis is unreachable.
        """
        with self._redis.pipeline(transaction=True) as pipe:
            pipe.lrange(QUEUE, 0, count - 1)
            pipe.ltrim(QUEUE, count, -1)
            raws, _ = pipe.execute()
        return [Alert.model_validate_json(raw) for raw in raws]

    def put_back(self, alerts: list[Alert]) -> None:
        """Return alerts not sent yet to the front of the queue (in their order).

        Raises:
            redis.RedisError: Redis is unreachable.
        """
        if alerts:
            self._redis.lpush(QUEUE, *[a.model_dump_json() for a in reversed(alerts)])

    def keep_for_digest(self, alerts: list[Alert]) -> None:
        """Raises: redis.RedisError when Redis is unreachable."""
        if alerts:
            self._redis.rpush(DIGEST, *[a.model_dump_json() for a in alerts])

    def take_digest(self) -> list[Alert]:
        """Remove and return every alert kept for the digest.

        Raises:
            redis.RedisError: Redis is unreachable.
        """
        with self._redis.pipeline(transaction=True) as pipe:
            pipe.lrange(DIGEST, 0, -1)
            pipe.delete(DIGEST)
            raws, _ = pipe.execute()
        return [Alert.model_validate_json(raw) for raw in raws]


def queue_alert(
    client: redis.Redis,
    settings: Settings,
    kind: AlertKind,
    title: str,
    detail: str,
    key: str,
    path: str | None = None,
) -> None:
    """Queue an alert when a channel is configured; never raises (the caller is in the
    middle of something more important: a Sage request, an event's outcome)."""
    if not alerts_enabled(settings):
        return
    alert = Alert(
        kind=kind,
        connection=settings.connection,
        title=title,
        detail=detail,
        path=path,
        at=dt.datetime.now(dt.UTC),
        key=f"{settings.connection}:{key}"[:400],
    )
    try:
        AlertQueue(client).push(alert)
    except redis.RedisError:
        log.exception("could not queue the alert %s", alert.key)
