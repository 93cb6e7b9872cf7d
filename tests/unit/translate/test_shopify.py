"""Shopify translation beyond the corpus: refusals, ignored transactions, sign conventions."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bridge.models import LineKind, Order, Payment, Refund, TranslationError
from bridge.translate import TranslationContext, translate
from bridge.translate.shopify.orders import (
    order_from_shopify,
    payment_from_shopify_transaction,
    payments_from_paid_order,
    refund_from_cancelled_order,
    refund_from_shopify,
)
from connectors.shopify.payloads import ShopifyOrder, ShopifyRefund, ShopifyTransaction

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "shopify"
SHOP = "boutique-demo.myshopify.com"
CTX = TranslationContext(shop_domain=SHOP)
D = Decimal


def _body(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text("utf-8"))
    return data


def _order(name: str = "orders-create-001-ttc-single-mug") -> dict[str, Any]:
    return _body(name)


def test_total_beyond_tolerance_is_refused_naming_the_order_and_both_totals() -> None:
    body = _order()
    body["total_price_set"]["shop_money"]["amount"] = "19.90"
    with pytest.raises(TranslationError) as caught:
        order_from_shopify(ShopifyOrder.model_validate(body), shop_domain=SHOP, tolerance=D("0.05"))
    message = str(caught.value)
    assert "#1001" in message
    assert "19.80 EUR" in message
    assert "19.90 EUR" in message


def test_small_difference_becomes_the_rounding_line() -> None:
    body = _order()
    body["total_price_set"]["shop_money"]["amount"] = "19.82"
    order = order_from_shopify(
        ShopifyOrder.model_validate(body), shop_domain=SHOP, tolerance=D("0.05")
    )
    assert order.rounding == D("0.02")
    assert order.lines[-1].kind is LineKind.ROUNDING
    assert order.sage_total == D("19.82")


def test_shop_money_is_used_not_presentment_money() -> None:
    body = _order("orders-create-022-ttc-presentment-usd")
    assert body["total_price_set"]["presentment_money"]["currency_code"] == "USD"
    order = order_from_shopify(
        ShopifyOrder.model_validate(body), shop_domain=SHOP, tolerance=D("0")
    )
    assert order.currency == "EUR"
    assert order.total == D(body["total_price_set"]["shop_money"]["amount"])


def test_tax_included_prices_are_converted_per_line_to_the_exact_gross() -> None:
    order = order_from_shopify(
        ShopifyOrder.model_validate(_order("orders-create-003-ttc-mixed-rates")),
        shop_domain=SHOP,
        tolerance=D("0"),
    )
    payload = ShopifyOrder.model_validate(_order("orders-create-003-ttc-mixed-rates"))
    for line, item in zip(order.lines, payload.line_items, strict=False):
        assert line.gross == item.quantity * (item.price or D(0))
        assert line.vat == sum((t.price or D(0) for t in item.tax_lines), D(0))


def test_malformed_payload_is_a_translation_error_naming_the_field() -> None:
    body = _order()
    del body["line_items"][0]["id"]
    with pytest.raises(TranslationError, match=r"not a valid ShopifyOrder: line_items\.0\.id"):
        translate("shopify", "orders/create", body, CTX)


def test_missing_amount_is_a_translation_error() -> None:
    body = _order()
    for key in ("price", "price_set"):
        body["line_items"][0].pop(key)
    with pytest.raises(TranslationError, match=r"line item .*amount missing"):
        translate("shopify", "orders/create", body, CTX)


def test_unknown_topics_give_nothing_and_shop_is_required() -> None:
    assert translate("shopify", "products/update", {"id": 1}, CTX) is None
    # an edit is translated (`OrderEdit`, see the corpus); one without its order is refused
    with pytest.raises(TranslationError, match=r"order_edit\.order_id: Field required"):
        translate("shopify", "orders/edited", {"order_edit": {"id": 1}}, CTX)
    with pytest.raises(TranslationError, match="shop domain is unknown"):
        translate("shopify", "orders/create", _order(), TranslationContext())
    with pytest.raises(TranslationError, match="unknown provider"):
        translate("paypal", "x", {}, CTX)


def test_full_order_sent_as_orders_edited_is_translated() -> None:
    assert isinstance(translate("shopify", "orders/edited", _order(), CTX), Order)


def _tx(**changes: Any) -> ShopifyTransaction:
    body = _body("order-transactions-create-001-sale-shopify-payments")
    body.update(changes)
    return ShopifyTransaction.model_validate(body)


@pytest.mark.parametrize(
    "changes",
    [
        {"kind": "authorization"},
        {"kind": "void"},
        {"kind": "refund"},
        {"status": "pending"},
        {"status": "failure"},
        {"status": "error"},
        {"amount": "0.00"},
    ],
)
def test_only_successful_sales_and_captures_are_payments(changes: dict[str, Any]) -> None:
    assert payment_from_shopify_transaction(_tx(**changes), shop_domain=SHOP) is None


def test_transaction_shop_money_wins_when_given() -> None:
    tx = _tx(
        amount="21.47",
        currency="USD",
        amount_set={
            "shop_money": {"amount": "19.80", "currency_code": "EUR"},
            "presentment_money": {"amount": "21.47", "currency_code": "USD"},
        },
    )
    payment = payment_from_shopify_transaction(tx, shop_domain=SHOP)
    assert isinstance(payment, Payment)
    assert (payment.amount, payment.currency) == (D("19.80"), "EUR")


def test_paid_fallback_subtracts_what_is_outstanding_and_skips_unpaid_orders() -> None:
    body = _order()
    body["total_outstanding"] = "4.80"
    (payment,) = payments_from_paid_order(ShopifyOrder.model_validate(body), shop_domain=SHOP)
    assert (payment.amount, payment.fallback, payment.provider_id) == (
        D("15.00"),
        True,
        f"paid:{body['id']}",
    )
    body["financial_status"] = "pending"
    assert payments_from_paid_order(ShopifyOrder.model_validate(body), shop_domain=SHOP) == []
    body.update(financial_status="paid", total_outstanding="19.80")
    assert payments_from_paid_order(ShopifyOrder.model_validate(body), shop_domain=SHOP) == []


def test_paid_fallback_without_gateway_is_manual() -> None:
    body = _order()
    body["payment_gateway_names"] = []
    (payment,) = payments_from_paid_order(ShopifyOrder.model_validate(body), shop_domain=SHOP)
    assert payment.gateway == "manual"


@pytest.mark.parametrize(
    ("status", "credited"),
    [
        ("voided", True),
        ("refunded", True),
        ("pending", True),
        ("paid", False),
        ("partially_refunded", False),
    ],
)
def test_cancellation_credits_the_whole_invoice_only_when_no_money_is_kept(
    status: str, credited: bool
) -> None:
    body = _order()
    body.update(financial_status=status, cancelled_at="2026-03-03T10:00:00+01:00")
    refund = refund_from_cancelled_order(ShopifyOrder.model_validate(body), shop_domain=SHOP)
    if credited:
        assert isinstance(refund, Refund)
        assert (refund.full, refund.amount, refund.lines) == (True, D(0), [])
        assert refund.provider_id == f"cancel:{body['id']}"
    else:
        assert refund is None


def test_order_that_is_not_cancelled_gives_no_cancellation_refund() -> None:
    order = ShopifyOrder.model_validate(_order())
    assert refund_from_cancelled_order(order, shop_domain=SHOP) is None


def test_refund_adjustment_signs_money_back_as_positive() -> None:
    body = copy.deepcopy(_body("refunds-create-003-restocking-fee-adjustment"))
    refund = refund_from_shopify(
        ShopifyRefund.model_validate(body), shop_domain=SHOP, taxes_included=True
    )
    # 14.90 credited, a 2.00 restocking fee kept: 12.90 goes back
    assert (refund.adjustments, refund.amount) == (D("-2.00"), D("12.90"))
    assert (
        sum((line.amount for line in refund.lines), D(0)) + refund.shipping + refund.adjustments
        == refund.amount
    )


def test_refund_line_amount_adds_tax_only_when_prices_excluded_it() -> None:
    body = _body("refunds-create-005-ht-legacy-shipping-adjustment")
    excluded = refund_from_shopify(ShopifyRefund.model_validate(body), shop_domain=SHOP)
    included = refund_from_shopify(
        ShopifyRefund.model_validate(body), shop_domain=SHOP, taxes_included=True
    )
    assert excluded.lines[0].amount == D("56.97")
    assert included.lines[0].amount == D("54.00")


def test_legacy_shipping_adjustment_is_ignored_when_refund_shipping_lines_exist() -> None:
    body = copy.deepcopy(_body("refunds-create-001-line-and-shipping"))
    body["order_adjustments"] = [
        {"id": 1, "kind": "shipping_refund", "amount": "-3.25", "tax_amount": "-0.65"}
    ]
    refund = refund_from_shopify(
        ShopifyRefund.model_validate(body), shop_domain=SHOP, taxes_included=True
    )
    assert (refund.shipping, refund.adjustments) == (D("3.90"), D(0))


def test_failed_refund_transactions_move_no_money() -> None:
    body = copy.deepcopy(_body("refunds-create-002-discounted-line"))
    body["transactions"][0]["status"] = "failure"
    refund = refund_from_shopify(
        ShopifyRefund.model_validate(body), shop_domain=SHOP, taxes_included=True
    )
    assert (refund.amount, refund.gateways, refund.currency) == (D(0), [], None)
