"""Running one inbound event: parse its body, translate it, run its step under the order lock.

Shared by the providers' handlers (`bridge.sync.shopify.handlers`,
`bridge.sync.stripe.handlers`, `bridge.sync.stripe.payments`): each translates the body
(pure), takes the order's lock and calls one step (`sync_order`, `sync_payment`,
`sync_refund`, `sync_order_edit`); connector and translation errors leave as the dispatcher's
`TransientError` / `PermanentError` (`bridge.sync.errors`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from bridge.models import Order, OrderEdit, Payment, Refund
from bridge.reports.facts import note_translated
from bridge.services import Services
from bridge.settings import Settings
from bridge.store.events import EventRecord
from bridge.sync.context import SyncContext
from bridge.sync.dispatch import Ignored, Outcome, PermanentError, Processed
from bridge.sync.errors import classified
from bridge.sync.golive import skip_follower, skip_order
from bridge.sync.locks import OrderLock
from bridge.sync.order_edits import refund_target, sync_order_edit
from bridge.sync.orders import sync_order
from bridge.sync.payments import sync_payment
from bridge.sync.refunds import sync_refund
from bridge.sync.shopify.context import shopify_api_version
from bridge.sync.taxes import fallback_products
from bridge.translate import Translated, TranslationContext, translate

SHOP_HEADER = "X-Shopify-Shop-Domain"


def event_body(event: EventRecord) -> dict[str, Any]:
    """The event's body as a JSON object.

    Raises:
        PermanentError: the body is not JSON, or not an object.
    """
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


def parked_before(event: EventRecord) -> int:
    """How many times this event was parked already (a park's delay grows with it)."""
    return sum(1 for a in event.attempts if a.outcome == "parked")


def run_locked(
    services: Services, reference: str, step: Callable[[SyncContext], Outcome]
) -> Outcome:
    """Run `step` under the lock of the order `reference`."""
    lock = OrderLock(services.redis, services.settings.key("lock", "order", reference))
    with lock:
        return step(SyncContext.build(services, lock))


def canonical_shop(headers: Mapping[str, str], settings: Settings) -> str | None:
    """The shop an event's references and dedupe keys are built on: the connection's own
    (its registered domain, or `SHOPIFY_SHOP_DOMAIN` for the environment's), lowercased;
    only when none is configured the delivery's `X-Shopify-Shop-Domain`, lowercased.

    Never the header as sent: the signature covers the body only, so a replayed delivery
    with `SHOP-A.MyShopify.com` must land on the same order as `shop-a.myshopify.com`.
    """
    own = (settings.shopify_shop_domain or "").strip().lower()
    if own:
        return own
    given = (headers.get(SHOP_HEADER) or "").strip().lower()
    return given or None


def _fallbacks(event: EventRecord, services: Services) -> dict[str, str]:
    """The books' fallback products: BRIDGE_FALLBACK_PRODUCTS, else (for Stripe, whose
    derived rates are checked against them) those of the organisation's legislation."""
    settings = services.settings
    if event.provider != "stripe" or "fallback_products" in settings.model_fields_set:
        return settings.fallback_products
    return fallback_products(settings, services.sage.legislation())


def translation_context(event: EventRecord, services: Services, **extra: Any) -> TranslationContext:
    """What a translation needs besides the body: shop, tolerance, the books' rates."""
    return TranslationContext(
        shop_domain=canonical_shop(event.headers, services.settings),
        tolerance=services.settings.rounding_tolerance,
        vat_rates=book_vat_rates(_fallbacks(event, services)),
        api_version=shopify_api_version(event),
        vat_attributes=frozenset(services.settings.shopify_vat_attributes),
        siret_attributes=frozenset(services.settings.shopify_siret_attributes),
        **extra,
    )


def run_translated(event: EventRecord, services: Services, result: Translated) -> Outcome:
    """Run the step for a translated result (None means nothing to do)."""
    parked = parked_before(event)
    if result is None:
        return Ignored(f"{event.topic}: nothing to book")
    if isinstance(result, Order):
        order = result
        skipped = skip_order(services, order)
        if skipped is not None:
            return skipped
        note_translated(services.redis, services.settings, event.ref, order)
        return run_locked(services, order.reference, lambda ctx: sync_order(ctx, order))
    if isinstance(result, Payment | Refund):
        skipped_follower = skip_follower(services, result)
        if skipped_follower is not None:
            return skipped_follower
        note_translated(services.redis, services.settings, event.ref, result)
    if isinstance(result, Payment):
        payment = result
        return run_locked(
            services,
            payment.order_reference,
            lambda ctx: sync_payment(ctx, payment, event.ref, parked),
        )
    if isinstance(result, Refund):
        refund = result
        return run_locked(
            services,
            refund.order_reference,
            lambda ctx: sync_refund(ctx, refund_target(ctx, refund), event.ref, parked),
        )
    if isinstance(result, OrderEdit):
        edit = result
        return run_locked(
            services,
            edit.order_reference,
            lambda ctx: sync_order_edit(ctx, edit, event.ref, parked),
        )
    outcomes = [run_translated(event, services, each) for each in result]
    return next((o for o in outcomes if not isinstance(o, Processed)), Processed("payments"))


def handle(event: EventRecord, services: Services) -> Outcome:
    """Translate and book one order, payment or refund event.

    Raises:
        TransientError: Sage or the lock may let it through later.
        PermanentError: the payload or Sage refuses it for good.
    """
    with classified(f"{event.provider} {event.topic} {event.ref}"):
        body = event_body(event)
        context = translation_context(event, services)
        result = translate(event.provider, event.topic, body, context)
        return run_translated(event, services, result)
