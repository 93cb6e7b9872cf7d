"""`bridge connections add --register-webhooks`: subscribe the bridge to the provider.

- Shopify: `webhookSubscriptionCreate` for every topic the bridge acts on
  (`connectors.shopify.webhook.TOPICS`), delivered to `<bridge>/webhooks/shopify` (the
  ingress routes by the shop's domain), through the GraphQL Admin API with the shop's
  access token. Shopify signs with the app's client secret: the connection is given it.
- Stripe: `POST /v1/webhook_endpoints` for every event the bridge acts on
  (`connectors.stripe.webhook.TOPICS`) at the API version its translators read, delivered
  to `<bridge>/webhooks/stripe/<connection>`; Stripe's answer carries the endpoint's
  signing secret, which the connection stores.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from bridge.settings import Settings
from connectors.shopify import webhook as shopify_webhook
from connectors.shopify.graphql import ShopifyGraphQL
from connectors.shopify.subscriptions import Subscribed, subscribe
from connectors.stripe import webhook as stripe_webhook
from connectors.stripe.endpoints import WebhookEndpoint, create_webhook_endpoint


def bridge_base(url: str) -> str:
    """The bridge's public base URL, checked: https (or http on this machine), no query.

    Raises:
        ValueError: not a URL the providers can deliver to.
    """
    parts = urlsplit(url.strip())
    local = (parts.hostname or "") in ("127.0.0.1", "localhost", "::1")
    if parts.scheme != "https" and not (parts.scheme == "http" and local):
        raise ValueError(f"--bridge-url {url!r}: the providers deliver to https URLs only")
    if not parts.hostname or parts.query or parts.fragment:
        raise ValueError(f"--bridge-url {url!r}: give the bridge's base URL, e.g. https://host")
    return url.strip().rstrip("/")


def register_shopify(
    settings: Settings, shop_domain: str, access_token: str, base: str
) -> list[Subscribed]:
    """Subscribe `<base>/webhooks/shopify` to the bridge's topics in `shop_domain`.

    Raises:
        ProviderApiError: Shopify refused (the message says why).
    """
    api = ShopifyGraphQL(
        shop_domain,
        access_token,
        api_version=settings.shopify_api_version,
        base_url=settings.shopify_api_url,
        max_attempts=3,
    )
    try:
        return subscribe(api, f"{base}/webhooks/shopify", shopify_webhook.TOPICS)
    finally:
        api.close()


def register_stripe(
    settings: Settings, api_key: str, base: str, name: str, connect: bool
) -> WebhookEndpoint:
    """Create the Stripe endpoint `<base>/webhooks/stripe/<name>`; returns it with its secret.

    Raises:
        ProviderApiError: Stripe refused (the message says why).
    """
    return create_webhook_endpoint(
        api_key,
        f"{base}/webhooks/stripe/{name}",
        stripe_webhook.TOPICS,
        connect=connect,
        base_url=settings.stripe_api_url,
    )
