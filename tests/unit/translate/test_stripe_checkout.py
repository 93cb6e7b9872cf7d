"""Checkout Sessions and credit notes: what the recorded corpus does not show on its own."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import pytest

from bridge.models import LineKind, TranslationError
from bridge.translate import TranslationContext, translate
from bridge.translate.stripe.checkout import (
    derived_rate,
    payment_from_checkout_session,
    skip_reason,
)
from connectors.stripe.checkout import CheckoutSession
from tests.support.pipeline import payload

TTC = "checkout-session-completed-001-2024-ttc-two-rates-coupon-shipping"
B2B = "checkout-session-completed-002-endive-b2b-two-rates-amount-off-shipping"
NOTE_2024 = "credit-note-created-001-2024-one-line-refunded"
NOTE_ENDIVE = "credit-note-created-002-endive-one-line-refunded"


def _session(name: str = TTC) -> dict[str, Any]:
    obj: dict[str, Any] = copy.deepcopy(payload("stripe", name)["data"]["object"])
    return obj


def _items(name: str = TTC) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = payload("stripe", f"{name}.line_items")["data"]
    return data


def _order(session: dict[str, Any], items: list[dict[str, Any]]) -> Any:
    context = TranslationContext(checkout_line_items=items)
    return translate("stripe", "checkout.session.completed", session, context)


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"mode": "subscription"}, "'subscription' mode"),
        ({"mode": "setup", "payment_status": "no_payment_required"}, "'setup' mode"),
        ({"payment_status": "unpaid"}, "async_payment_succeeded"),
        ({"invoice": "in_1QnCBDemo"}, "through that invoice"),
        ({"invoice_creation": {"enabled": True}}, "through that invoice"),
    ],
)
def test_sessions_that_are_no_sale_of_their_own_are_skipped_with_the_reason(
    change: dict[str, Any], why: str
) -> None:
    # given a session that is not a one-off paid sale
    session = {**_session(), **change}

    # when it is read, then it is skipped with the reason, and translates to nothing
    reason = skip_reason(CheckoutSession.model_validate(session))
    assert reason is not None
    assert why in reason
    assert _order(session, _items()) is None


def test_line_items_are_required_for_a_sale() -> None:
    with pytest.raises(TranslationError, match="line items were not read"):
        translate("stripe", "checkout.session.completed", _session(), TranslationContext())


def test_taxes_not_expanded_give_the_rate_from_the_amounts() -> None:
    # given line items read without `expand[]=data.taxes` (no rate objects)
    items = copy.deepcopy(_items())
    for item in items:
        item.pop("taxes")
    session = _session()
    session["shipping_cost"].pop("taxes")

    # when translated, then the rates come from tax / taxable amount, as with the objects
    order = _order(session, items)
    assert [line.vat_rate for line in order.lines] == [Decimal(20), Decimal("5.5"), Decimal(20)]
    assert order == _order(_session(), _items())


def test_amounts_that_do_not_add_up_are_refused() -> None:
    items = copy.deepcopy(_items())
    items[0]["amount_total"] += 1
    with pytest.raises(TranslationError, match="li_1QnC11BDemoLineItm: amount_total"):
        _order(_session(), items)


def test_a_total_the_lines_miss_beyond_the_tolerance_is_refused() -> None:
    session = _session()
    session["amount_total"] += 100
    with pytest.raises(TranslationError, match=r"provider's total is 52\.35 EUR"):
        _order(session, _items())


@pytest.mark.parametrize(
    ("tax", "taxable", "rate"),
    [(0, 1234, "0"), (100, 499, "20"), (97, 1766, "5.5"), (21, 1000, "2.1"), (1089, 5444, "20")],
)
def test_derived_rate_is_the_simplest_that_gives_the_tax(tax: int, taxable: int, rate: str) -> None:
    assert derived_rate(tax, taxable, "line") == Decimal(rate)


def test_a_tax_no_rate_explains_is_refused() -> None:
    with pytest.raises(TranslationError, match="no VAT rate"):
        derived_rate(1, 100_000, "line")  # one cent on 1,000.00: below 0.01 %
    with pytest.raises(TranslationError, match="no VAT rate"):
        derived_rate(150, 100, "line")
    with pytest.raises(TranslationError, match="taxable amount of 0"):
        derived_rate(5, 0, "line")


def test_the_payment_is_keyed_by_the_payment_intent() -> None:
    session = CheckoutSession.model_validate(_session(B2B))
    payment = payment_from_checkout_session(session, account="acct_1Conn")
    assert payment is not None
    assert payment.provider_id == "pi_3QnC2BDemoCheckoutPI"
    assert payment.order_reference == "stripe:acct_1Conn:cs_test_b1QnC2BDemoSessionB2b"
    assert payment.amount == Decimal("120.89")


def test_a_free_session_has_no_payment() -> None:
    session = CheckoutSession.model_validate({**_session(), "amount_total": 0})
    assert payment_from_checkout_session(session, account="default") is None


def test_the_connect_account_names_the_sale() -> None:
    event = payload("stripe", TTC)
    event["account"] = "acct_1Conn"
    context = TranslationContext(checkout_line_items=_items())
    order = translate("stripe", "checkout.session.completed", event, context)
    assert order is not None
    assert order.reference == "stripe:acct_1Conn:cs_test_b1QnC1BDemoSessionTtc"


def _note(name: str) -> dict[str, Any]:
    obj: dict[str, Any] = copy.deepcopy(payload("stripe", name)["data"]["object"])
    return obj


@pytest.mark.parametrize("name", [NOTE_2024, NOTE_ENDIVE])
def test_a_custom_line_is_money_tied_to_no_invoice_line(name: str) -> None:
    # given a credit note with a line of the invoice and a custom amount of 5.00
    note = _note(name)
    custom = copy.deepcopy(note["lines"]["data"][0])
    custom.update(id="cnli_custom", type="custom_line_item", invoice_line_item=None, amount=500)
    custom["tax_amounts" if name == NOTE_2024 else "taxes"] = []
    note["lines"]["data"].append(custom)
    note["total"] += 500

    # when translated, then the line is credited by quantity and the 5.00 is an adjustment
    refund = translate("stripe", "credit_note.created", note, TranslationContext())
    assert refund is not None
    assert [(ln.provider_line_id, ln.amount) for ln in refund.lines] == [
        ("il_1QmG1aBDemoLine0001", Decimal("58.80"))
    ]
    assert refund.adjustments == Decimal("5.00")
    assert refund.lines[0].kind is LineKind.PRODUCT


@pytest.mark.parametrize("name", [NOTE_2024, NOTE_ENDIVE])
def test_inclusive_taxes_are_not_added_twice(name: str) -> None:
    note = _note(name)
    line = note["lines"]["data"][0]
    line["amount"], note["total"] = 5880, 5880
    if name == NOTE_2024:
        line["tax_amounts"][0]["inclusive"] = True
    else:
        line["taxes"][0]["tax_behavior"] = "inclusive"
    refund = translate("stripe", "credit_note.created", note, TranslationContext())
    assert refund is not None
    assert refund.lines[0].amount == Decimal("58.80")
    assert refund.adjustments == Decimal("0.00")


def test_a_line_charged_no_tax_is_at_zero_percent_whatever_rate_is_listed() -> None:
    # given a reverse-charge sale: the 20 % rate is listed but no tax is charged
    session, items = _session(B2B), copy.deepcopy(_items(B2B))
    for item in items:
        item["amount_total"] -= item["amount_tax"]
        item["amount_tax"] = 0
        item["taxes"][0]["amount"] = 0
    session["shipping_cost"].update(amount_tax=0, amount_total=800)
    session["amount_total"] = 10800 - 1000 + 800

    order = _order(session, items)

    assert [line.vat_rate for line in order.lines] == [Decimal(0)] * 3
    assert order.total == Decimal("106.00")
