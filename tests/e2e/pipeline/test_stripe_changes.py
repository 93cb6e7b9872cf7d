"""Changes inside Stripe invoices, end to end (real ingress, Celery worker, sandbox over
HTTP): a subscription upgrade with its proration credit, a downgrade to a negative total,
a zero invoice, and an invoice paid partly from the customer's credit balance."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from typing import Any

import pytest

from tests.support.pipeline import payload
from tests.support.rig import Rig
from tests.support.webhooks import stripe_headers

pytestmark = pytest.mark.e2e

UPGRADE = "invoice-paid-105-endive-upgrade-proration"
DOWNGRADE = "invoice-paid-006-2024-downgrade-negative-total"
BALANCE = "invoice-paid-107-endive-paid-from-customer-balance"


def send(rig: Rig, body: dict[str, Any]) -> str:
    raw = json.dumps(body).encode()
    response = rig.client.post("/webhooks/stripe", data=raw, headers=stripe_headers(raw))
    assert response.status_code == 202, response.get_data(as_text=True)
    return f"stripe:{body['id']}"


def reference(name: str) -> str:
    return f"stripe:default:{payload('stripe', name)['data']['object']['id']}"


def card_payment(invoice: str, amount: int, key: str) -> dict[str, Any]:
    """An `invoice_payment.paid` (endive) paying `amount` of `invoice` by card."""
    body = copy.deepcopy(payload("stripe", "invoice-payment-paid-101-endive-payment-intent"))
    body["id"] = f"evt_{key}"
    obj = body["data"]["object"]
    obj.update(id=f"inpay_{key}", invoice=invoice, amount_paid=amount, amount_requested=amount)
    obj["payment"] = {"type": "payment_intent", "payment_intent": f"pi_{key}"}
    return body


def entries(rig: Rig, key: str) -> int:
    return len(rig.services.sage.accounting_entries_by_document_number(key))


def test_upgrade_with_its_proration_credit_is_posted_at_36_and_collected(rig: Rig) -> None:
    # given an upgrade: unused time -50.00 and the new plan +80.00 at 20 %, total 36.00
    rig.worker()
    body = payload("stripe", UPGRADE)
    ref = reference(UPGRADE)

    # when it and its payment of 36.00 arrive
    send(rig, body)
    posted = rig.wait_status(ref, "Posted")
    send(rig, card_payment(body["data"]["object"]["id"], 3600, "upgrade0001"))

    # then it is posted at 36.00 with 6.00 VAT, its credit line at a negative quantity,
    # and collected; nothing needs a person
    assert (posted.total_liquid, posted.total_vat) == (Decimal("36.00"), Decimal("6.00"))
    assert sorted(line.total_quantity for line in posted.lines) == [-1, 1]
    rig.wait_status(ref, "Collected")
    assert rig.services.attention.items() == []


def test_downgrade_of_negative_total_is_a_posted_credit_document(rig: Rig) -> None:
    # given a downgrade (2024-06-20 shapes): -80.00 unused, +50.00 new plan: -36.00
    rig.worker()
    ref = reference(DOWNGRADE)

    send(rig, payload("stripe", DOWNGRADE))

    # then a posted document of -36.00 (-6.00 VAT) credits the customer
    posted = rig.wait_status(ref, "Posted")
    assert (posted.total_liquid, posted.total_vat) == (Decimal("-36.00"), Decimal("-6.00"))
    assert posted.operational_number == "BDEMO-0106"
    assert rig.services.attention.items() == []


def test_zero_invoice_is_ignored_with_its_reason(rig: Rig) -> None:
    rig.worker()
    body = copy.deepcopy(payload("stripe", UPGRADE))
    body["id"] = "evt_zero0001"
    obj = body["data"]["object"]
    obj.update(id="in_zero0001", number="BDEMO-ZERO")
    obj["lines"]["data"][1]["amount"] = 5000
    obj["lines"]["data"][1]["taxes"][0].update(amount=1000, taxable_amount=5000)
    obj.update(total=0, amount_due=0, amount_paid=0)

    event = send(rig, body)

    rig.wait_for(lambda: rig.event_status(event) == "ignored", what="the zero invoice ignored")
    record = rig.services.events.get(event)
    assert record is not None
    assert "totals 0.00 EUR: nothing to book" in (record.error or "")
    assert rig.services.links.order("stripe:default:in_zero0001") is None


def test_invoice_paid_100_by_card_and_20_from_balance_ends_collected_once(rig: Rig) -> None:
    # given an invoice of 120.00: 20.00 came from the customer's credit balance
    # (starting_balance -2000, ending_balance 0) and 100.00 from the card
    rig.worker()
    body = payload("stripe", BALANCE)
    invoice = body["data"]["object"]["id"]
    ref = reference(BALANCE)

    send(rig, body)
    partly = rig.wait_status(ref, "PartiallyCollected")
    send(rig, card_payment(invoice, 10000, "balance0001"))

    # then the balance part is one settlement on its own payment method, the card another,
    # and the invoice is collected
    assert sum(i.outstanding for i in partly.open_items) == Decimal("100.00")
    rig.wait_status(ref, "Collected")
    assert (entries(rig, f"{invoice}:balance"), entries(rig, "pi_balance0001")) == (1, 1)
    balance = rig.services.sage.accounting_entries_by_document_number(f"{invoice}:balance")[0]
    assert balance.description is not None
    assert "balance" in balance.description

    # and a replay of invoice.paid (a new delivery) settles nothing twice
    again = copy.deepcopy(body)
    again["id"] = f"{body['id']}replay"
    replay = send(rig, again)
    rig.wait_for(lambda: rig.event_status(replay) == "processed", what="the replay")
    assert entries(rig, f"{invoice}:balance") == 1
    assert rig.services.attention.items() == []
