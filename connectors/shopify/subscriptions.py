"""Shopify webhook subscriptions (`webhookSubscriptionCreate`, GraphQL Admin API): how
`bridge connections add --register-webhooks` subscribes the bridge to a shop.

One subscription per topic, JSON, delivered to `uri` (the field Shopify reads from API
version 2025-10 on). Shopify signs the deliveries with the app's client secret, so there
is no secret in the answer: the connection keeps the one it was given. A topic already
subscribed to that address is reported by Shopify as a user error ("has already been
taken"): it counts as done, so the command can be run again after a partial failure.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from connectors.http import ProviderApiError
from connectors.shopify.graphql import ShopifyGraphQL

CREATE = """
mutation BridgeWebhookSubscriptionCreate(
  $topic: WebhookSubscriptionTopic!, $webhookSubscription: WebhookSubscriptionInput!
) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: $webhookSubscription) {
    webhookSubscription { id topic uri }
    userErrors { field message }
  }
}
"""
TAKEN = "already been taken"


def topic_enum(topic: str) -> str:
    """`orders/create` -> `ORDERS_CREATE` (Shopify's `WebhookSubscriptionTopic`)."""
    return topic.replace("/", "_").upper()


@dataclass(frozen=True)
class Subscribed:
    topic: str
    id: str | None  # None: it existed already


def subscribe(api: ShopifyGraphQL, uri: str, topics: Iterable[str]) -> list[Subscribed]:
    """Subscribe `uri` to each of `topics` (webhook topic names, e.g. `orders/create`).

    Raises:
        ProviderAuthError: the access token was refused (or lacks the scope).
        ProviderApiError: Shopify refused a subscription; the message names the topic.
    """
    done: list[Subscribed] = []
    for topic in sorted(topics):
        variables = {
            "topic": topic_enum(topic),
            "webhookSubscription": {"uri": uri, "format": "JSON"},
        }
        data = api.execute(CREATE, variables)
        payload = (data or {}).get("webhookSubscriptionCreate") or {}
        errors = payload.get("userErrors") or []
        if errors:
            messages = "; ".join(str(e.get("message")) for e in errors)
            if all(TAKEN in str(e.get("message")) for e in errors):
                done.append(Subscribed(topic, None))
                continue
            raise ProviderApiError(f"Shopify refused the {topic} subscription: {messages}")
        created = payload.get("webhookSubscription") or {}
        if not created.get("id"):
            raise ProviderApiError(f"Shopify answered the {topic} subscription without an id")
        done.append(Subscribed(topic, str(created["id"])))
    return done
