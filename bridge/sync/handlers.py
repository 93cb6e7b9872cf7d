"""The sync's handlers: parse and translate an event, then run its step under the order lock.

Registered with `@handler(provider, topic)` (listed in `dispatch.HANDLER_MODULES`). Each
handler translates the body (pure), takes the order's lock and calls one step
(`sync_order`, `sync_payment`, `sync_refund`); connector and translation errors leave as
the dispatcher's `TransientError` / `PermanentError` (`bridge.sync.errors`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from bridge.models import NotLinked, Order, Payment, Refund
from bridge.services import Services
from bridge.store.attention import AttentionItem
from bridge.store.events import EventRecord
from bridge.sync.context import SyncContext
from bridge.sync.credit_notes import explained_refund
from bridge.sync.dispatch import Ignored, Outcome, Parked, PermanentError, Processed, handler
from bridge.sync.errors import classified
from bridge.sync.locks import OrderLock
from bridge.sync.orders import sync_order
from bridge.sync.payments import park_delay, sync_payment
from bridge.sync.refunds import sync_refund
from bridge.sync.shopify_context import refund_context, shopify_api_version
from bridge.sync.unlinked import unlinked_among
from bridge.translate import Translated, TranslationContext, translate

SHOP_HEADER = "X-Shopify-Shop-Domain"


def shopify_reference(shop_domain: str, order_id: object) -> str:
    """An order's `salesOrderNumber`: `shopify:<shop domain>:<order id>` (DESIGN.md 3)."""
    return f"shopify:{shop_domain}:{order_id}"


