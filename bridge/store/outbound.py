"""Redis storage of outbound webhooks: subscriptions, events, deliveries and their attempts.

Keys, all under `settings.key("outbound", ...)`:

    subscriptions           hash  id -> Subscription JSON (never the secret)
    secrets                 hash  id -> signing secret (needed to sign every attempt),
                                  encrypted at rest (`bridge.connections.at_rest`)
    event:<id>              str   EventRecord JSON (the exact body sent, for stable signatures)
    delivery:<id>           str   Delivery JSON
    attempts:<id>           list  Attempt JSON, oldest first
    due                     zset  pending delivery id -> unix time it may be sent
    chain:<sub>:<invoice>   list  pending deliveries of one invoice's events to one
                                  subscription, in the order they were emitted
    deliveries              zset  delivery id -> creation time (listing, recovery)
    lock:<id>               str   held while one worker attempts one delivery

Order: the events of one invoice (`invoice.created`, `invoice.posted`, `payment.settled`,
`invoice.collected`, `invoice.credited`...) reach a subscriber in the order they were
emitted. Their deliveries to one subscription form a chain: only its head is in `due`; when
the head succeeds or dies, the next one becomes due. So a later event never overtakes an
earlier one that is being retried, nor one that another worker is sending at that moment.
A replayed delivery is sent at once, outside its chain.

Events, deliveries and attempts expire `settings.outbound_retention_days`
(`BRIDGE_OUTBOUND_RETENTION_DAYS`, 30) after their last change, which must stay beyond the
~28 h a retry schedule lasts; the `deliveries` index is trimmed to match on every write.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from enum import StrEnum
from typing import Any, Literal

import redis
from pydantic import BaseModel, ConfigDict

from bridge.connections.at_rest import sealer
from bridge.outbound.events import EventType
from bridge.settings import Settings

_PAGE = 200
_SCAN_LIMIT = 5000

# Claim a due delivery: only if it is still due, push it `lease` seconds ahead so that no
# other pump takes it; if the worker dies the delivery becomes due again after the lease.
_CLAIM = """
local due = redis.call('ZSCORE', KEYS[1], ARGV[1])
if due and tonumber(due) <= tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
  return 1
end
return 0
"""
# KEYS: chain, due. ARGV: delivery id, due at, ttl. The chain's first delivery is due.
_CHAIN_ADD = """
local n = redis.call('RPUSH', KEYS[1], ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[3])
if n == 1 then redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1]) end
return n
"""
# KEYS: chain, due. ARGV: finished delivery id, now. The next delivery becomes due.
_CHAIN_NEXT = """
redis.call('LREM', KEYS[1], 1, ARGV[1])
local head = redis.call('LINDEX', KEYS[1], 0)
if head then
  redis.call('ZADD', KEYS[2], 'NX', ARGV[2], head)
  return head
