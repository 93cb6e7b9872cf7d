"""Benchmark of payout booking: a payout of 5,000 balance transactions, streamed.

A small fake Stripe API over HTTP serves `GET /v1/payouts/<id>` and
`GET /v1/balance_transactions?payout=` in pages of 100 (each page generated on the fly, so
the fake holds nothing). The bridge's booking path runs in this process as a worker runs
it (`bridge.payouts.booking.book_payout`: mapping gate, payout lock, the Stripe reader
through `connectors.rest`, Sage through the real client) against the sandbox over HTTP and
an embedded Redis. Two payouts in the same run, 1,000 and 5,000 transactions (10 and 50
pages): for each, seconds, pages read, Sage requests by operation (counted by the sandbox)
and the peak of Python allocations during the booking (tracemalloc); then the ratio of the
two peaks (memory must not grow with the page count) and the process's max RSS.

    .venv/bin/python bench/payouts.py [--sizes 1000,5000]
"""

from __future__ import annotations

import argparse
import json
import logging
import resource
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

import httpx
import stopping
from werkzeug.serving import make_server

from bridge.embedded_redis import EmbeddedRedis
from bridge.payouts import stripe as stripe_payouts
from bridge.payouts.booking import PayoutJob, book_payout, mapping_wait
from bridge.services import build_services
from bridge.settings import Settings
from connectors.sage_active.sandbox import SandboxConfig
from connectors.sage_active.sandbox import create_app as create_sandbox

API_KEY = "sk_test_bench"
PAGE = 100
CHARGE, FEE = 1000, 30  # 10.00 EUR charges, 0.30 fee each

Start = Callable[[str, list[tuple[str, str]]], Any]


def _txn(payout_id: str, index: int, size: int) -> dict[str, Any]:
    """Transaction `index` of a payout of `size`: size - 1 charges, then the payout's own."""
    if index == size - 1:
        net = (size - 1) * (CHARGE - FEE)
        return {"id": f"txn_{payout_id}_{index}", "type": "payout", "amount": -net, "fee": 0,
                "net": -net, "currency": "eur", "exchange_rate": None, "source": payout_id,
                "reporting_category": "payout", "fee_details": []}  # fmt: skip
    return {"id": f"txn_{payout_id}_{index}", "type": "charge", "amount": CHARGE, "fee": FEE,
            "net": CHARGE - FEE, "currency": "eur", "exchange_rate": None,
            "source": {"id": f"ch_{payout_id}_{index}", "object": "charge", "amount": CHARGE},
            "reporting_category": "charge",
            "fee_details": [{"amount": FEE, "currency": "eur", "type": "stripe_fee"}]}  # fmt: skip


class FakeStripe:
    """Payouts of given sizes, their transactions generated page by page."""

    def __init__(self, sizes: dict[str, int]) -> None:
        self.sizes = sizes
        self.pages: dict[str, int] = dict.fromkeys(sizes, 0)

    def __call__(self, environ: dict[str, Any], start: Start) -> Iterable[bytes]:
        if environ.get("HTTP_AUTHORIZATION") != f"Bearer {API_KEY}":
            return self._send(start, 401, {"error": {"message": "Invalid API Key provided"}})
        path = environ["PATH_INFO"]
        query = parse_qs(environ.get("QUERY_STRING", ""))
        if path.startswith("/v1/payouts/"):
            payout_id = path.rsplit("/", 1)[1]
            size = self.sizes[payout_id]
            amount = (size - 1) * (CHARGE - FEE)
            return self._send(start, 200, {"id": payout_id, "object": "payout", "amount": amount,
                "currency": "eur", "status": "paid", "arrival_date": 1772668800,
                "automatic": True, "reconciliation_status": "completed"})  # fmt: skip
        payout_id = query["payout"][0]
        size, limit = self.sizes[payout_id], int(query["limit"][0])
        after = query.get("starting_after", [None])[0]
        start_at = int(after.rsplit("_", 1)[1]) + 1 if after else 0
        data = [_txn(payout_id, i, size) for i in range(start_at, min(start_at + limit, size))]
        self.pages[payout_id] += 1
        body = {"object": "list", "has_more": start_at + limit < size, "data": data}
        return self._send(start, 200, body)

    @staticmethod
    def _send(start: Start, status: int, body: dict[str, Any]) -> list[bytes]:
        raw = json.dumps(body).encode()
        start(f"{status} X", [("Content-Type", "application/json")])
        return [raw]


