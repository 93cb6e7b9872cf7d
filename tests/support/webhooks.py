"""Correctly signed provider webhook requests, for tests that feed the real ingress.

Signatures are computed here with each provider's documented algorithm (not with the
bridge's own code), so a test that passes proves the bridge verifies what providers send.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from typing import Any

SHOPIFY_SECRET = "shopify-test-secret"
STRIPE_SECRET = "whsec_test_secret"


def shopify_headers(
    body: bytes,
    topic: str = "orders/create",
    webhook_id: str | None = None,
    secret: str = SHOPIFY_SECRET,
    shop: str = "demo.myshopify.com",
) -> dict[str, str]:
    """Headers Shopify sends with `body`: base64 HMAC-SHA256 of the raw body, ids, topic."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return {
        "Content-Type": "application/json",
        "X-Shopify-Hmac-Sha256": base64.b64encode(digest).decode(),
        "X-Shopify-Topic": topic,
        "X-Shopify-Shop-Domain": shop,
        "X-Shopify-API-Version": "2025-01",
        "X-Shopify-Triggered-At": "2025-01-02T03:04:05.000Z",
        "X-Shopify-Webhook-Id": webhook_id or str(uuid.uuid4()),
        "X-Shopify-Event-Id": str(uuid.uuid4()),
    }


def stripe_signature(body: bytes, secret: str = STRIPE_SECRET, timestamp: int | None = None) -> str:
    """`Stripe-Signature: t=...,v1=...`: hex HMAC-SHA256 of `"<t>.<body>"`."""
    ts = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={ts},v1={mac}"


def stripe_event(
    event_id: str = "evt_test_1", type_: str = "charge.succeeded", **data: Any
) -> bytes:
    """A minimal Stripe event body."""
    event = {
        "id": event_id,
        "object": "event",
        "type": type_,
        "created": int(time.time()),
        "livemode": False,
        "data": {"object": data or {"id": "ch_1", "object": "charge", "amount": 1234}},
    }
    return json.dumps(event).encode()


def stripe_headers(
    body: bytes, secret: str = STRIPE_SECRET, timestamp: int | None = None
) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "Stripe-Signature": stripe_signature(body, secret, timestamp),
    }
