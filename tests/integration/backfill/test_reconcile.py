"""The reconciliation job in a real Celery worker, and when beat schedules it."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable

import pytest
import redis

from bridge.metrics import Metrics, label_field
from bridge.settings import Settings
from tasks.app import make_celery
from tasks.schedule import beat_schedule
from tests.integration.backfill.test_backfill import stripe_event
from tests.support.celery import WorkerHandle
from tests.support.providers import STRIPE_API_KEY, FakeStripe
from tests.support.servers import serve_wsgi
from tests.support.shopify_graphql import ACCESS_TOKEN, API_VERSION, SHOP_DOMAIN, FakeShopifyGraphQL

pytestmark = pytest.mark.integration


def counted(client: redis.Redis, settings: Settings, outcome: str, provider: str = "stripe") -> int:
    key = Metrics(client, settings).counter_key("bridge_backfill_events_total")
    value = client.hget(key, label_field({"provider": provider, "outcome": outcome}))
    return int(value or 0)


def wait_until(check: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def test_a_worker_runs_the_job_and_a_second_run_finds_everything_known(
    redis_url: str,
    redis_client: redis.Redis,
    fake_stripe: tuple[FakeStripe, str],
    start_worker: Callable[..., WorkerHandle],
) -> None:
    fake, base = fake_stripe
    now = dt.datetime.now(dt.UTC)
    for n in range(3):
        fake.add_event(stripe_event(n, at=now))
    fake.add_event(stripe_event(9, at=now - dt.timedelta(days=3)))  # outside the 48 h window
    start_worker(STRIPE_API_KEY=STRIPE_API_KEY, STRIPE_API_URL=base)
    settings = Settings(REDIS_URL=redis_url)
    celery = make_celery(settings)
    index = settings.key("events", "index", "all")

    celery.send_task("tasks.backfill.reconcile")
    wait_until(lambda: counted(redis_client, settings, "queued") == 3, "the first run")
    assert sorted(redis_client.zrange(index, 0, -1)) == [
        f"stripe:evt_bf_{n:04d}".encode() for n in range(3)
    ]
    celery.send_task("tasks.backfill.reconcile")
    wait_until(lambda: counted(redis_client, settings, "known") == 3, "the second run")
    assert counted(redis_client, settings, "queued") == 3
    assert redis_client.zcard(index) == 3
    celery.close()


def test_the_job_reads_shopify_through_graphql_under_a_tight_bucket(
    redis_url: str, redis_client: redis.Redis, start_worker: Callable[..., WorkerHandle]
) -> None:
    # given 30 orders updated in the last hour and a bucket holding about one page of them
    fake = FakeShopifyGraphQL(maximum=1000, restore_rate=500)
    now = dt.datetime.now(dt.UTC)
    for n in range(1, 31):
        updated = (now - dt.timedelta(minutes=n)).isoformat()
        fake.add_order({"id": n, "name": f"#{n}", "currency": "EUR", "created_at": updated,
                        "updated_at": updated, "financial_status": "pending",
                        "total_price": "0.00"})  # fmt: skip
    settings = Settings(REDIS_URL=redis_url)
    with serve_wsgi(fake.app) as base:
        start_worker(SHOPIFY_SHOP_DOMAIN=SHOP_DOMAIN, SHOPIFY_ACCESS_TOKEN=ACCESS_TOKEN,
                     SHOPIFY_API_URL=base, SHOPIFY_API_VERSION=API_VERSION)  # fmt: skip
        celery = make_celery(settings)
        # when the job runs in the worker
        celery.send_task("tasks.backfill.reconcile")
        wait_until(lambda: counted(redis_client, settings, "queued", "shopify") == 30, "the run")
        celery.close()
    # then it read every page and was never refused
    assert fake.requests.count("BridgeOrders") == 10
    assert fake.refused == 0
    fake.close()


def test_beat_schedules_the_job_only_when_a_provider_api_is_configured() -> None:
    assert "reconcile" not in beat_schedule(Settings())
    assert "reconcile" not in beat_schedule(
        Settings(STRIPE_API_KEY="sk_x", BRIDGE_RECONCILE_INTERVAL=0)
    )
    entry = beat_schedule(Settings(STRIPE_API_KEY="sk_x", BRIDGE_RECONCILE_INTERVAL=600))
    assert entry["reconcile"]["task"] == "tasks.backfill.reconcile"
    assert entry["reconcile"]["schedule"] == 600
    shop = Settings(SHOPIFY_SHOP_DOMAIN="s.myshopify.com", SHOPIFY_ACCESS_TOKEN="shpat_x")
    assert beat_schedule(shop)["reconcile"]["schedule"] == 3600
