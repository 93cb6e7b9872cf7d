"""Payout links: what the bridge booked for each payout, with the intent markers.

Keys (under `bridge:<connection>:`):
    link:payout:<processor>:<payout id>   JSON `PayoutLink`
    payouts:<processor>                   zset payout id -> last change (s), for listings

Written under the payout's lock (`bridge.sync.locks.OrderLock` on `lock:payout:...`). As
for invoices, an intent marker is set just before the entry is created in Sage; a retry
that finds it set looks for the entry by its `documentNumber` before creating one.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from decimal import Decimal

import redis
from pydantic import BaseModel, Field

from bridge.settings import Settings
from bridge.store.links import Link

BOOK = "book"
FAIL = "fail"


class PayoutLink(Link):
    """One payout and its entries; the totals are those of the entry as booked."""

    processor: str
    payout_id: str
    amount: Decimal
    currency: str
    entry_id: str | None = None
    entry_number: int | None = None
    failure_entry_id: str | None = None
    fees: Decimal = Decimal("0")
    sales: Decimal = Decimal("0")
    refunds: Decimal = Decimal("0")
    disputes: Decimal = Decimal("0")
    transactions: int = 0
    attention: bool = False  # not booked: see the attention item `payout:<processor>:<id>`
    problems: list[str] = Field(default_factory=list)
    date: dt.date | None = None  # arrival date (Stripe) / payout date (Shopify Payments)
    fees_on: str | None = None  # "clearing" (invoiced monthly: bridge.month) or "expense"
    bank_status: str | None = None  # bridge.month.bank: waiting, reconciled, not_found
    bank_movement_id: str | None = None
    bank_checked_at: dt.datetime | None = None


class PayoutSummary(BaseModel):
    """Counts for the reconciliation view."""

    booked: int = 0
    booked_amount: Decimal = Decimal("0")
    waiting_attention: int = 0
    failed: int = 0


class PayoutStore:
    """Reads and writes payout links; see the module docstring."""

    def __init__(
        self, client: redis.Redis, settings: Settings, clock: Callable[[], float] = time.time
    ) -> None:
        self._redis = client
        self._settings = settings
        self._clock = clock

    def _key(self, processor: str, payout_id: str) -> str:
        return self._settings.key("link", "payout", processor, payout_id)

    def lock_key(self, processor: str, payout_id: str) -> str:
        return self._settings.key("lock", "payout", processor, payout_id)

    def get(self, processor: str, payout_id: str) -> PayoutLink | None:
        """Raises: redis.RedisError when Redis is unreachable."""
        raw = self._redis.get(self._key(processor, payout_id))
        return PayoutLink.model_validate_json(raw) if raw else None

    def save(self, link: PayoutLink) -> None:
        """Raises: redis.RedisError when Redis is unreachable."""
        now = self._clock()
        link.updated_at = dt.datetime.fromtimestamp(now, dt.UTC)
        pipe = self._redis.pipeline(transaction=True)
        pipe.set(self._key(link.processor, link.payout_id), link.model_dump_json())
        pipe.zadd(self._settings.key("payouts", link.processor), {link.payout_id: now})
        pipe.execute()

    def recent(self, processor: str, limit: int = 50) -> list[PayoutLink]:
        """The most recently changed payouts of `processor`, newest first."""
        ids = self._redis.zrevrange(self._settings.key("payouts", processor), 0, limit - 1)
        if not ids:
            return []
        raws = self._redis.mget([self._key(processor, str(i)) for i in ids])
        return [PayoutLink.model_validate_json(r) for r in raws if r]

    def summary(self, processor: str) -> PayoutSummary:
        """Booked / waiting / failed counts over every payout of `processor`."""
        summary = PayoutSummary()
        for link in self.recent(processor, limit=100_000):
            if link.entry_id:
                summary.booked += 1
                summary.booked_amount += link.amount
            elif link.attention:
                summary.waiting_attention += 1
            if link.failure_entry_id:
                summary.failed += 1
        return summary
