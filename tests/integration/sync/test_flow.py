"""The sync steps against the sandbox over HTTP and the real Redis, through `run_event`."""

from __future__ import annotations

import copy
from decimal import Decimal

from tests.support.pipeline import SHOP, Pipeline, payload

ORDER_1 = f"shopify:{SHOP}:5910000001013"  # orders-create-001: one mug + shipping, 19.80
ORDER_3 = f"shopify:{SHOP}:5910000003039"  # orders-create-003: four lines, 64.80


def transaction(tx_id: int, amount: str, order_id: int = 5910000001013) -> dict[str, object]:
    body = copy.deepcopy(payload("shopify", "order-transactions-create-001-sale-shopify-payments"))
    body.update(id=tx_id, order_id=order_id, amount=amount)
    body.pop("amount_set", None)
    return body


def test_order_becomes_a_posted_invoice_of_the_order_total(pipeline: Pipeline) -> None:
    result = pipeline.deliver(
        "shopify", "orders/create", payload("shopify", "orders-create-001-ttc-single-mug")
    )

    assert result.status == "processed", result.detail
    invoice = pipeline.invoice(ORDER_1)
    assert invoice.status == "Posted"
    assert invoice.total_liquid == Decimal("19.80")
    assert invoice.external_reference == "#1001"
    assert invoice.operational_number


def test_payment_collects_and_replays_change_nothing(pipeline: Pipeline) -> None:
    pipeline.deliver(
        "shopify", "orders/create", payload("shopify", "orders-create-001-ttc-single-mug")
    )
    body = payload("shopify", "order-transactions-create-001-sale-shopify-payments")

    first = pipeline.deliver("shopify", "order_transactions/create", body)
    again = pipeline.deliver("shopify", "order_transactions/create", body)

    assert (first.status, again.status) == ("processed", "processed")
    assert pipeline.invoice(ORDER_1).status == "Collected"
    entries = pipeline.services.sage.accounting_entries_by_document_number("7210000000101")
    assert len(entries) == 1


def test_two_partial_payments_go_through_partially_collected(pipeline: Pipeline) -> None:
    pipeline.deliver(
        "shopify", "orders/create", payload("shopify", "orders-create-001-ttc-single-mug")
    )

    pipeline.deliver("shopify", "order_transactions/create", transaction(801, "10.00"))
    middle = pipeline.invoice(ORDER_1)
    pipeline.deliver("shopify", "order_transactions/create", transaction(802, "9.80"))

    assert middle.status == "PartiallyCollected"
    assert sum(i.outstanding for i in middle.open_items) == Decimal("9.80")
    assert pipeline.invoice(ORDER_1).status == "Collected"


def test_overpayment_fails_naming_both_amounts(pipeline: Pipeline) -> None:
    pipeline.deliver(
        "shopify", "orders/create", payload("shopify", "orders-create-001-ttc-single-mug")
    )

    result = pipeline.deliver("shopify", "order_transactions/create", transaction(803, "25.00"))

    assert result.status == "failed"
    assert "25.00" in result.detail
    assert "19.80" in result.detail
    assert pipeline.invoice(ORDER_1).status == "Posted"


def test_unmapped_gateway_is_a_clear_error(pipeline: Pipeline) -> None:
    pipeline.deliver(
        "shopify", "orders/create", payload("shopify", "orders-create-001-ttc-single-mug")
    )
    body = transaction(804, "19.80")
    body["gateway"] = "klarna"

    result = pipeline.deliver("shopify", "order_transactions/create", body)

    assert result.status == "failed"
    assert "klarna" in result.detail
    assert "BRIDGE_PAYMENT_METHODS" in result.detail


def test_payment_before_its_order_is_parked_then_released(pipeline: Pipeline) -> None:
    tx = pipeline.record(
        "shopify",
        "order_transactions/create",
        payload("shopify", "order-transactions-create-001-sale-shopify-payments"),
    )
    parked = pipeline.run(tx)
    assert parked.status == "parked"

    pipeline.deliver(
        "shopify", "orders/create", payload("shopify", "orders-create-001-ttc-single-mug")
    )

    record = pipeline.services.events.get(tx)
    assert record is not None
    assert record.status == "queued"
    assert pipeline.run(tx).status == "processed"
    assert pipeline.invoice(ORDER_1).status == "Collected"


