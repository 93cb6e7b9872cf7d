"""Links between provider objects and Sage documents, with the sync's intent markers.

Keys (under `bridge:<connection>:link:`):
    order:<reference>             JSON `OrderLink`: the order snapshot, its invoice, the steps
                                  done and the intent markers of the steps under way
    payment:<provider>:<id>       JSON `PaymentLink`: the settlement entry of one payment
    refund:<provider>:<id>        JSON `RefundLink`: the credit note of one refund
    parked:<reference>            set of event refs parked until the order's invoice exists
    orders                        zset reference -> last change (s), for listings

Retention: every key above expires `settings.link_retention_days` (`BRIDGE_LINK_RETENTION_DAYS`,
400) after its last write (each write sets the TTL again), and each `save_order` trims the
`orders` index of references not changed within that time, so Redis holds the orders of the
last retention period, not every order the shop ever had. An event for an order whose link
has expired finds none: the sync then looks in Sage by reference before creating anything
(`bridge.sync.orders`), so nothing is booked twice.

Every write of an order's links happens under that order's lock (`bridge.sync.locks`), so
a plain read-modify-write of one JSON value is safe; the parked index is a set because the
events waiting on an order add themselves to it under the same lock.

An intent marker is written just before a Sage mutation and cleared when its result is
recorded: a step whose result is missing while its marker is set may have reached Sage, so
the sync looks in Sage for it before acting again; without a marker it cannot have.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from decimal import Decimal
from typing import TypeVar

import redis
from pydantic import BaseModel, ConfigDict, Field

from bridge.einvoice.routing import EInvoiceFields
from bridge.models import Order, OrderEdit
from bridge.settings import Settings

L = TypeVar("L", bound="Link")


class Link(BaseModel):
    model_config = ConfigDict(extra="ignore")

    intents: dict[str, dt.datetime] = Field(default_factory=dict)
    updated_at: dt.datetime | None = None

    def intend(self, step: str, now: dt.datetime) -> None:
        """Mark `step` as about to reach Sage."""
        self.intents[step] = now

    def done(self, step: str) -> None:
        """Clear `step`'s intent marker: its result is recorded."""
        self.intents.pop(step, None)

    def intended(self, step: str) -> bool:
        return step in self.intents


class ChainDocument(BaseModel):
    """A document an order edit added to an invoiced order's chain (`bridge.sync.order_edits`):
    a supplementary invoice (`total` > 0, its own OrderLink at `reference`) or the credit
    note of what the edit removed (`total` < 0, a refund link `edit:<edit id>`)."""

    model_config = ConfigDict(extra="ignore")

    kind: str  # "edit_invoice" | "edit_credit_note"
    edit_id: str
    reference: str
    total: Decimal


class OrderLink(Link):
    """One order (by its Sage `salesOrderNumber`) and its invoice.

    After the invoice is made, `order` stays what was invoiced; `current` is the order as
    its latest update shows it, `edits` the order edits received, `chain` the documents
    the booked ones added (`bridge.sync.order_edits`).
    """

    reference: str
    order: Order | None = None
    invoice_id: str | None = None
    number: str | None = None
    status: str | None = None
    customer_id: str | None = None
    # Sage product id of each line of `order`, as invoiced (refunds credit by product).
    line_products: list[str] = Field(default_factory=list)
    fallback_lines: list[int] = Field(default_factory=list)
    paid: Decimal = Decimal("0")
    # Markets: what the converted payments paid in the order's presentment currency.
    presentment_paid: Decimal = Decimal("0")
    credited: Decimal = Decimal("0")
    payments: list[str] = Field(default_factory=list)
    refunds: list[str] = Field(default_factory=list)
    cancelled: bool = False
    current: Order | None = None
    edits: list[OrderEdit] = Field(default_factory=list)
    edits_booked: list[str] = Field(default_factory=list)
    chain: list[ChainDocument] = Field(default_factory=list)
    # French e-invoicing: what the invoice was sent with (None: not sent electronically),
    # or why a French business customer's invoice was not (`einvoice_note`).
    einvoice: EInvoiceFields | None = None
    einvoice_note: str | None = None

    @property
    def posted(self) -> bool:
        return self.status in {"Posted", "PartiallyCollected", "Collected"}

    @property
    def order_total(self) -> Decimal:
        """The invoiced total (0 before the snapshot is known)."""
        return self.order.total if self.order else Decimal("0")


class PaymentLink(Link):
    """One provider payment and the settlement entry that booked it."""

    provider: str
    payment_id: str
    order_reference: str
    amount: Decimal
    # Markets: the amount in the presentment currency when `amount` was converted from it.
    presentment_amount: Decimal | None = None
    entry_id: str | None = None
    entry_number: int | None = None
    status: str | None = None  # the invoice's status right after the settlement


class RefundLink(Link):
    """One refund (or cancellation) and its credit note."""

    provider: str
    refund_id: str
    order_reference: str
    credit_note_id: str | None = None
    number: str | None = None
    status: str | None = None
    referenced: bool = False  # the credit note carries `<order ref>:refund:<refund id>`
    credited: Decimal | None = None
    nothing_to_credit: bool = False
    # What the credit note must come to (`bridge.sync.credit_plan`), kept from the plan made
    # before `generateCreditNote` so a retry checks the draft against the same figures.
    planned: Decimal | None = None
    planned_vat: dict[Decimal, Decimal] = Field(default_factory=dict)


