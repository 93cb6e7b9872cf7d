"""Refunds by amount through the sync and the sandbox over HTTP (real Redis): credit notes
of exactly the provider's amount, and the one total rule that stops any other amount."""

from __future__ import annotations

import copy
from decimal import Decimal

import pytest

from bridge.sync import refunds as refund_sync
from bridge.sync.credit_plan import CreditPlan
from bridge.sync.totals import vat_by_rate
from connectors.sage_active.models import CreditNoteLineInput
from tests.support.pipeline import Pipeline, payload

pytestmark = pytest.mark.integration

D = Decimal
ENDIVE = "stripe:default:in_1TDemoEndive0101"
NOTE_24 = "credit-note-created-105-endive-by-amount-24-on-120"
SHOP_ORDER = "shopify:boutique-demo.myshopify.com:5910000001013"


def _invoice_120(pipeline: Pipeline) -> None:
    body = payload("stripe", "invoice-paid-101-endive-one-line-20-vat-rate-id-only")
    assert pipeline.deliver("stripe", "invoice.paid", body).status == "processed"


def _notes(pipeline: Pipeline, reference: str) -> list[tuple[str, Decimal | None, dict]]:
    found = []
    for doc in pipeline.documents(reference):
        if doc.type == "CREDIT_NOTE":
            full = pipeline.services.sage.invoice(doc.id)
            assert full is not None
            found.append((full.status, full.total_liquid, vat_by_rate(full.lines)))
    return found


def test_the_24_credit_note_is_posted_at_24_with_4_vat(pipeline: Pipeline) -> None:
    _invoice_120(pipeline)

    result = pipeline.deliver("stripe", "credit_note.created", payload("stripe", NOTE_24))

    assert result.status == "processed", result.detail
    assert _notes(pipeline, ENDIVE) == [("Posted", D("-24.00"), {D("20"): D("-4.00")})]
    assert pipeline.services.attention.items() == []
    [line] = pipeline.invoice(ENDIVE).lines
    assert line.available_for_credit_note_quantity == D("0.8")


def _quantity_one(link: object, invoice: object, refund: object) -> CreditPlan:
    """The planner of issue 20's bug: quantity 1 of the line, whatever the amount."""
    from connectors.sage_active.models import SalesInvoice

    assert isinstance(invoice, SalesInvoice)
    line = invoice.lines[0]
    return CreditPlan(
        lines=[CreditNoteLineInput(product_id=str(line.product_id), quantity=D(1))],
        amount=D("24.00"),
        vat={D("20"): D("4.00")},
    )


