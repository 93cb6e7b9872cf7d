"""`/admin/connections` and the ingress's routing by connection (Flask test client, real Redis)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bridge.ops.gates import GATE_AUTH, sage_key
from bridge.services import build_services
from bridge.settings import Settings
from bridge.web import create_app
from connectors.sage_active.auth import NeedsLogin
from tests.support.connections import KEY, SECRET_A, SECRET_B, SHOP_A, SHOP_B
from tests.support.webhooks import (
    SHOPIFY_SECRET,
    STRIPE_SECRET,
    shopify_headers,
    stripe_event,
    stripe_signature,
)

TOKEN = "admin-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
ORDER = json.dumps({"id": 450789469, "total_price": "10.00"}).encode()


def shop(name: str, domain: str, secret: str) -> dict[str, Any]:
    return {
        "name": name,
        "source": "shopify",
        "shop_domain": domain,
        "sage_organization_id": f"org-{name}",
        "mapping": {"sales_journal_code": "VE"},
        "secrets": {"webhook_secrets": [secret], "sage_refresh_token": "refresh-token-1"},
    }


def make_client(redis_url: str, **env: str) -> Iterator[FlaskClient]:
    settings = Settings(
        REDIS_URL=redis_url,
        SHOPIFY_WEBHOOK_SECRET=SHOPIFY_SECRET,
        STRIPE_WEBHOOK_SECRET=STRIPE_SECRET,
        BRIDGE_ADMIN_TOKEN=TOKEN,
        **env,
    )
    services = build_services(settings)
    yield create_app(services=services).test_client()
    services.close()


@pytest.fixture
def client(redis_url: str) -> Iterator[FlaskClient]:
    yield from make_client(redis_url, BRIDGE_SECRET_KEY=KEY)


@pytest.fixture
def two_shops(client: FlaskClient) -> FlaskClient:
    for name, domain, secret in (("alpha", SHOP_A, SECRET_A), ("beta", SHOP_B, SECRET_B)):
        assert (
            client.post(
                "/admin/connections", json=shop(name, domain, secret), headers=AUTH
            ).status_code
            == 201
        )
    stripe = {
        "name": "gamma",
        "source": "stripe",
        "stripe_account": "acct_1Gamma",
        "sage_organization_id": "org-gamma",
        "secrets": {"webhook_secrets": ["whsec_gamma_secret"]},
    }
    assert client.post("/admin/connections", json=stripe, headers=AUTH).status_code == 201
    return client


def keys(client: redis.Redis) -> set[bytes]:
    return set(client.keys("*"))  # type: ignore[arg-type]


# --- the admin API -------------------------------------------------------------------


def test_a_connection_made_shows_its_secrets_only_as_set(client: FlaskClient) -> None:
    made = client.post("/admin/connections", json=shop("alpha", SHOP_A, SECRET_A), headers=AUTH)

    assert made.status_code == 201
    assert SECRET_A not in made.get_data(as_text=True)
    assert "refresh-token-1" not in made.get_data(as_text=True)
    body = made.get_json()
    assert body["secrets"]["webhook_secrets"]["set"] is True
    assert body["secrets"]["sage_refresh_token"]["set"] is True
    assert body["webhook_path"] == "/webhooks/shopify"
    listed = client.get("/admin/connections", headers=AUTH).get_json()
    assert [c["name"] for c in listed["connections"]] == ["alpha"]
    assert listed["default"]["name"] == "default"
    assert SECRET_A not in client.get("/admin/connections/alpha", headers=AUTH).get_data(
        as_text=True
    )


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"not json", "malformed_json"),
        (b"[1, 2]", "malformed_json"),
        (b'"text"', "malformed_json"),
        (b"null", "malformed_json"),
        (b"[" * 100_000, "malformed_json"),
        (b'{"name": "alpha"}', "invalid_body"),
        (json.dumps({**shop("alpha", SHOP_A, SECRET_A), "extra": 1}).encode(), "invalid_body"),
        (json.dumps(shop("alpha", "-bad-", SECRET_A)).encode(), "invalid_body"),
        (json.dumps(shop("default", SHOP_A, SECRET_A)).encode(), "invalid_body"),
        (
            json.dumps({**shop("alpha", SHOP_A, SECRET_A), "mapping": {"numbering": 7}}).encode(),
            "invalid_body",
        ),
        (json.dumps({**shop("alpha", SHOP_A, SECRET_A), "mapping": []}).encode(), "invalid_body"),
        (json.dumps({**shop("alpha", SHOP_A, SECRET_A), "secrets": "x"}).encode(), "invalid_body"),
    ],
)
def test_bad_input_is_a_400_and_saves_nothing(
    client: FlaskClient, redis_client: redis.Redis, body: bytes, error: str
) -> None:
    answer = client.post(
        "/admin/connections", data=body, headers={**AUTH, "Content-Type": "application/json"}
    )
    assert answer.status_code == 400, answer.get_data(as_text=True)
    assert answer.get_json()["error"] == error
    assert keys(redis_client) == set()


def test_taken_unknown_and_unauthorised_are_named(client: FlaskClient) -> None:
    assert (
        client.post(
            "/admin/connections", json=shop("alpha", SHOP_A, SECRET_A), headers=AUTH
        ).status_code
        == 201
    )
    again = client.post("/admin/connections", json=shop("alpha", SHOP_B, SECRET_B), headers=AUTH)
    assert (again.status_code, again.get_json()["error"]) == (409, "exists")
    same_shop = client.post("/admin/connections", json=shop("beta", SHOP_A, SECRET_B), headers=AUTH)
    assert (same_shop.status_code, same_shop.get_json()["error"]) == (409, "source_taken")
    for method in ("get", "patch", "delete"):
        answer = getattr(client, method)("/admin/connections/nobody", json={}, headers=AUTH)
        assert answer.status_code == 404, method
    assert client.get("/admin/connections").status_code == 401
    assert client.post("/admin/connections", json=shop("x1", SHOP_B, SECRET_B)).status_code == 401


def test_patch_validates_and_changes_only_what_is_given(client: FlaskClient) -> None:
    client.post("/admin/connections", json=shop("alpha", SHOP_A, SECRET_A), headers=AUTH)
    bad = client.patch("/admin/connections/alpha", json={"enabled": "maybe"}, headers=AUTH)
    assert bad.status_code == 400
    changed = client.patch(
        "/admin/connections/alpha",
        json={"enabled": False, "mapping": {"shop_currency": "CHF"}},
        headers=AUTH,
    ).get_json()
    assert changed["enabled"] is False
    assert changed["mapping"] == {"sales_journal_code": "VE", "shop_currency": "CHF"}
    assert client.delete("/admin/connections/alpha", headers=AUTH).get_json() == {
        "removed": "alpha"
    }


def test_without_a_secret_key_a_connection_cannot_be_made(
    redis_url: str, redis_client: redis.Redis
) -> None:
    client = next(make_client(redis_url))
    answer = client.post("/admin/connections", json=shop("alpha", SHOP_A, SECRET_A), headers=AUTH)
    assert answer.status_code == 503
    assert "BRIDGE_SECRET_KEY" in answer.get_json()["detail"]
    assert keys(redis_client) == set()


# --- the ingress ---------------------------------------------------------------------


def test_each_shop_is_recorded_in_its_own_connection(
    two_shops: FlaskClient, redis_client: redis.Redis
) -> None:
    for domain, secret in ((SHOP_A, SECRET_A), (SHOP_B, SECRET_B)):
        headers = shopify_headers(ORDER, secret=secret, shop=domain, webhook_id=f"wh-{domain}")
        assert two_shops.post("/webhooks/shopify", data=ORDER, headers=headers).status_code == 202

    assert redis_client.lrange("bridge:alpha:outbox", 0, -1) == [b"shopify:wh-" + SHOP_A.encode()]
    assert redis_client.lrange("bridge:beta:outbox", 0, -1) == [b"shopify:wh-" + SHOP_B.encode()]
    assert redis_client.llen("bridge:default:outbox") == 0
    alpha = two_shops.get("/admin/events?connection=alpha", headers=AUTH).get_json()
    assert [e["ref"] for e in alpha["events"]] == [f"shopify:wh-{SHOP_A}"]
    record = two_shops.get(f"/admin/events/shopify:wh-{SHOP_A}?connection=alpha", headers=AUTH)
    assert record.get_json()["headers"]["X-Bridge-Connection"] == "alpha"


def test_shop_a_secret_claiming_shop_b_is_refused(
    two_shops: FlaskClient, redis_client: redis.Redis
) -> None:
    before = keys(redis_client)
    forged = shopify_headers(ORDER, secret=SECRET_A, shop=SHOP_B)
    answer = two_shops.post("/webhooks/shopify", data=ORDER, headers=forged)
    assert answer.status_code == 401
    assert keys(redis_client) == before


def test_an_unknown_shop_is_404_and_stores_nothing(
    two_shops: FlaskClient, redis_client: redis.Redis
) -> None:
    # The environment's connection learnt its shop from its first signed delivery ...
    home = shopify_headers(ORDER, secret=SHOPIFY_SECRET, shop="home.myshopify.com")
    assert two_shops.post("/webhooks/shopify", data=ORDER, headers=home).status_code == 202
    before = keys(redis_client)
    # ... so another shop, even signed with the environment's secret, is nobody's.
    headers = shopify_headers(ORDER, secret=SHOPIFY_SECRET, shop="stranger.myshopify.com")
    answer = two_shops.post("/webhooks/shopify", data=ORDER, headers=headers)
    assert (answer.status_code, answer.get_json()["error"]) == (404, "unknown_shop")
    assert keys(redis_client) == before


def test_stripe_by_endpoint_and_by_connect_account(
    two_shops: FlaskClient, redis_client: redis.Redis
) -> None:
    body = stripe_event("evt_by_path")
    headers = {
        "Content-Type": "application/json",
        "Stripe-Signature": stripe_signature(body, "whsec_gamma_secret"),
    }
    assert two_shops.post("/webhooks/stripe/gamma", data=body, headers=headers).status_code == 202
    connect = json.loads(stripe_event("evt_by_account"))
    connect["account"] = "acct_1Gamma"
    body = json.dumps(connect).encode()
    headers = {
        "Content-Type": "application/json",
        "Stripe-Signature": stripe_signature(body, "whsec_gamma_secret"),
    }
    assert two_shops.post("/webhooks/stripe", data=body, headers=headers).status_code == 202

    assert sorted(redis_client.lrange("bridge:gamma:outbox", 0, -1)) == [
        b"stripe:evt_by_account",
        b"stripe:evt_by_path",
    ]
    wrong = {
        "Content-Type": "application/json",
        "Stripe-Signature": stripe_signature(body, STRIPE_SECRET),
    }
    assert two_shops.post("/webhooks/stripe", data=body, headers=wrong).status_code == 401
    assert two_shops.post("/webhooks/stripe/alpha", data=body, headers=headers).status_code == 404
    assert two_shops.post("/webhooks/stripe/nobody", data=body, headers=headers).status_code == 404


def test_the_environment_connection_still_takes_its_own_webhooks(
    two_shops: FlaskClient, redis_client: redis.Redis
) -> None:
    body = stripe_event("evt_default")
    headers = {"Content-Type": "application/json", "Stripe-Signature": stripe_signature(body)}
    assert two_shops.post("/webhooks/stripe", data=body, headers=headers).status_code == 202
    assert redis_client.lrange("bridge:default:outbox", 0, -1) == [b"stripe:evt_default"]


# --- the console ---------------------------------------------------------------------


def _console_csrf(client: FlaskClient, page: str) -> str:
    html = client.get(page).get_data(as_text=True)
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match is not None
    return match.group(1)


def test_the_console_lists_connections_pauses_and_resumes_them(two_shops: FlaskClient) -> None:
    assert two_shops.get("/console/connections/").status_code == 302  # login first
    assert two_shops.post("/console/login", data={"token": TOKEN}).status_code == 302

    page = two_shops.get("/console/connections/").get_data(as_text=True)
    for name in ("default", "alpha", "beta", "gamma"):
        assert f"?connection={name}" in page
    assert SECRET_A not in page
    assert "whsec_gamma_secret" not in page

    refused = two_shops.post("/console/connections/beta/disable", data={"csrf": "forged"})
    assert refused.status_code == 400
    csrf = _console_csrf(two_shops, "/console/connections/")
    two_shops.post("/console/connections/beta/disable", data={"csrf": csrf})
    assert two_shops.get("/admin/connections/beta", headers=AUTH).get_json()["enabled"] is False
    two_shops.post("/console/connections/beta/enable", data={"csrf": csrf})
    assert two_shops.get("/admin/connections/beta", headers=AUTH).get_json()["enabled"] is True


def test_console_pages_seen_as_a_connection_keep_it_in_their_links(
    two_shops: FlaskClient,
) -> None:
    two_shops.post("/console/login", data={"token": TOKEN})
    page = two_shops.get("/console/?connection=alpha").get_data(as_text=True)
    assert "/console/events?connection=alpha" in page
    assert two_shops.get("/console/?connection=nobody").status_code == 404


def test_metrics_name_each_connection(two_shops: FlaskClient) -> None:
    headers = shopify_headers(ORDER, secret=SECRET_A, shop=SHOP_A)
    assert two_shops.post("/webhooks/shopify", data=ORDER, headers=headers).status_code == 202

    page = two_shops.get("/metrics").get_data(as_text=True)

    assert (
        'bridge_events_received_total{connection="alpha",provider="shopify",'
        'topic="orders/create"} 1' in page
    )
    assert 'bridge_queue_depth{connection="alpha",queue="outbox"} 1' in page
    assert 'bridge_queue_depth{connection="beta",queue="outbox"} 0' in page
    assert page.count("# TYPE bridge_queue_depth gauge") == 1


def test_a_stripe_connection_cannot_be_given_a_shop(two_shops: FlaskClient) -> None:
    answer = two_shops.patch(
        "/admin/connections/gamma", json={"shop_domain": "x.myshopify.com"}, headers=AUTH
    )
    assert (answer.status_code, answer.get_json()["error"]) == (400, "invalid_body")
    assert two_shops.get("/admin/connections/gamma", headers=AUTH).get_json()["shop_domain"] is None


def test_with_only_stripe_connections_the_environment_keeps_every_shop(
    client: FlaskClient, redis_client: redis.Redis
) -> None:
    stripe = {
        "name": "gamma",
        "source": "stripe",
        "sage_organization_id": "org-gamma",
        "secrets": {"webhook_secrets": ["whsec_gamma_secret"]},
    }
    assert client.post("/admin/connections", json=stripe, headers=AUTH).status_code == 201
    headers = shopify_headers(ORDER, webhook_id="wh-env", shop="any.myshopify.com")
    assert client.post("/webhooks/shopify", data=ORDER, headers=headers).status_code == 202
    assert redis_client.lrange("bridge:default:outbox", 0, -1) == [b"shopify:wh-env"]


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
FIELDS = st.fixed_dictionaries(
    {},
    optional={
        "name": st.text(max_size=10) | JSON,
        "source": st.sampled_from(["shopify", "stripe", "x"]) | JSON,
        "shop_domain": st.sampled_from(["a.myshopify.com", "\n", ""]) | JSON,
        "sage_organization_id": st.sampled_from(["org-1", "org\r\nX-Evil: 1", ""]) | JSON,
        "mapping": JSON,
        "secrets": JSON,
        "enabled": JSON,
    },
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=JSON | FIELDS)
def test_nothing_a_client_sends_is_a_500(client: FlaskClient, body: object) -> None:
    for method, path in (("post", "/admin/connections"), ("patch", "/admin/connections/x1")):
        answer = getattr(client, method)(path, json=body, headers=AUTH)
        assert answer.status_code in (201, 400, 404, 409), answer.get_data(as_text=True)


def test_sage_gauges_are_labelled_by_connection(
    two_shops: FlaskClient,
    redis_client: redis.Redis,
) -> None:
    alpha = Settings(BRIDGE_CONNECTION="alpha")
    mark = NeedsLogin(since=1.0, reason="refresh token revoked").model_dump_json()
    redis_client.set(sage_key(alpha, "needs_login"), mark)
    redis_client.zadd(alpha.key("held", GATE_AUTH), {"shopify:1": 1.0, "shopify:2": 2.0})

    page = two_shops.get("/metrics").get_data(as_text=True)

    assert 'bridge_sage_needs_login{connection="alpha"} 1' in page
    assert 'bridge_sage_needs_login{connection="beta"} 0' in page
    assert 'bridge_sage_needs_login{connection="default"} 0' in page
    assert f'bridge_events_held{{connection="alpha",gate="{GATE_AUTH}"}} 2' in page
    assert f'bridge_events_held{{connection="default",gate="{GATE_AUTH}"}} 0' in page
    for name in ("default", "alpha", "beta", "gamma"):
        assert f'bridge_sage_circuit_state{{connection="{name}",state="closed"}} 1' in page
    for family in ("bridge_sage_needs_login", "bridge_sage_circuit_state", "bridge_events_held"):
        assert page.count(f"# TYPE {family} gauge") == 1
