"""Stripe objects -> neutral Order / Payment / Refund (pure: no I/O, no clock, no settings).

Choices (DESIGN.md section 4):
- Amounts are integers in the currency's minor unit (`bridge.money.from_minor_units`,
  zero- and three-decimal currencies included); the order's currency is the invoice's.
- Invoice lines: `amount` is before discounts (and includes VAT when the tax is
  inclusive); `discount_amounts` are Stripe's own allocation of invoice and line
  discounts; the rate is the line's `tax_rates` (or the invoice's `default_tax_rates`, or
  expanded `tax_amounts[].tax_rate`), 0 % when no tax is charged.
- Dates are UTC calendar dates of Stripe's Unix timestamps.
- Stripe has no fulfilment: a Billing invoice counts as fulfilled.
- A payment's id is its PaymentIntent's (`pi_...`) even when it arrives as a Charge, so
  that `payment_intent.succeeded` and `charge.succeeded` for the same money become one
  settlement; a Charge without a PaymentIntent keeps its `ch_...` id.
- Refunds carry no line detail: the money is an `adjustments` amount, keyed by the
  refund's `re_...` id whichever event (`refund.created`, `charge.refunded`) brought it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal

from bridge.models import (
    Address,
    LineKind,
    NotLinked,
    Order,
    Party,
    Payment,
    Refund,
    TranslationError,
)
from bridge.money import ZERO, from_minor_units
from bridge.translate.common import LineSet, plain, settle_total
from bridge.translate.shopify_parts import order_reference as shopify_reference
from connectors.stripe import payloads as st

VAT_ID_TYPES = frozenset({"eu_vat", "gb_vat", "ch_vat", "no_vat"})


def stripe_reference(account: str, object_id: str) -> str:
    """The Sage `salesOrderNumber` of a Stripe object: `stripe:<account>:<id>`."""
    return f"stripe:{account}:{object_id}"


def _date(timestamp: int) -> date:
    return datetime.fromtimestamp(timestamp, tz=UTC).date()


def _line_rate(line: st.InvoiceLine, invoice: st.StripeInvoice) -> Decimal:
    """Percent VAT rate of an invoice line.

    Raises:
        TranslationError: tax was charged but no rate object is in the payload.
    """
    rates = line.tax_rates or invoice.default_tax_rates
    if not rates:
        rates = [t.tax_rate for t in line.tax_amounts if isinstance(t.tax_rate, st.TaxRate)]
    if rates:
        return plain(sum((r.percentage for r in rates), ZERO))
    if all(t.amount == 0 for t in line.tax_amounts):
        return ZERO
    raise TranslationError(
        f"Stripe invoice {invoice.id} line {line.id}: tax charged but its rate is not in the "
        "payload (expand lines.data.tax_amounts.tax_rate)"
    )


def _add_invoice_line(lines: LineSet, line: st.InvoiceLine, invoice: st.StripeInvoice) -> None:
    currency = invoice.currency
    quantity = line.quantity or 1
    inclusive = any(t.inclusive for t in line.tax_amounts) or any(
        r.inclusive for r in line.tax_rates
    )
    discount = from_minor_units(sum(d.amount for d in line.discount_amounts), currency)
    lines.add(
        kind=LineKind.PRODUCT,
        title=line.description or (line.price.id if line.price else line.id),
        sku=line.metadata.get("sku") or (line.price.metadata.get("sku") if line.price else None),
        provider_line_id=line.id,
        quantity=Decimal(quantity),
        amount=from_minor_units(line.amount, currency),
        discount=discount,
        vat_rate=_line_rate(line, invoice),
        taxes_included=inclusive,
    )


def _party(invoice: st.StripeInvoice) -> Party | None:
    if invoice.customer is None:
        return None
    address = invoice.customer_address
    vat = next((t.value for t in invoice.customer_tax_ids if t.type in VAT_ID_TYPES), None)
    return Party(
        provider_id=invoice.customer,
        email=invoice.customer_email,
        name=(invoice.customer_name or invoice.customer_email or invoice.customer)[:70],
        phone=invoice.customer_phone,
        address=Address(
            line1=address.line1,
            line2=address.line2,
            city=address.city,
            zip=address.postal_code,
            province=address.state,
            country_code=address.country,
        )
        if address
        else None,
        vat_number=vat,
    )


def order_from_stripe_invoice(
    invoice: st.StripeInvoice, *, account: str, tolerance: Decimal
) -> Order:
    """The neutral Order for a Stripe Billing invoice (`invoice.paid` / `invoice.finalized`).

    Raises:
        TranslationError: the lines are paginated (`has_more`: the event holds only the
            first page), a line's tax rate is missing, or the lines miss `total` by more
            than `tolerance`.
    """
    what = f"Stripe invoice {invoice.number or invoice.id}"
    if invoice.lines.has_more:
        raise TranslationError(
            f"{what}: the event holds only the first page of its lines (has_more=true); "
            "fetch the invoice's lines and replay"
        )
    currency = invoice.currency.upper()
    built = LineSet()
    for line in invoice.lines.data:
        _add_invoice_line(built, line, invoice)
    total = from_minor_units(invoice.total, currency)
    lines, rounding = settle_total(
        built.lines, total, currency=currency, tolerance=tolerance, what=what
    )
    number = invoice.number or invoice.id
    return Order(
        provider="stripe",
        account=account,
        provider_id=invoice.id,
        number=number,
        reference=stripe_reference(account, invoice.id),
        external_reference=number[:20],
        source_number=invoice.number,
        currency=currency,
        date=_date(invoice.status_transitions.finalized_at or invoice.created)
        if invoice.status_transitions
        else _date(invoice.created),
        customer=_party(invoice),
        lines=lines,
        total=total,
        rounding=rounding,
        taxes_included=any(t.inclusive for ln in invoice.lines.data for t in ln.tax_amounts),
        gateways=["stripe"],
        cancelled=invoice.status == "void",
        fulfilled=True,
        paid=invoice.status == "paid",
    )


def _linked_order(metadata: Mapping[str, str], invoice: str | None, account: str, what: str) -> str:
    """The Order.reference a Stripe payment or refund belongs to.

    Raises:
        NotLinked: no metadata link and no invoice.
    """
    if metadata.get("order_reference"):
        return metadata["order_reference"]
    if metadata.get("shopify_order_id") and metadata.get("shop_domain"):
        return shopify_reference(metadata["shop_domain"], metadata["shopify_order_id"])
    if invoice:
        return stripe_reference(account, invoice)
    raise NotLinked(
        f"{what}: not linked to an order (set metadata.order_reference, or "
        "metadata.shopify_order_id and metadata.shop_domain, or pay a Stripe invoice)"
    )


def payment_from_stripe(obj: st.StripePaymentIntent | st.StripeCharge, *, account: str) -> Payment:
    """The Payment for a succeeded PaymentIntent or a captured Charge.

    Raises:
        TranslationError: the object has not succeeded / captured any money, or it is not
            linked to an order.
    """
    what = f"Stripe {obj.object} {obj.id}"
    if isinstance(obj, st.StripePaymentIntent):
        received, ok, payment_id = obj.amount_received, obj.status == "succeeded", obj.id
    else:
        received = obj.amount_captured
        ok = obj.status == "succeeded" and obj.captured
        payment_id = obj.payment_intent or obj.id
    if not ok or received <= 0:
        raise TranslationError(f"{what}: status {obj.status!r} with no money received")
    return Payment(
        provider="stripe",
        account=account,
        provider_id=payment_id,
        order_reference=_linked_order(obj.metadata, obj.invoice, account, what),
        amount=from_minor_units(received, obj.currency),
        currency=obj.currency.upper(),
        gateway="stripe",
        date=_date(obj.created),
    )


def latest_refund(charge: st.StripeCharge) -> st.StripeRefund | None:
    """The newest refund listed on a refunded Charge (None when the list is not included)."""
    if charge.refunds is None or not charge.refunds.data:
        return None
    return max(charge.refunds.data, key=lambda r: (r.created, r.id))


def refund_from_stripe(
    obj: st.StripeRefund | st.StripeCharge,
    *,
    account: str,
    order_reference: str | None = None,
) -> Refund:
    """The Refund for a Stripe Refund, or for a refunded Charge's newest refund.

    The order link comes from the metadata (the refund's, then the charge's), the
    Charge's invoice, or `order_reference` when the caller found it (e.g. through the
    payment link of `payment_intent`).

    Raises:
        TranslationError: a Charge lists no refund, the refund did not succeed, or no
            order link is known.
    """
    charge = obj if isinstance(obj, st.StripeCharge) else None
    refund = latest_refund(obj) if isinstance(obj, st.StripeCharge) else obj
    if refund is None:
        raise TranslationError(f"Stripe charge {obj.id}: refunded, but its refunds are not listed")
    what = f"Stripe refund {refund.id}"
    if refund.status in {"failed", "canceled"}:
        raise TranslationError(f"{what}: status {refund.status!r}, no money went back")
    metadata = {**(charge.metadata if charge else {}), **refund.metadata}
    if order_reference and not any(
        metadata.get(k) for k in ("order_reference", "shopify_order_id")
    ):
        metadata["order_reference"] = order_reference
    amount = from_minor_units(refund.amount, refund.currency)
    return Refund(
        provider="stripe",
        account=account,
        provider_id=refund.id,
        order_reference=_linked_order(metadata, charge.invoice if charge else None, account, what),
        adjustments=amount,
        amount=amount,
        full=False,
        date=_date(refund.created),
        gateways=["stripe"],
        currency=refund.currency.upper(),
    )
