"""Checkout sales and credit notes through `run_event`, the sandbox over HTTP, the real Redis
and a fake Stripe API over HTTP: reading failures, voids, and a refund booked first."""

from __future__ import annotations

import copy
import itertools
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from bridge.services import build_services
from bridge.sync.sage_documents import credit_notes_of
from tests.support.pipeline import Pipeline, payload, sandbox_settings
from tests.support.providers import STRIPE_API_KEY, FakeStripe
from tests.support.sandbox import SandboxControl

pytestmark = pytest.mark.integration

SALE = "checkout-session-completed-001-2024-ttc-two-rates-coupon-shipping"
NOTE = "credit-note-created-001-2024-one-line-refunded"
INVOICE = "stripe:it:in_1QmG1aBDemoInv0001"


def _pipeline(redis_url: str, sandbox_url: str, **settings: Any) -> Iterator[Pipeline]:
    services = build_services(sandbox_settings(redis_url, sandbox_url, **settings))
    control = SandboxControl(sandbox_url)
    try:
        yield Pipeline(services, control, itertools.count(1))
    finally:
        control.close()
        services.close()


@pytest.fixture
def keyed(
    redis_url: str, sandbox_url: str, fake_stripe: tuple[FakeStripe, str]
) -> Iterator[tuple[Pipeline, FakeStripe]]:
    """A pipeline whose STRIPE_API_KEY / STRIPE_API_URL reach the fake Stripe API."""
    fake, base = fake_stripe
    for pipeline in _pipeline(
        redis_url, sandbox_url, STRIPE_API_KEY=STRIPE_API_KEY, STRIPE_API_URL=base
    ):
        yield pipeline, fake


@pytest.fixture
def keyless(redis_url: str, sandbox_url: str) -> Iterator[Pipeline]:
    yield from _pipeline(redis_url, sandbox_url)


def _sale(fake: FakeStripe | None = None) -> dict[str, Any]:
    event = payload("stripe", SALE)
    if fake is not None:
        fake.add_line_items(
            event["data"]["object"]["id"], payload("stripe", f"{SALE}.line_items")["data"]
        )
    return event


def _connect(event: dict[str, Any]) -> dict[str, Any]:
    """The event as the `it` connection's account sends it (Connect `account`)."""
    copied = copy.deepcopy(event)
    copied["account"] = "it"
    return copied


def test_a_sale_without_stripe_api_key_fails_naming_it_and_replays(
    keyless: Pipeline,
) -> None:
    result = keyless.deliver("stripe", "checkout.session.completed", _sale())

    assert result.status == "failed"
    assert "STRIPE_API_KEY is not set" in result.detail
    assert keyless.services.links.order("stripe:default:cs_test_b1QnC1BDemoSessionTtc") is None


def test_a_refused_key_fails_and_an_outage_is_retried(
    keyed: tuple[Pipeline, FakeStripe],
) -> None:
    pipeline, fake = keyed
    ref = pipeline.record("stripe", "checkout.session.completed", _sale(fake))

    fake.fail_next(401)
    refused = pipeline.run(ref)
    assert refused.status == "failed"
    assert "check STRIPE_API_KEY" in refused.detail

    pipeline.services.events.requeue(ref)
    fake.fail_next(503, count=3)
    outage = pipeline.run(ref)
    assert outage.status == "queued"  # retried by the task with backoff
    assert outage.retry_in is not None

    done = pipeline.run(ref, retries=1)
    assert done.status == "processed", done.detail
    assert pipeline.invoice("stripe:default:cs_test_b1QnC1BDemoSessionTtc").status == "Collected"


def test_line_items_are_read_page_by_page(keyed: tuple[Pipeline, FakeStripe]) -> None:
    # given a session whose 101 line items take two pages of the API
    pipeline, fake = keyed
    event = _sale()
    session = event["data"]["object"]
    [mug, tea] = payload("stripe", f"{SALE}.line_items")["data"]
    teas = []
    for n in range(100):
        item = copy.deepcopy(tea)
        item["id"] = f"li_tea_{n:03d}"
        teas.append(item)
    fake.add_line_items(session["id"], [mug, *teas])
    extra = 99 * tea["amount_total"]
    session["amount_total"] += extra
    session["amount_subtotal"] += 99 * tea["amount_subtotal"]

    result = pipeline.deliver("stripe", "checkout.session.completed", event)

    assert result.status == "processed", result.detail
    invoice = pipeline.invoice(f"stripe:default:{session['id']}")
    assert invoice.total_liquid == Decimal("51.35") + Decimal(extra) / 100
    assert len(invoice.lines) == 102
    pages = [query for path, query in fake.requests if path.endswith("/line_items")]
    assert [q.get("starting_after") for q in pages] == [None, ["li_tea_098"]]
    assert pages[0]["expand[]"] == ["data.taxes", "data.discounts"]


