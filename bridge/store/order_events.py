"""Which inbound events concerned each order, so the console can show an order's history
and, for an order that failed or is held, the event that says why.

Keys (under `bridge:<connection>:`):
    order-events:<reference>   zset event ref -> first time the event was run for it (s)

Noted by the sync before it runs an order's, payment's or refund's step
(`bridge.sync.running.run_translated`): the index exists even when that step fails. Each
key expires `BRIDGE_LINK_RETENTION_DAYS` after its last write, like the order's link.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import redis

from bridge.settings import Settings

MAX_LISTED = 200  # an order's page lists its latest events, not every orders/updated


class OrderEvents:
    """The event refs of each order; see the module docstring."""

    def __init__(
        self, client: redis.Redis, settings: Settings, clock: Callable[[], float] = time.time
    ) -> None:
        self._redis = client
        self._settings = settings
        self._clock = clock

    def _key(self, reference: str) -> str:
        return self._settings.key("order-events", reference)

    def note(self, reference: str, event_ref: str) -> None:
        """Remember that `event_ref` concerns order `reference` (first time kept).

        Raises:
            redis.RedisError: Redis is unreachable.
        """
        key = self._key(reference)
        with self._redis.pipeline(transaction=False) as pipe:
            pipe.zadd(key, {event_ref: self._clock()}, nx=True)
            pipe.expire(key, self._settings.link_retention)
            pipe.execute()

    def refs(self, reference: str, limit: int = MAX_LISTED) -> list[str]:
        """The order's event refs, newest first.

        Raises:
            redis.RedisError: Redis is unreachable.
        """
        found: list[str] = self._redis.zrevrange(self._key(reference), 0, limit - 1)  # type: ignore[assignment]
        return [str(ref) for ref in found]

    def refs_of_many(self, references: Sequence[str], limit: int = 20) -> dict[str, list[str]]:
        """`refs` of several orders in one round trip.

        Raises:
            redis.RedisError: Redis is unreachable.
        """
        with self._redis.pipeline(transaction=False) as pipe:
            for reference in references:
                pipe.zrevrange(self._key(reference), 0, limit - 1)
            pages = pipe.execute()
        return {ref: [str(r) for r in page] for ref, page in zip(references, pages, strict=True)}
