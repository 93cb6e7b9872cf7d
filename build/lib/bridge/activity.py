"""Sage Active traffic as metrics and per-minute series (for `/metrics` and the console chart).

`SageActivity` gives the Sage connector its two hooks: `on_request(operation, outcome,
seconds)` counts `bridge_sage_requests_total{operation, outcome}` and the requests of the
current minute; `on_wait(seconds)` counts `bridge_sage_rate_limit_waits_total` and the
seconds waited. Recording must never break a Sage call: a Redis error here is logged and
dropped (the metric is lost, the booking is not).

Per-minute series are hashes `activity:<series>` (minute number -> count), trimmed to the
last `KEEP_MINUTES` on write. Inbound events per minute need no series of their own: the
event ledger's index is scored by arrival time (see `events_per_minute`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import redis

from bridge.metrics import Metrics
from bridge.settings import Settings

log = logging.getLogger(__name__)

KEEP_MINUTES = 120
SAGE_SERIES = "sage_requests"


class SageActivity:
    """The Sage connector's request and wait hooks, recording into Redis."""

    def __init__(
        self, client: redis.Redis, settings: Settings, clock: Callable[[], float] = time.time
    ) -> None:
        self._redis = client
        self._settings = settings
        self._metrics = Metrics(client, settings)
        self._clock = clock

    def on_request(self, operation: str, outcome: str, seconds: float) -> None:
        """Count one request to Sage (called by the connector after each response)."""
        minute = int(self._clock() // 60)
        key = self._settings.key("activity", SAGE_SERIES)
        try:
            self._metrics.incr(
                "bridge_sage_requests_total", {"operation": operation, "outcome": outcome}
            )
            pipe = self._redis.pipeline(transaction=False)
            pipe.hincrby(key, str(minute), 1)
            pipe.hdel(key, str(minute - KEEP_MINUTES))
            pipe.expire(key, KEEP_MINUTES * 60)
            pipe.execute()
        except redis.RedisError as exc:
            log.warning("could not record a Sage request metric: %s", exc)

    def on_wait(self, seconds: float) -> None:
        """Count one wait imposed by the shared rate limiter."""
        try:
            self._metrics.incr("bridge_sage_rate_limit_waits_total")
            self._metrics.incr(
                "bridge_sage_rate_limit_wait_milliseconds_total", value=int(seconds * 1000)
            )
        except redis.RedisError as exc:
            log.warning("could not record a rate-limiter wait: %s", exc)


def sage_requests_per_minute(
    client: redis.Redis, settings: Settings, minutes: int, now: float
) -> list[tuple[int, int]]:
    """(minute number, Sage requests) for the last `minutes` minutes, oldest first.

    Raises:
        redis.RedisError: Redis is unreachable.
    """
    last = int(now // 60)
    wanted = [str(m) for m in range(last - minutes + 1, last + 1)]
    raw: list[str | None] = client.hmget(settings.key("activity", SAGE_SERIES), wanted)  # type: ignore[assignment]
    return [(int(m), int(v or 0)) for m, v in zip(wanted, raw, strict=True)]


def events_per_minute(
    client: redis.Redis, index_key: str, minutes: int, now: float
) -> list[tuple[int, int]]:
    """(minute number, events received) for the last `minutes` minutes, from the ledger's
    index (scored by arrival time in microseconds), oldest first.

    Raises:
        redis.RedisError: Redis is unreachable.
    """
    last = int(now // 60)
    pipe = client.pipeline(transaction=False)
    minutes_list = list(range(last - minutes + 1, last + 1))
    for minute in minutes_list:
        pipe.zcount(index_key, minute * 60_000_000, (minute + 1) * 60_000_000 - 1)
    return list(zip(minutes_list, (int(n) for n in pipe.execute()), strict=True))
