"""Pure translation of provider payloads into the neutral models, behind one entry point.

`translate(provider, topic, payload, context)` parses the webhook body into the provider's
payload model and calls the matching translator:

| provider | topic | result |
| --- | --- | --- |
| shopify | `orders/create`, `orders/updated` | `Order` |
| shopify | `orders/edited` | `OrderEdit` (the edit only: see below) |
| shopify | `orders/paid` | `list[Payment]` (fallback, see `payments_from_paid_order`) |
| shopify | `orders/cancelled` | `Refund(full=True)` or None |
| shopify | `order_transactions/create` | `Payment` or None |
| shopify | `refunds/create` | `Refund` |
| stripe | `invoice.paid`, `invoice.finalized` | `Order` |
| stripe | `invoice_payment.paid` | `Payment` (None: not paid) |
| stripe | `payment_intent.succeeded`, `charge.succeeded` | `Payment` (None: uncaptured) |
| stripe | `charge.refunded`, `refund.created` | `Refund` (None: refunds not listed) |
| stripe | `checkout.session.completed`, `...async_payment_succeeded` | `Order` (None: no sale) |
| stripe | `credit_note.created` | `Refund` (its `provider_id` is the `cn_...` id) |

Any other topic gives None (record, acknowledge, ignore). Shopify's `orders/edited` body
is only the edit (`{"order_edit": ...}`): the lines it added and removed; Shopify follows
every edit with an `orders/updated` carrying the whole order, which prices them.
Stripe payloads may be the whole event or its `data.object`; the event's `account`
(Connect) wins over `context.account`, and its `api_version` over `context.api_version`
(each Stripe event is read in its own version's shapes).

A Checkout Session needs its line items in `context.checkout_line_items`: events never
carry them, the sync reads them from Stripe's API (`bridge.sync.stripe.checkout`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from bridge.models import Order, OrderEdit, Payment, Presentment, Refund, TranslationError
from bridge.translate.markets import OrderMoney
from bridge.translate.shopify import edits as shopify_edits
from bridge.translate.shopify import orders as shopify
from bridge.translate.shopify import parts as shopify_parts
from bridge.translate.stripe import checkout as stripe_checkout
from bridge.translate.stripe import credit_note as stripe_credit_note
from bridge.translate.stripe import objects as stripe
from bridge.translate.stripe.taxes import DEFAULT_VAT_RATES
from connectors.shopify import payloads as sp
from connectors.stripe import checkout as co
from connectors.stripe import payloads as st

M = TypeVar("M", bound=BaseModel)
Translated = Order | Payment | Refund | OrderEdit | list[Payment] | None


@dataclass(frozen=True)
class TranslationContext:
    """What translation needs besides the payload, passed explicitly (no settings)."""

    shop_domain: str | None = None
    account: str = "default"
    tolerance: Decimal = Decimal("0.05")
    # Shopify refunds: the order's taxes_included flag (the refund payload lacks it).
    taxes_included: bool = False
    # Stripe refunds and payments without metadata: the order found by the caller
    # (payment link).
    order_reference: str | None = None
    # The API version of the payload's shapes: Shopify's `X-Shopify-API-Version`; for
    # Stripe the event's own `api_version` wins.
    api_version: str | None = None
    # The books' VAT rates (BRIDGE_FALLBACK_PRODUCTS): a Stripe tax rate derived from the
    # amounts must be one of them.
    vat_rates: tuple[Decimal, ...] = DEFAULT_VAT_RATES
    # Stripe Checkout: the session's line items, read from Stripe's API by the caller.
    checkout_line_items: Sequence[Mapping[str, Any]] | None = None
    # Shopify refunds: the booked order's shop currency and total, and its presentment
    # currency and total (Markets), to book money reported in the presentment currency.
    order_currency: str | None = None
    order_total: Decimal | None = None
    presentment_currency: str | None = None
    presentment_total: Decimal | None = None
    # Shopify: the note attributes that carry a buyer's VAT id and SIRET (lower case).
    vat_attributes: frozenset[str] = shopify_parts.VAT_ATTRIBUTES
    siret_attributes: frozenset[str] = shopify_parts.SIRET_ATTRIBUTES

    def order_money(self) -> OrderMoney | None:
        """The order's currencies and totals, when the caller knows the order."""
        if self.order_currency is None or self.order_total is None:
            return None
        shown = None
        if self.presentment_currency is not None and self.presentment_total is not None:
            shown = Presentment(currency=self.presentment_currency, total=self.presentment_total)
        return OrderMoney(self.order_currency, self.order_total, shown)


def _parse(model: type[M], payload: Mapping[str, Any], where: str) -> M:
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        details = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}"
            for err in exc.errors()[:5]
        )
        raise TranslationError(
            f"{where}: payload is not a valid {model.__name__}: {details}"
        ) from exc


