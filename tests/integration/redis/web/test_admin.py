"""The admin API: bearer auth (closed by default), events list/one/replay/counts, health."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from bridge.services import Services, build_services
from bridge.settings import Settings
from bridge.store.events import EventStatus, NewEvent
from bridge.web import create_app
from tests.support.web import ADMIN_TOKEN

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def seed(services: Services, n: int, provider: str = "stripe", topic: str = "invoice.paid") -> str:
    event = NewEvent.model_validate(
        {"provider": provider, "provider_id": f"evt_{n}", "topic": topic, "body": "{}"}
    )
    services.events.record(event)
    return event.ref


@pytest.mark.parametrize(
    "path", ["/admin/events", "/admin/events/counts", "/admin/events/stripe:evt_1"]
)
@pytest.mark.parametrize(
    ("headers", "detail"),
    [
        ({}, "send Authorization: Bearer"),
        ({"Authorization": "Basic abc"}, "send Authorization: Bearer"),
        ({"Authorization": "Bearer wrong"}, "not the admin token"),
    ],
)
def test_admin_needs_the_bearer_token(
    client: FlaskClient, path: str, headers: dict[str, str], detail: str
) -> None:
    response = client.get(path, headers=headers)
    assert response.status_code == 401
    assert detail in response.json["detail"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_replay_needs_the_token_and_changes_nothing_without_it(
    client: FlaskClient, services: Services
) -> None:
    ref = seed(services, 1)
    services.events.mark(ref, EventStatus.FAILED, error="boom")
    assert client.post(f"/admin/events/{ref}/replay").status_code == 401
    assert services.events.get(ref).status == "failed"  # type: ignore[union-attr]


def test_admin_is_closed_when_no_token_is_configured(redis_url: str) -> None:
    services = build_services(Settings(REDIS_URL=redis_url))
    client = create_app(services=services).test_client()
    response = client.get("/admin/events", headers={"Authorization": "Bearer "})
    services.close()
    assert response.status_code == 503
    assert "BRIDGE_ADMIN_TOKEN" in response.json["detail"]


def test_list_filters_and_pages(client: FlaskClient, services: Services) -> None:
    for n in range(5):
        seed(services, n, *(("shopify", "orders/create") if n % 2 else ("stripe", "invoice.paid")))
    response = client.get("/admin/events?limit=2", headers=AUTH)
    assert response.status_code == 200
    first = response.json
    assert len(first["events"]) == 2
    assert first["next_cursor"]
    rest = client.get(f"/admin/events?limit=10&cursor={first['next_cursor']}", headers=AUTH).json
    refs = [e["ref"] for e in first["events"] + rest["events"]]
    assert sorted(refs) == sorted(
        [f"stripe:evt_{n}" for n in (0, 2, 4)] + ["shopify:evt_1", "shopify:evt_3"]
    )
    assert rest["next_cursor"] is None
    shopify = client.get("/admin/events?provider=shopify&topic=orders/create", headers=AUTH).json
    assert sorted(e["ref"] for e in shopify["events"]) == ["shopify:evt_1", "shopify:evt_3"]
    assert "body" not in shopify["events"][0]
    queued = client.get("/admin/events?status=queued", headers=AUTH).json
    assert len(queued["events"]) == 5


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("provider=paypal", "provider"),
        ("status=lost", "status"),
        ("limit=0", "limit"),
        ("limit=many", "limit"),
        ("color=blue", "color"),
    ],
)
def test_list_rejects_bad_queries(client: FlaskClient, query: str, field: str) -> None:
    response = client.get(f"/admin/events?{query}", headers=AUTH)
    assert response.status_code == 400
    assert response.json["error"] == "invalid_query"
    assert response.json["detail"][0]["field"] == field


def test_list_rejects_a_bad_cursor(client: FlaskClient) -> None:
    response = client.get("/admin/events?cursor=xyz", headers=AUTH)
    assert response.status_code == 400
    assert response.json["error"] == "invalid_cursor"


def test_one_event_with_attempts_and_error(client: FlaskClient, services: Services) -> None:
    ref = seed(services, 7)
    services.events.mark(ref, EventStatus.FAILED, error="Sage said no")
    response = client.get("/admin/events/stripe:evt_7", headers=AUTH)
    assert response.status_code == 200
    body = response.json
    assert (body["ref"], body["status"], body["error"], body["body"]) == (
        ref,
        "failed",
        "Sage said no",
        "{}",
    )
    assert body["attempts"] == []
    missing = client.get("/admin/events/stripe:evt_404", headers=AUTH)
    assert missing.status_code == 404


def test_replay_requeues_the_event(client: FlaskClient, services: Services) -> None:
    ref = seed(services, 8)
    services.redis.delete(services.events.outbox_key)
    services.events.mark(ref, EventStatus.FAILED, error="boom")
    response = client.post(f"/admin/events/{ref}/replay", headers=AUTH)
    assert response.status_code == 202
    assert response.json == {"id": ref, "previous_status": "failed", "status": "queued"}
    assert services.redis.lrange(services.events.outbox_key, 0, -1) == [ref]
    assert client.post("/admin/events/stripe:evt_404/replay", headers=AUTH).status_code == 404


def test_counts_by_status(client: FlaskClient, services: Services) -> None:
    seed(services, 1)
    services.events.mark(seed(services, 2), EventStatus.PROCESSED)
    response = client.get("/admin/events/counts", headers=AUTH)
    assert response.status_code == 200
    assert response.json["counts"] == {
        "queued": 1, "processing": 0, "parked": 0, "processed": 1, "ignored": 0, "failed": 0,
    }  # fmt: skip


def test_health_ready_and_metrics(client: FlaskClient, services: Services) -> None:
    seed(services, 1)
    assert client.get("/healthz").json == {"status": "ok"}
    assert client.get("/readyz").status_code == 200
    metrics = client.get("/metrics")
    assert metrics.status_code == 200
    assert metrics.mimetype == "text/plain"
    text = metrics.data.decode()
    assert 'bridge_events_received_total{provider="stripe",topic="invoice.paid"} 1' in text
    assert 'bridge_queue_depth{queue="outbox"} 1' in text
    assert 'bridge_queue_depth{queue="celery"} 0' in text
    assert "# TYPE bridge_events_received_total counter" in text


def test_readyz_is_503_when_redis_is_away() -> None:
    from bridge.embedded_redis import free_port

    services = build_services(Settings(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0"))
    client = create_app(services=services).test_client()
    ready, alive = client.get("/readyz"), client.get("/healthz")
    metrics = client.get("/metrics")
    services.close()
    assert (ready.status_code, alive.status_code, metrics.status_code) == (503, 200, 503)


def test_a_bare_provider_id_names_the_event_too(client: FlaskClient, services: Services) -> None:
    ref = seed(services, 9)  # stripe:evt_...
    bare = ref.partition(":")[2]
    assert client.get(f"/admin/events/{bare}", headers=AUTH).json["ref"] == ref
    response = client.post(f"/admin/events/{bare}/replay", headers=AUTH)
    assert response.status_code == 202
    assert response.json["id"] == ref
    unknown = client.post("/admin/events/12345/replay", headers=AUTH)  # a Shopify id
    assert unknown.json["detail"] == "no event 'shopify:12345'"


def test_several_admin_tokens_are_accepted_together(redis_url: str) -> None:
    settings = Settings(REDIS_URL=redis_url, BRIDGE_ADMIN_TOKEN="new-token, old-token")
    services = build_services(settings)
    client = create_app(services=services).test_client()
    codes = [
        client.get("/admin/events", headers={"Authorization": f"Bearer {token}"}).status_code
        for token in ("new-token", "old-token", "new-token, old-token", "other")
    ]
    console = client.post("/console/login", data={"token": "old-token"})
    services.close()
    assert codes == [200, 200, 401, 401]
    assert console.status_code == 302  # logged in with the token being rotated out
