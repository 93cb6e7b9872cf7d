"""Shopify order edits after the invoice, end to end (real ingress, Celery worker, sandbox
over HTTP): the added sale a supplementary invoice, the payment settling the order's
documents oldest first, the chain in the admin API."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import pytest

from tests.support.pipeline import SHOP, payload
from tests.support.rig import ADMIN_TOKEN, Rig

pytestmark = pytest.mark.e2e

VERSION = "2026-10"
REFERENCE = f"shopify:{SHOP}:5910000001043"
EDIT_REFERENCE = f"{REFERENCE}:edit:1043000000001"


def payment(amount: str) -> dict[str, Any]:
    body = copy.deepcopy(payload("shopify", "order-transactions-create-001-sale-shopify-payments"))
    body.update(id=7210000043001, order_id=5910000001043, amount=amount, payment_id="#1043.1")
    return body


def sage_total(rig: Rig, reference: str) -> Decimal:
    invoice = rig.invoice_status(reference)
    assert invoice is not None
    return invoice.total_liquid


@pytest.mark.parametrize("update_first", [False, True], ids=["edited-first", "updated-first"])
def test_edit_after_booking_adds_a_supplementary_invoice_and_all_is_collected(
    rig: Rig, update_first: bool
) -> None:
    # given an order of 50.00, invoiced and posted
    rig.worker()
    rig.send("orders/create", payload("shopify", f"orders-create-043-ttc-before-edit-v{VERSION}"))
    rig.wait_status(REFERENCE, "Posted")

    # when it is edited to add one 20.00 line (orders/edited and orders/updated, in either
    # order), then paid 70.00
    edited = payload("shopify", f"orders-edited-043-add-mug-v{VERSION}")
    updated = payload("shopify", f"orders-updated-043-ttc-after-edit-v{VERSION}")
    first, second = (("orders/updated", updated), ("orders/edited", edited))
    if not update_first:
        first, second = second, first
    rig.send(*first)
    rig.send(*second)
    supplementary = rig.wait_status(EDIT_REFERENCE, "Posted")
    rig.send("order_transactions/create", payment("70.00"))

    # then the documents add up to 70.00, both collected, and nothing needs a person
    assert supplementary.sales_order_number == EDIT_REFERENCE
    assert (supplementary.total_liquid, supplementary.total_vat) == (
        Decimal("20.00"),
        Decimal("3.33"),
    )
    rig.wait_status(REFERENCE, "Collected")
    rig.wait_status(EDIT_REFERENCE, "Collected")
    assert sage_total(rig, REFERENCE) + sage_total(rig, EDIT_REFERENCE) == Decimal("70.00")
    assert rig.services.attention.items() == []

    # and the admin API shows the chain
    auth = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    shown = rig.client.get(f"/admin/orders/{REFERENCE}", headers=auth).json
    assert shown is not None
    assert [(d["kind"], d["reference"], d["total"]) for d in shown["documents"]] == [
        ("invoice", REFERENCE, "50.00"),
        ("edit_invoice", EDIT_REFERENCE, "20.00"),
    ]
    assert shown["current_total"] == "70.00"

    # and a second delivery of the edit books nothing twice
    rig.send("orders/edited", edited)
    rig.send("orders/updated", updated)
    found = rig.services.sage.invoices_by_sales_order_number(EDIT_REFERENCE)
    assert len(found) == 1


def test_edit_before_the_invoice_changes_what_is_invoiced(rig: Rig) -> None:
    # given invoicing on fulfilment: the order is not invoiced yet
    env = {**rig.worker_env, "BRIDGE_INVOICE_ON": "fulfilment"}
    rig.start_worker(pool="threads", concurrency=2, **env)
    rig.send("orders/create", payload("shopify", f"orders-create-043-ttc-before-edit-v{VERSION}"))
    rig.wait_for(lambda: rig.services.links.order(REFERENCE), what="the order recorded")
    edited = rig.send("orders/edited", payload("shopify", f"orders-edited-043-add-mug-v{VERSION}"))
    rig.wait_for(lambda: rig.event_status(edited) == "processed", what="the edit")
    after = payload("shopify", f"orders-updated-043-ttc-after-edit-v{VERSION}")
    after["fulfillment_status"] = "fulfilled"

    rig.send("orders/updated", after)

    # then one invoice of 70.00, no supplementary one
    invoice = rig.wait_status(REFERENCE, "Posted")
    assert invoice.total_liquid == Decimal("70.00")
    assert rig.services.sage.invoices_by_sales_order_number(EDIT_REFERENCE) == []


def test_edit_removing_a_unit_is_a_credit_note_and_the_rest_paid_is_collected(rig: Rig) -> None:
    # given an order of two T-shirts at 24.00 (48.00), invoiced and posted
    rig.worker()
    reference = f"shopify:{SHOP}:5910000001044"
    rig.send("orders/create", payload("shopify", "orders-create-044-ttc-before-removal-v2026-10"))
    rig.wait_status(reference, "Posted")

    # when one is removed by an edit (then the order's update), and 24.00 is paid
    rig.send("orders/edited", payload("shopify", "orders-edited-044-remove-one-v2026-10"))
    rig.send("orders/updated", payload("shopify", "orders-updated-044-ttc-after-removal-v2026-10"))

    def credited() -> Any:
        link = rig.services.links.order(reference)
        return link is not None and "1044000000001" in link.edits_booked and link

    link = rig.wait_for(credited, what="the removal credited")
    tx = payment("24.00")
    tx.update(id=7210000044001, order_id=5910000001044, payment_id="#1044.1")
    rig.send("order_transactions/create", tx)

    # then a credit note of 24.00 (4.00 VAT) on the invoice, and the invoice collected
    note_link = rig.services.links.refund("shopify", "edit:1044000000001")
    assert note_link is not None
    assert note_link.credit_note_id is not None
    note = rig.services.sage.invoice(note_link.credit_note_id)
    assert note is not None
    assert (note.total_liquid, note.total_vat) == (Decimal("-24.00"), Decimal("-4.00"))
    assert note.status == "Posted"
    assert [d.total for d in link.chain] == [Decimal("-24.00")]
    rig.wait_status(reference, "Collected")
    assert rig.services.attention.items() == []


def mug_refund() -> dict[str, Any]:
    """A `refunds/create` giving back the mug the edit added (20.00 TTC, 3.33 VAT)."""
    body = copy.deepcopy(payload("shopify", "refunds-create-006-full-return-with-shipping"))
    item = body["refund_line_items"][0]
    money = {"amount": "20.00", "currency_code": "EUR"}
    tax = {"amount": "3.33", "currency_code": "EUR"}
    item.update(line_item_id=14010000043002, quantity=1, subtotal=20.0, total_tax=3.33,
                subtotal_set={"shop_money": money, "presentment_money": money},
                total_tax_set={"shop_money": tax, "presentment_money": tax})  # fmt: skip
    item["line_item"]["id"] = 14010000043002
    body.update(id=930100043001, order_id=5910000001043, refund_line_items=[item],
                refund_shipping_lines=[], order_adjustments=[])  # fmt: skip
    for tx in body["transactions"]:
        tx.update(id=7210000043009, order_id=5910000001043, amount="20.00")
    return body


def test_a_returned_item_added_by_an_edit_is_credited_on_its_supplementary_invoice(
    rig: Rig,
) -> None:
    # given the 50.00 order edited to 70.00 (a mug added) and paid
    rig.worker()
    rig.send("orders/create", payload("shopify", f"orders-create-043-ttc-before-edit-v{VERSION}"))
    rig.wait_status(REFERENCE, "Posted")
    rig.send("orders/edited", payload("shopify", f"orders-edited-043-add-mug-v{VERSION}"))
    rig.send("orders/updated", payload("shopify", f"orders-updated-043-ttc-after-edit-v{VERSION}"))
    rig.wait_status(EDIT_REFERENCE, "Posted")
    rig.send("order_transactions/create", payment("70.00"))
    rig.wait_status(EDIT_REFERENCE, "Collected")

    # when the mug is returned and refunded
    refund = rig.send("refunds/create", mug_refund())
    rig.wait_for(lambda: rig.event_status(refund) == "processed", what="the refund")

    # then the credit note (-20.00, -3.33 VAT) is of the supplementary invoice
    edit = rig.services.links.order(EDIT_REFERENCE)
    assert edit is not None
    assert edit.refunds == ["930100043001"]
    note_link = rig.services.links.refund("shopify", "930100043001")
    assert note_link is not None
    assert note_link.credit_note_id is not None
    note = rig.services.sage.invoice(note_link.credit_note_id)
    assert note is not None
    assert (note.total_liquid, note.total_vat) == (Decimal("-20.00"), Decimal("-3.33"))
    assert rig.services.attention.items() == []
