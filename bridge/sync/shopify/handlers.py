"""Shopify's handlers: orders, transactions and refunds (listed in `HANDLER_MODULES`)."""

from __future__ import annotations

from bridge.models import Order
from bridge.services import Services
from bridge.store.events import EventRecord
from bridge.sync.dispatch import Outcome, handler
from bridge.sync.errors import classified
from bridge.sync.running import event_body, handle, run_translated, translation_context
from bridge.sync.shopify.companies import complete_b2b_order
from bridge.sync.shopify.context import refund_context
from bridge.translate import translate


def shopify_reference(shop_domain: str, order_id: object) -> str:
    """An order's `salesOrderNumber`: `shopify:<shop domain>:<order id>` (DESIGN.md 3)."""
    return f"shopify:{shop_domain}:{order_id}"


def handle_shopify_refund(event: EventRecord, services: Services) -> Outcome:
    """`refunds/create`: translated with the order's `taxes_included`, currencies and totals
    from its snapshot (Markets refunds are reported in the presentment currency).

    Raises:
        TransientError, PermanentError: as `bridge.sync.running.handle`.
    """
    with classified(f"shopify {event.topic} {event.ref}"):
        body = event_body(event)
        context = translation_context(event, services)
        order_id = body.get("order_id")
        if context.shop_domain and order_id is not None:
            link = services.links.order(shopify_reference(context.shop_domain, order_id))
            if link is not None and link.order is not None:
                context = translation_context(event, services, **refund_context(link.order))
        result = translate(event.provider, event.topic, body, context)
        return run_translated(event, services, result)


def handle_shopify_order(event: EventRecord, services: Services) -> Outcome:
    """`orders/create`, `orders/updated`: a B2B order's buyer completed from its company
    location (`bridge.sync.shopify.companies`) before it is booked.

    Raises:
        TransientError, PermanentError: as `bridge.sync.running.handle`.
    """
    with classified(f"shopify {event.topic} {event.ref}"):
        body = event_body(event)
        result = translate(event.provider, event.topic, body, translation_context(event, services))
        if isinstance(result, Order):
            result = complete_b2b_order(services.settings, result)
        return run_translated(event, services, result)


for _topic in (
    "orders/edited",
    "orders/paid",
    "orders/cancelled",
    "order_transactions/create",
):
    handler("shopify", _topic)(handle)
handler("shopify", "refunds/create")(handle_shopify_refund)
handler("shopify", "orders/create")(handle_shopify_order)
handler("shopify", "orders/updated")(handle_shopify_order)
