""" "Needs attention" items: what the sync could not express in Sage, kept for a person.

A refund's order adjustment, a shipping refund that no quantity makes exact to the cent,
an order edited after it was invoiced, a dispute: none of these is skipped silently. Each
becomes an item with the order it concerns, the amount at stake and the reason, listed by
the admin API.

Keys (under `bridge:<connection>:`):
    attention              hash item id -> JSON `AttentionItem`
    attention:index        zset item id -> creation time (s), newest last
    attention:resolved     zset item id -> resolution time (s)
    attention:notes        hash item id -> the note left when resolving it (what was booked)

Item ids are deterministic (`<kind>:<source id>`), so recording the same finding twice
(an event processed again) keeps one item.

Open items are kept until a person resolves them; a resolved item is dropped
`BRIDGE_LINK_RETENTION_DAYS` after its resolution (at the next `add` or `resolve`), so the
history does not grow with every order ever made.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from decimal import Decimal

import redis
from pydantic import BaseModel, ConfigDict, Field

from bridge.settings import Settings
from bridge.store.alert_queue import queue_alert

KIND_SCAN_PAGE = 500  # items read per round trip when listing one kind


class AttentionItem(BaseModel):
    """One finding for a person; `amount` is what is at stake (None when not money)."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(min_length=1, max_length=300)
    kind: str = Field(min_length=1)
    order_reference: str | None = None
    amount: Decimal | None = None
    currency: str | None = None
    reason: str = Field(min_length=1)
    source: str | None = None  # the provider object (refund id, payment id...)
    created_at: dt.datetime | None = None


class AttentionStore:
    """Records and lists attention items; see the module docstring."""

    def __init__(
        self, client: redis.Redis, settings: Settings, clock: Callable[[], float] = time.time
    ) -> None:
        self._redis = client
        self._settings = settings
        self._clock = clock
        self._hash = settings.key("attention")
        self._index = settings.key("attention", "index")
        self._resolved = settings.key("attention", "resolved")
        self._notes = settings.key("attention", "notes")
        self._retention = settings.link_retention

    def add(self, item: AttentionItem) -> bool:
        """Record `item` unless an item with its id exists; True when it is new.

        Raises:
            redis.RedisError: Redis is unreachable.
        """
        now = self._clock()
        stamped = item.model_copy(update={"created_at": dt.datetime.fromtimestamp(now, dt.UTC)})
        if not self._redis.hsetnx(self._hash, item.id, stamped.model_dump_json()):
            return False
        self._redis.zadd(self._index, {item.id: now})
        self._forget_resolved(now)
        money = f" ({item.amount} {item.currency or ''})".rstrip() if item.amount else ""
        path = f"/console/order/{item.order_reference}" if item.order_reference else None
        queue_alert(
            self._redis,
            self._settings,
            "attention",
            f"To book by hand: {item.kind.replace('_', ' ')}",
            f"{item.reason}{money}",
            key=f"attention:{item.id}",
            path=path or "/console/attention",
        )
        return True

    def _forget_resolved(self, now: float) -> None:
        """Drop the items resolved more than the retention ago."""
        old: list[str] = self._redis.zrangebyscore(  # type: ignore[assignment]
            self._resolved, "-inf", f"({now - self._retention!r}", start=0, num=500
        )
        if not old:
            return
        with self._redis.pipeline(transaction=True) as pipe:
            pipe.hdel(self._hash, *old)
            pipe.zrem(self._index, *old)
            pipe.zrem(self._resolved, *old)
            pipe.hdel(self._notes, *old)
            pipe.execute()

    def get(self, item_id: str) -> AttentionItem | None:
        """Raises: redis.RedisError when Redis is unreachable."""
        raw = self._redis.hget(self._hash, item_id)
        return AttentionItem.model_validate_json(raw) if raw else None

    def items(
        self, limit: int = 100, include_resolved: bool = False, kind: str | None = None
    ) -> list[AttentionItem]:
        """Items newest first (open ones only unless `include_resolved`; of one `kind`).

        Raises:
            redis.RedisError: Redis is unreachable.
        """
        ids: list[str] = self._redis.zrevrange(self._index, 0, -1)  # type: ignore[assignment]
        if not include_resolved:
            resolved = set(self._redis.zrange(self._resolved, 0, -1))
            ids = [i for i in ids if i not in resolved]
        if kind is not None:
            # ids are `<kind>:<source>`, but read the items: the id is a convention only
            return self._of_kind(ids, kind, limit)
        ids = ids[:limit]
        if not ids:
            return []
        raws: list[str | None] = self._redis.hmget(self._hash, ids)  # type: ignore[assignment]
        return [AttentionItem.model_validate_json(r) for r in raws if r]

    def _of_kind(self, ids: list[str], kind: str, limit: int) -> list[AttentionItem]:
        found: list[AttentionItem] = []
        for start in range(0, len(ids), KIND_SCAN_PAGE):
            page = ids[start : start + KIND_SCAN_PAGE]
            raws: list[str | None] = self._redis.hmget(self._hash, page)  # type: ignore[assignment]
            for raw in raws:
                item = AttentionItem.model_validate_json(raw) if raw else None
                if item is not None and item.kind == kind:
                    found.append(item)
                    if len(found) >= limit:
                        return found
        return found

    def for_order(self, reference: str) -> list[AttentionItem]:
        """Open items about order `reference`.

        Raises:
            redis.RedisError: Redis is unreachable.
        """
        return [i for i in self.items(limit=10_000) if i.order_reference == reference]

    def resolve(self, item_id: str, note: str | None = None) -> bool:
        """Mark an item handled (the first resolution time is kept), with the person's
        `note` (what they booked in Sage; a later note replaces it); False if no such item.

        Raises:
            redis.RedisError: Redis is unreachable.
        """
        if not self._redis.hexists(self._hash, item_id):
            return False
        now = self._clock()
        self._redis.zadd(self._resolved, {item_id: now}, nx=True)
        if note:
            self._redis.hset(self._notes, item_id, note)
        self._forget_resolved(now)
        return True

    def notes(self, item_ids: list[str]) -> dict[str, str]:
        """The resolution note of each of `item_ids` that has one.

        Raises:
            redis.RedisError: Redis is unreachable.
        """
        if not item_ids:
            return {}
        found: list[str | None] = self._redis.hmget(self._notes, item_ids)  # type: ignore[assignment]
        return {i: n for i, n in zip(item_ids, found, strict=True) if n}

    def resolved_at(self, item_ids: list[str]) -> dict[str, dt.datetime]:
        """When each of `item_ids` that is resolved was resolved.

        Raises:
            redis.RedisError: Redis is unreachable.
        """
        if not item_ids:
            return {}
        scores: list[float | None] = self._redis.zmscore(self._resolved, item_ids)
        return {
            item_id: dt.datetime.fromtimestamp(score, dt.UTC)
            for item_id, score in zip(item_ids, scores, strict=True)
            if score is not None
        }