end
return false
"""
_UNLOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # waiting for its next attempt
    SUCCEEDED = "succeeded"  # a 2xx was received
    DEAD = "dead"  # schedule exhausted, or its subscription disabled/deleted


class _Record(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Subscription(_Record):
    id: str
    url: str
    event_types: list[EventType]
    enabled: bool = True
    disabled_reason: str | None = None
    source: Literal["api", "settings"] = "api"
    created_at: float
    updated_at: float


class EventRecord(_Record):
    id: str
    type: EventType
    timestamp: float
    body: str
    delivery_ids: list[str]


class Delivery(_Record):
    id: str
    event_id: str
    event_type: EventType
    subscription_id: str
    status: DeliveryStatus = DeliveryStatus.PENDING
    attempt_count: int = 0
    step: int = 0  # index in the retry schedule of the next attempt
    next_attempt_at: float | None
    created_at: float
    updated_at: float
    last_status_code: int | None = None
    last_error: str | None = None
    dead_reason: str | None = None
    chain: str | None = None  # "<subscription>:<invoice>": sent after the earlier ones


class Attempt(_Record):
    delivery_id: str
    number: int
    at: float
    url: str
    ok: bool
    status_code: int | None
    duration_ms: float
    excerpt: str
    error: str | None
    retry_after: float | None
    next_attempt_at: float | None


def new_delivery(
    event_id: str, event_type: EventType, sub_id: str, now: float, invoice: str | None = None
) -> Delivery:
    """A pending delivery of one event to one subscription, due `now` (after the earlier
    deliveries of the same `invoice` to that subscription, if one is named)."""
    return Delivery(
        id=new_id("dlv"),
        event_id=event_id,
        event_type=event_type,
        subscription_id=sub_id,
        next_attempt_at=now,
        created_at=now,
        updated_at=now,
        chain=f"{sub_id}:{invoice}" if invoice else None,
    )


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def new_id(prefix: str) -> str:
    """A random id with a readable prefix: `msg_...`, `sub_...`, `dlv_...`."""
    return f"{prefix}_{secrets.token_hex(12)}"


class OutboundStore:
    """Reads and writes the records above; every multi-key change is one transaction."""

    def __init__(self, redis_client: redis.Redis, settings: Settings) -> None:
        self._r = redis_client
        self._settings = settings
        self._retention = settings.outbound_retention
        self._sealer = sealer(settings.secret_key)  # signing secrets encrypted at rest
        self._claim = redis_client.register_script(_CLAIM)
        self._unlock = redis_client.register_script(_UNLOCK)

    def _key(self, *parts: str) -> str:
        return self._settings.key("outbound", *parts)

    # --- subscriptions ------------------------------------------------------------------
    def put_subscription(self, sub: Subscription, secret: str | None = None) -> None:
        """Create or replace a subscription (and its secret, when given)."""
        with self._r.pipeline(transaction=True) as pipe:
            pipe.hset(self._key("subscriptions"), sub.id, sub.model_dump_json())
            if secret is not None:
                pipe.hset(self._key("secrets"), sub.id, self._sealer.seal(secret))
            pipe.execute()

    def add_subscription_once(self, sub: Subscription, secret: str, *, keep_secret: bool) -> bool:
        """Create `sub` unless its id exists (True when created), and set its secret;
        with `keep_secret`, an existing secret is left as it is."""
        sealed = self._sealer.seal(secret)
        with self._r.pipeline(transaction=True) as pipe:
            if keep_secret:
                pipe.hsetnx(self._key("secrets"), sub.id, sealed)
            else:
                pipe.hset(self._key("secrets"), sub.id, sealed)
            pipe.hsetnx(self._key("subscriptions"), sub.id, sub.model_dump_json())
            created = pipe.execute()[-1]
        return bool(created)

    def subscription(self, sub_id: str) -> Subscription | None:
        raw = self._r.hget(self._key("subscriptions"), sub_id)
        return None if raw is None else Subscription.model_validate_json(raw)

    def subscriptions(self) -> list[Subscription]:
        """Every subscription, oldest first."""
        raw = self._r.hvals(self._key("subscriptions"))
        subs = [Subscription.model_validate_json(item) for item in raw]
        return sorted(subs, key=lambda s: (s.created_at, s.id))

    def secret(self, sub_id: str) -> str | None:
        """The signing secret of `sub_id` (None when it has none).

        Raises:
            SecretKeyError: it was encrypted with a key no longer configured.
        """
        raw = self._r.hget(self._key("secrets"), sub_id)
        return None if raw is None else self._sealer.open(_text(raw))

    def delete_subscription(self, sub_id: str) -> bool:
        """Remove a subscription and its secret; True when it existed."""
        with self._r.pipeline(transaction=True) as pipe:
            pipe.hdel(self._key("subscriptions"), sub_id)
            pipe.hdel(self._key("secrets"), sub_id)
            removed, _ = pipe.execute()
        return bool(removed)

    # --- events and deliveries ------------------------------------------------------------
    def create_event(self, event: EventRecord, deliveries: list[Delivery], now: float) -> bool:
        """Record an event and its deliveries, all due, at once; False if the id exists."""
        event_key = self._key("event", event.id)
        with self._r.pipeline(transaction=True) as pipe:
            try:
                pipe.watch(event_key)  # type: ignore[no-untyped-call]
                if pipe.exists(event_key):
                    return False
                pipe.multi()
                pipe.set(event_key, event.model_dump_json(), ex=self._retention)
                for delivery in deliveries:
                    if delivery.chain:
                        key = self._key("delivery", delivery.id)
                        pipe.set(key, delivery.model_dump_json(), ex=self._retention)
                        keys = [self._key("chain", delivery.chain), self._key("due")]
                        due = delivery.next_attempt_at or now
                        pipe.eval(_CHAIN_ADD, 2, *keys, delivery.id, repr(due), self._retention)
                    else:
                        self._write_delivery(pipe, delivery)
                    pipe.zadd(self._key("deliveries"), {delivery.id: delivery.created_at})
                pipe.zremrangebyscore(self._key("deliveries"), "-inf", now - self._retention)
                pipe.execute()
            except redis.WatchError:
                return False  # the same event id was recorded at the same moment
        return True

    def event(self, event_id: str) -> EventRecord | None:
        raw = self._r.get(self._key("event", event_id))
        return None if raw is None else EventRecord.model_validate_json(raw)

    def delivery(self, delivery_id: str) -> Delivery | None:
        raw = self._r.get(self._key("delivery", delivery_id))
        return None if raw is None else Delivery.model_validate_json(raw)

    def _write_delivery(self, pipe: Any, delivery: Delivery) -> None:
        pipe.set(self._key("delivery", delivery.id), delivery.model_dump_json(), ex=self._retention)
        if delivery.status is DeliveryStatus.PENDING and delivery.next_attempt_at is not None:
            pipe.zadd(self._key("due"), {delivery.id: delivery.next_attempt_at})
        else:
            pipe.zrem(self._key("due"), delivery.id)

    def save_delivery(self, delivery: Delivery, attempt: Attempt | None = None) -> None:
        """Write a delivery (and append an attempt) and keep the due set in step; a chained
        delivery that is finished (succeeded, dead) makes the next of its chain due."""
        with self._r.pipeline(transaction=True) as pipe:
            self._write_delivery(pipe, delivery)
            if delivery.chain and delivery.status is not DeliveryStatus.PENDING:
                keys = [self._key("chain", delivery.chain), self._key("due")]
                pipe.eval(_CHAIN_NEXT, 2, *keys, delivery.id, repr(delivery.updated_at))
            if attempt is not None:
                attempts_key = self._key("attempts", delivery.id)
                pipe.rpush(attempts_key, attempt.model_dump_json())
                pipe.expire(attempts_key, self._retention)
            pipe.execute()

    def leave_chain(self, delivery: Delivery, now: float) -> None:
        """Take `delivery` out of its chain (a replay sends it on its own); the next one
        becomes due if it was the head."""
        if delivery.chain:
            keys = [self._key("chain", delivery.chain), self._key("due")]
            self._r.eval(_CHAIN_NEXT, 2, *keys, delivery.id, repr(now))

    def is_chain_head(self, delivery: Delivery) -> bool:
        """Whether `delivery` may be sent now as far as order goes (first of its chain)."""
        if not delivery.chain:
            return True
        head = self._r.lindex(self._key("chain", delivery.chain), 0)
        return head is None or _text(head) == delivery.id

    def attempts(self, delivery_id: str) -> list[Attempt]:
        raw = self._r.lrange(self._key("attempts", delivery_id), 0, -1)
        return [Attempt.model_validate_json(item) for item in raw]

    def recent_deliveries(
        self,
        since: float | None = None,
        status: DeliveryStatus | None = None,
        subscription: str | None = None,
    ) -> Iterator[Delivery]:
        """Deliveries newest first (created at or after `since`, of a status, to a
        subscription), looking at the latest few thousand only."""
        low: float | str = "-inf" if since is None else since
        for start in range(0, _SCAN_LIMIT, _PAGE):
            ids = self._r.zrevrangebyscore(
                self._key("deliveries"), "+inf", low, start=start, num=_PAGE
            )
            for delivery_id in ids:
                delivery = self.delivery(_text(delivery_id))
                if delivery is None or (status is not None and delivery.status is not status):
                    continue
                if subscription is None or delivery.subscription_id == subscription:
                    yield delivery
            if len(ids) < _PAGE:
                return

    # --- scheduling -----------------------------------------------------------------------
    def due_ids(self, now: float, limit: int) -> list[str]:
        raw = self._r.zrangebyscore(self._key("due"), "-inf", now, start=0, num=limit)
        return [_text(item) for item in raw]

    def claim(self, delivery_id: str, now: float, lease: float) -> bool:
        """Take a due delivery for sending, atomically; False if not due or already taken."""
        return bool(self._claim(keys=[self._key("due")], args=[delivery_id, now, now + lease]))

    def lock(self, delivery_id: str, ttl: float) -> str | None:
        """Hold the attempt lock of one delivery; the token to unlock with, or None."""
        token = secrets.token_hex(8)
        held = self._r.set(self._key("lock", delivery_id), token, nx=True, px=int(ttl * 1000))
        return token if held else None

    def unlock(self, delivery_id: str, token: str) -> None:
        self._unlock(keys=[self._key("lock", delivery_id)], args=[token])
