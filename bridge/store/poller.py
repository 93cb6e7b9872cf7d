"""Redis storage of the poller: last known invoice states, pending events, watermark, lock.

Keys, all under `settings.key(...)`:

    status:<invoice id>     hash  status, mod (modificationDate, sortable UTC text), record
                                  (InvoiceState JSON); a settled one (`settled()`) expires
                                  `settings.link_retention_days` after its last change
    status-pending          hash  event key -> PendingEvent JSON: events decided by a
                                  status change and not yet handed to Outbound
    poll:watermark          str   the greatest modificationDate seen (sortable UTC text)
    poll:seen               zset  "<id>|<mod>" -> modificationDate as unix time
                                  (de-duplication of the overlap window; trimmed to it)
    poll:lock               str   the poller's lease: a random token, with an expiry

A status change and the events it implies are written in one Lua script (`compare_and_set`),
so an event can never be lost between the two: if the process dies before emitting, the
pending event is emitted by the next `observe` or poll cycle (emission is keyed, so twice
is once).
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from decimal import Decimal

import redis
from pydantic import BaseModel, ConfigDict

from bridge.outbound.events import EventType
from bridge.settings import Settings

# Compare-and-set of one invoice's state: only if status and modification date are still
# those the caller read; the record and the pending events are written in the same step.
_CAS = """
local status = redis.call('HGET', KEYS[1], 'status') or ''
local mod = redis.call('HGET', KEYS[1], 'mod') or ''
if status ~= ARGV[1] or mod ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], 'status', ARGV[3], 'record', ARGV[5])
if ARGV[4] ~= '' then redis.call('HSET', KEYS[1], 'mod', ARGV[4]) end
if ARGV[6] == '0' then redis.call('PERSIST', KEYS[1])
else redis.call('EXPIRE', KEYS[1], ARGV[6]) end
for i = 7, #ARGV, 2 do redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1]) end
return 1
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""


def stamp(moment: datetime) -> str:
    """`moment` as fixed-width UTC text that sorts like time (naive means UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_stamp(text: str) -> datetime:
    """The datetime of a `stamp()` text.

    Raises:
        ValueError: not a stamp.
    """
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def _text(value: str | bytes | None) -> str:
    if value is None:
        return ""
    return value.decode() if isinstance(value, bytes) else value


class InvoiceState(BaseModel):
    """What the bridge last knew of one Sage sales document (money as Decimal)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    invoice_id: str
    status: str
    modification_date: str = ""
    operational_number: str | None = None
    order_reference: str | None = None
    external_reference: str | None = None
    document_type: str | None = None
    source_invoice_id: str | None = None
    total: Decimal
    amount_paid: Decimal = Decimal(0)
    amount_due: Decimal
    # French e-invoicing (`bridge.einvoice.lifecycle`): status, reason, submissions.
    einvoice_status: str | None = None
    einvoice_reason: str | None = None
    einvoice_submissions: int = 0


def settled(state: InvoiceState) -> bool:
    """Whether the poller may forget `state` once it is old: a Collected invoice, or a credit
    note that is final (Closed or beyond). Any other invoice (Pending, Closed, Posted,
    PartiallyCollected) may still change in a way that owes an event, so its state is kept
    until it settles, however long that takes: open invoices are bounded by the receivables,
    not by the number of orders ever made. A record that expired and changes again later is
    seen as new (an old Collected invoice going back to PartiallyCollected emits that)."""
    if state.document_type == "CREDIT_NOTE":
        return state.status in {"Closed", "Posted", "PartiallyCollected", "Collected"}
    return state.status == "Collected"


class PendingEvent(BaseModel):
    """An event decided by a status change, waiting to be emitted under `key`."""

    model_config = ConfigDict(frozen=True)

    key: str
    type: EventType
    data: str  # the payload model's JSON


