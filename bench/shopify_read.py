"""Benchmark of reading a Shopify backfill window through the GraphQL Admin API client,
against the fake Shopify GraphQL server (tests/support) over HTTP.

For the same orders and the same cost bucket (scaled: `--maximum` points refilled at
`--restore-rate` a second, so a run takes seconds, not Shopify's minutes) it prints, for
(1) the bridge's client (waits for the bucket), (2) a baseline in the same run that only
reacts to THROTTLED answers (no local estimate), and (3) one bulk operation: wall time,
orders/s, requests sent and requests Shopify refused.

    .venv/bin/python bench/shopify_read.py [--orders 600] [--maximum 1000] [--restore-rate 2000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import stopping

from connectors.shopify.graphql import CostBucket, ShopifyGraphQL
from connectors.shopify.orders import ShopifyOrders
from tests.support.servers import serve_wsgi
from tests.support.shopify_graphql import (
    ACCESS_TOKEN,
    API_VERSION,
    SHOP_DOMAIN,
    FakeShopifyGraphQL,
)

NOW = dt.datetime.now(dt.UTC)


class NoEstimate(CostBucket):
    """The baseline: knows nothing of the bucket, so it sends at once and waits only when
    Shopify answers THROTTLED (its wait then comes from that answer's throttleStatus)."""

    def wait_for(self, cost: float, now: float) -> float:
        if self.available >= 0:
            return 0.0
        return super().wait_for(cost, now)

    def update(self, status: dict[str, float], now: float) -> None:  # type: ignore[override]
        super().update(status, now)
        if status["currentlyAvailable"] >= 1:
            self.available = 0.0  # forget it: only a refusal teaches this client to wait
        else:
            self.available = -1.0


def order(n: int) -> dict[str, object]:
    updated = (NOW - dt.timedelta(minutes=n % 1000 + 1)).isoformat()
    line = {"id": n * 10, "title": "Mug", "sku": "MUG-001", "quantity": 2, "price": "12.00",
            "tax_lines": [{"title": "TVA", "rate": 0.2, "price": "4.00"}]}  # fmt: skip
    return {"id": n, "name": f"#{n}", "currency": "EUR", "created_at": updated,
            "updated_at": updated, "financial_status": "pending", "total_price": "24.00",
            "line_items": [line]}  # fmt: skip


def run(label: str, args: argparse.Namespace, *, bulk: bool, baseline: bool = False) -> None:
    fake = FakeShopifyGraphQL(maximum=args.maximum, restore_rate=args.restore_rate, bulk_polls=1)
    for n in range(1, args.orders + 1):
        fake.add_order(order(n))
    with serve_wsgi(fake.app) as base:
        api = ShopifyGraphQL(SHOP_DOMAIN, ACCESS_TOKEN, api_version=API_VERSION, base_url=base)
        if baseline:
            api.bucket = NoEstimate()
        reader = ShopifyOrders(api, bulk_threshold=0 if bulk else 10**9, bulk_poll=0.05)
        started = time.perf_counter()
        read = sum(len(page) for page in reader.pages(NOW - dt.timedelta(days=1), NOW))
        elapsed = time.perf_counter() - started
        reader.close()
    fake.close()
    print(f"{label:<40} {read:>6} orders  {elapsed:6.2f} s  {read / elapsed:8.0f} orders/s  "
          f"{len(fake.requests):>5} requests  {fake.refused:>5} refused")  # fmt: skip


def main() -> None:
    stopping.install()  # SIGINT / SIGTERM: stop every child this bench started
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=600)
    parser.add_argument("--maximum", type=float, default=1000.0)
    parser.add_argument("--restore-rate", type=float, default=2000.0)
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    print(f"bucket {args.maximum:g} points, +{args.restore_rate:g}/s; {args.orders} orders")
    run("paged, waits for the bucket", args, bulk=False)
    run("paged, baseline (reacts to THROTTLED)", args, bulk=False, baseline=True)
    run("bulk operation", args, bulk=True)


if __name__ == "__main__":
    main()
