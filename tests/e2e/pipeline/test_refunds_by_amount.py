"""Refunds by amount end to end: signed webhooks into the real ingress, a real Celery
worker, the sandbox over HTTP. Each credit note is posted at exactly the provider's amount
(VAT exact per rate), linked to its invoice, whose open item shows the credit; a refund
above what is left books nothing."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from typing import Any

import pytest

from bridge.sync.credit_split import allocate, vat_share
from bridge.sync.totals import vat_by_rate
from connectors.sage_active.models import SalesInvoice
from tests.support.pipeline import SHOP, payload
from tests.support.rig import Rig
from tests.support.webhooks import stripe_headers

pytestmark = pytest.mark.e2e

D = Decimal
ENDIVE = "stripe:default:in_1TDemoEndive0101"
MUG_ORDER = f"shopify:{SHOP}:5910000001013"
MIXED_ORDER = f"shopify:{SHOP}:5910000003039"
INVOICE_120 = "invoice-paid-101-endive-one-line-20-vat-rate-id-only"
GOODWILL = "refunds-create-043-goodwill-refund-discrepancy-v2026-01"


def send_stripe(rig: Rig, body: dict[str, Any]) -> str:
    raw = json.dumps(body).encode()
    response = rig.client.post("/webhooks/stripe", data=raw, headers=stripe_headers(raw))
    assert response.status_code == 202, response.get_data(as_text=True)
    return f"stripe:{body['id']}"


def done(rig: Rig, ref: str, status: str = "processed") -> None:
    rig.wait_for(lambda: rig.event_status(ref) in (status, "failed"), what=f"{ref} {status}")
    record = rig.services.events.get(ref)
    assert record is not None
    assert record.status.value == status, record.error


def credit_notes(rig: Rig, reference: str) -> list[SalesInvoice]:
    invoice = rig.invoice_status(reference)
    assert invoice is not None
    found = rig.services.sage.client.execute(
        "query ($id: UUID) { salesInvoices(where: { sourceSalesInvoiceId: { eq: $id } }) "
        "{ nodes { id } } }",
        {"id": invoice.id},
    )
    notes = [rig.services.sage.invoice(n["id"]) for n in found["salesInvoices"]["nodes"]]
    return [n for n in notes if n is not None]


def test_the_24_credit_note_on_a_120_invoice(rig: Rig) -> None:
    rig.worker()
    finalized = copy.deepcopy(payload("stripe", INVOICE_120))
    finalized.update(id="evt_1TDemoEndive0101f", type="invoice.finalized")
    send_stripe(rig, finalized)
    rig.wait_status(ENDIVE, "Posted")

    ref = send_stripe(rig, payload("stripe", "credit-note-created-105-endive-by-amount-24-on-120"))

    done(rig, ref)
    [note] = credit_notes(rig, ENDIVE)
    assert (note.status, note.total_liquid, note.total_vat) == ("Posted", D("-24.00"), D("-4.00"))
    assert note.sales_order_number == f"{ENDIVE}:refund:cn_1TDemoCreditNote0105"
    invoice = rig.wait_status(ENDIVE, "PartiallyCollected")  # the credit settles 24.00 of it
    assert sum((i.outstanding for i in invoice.open_items), D(0)) == D("96.00")
    assert rig.services.attention.items() == []


def test_a_30_partial_stripe_refund_and_one_above_what_is_left(rig: Rig) -> None:
    rig.worker()
    send_stripe(rig, payload("stripe", INVOICE_120))
    send_stripe(rig, payload("stripe", "invoice-payment-paid-101-endive-payment-intent"))
    rig.wait_status(ENDIVE, "Collected")

    refund = send_stripe(rig, payload("stripe", "refund-created-107-endive-partial-30-of-120"))
    done(rig, refund)
    same = send_stripe(rig, payload("stripe", "charge-refunded-108-endive-partial-30-of-120"))
    done(rig, same)

    [note] = credit_notes(rig, ENDIVE)
    assert (note.status, note.total_liquid, note.total_vat) == ("Posted", D("-30.00"), D("-5.00"))
    assert rig.services.attention.items() == []

    # a refund above the 90.00 left is refused, nothing booked
    too_much = copy.deepcopy(payload("stripe", "refund-created-107-endive-partial-30-of-120"))
    too_much["id"] = "evt_1TDemoEndiveTooMuch"
    too_much["data"]["object"].update(id="re_3TDemoEndiveTooMuch", amount=9100)
    ref = send_stripe(rig, too_much)
    done(rig, ref, "failed")
    record = rig.services.events.get(ref)
    assert record is not None
    assert "91.00 is more than the 90.00 left to credit" in (record.error or "")
    assert len(credit_notes(rig, ENDIVE)) == 1


def test_a_5_shopify_goodwill_refund(rig: Rig) -> None:
    rig.worker()
    rig.send("orders/create", payload("shopify", "orders-create-001-ttc-single-mug"))
    rig.wait_status(MUG_ORDER, "Posted")

    ref = rig.send("refunds/create", payload("shopify", GOODWILL))

    done(rig, ref)
    [note] = credit_notes(rig, MUG_ORDER)
    assert (note.status, note.total_liquid, note.total_vat) == ("Posted", D("-5.00"), D("-0.83"))
    invoice = rig.wait_status(MUG_ORDER, "PartiallyCollected")
    assert sum((i.outstanding for i in invoice.open_items), D(0)) == D("14.80")
    assert rig.services.attention.items() == []


def test_a_mixed_rate_invoice_refunded_by_amount_splits_vat_pro_rata(rig: Rig) -> None:
    rig.worker()
    rig.send("orders/create", payload("shopify", "orders-create-003-ttc-mixed-rates"))
    invoice = rig.wait_status(MIXED_ORDER, "Posted")
    refund = copy.deepcopy(payload("shopify", GOODWILL))
    refund.update(id=930100000045, order_id=5910000003039)
    for adjustment in refund["order_adjustments"]:
        adjustment.update(order_id=5910000003039, refund_id=930100000045, amount="-17.77")
        adjustment["amount_set"]["shop_money"]["amount"] = "-17.77"
    refund["transactions"][0].update(amount="17.77", order_id=5910000003039)

    done(rig, rig.send("refunds/create", refund))

    # the invoice's bases: 5.5 % and 20 % gross, as Sage holds them
    gross: dict[Decimal, Decimal] = {}
    for line in invoice.lines:
        rate = line.vat_percentage or D(0)
        gross[rate] = gross.get(rate, D(0)) + (line.total_liquid or D(0))
    rates = sorted(gross)
    shares = dict(zip(rates, allocate(D("17.77"), [gross[r] for r in rates]), strict=True))
    [note] = credit_notes(rig, MIXED_ORDER)
    assert (note.status, note.total_liquid) == ("Posted", D("-17.77"))
    assert vat_by_rate(note.lines) == {r: -vat_share(shares[r], r) for r in rates}
    assert rig.services.attention.items() == []


def test_a_voided_invoice_is_credited_once_and_an_uncollectible_one_only_flagged(
    rig: Rig,
) -> None:
    rig.worker()
    send_stripe(rig, payload("stripe", INVOICE_120))
    rig.wait_status(ENDIVE, "Posted")
    uncollectible = copy.deepcopy(payload("stripe", INVOICE_120))
    uncollectible.update(id="evt_1TDemoEndive0101u", type="invoice.marked_uncollectible")
    uncollectible["data"]["object"].update(status="uncollectible", amount_remaining=12000)
    voided = copy.deepcopy(payload("stripe", INVOICE_120))
    voided.update(id="evt_1TDemoEndive0101v", type="invoice.voided")
    voided["data"]["object"].update(status="void", amount_remaining=0)

    flagged = send_stripe(rig, uncollectible)
    done(rig, flagged)
    [item] = rig.services.attention.items()
    assert (item.kind, item.amount) == ("invoice_uncollectible", D("120.00"))
    assert credit_notes(rig, ENDIVE) == []

    first, again = send_stripe(rig, voided), send_stripe(rig, {**voided, "id": "evt_again"})
    done(rig, first)
    done(rig, again)
    [note] = credit_notes(rig, ENDIVE)
    assert (note.status, note.total_liquid) == ("Posted", D("-120.00"))
    rig.wait_status(ENDIVE, "Collected")  # nothing is owed any more: the credit settled it
