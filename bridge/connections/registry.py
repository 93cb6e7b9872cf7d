"""The connections, kept in Redis (outside every connection's own namespace).

Keys (no connection name can start with `_`, so none of these is a connection's):
    bridge:_connections            hash name -> JSON `StoredConnection`
    bridge:_connections:shops      hash shop domain -> name
    bridge:_connections:accounts   hash Stripe account id -> name
    bridge:_connections:version    counter, bumped by every change (in-process caches
                                   compare it, see `Snapshot`)
    bridge:_connections:env_shops  hash environment connection name -> its shop domain,
                                   learnt from its first signed webhook (`claim_env_shop`);
                                   the domain is also in `:shops`, owned by that name, so
                                   no registered connection can take it over

Every change is one Lua call that checks what it depends on (the name is free, the shop or
account is nobody else's, the record is the one read) and writes the record, its indexes
and the version together; an update that lost a race is read and applied again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

import redis

from bridge.connections.models import (
    ConnectionCreate,
    ConnectionSecrets,
    ConnectionUpdate,
    Source,
    StoredConnection,
)
from bridge.connections.secrets import SecretBox, fingerprint

ROOT = "bridge:_connections"
SHOPS = ROOT + ":shops"
ACCOUNTS = ROOT + ":accounts"
VERSION = ROOT + ":version"
ENV_SHOPS = ROOT + ":env_shops"

# KEYS: shops, env_shops, version. ARGV: environment connection name, shop domain.
_CLAIM = """
local owner = redis.call('HGET', KEYS[1], ARGV[2])
if owner and owner ~= ARGV[1] then return 'taken' end
local known = redis.call('HGET', KEYS[2], ARGV[1])
if known then return 'known' end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[1], ARGV[2], ARGV[1])
redis.call('INCR', KEYS[3])
return 'ok'
"""

# KEYS: records, shops, accounts, version. ARGV: name, expected JSON ('' = must not exist),
# new JSON ('' = remove), old shop, new shop, old account, new account ('' = none).
_WRITE = """
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if ARGV[2] == '' then
  if cur then return 'exists' end
elseif cur ~= ARGV[2] then
  return 'conflict'
end
if ARGV[5] ~= '' and ARGV[5] ~= ARGV[4] then
  local owner = redis.call('HGET', KEYS[2], ARGV[5])
  if owner and owner ~= ARGV[1] then return 'shop_taken' end
end
if ARGV[7] ~= '' and ARGV[7] ~= ARGV[6] then
  local owner = redis.call('HGET', KEYS[3], ARGV[7])
  if owner and owner ~= ARGV[1] then return 'account_taken' end
end
if ARGV[4] ~= '' then redis.call('HDEL', KEYS[2], ARGV[4]) end
if ARGV[6] ~= '' then redis.call('HDEL', KEYS[3], ARGV[6]) end
if ARGV[3] == '' then
  redis.call('HDEL', KEYS[1], ARGV[1])
else
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
  if ARGV[5] ~= '' then redis.call('HSET', KEYS[2], ARGV[5], ARGV[1]) end
  if ARGV[7] ~= '' then redis.call('HSET', KEYS[3], ARGV[7], ARGV[1]) end
