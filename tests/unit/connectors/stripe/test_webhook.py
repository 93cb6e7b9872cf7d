"""Stripe signature verification: the official library agrees, and the future is rejected too."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest
import stripe

from connectors.stripe import webhook

SECRET = "whsec_current"
BODY = json.dumps({"id": "evt_1", "object": "event", "type": "charge.succeeded"}).encode()
NOW = 1_750_000_000


def v1(body: bytes, secret: str, timestamp: int) -> str:
    """Stripe's documented scheme, written out independently: HMAC-SHA256 of `t.body`."""
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def test_sign_matches_the_documented_scheme() -> None:
    assert webhook.sign(BODY, SECRET, NOW) == f"t={NOW},v1={v1(BODY, SECRET, NOW)}"


def test_the_official_library_accepts_our_signature() -> None:
    now = int(time.time())
    event = stripe.Webhook.construct_event(BODY, webhook.sign(BODY, SECRET, now), SECRET)
    assert event["id"] == "evt_1"


def test_verify_accepts_and_returns_the_timestamp() -> None:
    header = f"t={NOW},v1={v1(BODY, SECRET, NOW)}"
    assert webhook.verify(BODY, header, [SECRET], now=NOW + 10) == NOW


def test_verify_accepts_any_of_several_v1_and_several_secrets() -> None:
    header = f"t={NOW},v1={'0' * 64},v1={v1(BODY, 'whsec_old', NOW)},v0=abc"
    assert webhook.verify(BODY, header, [SECRET, "whsec_old"], now=NOW) == NOW


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (None, "missing Stripe-Signature"),
        ("", "missing Stripe-Signature"),
        ("v1=abc", "malformed"),
        (f"t=soon,v1={v1(BODY, SECRET, NOW)}", "malformed"),
        (f"t={NOW}", "no v1 signature"),
        (f"t={NOW},v1={v1(BODY, 'whsec_other', NOW)}", "no v1 signature"),
        (f"t={NOW + 1},v1={v1(BODY, SECRET, NOW)}", "no v1 signature"),
    ],
)
def test_verify_rejects_bad_signatures(header: str | None, message: str) -> None:
    with pytest.raises(webhook.SignatureError, match=message):
        webhook.verify(BODY, header, [SECRET], now=NOW)


@pytest.mark.parametrize(("skew", "word"), [(-301, "old"), (301, "in the future")])
def test_verify_rejects_timestamps_outside_tolerance_both_ways(skew: int, word: str) -> None:
    signed_at = NOW + skew
    header = f"t={signed_at},v1={v1(BODY, SECRET, signed_at)}"
    with pytest.raises(webhook.TimestampError, match=word):
        webhook.verify(BODY, header, [SECRET], tolerance=300, now=NOW)


def test_the_official_library_alone_accepts_a_future_timestamp() -> None:
    """Why we check the future ourselves: the library only looks at the past."""
    future = int(time.time()) + 3600
    header = f"t={future},v1={v1(BODY, SECRET, future)}"
    stripe.WebhookSignature.verify_header(BODY.decode(), header, SECRET, tolerance=300)
    with pytest.raises(webhook.TimestampError):
        webhook.verify(BODY, header, [SECRET])


def test_verify_at_the_edge_of_tolerance_accepts() -> None:
    for skew in (-300, 300):
        header = f"t={NOW + skew},v1={v1(BODY, SECRET, NOW + skew)}"
        webhook.verify(BODY, header, [SECRET], tolerance=300, now=NOW)


def test_non_utf8_body_is_a_signature_error() -> None:
    with pytest.raises(webhook.SignatureError, match="UTF-8"):
        webhook.verify(b"\xff\xfe", f"t={NOW},v1=00", [SECRET], now=NOW)


def test_envelope_reads_id_and_type() -> None:
    envelope = webhook.parse_envelope({"id": "evt_1", "type": "invoice.paid", "created": NOW})
    assert (envelope.id, envelope.type, envelope.created) == ("evt_1", "invoice.paid", NOW)


@pytest.mark.parametrize(
    "data",
    [
        [],
        {"type": "invoice.paid"},
        {"id": "ch_1", "type": "x"},
        {"id": "evt_1"},
        {"id": "evt_1", "type": ""},
    ],
)
def test_envelope_rejects_what_is_not_an_event(data: object) -> None:
    with pytest.raises(webhook.EnvelopeError, match="not a Stripe event"):
        webhook.parse_envelope(data)
