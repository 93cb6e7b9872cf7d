"""`deliver` and `Outbound` against a real HTTP subscriber, signatures checked by the
`standardwebhooks` reference library."""

from __future__ import annotations

import json

import pytest
import redis
from standardwebhooks import Webhook

from bridge.outbound.delivery import Outbound
from bridge.outbound.events import EventType, PaymentSettledData
from bridge.settings import Settings
from bridge.store.outbound import DeliveryStatus
from connectors.outbound import deliver, new_secret, signed_headers
from tests.support.subscriber import Subscriber

pytestmark = pytest.mark.integration

PAYMENT = PaymentSettledData(
    invoice_id="inv-9",
    operational_number="VT-0009",
    provider="stripe",
    document_number="pi_123",
    amount="19.99",
    currency="EUR",
    payment_method="Stripe",
    amount_due="0.00",
)


def post(subscriber: Subscriber, path: str, timeout: float = 2.0) -> object:
    body = b'{"type":"payment.settled"}'
    headers = signed_headers(new_secret(), "msg_x", 1_700_000_000, body)
    return deliver(subscriber.url(path), headers, body, timeout=timeout, allow_private=True)


def test_2xx_succeeds(subscriber: Subscriber) -> None:
    result = post(subscriber, "/ok")
    assert result.ok
    assert result.status_code == 204
    assert result.error is None
    assert result.duration_ms > 0
    (got,) = subscriber.received
    assert got.headers["Webhook-Id"] == "msg_x"
    assert got.body == b'{"type":"payment.settled"}'
    assert got.headers["Host"] == subscriber.base_url.removeprefix("http://")


def test_3xx_fails_and_is_not_followed(subscriber: Subscriber) -> None:
    result = post(subscriber, "/redirect")
    assert not result.ok
    assert result.status_code == 302
    assert [r.path for r in subscriber.received] == ["/redirect"]


def test_410_asks_to_disable(subscriber: Subscriber) -> None:
    result = post(subscriber, "/gone")
    assert result.disable
    assert result.status_code == 410
    assert result.excerpt == "gone for good"


@pytest.mark.parametrize(("path", "code", "wait"), [("/busy", 429, 7.0), ("/down", 503, 11.0)])
def test_retry_after_is_read(subscriber: Subscriber, path: str, code: int, wait: float) -> None:
    result = post(subscriber, path)
    assert not result.ok
    assert result.status_code == code
    assert result.retry_after == wait


def test_a_slow_subscriber_times_out(subscriber: Subscriber) -> None:
    result = post(subscriber, "/slow", timeout=0.3)
    assert not result.ok
    assert result.status_code is None
    assert result.error == "timed out after 0.3 s"
    assert result.duration_ms < 2000


def test_loopback_is_refused_unless_allowed(subscriber: Subscriber) -> None:
    result = deliver(subscriber.url("/ok"), {}, b"{}", timeout=1.0, allow_private=False)
    assert not result.ok
    assert "destination refused" in (result.error or "")
    assert subscriber.received == []


def test_a_connection_refused_is_a_failed_attempt() -> None:
    result = deliver("http://127.0.0.1:9/", {}, b"{}", timeout=1.0, allow_private=True)
    assert not result.ok
    assert result.status_code is None
    assert result.error


def test_emit_then_attempt_delivers_a_verifiable_webhook(
    subscriber: Subscriber, redis_url: str
) -> None:
    # given a subscription to payment.settled on a real local subscriber
    settings = Settings(redis_url=redis_url, outbound_allow_private=True, outbound_timeout=2.0)
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        outbound = Outbound(client, settings)
        sub, secret = outbound.create_subscription(subscriber.url("/ok"), ["payment.settled"])
        outbound.create_subscription(subscriber.url("/gone"), ["sync.failed"])

        # when an event is emitted and its due delivery attempted
        event_id = outbound.emit(EventType.PAYMENT_SETTLED, PAYMENT)
        (delivery_id,) = outbound.claim_due()
        attempt = outbound.attempt(delivery_id)

        # then the subscriber got one signed Standard Webhooks message
        assert attempt is not None
        assert attempt.ok
        assert attempt.status_code == 204
        (got,) = subscriber.received
        payload = Webhook(secret).verify(got.body, got.headers)
        assert got.headers["Webhook-Id"] == event_id
        assert payload["type"] == "payment.settled"
        assert payload["data"]["amount"] == "19.99"
        assert payload["data"]["amount_due"] == "0.00"
        assert json.loads(got.body)["timestamp"].endswith("Z")
        assert outbound.delivery(delivery_id).status is DeliveryStatus.SUCCEEDED
        assert [d.subscription_id for d in outbound.deliveries()] == [sub.id]
    finally:
        client.close()
