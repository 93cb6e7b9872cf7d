"""Stripe Checkout sales and Billing credit notes, from signed webhooks to Sage, through a
real worker that reads the line items and credit notes from a fake Stripe API over HTTP."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from bridge.sync.sage_documents import credit_notes_of
from tests.support.pipeline import payload
from tests.support.providers import STRIPE_API_KEY, FakeStripe
from tests.support.rig import Rig
from tests.support.servers import serve_wsgi
from tests.support.webhooks import stripe_headers

pytestmark = pytest.mark.e2e

INVOICE = "stripe:default:in_1QmG1aBDemoInv0001"  # BDEMO-0042, 282.00 (235.00 + 20 % VAT)
INVOICE_PI = "pi_3QmG1aBDemoPI0001"


@pytest.fixture
def stripe_api(rig: Rig) -> Iterator[FakeStripe]:
    """A fake Stripe API the worker reads (STRIPE_API_KEY / STRIPE_API_URL), and the worker."""
    fake = FakeStripe()
    with serve_wsgi(fake.app) as url:
        env = {**rig.worker_env, "STRIPE_API_KEY": STRIPE_API_KEY, "STRIPE_API_URL": url}
        rig.start_worker(pool="threads", concurrency=4, **env)
        yield fake


def send(rig: Rig, event: dict[str, Any], status: int = 202) -> str:
    """POST a signed Stripe event to the ingress; returns its ref."""
    raw = json.dumps(event).encode()
    response = rig.client.post("/webhooks/stripe", data=raw, headers=stripe_headers(raw))
    assert response.status_code == status, response.get_data(as_text=True)
    return f"stripe:{event['id']}"


def again(event: dict[str, Any], event_id: str, type_: str | None = None) -> dict[str, Any]:
    """The same object in another event (a resend by hand, or another type)."""
    copied = copy.deepcopy(event)
    copied["id"] = event_id
    copied["type"] = type_ or event["type"]
    return copied


def settled(rig: Rig, ref: str, status: str) -> None:
    rig.wait_for(lambda: rig.event_status(ref) == status, what=f"{ref} {status}")


def checkout(name: str, fake: FakeStripe) -> dict[str, Any]:
    """A recorded session event, its line items put in the fake API."""
    event = payload("stripe", name)
    items = payload("stripe", f"{name}.line_items")["data"]
    fake.add_line_items(event["data"]["object"]["id"], items)
    return event


TTC_2024 = "checkout-session-completed-001-2024-ttc-two-rates-coupon-shipping"
B2B_ENDIVE = "checkout-session-completed-002-endive-b2b-two-rates-amount-off-shipping"


@pytest.mark.parametrize(
    ("name", "total", "vat"),
    [(TTC_2024, "51.35", "6.42"), (B2B_ENDIVE, "120.89", "14.89")],
)
def test_checkout_sale_is_posted_and_collected_once(
    rig: Rig, stripe_api: FakeStripe, name: str, total: str, vat: str
) -> None:
    # given a paid Checkout Session (Stripe knows it) whose PaymentIntent event comes first
    event = checkout(name, stripe_api)
    session = event["data"]["object"]
    stripe_api.add_checkout_session(session)
    reference = f"stripe:default:{session['id']}"
    first = send(rig, _payment_intent(session, event["id"] + "P"))
    settled(rig, first, "ignored")  # Stripe names its session: the session books it

    # when the session's event comes
    ref = send(rig, event)

    # then the sale is one invoice at the session's total, VAT by rate, collected once
    invoice = rig.wait_status(reference, "Collected")
    assert invoice.total_liquid == Decimal(total)
    assert invoice.total_vat == Decimal(vat)
    assert sorted({line.vat_percentage for line in invoice.lines}) == [
        Decimal("5.5"),
        Decimal("20"),
    ]
    # Sage shows Collected a moment before the worker has recorded the event as done
    rig.wait_for(lambda: rig.event_status(ref) == "processed", what="the sale processed")
    paths = [path for path, _ in stripe_api.requests]
    assert paths == ["/v1/checkout/sessions", f"/v1/checkout/sessions/{session['id']}/line_items"]

    # and resent: the same delivery, the same session in another event, and the charge of
    # its PaymentIntent book nothing more
    send(rig, event, status=200)
    other = send(rig, again(event, event["id"] + "X", "checkout.session.async_payment_succeeded"))
    charge_ref = send(rig, _charge(session, event["id"] + "C"))
    settled(rig, other, "processed")
    settled(rig, charge_ref, "processed")  # its payment link: already settled, nothing more
    sage = rig.services.sage
    assert [d.status for d in sage.invoices_by_sales_order_number(reference)] == ["Collected"]
    assert len(sage.accounting_entries_by_document_number(session["payment_intent"])) == 1
    assert len(stripe_api.requests) == 2  # the later events read nothing from Stripe


def _payment_intent(session: dict[str, Any], event_id: str) -> dict[str, Any]:
    """The `payment_intent.succeeded` of a session's PaymentIntent (no metadata, no invoice)."""
    event = payload("stripe", "payment-intent-succeeded-001-shopify-metadata")
    event["id"] = event_id
    amount, pi = session["amount_total"], session["payment_intent"]
    event["data"]["object"].update(
        id=pi, amount=amount, amount_received=amount, metadata={}, latest_charge="ch_" + pi[3:]
    )
    return event


