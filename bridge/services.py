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

from bridge import redis_url
from bridge.activity import SageActivity
from bridge.connections.at_rest import sealer
from bridge.metrics import Metrics
from bridge.ops.alerts import Alerts
from bridge.ops.gates import Gates
from bridge.outbound.delivery import Outbound
from bridge.settings import Settings
from bridge.store.attention import AttentionStore
from bridge.store.events import EventStore
from bridge.store.links import LinkStore
from connectors.sage_active.client import SageClient
from connectors.sage_active.config import SageConfig
from connectors.sage_active.operations import SageActive


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
    return redis_url.redis_client(  # redis://, rediss:// (TLS) or redis+sentinel://
        settings.redis_url,
        decode_responses=True,
        socket_connect_timeout=2.0,
        socket_timeout=5.0,
        health_check_interval=30,
    )


def sage_config(settings: Settings) -> SageConfig:
    """The Sage Active connector's configuration from the bridge's settings.

    Raises:
        ConfigurationError: `SAGE_API_URL` is not set.
    """
    if not settings.sage.api_url:
        raise ConfigurationError("SAGE_API_URL is not set (the Sage Active GraphQL endpoint)")
    # Field by field, by name: every field `SageSettings` shares with `SageConfig`.
    return SageConfig(**settings.sage.connector_values(), key_prefix=settings.key("sage"))


@dataclass
class Services:
    """What every part of the bridge shares within one process."""

    settings: Settings
    redis: redis.Redis
    events: EventStore
    metrics: Metrics

    @cached_property
    def sage(self) -> SageActive:
        """The Sage Active API (typed operations), built on first use.

        Raises:
            ConfigurationError: `SAGE_API_URL` is not set.
        """
        activity = SageActivity(self.redis, self.settings)  # metrics of every request
        alerts = Alerts(self.settings, lambda: self.outbound, self.redis)
        client = SageClient(
            sage_config(self.settings),
            self.redis,
            on_request=activity.on_request,
            on_wait=activity.on_wait,
            on_needs_login=alerts.sage_needs_login,
            on_circuit=alerts.sage_circuit,
            sealer=sealer(self.settings.secret_key),  # tokens encrypted at rest
        )
        return SageActive(client)

    @cached_property
    def gates(self) -> Gates:
        """Events held while Sage needs a login or its circuit is open."""
        return Gates(self.redis, self.settings, self.events)

    @cached_property
    def links(self) -> LinkStore:
        """Order -> invoice, payment -> settlement, refund -> credit note links."""
        return LinkStore(self.redis, self.settings)

    @cached_property
    def attention(self) -> AttentionStore:
        """What the sync could not express in Sage, for a person to handle."""
        return AttentionStore(self.redis, self.settings)

    @cached_property
    def outbound(self) -> Outbound:
        """Outbound webhooks (subscriptions of the settings created on first use)."""
        return Outbound.start(self.redis, self.settings)

    def close(self) -> None:
        """Release the Redis connections (and the Sage client's, if one was built)."""
        if "sage" in self.__dict__:
            self.sage.client.close()
        self.events.close()
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