def test_partial_refund_makes_a_posted_credit_note_of_the_refunded_lines(
    pipeline: Pipeline,
) -> None:
    pipeline.deliver(
        "shopify", "orders/create", payload("shopify", "orders-create-003-ttc-mixed-rates")
    )

    result = pipeline.deliver(
        "shopify", "refunds/create", payload("shopify", "refunds-create-001-line-and-shipping")
    )

    assert result.status == "processed", result.detail
    notes = [d for d in pipeline.documents(ORDER_3) if d.type == "CREDIT_NOTE"]
    assert len(notes) == 1
    note = pipeline.services.sage.invoice(notes[0].id)
    assert note is not None
    assert note.status == "Posted"
    assert note.sales_order_number == f"{ORDER_3}:refund:930100000001"
    assert note.total_liquid == Decimal("-12.40")  # one tea 8.50 + shipping 3.90
    assert sorted((line.product_code, line.total_quantity) for line in note.lines) == [
        ("SHIPPING", Decimal("-1")),
        ("TEA-001", Decimal("-1")),
    ]
    assert pipeline.services.attention.items() == []


def test_refund_adjustment_is_credited_with_the_lines(pipeline: Pipeline) -> None:
    order = payload("shopify", "orders-create-003-ttc-mixed-rates")
    pipeline.deliver("shopify", "orders/create", order)
    refund = payload("shopify", "refunds-create-001-line-and-shipping")
    refund["order_adjustments"] = [
        {"id": 1, "kind": "refund_discrepancy", "amount": "-2.00", "tax_amount": "0.00",
         "order_id": refund["order_id"], "refund_id": refund["id"], "reason": "goodwill"}
    ]  # fmt: skip

    result = pipeline.deliver("shopify", "refunds/create", refund)

    # then the goodwill is credited too, pro rata over the invoice's VAT rates
    assert result.status == "processed", result.detail
    [note] = [d for d in pipeline.documents(ORDER_3) if d.type == "CREDIT_NOTE"]
    assert note.status == "Posted"
    assert note.total_liquid == Decimal("-14.40")  # tea 8.50 + shipping 3.90 + 2.00
    assert pipeline.services.attention.items() == []


STRIPE_ORDER = "stripe:default:in_1QmG1aBDemoInv0001"


def test_a_stripe_refund_before_its_payment_waits_for_it(pipeline: Pipeline) -> None:
    pipeline.deliver(
        "stripe", "invoice.paid", payload("stripe", "invoice-paid-001-several-lines-exclusive-tax")
    )
    body = payload("stripe", "refund-created-001-invoice-partial-linked-by-caller")
    refund = pipeline.record("stripe", "refund.created", body)

    early = pipeline.run(refund)
    assert early.status == "parked", early.detail
    assert "its payment pi_3QmG1aBDemoPI0001 is not booked yet" in (early.detail or "")
    pay = pipeline.deliver(
        "stripe", "charge.succeeded", payload("stripe", "charge-succeeded-002-invoice-payment")
    )
    assert pay.status == "processed", pay.detail
    later = pipeline.run(refund)  # what the sweep does when the parked refund falls due

    assert later.status == "processed", later.detail
    # a partial refund of an invoice, with no lines: a credit note of exactly its amount
    [note] = [d for d in pipeline.documents(STRIPE_ORDER) if d.type == "CREDIT_NOTE"]
    assert (note.status, note.total_liquid) == ("Posted", Decimal("-20.00"))
    assert pipeline.services.attention.items() == []


def test_a_stripe_refund_naming_no_payment_and_no_order_fails_clearly(pipeline: Pipeline) -> None:
    body = copy.deepcopy(payload("stripe", "refund-created-001-invoice-partial-linked-by-caller"))
    body["data"]["object"].update(payment_intent=None, charge=None)
    result = pipeline.deliver("stripe", "refund.created", body)
    assert result.status == "failed"
    assert "not linked to an order" in (result.detail or "")


def test_an_order_in_another_currency_than_the_books_is_refused(pipeline: Pipeline) -> None:
    body = payload("stripe", "invoice-paid-003-jpy-zero-decimal")
    result = pipeline.deliver("stripe", "invoice.paid", body)
    assert result.status == "failed"
    assert "is in JPY, the books in EUR (BRIDGE_SHOP_CURRENCY)" in (result.detail or "")
    reference = f"stripe:default:{body['data']['object']['id']}"
    assert pipeline.services.links.order(reference) is None
    assert pipeline.documents(reference) == []


def test_a_stripe_invoice_keeps_its_number_in_the_default_mode(pipeline: Pipeline) -> None:
    assert pipeline.services.settings.numbering == "sage"
    body = payload("stripe", "invoice-paid-001-several-lines-exclusive-tax")
    assert pipeline.deliver("stripe", "invoice.paid", body).status == "processed"
    assert pipeline.invoice(STRIPE_ORDER).operational_number == "BDEMO-0042"  # not renumbered
    pipeline.deliver(
        "shopify", "orders/create", payload("shopify", "orders-create-001-ttc-single-mug")
    )
    assert pipeline.invoice(ORDER_1).operational_number != "#1001"  # Sage numbers orders
