"""Shopify signature verification and envelope, against the documented algorithm."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from connectors.shopify import webhook

BODY = b'{"id": 820982911946154508, "email": "jon@example.com"}'
SECRET = b"shpss_current"


def reference_signature(body: bytes, secret: bytes) -> str:
    """Shopify's documented algorithm, written out independently of the module."""
    return base64.b64encode(hmac.new(secret, body, hashlib.sha256).digest()).decode()


def test_sign_is_base64_hmac_sha256_of_the_raw_body() -> None:
    assert webhook.sign(BODY, SECRET) == reference_signature(BODY, SECRET)


def test_verify_accepts_the_right_signature() -> None:
    webhook.verify(BODY, reference_signature(BODY, SECRET), [SECRET])


def test_verify_accepts_any_configured_secret_for_rotation() -> None:
    header = reference_signature(BODY, b"shpss_old")
    webhook.verify(BODY, header, [SECRET, b"shpss_old"])


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (None, "missing X-Shopify-Hmac-Sha256"),
        ("", "missing X-Shopify-Hmac-Sha256"),
        ("not base64!", "is not base64"),
        (reference_signature(BODY, b"wrong"), "does not match"),
        (reference_signature(BODY + b" ", SECRET), "does not match"),
    ],
)
def test_verify_rejects_with_a_message_of_its_own(header: str | None, message: str) -> None:
    with pytest.raises(webhook.SignatureError, match=message):
        webhook.verify(BODY, header, [SECRET])


def test_verify_with_no_secret_rejects() -> None:
    with pytest.raises(webhook.SignatureError):
        webhook.verify(BODY, reference_signature(BODY, SECRET), [])


HEADERS = {
    "X-Shopify-Topic": "orders/create",
    "X-Shopify-Shop-Domain": "demo.myshopify.com",
    "X-Shopify-API-Version": "2025-01",
    "X-Shopify-Triggered-At": "2025-01-02T03:04:05Z",
    "X-Shopify-Webhook-Id": "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
    "X-Shopify-Event-Id": "98880550-7158-44d4-b7cd-2c97c8a091b5",
    "X-Other": "dropped",
}


def test_envelope_keeps_both_ids_and_the_delivery_headers() -> None:
    envelope = webhook.parse_envelope(HEADERS)
    assert envelope.topic == "orders/create"
    assert envelope.shop_domain == "demo.myshopify.com"
    assert envelope.api_version == "2025-01"
    assert envelope.triggered_at == "2025-01-02T03:04:05Z"
    assert envelope.delivery_id == HEADERS["X-Shopify-Webhook-Id"]
    assert envelope.event_id == HEADERS["X-Shopify-Event-Id"]
    assert "X-Other" not in envelope.headers
    assert len(envelope.headers) == 6


def test_envelope_falls_back_to_the_event_id() -> None:
    headers = {k: v for k, v in HEADERS.items() if k != "X-Shopify-Webhook-Id"}
    assert webhook.parse_envelope(headers).delivery_id == HEADERS["X-Shopify-Event-Id"]


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        (("X-Shopify-Topic",), "X-Shopify-Topic"),
        (("X-Shopify-Webhook-Id", "X-Shopify-Event-Id"), "X-Shopify-Webhook-Id"),
    ],
)
def test_envelope_without_topic_or_id_is_rejected(missing: tuple[str, ...], message: str) -> None:
    headers = {k: v for k, v in HEADERS.items() if k not in missing}
    with pytest.raises(webhook.EnvelopeError, match=message):
        webhook.parse_envelope(headers)


def test_envelope_reads_headers_in_any_case() -> None:
    lowered = {k.lower(): v for k, v in HEADERS.items()}
    envelope = webhook.parse_envelope(lowered)
    assert envelope.api_version == "2025-01"
    assert envelope.headers["X-Shopify-API-Version"] == "2025-01"
