"""Ten copies of one delivery at the same instant, over HTTP: one record, one queued task."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import redis

from bridge.services import build_services
from bridge.settings import Settings
from bridge.web import create_app
from tests.support.servers import serve_wsgi
from tests.support.webhooks import (
    SHOPIFY_SECRET,
    STRIPE_SECRET,
    shopify_headers,
    stripe_event,
    stripe_headers,
)

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("provider", ["shopify", "stripe"])
def test_ten_concurrent_copies_make_one_record_and_one_task(
    redis_url: str, redis_client: redis.Redis, provider: str
) -> None:
    settings = Settings(
        REDIS_URL=redis_url,
        SHOPIFY_WEBHOOK_SECRET=SHOPIFY_SECRET,
        STRIPE_WEBHOOK_SECRET=STRIPE_SECRET,
    )
    services = build_services(settings)
    if provider == "stripe":
        body = stripe_event("evt_same")
        headers, ref = stripe_headers(body), "stripe:evt_same"
    else:
        body = b'{"id": 1001}'
        headers, ref = shopify_headers(body, webhook_id="wh-same"), "shopify:wh-same"
    barrier = threading.Barrier(10)

    with serve_wsgi(create_app(services=services)) as base:

        def deliver(_: int) -> int:
            with httpx.Client(base_url=base, timeout=10) as client:
                barrier.wait(5)  # all ten leave together
                return client.post(
                    f"/webhooks/{provider}", content=body, headers=headers
                ).status_code

        with ThreadPoolExecutor(10) as pool:
            codes = list(pool.map(deliver, range(10)))
    services.close()

    assert sorted(codes) == [200] * 9 + [202]
    assert redis_client.lrange(settings.key("outbox"), 0, -1) == [ref.encode()]
    assert redis_client.zcard(settings.key("events", "index", "all")) == 1
    assert redis_client.hget(settings.key("event", ref), "body") == body


def test_a_chunked_body_over_the_limit_is_413_over_http(
    redis_url: str, redis_client: redis.Redis
) -> None:
    settings = Settings(
        REDIS_URL=redis_url, STRIPE_WEBHOOK_SECRET=STRIPE_SECRET, BRIDGE_MAX_BODY=1024 * 1024
    )
    services = build_services(settings)
    body = stripe_event("evt_big", pad="x" * (1024 * 1024))

    def chunks() -> Iterator[bytes]:  # no Content-Length: the server must count as it reads
        for start in range(0, len(body), 64 * 1024):
            yield body[start : start + 64 * 1024]

    with serve_wsgi(create_app(services=services)) as base, httpx.Client(timeout=10) as client:
        response = client.post(
            f"{base}/webhooks/stripe", content=chunks(), headers=stripe_headers(body)
        )
    services.close()
    assert response.status_code == 413
    assert response.json()["error"] == "payload_too_large"
    assert redis_client.dbsize() == 0
