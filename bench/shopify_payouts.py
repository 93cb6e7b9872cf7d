"""Benchmark of reading a Shopify Payments payout's balance transactions through the
GraphQL Admin API (`connectors.shopify.payouts.ShopifyPaymentsGraphQL`), against the fake
Shopify GraphQL server (tests/support) over HTTP, with a scaled cost bucket.

Two payouts in the same run, 1,000 and 5,000 transactions (10 and 50 pages of 100): for
each, seconds, requests, requests Shopify refused, and the peak of Python allocations while
the transactions are summed as they stream (tracemalloc); then the same sums taken by a
baseline that first gathers every transaction in a list, as a reader that is not streamed
would. Memory must not grow with the page count for the reader.

    .venv/bin/python bench/shopify_payouts.py [--sizes 1000,5000] [--maximum 2000]
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import stopping

from connectors.shopify.graphql import ShopifyGraphQL
from connectors.shopify.payouts import ShopifyBalanceTransaction, ShopifyPaymentsGraphQL
from tests.support.servers import serve_wsgi
from tests.support.shopify_graphql import (
    ACCESS_TOKEN,
    API_VERSION,
    SHOP_DOMAIN,
    FakeShopifyGraphQL,
)


def transactions(size: int) -> list[dict[str, Any]]:
    return [{"id": n + 1, "type": "charge", "currency": "EUR", "amount": "10.00",
             "fee": "0.30", "net": "9.70", "source_type": "charge",
             "source_order_id": 5910000000000 + n} for n in range(size)]  # fmt: skip


def streamed(items: Iterable[ShopifyBalanceTransaction]) -> Decimal:
    return sum((t.net for t in items), Decimal(0))


def gathered(items: Iterable[ShopifyBalanceTransaction]) -> Decimal:
    return streamed(list(items))


def measure(
    fake: FakeShopifyGraphQL, base: str, payout: int, how: Callable[..., Decimal]
) -> dict[str, float]:
    api = ShopifyGraphQL(SHOP_DOMAIN, ACCESS_TOKEN, api_version=API_VERSION, base_url=base)
    reader = ShopifyPaymentsGraphQL(api)
    before, refused = len(fake.requests), fake.refused
    tracemalloc.start()
    began = time.perf_counter()
    total = how(reader.transactions(payout))
    seconds = time.perf_counter() - began
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    reader.close()
    return {"seconds": seconds, "peak_kib": peak / 1024, "total": float(total),
            "requests": len(fake.requests) - before, "refused": fake.refused - refused}  # fmt: skip


def main() -> None:
    stopping.install()  # SIGINT / SIGTERM: stop every child this bench started
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,5000")
    parser.add_argument("--maximum", type=float, default=2000.0)
    parser.add_argument("--restore-rate", type=float, default=4000.0)
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    sizes = [int(n) for n in args.sizes.split(",")]
    fake = FakeShopifyGraphQL(maximum=args.maximum, restore_rate=args.restore_rate)
    for n, size in enumerate(sizes, 1):
        payout = {"id": 880000 + n, "status": "paid", "date": "2026-11-20", "currency": "EUR",
                  "amount": str(Decimal("9.70") * size)}  # fmt: skip
        fake.add_payout(payout, transactions(size))
    results: dict[str, list[dict[str, float]]] = {"reader": [], "baseline (list)": []}
    with serve_wsgi(fake.app) as base:
        for n, _ in enumerate(sizes, 1):
            results["reader"].append(measure(fake, base, 880000 + n, streamed))
            results["baseline (list)"].append(measure(fake, base, 880000 + n, gathered))
    fake.close()
    for name, runs in results.items():
        for size, r in zip(sizes, runs, strict=True):
            print(f"{name:>16}: {size:>5} transactions, {r['requests']:.0f} requests "
                  f"({r['refused']:.0f} refused), {r['seconds']:.2f} s, "
                  f"peak Python memory {r['peak_kib']:.0f} KiB")  # fmt: skip
        ratio = runs[-1]["peak_kib"] / runs[0]["peak_kib"]
        print(f"{name:>16}: peak for {sizes[-1]} / peak for {sizes[0]} = {ratio:.2f}x")


if __name__ == "__main__":
    main()
