"""Shopify payloads -> neutral Order / Payment / Refund (pure: no I/O, no clock, no settings).

Choices (DESIGN.md section 4):
- Amounts are the shop currency's (`*_set.shop_money`); the order's currency is the shop's.
  A Markets order also keeps its presentment currency and total (`Order.presentment`):
  payments reported only in that currency are converted by the sync at the order's ratio
  (`bridge.translate.markets`), refunds here when the caller passes the order's money.
- Discounts: Shopify already allocates every discount application (line-level and
  order-level "across" codes) to lines in `discount_allocations`, by share; those
  allocations are what reduce each line (see `bridge.translate.common`).
- A line's VAT rate is the sum of its tax line rates; a line with no tax charged (tax
  exempt customer, export, gift card) is at 0 %. A gift card sold is a 0 % `gift_card`
  line (its own product, not revenue); a gift card used to pay is only a gateway
  (`gift_card`). A tip line item (it carries `tip_payment_gateway`) is a `tip` line.
- Duties, additional fees, a tip known only from `total_tip_received` and cash rounding
  become their own lines (`bridge.translate.shopify.extras`).
- Every supported API version's payload is read alike (new fields are ignored): the
  version (`TranslationContext.api_version`) needs no branch today.
- Shipping lines with a price become `shipping` lines (no SKU: the caller maps them to the
  shipping product); free shipping rates (price 0) add no line.
- Dates are the calendar date in the offset Shopify sent (the shop's time zone).
- A customer without a Shopify customer record is a guest (`provider_id=None`), kept with
  its billing name so the invoice stays readable; no customer at all gives `None`.
"""

from __future__ import annotations

from decimal import Decimal

from bridge.models import LineKind, Order, Payment, Refund, RefundLine
from bridge.money import ZERO, round_cents
from bridge.translate.common import LineSet, normalise_gateway, percent_from_fraction, settle_total
from bridge.translate.markets import OrderMoney
from bridge.translate.shopify import extras
from bridge.translate.shopify.parts import (
    SIRET_ATTRIBUTES,
    VAT_ATTRIBUTES,
    allocated,
    order_reference,
    party,
    refund_money,
    refunded_charges,
    shop_amount,
    shop_currency,
    sold_quantity,
    transaction_money,
    vat_rate,
)
from connectors.shopify import payloads as sp

PAID_STATUSES = frozenset({"paid", "partially_refunded", "refunded"})
# A cancelled order in these states kept no money: the whole invoice is credited.
CANCEL_CREDIT_STATUSES = frozenset({"refunded", "voided", "pending", "authorized", "expired"})
PAYMENT_KINDS = frozenset({"sale", "capture"})


def _kind(item: sp.LineItem) -> LineKind:
    if item.is_tip:
        return LineKind.TIP
    return LineKind.GIFT_CARD if item.gift_card else LineKind.PRODUCT


def _add_product(
    lines: LineSet, item: sp.LineItem, taxes_included: bool, quantity: int | None = None
) -> None:
    what = f"line item {item.id}"
    quantity = item.quantity if quantity is None else quantity
    if quantity == 0:
        return
    discount = allocated(item.discount_allocations, what)
    if quantity != item.quantity:  # an edit removed units: their share of the discounts too
        discount = round_cents(discount * quantity / item.quantity)
    gross_before = quantity * shop_amount(item.price, item.price_set, what)
    rate = vat_rate(item.tax_lines, item.taxable and not item.gift_card, what)
    if gross_before - discount == 0 and item.tax_lines:
        rate = percent_from_fraction(sum((t.rate for t in item.tax_lines), ZERO))
    lines.add(
        kind=_kind(item),
        title=item.name or item.title,
        sku=item.sku or None,
        provider_line_id=str(item.id),
        quantity=Decimal(quantity),
        amount=gross_before,
        discount=discount,
        vat_rate=rate,
        taxes_included=taxes_included,
    )


def _add_shipping(lines: LineSet, ship: sp.ShippingLine, taxes_included: bool) -> None:
    what = f"shipping line {ship.id}"
    price = shop_amount(ship.price, ship.price_set, what)
    if price == 0:
        return
    discount = allocated(ship.discount_allocations, what)
    rate = vat_rate(ship.tax_lines, True, what)
    if price - discount == 0 and ship.tax_lines:
        rate = percent_from_fraction(sum((t.rate for t in ship.tax_lines), ZERO))
    lines.add(
        kind=LineKind.SHIPPING,
        title=ship.title,
        provider_line_id=str(ship.id),
        quantity=Decimal(1),
        amount=price,
        discount=discount,
        vat_rate=rate,
        taxes_included=taxes_included,
    )


