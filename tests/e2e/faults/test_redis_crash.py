"""Redis SIGKILLed in the middle of a stream of webhooks, then started again on its data.

Given a Redis with its append-only file (as `bridge dev` and docker-compose run it), the
ingress over HTTP, a real worker and beat, and the sandbox, when Redis is killed with
SIGKILL while orders stream in and is started again on the same port and data directory,
then every order the ingress answered 2xx for is in the ledger, processed, and booked in
Sage exactly once; the deliveries refused meanwhile (503) are retried by the sender, as
Shopify does, and booked once too. A worker that exits meanwhile (Celery's Redis transport
sometimes fails to close a broken connection and stops the worker) is started again, as the
process manager does in production (`restart: unless-stopped`, `bridge dev`).
"""

from __future__ import annotations

import copy
import json
import os
import signal
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from bridge.embedded_redis import EmbeddedRedis, free_port
from bridge.services import build_services
from bridge.web import create_app
from tests.support.celery import WorkerHandle
from tests.support.pipeline import SHOP, payload, sandbox_settings
from tests.support.servers import serve_wsgi
from tests.support.webhooks import SHOPIFY_SECRET, shopify_headers

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(400)]

ORDERS = 60


def _order(order_id: int) -> bytes:
    body = copy.deepcopy(payload("shopify", "orders-create-001-ttc-single-mug"))
    body.update(id=order_id, name=f"#K{order_id % 100000}")
    return json.dumps(body).encode()


def _wait(check: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.25)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def test_redis_sigkill_mid_stream_loses_and_duplicates_nothing(
    tmp_path: Path,
    sandbox_url: str,
    start_worker: Callable[..., WorkerHandle],
    start_beat: Callable[..., None],
) -> None:
    port = free_port()
    data_dir = tmp_path / "redis"
    server = EmbeddedRedis(data_dir=data_dir, port=port, persistent=True).start()
    overrides = {"BRIDGE_CONNECTION": "crash", "SHOPIFY_WEBHOOK_SECRET": SHOPIFY_SECRET}
    settings = sandbox_settings(server.url, sandbox_url, **overrides)
    env = {"REDIS_URL": server.url, "SAGE_API_URL": f"{sandbox_url}/graphql",
           "SAGE_AUTH_URL": sandbox_url, "SAGE_TIMEOUT": "5", **overrides}  # fmt: skip
    worker = start_worker(pool="threads", concurrency=4, **env)
    start_beat(**env)
    services = build_services(settings)
    base_id = 5_930_000_000_000 + int(uuid.uuid4().int % 1_000_000) * 1000
    acknowledged: dict[str, int] = {}  # event ref -> order id, for every 2xx
    refused = 0
    started = threading.Event()

    with serve_wsgi(create_app(settings, services)) as base:

        def stream() -> None:
            nonlocal refused
            with httpx.Client(base_url=base, timeout=10) as client:
                for n in range(ORDERS):
                    raw, delivery = _order(base_id + n), str(uuid.uuid4())
                    headers = shopify_headers(raw, topic="orders/create", webhook_id=delivery,
                                              shop=SHOP, secret=SHOPIFY_SECRET)  # fmt: skip
                    while True:  # the provider retries until it gets a 2xx
                        code = client.post("/webhooks/shopify", content=raw, headers=headers)
                        if code.status_code in (200, 202):
                            acknowledged[f"shopify:{delivery}"] = base_id + n
                            break
                        assert code.status_code == 503, code.text
                        refused += 1
                        time.sleep(0.1)
                    if n == 20:
                        started.set()
                    time.sleep(0.05)

        sender = threading.Thread(target=stream)
        sender.start()
        try:
            assert started.wait(120)
            assert server.pid is not None
            os.kill(server.pid, signal.SIGKILL)  # a crash: no shutdown, no final flush
            _wait(lambda: refused >= 3, 60, "deliveries refused while Redis is down")
            server.stop()
            server = EmbeddedRedis(data_dir=data_dir, port=port, persistent=True).start()
            sender.join(180)
            assert not sender.is_alive()
            assert len(acknowledged) == ORDERS

            behind: list[str] = []
            restarts: list[str] = []

            def all_processed() -> bool:
                nonlocal worker
                if not worker.alive:  # as the process manager does (compose `restart:`)
                    restarts.append(worker.log()[-3000:])
                    worker = start_worker(pool="threads", concurrency=4, **env)
                behind.clear()
                for ref in acknowledged:
                    record = services.events.get(ref)
                    if record is None or record.status.value != "processed":
                        state = record.model_dump_json() if record else "missing"
                        behind.append(f"{ref}: {state[:600]}")
                return not behind

            try:
                _wait(all_processed, 240, "every acknowledged event processed")
            except AssertionError:
                queues = services.events.queue_lengths()
                alive = worker.alive
                raise AssertionError(
                    f"{behind[:5]}\nqueues {queues}\nalive {alive}, restarted {len(restarts)}"
                    f"\n{worker.log()[-6000:]}"
                ) from None
            for order_id in acknowledged.values():
                invoices = services.sage.invoices_by_sales_order_number(
                    f"shopify:{SHOP}:{order_id}"
                )
                assert len(invoices) == 1, (order_id, invoices)
        finally:
            services.close()
            server.stop()
