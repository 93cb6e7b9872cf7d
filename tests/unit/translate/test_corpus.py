"""The recorded corpus: every payload under tests/fixtures translates to its expected result.

Each `<name>.json` is a webhook body as the provider sends it; next to it,
`<name>.expected.json` holds the topic, the translation context and the whole expected
result (model dump in JSON mode, so amounts are compared as exact decimal strings).
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bridge.models import LineKind, Order, OrderEdit, Payment, Refund, TranslationError
from bridge.translate import TranslationContext, translate
from bridge.translate.stripe.balance import balance_payment_from_invoice
from connectors.shopify.versions import supported_versions
from connectors.stripe import payloads as st

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
RECORDED_ON = dt.date(2026, 11, 29)
ORDER_TOPICS = {"orders/create", "orders/updated", "invoice.paid", "invoice.finalized"}


def _cases() -> list[tuple[str, Path]]:
    return [
        (provider, path)
        for provider in ("shopify", "stripe")
        for path in sorted((FIXTURES / provider).glob("*.json"))
        # a payload is part of the corpus when its expected translation sits next to it
        if not path.name.endswith(".expected.json") and path.with_suffix(".expected.json").exists()
    ]


def _expected(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.with_suffix(".expected.json").read_text("utf-8"))
    return data


def _context(raw: dict[str, Any]) -> TranslationContext:
    values = dict(raw)
    for key in ("tolerance", "order_total", "presentment_total"):
        if values.get(key) is not None:
            values[key] = Decimal(values[key])
    if "checkout_line_items" in values:
        # a Checkout Session's line items: the recorded API answer they were read from
        page = json.loads(
            (FIXTURES / "stripe" / f"{values['checkout_line_items']}.json").read_text()
        )
        values["checkout_line_items"] = page["data"]
    return TranslationContext(**values)


def _dump(result: object) -> object:
    if result is None:
        return None
    if isinstance(result, list):
        return [item.model_dump(mode="json") for item in result]
    assert isinstance(result, Order | Payment | Refund | OrderEdit)
    return result.model_dump(mode="json")


CASES = _cases()


@pytest.mark.parametrize(("provider", "path"), CASES, ids=[p.stem for _, p in CASES])
def test_payload_translates_to_its_whole_expected_result(provider: str, path: Path) -> None:
    # given a recorded body and its expected translation
    expected = _expected(path)
    body = json.loads(path.read_text("utf-8"))

    if "error" in expected:
        # when it is translated, then it is refused with the expected message
        with pytest.raises(TranslationError) as refused:
            translate(provider, expected["topic"], body, _context(expected["context"]))
        assert str(refused.value) == expected["error"]
        return

    # when it is translated
    result = translate(provider, expected["topic"], body, _context(expected["context"]))

    # then the whole result is the expected one
    assert _dump(result) == expected["result"]
    if isinstance(result, Order):
        # and Sage's computed total equals the provider's total to the cent
        assert result.sage_total == result.total
        assert result.net_total + result.vat_total == result.total
        # and the expected file round-trips into an equal model
        assert Order.model_validate(expected["result"]) == result
    if "balance_payment" in expected:
        # and the part paid from the customer's credit balance is the expected payment
        invoice = st.StripeInvoice.model_validate(body["data"]["object"])
        paid = balance_payment_from_invoice(invoice, account=result.account)
        assert _dump(paid) == expected["balance_payment"]


def _orders() -> list[tuple[Order, dict[str, Any]]]:
    found = []
    for provider, path in CASES:
        expected = _expected(path)
        if expected["topic"] in ORDER_TOPICS and "error" not in expected:
            body = json.loads(path.read_text("utf-8"))
            result = translate(provider, expected["topic"], body, _context(expected["context"]))
            assert isinstance(result, Order)
            found.append((result, body))
    return found


def test_corpus_covers_what_the_issue_lists() -> None:
    topics = {_expected(path)["topic"] for _, path in CASES}
    assert {
        "order_transactions/create",
        "orders/paid",
        "orders/cancelled",
        "refunds/create",
    } <= topics
    assert {
        "payment_intent.succeeded",
        "charge.succeeded",
        "charge.refunded",
        "refund.created",
        "invoice_payment.paid",
    } <= topics
    # every Stripe API version the bridge supports, the oldest and the newest
    versions = {
        json.loads(path.read_text("utf-8")).get("api_version")
        for provider, path in CASES
        if provider == "stripe"
    }
    assert {"2024-06-20", "2026-10-28.endive"} <= versions
    orders = _orders()
    assert len(orders) >= 30
    shopify = [o for o, _ in orders if o.provider == "shopify"]
    assert any(o.taxes_included for o in shopify)
    assert any(not o.taxes_included for o in shopify)
    rates = {line.vat_rate for o, _ in orders for line in o.lines}
    assert {Decimal("20"), Decimal("10"), Decimal("5.5"), Decimal("2.1"), Decimal("0")} <= rates
    assert any(line.discount_percent > 0 for o in shopify for line in o.lines)
    assert any(o.rounding != 0 for o in shopify)
    assert any(o.customer is not None and o.customer.provider_id is None for o in shopify)
    countries = {
        o.customer.address.country_code
        for o, _ in orders
        if o.customer is not None and o.customer.address is not None
    }
    assert {"FR", "BE", "DE", "ES", "US", "CH"} <= countries
    assert any("gift_card" in o.gateways for o in shopify)
    assert any(o.currency == "JPY" for o, _ in orders)
    assert any(o.provider == "stripe" and len(o.lines) > 1 for o, _ in orders)
    assert {"checkout.session.completed", "credit_note.created"} <= topics
    # changes inside Stripe invoices, in both versions: prorations (credit lines of
    # negative quantity), a negative total, and a part paid from the customer's balance
    stripe_orders = [(o, body) for o, body in orders if o.provider == "stripe"]
    for version in ("2024-06-20", "2026-10-28.endive"):
        mine = [o for o, body in stripe_orders if body.get("api_version") == version]
        assert any(any(line.quantity < 0 for line in o.lines) and o.total > 0 for o in mine)
        assert any(o.total < 0 for o in mine)
    balances = [e for _, p in CASES if (e := _expected(p)).get("balance_payment")]
    assert len(balances) >= 2
    for order, body in orders:
        if order.provider == "shopify":
            # independent of the translator: the body's own shop-money total, and what the
            # customer paid in cash above or below it (point-of-sale cash rounding)
            cash = body.get("total_cash_rounding_payment_adjustment_set")
            rounded = Decimal(cash["shop_money"]["amount"]) if cash else Decimal(0)
            total = Decimal(body["total_price_set"]["shop_money"]["amount"])
            assert order.total == total + rounded
    kinds = {line.kind for o in shopify for line in o.lines}
    assert set(LineKind) <= kinds  # duties, fees, tips, gift cards, cash rounding too
    assert any(o.presentment is not None and o.presentment.currency == "GBP" for o in shopify)


def test_corpus_has_payloads_of_the_oldest_and_newest_supported_api_versions() -> None:
    # the versions Shopify supported when the newest payloads were recorded
    window = supported_versions(RECORDED_ON)
    versions: dict[str, set[str]] = {}
    for provider, path in CASES:
        expected = _expected(path)
        version = expected["context"].get("api_version")
        if provider == "shopify" and version is not None:
            assert version in path.stem  # the version is in the name too
            versions.setdefault(expected["topic"], set()).add(version)
    for topic in ("orders/create", "order_transactions/create", "refunds/create", "orders/edited"):
        assert {window[0], window[-1]} <= versions.get(topic, set()), topic


def test_corpus_covers_refunds_by_amount_in_each_supported_version() -> None:
    # Stripe credit notes by amount and partial refunds, in both API versions' shapes;
    # Shopify refunds with order adjustments in the oldest and newest supported versions
    by_version: dict[str, set[str]] = {}
    for provider, path in CASES:
        body = json.loads(path.read_text("utf-8"))
        expected = _expected(path)
        result = expected.get("result")
        if not isinstance(result, dict) or result.get("adjustments") in (None, "0", "0.00"):
            continue
        version = (
            body.get("api_version", "")
            if provider == "stripe"
            else expected["context"].get("api_version", "")
        )
        by_version.setdefault(expected["topic"], set()).add(version)
    assert {"2024-06-20", "2026-10-28.endive"} <= by_version["credit_note.created"]
    assert "2026-10-28.endive" in by_version["refund.created"]
    assert "2026-10-28.endive" in by_version["charge.refunded"]
    assert {"2026-01", "2026-10"} <= by_version["refunds/create"]