class StatusStore:
    """Last known states of invoices and the events their changes still owe."""

    def __init__(self, redis_client: redis.Redis, settings: Settings) -> None:
        self._r = redis_client
        self._settings = settings
        self._cas = redis_client.register_script(_CAS)
        self._pending_key = settings.key("status-pending")

    def _state_key(self, invoice_id: str) -> str:
        return self._settings.key("status", invoice_id)

    def read(self, invoice_id: str) -> tuple[str, str]:
        """`(status, modification stamp)` last recorded, `("", "")` when never seen."""
        status, mod = self._r.hmget(self._state_key(invoice_id), ["status", "mod"])
        return _text(status), _text(mod)

    def state(self, invoice_id: str) -> InvoiceState | None:
        """The full last known state, or None."""
        raw = self._r.hget(self._state_key(invoice_id), "record")
        return None if raw is None else InvoiceState.model_validate_json(_text(raw))

    def compare_and_set(
        self,
        expected: tuple[str, str],
        state: InvoiceState,
        events: list[PendingEvent],
    ) -> bool:
        """Record `state` (and queue `events`) only if the stored `(status, mod)` is still
        `expected`; False when another observer changed it first (nothing written)."""
        args: list[str] = [
            expected[0],
            expected[1],
            state.status,
            state.modification_date,
            state.model_dump_json(),
            str(self._settings.link_retention if settled(state) else 0),
        ]
        for event in events:
            args += [event.key, event.model_dump_json()]
        done = self._cas(keys=[self._state_key(state.invoice_id), self._pending_key], args=args)
        return bool(done)

    def pending(self) -> list[PendingEvent]:
        """Events decided but not yet confirmed emitted."""
        raw = self._r.hvals(self._pending_key)
        return [PendingEvent.model_validate_json(_text(value)) for value in raw]

    def done(self, key: str) -> None:
        """Forget a pending event once Outbound has recorded it."""
        self._r.hdel(self._pending_key, key)


class PollerStore:
    """The poller's watermark, its de-duplication window and its lease lock."""

    def __init__(self, redis_client: redis.Redis, settings: Settings) -> None:
        self._r = redis_client
        self._watermark = settings.key("poll", "watermark")
        self._seen = settings.key("poll", "seen")
        self._lock = settings.key("poll", "lock")
        self._release = redis_client.register_script(_RELEASE)
        self._renew = redis_client.register_script(_RENEW)

    # --- watermark --------------------------------------------------------------------
    def watermark(self) -> datetime | None:
        """The greatest modificationDate seen so far, None before the first cycle."""
        raw = self._r.get(self._watermark)
        return None if raw is None else parse_stamp(_text(raw))

    def advance(self, moment: datetime) -> None:
        """Move the watermark to `moment` if it is later (never backwards)."""
        text = stamp(moment)
        current = _text(self._r.get(self._watermark))
        if text > current:
            self._r.set(self._watermark, text)

    # --- de-duplication ----------------------------------------------------------------
    def unseen(self, items: list[tuple[str, str]]) -> list[bool]:
        """For each `(invoice id, mod stamp)`, True when it was not handled before."""
        if not items:
            return []
        scores = self._r.zmscore(self._seen, [f"{i}|{m}" for i, m in items])
        return [score is None for score in scores]

    def mark_seen(self, items: list[tuple[str, str, float]], floor: float) -> None:
        """Remember `(invoice id, mod stamp, mod unix time)` items as handled, and forget
        those modified before `floor` (out of every future query window)."""
        with self._r.pipeline(transaction=False) as pipe:
            if items:
                pipe.zadd(self._seen, {f"{i}|{m}": score for i, m, score in items})
            pipe.zremrangebyscore(self._seen, "-inf", f"({floor}")
            pipe.execute()

    # --- lease lock -------------------------------------------------------------------
    def acquire(self, lease: float) -> str | None:
        """Take the poller's lock for `lease` seconds: a token, or None when it is held."""
        token = secrets.token_hex(16)
        taken = self._r.set(self._lock, token, nx=True, px=max(1, int(lease * 1000)))
        return token if taken else None

    def renew(self, token: str, lease: float) -> bool:
        """Extend the lock if `token` still holds it."""
        return bool(self._renew(keys=[self._lock], args=[token, max(1, int(lease * 1000))]))

    def release(self, token: str) -> bool:
        """Release the lock only if `token` still holds it (never another owner's)."""
        return bool(self._release(keys=[self._lock], args=[token]))
