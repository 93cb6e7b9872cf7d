"""Links expire (`BRIDGE_LINK_RETENTION_DAYS`): an event for a sale whose links are gone
still books once, because the sync then looks in Sage by reference before acting.

Expiry is simulated by deleting the link keys (what Redis does when their TTL ends); the
sandbox runs over HTTP and Redis is real, as in `test_flow.py`.
"""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

from tests.integration.sync.test_flow import ORDER_1, ORDER_3, transaction
from tests.support.make_pipeline import MakePipeline
from tests.support.pipeline import Pipeline, payload

ORDER = "orders-create-001-ttc-single-mug"
ORDER_MIXED = "orders-create-003-ttc-mixed-rates"
REFUND = "refunds-create-001-line-and-shipping"
TX = "order-transactions-create-001-sale-shopify-payments"


def forget(pipeline: Pipeline, *parts: str) -> int:
    """Delete the link keys under `link:<parts...>` (all links when no part is given)."""
    pattern = pipeline.services.settings.key("link", *parts) + "*"
    keys = list(pipeline.services.redis.scan_iter(match=pattern))
    return int(pipeline.services.redis.delete(*keys)) if keys else 0


def invoices(pipeline: Pipeline, reference: str) -> list[Any]:
    return [d for d in pipeline.documents(reference) if d.type != "CREDIT_NOTE"]


def credit_notes(pipeline: Pipeline, reference: str) -> list[Any]:
    return [d for d in pipeline.documents(reference) if d.type == "CREDIT_NOTE"]


def dated(body: dict[str, Any], when: str) -> dict[str, Any]:
    """`body` (an order) as made on `when` (ISO time), e.g. two years ago."""
    copied = copy.deepcopy(body)
    copied.update(created_at=when, processed_at=when, updated_at=when)
    return copied


def test_every_link_gets_a_ttl_and_the_orders_index_keeps_the_retention(
    make_pipeline: MakePipeline,
) -> None:
    pipeline = make_pipeline(BRIDGE_LINK_RETENTION_DAYS=2)
    redis = pipeline.services.redis
    settings = pipeline.services.settings
    pipeline.deliver("shopify", "orders/create", payload("shopify", ORDER))
    pipeline.deliver("shopify", "order_transactions/create", payload("shopify", TX))
    stale = settings.key("link", "orders")
    redis.zadd(stale, {"shopify:old-shop:1": 1_000.0})  # changed long before the retention

    pipeline.deliver("shopify", "orders/create", payload("shopify", ORDER_MIXED))

    keys = [str(k) for k in redis.scan_iter(match=settings.key("link", "*"))]
    per_sale = [k for k in keys if not k.endswith(":orders")]
    assert any(":order:" in k for k in per_sale)
    assert any(":payment:" in k for k in per_sale)
    for key in per_sale:
        assert 0 < int(redis.ttl(key)) <= 2 * 86_400, key
    assert redis.zscore(stale, "shopify:old-shop:1") is None
    assert redis.zscore(stale, ORDER_1) is not None
    assert redis.zscore(stale, ORDER_3) is not None


def test_an_old_order_whose_link_expired_is_not_invoiced_twice(
    make_pipeline: MakePipeline,
) -> None:
    # default retention (400 days); the order is two years old, so its link may be gone
    pipeline = make_pipeline()
    order = dated(payload("shopify", ORDER), "2024-03-02T09:14:27+01:00")
    assert pipeline.deliver("shopify", "orders/create", order).status == "processed"
    first = invoices(pipeline, ORDER_1)
    assert forget(pipeline) > 0

    again = pipeline.deliver("shopify", "orders/updated", order)

    assert again.status == "processed", again.detail
    assert [i.id for i in invoices(pipeline, ORDER_1)] == [i.id for i in first]
    link = pipeline.services.links.order(ORDER_1)
    assert link is not None
    assert link.invoice_id == first[0].id  # adopted from Sage
    assert link.posted


def test_payment_refund_and_order_after_every_link_expired_book_nothing_twice(
    make_pipeline: MakePipeline,
) -> None:
    # a retention no longer than the margin: any missing link may have expired
    pipeline = make_pipeline(BRIDGE_LINK_RETENTION_DAYS=1)
    pipeline.deliver("shopify", "orders/create", payload("shopify", ORDER))
    pipeline.deliver("shopify", "order_transactions/create", payload("shopify", TX))
    pipeline.deliver("shopify", "orders/create", payload("shopify", ORDER_MIXED))
    pipeline.deliver("shopify", "refunds/create", payload("shopify", REFUND))
    assert len(credit_notes(pipeline, ORDER_3)) == 1
    forget(pipeline)

    # the payment comes again first: nothing to attach it to yet, it waits
    tx = pipeline.record("shopify", "order_transactions/create", payload("shopify", TX))
    waiting = pipeline.run(tx)
    assert waiting.status == "parked"
    assert "BRIDGE_LINK_RETENTION_DAYS" in waiting.detail
    # the order comes again: its invoice is found in Sage, the payment is released
    assert pipeline.deliver("shopify", "orders/updated", payload("shopify", ORDER)).status == (
        "processed"
    )
    assert pipeline.run(tx).status == "processed"
    pipeline.deliver("shopify", "orders/updated", payload("shopify", ORDER_MIXED))
    refund = pipeline.deliver("shopify", "refunds/create", payload("shopify", REFUND))

    assert refund.status == "processed", refund.detail
    assert len(invoices(pipeline, ORDER_1)) == 1
    assert len(invoices(pipeline, ORDER_3)) == 1
    assert len(credit_notes(pipeline, ORDER_3)) == 1
    entries = pipeline.services.sage.accounting_entries_by_document_number("7210000000101")
    assert len(entries) == 1
    assert pipeline.invoice(ORDER_1).status == "Collected"


def test_payment_and_refund_whose_own_link_expired_are_known_from_the_order(
    make_pipeline: MakePipeline,
) -> None:
    # default retention, recent order: only the payment's and refund's links are gone
    pipeline = make_pipeline()
    pipeline.deliver("shopify", "orders/create", payload("shopify", ORDER))
    pipeline.deliver("shopify", "order_transactions/create", transaction(811, "10.00"))
    pipeline.deliver("shopify", "orders/create", payload("shopify", ORDER_MIXED))
    pipeline.deliver("shopify", "refunds/create", payload("shopify", REFUND))
    assert forget(pipeline, "payment") == 1
    assert forget(pipeline, "refund") == 1

    pay = pipeline.deliver("shopify", "order_transactions/create", transaction(811, "10.00"))
    refund = pipeline.deliver("shopify", "refunds/create", payload("shopify", REFUND))

    assert (pay.status, refund.status) == ("processed", "processed")
    assert "already settled" in pay.detail
    assert "already credited" in refund.detail
    invoice = pipeline.invoice(ORDER_1)
    assert invoice.status == "PartiallyCollected"
    assert sum(i.outstanding for i in invoice.open_items) == Decimal("9.80")
    assert len(credit_notes(pipeline, ORDER_3)) == 1