def _country(address: sp.Address | None) -> str | None:
    code = (address.country_code or "").upper() if address else ""
    return code if len(code) == 2 and code.isalpha() else None


def order_from_shopify(
    payload: sp.ShopifyOrder,
    *,
    shop_domain: str,
    tolerance: Decimal,
    vat_attributes: frozenset[str] = VAT_ATTRIBUTES,
    siret_attributes: frozenset[str] = SIRET_ATTRIBUTES,
) -> Order:
    """The neutral Order for a Shopify order payload (`party` names the note attributes
    read for the buyer's VAT id and SIRET).

    Raises:
        TranslationError: an amount is missing, a discount exceeds its line, or the lines
            miss `total_price` by more than `tolerance` (the message names the order and
            both totals).
    """
    what = f"Shopify order {payload.name} ({payload.id})"
    taxes_included = payload.taxes_included
    built = LineSet()
    for item in payload.line_items:
        _add_product(built, item, taxes_included, sold_quantity(item, payload))
    for ship in payload.shipping_lines:
        _add_shipping(built, ship, taxes_included)
    total = shop_amount(payload.total_price, payload.total_price_set, f"{what} total_price")
    currency = shop_currency(payload)
    shown = extras.presentment(payload, currency, extras.cash_rounding(payload)[1])
    total += extras.add_extras(built, payload, total, shown)
    lines, rounding = settle_total(
        built.lines, total, currency=currency, tolerance=tolerance, what=what
    )
    return Order(
        provider="shopify",
        account=shop_domain,
        provider_id=str(payload.id),
        number=payload.name,
        reference=order_reference(shop_domain, payload.id),
        external_reference=payload.name[:20],
        source_number=None,
        currency=currency,
        date=(payload.processed_at or payload.created_at).date(),
        customer=party(payload, vat_attributes, siret_attributes),
        lines=lines,
        total=total,
        rounding=rounding,
        taxes_included=taxes_included,
        gateways=[normalise_gateway(name) for name in payload.payment_gateway_names],
        cancelled=payload.cancelled_at is not None,
        fulfilled=payload.fulfillment_status == "fulfilled",
        paid=payload.financial_status in PAID_STATUSES,
        presentment=shown,
        ship_to_country=_country(payload.shipping_address),
    )


def payment_from_shopify_transaction(
    tx: sp.ShopifyTransaction, *, shop_domain: str
) -> Payment | None:
    """The Payment for a successful `sale` or `capture`; None for any other transaction.

    Uses the shop-currency amount when Shopify sends it (`transaction_money`); otherwise
    the Payment is in the presentment currency and the sync converts it with the order's
    ratio (`bridge.translate.markets`), which needs what the order was already paid.
    """
    if tx.kind not in PAYMENT_KINDS or tx.status != "success":
        return None
    amount, currency, shown = transaction_money(tx)
    if amount <= 0:
        return None
    return Payment(
        provider="shopify",
        account=shop_domain,
        provider_id=str(tx.id),
        order_reference=order_reference(shop_domain, tx.order_id),
        amount=amount,
        currency=currency,
        gateway=normalise_gateway(tx.gateway),
        date=(tx.processed_at or tx.created_at).date(),
        shown=shown,
    )


def payments_from_paid_order(payload: sp.ShopifyOrder, *, shop_domain: str) -> list[Payment]:
    """The fallback payment for `orders/paid`, which carries no transaction.

    One Payment of `total_price - total_outstanding` (what the customer has paid), with
    id `paid:<order id>` and `fallback=True` so the sync settles it only when no
    transaction has been settled for the order. Its gateway is the first non gift card
    gateway of the order (the split between gateways is unknown without transactions).
    Nothing is returned when nothing was paid.
    """
    total = shop_amount(payload.total_price, payload.total_price_set, f"order {payload.id} total")
    paid = total - (payload.total_outstanding or ZERO)
    if paid <= 0 or payload.financial_status not in PAID_STATUSES:
        return []
    gateways = [normalise_gateway(name) for name in payload.payment_gateway_names]
    gateway = next((g for g in gateways if g != "gift_card"), gateways[0] if gateways else None)
    return [
        Payment(
            provider="shopify",
            account=shop_domain,
            provider_id=f"paid:{payload.id}",
            order_reference=order_reference(shop_domain, payload.id),
            amount=paid,
            currency=shop_currency(payload),
            gateway=gateway or "manual",
            date=(payload.processed_at or payload.created_at).date(),
            fallback=True,
        )
    ]


