"""Connections for tests: a Fernet key, two Shopify shops + one Stripe, a valid spec."""

from __future__ import annotations

from cryptography.fernet import Fernet

from bridge.connections.models import ConnectionCreate

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
