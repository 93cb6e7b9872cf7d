"""Benchmark of the Sage Active connector against a local sandbox.

Prints (1) requests per second through the shared rate limiter, with several threads
hammering a cheap query, and (2) the requests one warm order costs as counted by the
sandbox: create -> close+post -> open items -> settle (the budget is 4).

    .venv/bin/python bench/sage_client.py [--seconds 10] [--threads 8] [--rate 3000]
"""

from __future__ import annotations

import argparse
import logging
import threading
import time
from datetime import date
from decimal import Decimal

import httpx
import redis
import stopping
from pydantic import SecretStr
from werkzeug.serving import make_server

from bridge.embedded_redis import EmbeddedRedis
from connectors.sage_active.client import SageClient
from connectors.sage_active.config import SageConfig
from connectors.sage_active.models import (
    SalesInvoiceInput,
    SalesInvoiceLineInput,
    SettlementInput,
    SettlementLine,
)
from connectors.sage_active.operations import SageActive
from connectors.sage_active.sandbox import SandboxConfig, create_app

TAXES = "query { taxes(first: 1) { nodes { id } } }"


def config_for(base: str, rate: int) -> SageConfig:
    return SageConfig(
        api_url=f"{base}/graphql",
        auth_url=base,
        client_id="sandbox-client",
        client_secret=SecretStr("sandbox-secret"),
        refresh_token=SecretStr("sandbox-refresh"),
        api_key=SecretStr("sandbox-key"),
        rate_limit_per_minute=rate,
        key_prefix="bench:sage",
    )


def throughput(config: SageConfig, conn: redis.Redis, seconds: float, threads: int) -> None:
    waits: list[float] = []
    counts = [0] * threads
    with SageClient(config, conn, on_wait=waits.append) as client:
        client.execute(TAXES)  # token and organisation, outside the measure
        deadline = time.monotonic() + seconds

        def hammer(slot: int) -> None:
            while time.monotonic() < deadline:
                client.execute(TAXES)
                counts[slot] += 1

        workers = [threading.Thread(target=hammer, args=(i,)) for i in range(threads)]
        started = time.monotonic()
        for w in workers:
            w.start()
        for w in workers:
            w.join(seconds + 60)
        elapsed = time.monotonic() - started
    ceiling = config.rate_limit_per_minute * config.rate_headroom / 60
    print(
        f"throughput: {sum(counts) / elapsed:.1f} requests/s with {threads} threads "
        f"(limiter ceiling {ceiling:.1f}/s, burst {config.rate_burst}; "
        f"{len(waits)} limiter waits, {sum(waits):.1f} s waited)"
    )


def one_order(sage: SageActive, ref: str) -> None:
    """create -> close+post -> open items -> settle, with reference look-ups (cached)."""
    customer = sage.customer_by_code("WALKIN")
    products = sage.products_by_codes(["MUG-001", "TEA-001", "SHIPPING"])
    journal = sage.journal_by_code("VT")
    stripe = sage.payment_method_by_name("Stripe")
    if not (customer and journal and stripe and len(products) == 3):
        raise SystemExit("the sandbox seed is missing WALKIN, VT, Stripe or a product")
    lines = [
        SalesInvoiceLineInput(
            product_id=p.id, total_quantity=Decimal(1), unit_price=Decimal("9.90")
        )
        for p in products.values()
    ]
    made = sage.create_invoice(
        SalesInvoiceInput(
            customer_id=customer.id,
            document_date=date.today(),
            sales_order_number=ref,
            lines=lines,
        )
    )
    sage.close_and_post(made.id, journal.id, f"Order {ref}")
    paid = [
        SettlementLine(open_item_id=i.id, paid_amount=i.outstanding)
        for i in sage.open_items(made.id)
    ]
    sage.settle(
        SettlementInput(
            entry_date=date.today(),
            payment_method_id=stripe.id,
            third_party_id=customer.id,
            document_number=ref,
            lines=paid,
        )
    )


def order_cost(config: SageConfig, conn: redis.Redis, base: str) -> None:
    with SageClient(config, conn) as client, httpx.Client(base_url=base) as control:
        sage = SageActive(client)
        one_order(sage, "bench-cold")  # fills the reference cache
        control.delete("/_sandbox/stats")
        one_order(sage, "bench-warm")
        stats = control.get("/_sandbox/stats").json()
    counted = ", ".join(f"{k} {v}" for k, v in sorted(stats["by_operation"].items()))
    print(f"warm order: {stats['requests']} Sage requests ({counted}); budget 4")


def main() -> None:
    stopping.install()  # SIGINT / SIGTERM: stop every child this bench started
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--rate", type=int, default=3000, help="requests per minute")
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log per request
    app = create_app(SandboxConfig(rate_limit_per_minute=args.rate))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        with EmbeddedRedis() as embedded:
            conn = redis.Redis.from_url(embedded.url)
            try:
                config = config_for(base, args.rate)
                throughput(config, conn, args.seconds, args.threads)
                order_cost(config, conn, base)
            finally:
                conn.close()
    finally:
        server.shutdown()
        server.server_close()
        app.extensions["sandbox"].close()


if __name__ == "__main__":
    main()
