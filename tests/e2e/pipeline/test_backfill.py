"""`bridge backfill` end to end: webhooks that never came, read from Shopify's GraphQL Admin
API (a fake over HTTP), are booked in Sage by a real worker; what the webhooks did bring is
left alone."""

from __future__ import annotations

import os
import subprocess
import sys
from decimal import Decimal

from bridge.sync.sage_documents import credit_notes_of
from tests.support.pipeline import SHOP, payload
from tests.support.rig import Rig
from tests.support.servers import serve_wsgi
from tests.support.shopify_graphql import ACCESS_TOKEN, API_VERSION, FakeShopifyGraphQL

ORDER_1 = f"shopify:{SHOP}:5910000001013"  # 19.80, its webhooks lost
ORDER_3 = f"shopify:{SHOP}:5910000003039"  # 64.80, delivered by webhook


def test_lost_order_and_payment_are_backfilled_and_collected(rig: Rig, redis_url: str) -> None:
    rig.worker()
    rig.send("orders/create", payload("shopify", "orders-create-003-ttc-mixed-rates"))
    rig.wait_status(ORDER_3, "Posted")
    shop = FakeShopifyGraphQL(shop_domain=SHOP)
    shop.add_order(
        payload("shopify", "orders-create-001-ttc-single-mug"),
        [payload("shopify", "order-transactions-create-001-sale-shopify-payments")],
    )
    shop.add_order(payload("shopify", "orders-create-003-ttc-mixed-rates"), [])

    with serve_wsgi(shop.app) as base:
        env = {**os.environ, **rig.worker_env, "REDIS_URL": redis_url,
               "SHOPIFY_SHOP_DOMAIN": SHOP, "SHOPIFY_ACCESS_TOKEN": ACCESS_TOKEN,
               "SHOPIFY_API_URL": base, "SHOPIFY_API_VERSION": API_VERSION}  # fmt: skip
        argv = [sys.executable, "-m", "bridge.cli", "backfill", "--provider", "shopify"]
        argv += ["--since", "2026-03-01", "--until", "2026-03-04"]
        done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "shopify: 2 read, queued 2, 1 already known, 0 skipped"
    assert "shopify: page 1, 2 read, 2 queued, 1 already known" in done.stderr
    invoice = rig.wait_status(ORDER_1, "Collected")
    assert invoice.total_liquid == Decimal("19.80")
    assert len(rig.services.links.order(ORDER_3).payments) == 0  # type: ignore[union-attr]
    assert shop.refused == 0
    shop.close()


def test_a_lost_refund_is_backfilled_as_a_posted_credit_note(rig: Rig, redis_url: str) -> None:
    # given an order and its payment delivered by webhook, but not its refund (12.40)
    rig.worker()
    rig.send("orders/create", payload("shopify", "orders-create-003-ttc-mixed-rates"))
    sale = {**payload("shopify", "order-transactions-create-001-sale-shopify-payments"),
            "id": 911, "order_id": 5910000003039, "amount": "64.80"}  # fmt: skip
    sale.pop("amount_set", None)
    rig.send("order_transactions/create", sale)
    invoice = rig.wait_status(ORDER_3, "Collected")
    refund = payload("shopify", "refunds-create-001-line-and-shipping")
    shop = FakeShopifyGraphQL(shop_domain=SHOP)
    order = payload("shopify", "orders-create-003-ttc-mixed-rates")
    shop.add_order({**order, "financial_status": "partially_refunded", "refunds": [refund]},
                   [sale])  # fmt: skip

    # when the backfill reads Shopify's GraphQL Admin API
    with serve_wsgi(shop.app) as base:
        env = {**os.environ, **rig.worker_env, "REDIS_URL": redis_url,
               "SHOPIFY_SHOP_DOMAIN": SHOP, "SHOPIFY_ACCESS_TOKEN": ACCESS_TOKEN,
               "SHOPIFY_API_URL": base, "SHOPIFY_API_VERSION": API_VERSION}  # fmt: skip
        argv = [sys.executable, "-m", "bridge.cli", "backfill", "--provider", "shopify"]
        argv += ["--since", "2026-03-01", "--until", "2026-03-31"]
        done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)

    # then only the refund was missing, and it is booked as a posted credit note of 12.40
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "shopify: 1 read, queued 1, 2 already known, 0 skipped"
    link = rig.wait_for(
        lambda: (found := rig.services.links.order(ORDER_3)) and found.credited > 0 and found,
        what="the credit note",
    )
    assert link.credited == Decimal("12.40")
    notes = credit_notes_of(rig.services.sage, invoice.id)
    assert [(note.status, note.total_liquid) for note in notes] == [("Posted", Decimal("-12.40"))]
    shop.close()
