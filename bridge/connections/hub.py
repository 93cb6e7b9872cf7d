"""Per-connection `Services`: how the existing code paths serve many connections.

Nothing in `bridge/sync` knows about connections: a handler takes `services`, and reads its
mapping from `services.settings` and its keys under `services.settings.key(...)`. So a
connection is served by handing the same code a `Services` whose settings are that
connection's view: `connection` = its name (so every key is `bridge:<name>:...`), its
mapping over the environment's, its webhook secrets, its Sage organisation and refresh
token. Sage's rate limiter stays the app's: every connection's client uses the limiter
keys of the environment's connection (`bridge:default:sage:ratelimit:*`), because Sage
counts requests per app, not per organisation; each connection enters it through its own
share (`bridge.connections.limits`).

`ServicesHub` caches these per process. The registry's version is read at most every
`ttl` seconds (the ingress's hot path pays one dict look-up, not a Redis call); a
connection whose record changed is rebuilt.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

from pydantic import SecretStr

from bridge.activity import SageActivity
from bridge.connections.at_rest import sealer
from bridge.connections.limits import SharedLimiter
from bridge.connections.models import (
    ConnectionCreate,
    ConnectionMapping,
    Source,
    StoredConnection,
)
from bridge.connections.registry import ConnectionRegistry, RegistryError, Snapshot
from bridge.connections.secrets import SecretBox
from bridge.metrics import Metrics
from bridge.services import Services, sage_config
from bridge.settings import Settings
from bridge.store.events import EventStore
from connectors.sage_active.client import SageClient
from connectors.sage_active.operations import SageActive

_CACHED = ("shopify_secrets", "stripe_secrets", "admin_tokens")  # Settings' cached properties


def connection_settings(
    base: Settings, stored: StoredConnection, registry: ConnectionRegistry
) -> Settings:
    """The settings `stored` is served with: the environment's, with its own values over.

    Raises:
        SecretKeyError: its secrets cannot be decrypted.
    """

    def secrets(name: str) -> list[SecretStr]:
        return [SecretStr(value) for value in registry.secret_values(stored, name)]

    webhook = secrets("webhook_secrets")
    refresh = secrets("sage_refresh_token")
    shopify_token = secrets("shopify_access_token")
    stripe_key = secrets("stripe_api_key")
    update = {
        **ConnectionMapping.model_validate(stored.mapping).overrides(),
        "connection": stored.name,
        "sage": base.sage.model_copy(
            update={
                "organization_id": stored.sage_organization_id,
                # A connection's own login (`bridge sage-login --connection`) is stored in
                # Redis under its prefix and wins; until then, the refresh token given, else
                # the app's.
                "refresh_token": refresh[0] if refresh else base.sage.refresh_token,
            }
        ),
        "shopify_webhook_secret": webhook if stored.source is Source.SHOPIFY else [],
        "stripe_webhook_secret": webhook if stored.source is Source.STRIPE else [],
        "shopify_shop_domain": stored.shop_domain,
        "shopify_access_token": shopify_token[0] if shopify_token else None,
        "stripe_api_key": stripe_key[0] if stripe_key else None,
    }
    settings = base.model_copy(update=update)
    for name in _CACHED:  # computed from the environment's values: recompute from these
        settings.__dict__.pop(name, None)
    return settings


@dataclass
class ConnectionServices(Services):
    """A connection's `Services`: shares the process's Redis; the app's Sage rate limiter."""

    limiter_prefix: str = ""

    @cached_property
    def sage(self) -> SageActive:
        """This connection's Sage Active API (its organisation and tokens, the app's limit).

        Raises:
            ConfigurationError: `SAGE_API_URL` is not set.
        """
        activity = SageActivity(self.redis, self.settings)
        config = sage_config(self.settings).model_copy(
            update={"limiter_prefix": self.limiter_prefix}
        )
        client = SageClient(
            config,
            self.redis,
            on_request=activity.on_request,
            on_wait=activity.on_wait,
            sealer=sealer(self.settings.secret_key),
        )
        # The app's limit, entered through this connection's share (bridge.connections.limits).
        client.limiter = SharedLimiter(config, self.redis, self.settings.connection_rate_share)
        return SageActive(client)

    def close(self) -> None:
        """Close the Sage client; the Redis client is the process's, closed with it."""
        if "sage" in self.__dict__:
            self.sage.client.close()


