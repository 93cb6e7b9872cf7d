"""Property: any tax-included cart translates to a Sage invoice equal to the order total.

Carts are random Shopify orders (prices, quantities, FR VAT rates, discounts, shipping)
whose `total_price` is what Shopify charges: the sum of the discounted gross amounts.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.models import LineKind
from bridge.translate.shopify.orders import order_from_shopify
from connectors.shopify.payloads import ShopifyOrder

RATES = [Decimal("20"), Decimal("10"), Decimal("5.5"), Decimal("2.1"), Decimal("0")]
CENT = Decimal("0.01")


@st.composite
def carts(draw: st.DrawFn) -> tuple[dict[str, Any], list[Decimal]]:
    items, targets = [], []
    for index in range(draw(st.integers(min_value=1, max_value=8))):
        price = Decimal(draw(st.integers(min_value=1, max_value=50_000))) * CENT
        quantity = draw(st.integers(min_value=1, max_value=20))
        rate = draw(st.sampled_from(RATES))
        discount = (
            Decimal(draw(st.integers(min_value=0, max_value=int(price * quantity * 100)))) * CENT
        )
        if draw(st.booleans()):
            discount = Decimal(0)
        items.append(
            {
                "id": index + 1,
                "title": f"Article {index}",
                "sku": f"SKU-{index}",
                "quantity": quantity,
                "price": str(price),
                "discount_allocations": [{"amount": str(discount)}] if discount else [],
                "tax_lines": [{"rate": str(rate / 100), "price": "1.00"}] if rate else [],
            }
        )
        targets.append(price * quantity - discount)
    shipping = []
    if draw(st.booleans()):
        cost = Decimal(draw(st.integers(min_value=1, max_value=3_000))) * CENT
        shipping.append(
            {
                "id": 99,
                "title": "Colissimo",
                "price": str(cost),
                "tax_lines": [{"rate": "0.2", "price": "1.00"}],
            }
        )
        targets.append(cost)
    body = {
        "id": 1,
        "name": "#1",
        "created_at": "2026-03-02T09:00:00+01:00",
        "currency": "EUR",
        "taxes_included": True,
        "total_price": str(sum(targets, Decimal(0))),
        "line_items": items,
        "shipping_lines": shipping,
    }
    return body, targets


@settings(max_examples=300, deadline=None, database=None)
@given(carts())
def test_tax_included_carts_always_reach_the_total(
    cart: tuple[dict[str, Any], list[Decimal]],
) -> None:
    body, targets = cart
    order = order_from_shopify(
        ShopifyOrder.model_validate(body), shop_domain="s", tolerance=Decimal("0.05")
    )
    assert order.sage_total == order.total == Decimal(body["total_price"])
    # cents missed by single lines cancel out: the rounding line is at most one cent
    assert abs(order.rounding) <= CENT
    priced = [line for line in order.lines if line.kind is not LineKind.ROUNDING]
    for line, target in zip(priced, targets, strict=True):
        assert abs(line.gross - target) <= CENT