def _body(event: EventRecord) -> dict[str, Any]:
    try:
        data = json.loads(event.body)
    except json.JSONDecodeError as exc:
        raise PermanentError(f"{event.ref}: the body is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise PermanentError(f"{event.ref}: the body is not a JSON object")
    return data


def book_vat_rates(fallback_products: dict[str, str]) -> tuple[Decimal, ...]:
    """The VAT rates the books know: those of `BRIDGE_FALLBACK_PRODUCTS` (a key that is not
    a number names no rate)."""
    rates = []
    for key in fallback_products:
        try:
            rates.append(Decimal(key))
        except ArithmeticError:
            continue
    return tuple(r for r in rates if r.is_finite())


def _parked_before(event: EventRecord) -> int:
    return sum(1 for a in event.attempts if a.outcome == "parked")


def _locked(services: Services, reference: str, step: Callable[[SyncContext], Outcome]) -> Outcome:
    lock = OrderLock(services.redis, services.settings.key("lock", "order", reference))
    with lock:
        return step(SyncContext.build(services, lock))


def _context(event: EventRecord, services: Services, **extra: Any) -> TranslationContext:
    return TranslationContext(
        shop_domain=event.headers.get(SHOP_HEADER),
        tolerance=services.settings.rounding_tolerance,
        vat_rates=book_vat_rates(services.settings.fallback_products),
        api_version=shopify_api_version(event),
        **extra,
    )


def _dispatch(event: EventRecord, services: Services, result: Translated) -> Outcome:
    """Run the step for a translated result (None means nothing to do)."""
    parked = _parked_before(event)
    if result is None:
        return Ignored(f"{event.topic}: nothing to book")
    if isinstance(result, Order):
        order = result
        return _locked(services, order.reference, lambda ctx: sync_order(ctx, order))
    if isinstance(result, Payment):
        payment = result
        return _locked(
            services,
            payment.order_reference,
            lambda ctx: sync_payment(ctx, payment, event.ref, parked),
        )
    if isinstance(result, Refund):
        refund = result
        return _locked(
            services,
            refund.order_reference,
            lambda ctx: sync_refund(ctx, refund, event.ref, parked),
        )
    outcomes = [_dispatch(event, services, each) for each in result]
    return next((o for o in outcomes if not isinstance(o, Processed)), Processed("payments"))


def handle(event: EventRecord, services: Services) -> Outcome:
    """Translate and book one order, payment or refund event.

    Raises:
        TransientError: Sage or the lock may let it through later.
        PermanentError: the payload or Sage refuses it for good.
    """
    with classified(f"{event.provider} {event.topic} {event.ref}"):
        body = _body(event)
        context = _context(event, services)
        result = translate(event.provider, event.topic, body, context)
        return _dispatch(event, services, result)


def handle_shopify_refund(event: EventRecord, services: Services) -> Outcome:
    """`refunds/create`: translated with the order's `taxes_included`, currencies and totals
    from its snapshot (Markets refunds are reported in the presentment currency).

    Raises:
        TransientError, PermanentError: as `handle`.
    """
    with classified(f"shopify {event.topic} {event.ref}"):
        body = _body(event)
        context = _context(event, services)
        order_id = body.get("order_id")
        if context.shop_domain and order_id is not None:
            link = services.links.order(shopify_reference(context.shop_domain, order_id))
            if link is not None and link.order is not None:
                context = _context(event, services, **refund_context(link.order))
        result = translate(event.provider, event.topic, body, context)
        return _dispatch(event, services, result)


def handle_stripe_refund(event: EventRecord, services: Services) -> Outcome:
    """`charge.refunded` / `refund.created`: the order is found through the payment link
    when the refund's metadata does not name it. A refund of a payment not booked yet (and
    naming no order) is parked, like a payment before its order, and tried again later.

    Raises:
        TransientError, PermanentError: as `handle`.
    """
    with classified(f"stripe {event.topic} {event.ref}"):
        body = _body(event)
        data = body.get("data")
        obj = data.get("object") if isinstance(data, dict) else body
        reference = None
        if isinstance(obj, dict):
            for key in ("payment_intent", "charge", "id"):
                value = obj.get(key)
                link = services.links.payment("stripe", value) if isinstance(value, str) else None
                if link is not None:
                    reference = link.order_reference
                    break
        explained = explained_refund(services, obj, reference)
        if explained is not None:
            return Ignored(explained)
        context = _context(event, services, order_reference=reference)
        try:
            result = translate(event.provider, event.topic, body, context)
        except NotLinked as exc:
            # Stripe does not promise order: the refund may come before its payment.
            payment = _payment_named(obj)
            if reference is not None or payment is None:
                raise
            fields = obj if isinstance(obj, dict) else {}
            ids = [v for k in ("payment_intent", "charge") if isinstance(v := fields.get(k), str)]
            if (unlinked := unlinked_among(services, "stripe", ids)) is not None:
                return Ignored(f"{exc}; its payment {unlinked} was ignored as unlinked")
            why = f"{exc}; its payment {payment} is not booked yet, waiting for it"
            return Parked(park_delay(_parked_before(event)), why)
        return _dispatch(event, services, result)


def _payment_named(obj: object) -> str | None:
    """The PaymentIntent or Charge id a Stripe refund (or refunded charge) belongs to."""
    fields = obj if isinstance(obj, dict) else {}
    for key in ("payment_intent", "charge", "id"):
        value = fields.get(key)
        if isinstance(value, str) and value.startswith(("pi_", "ch_", "py_")):
            return value
    return None


def handle_dispute(event: EventRecord, services: Services) -> Outcome:
    """`charge.dispute.created`: an alert for a person (nothing is booked).

    Raises:
        PermanentError: the body is not JSON.
    """
    body = _body(event)
    data = body.get("data")
    obj = data.get("object") if isinstance(data, dict) else {}
    obj = obj if isinstance(obj, dict) else {}
    amount = obj.get("amount")
    services.attention.add(
        AttentionItem(
            id=f"dispute:{obj.get('id') or event.provider_id}",
            kind="dispute",
            reason=f"Stripe dispute on charge {obj.get('charge')}: {obj.get('reason')} "
            f"({amount} {obj.get('currency')} in minor units)",
            source=str(obj.get("id") or event.provider_id),
        )
    )
    return Processed("dispute recorded for attention")


for _topic in (
    "orders/create",
    "orders/updated",
    "orders/edited",
    "orders/paid",
    "orders/cancelled",
    "order_transactions/create",
):
    handler("shopify", _topic)(handle)
handler("shopify", "refunds/create")(handle_shopify_refund)
for _topic in ("invoice.paid", "invoice.finalized"):
    handler("stripe", _topic)(handle)
# payment_intent.succeeded, charge.succeeded, invoice_payment.paid: bridge.sync.stripe_payments
for _topic in ("charge.refunded", "refund.created"):
    handler("stripe", _topic)(handle_stripe_refund)
handler("stripe", "charge.dispute.created")(handle_dispute)