def _book_invoice(pipeline: Pipeline) -> None:
    invoice = _connect(payload("stripe", "invoice-paid-001-several-lines-exclusive-tax"))
    assert pipeline.deliver("stripe", "invoice.paid", invoice).status == "processed"


def test_a_credit_note_voided_after_booking_needs_attention(keyless: Pipeline) -> None:
    _book_invoice(keyless)
    note = _connect(payload("stripe", NOTE))
    assert keyless.deliver("stripe", "credit_note.created", note).status == "processed"

    voided = copy.deepcopy(note)
    voided["data"]["object"].update(status="void", voided_at=1772900000)
    result = keyless.deliver("stripe", "credit_note.voided", voided)

    assert result.status == "processed", result.detail
    [item] = keyless.services.attention.items()
    assert item.kind == "credit_note_voided"
    assert item.amount == Decimal("58.80")
    assert item.order_reference == INVOICE
    assert "cannot be deleted" in item.reason


def test_a_credit_note_voided_before_booking_books_nothing(keyless: Pipeline) -> None:
    _book_invoice(keyless)
    note = _connect(payload("stripe", NOTE))
    voided = copy.deepcopy(note)
    voided["data"]["object"]["status"] = "void"

    assert keyless.deliver("stripe", "credit_note.voided", voided).status == "processed"
    late = keyless.deliver("stripe", "credit_note.created", note)

    assert late.status == "ignored"
    invoice = keyless.invoice(INVOICE)
    assert credit_notes_of(keyless.services.sage, invoice.id) == []
    assert keyless.services.attention.items() == []


def test_a_refund_booked_before_its_credit_note_is_not_booked_twice(keyless: Pipeline) -> None:
    # given the invoice paid, and the credit note's refund arriving first with no API key
    _book_invoice(keyless)
    charge = _connect(payload("stripe", "charge-succeeded-002-invoice-payment"))
    assert keyless.deliver("stripe", "charge.succeeded", charge).status == "processed"
    note = _connect(payload("stripe", NOTE))
    refund = _connect(payload("stripe", "refund-created-001-invoice-partial-linked-by-caller"))
    refund["data"]["object"].update(id=note["data"]["object"]["refund"], amount=5880)
    assert keyless.deliver("stripe", "refund.created", refund).status == "processed"
    # a refund alone carries no lines: credited by amount, pro rata
    [first] = credit_notes_of(keyless.services.sage, keyless.invoice(INVOICE).id)
    assert first.total_liquid == Decimal("-58.80")

    # when the credit note comes
    result = keyless.deliver("stripe", "credit_note.created", note)

    # then nothing more is credited
    assert result.status == "processed", result.detail
    [credit] = credit_notes_of(keyless.services.sage, keyless.invoice(INVOICE).id)
    assert credit.total_liquid == Decimal("-58.80")
    assert keyless.services.attention.items() == []
    again = keyless.deliver("stripe", "refund.created", {**refund, "id": "evt_again"})
    assert again.status == "ignored"


def test_a_payment_of_no_checkout_session_is_not_taken_for_a_sale(
    keyed: tuple[Pipeline, FakeStripe],
) -> None:
    # given a PaymentIntent naming no order, of which Stripe knows no Checkout Session
    pipeline, fake = keyed
    event = payload("stripe", "payment-intent-succeeded-001-shopify-metadata")
    event["data"]["object"]["metadata"] = {}

    result = pipeline.deliver("stripe", "payment_intent.succeeded", event)

    # then Stripe was asked, and the payment is left to the unlinked-payment rules
    assert result.status != "processed"
    assert "not linked" in result.detail
    asked = [query for path, query in fake.requests if path == "/v1/checkout/sessions"]
    assert asked == [{"payment_intent": ["pi_3QmH1aBDemoPI0101"]}]


def test_a_credit_note_of_amounts_only_is_credited_by_amount(keyless: Pipeline) -> None:
    # given a credit note of a custom amount only (no invoice line)
    _book_invoice(keyless)
    note = _connect(payload("stripe", NOTE))
    obj = note["data"]["object"]
    obj["lines"]["data"][0].update(type="custom_line_item", invoice_line_item=None)

    result = keyless.deliver("stripe", "credit_note.created", note)

    # then it is a posted credit note of exactly its total, nothing asked of a person
    assert result.status == "processed", result.detail
    [credit] = credit_notes_of(keyless.services.sage, keyless.invoice(INVOICE).id)
    assert (credit.status, credit.total_liquid) == ("Posted", Decimal("-58.80"))
    assert keyless.services.attention.items() == []

    # when Stripe voids it after that, a person is told (a posted credit note stays)
    voided = copy.deepcopy(note)
    voided["data"]["object"]["status"] = "void"
    assert keyless.deliver("stripe", "credit_note.voided", voided).status == "processed"
    [item] = keyless.services.attention.items()
    assert (item.kind, item.amount) == ("credit_note_voided", Decimal("58.80"))
