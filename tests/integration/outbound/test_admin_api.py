"""The outbound admin API over HTTP: the real app, the real Redis, a real subscriber."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import redis

from bridge.outbound.delivery import Outbound
from bridge.services import build_services
from bridge.settings import Settings
from bridge.web import create_app
from tests.support.servers import serve_wsgi
from tests.support.subscriber import Subscriber

pytestmark = pytest.mark.integration

TOKEN = "admin-t0ken"


def serve_api(redis_server: str, *, allow_private: bool) -> Iterator[str]:
    settings = Settings(
        redis_url=redis_server,
        admin_token=TOKEN,
        outbound_allow_private=allow_private,
        outbound_timeout=2.0,
    )
    services = build_services(settings)
    try:
        with serve_wsgi(create_app(settings, services)) as base_url:
            yield base_url
    finally:
        services.close()


def client_for(base_url: str) -> httpx.Client:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    return httpx.Client(base_url=base_url, headers=headers, timeout=10)


# One server per module (stopping one takes half a second); Redis is flushed per test.
@pytest.fixture(scope="module")
def _dev_url(redis_server: str) -> Iterator[str]:
    yield from serve_api(redis_server, allow_private=True)


@pytest.fixture(scope="module")
def _prod_url(redis_server: str) -> Iterator[str]:
    yield from serve_api(redis_server, allow_private=False)


@pytest.fixture
def dev_api(_dev_url: str, redis_url: str) -> Iterator[httpx.Client]:
    """The admin API of a bridge that allows loopback subscribers (as `bridge dev` does)."""
    with client_for(_dev_url) as client:
        yield client


@pytest.fixture
def prod_api(_prod_url: str, redis_url: str) -> Iterator[httpx.Client]:
    with client_for(_prod_url) as client:
        yield client


def test_subscription_life_cycle(dev_api: httpx.Client, subscriber: Subscriber) -> None:
    created = dev_api.post(
        "/admin/subscriptions", json={"url": subscriber.url("/ok"), "event_types": ["sync.failed"]}
    )
    assert created.status_code == 201
    sub_id, secret = created.json()["id"], created.json()["secret"]
    assert sub_id.startswith("sub_")
    assert secret.startswith("whsec_")

    listed = dev_api.get("/admin/subscriptions")
    assert [s["id"] for s in listed.json()["subscriptions"]] == [sub_id]
    assert secret not in listed.text
    assert "secret" not in listed.json()["subscriptions"][0]

    patched = dev_api.patch(
        f"/admin/subscriptions/{sub_id}",
        json={"enabled": False, "event_types": ["invoice.posted", "invoice.collected"]},
    )
    assert patched.status_code == 200
    assert patched.json()["enabled"] is False
    assert patched.json()["event_types"] == ["invoice.posted", "invoice.collected"]
    assert "secret" not in patched.json()
    assert dev_api.get(f"/admin/subscriptions/{sub_id}").json()["enabled"] is False

    assert dev_api.delete(f"/admin/subscriptions/{sub_id}").status_code == 204
    assert dev_api.get(f"/admin/subscriptions/{sub_id}").status_code == 404
    assert dev_api.delete(f"/admin/subscriptions/{sub_id}").status_code == 404


@pytest.mark.parametrize(
    ("body", "status", "needle"),
    [
        ({"url": "https://127.0.0.1/h", "event_types": ["sync.failed"]}, 422, "loopback"),
        ({"url": "https://[::1]/h", "event_types": ["sync.failed"]}, 422, "loopback"),
        ({"url": "https://10.0.0.1/h", "event_types": ["sync.failed"]}, 422, "private"),
        ({"url": "https://172.16.5.4/h", "event_types": ["sync.failed"]}, 422, "private"),
        ({"url": "https://192.168.1.1/h", "event_types": ["sync.failed"]}, 422, "private"),
        ({"url": "https://169.254.169.254/", "event_types": ["sync.failed"]}, 422, "link-local"),
        ({"url": "https://localhost/h", "event_types": ["sync.failed"]}, 422, "resolves to"),
        ({"url": "http://example.com/h", "event_types": ["sync.failed"]}, 422, "https"),
        ({"url": "https://x.test/h", "event_types": ["order.paid"]}, 422, "unknown event type"),
        ({"url": "https://x.test/h", "event_types": []}, 400, "at least 1"),
        ({"url": "https://x.test/h"}, 400, "event_types"),
        ({"url": "https://x.test/h", "event_types": ["sync.failed"], "x": 1}, 400, "Extra inputs"),
    ],
)
def test_bad_subscriptions_are_refused_and_nothing_is_saved(
    prod_api: httpx.Client, body: dict[str, object], status: int, needle: str
) -> None:
    answer = prod_api.post("/admin/subscriptions", json=body)
    assert answer.status_code == status
    assert needle in answer.text
    assert prod_api.get("/admin/subscriptions").json() == {"subscriptions": []}


def test_malformed_json_and_missing_token(prod_api: httpx.Client) -> None:
    malformed = prod_api.post(
        "/admin/subscriptions", content=b"{nope", headers={"content-type": "application/json"}
    )
    assert malformed.status_code == 400
    assert malformed.json()["error"] == "invalid_body"
    anonymous = prod_api.get("/admin/subscriptions", headers={"Authorization": ""})
    assert anonymous.status_code == 401
    assert prod_api.patch("/admin/subscriptions/sub_nope", json={}).status_code == 404
    assert prod_api.get("/admin/deliveries?status=lost").status_code == 400
    for since in ("yesterday", "nan", None, [1]):
        answer = prod_api.post("/admin/deliveries/recover", json={"since": since})
        assert answer.status_code == 400, since


def test_deliveries_replay_and_recover(
    dev_api: httpx.Client, subscriber: Subscriber, redis_url: str
) -> None:
    created = dev_api.post(
        "/admin/subscriptions",
        json={"url": subscriber.url("/gone"), "event_types": ["sync.failed"]},
    ).json()
    settings = Settings(redis_url=redis_url, outbound_allow_private=True)
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        outbound = Outbound(client, settings)
        outbound.emit(
            "sync.failed", {"event_ref": "e1", "provider": "stripe", "topic": "t", "reason": "r"}
        )
        (delivery_id,) = outbound.claim_due()
        outbound.attempt(delivery_id)  # 410: dead, subscription disabled
    finally:
        client.close()

    dead = dev_api.get("/admin/deliveries", params={"status": "dead"}).json()["deliveries"]
    assert [d["id"] for d in dead] == [delivery_id]
    detail = dev_api.get(f"/admin/deliveries/{delivery_id}").json()
    assert detail["attempts"][0]["status_code"] == 410
    assert detail["attempts"][0]["excerpt"] == "gone for good"

    refused = dev_api.post(f"/admin/deliveries/{delivery_id}/replay")
    assert refused.status_code == 409
    assert "disabled" in refused.json()["detail"]

    dev_api.patch(
        f"/admin/subscriptions/{created['id']}",
        json={"enabled": True, "url": subscriber.url("/ok")},
    )
    recovered = dev_api.post("/admin/deliveries/recover", json={"since": "2020-01-01T00:00:00Z"})
    assert recovered.status_code == 202
    assert recovered.json()["recovered"] == 1
    assert dev_api.get(f"/admin/deliveries/{delivery_id}").json()["status"] == "pending"
    replayed = dev_api.post(f"/admin/deliveries/{delivery_id}/replay")
    assert replayed.status_code == 202
    assert replayed.json()["status"] == "pending"
    assert dev_api.post("/admin/deliveries/dlv_nope/replay").status_code == 404
    by_sub = dev_api.get("/admin/deliveries", params={"subscription": "sub_other"})
    assert by_sub.json() == {"deliveries": []}
