"""Two connections (shop/organisation pairs) on one Redis: each worker keeps to its own tasks."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import pytest
import redis

from bridge.services import Services, build_services
from bridge.settings import Settings
from bridge.store.events import NewEvent
from tasks.app import make_celery
from tests.support.celery import WorkerHandle

pytestmark = pytest.mark.integration


def dispute(n: int) -> NewEvent:
    """An event a worker can process without Sage (a dispute becomes an attention item)."""
    body = {"id": f"evt_conn_{n}", "type": "charge.dispute.created",
            "data": {"object": {"id": f"dp_{n}", "charge": "ch_1", "amount": 500}}}  # fmt: skip
    return NewEvent(
        provider="stripe", provider_id=f"evt_conn_{n}", topic="charge.dispute.created",
        body=json.dumps(body),
    )  # fmt: skip


def test_a_worker_never_takes_another_connections_task(
    redis_url: str, redis_client: redis.Redis, start_worker: Callable[..., WorkerHandle]
) -> None:
    shop_a = Settings(REDIS_URL=redis_url, BRIDGE_CONNECTION="shop-a")
    shop_b = Settings(REDIS_URL=redis_url, BRIDGE_CONNECTION="shop-b")
    a, b = build_services(shop_a), build_services(shop_b)
    celery_a = make_celery(shop_a)
    try:
        start_worker(BRIDGE_CONNECTION="shop-b")
        a.events.record(dispute(1))
        redis_client.delete(a.events.outbox_key)  # a's relay is not running: send it by hand
        celery_a.send_task("tasks.ingest.process_event", args=["stripe:evt_conn_1"])
        b.events.record(dispute(2))  # b's own work, drained by b's worker

        wait_until(lambda: status(b, "stripe:evt_conn_2") == "processed", "b's event")
        assert redis_client.llen("celery.shop-a") == 1  # a's task waits for a's worker
        assert status(a, "stripe:evt_conn_1") == "queued"

        start_worker(BRIDGE_CONNECTION="shop-a")
        wait_until(lambda: status(a, "stripe:evt_conn_1") == "processed", "a's event")
        assert redis_client.llen("celery.shop-a") == 0
    finally:
        celery_a.close()
        a.close()
        b.close()


def status(services: Services, ref: str) -> str | None:
    record = services.events.get(ref)
    return str(record.status) if record else None


def wait_until(check: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def test_each_connection_has_its_queue() -> None:
    assert Settings().celery_queue == "celery"
    assert Settings(BRIDGE_CONNECTION="shop-a").celery_queue == "celery.shop-a"
    assert make_celery(Settings(BRIDGE_CONNECTION="x")).conf.task_default_queue == "celery.x"
