"""The environment's connection keeps its shop when connections are added (Flask test
client, real Redis): its shop is learnt from its first signed delivery and kept, and no
registered connection can take it over."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import redis
from click.testing import CliRunner
from flask.testing import FlaskClient

from bridge.cli import main
from bridge.connections.registry import ConnectionRegistry
from bridge.connections.secrets import SecretBox
from bridge.web.common import HUB_KEY
from tests.integration.redis.connections.test_web import AUTH, make_client, shop
from tests.support.connections import KEY, SECRET_A, SHOP_A
from tests.support.webhooks import SHOPIFY_SECRET, shopify_headers

HOME = "home-shop.myshopify.com"


def order(number: int) -> bytes:
    return json.dumps({"id": number, "total_price": "10.00"}).encode()


def deliver(client: FlaskClient, shop_domain: str, body: bytes, secret: str) -> tuple[int, str]:
    headers = shopify_headers(body, secret=secret, shop=shop_domain)
    answer = client.post("/webhooks/shopify", data=body, headers=headers)
    return answer.status_code, str((answer.get_json() or {}).get("error", ""))


@pytest.fixture
def client(redis_url: str) -> Iterator[FlaskClient]:
    yield from make_client(redis_url, BRIDGE_SECRET_KEY=KEY)


def test_the_env_shop_keeps_its_webhooks_after_a_connection_is_added(
    client: FlaskClient, redis_client: redis.Redis
) -> None:
    # given the environment's shop (no SHOPIFY_SHOP_DOMAIN) has delivered once
    assert deliver(client, HOME, order(1), SHOPIFY_SECRET) == (202, "")
    # when a second shop is added
    made = client.post("/admin/connections", json=shop("alpha", SHOP_A, SECRET_A), headers=AUTH)
    assert made.status_code == 201
    # then both shops' webhooks are accepted, each in its own ledger
    assert deliver(client, HOME, order(2), SHOPIFY_SECRET) == (202, "")
    assert deliver(client, SHOP_A, order(3), SECRET_A) == (202, "")
    assert redis_client.llen("bridge:default:outbox") == 2
    assert redis_client.llen("bridge:alpha:outbox") == 1
    # and a third shop is nobody's
    assert deliver(client, "stranger.myshopify.com", order(4), SHOPIFY_SECRET) == (
        404,
        "unknown_shop",
    )


def test_a_connection_added_before_the_env_shop_delivered_does_not_cut_it_off(
    client: FlaskClient, redis_client: redis.Redis
) -> None:
    made = client.post("/admin/connections", json=shop("alpha", SHOP_A, SECRET_A), headers=AUTH)
    assert made.status_code == 201
    # the environment's shop was never seen: its first delivery is still its own
    assert deliver(client, HOME, order(1), SHOPIFY_SECRET) == (202, "")
    assert redis_client.hget("bridge:_connections:env_shops", "default") == HOME.encode()


def test_a_forged_first_delivery_teaches_nothing(
    client: FlaskClient, redis_client: redis.Redis
) -> None:
    assert deliver(client, HOME, order(1), "not-the-secret") == (401, "invalid_signature")
    assert redis_client.hget("bridge:_connections:env_shops", "default") is None


def test_the_env_shop_cannot_be_registered_as_a_connection(client: FlaskClient) -> None:
    assert deliver(client, HOME, order(1), SHOPIFY_SECRET) == (202, "")
    taken = client.post("/admin/connections", json=shop("home", HOME, SECRET_A), headers=AUTH)
    assert taken.status_code == 409
    assert "environment's shop" in taken.get_json()["detail"]


def test_a_declared_env_shop_cannot_be_registered_either(redis_url: str) -> None:
    for declared in make_client(redis_url, BRIDGE_SECRET_KEY=KEY, SHOPIFY_SHOP_DOMAIN=HOME):
        taken = declared.post("/admin/connections", json=shop("home", HOME, SECRET_A), headers=AUTH)
        assert taken.status_code == 409
        assert "SHOPIFY_SHOP_DOMAIN" in taken.get_json()["detail"]


def test_the_learnt_shop_is_shown_and_can_be_forgotten(client: FlaskClient, redis_url: str) -> None:
    assert deliver(client, HOME, order(1), SHOPIFY_SECRET) == (202, "")
    env = {"REDIS_URL": redis_url}

    shown = CliRunner().invoke(main, ["connections", "env-shop"], env=env)
    forgotten = CliRunner().invoke(main, ["connections", "env-shop", "--forget"], env=env)

    assert shown.output.strip() == f"{HOME} (learnt from its first signed webhook)"
    assert forgotten.output.strip() == f"forgot {HOME}"
    # the web app sees the change within its snapshot's 2 s; here at once
    client.application.extensions[HUB_KEY].refresh()
    # the next signed delivery teaches it again, and the old shop is nobody's now
    assert deliver(client, "new-home.myshopify.com", order(2), SHOPIFY_SECRET) == (202, "")
    assert deliver(client, HOME, order(3), SHOPIFY_SECRET) == (404, "unknown_shop")


def test_two_shops_racing_to_be_the_env_shop_cannot_both_win(
    client: FlaskClient, redis_client: redis.Redis
) -> None:
    # this process's view of the connections is fresh: no shop yet
    assert deliver(client, HOME, order(1), "not-the-secret") == (401, "invalid_signature")
    # another web process takes a first delivery of another shop meanwhile
    other = "other-shop.myshopify.com"
    registry = ConnectionRegistry(redis_client, lambda: SecretBox([]))
    assert registry.claim_env_shop("default", other) == "ok"

    assert deliver(client, HOME, order(2), SHOPIFY_SECRET) == (404, "unknown_shop")
    assert redis_client.llen("bridge:default:outbox") == 0
