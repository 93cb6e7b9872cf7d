"""The connection registry on the real test Redis."""

from __future__ import annotations

import pytest
import redis
from pydantic import SecretStr, ValidationError

from bridge.connections.models import ConnectionCreate, ConnectionUpdate, ConnectionView
from bridge.connections.registry import ConnectionRegistry, RegistryError
from bridge.connections.secrets import SecretBox, new_key
from tests.support.connections import KEY, spec


def test_a_connection_is_stored_with_its_secrets_encrypted(
    registry: ConnectionRegistry, redis_client: redis.Redis
) -> None:
    registry.add(spec("alpha", secrets={"webhook_secrets": ["first-secret", "second-secret"]}))

    stored = registry.require("alpha")
    assert stored.shop_domain == "alpha.myshopify.com"
    assert registry.secret_values(stored, "webhook_secrets") == ["first-secret", "second-secret"]
    dump = str([redis_client.dump(key) for key in redis_client.keys("*")])
    assert "first-secret" not in dump
    assert "second-secret" not in dump


def test_the_view_shows_that_a_secret_is_set_never_its_value(
    registry: ConnectionRegistry,
) -> None:
    stored = registry.add(spec("alpha", secrets={"webhook_secrets": ["first-secret"]}))
    shown = ConnectionView.of(stored).model_dump_json()
    assert "first-secret" not in shown
    view = ConnectionView.of(stored)
    assert view.secrets["webhook_secrets"].set
    assert view.secrets["webhook_secrets"].fingerprints[0].startswith("sha256:")
    assert not view.secrets["sage_refresh_token"].set


def test_a_name_shop_or_account_is_taken_once(registry: ConnectionRegistry) -> None:
    registry.add(spec("alpha"))
    registry.add(spec("gamma", source="stripe", shop_domain=None, stripe_account="acct_1"))
    with pytest.raises(RegistryError) as taken:
        registry.add(spec("alpha", shop_domain="other.myshopify.com"))
    assert (taken.value.status, taken.value.error) == (409, "exists")
    with pytest.raises(RegistryError) as shop:
        registry.add(spec("beta", shop_domain="alpha.myshopify.com"))
    assert (shop.value.status, shop.value.error) == (409, "source_taken")
    with pytest.raises(RegistryError) as account:
        registry.add(spec("delta", source="stripe", shop_domain=None, stripe_account="acct_1"))
    assert account.value.error == "source_taken"
    assert [c.name for c in registry.all()] == ["alpha", "gamma"]


def test_an_update_merges_the_mapping_and_moves_the_shop_index(
    registry: ConnectionRegistry,
) -> None:
    registry.add(spec("alpha", mapping={"sales_journal_code": "VE", "shop_currency": "EUR"}))
    change = ConnectionUpdate.model_validate(
        {"shop_domain": "renamed.myshopify.com", "mapping": {"shop_currency": "CHF"}}
    )
    registry.update("alpha", change)

    snapshot = registry.snapshot()
    assert snapshot.by_shop == {"renamed.myshopify.com": "alpha"}
    assert snapshot.by_name["alpha"].mapping == {"sales_journal_code": "VE", "shop_currency": "CHF"}
    registry.add(spec("beta", shop_domain="alpha.myshopify.com"))  # the old domain is free


def test_disable_enable_and_remove_bump_the_version(registry: ConnectionRegistry) -> None:
    registry.add(spec("alpha"))
    start = registry.version()
    assert not registry.set_enabled("alpha", False).enabled
    assert registry.set_enabled("alpha", True).enabled
    registry.remove("alpha")
    assert registry.version() == start + 3
    assert registry.get("alpha") is None
    assert registry.snapshot().by_shop == {}
    with pytest.raises(RegistryError) as missing:
        registry.remove("alpha")
    assert missing.value.status == 404


def test_rotate_key_reencrypts_every_secret_with_the_first_key(
    redis_client: redis.Redis, registry: ConnectionRegistry
) -> None:
    registry.add(spec("alpha", secrets={"webhook_secrets": ["first-secret"]}))
    new = new_key()
    rotating = ConnectionRegistry(redis_client, lambda: SecretBox([SecretStr(new), SecretStr(KEY)]))
    assert rotating.rotate_key() == 1

    only_new = ConnectionRegistry(redis_client, lambda: SecretBox([SecretStr(new)]))
    stored = only_new.require("alpha")
    assert only_new.secret_values(stored, "webhook_secrets") == ["first-secret"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"name": "default"}, "environment's connection"),
        ({"name": "Bad Name"}, "String should match pattern"),
        ({"shop_domain": None}, "needs shop_domain"),
        ({"shop_domain": "not a domain"}, "String should match pattern"),
        ({"secrets": {"webhook_secrets": []}}, "at least 1 item"),
        ({"secrets": {"webhook_secrets": ["short"]}}, "should have at least 8"),
        ({"mapping": {"journal": "VT"}}, "Extra inputs are not permitted"),
        ({"mapping": {"shop_currency": "euro"}}, "String should match pattern"),
        ({"mapping": {"rounding_tolerance": "-1"}}, "greater than or equal to 0"),
        ({"source": "paypal"}, "Input should be 'shopify' or 'stripe'"),
        ({"source": "stripe", "stripe_account": "acct_1"}, "shop_domain is for Shopify"),
    ],
)
def test_bad_input_is_refused_with_a_message(change: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        spec("alpha", **change)


def test_a_create_needs_a_webhook_secret() -> None:
    with pytest.raises(ValidationError, match="at least one webhook signing secret"):
        ConnectionCreate.model_validate(
            {
                "name": "alpha",
                "source": "shopify",
                "shop_domain": "alpha.myshopify.com",
                "sage_organization_id": "org",
                "secrets": {},
            }
        )
