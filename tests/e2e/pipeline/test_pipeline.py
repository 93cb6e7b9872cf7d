"""Orders, payments and refunds from signed webhooks to Sage, through a real worker."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from tests.support.pipeline import SHOP, payload
from tests.support.rig import Rig

ORDER_1 = f"shopify:{SHOP}:5910000001013"  # 19.80
ORDER_3 = f"shopify:{SHOP}:5910000003039"  # 64.80
TX = "order-transactions-create-001-sale-shopify-payments"
HEARTBEAT_TTL = 6  # seconds: a killed worker is known dead this soon after its last beat


def transaction(tx_id: int, amount: str, order_id: int) -> dict[str, Any]:
    body = copy.deepcopy(payload("shopify", TX))
    body.update(id=tx_id, order_id=order_id, amount=amount)
    body.pop("amount_set", None)
    return body


def credit_notes(rig: Rig, invoice_id: str) -> list[Any]:
    from bridge.sync.sage_documents import credit_notes_of

    return credit_notes_of(rig.services.sage, invoice_id)


def test_order_partial_payments_and_refund(rig: Rig) -> None:
    rig.worker()
    rig.send("orders/create", payload("shopify", "orders-create-003-ttc-mixed-rates"))
    posted = rig.wait_status(ORDER_3, "Posted")
    assert posted.total_liquid == Decimal("64.80")

    rig.send("order_transactions/create", transaction(901, "30.00", 5910000003039))
    partial = rig.wait_status(ORDER_3, "PartiallyCollected")
    assert sum(i.outstanding for i in partial.open_items) == Decimal("34.80")
    rig.send("order_transactions/create", transaction(902, "34.80", 5910000003039))
    rig.wait_status(ORDER_3, "Collected")

    rig.send("refunds/create", payload("shopify", "refunds-create-001-line-and-shipping"))

    def posted_note() -> Any:
        notes = credit_notes(rig, posted.id)
        return notes if notes and notes[0].status == "Posted" else None

    [note] = rig.wait_for(posted_note, what="a posted credit note")
    assert note.total_liquid == Decimal("-12.40")
    assert sorted((ln.product_code, ln.total_quantity) for ln in note.lines) == [
        ("SHIPPING", Decimal("-1")),
        ("TEA-001", Decimal("-1")),
    ]


def test_payment_before_its_order_ends_collected(rig: Rig) -> None:
    rig.worker()
    tx = rig.send("order_transactions/create", payload("shopify", TX))
    rig.wait_for(lambda: rig.event_status(tx) == "parked", what="the payment parked")

    rig.send("orders/create", payload("shopify", "orders-create-001-ttc-single-mug"))

    invoice = rig.wait_status(ORDER_1, "Collected")
    assert invoice.total_liquid == Decimal("19.80")
    # Sage shows Collected a moment before the worker has recorded the event as done
    rig.wait_for(lambda: rig.event_status(tx) == "processed", what="the payment processed")


def test_ten_concurrent_copies_of_order_and_payment(rig: Rig) -> None:
    order = payload("shopify", "orders-create-001-ttc-single-mug")
    refs = [rig.send("orders/updated", order) for _ in range(10)]
    refs += [rig.send("order_transactions/create", payload("shopify", TX)) for _ in range(10)]
    rig.worker(concurrency=6)

    rig.wait_status(ORDER_1, "Collected")
    rig.wait_for(
        lambda: all(rig.event_status(r) == "processed" for r in refs),
        what="every copy processed",
    )
    invoices = [
        d
        for d in rig.services.sage.invoices_by_sales_order_number(ORDER_1)
        if d.type != "CREDIT_NOTE"
    ]
    assert len(invoices) == 1
    entries = rig.services.sage.accounting_entries_by_document_number("7210000000101")
    assert len(entries) == 1


def test_lost_answers_on_create_settle_and_credit_note(rig: Rig) -> None:
    rig.control.faults(
        drop_after_commit={
            "operations": [
                "createSalesInvoice",
                "createSalesOpenItemSettlement",
                "generateCreditNote",
            ],
            "count": 3,
        }
    )
    rig.worker()
    rig.send("orders/create", payload("shopify", "orders-create-003-ttc-mixed-rates"))
    rig.send("order_transactions/create", transaction(911, "64.80", 5910000003039))
    invoice = rig.wait_status(ORDER_3, "Collected", timeout=90)
    rig.send("refunds/create", payload("shopify", "refunds-create-001-line-and-shipping"))

    notes = rig.wait_for(
        lambda: [n for n in credit_notes(rig, invoice.id) if n.status == "Posted"] or None,
        timeout=90,
        what="a posted credit note",
    )
    assert len(credit_notes(rig, invoice.id)) == len(notes) == 1
    assert len(rig.services.sage.invoices_by_sales_order_number(ORDER_3)) == 1
    assert len(rig.services.sage.accounting_entries_by_document_number("911")) == 1
    assert rig.control.stats()["by_status"].get("502", 0) == 3


def test_worker_killed_mid_order_then_recovered(rig: Rig, start_beat: Callable[..., None]) -> None:
    # The close+post request is slow: the worker is killed while Sage is working on it,
    # and Sage completes it after the worker is gone. Nobody replays the event: the new
    # worker gets it back from the sweep (run by beat) once the dead worker's heartbeat
    # expired, long before the 30-min grace or Celery's 1-h visibility timeout.
    env = {**rig.worker_env, "BRIDGE_WORKER_HEARTBEAT_TTL": str(HEARTBEAT_TTL)}
    start_beat(**env)
    rig.control.faults(operations=["closeSalesInvoice"], latency_ms=3000)
    first = rig.start_worker(pool="solo", concurrency=1, **env)
    ref = rig.send("orders/create", payload("shopify", "orders-create-001-ttc-single-mug"))

    def in_post() -> bool:
        link = rig.services.links.order(ORDER_1)
        in_sage = rig.control.stats()["in_flight"].get("closeSalesInvoice", 0) > 0
        return link is not None and link.intended("post") and in_sage

    # Killed once Sage is working on the request: not in the moment between the intent
    # marker and the request leaving the worker (that case never reaches Sage).
    rig.wait_for(in_post, what="the worker inside close+post, the request in Sage")
    first.kill()
    killed_at = time.monotonic()
    rig.control.clear_faults()
    rig.wait_for(
        lambda: (inv := rig.invoice_status(ORDER_1)) is not None and inv.status == "Posted",
        what="Sage finishing the orphaned close+post",
    )
    assert rig.event_status(ref) == "processing"  # orphaned on the dead worker

    second = rig.start_worker(pool="solo", concurrency=1, **env)
    rig.wait_for(lambda: rig.event_status(ref) == "processed", timeout=60, what="recovery")
    assert time.monotonic() - killed_at < 60

    record = rig.services.events.get(ref)
    assert record is not None
    workers = [(a.worker or "").split("@")[0] for a in record.attempts]
    assert workers == [first.name.split("@")[0], second.name.split("@")[0]]
    assert [a.outcome for a in record.attempts] == [None, "processed"]  # killed, recovered
    link = rig.services.links.order(ORDER_1)
    assert link is not None
    assert link.status == "Posted"
    assert not link.intents
    invoices = rig.services.sage.invoices_by_sales_order_number(ORDER_1)
    assert [i.status for i in invoices] == ["Posted"]


def test_rate_limit_storm_and_server_errors_slow_but_complete(rig: Rig) -> None:
    rig.control.faults(rate_limit_burst=25, retry_after=1, error_rate=0.3, error_count=12)
    rig.worker()
    orders = []
    for n in range(3):
        body = copy.deepcopy(payload("shopify", "orders-create-001-ttc-single-mug"))
        body["id"] = 5920000000000 + n
        body["name"] = f"#20{n}"
        orders.append(f"shopify:{SHOP}:{body['id']}")
        rig.send("orders/create", body)
        rig.send("order_transactions/create", transaction(920 + n, "19.80", body["id"]))

    for reference in orders:
        invoice = rig.wait_status(reference, "Collected", timeout=120)
        assert invoice.total_liquid == Decimal("19.80")
    stats = rig.control.stats()["by_status"]
    assert stats.get("429", 0) > 0
    assert sum(int(n) for code, n in stats.items() if code.startswith("5")) > 0
