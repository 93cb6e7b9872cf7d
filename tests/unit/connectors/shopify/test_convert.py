"""GraphQL objects converted to webhook bodies translate exactly as the webhooks do.

Each recorded Shopify webhook payload of the corpus is turned into the GraphQL object
Shopify's Admin API returns for it (`tests.support.shopify_shapes`, written from the
GraphQL schema), converted back by `connectors.shopify.convert`, and translated: the
result must equal the translation of the webhook body itself.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bridge.translate import translate
from connectors.shopify import convert
from tests.support import shopify_shapes
from tests.unit.translate.test_corpus import CASES, _context, _expected

# every Shopify payload but the order edits (`orders/edited`): the Admin API gives orders,
# transactions and refunds (what the backfill reads), an edit is no object of its own there
SHOPIFY = [
    path
    for provider, path in CASES
    if provider == "shopify" and _expected(path)["topic"] != "orders/edited"
]


def through_graphql(topic: str, body: dict[str, Any]) -> dict[str, Any]:
    if topic.startswith("orders/"):
        return convert.order_body(shopify_shapes.order(body, []))
    if topic == "refunds/create":
        currency = "EUR"
        return convert.refund_body(shopify_shapes.refund(body, currency), body["order_id"])
    return convert.transaction_body(shopify_shapes.transaction(body), body["order_id"])


@pytest.mark.parametrize("path", SHOPIFY, ids=[p.stem for p in SHOPIFY])
def test_a_converted_graphql_object_translates_like_its_webhook(path: Path) -> None:
    # given a webhook body and the same object as the GraphQL Admin API gives it
    expected = _expected(path)
    topic, context = expected["topic"], _context(expected["context"])
    body = json.loads(path.read_text("utf-8"))

    # when the GraphQL object is converted back to a webhook body
    converted = through_graphql(topic, body)

    # then both translate to the same result
    assert translate("shopify", topic, converted, context) == translate(
        "shopify", topic, body, context
    )


def test_global_ids_and_money_bags() -> None:
    assert convert.legacy_id("gid://shopify/Order/5910000003039") == 5910000003039
    with pytest.raises(ValueError, match="not a Shopify global id"):
        convert.legacy_id("5910000003039")
    bag = {"shopMoney": {"amount": "162.04", "currencyCode": "EUR"},
           "presentmentMoney": {"amount": "142.32", "currencyCode": "GBP"}}  # fmt: skip
    assert convert.money_set(bag) == {
        "shop_money": {"amount": "162.04", "currency_code": "EUR"},
        "presentment_money": {"amount": "142.32", "currency_code": "GBP"},
    }
    tx = convert.transaction_body(
        {"id": "gid://shopify/OrderTransaction/7", "kind": "SALE", "status": "SUCCESS",
         "gateway": "shopify_payments", "amountSet": bag, "createdAt": "2026-03-03T14:02:51Z",
         "parentTransaction": {"id": "gid://shopify/OrderTransaction/6"}},
        order_id=5,
    )  # fmt: skip
    assert (tx["id"], tx["kind"], tx["status"], tx["amount"], tx["currency"], tx["parent_id"]) == (
        7, "sale", "success", "142.32", "GBP", 6
    )  # fmt: skip


def test_a_markets_order_keeps_both_currencies() -> None:
    bag = {"shopMoney": {"amount": "162.04", "currencyCode": "EUR"},
           "presentmentMoney": {"amount": "142.32", "currencyCode": "GBP"}}  # fmt: skip
    body = convert.order_body(
        {"id": "gid://shopify/Order/42", "name": "#1042", "currencyCode": "EUR",
         "presentmentCurrencyCode": "GBP", "totalPriceSet": bag, "totalTipReceivedSet": bag,
         "displayFinancialStatus": "PARTIALLY_PAID", "displayFulfillmentStatus": "FULFILLED",
         "lineItems": {"edges": [{"node": {"id": "gid://shopify/LineItem/7", "title": "Wine",
                                           "quantity": 1, "originalUnitPriceSet": bag,
                                           "isGiftCard": True}}]}}
    )  # fmt: skip
    assert (body["id"], body["order_number"], body["currency"], body["presentment_currency"]) == (
        42, 1042, "EUR", "GBP"
    )  # fmt: skip
    assert (body["total_price"], body["total_tip_received"]) == ("162.04", "162.04")  # shop money
    assert body["total_price_set"]["presentment_money"] == {"amount": "142.32",
                                                            "currency_code": "GBP"}  # fmt: skip
    assert (body["financial_status"], body["fulfillment_status"]) == ("partially_paid", "fulfilled")
    line = body["line_items"][0]
    assert (line["id"], line["price"], line["gift_card"]) == (7, "162.04", True)


def test_an_exchange_adjustment_and_refunded_duties_keep_their_shop_money() -> None:
    # given a Markets capture converted by Shopify Payments, and a refund giving duties back
    gbp = {"amount": "42.32", "currencyCode": "GBP"}
    tx = {"id": "gid://shopify/OrderTransaction/9", "kind": "CAPTURE", "status": "SUCCESS",
          "amountSet": {"shopMoney": gbp, "presentmentMoney": gbp},
          "currencyExchangeAdjustment": {
              "id": "gid://shopify/CurrencyExchangeAdjustment/88",
              "adjustment": {"amount": "0.0", "currencyCode": "EUR"},
              "originalAmountSet": {"amount": "48.18", "currencyCode": "EUR"},
              "finalAmountSet": {"amount": "48.18", "currencyCode": "EUR"}}}  # fmt: skip
    eur = {"shopMoney": {"amount": "4.50", "currencyCode": "EUR"},
           "presentmentMoney": {"amount": "5.10", "currencyCode": "CHF"}}  # fmt: skip
    refund = {"id": "gid://shopify/Refund/3", "createdAt": "2026-11-20T08:12:00Z",
              "duties": [{"amountSet": eur, "originalDuty": {"id": "gid://shopify/Duty/1"}},
                         {"amountSet": eur, "originalDuty": None}]}  # fmt: skip

    # when both are converted
    body = convert.transaction_body(tx, order_id=5)
    refunded = convert.refund_body(refund, order_id=5)

    # then the webhook fields carry them
    assert body["currency_exchange_adjustment"] == {
        "id": 88, "adjustment": "0.0", "original_amount": "48.18", "final_amount": "48.18",
        "currency": "EUR"}  # fmt: skip
    assert [d["duty_id"] for d in refunded["duties"]] == [1, None]
    assert refunded["total_duties_set"] == {
        "shop_money": {"amount": "9.00", "currency_code": "EUR"},
        "presentment_money": {"amount": "10.20", "currency_code": "CHF"},
    }


def test_tip_lines_are_the_lines_of_tip_sales() -> None:
    money = {"shopMoney": {"amount": "2.00", "currencyCode": "EUR"},
             "presentmentMoney": {"amount": "2.00", "currencyCode": "EUR"}}  # fmt: skip
    lines = [{"id": f"gid://shopify/LineItem/{n}", "title": "x", "quantity": 1,
              "originalUnitPriceSet": money} for n in (1, 2)]  # fmt: skip
    sales = [{"lineType": "PRODUCT", "lineItem": {"id": lines[0]["id"]}},
             {"lineType": "TIP", "lineItem": {"id": lines[1]["id"]}}]  # fmt: skip
    body = convert.order_body(
        {"id": "gid://shopify/Order/1", "name": "#1", "currencyCode": "EUR",
         "totalPriceSet": money, "lineItems": {"nodes": lines},
         "agreements": {"nodes": [{"sales": {"nodes": sales}}]}}
    )  # fmt: skip
    assert ["tip_payment_gateway" in line for line in body["line_items"]] == [False, True]