def serve(app: Any) -> tuple[str, Callable[[], None]]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()

    def stop() -> None:
        server.shutdown()
        server.server_close()

    return f"http://127.0.0.1:{server.server_port}", stop


def book(settings: Settings, sandbox: str, fake: FakeStripe, payout_id: str) -> dict[str, Any]:
    services = build_services(settings)
    control = httpx.Client(base_url=sandbox)
    try:
        api = stripe_payouts.open_payouts(settings)
        control.delete("/_sandbox/stats").raise_for_status()
        tracemalloc.start()
        tracemalloc.reset_peak()
        began = time.perf_counter()
        payout = api.payout(payout_id)
        job = PayoutJob(
            stripe_payouts.facts(payout),
            lambda: stripe_payouts.movements(api, payout_id),
            stripe_payouts.OrderFinder(services.links),
        )
        outcome = book_payout(services, job)
        elapsed = time.perf_counter() - began
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        stats = control.get("/_sandbox/stats").json()
        api.close()
        [entry] = services.sage.entries_with_lines(payout_id)
        return {
            "outcome": str(outcome),
            "seconds": elapsed,
            "peak_kib": peak / 1024,
            "pages": fake.pages[payout_id],
            "sage_requests": int(stats.get("requests", 0)),
            "by_operation": stats.get("by_operation", {}),
            "lines": len(entry.accounting_entry_lines),
        }
    finally:
        control.close()
        services.close()


def main() -> None:
    stopping.install()  # SIGINT / SIGTERM: stop every child this bench started
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,5000")
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    sizes = {f"po_bench_{n}": int(n) for n in args.sizes.split(",")}
    fake = FakeStripe(sizes)
    sandbox = create_sandbox(SandboxConfig())
    sandbox_url, stop_sandbox = serve(sandbox)
    stripe_url, stop_stripe = serve(fake)
    try:
        with EmbeddedRedis() as redis_server:
            settings = Settings(REDIS_URL=redis_server.url, SAGE_API_URL=f"{sandbox_url}/graphql",
                                SAGE_AUTH_URL=sandbox_url, STRIPE_API_KEY=API_KEY,
                                STRIPE_API_URL=stripe_url, BRIDGE_CONNECTION="bench",
                                BRIDGE_LOG_JSON=False)  # fmt: skip
            warm = build_services(settings)  # token, organisation, mapping check, journal cache
            assert mapping_wait(warm) is None
            warm.close()
            results = {pid: book(settings, sandbox_url, fake, pid) for pid in sizes}
    finally:
        stop_stripe()
        stop_sandbox()
        sandbox.extensions["sandbox"].close()
    for payout_id, r in results.items():
        print(
            f"{sizes[payout_id]:>6} transactions, {r['pages']:>3} pages: {r['seconds']:.2f} s, "
            f"{r['sage_requests']} Sage request(s) {json.dumps(r['by_operation'], sort_keys=True)}"
            f", entry of {r['lines']} lines, peak Python memory {r['peak_kib']:.0f} KiB"
        )
    small, large = (results[p] for p in sizes)
    ratio = large["peak_kib"] / small["peak_kib"]
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"peak memory {large['peak_kib']:.0f} KiB for {large['pages']} pages against "
        f"{small['peak_kib']:.0f} KiB for {small['pages']} ({ratio:.2f}x); "
        f"max RSS of the process {rss:.0f} MiB"
    )


if __name__ == "__main__":
    main()
