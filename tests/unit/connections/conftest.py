"""Connections on the real test Redis: a registry, keys, and two Shopify shops + one Stripe."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis
from cryptography.fernet import Fernet
from pydantic import SecretStr

from bridge.connections.models import ConnectionCreate
from bridge.connections.registry import ConnectionRegistry
from bridge.connections.secrets import SecretBox

KEY = Fernet.generate_key().decode()
SHOP_A, SHOP_B = "alpha.myshopify.com", "beta.myshopify.com"
SECRET_A, SECRET_B = "shop-a-webhook-secret", "shop-b-webhook-secret"
STRIPE_SECRET_C = "whsec_connection_c_secret"
ORG_A, ORG_B, ORG_C = "org-a", "org-b", "org-c"


def spec(connection: str, **change: object) -> ConnectionCreate:
    """A valid ConnectionCreate for `connection` (a Shopify shop unless changed)."""
    body: dict[str, object] = {
        "name": connection,
        "source": "shopify",
        "shop_domain": f"{connection}.myshopify.com",
        "sage_organization_id": f"org-{connection}",
        "secrets": {"webhook_secrets": [f"{connection}-webhook-secret"]},
    }
    body.update(change)
    return ConnectionCreate.model_validate(body)


@pytest.fixture
def registry(redis_client: redis.Redis) -> Iterator[ConnectionRegistry]:
    return ConnectionRegistry(redis_client, lambda: SecretBox([SecretStr(KEY)]))
