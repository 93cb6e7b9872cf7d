"""Stripe translation beyond the corpus: links, refusals, minor units, event envelopes."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bridge.models import Order, Payment, Refund, TranslationError
from bridge.translate import TranslationContext, translate
from bridge.translate.stripe.objects import (
    invoice_payment_id,
    order_from_stripe_invoice,
    payment_from_invoice_payment,
    payment_from_stripe,
    refund_from_stripe,
)
from bridge.translate.stripe.taxes import LineTaxes
from connectors.stripe.payloads import (
    StripeCharge,
    StripeInvoice,
    StripeInvoicePayment,
    StripePaymentIntent,
    StripeRefund,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "stripe"
D = Decimal


def _object(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text("utf-8"))
    return copy.deepcopy(event["data"]["object"])


def _invoice(name: str = "invoice-paid-001-several-lines-exclusive-tax") -> dict[str, Any]:
    return _object(name)


def test_paginated_lines_are_refused() -> None:
    body = _invoice()
    body["lines"]["has_more"] = True
    with pytest.raises(TranslationError, match="has_more"):
        order_from_stripe_invoice(
            StripeInvoice.model_validate(body), account="default", tolerance=D("0.05")
        )


def _order(body: dict[str, Any], **kwargs: Any) -> Order:
    return order_from_stripe_invoice(
        StripeInvoice.model_validate(body), account="default", tolerance=D("0"), **kwargs
    )


def test_a_rate_given_by_id_only_is_derived_from_the_amounts_2024_06_20() -> None:
    # given the old shape with its tax rates named only by id (not expanded)
    body = _invoice()
    for line in body["lines"]["data"]:
        line["tax_rates"] = []

    # then the rate comes from tax_amounts[].amount / taxable_amount, the same as expanded
    assert _order(body, api_version="2024-06-20") == _order(_invoice())


def test_tax_without_rate_or_taxable_amount_is_refused() -> None:
    body = _invoice()
    for line in body["lines"]["data"]:
        line["tax_rates"] = []
        for tax in line["tax_amounts"]:
            tax["taxable_amount"] = None
    with pytest.raises(TranslationError, match="il_1QmG1aBDemoLine0001: tax charged at rate"):
        _order(body)


ENDIVE = "invoice-paid-101-endive-one-line-20-vat-rate-id-only"


def test_a_derived_rate_the_books_do_not_know_is_refused_never_zero() -> None:
    body = _invoice(ENDIVE)
    with pytest.raises(TranslationError, match=r"charges 2000 on 10000.*20 %.*\(10 %, 0 %\)"):
        _order(body, api_version="2026-10-28.endive", vat_rates=(D(10), D(0)))
    # 19.6 % is not a rate of the books either: no nearest guess
    body["lines"]["data"][0]["taxes"][0]["amount"] = 1960
    with pytest.raises(TranslationError, match=r"19\.6 %"):
        _order(body, api_version="2026-10-28.endive")


def test_a_rate_is_derived_over_every_line_of_the_invoice_within_stripes_rounding() -> None:
    # given three lines of 0.99 at 5.5 %: 0.05445 each, rounded to 0.05 per line
    body = _invoice(ENDIVE)
    line = body["lines"]["data"][0]
    tax = line["taxes"][0]
    tax.update(amount=5, taxable_amount=99, tax_rate_details={"tax_rate": "txr_1TDemoTva055"})
    line.update(amount=99)
    lines = [dict(line, id=f"il_{n}") for n in range(3)]
    body["lines"]["data"] = lines
    body["total"] = 3 * 104
    order = _order(body, api_version="2026-10-28.endive")
    assert {ln.vat_rate for ln in order.lines} == {D("5.5")}


def test_a_proration_credit_does_not_cancel_the_rate_out() -> None:
    # given a charge of 100.00 and a proration credit of -99.99 at the same rate (id only):
    # summed with their signs, 0.00 of tax on 0.01 would read as 0 %
    body = _invoice(ENDIVE)
    line = body["lines"]["data"][0]
    credit = copy.deepcopy(line)
    credit.update(id="il_credit", amount=-9999, description="Temps non utilisé")
    credit["taxes"][0].update(amount=-2000, taxable_amount=-9999)
    body["lines"]["data"].append(credit)
    invoice = StripeInvoice.model_validate(body)

    taxes = LineTaxes(invoice, api_version="2026-10-28.endive")

    assert [taxes.rate(ln) for ln in invoice.lines.data] == [D(20), D(20)]


def test_the_event_api_version_decides_the_shape_read() -> None:
    event = json.loads((FIXTURES / f"{ENDIVE}.json").read_text("utf-8"))
    # an endive line has no tax_rates / tax_amounts: read as old shapes, no tax would show
    event["api_version"] = "2024-06-20"
    with pytest.raises(TranslationError, match=r"120\.00 EUR"):
        translate("stripe", "invoice.paid", event, TranslationContext())
    event["api_version"] = "2025-03-31.basil"
    order = translate("stripe", "invoice.paid", event, TranslationContext())
    assert isinstance(order, Order)
    assert order.vat_total == D("20.00")
    # a bare object (no event, no version) is read by the fields it carries
    bare = translate("stripe", "invoice.paid", event["data"]["object"], TranslationContext())
    assert bare == order


def test_a_line_with_no_tax_entry_bears_no_vat() -> None:
    body = _invoice(ENDIVE)
    body["lines"]["data"][0]["taxes"] = None
    body["total"] = 10000
    order = _order(body, api_version="2026-10-28.endive")
    assert (order.lines[0].vat_rate, order.total) == (D(0), D("100.00"))


def _invoice_payment(**payment: Any) -> StripeInvoicePayment:
    body = _object("invoice-payment-paid-101-endive-payment-intent")
    if payment:
        body["payment"] = payment
    return StripeInvoicePayment.model_validate(body)


def test_invoice_payment_is_keyed_like_its_charge_and_payment_intent() -> None:
    charge = _object("charge-succeeded-101-endive-no-invoice-linked-by-caller")
    by_intent = payment_from_invoice_payment(_invoice_payment(), account="default")
    by_charge = payment_from_invoice_payment(
        _invoice_payment(type="charge", charge=charge["id"]), account="default"
    )
    recorded = _invoice_payment(type="payment_record", payment_record="pr_1")
    assert by_intent is not None
    assert by_charge is not None
    assert by_intent.provider_id == charge["payment_intent"]
    assert by_charge.provider_id == charge["id"]
    assert invoice_payment_id(recorded) == recorded.id
    expanded = _invoice_payment(type="payment_intent", payment_intent={"id": "pi_9", "x": 1})
    assert invoice_payment_id(expanded) == "pi_9"


def test_an_invoice_payment_not_paid_books_nothing() -> None:
    body = _object("invoice-payment-paid-101-endive-payment-intent")
    body.update(status="open", amount_paid=None)
    assert (
        payment_from_invoice_payment(StripeInvoicePayment.model_validate(body), account="a") is None
    )


def test_expanded_tax_amount_rate_is_enough() -> None:
    body = _invoice()
    line = body["lines"]["data"][0]
    line["tax_amounts"][0]["tax_rate"] = line.pop("tax_rates")[0]
    order = order_from_stripe_invoice(
        StripeInvoice.model_validate(body), account="default", tolerance=D("0")
    )
    assert order.lines[0].vat_rate == D(20)


def test_invoice_total_beyond_tolerance_is_refused() -> None:
    body = _invoice()
    body["total"] += 100
    with pytest.raises(TranslationError, match=r"BDEMO-0042.*282\.00 EUR.*283\.00 EUR"):
        order_from_stripe_invoice(
            StripeInvoice.model_validate(body), account="default", tolerance=D("0.05")
        )


def test_invoice_keeps_stripe_number_as_source_number() -> None:
    order = order_from_stripe_invoice(
        StripeInvoice.model_validate(_invoice()), account="acct_1", tolerance=D("0")
    )
    assert (order.source_number, order.external_reference) == ("BDEMO-0042", "BDEMO-0042")
    assert order.reference == "stripe:acct_1:in_1QmG1aBDemoInv0001"


def _intent(**changes: Any) -> StripePaymentIntent:
    body = _object("payment-intent-succeeded-001-shopify-metadata")
    body.update(changes)
    return StripePaymentIntent.model_validate(body)


def test_payment_link_precedence_order_reference_then_shopify_then_invoice() -> None:
    both = {"order_reference": "stripe:default:in_9", "shopify_order_id": "1", "shop_domain": "s"}
    assert payment_from_stripe(_intent(metadata=both), account="default").order_reference == (
        "stripe:default:in_9"
    )
    shopify = {"shopify_order_id": "42", "shop_domain": "shop.myshopify.com"}
    assert payment_from_stripe(
        _intent(metadata=shopify, invoice="in_1"), account="default"
    ).order_reference == ("shopify:shop.myshopify.com:42")
    assert payment_from_stripe(
        _intent(metadata={}, invoice="in_1"), account="acct_9"
    ).order_reference == ("stripe:acct_9:in_1")


def test_unlinked_payment_is_refused_with_a_hint() -> None:
    with pytest.raises(TranslationError, match="not linked to an order"):
        payment_from_stripe(_intent(metadata={"shopify_order_id": "42"}), account="default")


def test_payment_that_did_not_succeed_is_refused() -> None:
    with pytest.raises(TranslationError, match="no money received"):
        payment_from_stripe(_intent(status="processing", amount_received=0), account="default")


def test_charge_and_its_payment_intent_give_the_same_payment_id() -> None:
    charge = StripeCharge.model_validate(_object("charge-succeeded-002-invoice-payment"))
    intent_body = _object("payment-intent-succeeded-001-shopify-metadata")
    intent_body.update(
        id=charge.payment_intent, invoice=charge.invoice, metadata={}, amount_received=charge.amount
    )
    from_charge = payment_from_stripe(charge, account="default")
    from_intent = payment_from_stripe(
        StripePaymentIntent.model_validate(intent_body), account="default"
    )
    assert from_charge.provider_id == from_intent.provider_id == charge.payment_intent
    assert from_charge.amount == from_intent.amount


def test_charge_without_payment_intent_keeps_its_own_id() -> None:
    body = _object("charge-succeeded-002-invoice-payment")
    body["payment_intent"] = None
    payment = payment_from_stripe(StripeCharge.model_validate(body), account="default")
    assert payment.provider_id == body["id"]


def test_uncaptured_charge_is_refused_directly_and_ignored_by_the_registry() -> None:
    body = _object("charge-succeeded-005-uncaptured-ignored")
    with pytest.raises(TranslationError, match="no money received"):
        payment_from_stripe(StripeCharge.model_validate(body), account="default")
    assert translate("stripe", "charge.succeeded", body, TranslationContext()) is None


def test_refund_needs_a_link_and_success() -> None:
    body = _object("refund-created-001-invoice-partial-linked-by-caller")
    with pytest.raises(TranslationError, match="not linked to an order"):
        refund_from_stripe(StripeRefund.model_validate(body), account="default")
    body["status"] = "failed"
    with pytest.raises(TranslationError, match="no money went back"):
        refund_from_stripe(
            StripeRefund.model_validate(body), account="default", order_reference="x"
        )


def test_refund_metadata_wins_over_the_callers_reference() -> None:
    body = _object("refund-created-003-metadata-order-reference")
    refund = refund_from_stripe(
        StripeRefund.model_validate(body), account="default", order_reference="other"
    )
    assert refund.order_reference == body["metadata"]["order_reference"]


def test_refunded_charge_without_listed_refunds_is_refused_directly() -> None:
    body = _object("charge-refunded-004-refunds-not-listed-ignored")
    with pytest.raises(TranslationError, match="refunds are not listed"):
        refund_from_stripe(StripeCharge.model_validate(body), account="default")


def test_charge_refunded_and_refund_created_give_the_same_refund() -> None:
    charge = StripeCharge.model_validate(_object("charge-refunded-002-listed-refund"))
    assert charge.refunds is not None
    from_charge = refund_from_stripe(charge, account="default")
    from_refund = refund_from_stripe(
        charge.refunds.data[0], account="default", order_reference=from_charge.order_reference
    )
    assert from_charge == from_refund


def test_three_decimal_currency_amounts() -> None:
    payment = translate(
        "stripe",
        "payment_intent.succeeded",
        _object("payment-intent-succeeded-003-kwd-three-decimals"),
        TranslationContext(),
    )
    assert isinstance(payment, Payment)
    assert (payment.amount, payment.currency) == (D("12.350"), "KWD")


def test_event_account_overrides_the_context_account() -> None:
    event = json.loads(
        (FIXTURES / "invoice-finalized-004-connect-reverse-charge.json").read_text("utf-8")
    )
    order = translate("stripe", "invoice.finalized", event, TranslationContext(account="default"))
    assert isinstance(order, Order)
    assert order.account == "acct_1NvDemoConnect01"
    assert order.reference.startswith("stripe:acct_1NvDemoConnect01:")


def test_bad_stripe_payloads_are_translation_errors() -> None:
    with pytest.raises(TranslationError, match=r"has no data\.object"):
        translate("stripe", "invoice.paid", {"object": "event", "data": {}}, TranslationContext())
    body = _invoice()
    body["total"] = "a lot"
    with pytest.raises(TranslationError, match=r"not a valid StripeInvoice: total"):
        translate("stripe", "invoice.paid", body, TranslationContext())
    assert translate("stripe", "customer.created", {"id": "cus_1"}, TranslationContext()) is None


def test_refund_created_through_the_registry_uses_the_callers_reference() -> None:
    refund = translate(
        "stripe",
        "refund.created",
        _object("refund-created-001-invoice-partial-linked-by-caller"),
        TranslationContext(order_reference="stripe:default:in_1QmG1aBDemoInv0001"),
    )
    assert isinstance(refund, Refund)
    assert (refund.adjustments, refund.amount, refund.full) == (D("20.00"), D("20.00"), False)
