"""Per-connection Services: settings view, Sage keys, the app-wide limiter, outbound events."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis
from flask.testing import FlaskClient

from bridge.connections.hub import ServicesHub
from bridge.connections.limits import SharedLimiter
from bridge.outbound.events import EventType
from bridge.services import Services, build_services
from bridge.settings import Settings
from bridge.web import create_app
from tests.support.connections import KEY, spec

TOKEN = "admin-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def base(redis_url: str) -> Iterator[Services]:
    settings = Settings(
        REDIS_URL=redis_url,
        SAGE_API_URL="http://127.0.0.1:9/graphql",
        BRIDGE_SECRET_KEY=KEY,
        BRIDGE_ADMIN_TOKEN=TOKEN,
        BRIDGE_OUTBOUND_ALLOW_PRIVATE=True,
        BRIDGE_SALES_JOURNAL="VT",
    )
    services = build_services(settings)
    yield services
    services.close()


@pytest.fixture
def hub(base: Services) -> Iterator[ServicesHub]:
    hub = ServicesHub(base, ttl=0.0)
    mapping = {"sales_journal_code": "VE", "rounding_tolerance": "0.10"}
    body = {
        "mapping": mapping,
        "secrets": {
            "webhook_secrets": ["alpha-secret-1", "alpha-2nd-secret"],
            "sage_refresh_token": "alpha-refresh",
        },
    }
    hub.registry.add(spec("alpha", **body))
    yield hub
    hub.close()


def test_a_connection_is_served_with_its_own_settings_and_keys(hub: ServicesHub) -> None:
    alpha = hub.services("alpha")
    assert alpha is not None
    settings = alpha.settings
    assert settings.connection == "alpha"
    assert settings.key("links") == "bridge:alpha:links"
    assert settings.sales_journal_code == "VE"  # its mapping
    assert str(settings.rounding_tolerance) == "0.10"
    assert settings.walkin_customer_code == "WALKIN"  # the environment's, where it says nothing
    assert settings.shopify_secrets == [b"alpha-secret-1", b"alpha-2nd-secret"]
    assert settings.stripe_secrets == []
    assert settings.sage.organization_id == "org-alpha"
    assert settings.sage.refresh_token.get_secret_value() == "alpha-refresh"
    assert hub.services(None) is hub.base
    assert hub.services("nobody") is None


def test_sage_tokens_are_per_connection_and_the_rate_limiter_is_the_apps(
    hub: ServicesHub,
) -> None:
    alpha = hub.services("alpha")
    assert alpha is not None
    client = alpha.sage.client
    assert client.config.key("token") == "bridge:alpha:sage:token"
    assert client.config.key("refresh_token") == "bridge:alpha:sage:refresh_token"
    limiter = client.limiter
    assert isinstance(limiter, SharedLimiter)
    app_keys = hub.base.sage.client.limiter._keys
    assert (
        limiter._keys
        == app_keys
        == [
            "bridge:default:sage:ratelimit:tat",
            "bridge:default:sage:ratelimit:pause_until",
        ]
    )
    assert limiter.own._keys[0] == "bridge:alpha:sage:ratelimit:tat"
    assert limiter.own.interval == pytest.approx(limiter.interval * 2)  # half of the app's


def test_a_changed_connection_is_rebuilt(hub: ServicesHub) -> None:
    from bridge.connections.models import ConnectionUpdate

    first = hub.services("alpha")
    hub.registry.update(
        "alpha", ConnectionUpdate.model_validate({"mapping": {"sales_journal_code": "V2"}})
    )
    second = hub.services("alpha")
    assert second is not first
    assert second is not None
    assert second.settings.sales_journal_code == "V2"
    assert hub.services("alpha") is second


def test_outbound_events_name_their_connection_and_subscriptions_are_per_connection(
    base: Services, hub: ServicesHub, redis_client: redis.Redis
) -> None:
    client: FlaskClient = create_app(services=base).test_client()
    sub = {"url": "http://127.0.0.1:9/hook", "event_types": ["sync.failed"]}
    made = client.post("/admin/subscriptions?connection=alpha", json=sub, headers=AUTH)
    assert made.status_code == 201, made.get_data(as_text=True)
    assert client.get("/admin/subscriptions", headers=AUTH).get_json()["subscriptions"] == []
    listed = client.get("/admin/subscriptions?connection=alpha", headers=AUTH).get_json()
    assert len(listed["subscriptions"]) == 1

    alpha = hub.services("alpha")
    assert alpha is not None
    data = {
        "event_ref": "shopify:1",
        "provider": "shopify",
        "topic": "orders/create",
        "reason": "x",
    }
    event_id = alpha.outbound.emit(EventType.SYNC_FAILED, data)

    event = alpha.outbound.event(event_id)
    assert '"connection":"alpha"' in event.body
    assert len(event.delivery_ids) == 1