def _shopify(topic: str, payload: Mapping[str, Any], ctx: TranslationContext) -> Translated:
    if not ctx.shop_domain:
        raise TranslationError(f"shopify {topic}: the shop domain is unknown")
    shop, where = ctx.shop_domain, f"shopify {topic}"
    if topic in {"orders/create", "orders/updated", "orders/edited"}:
        if "order_edit" in payload:
            edited = _parse(sp.OrderEdited, payload, where)
            return shopify_edits.edit_from_shopify(edited, shop_domain=shop)
        order = _parse(sp.ShopifyOrder, payload, where)
        return shopify.order_from_shopify(
            order,
            shop_domain=shop,
            tolerance=ctx.tolerance,
            vat_attributes=ctx.vat_attributes,
            siret_attributes=ctx.siret_attributes,
        )
    if topic == "orders/paid":
        order = _parse(sp.ShopifyOrder, payload, where)
        return shopify.payments_from_paid_order(order, shop_domain=shop)
    if topic == "orders/cancelled":
        order = _parse(sp.ShopifyOrder, payload, where)
        return shopify.refund_from_cancelled_order(order, shop_domain=shop)
    if topic == "order_transactions/create":
        tx = _parse(sp.ShopifyTransaction, payload, where)
        return shopify.payment_from_shopify_transaction(tx, shop_domain=shop)
    if topic == "refunds/create":
        refund = _parse(sp.ShopifyRefund, payload, where)
        return shopify.refund_from_shopify(
            refund, shop_domain=shop, taxes_included=ctx.taxes_included, money=ctx.order_money()
        )
    return None


def _stripe_charge_payment(obj: Mapping[str, Any], ctx: TranslationContext) -> Translated:
    charge = _parse(st.StripeCharge, obj, "stripe charge.succeeded")
    if not charge.captured:
        return None  # an authorisation only: the capture brings the money
    return stripe.payment_from_stripe(
        charge, account=ctx.account, order_reference=ctx.order_reference
    )


def _stripe_charge_refund(obj: Mapping[str, Any], ctx: TranslationContext) -> Translated:
    charge = _parse(st.StripeCharge, obj, "stripe charge.refunded")
    if stripe.latest_refund(charge) is None:
        return None  # recent API versions do not list refunds: refund.created carries it
    return stripe.refund_from_stripe(
        charge, account=ctx.account, order_reference=ctx.order_reference
    )


def _stripe_checkout(obj: Mapping[str, Any], ctx: TranslationContext) -> Translated:
    where = "stripe checkout.session"
    session = _parse(co.CheckoutSession, obj, where)
    if stripe_checkout.skip_reason(session) is not None:
        return None
    if ctx.checkout_line_items is None:
        raise TranslationError(f"{where} {session.id}: its line items were not read from Stripe")
    items = [
        _parse(co.CheckoutLineItem, item, f"{where} line item") for item in ctx.checkout_line_items
    ]
    return stripe_checkout.order_from_checkout_session(
        session, items, account=ctx.account, tolerance=ctx.tolerance
    )


_STRIPE: dict[str, Callable[[Mapping[str, Any], TranslationContext], Translated]] = {
    "invoice.paid": lambda o, c: stripe.order_from_stripe_invoice(
        _parse(st.StripeInvoice, o, "stripe invoice"),
        account=c.account,
        tolerance=c.tolerance,
        api_version=c.api_version,
        vat_rates=c.vat_rates,
    ),
    "invoice_payment.paid": lambda o, c: stripe.payment_from_invoice_payment(
        _parse(st.StripeInvoicePayment, o, "stripe invoice_payment.paid"), account=c.account
    ),
    "payment_intent.succeeded": lambda o, c: stripe.payment_from_stripe(
        _parse(st.StripePaymentIntent, o, "stripe payment_intent.succeeded"),
        account=c.account,
        order_reference=c.order_reference,
    ),
    "charge.succeeded": _stripe_charge_payment,
    "charge.refunded": _stripe_charge_refund,
    "refund.created": lambda o, c: stripe.refund_from_stripe(
        _parse(st.StripeRefund, o, "stripe refund.created"),
        account=c.account,
        order_reference=c.order_reference,
    ),
}
_STRIPE["invoice.finalized"] = _STRIPE["invoice.paid"]
_STRIPE["checkout.session.completed"] = _stripe_checkout
_STRIPE["checkout.session.async_payment_succeeded"] = _stripe_checkout
_STRIPE["credit_note.created"] = lambda o, c: stripe_credit_note.refund_from_credit_note(
    _parse(co.CreditNote, o, "stripe credit_note.created"), account=c.account
)


def _stripe(topic: str, payload: Mapping[str, Any], ctx: TranslationContext) -> Translated:
    handler = _STRIPE.get(topic)
    if handler is None:
        return None
    obj: Any = payload
    if payload.get("object") == "event":
        data = payload.get("data")
        obj = data.get("object") if isinstance(data, Mapping) else None
        account = payload.get("account")
        if isinstance(account, str) and account:
            ctx = replace(ctx, account=account)
        version = payload.get("api_version")
        if isinstance(version, str) and version:
            ctx = replace(ctx, api_version=version)
    if not isinstance(obj, Mapping):
        raise TranslationError(f"stripe {topic}: the event has no data.object")
    return handler(obj, ctx)


def translate(
    provider: str, topic: str, payload: Mapping[str, Any], context: TranslationContext
) -> Translated:
    """The neutral model(s) for one provider webhook body (see the module table).

    Raises:
        TranslationError: the payload does not parse, or cannot become a correct model
            (the message says which field and why).
    """
    if provider == "shopify":
        return _shopify(topic, payload, context)
    if provider == "stripe":
        return _stripe(topic, payload, context)
    raise TranslationError(f"unknown provider {provider!r}")


__all__ = ["Translated", "TranslationContext", "TranslationError", "translate"]
