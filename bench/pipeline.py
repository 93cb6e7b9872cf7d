"""Benchmark of the whole pipeline: signed webhooks -> ingress -> worker -> sandbox.

Pushes N Shopify orders, each followed by its payment, through the real ingress (signed
requests), a real Celery worker subprocess and the sandbox over HTTP with added latency
per GraphQL call. Prints orders per second, p50 / p99 webhook-to-Posted and
webhook-to-Collected latency, and the Sage requests per order counted by the sandbox
(after one warm-up order, so customer / product / journal / payment method caches are warm).
It runs twice in the same process: first with no coalescing of Sage calls (the baseline),
then with the coalescing window of `SAGE_BATCH_WINDOW_MS` (or `--window-ms`), and compares.

    .venv/bin/python bench/pipeline.py [--orders 50] [--latency-ms 20] [--concurrency 4]
                                       [--window-ms 5]
"""

from __future__ import annotations

import argparse
import base64
import copy
import hashlib
import hmac
import json
import logging
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from werkzeug.serving import make_server

from bridge.embedded_redis import EmbeddedRedis
from bridge.services import build_services
from bridge.settings import Settings
from bridge.web import create_app
from connectors.sage_active.sandbox import SandboxConfig
from connectors.sage_active.sandbox import create_app as create_sandbox

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "shopify"
SECRET = "bench-shopify-secret"  # noqa: S105 - a local, throw-away webhook secret
SHOP = "boutique-demo.myshopify.com"


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return data


def signed(body: bytes, topic: str) -> dict[str, str]:
    digest = hmac.new(SECRET.encode(), body, hashlib.sha256).digest()
    return {
        "Content-Type": "application/json",
        "X-Shopify-Hmac-Sha256": base64.b64encode(digest).decode(),
        "X-Shopify-Topic": topic,
        "X-Shopify-Shop-Domain": SHOP,
        "X-Shopify-Webhook-Id": str(uuid.uuid4()),
    }


def order_and_payment(n: int) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """Order n and its payment (ids differ per n, so the two runs never share an order)."""
    order = copy.deepcopy(fixture("orders-create-001-ttc-single-mug"))
    order_id = 5930000000000 + n
    order.update(id=order_id, name=f"#B{n}", order_number=90000 + n)
    tx = copy.deepcopy(fixture("order-transactions-create-001-sale-shopify-payments"))
    tx.update(id=7930000000000 + n, order_id=order_id)
    return f"shopify:{SHOP}:{order_id}", order, tx


