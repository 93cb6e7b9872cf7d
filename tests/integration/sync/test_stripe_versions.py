"""Stripe payments in the shapes of `2026-10-28.endive` through the real dispatcher, Redis and
the sandbox over HTTP: invoice payments, charges that name no invoice, unlinked payments."""

from __future__ import annotations

import copy
import itertools
from collections.abc import Iterator
from decimal import Decimal

import pytest

from bridge.services import build_services
from bridge.sync.unlinked import KIND, METRIC
from tests.support.pipeline import Pipeline, SandboxControl, payload, sandbox_settings

INVOICE = "invoice-paid-101-endive-one-line-20-vat-rate-id-only"
PAYMENT = "invoice-payment-paid-101-endive-payment-intent"
CHARGE = "charge-succeeded-101-endive-no-invoice-linked-by-caller"
UNLINKED = "payment-intent-succeeded-101-endive-unlinked"
ORDER = "stripe:default:in_1TDemoEndive0101"
INTENT = "pi_3TDemoEndive0101"


@pytest.fixture
def stripe_pipeline(redis_url: str, sandbox_url: str) -> Iterator[Pipeline]:
    """A pipeline on the `default` account label, parking an unlinked payment once."""
    settings = sandbox_settings(redis_url, sandbox_url, BRIDGE_STRIPE_UNLINKED_PARKS=1)
    services = build_services(settings)
    control = SandboxControl(sandbox_url)
    try:
        yield Pipeline(services, control, itertools.count(1))
    finally:
        control.close()
        services.close()


def test_endive_invoice_posted_with_its_vat_then_collected_by_its_invoice_payment(
    stripe_pipeline: Pipeline,
) -> None:
    p = stripe_pipeline
    posted = p.deliver("stripe", "invoice.paid", payload("stripe", INVOICE))
    assert posted.status == "processed", posted.detail
    invoice = p.invoice(ORDER)
    assert (invoice.status, invoice.total_liquid, invoice.total_vat) == (
        "Posted",
        Decimal("120.00"),
        Decimal("20.00"),
    )

    paid = p.deliver("stripe", "invoice_payment.paid", payload("stripe", PAYMENT))
    assert paid.status == "processed", paid.detail
    assert p.invoice(ORDER).status == "Collected"

    # the charge of the same money names no invoice: found through the payment link
    charge = p.deliver("stripe", "charge.succeeded", payload("stripe", CHARGE))
    assert charge.status == "processed", charge.detail
    assert "already settled" in charge.detail
    assert len(p.services.sage.accounting_entries_by_document_number(INTENT)) == 1


def test_a_charge_before_its_invoice_payment_waits_then_counts_once(
    stripe_pipeline: Pipeline,
) -> None:
    p = stripe_pipeline
    charge = p.record("stripe", "charge.succeeded", payload("stripe", CHARGE))
    early = p.run(charge)
    assert early.status == "parked", early.detail
    assert "invoice_payment.paid is still coming" in early.detail

    p.deliver("stripe", "invoice.paid", payload("stripe", INVOICE))
    assert p.deliver("stripe", "invoice_payment.paid", payload("stripe", PAYMENT)).status == (
        "processed"
    )
    later = p.run(charge)  # the sweep, when the parked charge falls due

    assert later.status == "processed", later.detail
    assert p.invoice(ORDER).status == "Collected"
    assert len(p.services.sage.accounting_entries_by_document_number(INTENT)) == 1
    assert p.services.attention.items(kind=KIND) == []


