"""The demo's sample events: signed so that the bridge's own verifiers accept them, fresh ids
per run, and the references the pipeline will write in Sage."""

from __future__ import annotations

import io
import time

from bridge.dev.demo import Progress
from bridge.dev.demo_data import SHOP_DOMAIN, demo_run
from bridge.dev.outcome import Document, EventView, InvoiceView, Outcome
from connectors.shopify import webhook as shopify_webhook
from connectors.stripe import webhook as stripe_webhook


def test_events_are_signed_as_the_providers_sign_them() -> None:
    run = demo_run(1234)
    for event in (run.order, run.payment, run.refund):
        headers = event.headers("shop-secret")
        shopify_webhook.verify(event.body, headers["X-Shopify-Hmac-Sha256"], [b"shop-secret"])
        assert headers["X-Shopify-Topic"] == event.topic
    for event in (run.invoice, run.invoice_payment, run.charge):
        headers = event.headers("whsec_demo", now=time.time())
        stripe_webhook.verify(event.body, headers["Stripe-Signature"], ["whsec_demo"], 300)


def test_each_run_gets_fresh_ids_that_point_at_each_other() -> None:
    one, two = demo_run(1), demo_run(2)
    assert {e.ref for e in one.events}.isdisjoint({e.ref for e in two.events})
    order_id = one.order.payload["id"]
    assert one.payment.payload["order_id"] == order_id
    assert one.refund.payload["order_id"] == order_id
    assert one.order_reference == f"shopify:{SHOP_DOMAIN}:{order_id}"
    invoice = one.invoice.payload["data"]["object"]
    payment = one.invoice_payment.payload["data"]["object"]
    charge = one.charge.payload["data"]["object"]
    assert payment["invoice"] == invoice["id"]
    assert payment["payment"]["payment_intent"] == charge["payment_intent"]
    assert "invoice" not in charge  # the current API's shapes
    assert {e.payload["api_version"] for e in (one.invoice, one.invoice_payment, one.charge)} == {
        "2026-10-28.endive"
    }
    assert one.stripe_reference == f"stripe:default:{invoice['id']}"


def test_progress_without_a_terminal_prints_plain_lines_once() -> None:
    out = io.StringIO()
    progress = Progress(out)
    progress.show("waiting")
    progress.show("waiting")
    progress.done("order processed")
    assert out.getvalue() == "... waiting\nok  order processed\n"


def test_outcome_lists_what_is_missing() -> None:
    invoice = Document("invoice", "0001", "Posted", None)
    outcome = Outcome(
        events=[EventView("order", "shopify:1", "orders/create", "failed", None, "boom")],
        invoices=[InvoiceView("Order #1", "shopify:x:1", invoice), InvoiceView("Inv", "stripe:x")],
        received=[],
    )
    missing = outcome.missing()
    assert outcome.failed()
    assert "event order is failed" in missing
    assert "Order #1: invoice Posted, expected Collected once paid" in missing
    assert "Order #1: no credit note for its refund" in missing
    assert "Inv: invoice not created, expected Posted or Collected" in missing
    assert "outbound: no invoice.credited received" in missing
