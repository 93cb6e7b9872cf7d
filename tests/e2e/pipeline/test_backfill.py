"""`bridge backfill` end to end: webhooks that never came, read from Shopify's GraphQL Admin
API (a fake over HTTP), are booked in Sage by a real worker; what the webhooks did bring is
left alone."""

from __future__ import annotations

import os
import subprocess
import sys
from decimal import Decimal

from tests.e2e.pipeline.conftest import Rig
from tests.support.pipeline import SHOP, payload
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
