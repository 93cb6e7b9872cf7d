"""Stripe objects -> neutral Order / Payment / Refund (pure: no I/O, no clock, no settings).

Choices (DESIGN.md section 4):
- Amounts are integers in the currency's minor unit (`bridge.money.from_minor_units`,
  zero- and three-decimal currencies included); the order's currency is the invoice's.
- Every API version from `2024-06-20` to `2026-10-28.endive`: each event is read in the
  shape of its own `api_version` (`stripe_taxes.new_shapes`, the one place that branches).
- Invoice lines: `amount` is before discounts (and includes VAT when the tax is
  inclusive); `discount_amounts` are Stripe's own allocation of invoice and line
  discounts, and credit grants spent on a line (`pretax_credit_amounts`) reduce it too;
  a negative line (a proration's unused time) is a line of negative quantity, so an
  upgrade's invoice is booked with its credit and its charge, to the cent; an invoice
  whose total is negative (a downgrade) is an Order of negative total (booked as a
  credit document: `bridge.sync.stripe.invoices`); the rate is the line's
  (`stripe_taxes.LineTaxes`: the rate object when the payload has it, else derived
  from the tax and taxable amounts and checked against the books' rates), 0 % when no
  tax is charged.
- Payments of invoices: up to `2025-02-24.acacia` the Charge / PaymentIntent names its
  `invoice`; from `2025-03-31.basil` each payment is an InvoicePayment
  (`invoice_payment.paid`), several per invoice when it is paid in parts.
- Dates are UTC calendar dates of Stripe's Unix timestamps.
- Stripe has no fulfilment: a Billing invoice counts as fulfilled.
- A payment's id is its PaymentIntent's (`pi_...`) even when it arrives as a Charge or an
  InvoicePayment, so that `payment_intent.succeeded`, `charge.succeeded` and
  `invoice_payment.paid` for the same money become one settlement; a Charge without a
  PaymentIntent keeps its `ch_...` id.
- Refunds carry no line detail: the money is an `adjustments` amount, keyed by the
  refund's `re_...` id whichever event (`refund.created`, `charge.refunded`) brought it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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
from bridge.money import from_minor_units
from bridge.translate.common import LineSet, settle_total
from bridge.translate.shopify.parts import order_reference as shopify_reference
from bridge.translate.stripe.taxes import DEFAULT_VAT_RATES, LineTaxes
from connectors.stripe import payloads as st

VAT_ID_TYPES = frozenset({"eu_vat", "gb_vat", "ch_vat", "no_vat"})
TAX_EXEMPT = frozenset({"exempt", "reverse"})  # Stripe's customer tax_exempt values


def stripe_reference(account: str, object_id: str) -> str:
    """The Sage `salesOrderNumber` of a Stripe object: `stripe:<account>:<id>`."""
    return f"stripe:{account}:{object_id}"


def _date(timestamp: int) -> date:
    return datetime.fromtimestamp(timestamp, tz=UTC).date()


def line_reductions(line: st.InvoiceLine) -> int:
    """What reduces a line before tax, in minor units: its discounts (`discount_amounts`,
    every version) and, from `2025-03-31.basil`, the credit grants spent on it
    (`pretax_credit_amounts` of type `credit_balance_transaction`; those of type
    `discount` repeat `discount_amounts` and are not counted twice)."""
    discounts = sum(d.amount for d in line.discount_amounts)
    credits = sum(
        c.amount for c in line.pretax_credit_amounts if c.type == "credit_balance_transaction"
    )
    return discounts + credits


def _add_invoice_line(
    lines: LineSet, line: st.InvoiceLine, invoice: st.StripeInvoice, taxes: LineTaxes
) -> None:
    """One Sage line for a Stripe line. A negative line (a proration's unused time, a
    credit) becomes a line of negative quantity at the same unit price: its amount after
    reductions (signed: a credit's discounts are negative too) must keep the line's sign.

    Raises:
        TranslationError: as `priced_line`, or a reduction turns the line's sign.
    """
    currency = invoice.currency
    quantity = line.quantity or 1
    amount = from_minor_units(line.amount, currency)
    discount = from_minor_units(line_reductions(line), currency)
    credit = amount < 0
    if credit and amount - discount > 0:
        raise TranslationError(
            f"Stripe invoice {invoice.number or invoice.id} line {line.id}: reductions "
            f"{discount} turn the credit {amount} into a charge"
        )
    price = line.price_object
    lines.add(
        kind=LineKind.PRODUCT,
        title=line.description or line.price_id or line.id,
        sku=line.metadata.get("sku") or (price.metadata.get("sku") if price else None),
        provider_line_id=line.id,
        quantity=Decimal(quantity),
        amount=-amount if credit else amount,
        discount=-discount if credit else discount,
        vat_rate=taxes.rate(line),
        taxes_included=taxes.inclusive(line),
        credit=credit,
    )


def _party(invoice: st.StripeInvoice) -> Party | None:
    if invoice.customer is None:
        return None
    address = invoice.customer_address
    vat = next((t.value for t in invoice.customer_tax_ids if t.type in VAT_ID_TYPES), None)
    name = (invoice.customer_name or invoice.customer_email or invoice.customer)[:70]
    return Party(
        provider_id=invoice.customer,
        email=invoice.customer_email,
        name=name,
        # A customer identified by a VAT id is a business, named as Stripe names it.
        company=name if vat else None,
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
        tax_exempt=invoice.customer_tax_exempt in TAX_EXEMPT,
    )


def order_from_stripe_invoice(
    invoice: st.StripeInvoice,
    *,
    account: str,
    tolerance: Decimal,
    api_version: str | None = None,
    vat_rates: Sequence[Decimal] = DEFAULT_VAT_RATES,
) -> Order:
    """The neutral Order for a Stripe Billing invoice (`invoice.paid` / `invoice.finalized`)
    in the shape of `api_version` (the event's; see `stripe_taxes`), its derived tax rates
    checked against `vat_rates` (the books').

    Raises:
        TranslationError: the lines are paginated (`has_more`: the event holds only the
            first page), a line's tax rate is missing or unknown to the books, or the lines
            miss `total` by more than `tolerance`.
    """
    what = f"Stripe invoice {invoice.number or invoice.id}"
    if invoice.lines.has_more:
        raise TranslationError(
            f"{what}: the event holds only the first page of its lines (has_more=true); "
            "fetch the invoice's lines and replay"
        )
    currency = invoice.currency.upper()
    taxes = LineTaxes(invoice, api_version=api_version, vat_rates=vat_rates)
    built = LineSet()
    for line in invoice.lines.data:
        _add_invoice_line(built, line, invoice, taxes)
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
        taxes_included=taxes.any_inclusive(),
        gateways=["stripe"],
        cancelled=invoice.status == "void",
        fulfilled=True,
        paid=invoice.status == "paid",
    )


def _linked_order(
    metadata: Mapping[str, str],
    invoice: str | None,
    account: str,
    what: str,
    found: str | None = None,
) -> str:
    """The Order.reference a Stripe payment or refund belongs to: its metadata, else its
    invoice (API versions before `2025-03-31.basil`), else what the caller `found`.

    Raises:
        NotLinked: none of them links it.
    """
    if metadata.get("order_reference"):
        return metadata["order_reference"]
    if metadata.get("shopify_order_id") and metadata.get("shop_domain"):
        return shopify_reference(metadata["shop_domain"], metadata["shopify_order_id"])
    if invoice:
        return stripe_reference(account, invoice)
    if found:
        return found
    raise NotLinked(
        f"{what}: not linked to an order (set metadata.order_reference, or "
        "metadata.shopify_order_id and metadata.shop_domain, or pay a Stripe invoice)"
    )


def payment_from_stripe(
    obj: st.StripePaymentIntent | st.StripeCharge,
    *,
    account: str,
    order_reference: str | None = None,
) -> Payment:
    """The Payment for a succeeded PaymentIntent or a captured Charge.

    The order comes from the metadata, the `invoice` (up to `2025-02-24.acacia`), or
    `order_reference` when the caller found it (the payment already booked through its
    `invoice_payment.paid`).

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
        order_reference=_linked_order(obj.metadata, obj.invoice, account, what, order_reference),
        amount=from_minor_units(received, obj.currency),
        currency=obj.currency.upper(),
        gateway="stripe",
        date=_date(obj.created),
    )


def invoice_payment_id(obj: st.StripeInvoicePayment) -> str:
    """The settlement key of an invoice payment: its PaymentIntent's id, else its Charge's
    (as `payment_intent.succeeded` / `charge.succeeded` for the same money give), else, for
    money recorded outside Stripe's payments, the InvoicePayment's own id."""
    money = obj.payment
    return st.object_id(money.payment_intent) or st.object_id(money.charge) or obj.id


def payment_from_invoice_payment(obj: st.StripeInvoicePayment, *, account: str) -> Payment | None:
    """The Payment for one paid InvoicePayment (`invoice_payment.paid`, API versions from
    `2025-03-31.basil`): a settlement of the Stripe invoice's order. An invoice paid in
    parts has one per part. None when it is not paid (nothing to book).
    """
    if obj.status != "paid" or not obj.amount_paid or obj.amount_paid <= 0:
        return None
    invoice = st.object_id(obj.invoice) or ""
    paid_at = obj.status_transitions.paid_at if obj.status_transitions else None
    return Payment(
        provider="stripe",
        account=account,
        provider_id=invoice_payment_id(obj),
        order_reference=stripe_reference(account, invoice),
        amount=from_minor_units(obj.amount_paid, obj.currency),
        currency=obj.currency.upper(),
        gateway="stripe",
        date=_date(paid_at or obj.created),
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