def _refund_line(item: sp.RefundLineItem, taxes_included: bool) -> RefundLine:
    what = f"refund line item {item.id}"
    subtotal = shop_amount(None, item.subtotal_set, what) if item.subtotal_set else ZERO
    tax = shop_amount(None, item.total_tax_set, what) if item.total_tax_set else ZERO
    line = item.line_item
    return RefundLine(
        kind=LineKind.PRODUCT,
        sku=(line.sku or None) if line else None,
        provider_line_id=str(item.line_item_id),
        quantity=Decimal(item.quantity),
        amount=subtotal if taxes_included else subtotal + tax,
    )


def _shipping_and_adjustments(refund: sp.ShopifyRefund) -> tuple[Decimal, Decimal]:
    """Shipping refunded (incl. VAT) and other adjustments, both positive = money back.

    Raises:
        TranslationError: an amount is missing.
    """
    what = f"Shopify refund {refund.id}"
    shipping = sum(
        (
            shop_amount(None, s.subtotal_amount_set, what)
            + (shop_amount(None, s.tax_amount_set, what) if s.tax_amount_set else ZERO)
            for s in refund.refund_shipping_lines
        ),
        ZERO,
    )
    adjustments = ZERO
    for adj in refund.order_adjustments:
        value = shop_amount(adj.amount, adj.amount_set, what)
        if adj.tax_amount is not None or adj.tax_amount_set is not None:
            value += shop_amount(adj.tax_amount, adj.tax_amount_set, what)
        if adj.kind != "shipping_refund":
            adjustments -= value
        elif not refund.refund_shipping_lines:  # older API versions: shipping as adjustment
            shipping -= value
    return shipping, adjustments


def refund_from_shopify(
    refund: sp.ShopifyRefund,
    *,
    shop_domain: str,
    taxes_included: bool = False,
    money: OrderMoney | None = None,
) -> Refund:
    """The Refund for a `refunds/create` payload.

    `taxes_included` is the order's flag (a refund payload does not repeat it): Shopify's
    refund line `subtotal` already includes VAT when the order's prices did.
    Shipping refunded comes from `refund_shipping_lines`, or on older API versions from
    `shipping_refund` order adjustments; other order adjustments (refund discrepancies,
    goodwill) become `adjustments`. Duties and additional fees given back
    (`total_duties_set`, `total_additional_fees_set`) are amount-only lines of those kinds
    (quantity 0). Shopify records money going back as a negative
    adjustment, so the sign is turned (positive = back to the customer). Lines, shipping
    and adjustments are Shopify's shop money (`*_set.shop_money`). `amount` is the sum of
    the successful refund transactions, in shop money when `money` (the order's
    currencies and totals) is known: Shopify's when given, else converted at the order's
    ratio (Markets refunds are reported in the presentment currency).

    Raises:
        TranslationError: an amount is missing, or a transaction's currency is neither the
            shop's nor the order's presentment currency.
    """
    shipping, adjustments = _shipping_and_adjustments(refund)
    moved, amount, currency = refund_money(refund, money)
    return Refund(
        provider="shopify",
        account=shop_domain,
        provider_id=str(refund.id),
        order_reference=order_reference(shop_domain, refund.order_id),
        lines=[_refund_line(item, taxes_included) for item in refund.refund_line_items]
        + refunded_charges(refund),
        shipping=shipping,
        adjustments=adjustments,
        amount=amount,
        full=False,
        date=(refund.processed_at or refund.created_at).date(),
        gateways=list(dict.fromkeys(normalise_gateway(t.gateway) for t in moved)),
        currency=currency,
    )


def refund_from_cancelled_order(payload: sp.ShopifyOrder, *, shop_domain: str) -> Refund | None:
    """`orders/cancelled`: a full credit when the cancelled order kept no money.

    Financial status refunded, voided, pending, authorized or expired -> `Refund(full=True)`
    (id `cancel:<order id>`, amount 0: money going back arrives as `refunds/create`, whose
    line credits the sync subtracts from the "credit the rest" of a full refund). A
    cancelled order that is still paid or partially paid keeps its invoice: None.
    """
    if payload.cancelled_at is None or payload.financial_status not in CANCEL_CREDIT_STATUSES:
        return None
    return Refund(
        provider="shopify",
        account=shop_domain,
        provider_id=f"cancel:{payload.id}",
        order_reference=order_reference(shop_domain, payload.id),
        full=True,
        date=payload.cancelled_at.date(),
        currency=shop_currency(payload),
    )
