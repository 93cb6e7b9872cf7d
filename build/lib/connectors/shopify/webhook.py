"""Shopify webhook verification and envelope: who sent it, what it is, which delivery.

Shopify signs the raw body: `X-Shopify-Hmac-Sha256` is the base64 HMAC-SHA256 of the body
keyed with the app's client secret. Several secrets are accepted so a secret can be rotated
without losing deliveries; every comparison is constant-time.

The delivery id is `X-Shopify-Webhook-Id`, falling back to the older `X-Shopify-Event-Id`;
both are kept, with the topic, shop domain, API version and triggered-at time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping, Sequence

from pydantic import BaseModel, ConfigDict, Field, ValidationError

SIGNATURE_HEADER = "X-Shopify-Hmac-Sha256"
KEPT_HEADERS = (
    "X-Shopify-Topic",
    "X-Shopify-Shop-Domain",
    "X-Shopify-API-Version",
    "X-Shopify-Triggered-At",
    "X-Shopify-Webhook-Id",
    "X-Shopify-Event-Id",
)

# Topics the bridge acts on (DESIGN.md 4b); others are recorded and ignored.
TOPICS = frozenset(
    {
        "orders/create",
        "orders/updated",
        "orders/edited",
        "orders/paid",
        "orders/cancelled",
        "order_transactions/create",
        "refunds/create",
    }
)


class SignatureError(Exception):
    """The delivery is not proven to come from Shopify; the message says why."""


class EnvelopeError(ValueError):
    """The delivery is signed but its headers cannot identify it; the message says why."""


def sign(body: bytes, secret: bytes) -> str:
    """The `X-Shopify-Hmac-Sha256` value for `body` under `secret`."""
    return base64.b64encode(hmac.new(secret, body, hashlib.sha256).digest()).decode()


def verify(body: bytes, header: str | None, secrets: Sequence[bytes]) -> None:
    """Check that `header` is the HMAC of `body` under one of `secrets`.

    Raises:
        SignatureError: the header is missing or malformed, or matches no secret.
    """
    if not header:
        raise SignatureError(f"missing {SIGNATURE_HEADER} header")
    try:
        given = base64.b64decode(header.strip(), validate=True)
    except ValueError as exc:
        raise SignatureError(f"{SIGNATURE_HEADER} is not base64") from exc
    matched = False
    for secret in secrets:
        expected = hmac.new(secret, body, hashlib.sha256).digest()
        # No early exit: the time taken does not tell which secret matched.
        matched |= hmac.compare_digest(given, expected)
    if not matched:
        raise SignatureError(f"{SIGNATURE_HEADER} does not match the body")


class ShopifyEnvelope(BaseModel):
    """What the headers say about one delivery."""

    model_config = ConfigDict(frozen=True)

    topic: str = Field(min_length=1, max_length=200)
    shop_domain: str | None = None
    api_version: str | None = None
    triggered_at: str | None = None
    webhook_id: str | None = None
    event_id: str | None = None
    headers: dict[str, str]

    @property
    def delivery_id(self) -> str:
        return self.webhook_id or self.event_id or ""


def parse_envelope(headers: Mapping[str, str]) -> ShopifyEnvelope:
    """Read the envelope from the request headers (case-insensitive mapping).

    Raises:
        EnvelopeError: no topic, no shop domain, or neither a webhook id nor an event id.
    """
    # Header names are case-insensitive; servers hand them over in various spellings.
    given = {name.lower(): value for name, value in headers.items()}
    kept = {name: given[name.lower()] for name in KEPT_HEADERS if given.get(name.lower())}
    topic = kept.get("X-Shopify-Topic")
    if not topic:
        raise EnvelopeError("missing X-Shopify-Topic header")
    if not kept.get("X-Shopify-Shop-Domain"):
        # Every order is booked under its shop: without it, the delivery cannot be placed.
        raise EnvelopeError("missing X-Shopify-Shop-Domain header")
    if not kept.get("X-Shopify-Webhook-Id") and not kept.get("X-Shopify-Event-Id"):
        raise EnvelopeError("missing X-Shopify-Webhook-Id (and X-Shopify-Event-Id) header")
    try:
        return ShopifyEnvelope(
            topic=topic,
            shop_domain=kept.get("X-Shopify-Shop-Domain"),
            api_version=kept.get("X-Shopify-API-Version"),
            triggered_at=kept.get("X-Shopify-Triggered-At"),
            webhook_id=kept.get("X-Shopify-Webhook-Id"),
            event_id=kept.get("X-Shopify-Event-Id"),
            headers=kept,
        )
    except ValidationError as exc:
        raise EnvelopeError(f"invalid Shopify headers: {exc.errors()[0]['msg']}") from exc
