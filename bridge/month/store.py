"""What each month close did, per processor and month.

Keys (under `bridge:<connection>:`):
    month:close:<processor>:<YYYY-MM>   JSON `CloseRecord`
    month:close:<processor>             zset month -> its ordinal, for listings

Sage stays the reference (the invoice is found by its number): the record is what the
Clearing page shows, and lets beat skip a month already closed.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import redis
from pydantic import BaseModel, Field

from bridge.settings import Settings

FINAL = frozenset({"invoiced", "already closed", "closed by hand"})


class CloseRecord(BaseModel):
    processor: str
    month: str
    outcome: str  # nothing to invoice, invoiced, already closed, closed by hand, failed
    fees: Decimal = Decimal("0")
    vat: Decimal = Decimal("0")
    payouts: int = 0
    invoice_id: str | None = None
    invoice_number: str | None = None
    status: str | None = None  # the invoice's, as Sage says (Paid...)
    pending: Decimal | None = None
    notes: list[str] = Field(default_factory=list)
    updated_at: dt.datetime | None = None

    @property
    def settled(self) -> bool:
        return self.status == "Paid" and self.pending == 0


class MonthStore:
    def __init__(self, client: redis.Redis, settings: Settings) -> None:
        self._redis = client
        self._settings = settings

    def _key(self, processor: str, month: str) -> str:
        return self._settings.key("month", "close", processor, month)

    def get(self, processor: str, month: str) -> CloseRecord | None:
        """Raises: redis.RedisError when Redis is unreachable."""
        raw = self._redis.get(self._key(processor, month))
        return CloseRecord.model_validate_json(raw) if raw else None

    def save(self, record: CloseRecord) -> None:
        """Raises: redis.RedisError when Redis is unreachable."""
        record.updated_at = dt.datetime.now(dt.UTC)
        year, month = record.month.split("-")
        pipe = self._redis.pipeline(transaction=True)
        pipe.set(self._key(record.processor, record.month), record.model_dump_json())
        listing = self._settings.key("month", "close", record.processor)
        pipe.zadd(listing, {record.month: int(year) * 12 + int(month)})
        pipe.execute()

    def recent(self, processor: str, limit: int = 12) -> list[CloseRecord]:
        """The latest months closed (or tried) for `processor`, newest first."""
        listing = self._settings.key("month", "close", processor)
        months = self._redis.zrevrange(listing, 0, limit - 1)
        raws = self._redis.mget([self._key(processor, str(m)) for m in months]) if months else []
        return [CloseRecord.model_validate_json(r) for r in raws if r]