def test_a_draft_at_another_amount_is_deleted_and_the_event_fails(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a planner that would credit the whole 120.00 line for Stripe's 24.00
    _invoice_120(pipeline)
    monkeypatch.setattr(refund_sync, "plan_credit", _quantity_one)

    result = pipeline.deliver("stripe", "credit_note.created", payload("stripe", NOTE_24))

    # then nothing is posted (the draft is gone), one item names both amounts, it failed
    assert result.status == "failed"
    assert "total -120.00 in Sage, -24.00 from the provider" in (result.detail or "")
    assert _notes(pipeline, ENDIVE) == []
    [item] = pipeline.services.attention.items()
    assert item.kind == "total_mismatch"
    assert "-120.00" in item.reason
    assert "-24.00" in item.reason
    [line] = pipeline.invoice(ENDIVE).lines
    assert line.available_for_credit_note_quantity == D("1")  # given back with the draft


def test_without_the_check_the_wrong_amount_would_be_posted(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the check is what stops it: the same planner, the check taken away, posts -120.00
    _invoice_120(pipeline)
    monkeypatch.setattr(refund_sync, "plan_credit", _quantity_one)
    monkeypatch.setattr(refund_sync, "enforce", lambda *_a, **_k: None)

    result = pipeline.deliver("stripe", "credit_note.created", payload("stripe", NOTE_24))

    assert result.status == "processed"
    assert _notes(pipeline, ENDIVE) == [("Posted", D("-120.00"), {D("20"): D("-20.00")})]


def test_a_partial_stripe_refund_is_a_credit_note_of_its_amount(pipeline: Pipeline) -> None:
    _invoice_120(pipeline)
    body = payload("stripe", "invoice-payment-paid-101-endive-payment-intent")
    assert pipeline.deliver("stripe", "invoice_payment.paid", body).status == "processed"

    refund = payload("stripe", "refund-created-107-endive-partial-30-of-120")
    result = pipeline.deliver("stripe", "refund.created", refund)

    assert result.status == "processed", result.detail
    assert _notes(pipeline, ENDIVE) == [("Posted", D("-30.00"), {D("20"): D("-5.00")})]
    assert pipeline.services.attention.items() == []
    # the charge.refunded of the same refund books nothing more
    again = payload("stripe", "charge-refunded-108-endive-partial-30-of-120")
    assert pipeline.deliver("stripe", "charge.refunded", again).status == "processed"
    assert len(_notes(pipeline, ENDIVE)) == 1


def test_a_refund_above_what_is_left_is_refused_and_books_nothing(pipeline: Pipeline) -> None:
    _invoice_120(pipeline)
    body = payload("stripe", "invoice-payment-paid-101-endive-payment-intent")
    assert pipeline.deliver("stripe", "invoice_payment.paid", body).status == "processed"
    assert (
        pipeline.deliver("stripe", "credit_note.created", payload("stripe", NOTE_24)).status
        == "processed"
    )
    body = copy.deepcopy(payload("stripe", "refund-created-107-endive-partial-30-of-120"))
    body["data"]["object"].update(id="re_3TDemoTooMuch", amount=10000)  # 96.00 is left

    result = pipeline.deliver("stripe", "refund.created", body)

    assert result.status == "failed"
    assert "100.00 is more than the 96.00 left to credit" in (result.detail or "")
    assert len(_notes(pipeline, ENDIVE)) == 1
    [item] = pipeline.services.attention.items()
    assert (item.kind, item.amount) == ("refund_exceeds", D("100.00"))


def test_a_shopify_goodwill_refund_is_a_credit_note_of_5(pipeline: Pipeline) -> None:
    order = payload("shopify", "orders-create-001-ttc-single-mug")
    assert pipeline.deliver("shopify", "orders/create", order).status == "processed"

    refund = payload("shopify", "refunds-create-043-goodwill-refund-discrepancy-v2026-01")
    result = pipeline.deliver("shopify", "refunds/create", refund)

    assert result.status == "processed", result.detail
    # the mug (12.42 + 2.48) and shipping (4.08 + 0.82) are all at 20 %: 5.00 holds 0.83
    assert _notes(pipeline, SHOP_ORDER) == [("Posted", D("-5.00"), {D("20"): D("-0.83")})]
    assert pipeline.services.attention.items() == []


def test_a_restocking_fee_is_kept_out_of_the_credit(pipeline: Pipeline) -> None:
    order = payload("shopify", "orders-create-001-ttc-single-mug")
    assert pipeline.deliver("shopify", "orders/create", order).status == "processed"

    refund = payload("shopify", "refunds-create-044-restocking-fee-v2026-10")
    result = pipeline.deliver("shopify", "refunds/create", refund)

    assert result.status == "processed", result.detail
    [(status, total, _)] = _notes(pipeline, SHOP_ORDER)
    assert (status, total) == ("Posted", D("-13.41"))  # 14.90 less 1.49 kept


def test_an_invoice_whose_figures_differ_is_deleted_not_posted(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given the provider's figures differing from what Sage computes for the lines
    from bridge.sync import invoices
    from bridge.sync.totals import Figures

    monkeypatch.setattr(
        invoices, "order_figures", lambda order: Figures(order.total + D("0.01"), {})
    )
    order = payload("shopify", "orders-create-001-ttc-single-mug")

    result = pipeline.deliver("shopify", "orders/create", order)

    assert result.status == "failed"
    assert "total 19.80 in Sage, 19.81 from the provider" in (result.detail or "")
    assert pipeline.documents(SHOP_ORDER) == []
    [item] = pipeline.services.attention.items()
    assert item.kind == "total_mismatch"


@pytest.mark.parametrize(
    ("invoice", "note", "reference", "total", "vat"),
    [
        # to the customer balance (endive): a credit note without a refund
        (
            "invoice-paid-101-endive-one-line-20-vat-rate-id-only",
            "credit-note-created-106-endive-to-customer-balance",
            ENDIVE,
            D("-10.00"),
            D("-1.67"),
        ),
        # paid back out of band (2024-06-20): a credit note without a refund too
        (
            "invoice-paid-001-several-lines-exclusive-tax",
            "credit-note-created-004-2024-out-of-band",
            "stripe:default:in_1QmG1aBDemoInv0001",
            D("-12.00"),
            D("-2.00"),
        ),
        # a line credited by amount less its discount, and a custom line (2024-06-20)
        (
            "invoice-paid-001-several-lines-exclusive-tax",
            "credit-note-created-003-2024-by-amount-discount-custom-line",
            "stripe:default:in_1QmG1aBDemoInv0001",
            D("-35.00"),
            D("-5.83"),
        ),
    ],
)
def test_stripe_credit_notes_by_amount_in_both_versions(
    pipeline: Pipeline, invoice: str, note: str, reference: str, total: Decimal, vat: Decimal
) -> None:
    assert pipeline.deliver("stripe", "invoice.paid", payload("stripe", invoice)).status == (
        "processed"
    )

    result = pipeline.deliver("stripe", "credit_note.created", payload("stripe", note))

    assert result.status == "processed", result.detail
    assert _notes(pipeline, reference) == [("Posted", total, {D("20"): vat})]
    assert pipeline.services.attention.items() == []