def start_worker(env: dict[str, str], concurrency: int, log: Path) -> subprocess.Popen[bytes]:
    argv = [
        sys.executable, "-m", "celery", "-A", "tasks.app", "worker", "--pool", "threads",
        "--concurrency", str(concurrency), "--loglevel", "WARNING", "--without-gossip",
        "--without-mingle", "--without-heartbeat",
    ]  # fmt: skip
    with log.open("wb") as out:
        return subprocess.Popen(
            argv,
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def wait_statuses(
    services: Any, refs: list[str], wanted: set[str], timeout: float
) -> dict[str, float]:
    """When each order's link first showed a status in `wanted` (monotonic seconds)."""
    seen: dict[str, float] = {}
    deadline = time.monotonic() + timeout
    while len(seen) < len(refs) and time.monotonic() < deadline:
        for ref in refs:
            if ref not in seen:
                link = services.links.order(ref)
                if link is not None and link.status in wanted:
                    seen[ref] = time.monotonic()
        time.sleep(0.02)
    return seen


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


def run(
    args: argparse.Namespace,
    redis_url: str,
    sandbox_url: str,
    tmp: Path,
    window_ms: float,
    first: int,
) -> float:
    """One run of `args.orders` orders (ids from `first`) with a worker coalescing Sage calls
    within `window_ms` (0: none); prints its figures, returns Sage requests per order."""
    env = {
        "REDIS_URL": redis_url,
        "SAGE_API_URL": f"{sandbox_url}/graphql",
        "SAGE_AUTH_URL": sandbox_url,
        "SHOPIFY_WEBHOOK_SECRET": SECRET,
        "BRIDGE_LOG_JSON": "false",
        "SAGE_BATCH_WINDOW_MS": str(window_ms),
    }
    settings = Settings(**env)  # type: ignore[arg-type]
    services = build_services(settings)
    web = create_app(settings, services).test_client()
    control = httpx.Client(base_url=sandbox_url, timeout=10)
    worker = start_worker(env, args.concurrency, tmp / f"worker-{first}.log")
    try:
        control.post("/_sandbox/faults", json={"latency_ms": args.latency_ms}).raise_for_status()

        def push(n: int) -> tuple[str, float]:
            ref, order, tx = order_and_payment(n)
            sent = time.monotonic()
            for topic, body in (("orders/create", order), ("order_transactions/create", tx)):
                raw = json.dumps(body).encode()
                response = web.post("/webhooks/shopify", data=raw, headers=signed(raw, topic))
                assert response.status_code == 202, response.get_data(as_text=True)
            return ref, sent

        warm, _ = push(first)  # fills the caches: customer, products, journal, payment methods
        if not wait_statuses(services, [warm], {"Collected"}, 120):
            raise SystemExit(f"warm-up order not collected; see {tmp / f'worker-{first}.log'}")
        control.delete("/_sandbox/stats").raise_for_status()

        started = time.monotonic()
        sent = dict(push(first + n) for n in range(1, args.orders + 1))
        refs = list(sent)
        posted: dict[str, float] = {}
        booked = {"Posted", "PartiallyCollected", "Collected"}
        poster = threading.Thread(
            target=lambda: posted.update(wait_statuses(services, refs, booked, args.timeout))
        )
        poster.start()
        collected = wait_statuses(services, refs, {"Collected"}, args.timeout)
        poster.join()
        elapsed = time.monotonic() - started
        stats = control.get("/_sandbox/stats").json()
        return report(args, window_ms, sent, posted, collected, elapsed, stats)
    finally:
        control.delete("/_sandbox/faults")
        control.close()
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(10)
        services.close()


def report(
    args: argparse.Namespace,
    window_ms: float,
    sent: dict[str, float],
    posted: dict[str, float],
    collected: dict[str, float],
    elapsed: float,
    stats: dict[str, Any],
) -> float:
    to_posted = [posted[r] - sent[r] for r in posted]
    to_collected = [collected[r] - sent[r] for r in collected]
    mode = f"coalescing window {window_ms:g} ms" if window_ms else "no coalescing (baseline)"
    print(f"\n== {mode}: {args.orders} orders (+1 warm-up), each with one payment")
    print(f"sandbox latency: {args.latency_ms} ms per request; worker threads: {args.concurrency}")
    print(f"completed (Collected): {len(collected)}/{args.orders} in {elapsed:.1f} s")
    print(f"throughput: {len(collected) / elapsed:.2f} orders/s")
    for label, values in (("Posted:   ", to_posted), ("Collected:", to_collected)):
        p50, p99 = percentile(values, 0.5), percentile(values, 0.99)
        print(f"webhook -> {label} p50 {p50:.2f} s, p99 {p99:.2f} s")
    requests = int(stats.get("requests", 0))
    print(f"Sage requests: {requests} ({requests / max(args.orders, 1):.2f} per order+payment)")
    print(f"by operation: {json.dumps(stats.get('by_operation', {}), sort_keys=True)}")
    return requests / max(args.orders, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=50)
    parser.add_argument("--latency-ms", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument(
        "--window-ms",
        type=float,
        default=Settings().sage_batch_window_ms,
        help="coalescing window of the measured run (the baseline runs with 0)",
    )
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    sandbox = create_sandbox(SandboxConfig())
    server = make_server("127.0.0.1", 0, sandbox, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with EmbeddedRedis() as embedded, tempfile.TemporaryDirectory() as tmp:
            url = f"http://127.0.0.1:{server.server_port}"
            baseline = run(args, embedded.url, url, Path(tmp), 0, first=0)
            measured = run(args, embedded.url, url, Path(tmp), args.window_ms, first=100_000)
        print(
            f"\nSage requests per order+payment: {measured:.2f} with a {args.window_ms:g} ms "
            f"window against {baseline:.2f} without coalescing, same run "
            f"({measured / baseline:.0%} of the baseline)"
        )
    finally:
        server.shutdown()
        server.server_close()
        sandbox.extensions["sandbox"].close()


if __name__ == "__main__":
    main()