def test_two_partial_invoice_payments_are_two_settlements(stripe_pipeline: Pipeline) -> None:
    p = stripe_pipeline
    first = copy.deepcopy(payload("stripe", PAYMENT))
    first["data"]["object"].update(amount_paid=7000, amount_requested=7000)
    second = copy.deepcopy(first)
    second["id"] = "evt_1TDemoEndive0299"
    second["data"]["object"].update(
        id="inpay_1TDemoEndive0199",
        amount_paid=5000,
        amount_requested=5000,
        payment={"type": "payment_intent", "payment_intent": "pi_3TDemoEndive0199"},
    )
    # the first part comes before the invoice: it waits for it
    early = p.deliver("stripe", "invoice_payment.paid", first)
    assert early.status == "parked", early.detail
    p.deliver("stripe", "invoice.paid", payload("stripe", INVOICE))
    assert p.deliver("stripe", "invoice_payment.paid", second).status == "processed"
    assert p.invoice(ORDER).status == "PartiallyCollected"
    # released when the invoice was made: what the worker then runs
    assert p.services.events.get(early_ref(p)) is not None
    assert p.run(early_ref(p)).status == "processed"

    invoice = p.invoice(ORDER)
    assert invoice.status == "Collected"
    for key in (INTENT, "pi_3TDemoEndive0199"):
        assert len(p.services.sage.accounting_entries_by_document_number(key)) == 1


def early_ref(p: Pipeline) -> str:
    page, _ = p.services.events.list(topic="invoice_payment.paid", limit=10)
    [first] = [e.ref for e in page if e.status.value in ("parked", "queued")]
    return first


def test_an_unrelated_payment_is_ignored_listed_and_counted_not_failed(
    stripe_pipeline: Pipeline,
) -> None:
    p = stripe_pipeline
    ref = p.record("stripe", "payment_intent.succeeded", payload("stripe", UNLINKED))
    assert p.run(ref).status == "parked"  # its invoice payment might still be coming

    ignored = p.run(ref)

    assert ignored.status == "ignored", ignored.detail
    record = p.services.events.get(ref)
    assert record is not None
    assert record.status.value == "ignored"
    assert "belongs to nothing the bridge books" in (record.error or "")
    [item] = p.services.attention.items(kind=KIND)
    assert (item.source, item.amount, item.currency) == (
        "pi_3TDemoEndive0901",
        Decimal("45.00"),
        "EUR",
    )
    assert p.services.metrics.values("counter", METRIC) == {'provider="stripe"': 1.0}

    # the same payment again (its charge): one item, counted once; its refund is ignored too
    charge = copy.deepcopy(payload("stripe", CHARGE))
    charge["data"]["object"].update(payment_intent="pi_3TDemoEndive0901", amount=4500)
    charge["data"]["object"].update(amount_captured=4500)
    again = p.record("stripe", "charge.succeeded", charge)
    p.run(again)
    assert p.run(again).status == "ignored"
    refund = copy.deepcopy(payload("stripe", "refund-created-001-invoice-partial-linked-by-caller"))
    refund["data"]["object"].update(payment_intent="pi_3TDemoEndive0901", charge=None)
    refunded = p.deliver("stripe", "refund.created", refund)
    assert refunded.status == "ignored", refunded.detail
    assert len(p.services.attention.items(kind=KIND)) == 1
    assert p.services.metrics.values("counter", METRIC) == {'provider="stripe"': 1.0}


def test_an_invoice_payment_after_the_parks_books_the_money_and_resolves_the_item(
    stripe_pipeline: Pipeline,
) -> None:
    p = stripe_pipeline
    charge = p.record("stripe", "charge.succeeded", payload("stripe", CHARGE))
    p.run(charge)
    assert p.run(charge).status == "ignored"
    assert [i.source for i in p.services.attention.items(kind=KIND)] == [INTENT]

    p.deliver("stripe", "invoice.paid", payload("stripe", INVOICE))
    assert p.deliver("stripe", "invoice_payment.paid", payload("stripe", PAYMENT)).status == (
        "processed"
    )

    assert p.invoice(ORDER).status == "Collected"
    assert p.services.attention.items(kind=KIND) == []
    assert len(p.services.sage.accounting_entries_by_document_number(INTENT)) == 1
