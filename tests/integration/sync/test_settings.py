"""Stripe Billing with source numbering, and invoicing on payment."""

from __future__ import annotations

from decimal import Decimal

from tests.support.make_pipeline import MakePipeline
from tests.support.pipeline import SHOP, Pipeline, payload

STRIPE_ORDER = "stripe:default:in_1QmG1aBDemoInv0001"


def test_stripe_invoice_keeps_its_number_and_a_partial_refund_is_credited(
    make_pipeline: MakePipeline,
) -> None:
    pipeline: Pipeline = make_pipeline(BRIDGE_NUMBERING="source")

    order = pipeline.deliver(
        "stripe", "invoice.paid", payload("stripe", "invoice-paid-001-several-lines-exclusive-tax")
    )
    pay = pipeline.deliver(
        "stripe", "charge.succeeded", payload("stripe", "charge-succeeded-002-invoice-payment")
    )
    refund = pipeline.deliver(
        "stripe",
        "refund.created",
        payload("stripe", "refund-created-001-invoice-partial-linked-by-caller"),
    )

    assert (order.status, pay.status, refund.status) == ("processed", "processed", "processed")
    invoice = pipeline.invoice(STRIPE_ORDER)
    assert invoice.operational_number == "BDEMO-0042"
    assert invoice.status == "Collected"
    assert invoice.total_liquid == Decimal("282.00")
    notes = [d for d in pipeline.documents(STRIPE_ORDER) if d.type == "CREDIT_NOTE"]
    assert [(n.status, n.total_liquid) for n in notes] == [("Posted", Decimal("-20.00"))]
    assert pipeline.services.attention.items() == []


def test_invoice_on_payment_waits_for_the_payment(make_pipeline: MakePipeline) -> None:
    pipeline: Pipeline = make_pipeline(BRIDGE_INVOICE_ON="payment")
    reference = f"shopify:{SHOP}:5910000001013"

    pipeline.deliver(
        "shopify", "orders/create", payload("shopify", "orders-create-001-ttc-single-mug")
    )
    link = pipeline.services.links.order(reference)
    assert link is not None
    assert link.invoice_id is None
    pipeline.deliver(
        "shopify",
        "order_transactions/create",
        payload("shopify", "order-transactions-create-001-sale-shopify-payments"),
    )

    assert pipeline.invoice(reference).status == "Collected"
