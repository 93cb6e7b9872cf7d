"""What the providers said, kept by day for the variance report.

Every order, payment and refund the sync is about to book is noted here first, as the
provider sent it (`note_translated`, called with the translated event), so the report
compares Sage with the providers' own figures, including for an event that then failed.

Keys (under `bridge:<connection>:`):
    report:day:<YYYY-MM-DD>   hash `order:<reference>` | `payment:<provider>:<id>` |
                              `refund:<provider>:<id>` -> JSON `Fact`
    report:order:<reference>  the same facts of one order, whatever their day (an order's
                              refund may come weeks after it)

The day is the provider's date of the object (order date, payment date, refund date). An
order is noted again on each update (last one wins); a payment inferred from `orders/paid`
(no transaction) is kept apart and counted only when the order has no real payment. Each
day expires `BRIDGE_LINK_RETENTION_DAYS` after its last write.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Literal

import redis
from pydantic import BaseModel

from bridge.models import Order, Payment, Refund
from bridge.money import ZERO
from bridge.settings import Settings
from bridge.store.order_events import OrderEvents

FactKind = Literal["order", "payment", "fallback_payment", "refund"]


class Fact(BaseModel):
    """One provider figure: an order's total, a payment, a refund (gross, books' currency)."""

    kind: FactKind
    reference: str  # the order's reference (Sage salesOrderNumber)
    source: str  # the provider's id of the order, payment or refund
    day: dt.date
    amount: Decimal
    currency: str | None = None
    label: str | None = None  # "#1007 · Jane Doe" for an order
    cancelled: bool = False
    full: bool = False  # a refund that credits whatever is left (a cancellation, a void)
    event_ref: str | None = None


def order_label(order: Order) -> str:
    """How people name an order: its number and its customer (`#1007 · Jane Doe`)."""
    name = order.external_reference or order.number or order.provider_id
    if order.customer is not None and order.customer.name:
        return f"{name} · {order.customer.name}"
    return name


def refund_value(refund: Refund) -> Decimal:
    """What a refund gives back: the money returned, else (nothing moved, e.g. a
    cancellation of an unpaid order) what its lines, shipping and adjustments credit."""
    if refund.amount:
        return refund.amount
    return sum((line.amount for line in refund.lines), ZERO) + refund.shipping + refund.adjustments


def facts_of(result: object, event_ref: str | None = None) -> Iterator[Fact]:
    """The facts of a translated event (an Order, Payment, Refund or a list of them)."""
    if isinstance(result, list):
        for each in result:
            yield from facts_of(each, event_ref)
    elif isinstance(result, Order):
        yield Fact(
            kind="order",
            reference=result.reference,
            source=result.provider_id,
            day=result.date,
            amount=result.total,
            currency=result.currency,
            label=order_label(result),
            cancelled=result.cancelled,
            event_ref=event_ref,
        )
    elif isinstance(result, Payment):
        kind: FactKind = "fallback_payment" if result.fallback else "payment"
        yield Fact(
            kind=kind,
            reference=result.order_reference,
            source=result.provider_id,
            day=result.date,
            amount=result.amount,
            currency=result.currency,
            event_ref=event_ref,
        )
    elif isinstance(result, Refund):
        yield Fact(
            kind="refund",
            reference=result.order_reference,
            source=result.provider_id,
            day=result.date,
            amount=refund_value(result),
            currency=result.currency,
            full=result.full,
            event_ref=event_ref,
        )


class ProviderFacts:
    """Reads and writes the facts; see the module docstring."""

    def __init__(self, client: redis.Redis, settings: Settings) -> None:
        self._redis = client
        self._settings = settings

    def _key(self, day: dt.date) -> str:
        return self._settings.key("report", "day", day.isoformat())

    @staticmethod
    def _field(fact: Fact) -> str:
        if fact.kind == "order":
            return f"order:{fact.reference}"
        if fact.kind == "fallback_payment":
            return f"fallback_payment:{fact.reference}"
        return f"{fact.kind}:{fact.source}"

    def record(self, facts: Iterable[Fact]) -> None:
        """Keep `facts` (an order's later version replaces the earlier).

        Raises:
            redis.RedisError: Redis is unreachable.
        """
        with self._redis.pipeline(transaction=False) as pipe:
            for fact in facts:
                for key in (self._key(fact.day), self._order_key(fact.reference)):
                    pipe.hset(key, self._field(fact), fact.model_dump_json())
                    pipe.expire(key, self._settings.link_retention)
            pipe.execute()

    def _order_key(self, reference: str) -> str:
        return self._settings.key("report", "order", reference)

    def of_orders(self, references: list[str]) -> dict[str, list[Fact]]:
        """Every fact of each of `references`, whatever its day, one round trip.

        Raises:
            redis.RedisError: Redis is unreachable.
        """
        with self._redis.pipeline(transaction=False) as pipe:
            for reference in references:
                pipe.hvals(self._order_key(reference))
            pages = pipe.execute()
        return {
            ref: [Fact.model_validate_json(raw) for raw in page]
            for ref, page in zip(references, pages, strict=True)
        }

    def between(self, first: dt.date, last: dt.date) -> list[Fact]:
        """Every fact of the days `first` to `last` (inclusive), one round trip.

        Raises:
            redis.RedisError: Redis is unreachable.
        """
        days = [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]
        with self._redis.pipeline(transaction=False) as pipe:
            for day in days:
                pipe.hvals(self._key(day))
            pages = pipe.execute()
        return [Fact.model_validate_json(raw) for page in pages for raw in page]


def note_translated(
    client: redis.Redis, settings: Settings, event_ref: str, result: object
) -> None:
    """Note a translated event's facts and the orders it concerns (before its step runs).

    Raises:
        redis.RedisError: Redis is unreachable.
    """
    facts = list(facts_of(result, event_ref))
    if not facts:
        return
    ProviderFacts(client, settings).record(facts)
    events = OrderEvents(client, settings)
    for reference in {fact.reference for fact in facts}:
        events.note(reference, event_ref)
