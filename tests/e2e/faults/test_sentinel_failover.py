"""Redis Sentinel: the master killed in the middle of 200 orders, the replica promoted,
nothing lost, nothing booked twice, and no one does anything.

Given Debian's redis-server as master and replica (append-only files on) and one
redis-sentinel watching them (quorum 1, down after 1 s), the bridge on
`REDIS_URL=redis+sentinel://...` with `BRIDGE_REDIS_MIN_REPLICAS=1` (the ingress waits for
the replica before a 2xx), the ingress over HTTP, a real worker and beat, and the sandbox:
when the master is SIGKILLed after the 60th order and never comes back, Sentinel promotes
the replica, every client finds it by itself, the sender retries what was refused
meanwhile (as Shopify does), and every one of the 200 orders is booked in Sage exactly once.
The figures (sent, booked, duplicates, seconds to recover) are printed for docs/operations.md.
"""

from __future__ import annotations

import copy
import json
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
import redis

from bridge.redis_url import redis_client
from bridge.services import build_services
from bridge.web import create_app
from tests.support.celery import WorkerHandle
from tests.support.pipeline import SHOP, payload, sandbox_settings
from tests.support.redis_ha import free_port, server_config, servers, start
from tests.support.servers import serve_wsgi
from tests.support.webhooks import SHOPIFY_SECRET, shopify_headers

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(420)]

ORDERS = 200
KILL_AFTER = 60
SERVICE = "bridge-master"


def _order(order_id: int) -> bytes:
    body = copy.deepcopy(payload("shopify", "orders-create-001-ttc-single-mug"))
    body.update(id=order_id, name=f"#S{order_id % 100000}")
    return json.dumps(body).encode()


def _wait(check: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.25)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def test_master_killed_mid_stream_fails_over_with_nothing_lost_or_doubled(
    tmp_path: Path,
    sandbox_url: str,
    start_worker: Callable[..., WorkerHandle],
    start_beat: Callable[..., None],
) -> None:
    master_port, replica_port, sentinel_port = free_port(), free_port(), free_port()
    with servers() as running:
        master = start(
            "redis-server", tmp_path / "master", server_config(master_port, tmp_path / "master"),
            redis.Redis(port=master_port),
        )  # fmt: skip
        running.append(master)
        running.append(start(
            "redis-server", tmp_path / "replica",
            server_config(replica_port, tmp_path / "replica",
                          f"replicaof 127.0.0.1 {master_port}"),
            redis.Redis(port=replica_port),
        ))  # fmt: skip
        sentinel_conf = "\n".join([
            f"port {sentinel_port}", "bind 127.0.0.1", f"dir {tmp_path / 'sentinel'}",
            "logfile server.log",
            f"sentinel monitor {SERVICE} 127.0.0.1 {master_port} 1",
            f"sentinel down-after-milliseconds {SERVICE} 1000",
            f"sentinel failover-timeout {SERVICE} 10000",
            f"sentinel parallel-syncs {SERVICE} 1", "",
        ])  # fmt: skip
        running.append(start(
            "redis-sentinel", tmp_path / "sentinel", sentinel_conf,
            redis.Redis(port=sentinel_port),
        ))  # fmt: skip
        url = f"redis+sentinel://127.0.0.1:{sentinel_port}/{SERVICE}/0"
        probe = redis_client(url)
        _wait(lambda: probe.info("replication").get("connected_slaves") == 1, 30, "the replica")

        overrides = {"BRIDGE_CONNECTION": "ha", "SHOPIFY_WEBHOOK_SECRET": SHOPIFY_SECRET,
                     "BRIDGE_REDIS_MIN_REPLICAS": "1"}  # fmt: skip
        settings = sandbox_settings(url, sandbox_url, **overrides)
        env = {"REDIS_URL": url, "SAGE_API_URL": f"{sandbox_url}/graphql",
               "SAGE_AUTH_URL": sandbox_url, "SAGE_TIMEOUT": "5", **overrides}  # fmt: skip
        worker = start_worker(pool="threads", concurrency=4, **env)
        start_beat(**env)
        services = build_services(settings)
        base_id = 5_940_000_000_000 + int(uuid.uuid4().int % 1_000_000) * 1000
        acknowledged: dict[str, int] = {}
        refused = 0
        killed_at: list[float] = []
        first_after_kill: list[float] = []
        reached = threading.Event()

        with serve_wsgi(create_app(settings, services)) as base:

            def stream() -> None:
                nonlocal refused
                with httpx.Client(base_url=base, timeout=10) as client:
                    for n in range(ORDERS):
                        raw, delivery = _order(base_id + n), str(uuid.uuid4())
                        headers = shopify_headers(raw, topic="orders/create", webhook_id=delivery,
                                                  shop=SHOP, secret=SHOPIFY_SECRET)  # fmt: skip
                        while True:  # the provider retries until it gets a 2xx
                            try:
                                answer = client.post("/webhooks/shopify", content=raw,
                                                     headers=headers)  # fmt: skip
                                code = answer.status_code
                            except httpx.TransportError:
                                code = 0
                            if code in (200, 202):
                                acknowledged[f"shopify:{delivery}"] = base_id + n
                                if killed_at and not first_after_kill:
                                    first_after_kill.append(time.monotonic())
                                break
                            assert code in (0, 503), answer.text
                            refused += 1
                            time.sleep(0.1)
                        if n + 1 == KILL_AFTER:
                            reached.set()
                        time.sleep(0.02)

            sender = threading.Thread(target=stream)
            sender.start()
            try:
                assert reached.wait(180)
                master.kill()  # SIGKILL, and it never comes back
                killed_at.append(time.monotonic())
                sender.join(240)
                assert not sender.is_alive()
                assert len(acknowledged) == ORDERS
                promoted = probe.info("server")["tcp_port"]

                behind: list[str] = []
                restarts = 0

                def all_processed() -> bool:
                    nonlocal worker, restarts
                    if not worker.alive:  # as the process manager does
                        restarts += 1
                        worker = start_worker(pool="threads", concurrency=4, **env)
                    behind.clear()
                    for ref in acknowledged:
                        record = services.events.get(ref)
                        if record is None or record.status.value != "processed":
                            behind.append(ref)
                    return not behind

                try:
                    _wait(all_processed, 300, "every acknowledged event processed")
                except AssertionError:
                    raise AssertionError(
                        f"{len(behind)} behind, e.g. {behind[:3]}\n{worker.log()[-6000:]}"
                    ) from None
                counts = [
                    len(services.sage.invoices_by_sales_order_number(f"shopify:{SHOP}:{oid}"))
                    for oid in acknowledged.values()
                ]
                booked = sum(1 for c in counts if c >= 1)
                duplicates = sum(c - 1 for c in counts if c > 1)
                recovery = first_after_kill[0] - killed_at[0]
                print(
                    f"\nSENTINEL FAILOVER: orders sent {ORDERS}, acknowledged {len(acknowledged)},"
                    f" booked {booked}, lost {ORDERS - booked}, duplicates {duplicates}, "
                    f"refused meanwhile {refused}, seconds to recover {recovery:.1f} "
                    f"(master {master_port} -> {promoted}), worker restarts {restarts}"
                )
                assert promoted == replica_port
                assert booked == ORDERS
                assert duplicates == 0
            finally:
                probe.close()
                services.close()