def _charge(session: dict[str, Any], event_id: str) -> dict[str, Any]:
    """The `charge.succeeded` of a session's PaymentIntent."""
    event = payload("stripe", "charge-succeeded-002-invoice-payment")
    event["id"] = event_id
    amount, pi = session["amount_total"], session["payment_intent"]
    event["data"]["object"].update(
        id="ch_" + pi[3:], payment_intent=pi, invoice=None, amount=amount, amount_captured=amount
    )
    return event


def test_session_that_made_an_invoice_books_only_the_invoice(
    rig: Rig, stripe_api: FakeStripe
) -> None:
    session_event = payload(
        "stripe", "checkout-session-completed-003-2024-invoice-creation-ignored"
    )
    session = session_event["data"]["object"]
    invoice_event = payload("stripe", "invoice-paid-001-several-lines-exclusive-tax")
    invoice_event["id"] = "evt_1QnC3aBDemoInvoicePaid"
    invoice = invoice_event["data"]["object"]
    invoice.update(id=session["invoice"], number="BDEMO-0050", charge=None, payment_intent=None)

    session_ref = send(rig, session_event)
    send(rig, invoice_event)

    settled(rig, session_ref, "ignored")
    rig.wait_status(f"stripe:default:{session['invoice']}", "Posted")
    record = rig.services.events.get(session_ref)
    assert record is not None
    assert record.attempts[-1].outcome == "ignored"
    session_reference = f"stripe:default:{session['id']}"
    assert rig.services.sage.invoices_by_sales_order_number(session_reference) == []
    assert rig.services.links.order(session_reference) is None
    assert stripe_api.requests == []


def _refund_event(note: dict[str, Any], event_id: str) -> dict[str, Any]:
    refund = payload("stripe", "refund-created-001-invoice-partial-linked-by-caller")
    refund["id"] = event_id
    refund_id = note.get("refund") or note["refunds"][0]["refund"]
    refund["data"]["object"].update(id=refund_id, amount=note["total"])
    return refund


@pytest.mark.parametrize(
    ("name", "refund_first"),
    [
        ("credit-note-created-001-2024-one-line-refunded", False),
        ("credit-note-created-002-endive-one-line-refunded", True),
    ],
)
def test_credit_note_of_one_line_is_one_posted_credit_note(
    rig: Rig, stripe_api: FakeStripe, name: str, refund_first: bool
) -> None:
    send(rig, payload("stripe", "invoice-paid-001-several-lines-exclusive-tax"))
    send(rig, payload("stripe", "charge-succeeded-002-invoice-payment"))
    invoice = rig.wait_status(INVOICE, "Collected")
    event = payload("stripe", name)
    note = event["data"]["object"]
    stripe_api.add_credit_note(note)
    refund = _refund_event(note, event["id"] + "R")

    if refund_first:  # the refund asks Stripe which credit note made it
        settled(rig, send(rig, refund), "ignored")
        send(rig, event)
    else:
        send(rig, event)
        settled(rig, send(rig, refund), "ignored")

    def posted() -> list[Any] | None:
        notes = credit_notes_of(rig.services.sage, invoice.id)
        return notes if notes and all(n.status == "Posted" for n in notes) else None

    [credit] = rig.wait_for(posted, what="a posted credit note")
    assert credit.total_liquid == Decimal("-58.80")
    assert [(ln.product_code, ln.total_quantity) for ln in credit.lines] == [
        ("GEN-20", Decimal("-1"))
    ]
    assert credit.sales_order_number == f"{INVOICE}:refund:{note['id']}"
    assert rig.services.attention.items() == []

    # the credit note and its refund sent again: nothing more
    resent = send(rig, again(event, event["id"] + "X"))
    settled(rig, resent, "processed")
    settled(rig, send(rig, again(refund, refund["id"] + "X")), "ignored")
    assert len(credit_notes_of(rig.services.sage, invoice.id)) == 1
    link = rig.services.links.order(INVOICE)
    assert link is not None
    assert link.credited == Decimal("58.80")
