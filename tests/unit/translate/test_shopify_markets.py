"""Shopify translation of Markets money and of the lines beyond products and shipping."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bridge.models import LineKind, Order, Refund, TranslationError
from bridge.translate import TranslationContext, translate

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "shopify"
SHOP = "boutique-demo.myshopify.com"
D = Decimal
MARKETS = TranslationContext(
    shop_domain=SHOP,
    taxes_included=True,
    order_currency="EUR",
    order_total=D("162.04"),
    presentment_currency="GBP",
    presentment_total=D("142.32"),
)


def _body(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text("utf-8"))
    return data


def _order(body: dict[str, Any]) -> Order:
    result = translate("shopify", "orders/create", body, TranslationContext(shop_domain=SHOP))
    assert isinstance(result, Order)
    return result


def _amounts(order: Order) -> dict[LineKind, Decimal]:
    found: dict[LineKind, Decimal] = {}
    for line in order.lines:
        found[line.kind] = found.get(line.kind, D(0)) + line.gross
    return found


def test_a_tip_line_item_is_the_tip_and_total_tip_received_adds_no_second_one() -> None:
    order = _order(_body("orders-create-042-pos-cash-rounding-tip-line-v2026-10"))

    assert [ln.kind for ln in order.lines].count(LineKind.TIP) == 1
    assert _amounts(order)[LineKind.TIP] == D("2.00")


def test_duties_come_from_the_order_total_when_the_lines_carry_none() -> None:
    body = _body("orders-create-041-duties-tip-gift-card-fee-v2026-10")
    for item in body["line_items"]:
        item.pop("duties", None)

    assert _amounts(_order(body))[LineKind.DUTIES] == D("4.50")


def test_a_duty_s_own_tax_is_part_of_the_duties_line() -> None:
    body = _body("orders-create-041-duties-tip-gift-card-fee-v2026-10")
    duty = body["line_items"][0]["duties"][0]
    money = {"amount": "0.36", "currency_code": "EUR"}
    duty["tax_lines"] = [
        {"title": "MWST", "price": "0.36", "rate": 0.081, "price_set": {"shop_money": money}}
    ]
    for key in ("total_price_set", "current_total_price_set"):
        body[key]["shop_money"]["amount"] = "101.36"
        body[key]["presentment_money"]["amount"] = "101.36"

    order = _order(body)

    assert _amounts(order)[LineKind.DUTIES] == D("4.86")
    assert order.total == order.sage_total == D("101.36")


def test_cash_rounding_down_is_a_negative_line_and_the_invoice_is_what_was_paid() -> None:
    body = _body("orders-create-042-pos-cash-rounding-tip-line-v2026-10")
    body["total_cash_rounding_payment_adjustment_set"]["shop_money"]["amount"] = "-0.04"

    order = _order(body)

    assert _amounts(order)[LineKind.CASH_ROUNDING] == D("-0.04")
    assert order.total == D("16.95")


def test_a_loose_tip_on_a_markets_order_is_converted_at_the_order_s_ratio() -> None:
    body = _body("orders-create-040-markets-gbp-v2026-01")
    body["total_tip_received"] = "5.00"  # GBP, no money bag
    for key in ("total_price_set", "current_total_price_set"):
        body[key]["shop_money"]["amount"] = "167.73"
        body[key]["presentment_money"]["amount"] = "147.32"

    order = _order(body)

    assert _amounts(order)[LineKind.TIP] == D("5.69")  # 5 x 167.73 / 147.32
    assert order.presentment is not None
    assert order.presentment.total == D("147.32")


def test_an_order_in_one_currency_has_no_presentment() -> None:
    order = _order(_body("orders-create-041-duties-tip-gift-card-fee-v2026-10"))

    assert order.presentment is None
    assert "presentment" not in order.model_dump()


def test_a_refund_in_a_third_currency_is_refused_naming_it() -> None:
    body = copy.deepcopy(_body("refunds-create-007-markets-gbp-converted-v2026-10"))
    body["transactions"][0]["currency"] = "USD"

    with pytest.raises(TranslationError, match="is in USD, the order in EUR"):
        translate("shopify", "refunds/create", body, MARKETS)


def test_a_refund_of_an_order_not_known_yet_keeps_its_own_currency() -> None:
    # it is parked until its order is booked, then translated again with the order's money
    body = _body("refunds-create-007-markets-gbp-converted-v2026-10")

    result = translate("shopify", "refunds/create", body, TranslationContext(shop_domain=SHOP))

    assert isinstance(result, Refund)
    assert (result.amount, result.currency) == (D("19.50"), "GBP")


def test_unknown_fields_of_any_version_never_fail() -> None:
    body = _body("order-transactions-create-009-markets-gbp-capture-v2026-01")
    body["a_field_from_2027"] = {"nested": [1, 2.5, None]}
    body["total_unsettled_set"] = {"shop_money": {"amount": "0.0", "currency": "EUR"}}

    result = translate("shopify", "order_transactions/create", body, MARKETS)

    assert result is not None
