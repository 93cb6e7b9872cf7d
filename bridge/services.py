"""The process's shared parts, built once from Settings and passed to the code that needs them.

`build_services(settings)` is called once per process (the web app factory, the Celery
worker on its first task, CLI commands). It opens nothing but a lazy Redis connection pool:
nothing here talks to Sage or Redis at build time. Parts that are costly or optional (the
Sage Active API, outbound delivery) are added as `cached_property` fields, built on first use.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import redis

from bridge.metrics import Metrics
from bridge.outbound import Outbound
from bridge.settings import Settings
from bridge.store.events import EventStore


class ConfigurationError(RuntimeError):
    """A setting the process needs is missing or unusable; the message says which."""


def redis_client(settings: Settings) -> redis.Redis:
    """A Redis client for `REDIS_URL` with bounded timeouts (strings decoded).

    Raises:
        ConfigurationError: `REDIS_URL` is not set.
    """
    if not settings.redis_url:
        raise ConfigurationError("REDIS_URL is not set: the bridge keeps its state in Redis")
    # Bounded timeouts: a request must answer 503 quickly when Redis is away, not hang.
    return redis.Redis.from_url(
        settings.redis_url,
        decode_responses=True,
        socket_connect_timeout=2.0,
        socket_timeout=5.0,
        health_check_interval=30,
    )


@dataclass
class Services:
    """What every part of the bridge shares within one process."""

    settings: Settings
    redis: redis.Redis
    events: EventStore
    metrics: Metrics

    @cached_property
    def outbound(self) -> Outbound:
        """Outbound webhooks (subscriptions of the settings created on first use)."""
        return Outbound.start(self.redis, self.settings)

    def close(self) -> None:
        """Release the Redis connections."""
        self.redis.close()


def build_services(settings: Settings) -> Services:
    """Build the shared parts from `settings` (no network I/O).

    Raises:
        ConfigurationError: a needed setting (e.g. `REDIS_URL`) is missing.
    """
    client = redis_client(settings)
    return Services(
        settings=settings,
        redis=client,
        events=EventStore(client, settings),
        metrics=Metrics(client, settings),
    )
