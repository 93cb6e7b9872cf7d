"""Negative lines inside Stripe invoices: proration credits, credits with discounts."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

import pytest

from bridge.models import LineKind, TranslationError
from bridge.translate.common import LineSet, negated
from bridge.translate.stripe.objects import order_from_stripe_invoice
from connectors.stripe import payloads as st


def _invoice(lines: list[dict[str, Any]], total: int) -> st.StripeInvoice:
    return st.StripeInvoice.model_validate(
        {
            "id": "in_test",
            "currency": "eur",
            "created": 1795338000,
            "total": total,
            "lines": {"data": lines},
        }
    )


def _line(n: int, amount: int, tax: int, *, inclusive: bool = False, **more: Any) -> dict[str, Any]:
    taxable = amount - tax if inclusive else amount
    return {
        "id": f"il_{n}", "amount": amount, "currency": "eur", "proration": True,
        "tax_amounts": [{"amount": tax, "inclusive": inclusive, "tax_rate": "txr_20",
                         "taxable_amount": taxable}],
        **more,
    }  # fmt: skip


def test_a_credit_and_its_negation_are_exact_opposites() -> None:
    lines = LineSet()
    lines.add(kind=LineKind.PRODUCT, title="x", quantity=D(3), amount=D("10.00"),
              discount=D(0), vat_rate=D("5.5"), taxes_included=False)  # fmt: skip
    line = lines.lines[0]

    opposite = negated(line)

    assert (opposite.net, opposite.vat, opposite.quantity) == (-line.net, -line.vat, -line.quantity)


def test_a_tax_inclusive_upgrade_is_booked_to_the_cent() -> None:
    # -60.00 TTC unused, +96.00 TTC new plan, 20 % included: 36.00, VAT 6.00
    invoice = _invoice(
        [_line(1, -6000, -1000, inclusive=True), _line(2, 9600, 1600, inclusive=True)], 3600
    )

    order = order_from_stripe_invoice(invoice, account="default", tolerance=D("0.05"))

    assert (order.total, order.vat_total, order.rounding) == (D("36.00"), D("6.00"), D(0))
    assert [line.quantity for line in order.lines] == [D(-1), D(1)]


def test_a_discount_that_turns_a_credit_into_a_charge_is_refused() -> None:
    credit = _line(1, -1000, -200, discount_amounts=[{"amount": -1500}])
    invoice = _invoice([credit, _line(2, 3000, 600)], 3000)

    with pytest.raises(TranslationError, match=r"turn the credit -10\.00 into a charge"):
        order_from_stripe_invoice(invoice, account="default", tolerance=D("0.05"))
