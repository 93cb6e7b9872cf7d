"""The go-live date (`BRIDGE_START_DATE`, per connection): what happened before it is the
accountant's, booked by hand before the bridge was connected.

An order dated before the go-live date is never invoiced, whichever event brings it
(`orders/create`, a late `orders/updated`, a backfill): its event is recorded `ignored`
with the reason, and the order is remembered as "before go-live". A payment or refund of
such an order is `ignored` too, and listed as an attention item of kind `before_go_live`
(amount, gateway, provider id), so that the accountant books it by hand; so is a payment or
refund itself dated before the go-live date whose order the bridge never invoiced (its
order is older still, and its event may never come). An order the bridge invoiced before
the date was set keeps being served: only orders without an invoice are skipped.

Keys (under `bridge:<connection>:`): `golive:order:<reference>` -> JSON `BeforeStart`,
kept `BRIDGE_LINK_RETENTION_DAYS` like the links.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel

from bridge.models import Order, Payment, Refund
from bridge.services import Services
from bridge.store.attention import AttentionItem
from bridge.sync.dispatch import Ignored

KIND = "before_go_live"


class BeforeStart(BaseModel):
    """An order the bridge left to the accountant: dated before the go-live date."""

    reference: str
    number: str
    date: dt.date
    start_date: dt.date
    inferred: bool = False  # dated by its payment or refund (the order never came)


def _key(services: Services, reference: str) -> str:
    return services.settings.key("golive", "order", reference)


def before_start(services: Services, reference: str) -> BeforeStart | None:
    """The record of order `reference` if it was skipped as older than the go-live date.

    Raises:
        redis.RedisError: Redis is unreachable.
    """
    raw = services.redis.get(_key(services, reference))
    return BeforeStart.model_validate_json(raw) if raw else None


def skip_order(services: Services, order: Order) -> Ignored | None:
    """`Ignored` when `order` is dated before the go-live date and has no invoice yet
    (it is then remembered, for its payments and refunds); None to book it.

    Raises:
        redis.RedisError: Redis is unreachable.
    """
    start = services.settings.start_date
    if start is None or order.date >= start:
        return None
    link = services.links.order(order.reference)
    if link is not None and link.invoice_id:
        return None  # invoiced before the date was set: keep it whole
    record = BeforeStart(
        reference=order.reference, number=order.number, date=order.date, start_date=start
    )
    services.redis.set(
        _key(services, order.reference),
        record.model_dump_json(),
        ex=services.settings.link_retention,
    )
    return Ignored(
        f"order {order.number or order.reference} is dated {order.date}, before the go-live "
        f"date {start} (BRIDGE_START_DATE): not invoiced; it belongs to the books kept by hand"
    )


def skip_follower(services: Services, follower: Payment | Refund) -> Ignored | None:
    """`Ignored` (and an attention item to book it by hand) when the order of a payment
    or refund was skipped as older than the go-live date; None otherwise.

    Raises:
        redis.RedisError: Redis is unreachable.
    """
    start = services.settings.start_date
    if start is None:
        return None  # no go-live date (any more): every order is the bridge's
    record = before_start(services, follower.order_reference)
    if record is None and follower.date < start:
        # Itself dated before the go-live date, so is its order, whose event may never
        # come (a missed webhook): unless the bridge invoiced that order, it is not ours.
        link = services.links.order(follower.order_reference)
        if link is None or not link.invoice_id:
            number = link.order.number if link and link.order else follower.order_reference
            record = BeforeStart(
                reference=follower.order_reference,
                number=number,
                date=follower.date,
                start_date=start,
                inferred=True,
            )
    if record is None:
        return None
    currency: str | None
    if isinstance(follower, Payment):
        what = f"payment {follower.provider_id} ({follower.gateway}) of {follower.amount} "
        what += follower.currency
        entry = "record the receipt against the customer's open item (or the bank)"
        amount, currency, verb = follower.amount, follower.currency, "payment"
    else:
        gateways = ", ".join(follower.gateways) or "no money moved"
        what = f"refund {follower.provider_id} ({gateways}) of {follower.amount}"
        what += f" {follower.currency}" if follower.currency else ""
        entry = "make the credit note (and the refund payment) on the invoice booked by hand"
        amount, currency, verb = follower.amount, follower.currency, "refund"
    reason = (
        f"{what} for order {record.number} "
        + (f"(dated {record.date} or earlier)" if record.inferred else f"dated {record.date}")
        + f", before the go-live date {record.start_date}: not booked by the bridge; "
        f"{entry} in Sage"
    )
    services.attention.add(
        AttentionItem(
            id=f"{KIND}:{follower.provider}:{follower.provider_id}",
            kind=KIND,
            order_reference=follower.order_reference,
            amount=amount,
            currency=currency,
            reason=reason,
            source=f"{verb} {follower.provider_id}",
        )
    )
    return Ignored(reason)