class ServicesHub:
    """Every connection's `Services` in this process (see the module docstring)."""

    def __init__(
        self, base: Services, ttl: float = 2.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.base = base
        settings = base.settings
        self.registry = ConnectionRegistry(base.redis, lambda: SecretBox(settings.secret_key))
        self._ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._snapshot: Snapshot | None = None
        self._checked = float("-inf")
        self._built: dict[str, tuple[str, Services]] = {}

    @property
    def default_name(self) -> str:
        return self.base.settings.connection

    def snapshot(self) -> Snapshot:
        """The registry as of at most `ttl` seconds ago.

        Raises:
            redis.RedisError: Redis is unreachable.
        """
        now = self._clock()
        snapshot = self._snapshot
        if snapshot is not None and now - self._checked < self._ttl:
            return snapshot
        version = self.registry.version()
        if snapshot is None or version != snapshot.version:
            snapshot = self.registry.snapshot()
        with self._lock:
            self._snapshot, self._checked = snapshot, now
        return snapshot

    def refresh(self) -> None:
        """Forget the cached snapshot (after a change made in this process)."""
        with self._lock:
            self._checked = float("-inf")

    def env_shop(self) -> str | None:
        """The environment connection's shop: `SHOPIFY_SHOP_DOMAIN`, else the one learnt
        from its first signed webhook (`learn_shop`)."""
        declared = (self.base.settings.shopify_shop_domain or "").strip().lower()
        return declared or self.snapshot().env_shops.get(self.default_name)

    def add(self, spec: ConnectionCreate) -> StoredConnection:
        """`ConnectionRegistry.add`, refusing the environment connection's shop (declared
        in `SHOPIFY_SHOP_DOMAIN`; a learnt one is refused by the registry itself).

        Raises:
            RegistryError: 409, the name, shop or account is taken.
            SecretKeyError: no usable `BRIDGE_SECRET_KEY`.
        """
        own = (self.base.settings.shopify_shop_domain or "").strip().lower()
        if spec.shop_domain and spec.shop_domain.lower() == own:
            raise RegistryError(
                409,
                "source_taken",
                f"shop {spec.shop_domain} is the environment's connection's "
                "(SHOPIFY_SHOP_DOMAIN): it keeps its webhooks",
            )
        stored = self.registry.add(spec)
        self.refresh()
        return stored

    def learn_shop(self, domain: str) -> str | None:
        """Keep `domain` as the environment connection's shop, unless it has one already
        (once; later calls are one look-up in the cached snapshot), so that adding
        connections never takes its webhooks away. Returns the shop it keeps (another one
        when a concurrent delivery of another shop was first; None if a registered
        connection took `domain` meanwhile).

        Raises:
            redis.RedisError: Redis is unreachable.
        """
        known = self.snapshot().env_shops.get(self.default_name)
        if known:
            return known
        outcome = self.registry.claim_env_shop(self.default_name, domain)
        self.refresh()
        if outcome == "ok":
            return domain
        return self.registry.env_shop(self.default_name)

    def stored(self, name: str) -> StoredConnection | None:
        return self.snapshot().by_name.get(name)

    def enabled(self, name: str | None) -> bool:
        """Whether `name`'s events may be processed now (the environment's always)."""
        if name is None or name == self.default_name:
            return True
        stored = self.stored(name)
        return stored is not None and stored.enabled

    def enabled_now(self, name: str | None) -> bool:
        """`enabled`, read from Redis now rather than from the cached snapshot (a worker
        asks before each event, so a connection disabled a moment ago is not processed).

        Raises:
            redis.RedisError: Redis is unreachable.
        """
        if name is None or name == self.default_name:
            return True
        stored = self.registry.get(name)
        return stored is not None and stored.enabled

    def names(self) -> list[str]:
        """The environment's connection, then every registered one."""
        return [self.default_name, *sorted(self.snapshot().by_name)]

    def services(self, name: str | None) -> Services | None:
        """`name`'s Services (None or the environment's name: the process's own); None
        when there is no such connection.

        Raises:
            SecretKeyError: its secrets cannot be decrypted.
            redis.RedisError: Redis is unreachable.
        """
        if name is None or name == self.default_name:
            return self.base
        stored = self.stored(name)
        if stored is None:
            return None
        built = self._built.get(name)
        if built is not None and built[0] == stored.updated_at:
            return built[1]
        with self._lock:  # built once per version, even when many threads ask together
            built = self._built.get(name)
            if built is None or built[0] != stored.updated_at:
                # A replaced version is not closed here: a task may still be using it.
                built = (stored.updated_at, self._build(stored))
                self._built[name] = built
        return built[1]

    def _build(self, stored: StoredConnection) -> Services:
        settings = connection_settings(self.base.settings, stored, self.registry)
        return ConnectionServices(
            settings=settings,
            redis=self.base.redis,
            events=EventStore(self.base.redis, settings, held=self.base.events.held),
            metrics=Metrics(self.base.redis, settings),
            limiter_prefix=self.base.settings.key("sage"),
        )

    def close(self) -> None:
        for _, services in self._built.values():
            services.close()
        self._built.clear()
