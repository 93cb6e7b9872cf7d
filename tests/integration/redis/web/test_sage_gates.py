"""What people see of a Sage outage: the console banner, `/readyz`, `/metrics`; and the
console's "Replay all" (CSRF-checked) and the admin bulk replay's validation."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from bridge.services import Services
from bridge.store.events import EventStatus, NewEvent
from tests.support.web import ADMIN_TOKEN

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def _login(client: FlaskClient) -> str:
    assert client.post("/console/login", data={"token": ADMIN_TOKEN}).status_code == 302
    html = client.get("/console/events?status=failed").get_data(as_text=True)
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match is not None
    return match.group(1)


def _needs_login(services: Services) -> None:
    key = f"{services.settings.key('sage')}:needs_login"
    services.redis.set(key, '{"since": 1700000000.0, "reason": "token grant refused"}')


def _failed(services: Services, n: int) -> list[str]:
    refs = []
    for i in range(n):
        event = NewEvent(
            provider="stripe", provider_id=f"evt_f{i}", topic="invoice.paid", body="{}"
        )
        services.events.record(event)
        services.events.mark(event.ref, EventStatus.FAILED, error="boom")
        refs.append(event.ref)
    return refs


def test_needs_login_shows_in_the_banner_readyz_and_metrics(
    client: FlaskClient, services: Services
) -> None:
    _login(client)
    assert "needs-login" not in client.get("/console/").get_data(as_text=True)
    assert client.get("/readyz").get_json()["sage"] == "ok"
    _needs_login(services)

    html = client.get("/console/").get_data(as_text=True)
    assert 'data-banner="needs-login"' in html
    assert "bridge sage-login" in html
    ready = client.get("/readyz")
    assert ready.status_code == 200  # webhooks are still taken: the events wait
    body = ready.get_json()
    assert body["sage"] == "needs_login"
    assert body["sage_detail"]["needs_login"]["reason"] == "token grant refused"
    metrics = client.get("/metrics").get_data(as_text=True)
    assert "bridge_sage_needs_login 1" in metrics
    assert 'bridge_sage_circuit_state{state="closed"} 1' in metrics
    assert 'bridge_events_held{gate="sage_auth"} 0' in metrics


def test_an_open_circuit_shows_in_the_banner(client: FlaskClient, services: Services) -> None:
    _login(client)
    key = f"{services.settings.key('sage')}:circuit"
    services.redis.hset(key, mapping={"state": "open", "opened_at": "9999999999"})
    assert 'data-banner="circuit"' in client.get("/console/").get_data(as_text=True)
    assert client.get("/readyz").get_json()["sage"] == "circuit_open"
    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'bridge_sage_circuit_state{state="open"} 1' in metrics


def test_replay_all_needs_csrf_and_queues_every_failed_event(
    client: FlaskClient, services: Services
) -> None:
    refs = _failed(services, 3)
    csrf = _login(client)
    assert "Replay all failed events" in client.get("/console/events?status=failed").get_data(
        as_text=True
    )
    assert client.post("/console/events/replay").status_code == 400  # no CSRF token
    assert services.events.counts()["failed"] == 3
    response = client.post("/console/events/replay", data={"csrf": csrf})
    assert response.status_code == 302
    assert all(services.events.get(r).status == "queued" for r in refs)  # type: ignore[union-attr]
    assert "3 of 3 failed events queued" in client.get(response.headers["Location"]).get_data(
        as_text=True
    )


def test_admin_bulk_replay_validates_its_filter(client: FlaskClient, services: Services) -> None:
    _failed(services, 2)
    for body in (
        {"status": "processed"},
        {"provider": "paypal"},
        {"since": "2026-11-02T00:00:00Z", "until": "2026-11-01T00:00:00Z"},
        {"surprise": 1},
    ):
        response = client.post("/admin/events/replay", json=body, headers=AUTH)
        assert response.status_code == 400, body
    bad_json = client.post(
        "/admin/events/replay", data="{", headers={**AUTH, "Content-Type": "application/json"}
    )
    assert bad_json.status_code == 400
    assert client.post("/admin/events/replay", json={}).status_code == 401
    stripe_only = client.post(
        "/admin/events/replay", json={"provider": "shopify"}, headers=AUTH
    ).get_json()
    assert stripe_only == {"matched": 0, "queued": 0, "dry_run": False}
    done = client.post("/admin/events/replay", json={"topic": "invoice.paid"}, headers=AUTH)
    assert (done.status_code, done.get_json()["queued"]) == (202, 2)
