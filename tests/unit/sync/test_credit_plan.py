"""What a refund credits: lines, exact shipping quantities, attention for the rest."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from bridge.models import Line, LineKind, Order, Refund, RefundLine
from bridge.store.links import OrderLink
from bridge.sync.credit_plan import plan_credit, shipping_quantity

D = Decimal


def order() -> Order:
    lines = [
        Line.build(kind=LineKind.PRODUCT, title="Tea", sku="TEA-001", quantity=D(2),
                   unit_price=D("8.055"), vat_rate=D("5.5"), provider_line_id="L1"),
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


def link() -> OrderLink:
    return OrderLink(
        reference="shopify:shop:1",
        order=order(),
        invoice_id="inv",
        line_products=["p-tea", "p-ship"],
    )


def refund(**values: object) -> Refund:
    base: dict[str, object] = {
        "provider": "shopify", "account": "shop", "provider_id": "r1",
        "order_reference": "shopify:shop:1", "date": dt.date(2026, 3, 2),
    }  # fmt: skip
    return Refund.model_validate({**base, **values})


def test_refunded_line_credits_its_product_at_the_invoice_price() -> None:
    plan = plan_credit(
        link(),
        refund(
            lines=[
                RefundLine(
                    kind=LineKind.PRODUCT, provider_line_id="L1", quantity=D(1), amount=D("8.50")
                )
            ]
        ),
    )

    assert [(c.product_id, c.quantity, c.unit_price) for c in plan.lines] == [
        ("p-tea", D(1), D("8.055"))
    ]
    assert plan.amount == D("8.50")
    assert plan.attention == []


def test_half_shipping_is_an_exact_fractional_quantity() -> None:
    plan = plan_credit(link(), refund(shipping=D("3.00")))

    assert [(c.product_id, c.quantity) for c in plan.lines] == [("p-ship", D("0.5"))]
    assert plan.amount == D("3.00")


def test_shipping_no_quantity_makes_exact_needs_attention() -> None:
    line = order().lines[1]
    assert shipping_quantity(line, D("0.01")) is None

    plan = plan_credit(link(), refund(shipping=D("0.01")))

    assert plan.lines == []
    assert plan.empty
    [item] = plan.attention
    assert item.kind == "shipping_refund"
    assert item.amount == D("0.01")


def test_adjustment_needs_attention_with_its_amount() -> None:
    plan = plan_credit(link(), refund(adjustments=D("2.00")))

    [item] = plan.attention
    assert (item.kind, item.amount, item.order_reference) == (
        "refund_adjustment",
        D("2.00"),
        "shopify:shop:1",
    )


def test_refund_of_everything_without_lines_is_a_full_credit() -> None:
    plan = plan_credit(link(), refund(adjustments=order().total))

    assert plan.full
    assert plan.attention == []
    assert plan.amount == order().total


def test_amount_differing_from_sage_arithmetic_is_flagged() -> None:
    plan = plan_credit(
        link(),
        refund(
            lines=[
                RefundLine(
                    kind=LineKind.PRODUCT, provider_line_id="L1", quantity=D(1), amount=D("8.40")
                )
            ]
        ),
    )

    [item] = plan.attention
    assert item.kind == "refund_line_difference"
    assert item.amount == D("-0.10")
