"""What a refund credits, planned from the invoice as Sage holds it: quantities, amounts
credited pro rata per VAT rate, and refusals that credit nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from bridge.models import Line, LineKind, Order, Refund, RefundLine
from bridge.store.links import OrderLink
from bridge.sync.credit_plan import CreditRefused, full_plan, plan_credit
from connectors.sage_active.models import SalesInvoice, SalesInvoiceLine

D = Decimal


def order() -> Order:
    lines = [
        Line.build(kind=LineKind.PRODUCT, title="Tea", sku="TEA-001", quantity=D(2),
                   unit_price=D("8.055"), vat_rate=D("5.5"), provider_line_id="L1"),
        Line.build(kind=LineKind.PRODUCT, title="Mug", sku="MUG-001", quantity=D(1),
                   unit_price=D("100"), vat_rate=D("20"), provider_line_id="L2"),
        Line.build(kind=LineKind.SHIPPING, title="Colissimo", quantity=D(1),
                   unit_price=D("5"), vat_rate=D("20"), provider_line_id="S1"),
    ]  # fmt: skip
    total = sum((ln.gross for ln in lines), D(0))
    return Order(
        provider="shopify",
        account="shop",
        provider_id="1",
        number="#1",
        reference="shopify:shop:1",
        external_reference="#1",
        currency="EUR",
        date=dt.date(2026, 3, 1),
        lines=lines,
        total=total,
    )


def invoice(available: list[Decimal] | None = None) -> SalesInvoice:
    """The order's invoice as Sage answers it (`INVOICE_FIELDS`)."""
    lines = []
    for n, line in enumerate(order().lines):
        lines.append(
            SalesInvoiceLine(
                product_id=f"p{n}",
                total_quantity=line.quantity,
                unit_price=line.unit_price,
                total_net=line.net,
                total_liquid=line.gross,
                vat_percentage=line.vat_rate,
                first_discount=D(0),
                available_for_credit_note_quantity=(available or [])[n]
                if available
                else line.quantity,
            )
        )
    return SalesInvoice(id="inv", status="Posted", lines=lines, total_liquid=order().total)


def link() -> OrderLink:
    return OrderLink(
        reference="shopify:shop:1",
        order=order(),
        invoice_id="inv",
        line_products=["p0", "p1", "p2"],
    )


def refund(**values: object) -> Refund:
    base: dict[str, object] = {
        "provider": "shopify", "account": "shop", "provider_id": "r1",
        "order_reference": "shopify:shop:1", "date": dt.date(2026, 3, 2),
    }  # fmt: skip
    return Refund.model_validate({**base, **values})


def line(ident: str, quantity: str, amount: str) -> RefundLine:
    return RefundLine(
        kind=LineKind.PRODUCT, provider_line_id=ident, quantity=D(quantity), amount=D(amount)
    )


def test_refunded_line_at_its_price_credits_that_quantity() -> None:
    plan = plan_credit(link(), invoice(), refund(lines=[line("L1", "1", "8.50")]))

    assert [(x.product_id, x.quantity, x.unit_price) for x in plan.lines] == [
        ("p0", D(1), D("8.055"))
    ]
    assert plan.amount == D("8.50")
    assert plan.vat == {D("5.5"): D("0.44")}


def test_line_credited_by_amount_credits_that_amount_not_its_quantity() -> None:
    # given a Stripe-like credit note line: quantity 1 of the 100.00 mug, for 24.00
    plan = plan_credit(link(), invoice(), refund(lines=[line("L2", "1", "24.00")]))

    # then 0.2 of the mug is credited: 20.00 + 4.00 VAT, never 120.00
    assert [(x.product_id, x.quantity) for x in plan.lines] == [("p1", D("0.2"))]
    assert plan.amount == D("24.00")
    assert plan.vat == {D("20"): D("4.00")}


def test_amount_without_line_is_split_pro_rata_over_the_vat_rates() -> None:
    # invoice: tea 17.00 at 5.5 % (16.11 + 0.89), mug 120.00 and shipping 6.00 at 20 %
    plan = plan_credit(link(), invoice(), refund(adjustments=D("30.00")))

    assert plan.amount == D("30.00")
    # 5.5 %: 30 x 17.00 / 143.00 = 3.566... -> 3.57 (largest remainder), VAT 0.186 -> 0.19
    # 20 %: 26.43, VAT 26.43 x 20 / 120 = 4.405 -> 4.41
    assert plan.vat == {D("5.5"): D("0.19"), D("20"): D("4.41")}


def test_shipping_refund_credits_the_shipping_line_by_amount() -> None:
    plan = plan_credit(link(), invoice(), refund(shipping=D("3.00")))

    assert [(x.product_id, x.quantity) for x in plan.lines] == [("p2", D("0.5"))]
    assert plan.amount == D("3.00")


def test_kept_restocking_fee_lowers_the_refunded_line() -> None:
    # the mug comes back (120.00) less a 12.00 restocking fee kept by the shop
    plan = plan_credit(
        link(), invoice(), refund(lines=[line("L2", "1", "120.00")], adjustments=D("-12.00"))
    )

    assert plan.amount == D("108.00")
    assert [(x.product_id, x.quantity) for x in plan.lines] == [("p1", D("0.9"))]


def test_more_than_is_left_is_refused() -> None:
    # given a mug already half credited
    left = invoice([D(2), D("0.5"), D(1)])

    with pytest.raises(CreditRefused) as refused:
        plan_credit(link(), left, refund(lines=[line("L2", "1", "120.00")]))

    assert refused.value.kind == "refund_exceeds"
    assert "120.00 is more than the 60.00 left to credit" in str(refused.value)


def test_refund_above_the_invoice_is_refused() -> None:
    with pytest.raises(CreditRefused) as refused:
        plan_credit(link(), invoice(), refund(adjustments=D("150.00")))

    assert refused.value.kind == "refund_exceeds"
    assert "150.00 is more than the 143.00 left to credit" in str(refused.value)


def test_line_not_on_the_invoice_is_refused_whole() -> None:
    with pytest.raises(CreditRefused) as refused:
        plan_credit(
            link(), invoice(), refund(lines=[line("L1", "1", "8.50"), line("XX", "1", "3.00")])
        )

    assert refused.value.kind == "refund_line_unknown"


def test_full_credit_is_what_is_left() -> None:
    plan = full_plan(invoice([D(1), D("0.8"), D(1)]))

    assert plan.full
    assert not plan.lines
    # tea 1 x 8.055 = 8.06 + 0.44; mug 0.8 -> 80.00 + 16.00; shipping 5.00 + 1.00
    assert plan.amount == D("110.50")
    assert plan.vat == {D("5.5"): D("0.44"), D("20"): D("17.00")}
