"""Exactly once when Sage commits a change and the answer is lost, and under concurrency."""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest

from bridge.outbound.subscriptions import NotFound
from tests.integration.sync.test_flow import ORDER_1, ORDER_3
from tests.support.pipeline import Pipeline, payload

ORDER = "orders-create-001-ttc-single-mug"
TX = "order-transactions-create-001-sale-shopify-payments"


def outbound_event_exists(pipeline: Pipeline, key: str) -> bool:
    event_id = "msg_" + hashlib.sha256(key.encode()).hexdigest()[:24]
    try:
        pipeline.services.outbound.event(event_id)
    except NotFound:
        return False
    return True


def run_until_done(pipeline: Pipeline, ref: str) -> str:
    """Run `ref` as the task would, retrying transient failures (bounded)."""
    for retries in range(5):
        result = pipeline.run(ref, retries)
        if result.status != "queued":
            return str(result.status)
    return "gave up"


@pytest.mark.parametrize("operation", ["createSalesInvoice", "closeSalesInvoice"])
def test_lost_answer_on_invoice_steps_gives_one_posted_invoice(
    pipeline: Pipeline, operation: str
) -> None:
    pipeline.control.faults(drop_after_commit={"operations": [operation], "count": 1})
    ref = pipeline.record("shopify", "orders/create", payload("shopify", ORDER))

    first = pipeline.run(ref)
    assert first.status == "queued"  # transient: Sage may have committed it
    assert run_until_done(pipeline, ref) == "processed"

    invoices = [d for d in pipeline.documents(ORDER_1) if d.type != "CREDIT_NOTE"]
    assert len(invoices) == 1
    assert invoices[0].status == "Posted"
    assert invoices[0].total_liquid == Decimal("19.80")
    assert outbound_event_exists(pipeline, f"invoice.posted:{invoices[0].id}")


def test_lost_answer_on_settlement_gives_one_settlement(pipeline: Pipeline) -> None:
    pipeline.deliver("shopify", "orders/create", payload("shopify", ORDER))
    pipeline.control.faults(
        drop_after_commit={"operations": ["createSalesOpenItemSettlement"], "count": 1}
    )
    ref = pipeline.record("shopify", "order_transactions/create", payload("shopify", TX))

    assert pipeline.run(ref).status == "queued"
    assert run_until_done(pipeline, ref) == "processed"

    entries = pipeline.services.sage.accounting_entries_by_document_number("7210000000101")
    assert len(entries) == 1
    assert pipeline.invoice(ORDER_1).status == "Collected"
    assert outbound_event_exists(pipeline, f"payment.settled:{entries[0].id}")


@pytest.mark.parametrize("operation", ["generateCreditNote", "updateSalesInvoice"])
def test_lost_answer_on_credit_note_gives_one_credit_note(
    pipeline: Pipeline, operation: str
) -> None:
    pipeline.deliver(
        "shopify", "orders/create", payload("shopify", "orders-create-003-ttc-mixed-rates")
    )
    pipeline.control.faults(drop_after_commit={"operations": [operation], "count": 1})
    ref = pipeline.record(
        "shopify", "refunds/create", payload("shopify", "refunds-create-001-line-and-shipping")
    )

    assert pipeline.run(ref).status == "queued"
    assert run_until_done(pipeline, ref) == "processed"

    notes = [d for d in pipeline.documents(ORDER_3) if d.type == "CREDIT_NOTE"]
    assert len(notes) == 1
    assert notes[0].status == "Posted"
    assert notes[0].total_liquid == Decimal("-12.40")


def test_ten_concurrent_copies_give_one_invoice_and_one_settlement(pipeline: Pipeline) -> None:
    orders = [
        pipeline.record("shopify", "orders/create", payload("shopify", ORDER)) for _ in range(10)
    ]
    txs = [
        pipeline.record("shopify", "order_transactions/create", payload("shopify", TX))
        for _ in range(10)
    ]

    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = list(pool.map(lambda ref: run_until_done(pipeline, ref), orders + txs))

    assert set(statuses) <= {"processed", "parked"}
    for ref in txs:  # a copy that found no order yet was parked, then released
        if pipeline.services.events.get(ref).status != "processed":  # type: ignore[union-attr]
            assert run_until_done(pipeline, ref) == "processed"
    invoices = [d for d in pipeline.documents(ORDER_1) if d.type != "CREDIT_NOTE"]
    assert len(invoices) == 1
    assert invoices[0].status == "Collected"
    entries = pipeline.services.sage.accounting_entries_by_document_number("7210000000101")
    assert len(entries) == 1
