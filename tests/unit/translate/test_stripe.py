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
from bridge.translate.stripe import (
    order_from_stripe_invoice,
    payment_from_stripe,
    refund_from_stripe,
)
from connectors.stripe.payloads import (
    StripeCharge,
    StripeInvoice,
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


def test_tax_without_a_rate_object_is_refused() -> None:
    body = _invoice()
    body["lines"]["data"][0]["tax_rates"] = []
    with pytest.raises(TranslationError, match="il_1QmG1aBDemoLine0001: tax charged"):
        order_from_stripe_invoice(
            StripeInvoice.model_validate(body), account="default", tolerance=D("0.05")
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