class LinkStore:
    """Reads and writes links; see the module docstring."""

    def __init__(
        self, client: redis.Redis, settings: Settings, clock: Callable[[], float] = time.time
    ) -> None:
        self._redis = client
        self._settings = settings
        self._clock = clock

    @property
    def redis(self) -> redis.Redis:
        """The Redis client (for small sets kept beside the links, e.g. OSS rates seen)."""
        return self._redis

    def _key(self, *parts: str) -> str:
        return self._settings.key("link", *parts)

    def _get(self, model: type[L], key: str) -> L | None:
        raw = self._redis.get(key)
        return model.model_validate_json(raw) if raw else None

    @property
    def retention(self) -> int:
        """Seconds a link is kept after its last write."""
        return self._settings.link_retention

    def _put(self, key: str, link: Link) -> None:
        link.updated_at = dt.datetime.fromtimestamp(self._clock(), dt.UTC)
        self._redis.set(key, link.model_dump_json(), ex=self.retention)

    # -- orders ------------------------------------------------------------------------

    def order(self, reference: str) -> OrderLink | None:
        """The link of order `reference`, or None.

        Raises:
            redis.RedisError: Redis is unreachable.
        """
        return self._get(OrderLink, self._key("order", reference))

    def orders(self, references: list[str]) -> list[OrderLink]:
        """The links of `references` that exist, in order, read in one round trip.

        Raises:
            redis.RedisError: Redis is unreachable.
        """
        if not references:
            return []
        raws = self._redis.mget([self._key("order", ref) for ref in references])
        return [OrderLink.model_validate_json(raw) for raw in raws if raw]

    def save_order(self, link: OrderLink) -> None:
        """Store `link` (caller holds the order lock).

        Raises:
            redis.RedisError: Redis is unreachable.
        """
        pipe = self._redis.pipeline(transaction=True)
        now = self._clock()
        link.updated_at = dt.datetime.fromtimestamp(now, dt.UTC)
        pipe.set(self._key("order", link.reference), link.model_dump_json(), ex=self.retention)
        pipe.zadd(self._key("orders"), {link.reference: now})
        pipe.zremrangebyscore(self._key("orders"), "-inf", f"({now - self.retention!r}")
        pipe.execute()

    def order_references(self, limit: int = 100) -> list[str]:
        """The most recently changed order references, newest first.

        Raises:
            redis.RedisError: Redis is unreachable.
        """
        refs: list[str] = self._redis.zrevrange(self._key("orders"), 0, limit - 1)  # type: ignore[assignment]
        return [str(r) for r in refs]

    def order_page(self, before: float | None, limit: int) -> list[tuple[str, float]]:
        """Up to `limit` (reference, last change time) pairs, newest first, strictly older
        than `before` (a time this method returned) when given.

        Raises:
            redis.RedisError: Redis is unreachable.
        """
        top = "+inf" if before is None else f"({before!r}"
        raw = self._redis.zrevrangebyscore(
            self._key("orders"), top, "-inf", start=0, num=limit, withscores=True
        )
        return [(str(ref), float(score)) for ref, score in raw]  # type: ignore[str-unpack]

    # -- payments and refunds ------------------------------------------------------------

    def payment(self, provider: str, payment_id: str) -> PaymentLink | None:
        """Raises: redis.RedisError when Redis is unreachable."""
        return self._get(PaymentLink, self._key("payment", provider, payment_id))

    def save_payment(self, link: PaymentLink) -> None:
        """Raises: redis.RedisError when Redis is unreachable."""
        self._put(self._key("payment", link.provider, link.payment_id), link)

    def refund(self, provider: str, refund_id: str) -> RefundLink | None:
        """Raises: redis.RedisError when Redis is unreachable."""
        return self._get(RefundLink, self._key("refund", provider, refund_id))

    def save_refund(self, link: RefundLink) -> None:
        """Raises: redis.RedisError when Redis is unreachable."""
        self._put(self._key("refund", link.provider, link.refund_id), link)

    # -- events waiting for an order -------------------------------------------------------

    def park(self, reference: str, event_ref: str) -> None:
        """Remember that event `event_ref` waits for order `reference`'s invoice.

        Raises:
            redis.RedisError: Redis is unreachable.
        """
        key = self._key("parked", reference)
        pipe = self._redis.pipeline(transaction=True)
        pipe.sadd(key, event_ref)
        pipe.expire(key, self.retention)
        pipe.execute()

    def take_parked(self, reference: str) -> list[str]:
        """The event refs waiting for `reference`, removed from the index atomically.

        Raises:
            redis.RedisError: Redis is unreachable.
        """
        pipe = self._redis.pipeline(transaction=True)
        key = self._key("parked", reference)
        pipe.smembers(key)
        pipe.delete(key)
        members, _ = pipe.execute()
        return sorted(str(m) for m in members)