end
redis.call('INCR', KEYS[4])
return 'ok'
"""


class RegistryError(Exception):
    """A change the registry refuses; `status` is the HTTP answer it maps to."""

    def __init__(self, status: int, error: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.error, self.detail = status, error, detail


def _text(value: object) -> str:
    """A Redis reply as text (clients made with or without `decode_responses`)."""
    return value.decode() if isinstance(value, bytes) else str(value)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


def _refused(outcome: str, stored: StoredConnection) -> RegistryError:
    if outcome == "exists":
        return RegistryError(409, "exists", f"a connection named {stored.name!r} exists")
    if outcome == "shop_taken":
        detail = (
            f"shop {stored.shop_domain} belongs to another connection (or is the "
            "environment's shop, SHOPIFY_SHOP_DOMAIN or learnt from its webhooks)"
        )
        return RegistryError(409, "source_taken", detail)
    detail = f"Stripe account {stored.stripe_account} belongs to another connection"
    return RegistryError(409, "source_taken", detail)


def _check_source(stored: StoredConnection) -> None:
    """Raises: RegistryError: 400, a shop domain on a Stripe connection or the reverse."""
    if stored.source is Source.SHOPIFY and stored.stripe_account:
        raise RegistryError(400, "invalid_body", "stripe_account is for Stripe connections")
    if stored.source is Source.STRIPE and stored.shop_domain:
        raise RegistryError(400, "invalid_body", "shop_domain is for Shopify connections")


@dataclass(frozen=True)
class Snapshot:
    """Every connection at one registry version: what the ingress routes by."""

    version: int
    by_name: dict[str, StoredConnection] = field(default_factory=dict)
    by_shop: dict[str, str] = field(default_factory=dict)
    by_account: dict[str, str] = field(default_factory=dict)
    env_shops: dict[str, str] = field(default_factory=dict)  # env connection -> its shop


class ConnectionRegistry:
    """Add, read, change and remove connections (see the module docstring)."""

    def __init__(self, client: redis.Redis, box_factory: Callable[[], SecretBox]) -> None:
        """`box_factory` builds the `SecretBox` when a secret is written or read (so that a
        deployment without `BRIDGE_SECRET_KEY` can still list connections)."""
        self._redis = client
        self._box_factory = box_factory
        self._write = client.register_script(_WRITE)
        self._claim = client.register_script(_CLAIM)

    def box(self) -> SecretBox:
        """Raises: SecretKeyError: `BRIDGE_SECRET_KEY` is missing or unusable."""
        return self._box_factory()

    def version(self) -> int:
        return int(_text(self._redis.get(VERSION) or 0))

    def get(self, name: str) -> StoredConnection | None:
        raw = self._redis.hget(ROOT, name)
        return StoredConnection.model_validate_json(_text(raw)) if raw else None

    def require(self, name: str) -> StoredConnection:
        """Raises: RegistryError: 404, no such connection."""
        stored = self.get(name)
        if stored is None:
            raise RegistryError(404, "not_found", f"no connection named {name!r}")
        return stored

    def all(self) -> list[StoredConnection]:
        raw: dict[object, object] = self._redis.hgetall(ROOT)  # type: ignore[assignment]
        found = {_text(name): _text(value) for name, value in raw.items()}
        return [StoredConnection.model_validate_json(found[name]) for name in sorted(found)]

    def snapshot(self) -> Snapshot:
        """Every connection and the version they are at (read in one transaction)."""
        pipe = self._redis.pipeline(transaction=True)
        pipe.get(VERSION)
        pipe.hgetall(ROOT)
        pipe.hgetall(ENV_SHOPS)
        version, raw, env_raw = pipe.execute()
        by_name = {_text(n): StoredConnection.model_validate_json(_text(v)) for n, v in raw.items()}
        shops = {c.shop_domain: n for n, c in by_name.items() if c.shop_domain}
        accounts = {c.stripe_account: n for n, c in by_name.items() if c.stripe_account}
        env_shops = {_text(n): _text(d) for n, d in env_raw.items()}
        return Snapshot(int(_text(version or 0)), by_name, shops, accounts, env_shops)

    def env_shop(self, name: str) -> str | None:
        """The shop domain the environment's connection `name` learnt, if any."""
        raw = self._redis.hget(ENV_SHOPS, name)
        return _text(raw) if raw else None

    def forget_env_shop(self, name: str) -> str | None:
        """Forget the shop the environment's connection `name` learnt (its next signed
        delivery teaches it again); returns the domain forgotten, if any."""
        domain = self.env_shop(name)
        if domain is None:
            return None
        pipe = self._redis.pipeline(transaction=True)
        pipe.hdel(ENV_SHOPS, name)
        if _text(self._redis.hget(SHOPS, domain) or "") == name:
            pipe.hdel(SHOPS, domain)
        pipe.incr(VERSION)
        pipe.execute()
        return domain

    def claim_env_shop(self, name: str, domain: str) -> str:
        """Keep `domain` as the shop of the environment's connection `name` (its first
        signed webhook): "ok", "known" (it has one already) or "taken" (a registered
        connection serves that shop)."""
        outcome = self._claim(keys=[SHOPS, ENV_SHOPS, VERSION], args=[name, domain])
        return _text(outcome)

    def add(self, spec: ConnectionCreate) -> StoredConnection:
        """Store a new connection, its secrets encrypted.

        Raises:
            RegistryError: 409, the name, shop or account is taken.
            SecretKeyError: no usable `BRIDGE_SECRET_KEY`.
        """
        now = _now()
        stored = StoredConnection(
            name=spec.name,
            source=spec.source,
            shop_domain=spec.shop_domain,
            stripe_account=spec.stripe_account,
            sage_organization_id=spec.sage_organization_id,
            mapping=spec.mapping.overrides(),
            enabled=spec.enabled,
            created_at=now,
            updated_at=now,
        )
        stored = self._with_secrets(stored, spec.secrets)
        outcome = self._apply(stored.name, "", None, stored)
        if outcome != "ok":
            raise _refused(outcome, stored)
        return stored

    def update(self, name: str, change: ConnectionUpdate) -> StoredConnection:
        """Apply `change` (given fields replace, `mapping` merges; a mapping value of
        null is not accepted, set the environment's value instead).

        Raises:
            RegistryError: 404 unknown; 409 shop or account taken.
            SecretKeyError: secrets given and no usable `BRIDGE_SECRET_KEY`.
        """
        for _ in range(20):
            raw, current = self._read(name)
            updated = current.model_copy(
                update={
                    **change.model_dump(
                        include={"shop_domain", "stripe_account", "sage_organization_id"},
                        exclude_none=True,
                    ),
                    "updated_at": _now(),
                }
            )
            if change.mapping is not None:
                updated.mapping = {**current.mapping, **change.mapping.overrides()}
            if change.enabled is not None:
                updated.enabled = change.enabled
            if change.secrets is not None:
                updated = self._with_secrets(updated, change.secrets)
            _check_source(updated)
            outcome = self._apply(name, raw, current, updated)
            if outcome == "ok":
                return updated
            if outcome != "conflict":
                raise _refused(outcome, updated)
        raise RegistryError(409, "conflict", f"connection {name!r} kept changing; try again")

    def set_enabled(self, name: str, enabled: bool) -> StoredConnection:
        """Raises: RegistryError: 404 unknown."""
        return self.update(name, ConnectionUpdate(enabled=enabled))

    def remove(self, name: str) -> StoredConnection:
        """Forget the connection (its events and links stay under `bridge:<name>:`).

        Raises:
            RegistryError: 404 unknown.
        """
        for _ in range(20):
            raw, current = self._read(name)
            if self._apply(name, raw, current, None) == "ok":
                return current
        raise RegistryError(409, "conflict", f"connection {name!r} kept changing; try again")

    def secret_values(self, stored: StoredConnection, name: str) -> list[str]:
        """The decrypted values of secret `name` (empty when not set).

        Raises:
            SecretKeyError: no usable key opens them.
        """
        tokens = stored.secrets.get(name) or []
        if not tokens:
            return []
        box = self.box()
        return [box.decrypt(token) for token in tokens]

    def rotate_key(self) -> int:
        """Re-encrypt every stored secret with the first key; returns how many records.

        Raises:
            SecretKeyError: a secret no configured key opens.
        """
        box, changed = self.box(), 0
        for current in self.all():
            for _ in range(20):
                raw, fresh = self._read(current.name)
                secrets = {n: [box.rotate(t) for t in ts] for n, ts in fresh.secrets.items()}
                rotated = fresh.model_copy(update={"secrets": secrets})
                if self._apply(fresh.name, raw, fresh, rotated) == "ok":
                    changed += 1
                    break
        return changed

    def _with_secrets(self, stored: StoredConnection, given: ConnectionSecrets) -> StoredConnection:
        secrets, prints = dict(stored.secrets), dict(stored.fingerprints)
        values = {
            "webhook_secrets": given.webhook_secrets,
            "sage_refresh_token": [given.sage_refresh_token] if given.sage_refresh_token else None,
            "shopify_access_token": [given.shopify_access_token]
            if given.shopify_access_token
            else None,
            "stripe_api_key": [given.stripe_api_key] if given.stripe_api_key else None,
        }
        box: SecretBox | None = None
        for name, new in values.items():
            if new is None:
                continue
            box = box or self.box()
            plain = [value.get_secret_value() for value in new]
            secrets[name] = [box.encrypt(value) for value in plain]
            prints[name] = [fingerprint(value) for value in plain]
        return stored.model_copy(update={"secrets": secrets, "fingerprints": prints})

    def _read(self, name: str) -> tuple[str, StoredConnection]:
        """The record of `name` as stored (raw JSON, for compare-and-set) and parsed.

        Raises:
            RegistryError: 404, no such connection.
        """
        raw = self._redis.hget(ROOT, name)
        if not raw:
            raise RegistryError(404, "not_found", f"no connection named {name!r}")
        return _text(raw), StoredConnection.model_validate_json(_text(raw))

    def _apply(
        self,
        name: str,
        expected: str,
        current: StoredConnection | None,
        new: StoredConnection | None,
    ) -> str:
        """One compare-and-set write (see `_WRITE`): "ok", "exists", "conflict", "..._taken"."""
        args = [
            name,
            expected,
            new.model_dump_json() if new else "",
            (current.shop_domain if current else None) or "",
            (new.shop_domain if new else None) or "",
            (current.stripe_account if current else None) or "",
            (new.stripe_account if new else None) or "",
        ]
        outcome = self._write(keys=[ROOT, SHOPS, ACCOUNTS, VERSION], args=args)
        return str(outcome.decode() if isinstance(outcome, bytes) else outcome)
