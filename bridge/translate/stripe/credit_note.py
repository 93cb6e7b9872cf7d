"""Stripe Billing credit notes -> neutral Refund (pure: no I/O, no clock, no settings).

A credit note (`credit_note.created`) credits lines of a Stripe invoice the bridge booked
(`stripe:<account>:<invoice id>`): it becomes a Refund whose `provider_id` is the credit
note's `cn_...` id, so the existing credit-note machinery (`bridge.sync.refunds`) books it
once, closed and posted, as a Sage credit note of that invoice.

- A line of type `invoice_line_item` credits `quantity` of the invoice line it names
  (`invoice_line_item`, the invoice line's `il_...` id, which the invoice's Order keeps as
  `provider_line_id`); its amount is the line's `amount` less its `discount_amount`, plus
  its exclusive taxes (2024-06-20: `tax_amounts[]` with `inclusive`; since
  2025-03-31.basil: `taxes[]` with `tax_behavior`). When that amount is not what the
  quantity costs on the invoice (a line credited by amount: quantity 1, 24.00 of a
  120.00 line), the credit plan credits the amount on that line, not the quantity. A
  line credited without a quantity, a `custom_line_item`, and whatever else makes up the
  credit note's `total` (a document-level discount, ...) is money tied to no invoice
  line: `adjustments`, which the credit plan credits pro rata over the invoice's VAT
  rates (`bridge.sync.credit_plan`). So are the lines beyond the first page of a long
  credit note (`lines.has_more`): the credit note's total is what is credited.
- A credit note that refunds no money (to the customer balance,
  `customer_balance_transaction`; paid out of band, `out_of_band_amount`) is booked the
  same way: a credit note without a refund (`amount` 0).
- Shipping credited (`shipping_cost.amount_total`) credits the invoice's shipping line.
- `amount` is the money the credit note refunded (`refunds[].amount_refunded`; with
  2024-06-20's single `refund`, its `total` less what was credited out of band).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from bridge.models import LineKind, Refund, RefundLine
from bridge.money import from_minor_units
from bridge.translate.stripe.objects import stripe_reference
from connectors.stripe import checkout as co


def exclusive_tax(line: co.CreditNoteLine) -> int:
    """The tax added on top of the line's `amount` (minor units), in either version's shape."""
    if line.taxes is not None:
        return sum(t.amount for t in line.taxes if t.tax_behavior != "inclusive")
    return sum(t.amount for t in line.tax_amounts or [] if not t.inclusive)


def line_gross(line: co.CreditNoteLine) -> int:
    """What the line credits, tax included (minor units)."""
    return line.amount - line.discount_amount + exclusive_tax(line)


def refunded(note: co.CreditNote) -> int:
    """The money the credit note sent back to the customer (minor units)."""
    if note.refunds is not None:
        return sum(r.amount_refunded for r in note.refunds)
    if note.refund is not None:
        return note.total - (note.out_of_band_amount or 0)
    return 0


def refund_from_credit_note(note: co.CreditNote, *, account: str) -> Refund:
    """The Refund that books credit note `note` on its invoice (module docstring)."""
    currency = note.currency.upper()
    lines: list[RefundLine] = []
    credited = 0
    for line in note.lines.data:
        if line.type != "invoice_line_item" or not line.invoice_line_item or not line.quantity:
            continue
        gross = line_gross(line)
        credited += gross
        lines.append(
            RefundLine(
                kind=LineKind.PRODUCT,
                provider_line_id=line.invoice_line_item,
                quantity=Decimal(line.quantity),
                amount=from_minor_units(gross, currency),
            )
        )
    shipping = note.shipping_cost.amount_total if note.shipping_cost else 0
    rest = note.total - credited - shipping
    return Refund(
        provider="stripe",
        account=account,
        provider_id=note.id,
        order_reference=stripe_reference(account, note.invoice_id),
        lines=lines,
        shipping=from_minor_units(shipping, currency),
        adjustments=from_minor_units(rest, currency),
        amount=from_minor_units(refunded(note), currency),
        full=False,
        date=datetime.fromtimestamp(note.effective_at or note.created, tz=UTC).date(),
        gateways=["stripe"],
        currency=currency,
    )
