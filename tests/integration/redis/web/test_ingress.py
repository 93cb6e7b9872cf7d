"""Webhook ingress: accepted deliveries are recorded and queued; every rejection stores nothing."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Response

from bridge.embedded_redis import free_port
from bridge.services import Services, build_services
from bridge.settings import Settings
from bridge.web import create_app
from tests.support.webhooks import (
    STRIPE_SECRET,
    shopify_headers,
    stripe_event,
    stripe_headers,
    stripe_signature,
)

ORDER = json.dumps({"id": 450789469, "email": "jon@example.com", "total_price": "10.00"}).encode()


def outbox(services: Services) -> list[str]:
    return services.redis.lrange(services.events.outbox_key, 0, -1)  # type: ignore[return-value]


def assert_nothing_stored(redis_client: redis.Redis) -> None:
    assert redis_client.dbsize() == 0, redis_client.keys("*")


def test_shopify_delivery_is_recorded_and_queued(client: FlaskClient, services: Services) -> None:
    headers = shopify_headers(ORDER, webhook_id="wh-1")
    response = client.post("/webhooks/shopify", data=ORDER, headers=headers)
    assert response.status_code == 202
    assert response.json == {"id": "shopify:wh-1", "status": "queued"}
    record = services.events.get("shopify:wh-1")
    assert record is not None
    assert (record.topic, record.status, record.body) == ("orders/create", "queued", ORDER.decode())
    kept = {k: v for k, v in headers.items() if k != "Content-Type"}
    assert record.headers == kept
    assert outbox(services) == ["shopify:wh-1"]


def test_shopify_without_webhook_id_uses_the_event_id(
    client: FlaskClient, services: Services
) -> None:
    headers = shopify_headers(ORDER)
    del headers["X-Shopify-Webhook-Id"]
    response = client.post("/webhooks/shopify", data=ORDER, headers=headers)
    assert response.status_code == 202
    assert response.json["id"] == f"shopify:{headers['X-Shopify-Event-Id']}"


def test_stripe_delivery_is_recorded_and_queued(client: FlaskClient, services: Services) -> None:
    body = stripe_event("evt_abc")
    response = client.post("/webhooks/stripe", data=body, headers=stripe_headers(body))
    assert response.status_code == 202
    assert response.json == {"id": "stripe:evt_abc", "status": "queued"}
    record = services.events.get("stripe:evt_abc")
    assert record is not None
    assert (record.topic, record.body) == ("charge.succeeded", body.decode())
    assert outbox(services) == ["stripe:evt_abc"]


def test_a_rotated_secret_is_still_accepted(client: FlaskClient) -> None:
    body = stripe_event("evt_old")
    response = client.post("/webhooks/stripe", data=body, headers=stripe_headers(body, "whsec_old"))
    assert response.status_code == 202
    headers = shopify_headers(ORDER, secret="old-shopify-secret")
    assert client.post("/webhooks/shopify", data=ORDER, headers=headers).status_code == 202


def test_duplicate_delivery_is_acknowledged_and_queues_nothing(
    client: FlaskClient, services: Services
) -> None:
    body = stripe_event("evt_dup")
    first = client.post("/webhooks/stripe", data=body, headers=stripe_headers(body))
    again = client.post("/webhooks/stripe", data=body, headers=stripe_headers(body))
    assert (first.status_code, again.status_code) == (202, 200)
    assert again.json == {"id": "stripe:evt_dup", "status": "duplicate"}
    assert outbox(services) == ["stripe:evt_dup"]
    headers = shopify_headers(ORDER, webhook_id="wh-dup")
    codes = [
        client.post("/webhooks/shopify", data=ORDER, headers=headers).status_code for _ in "ab"
    ]
    assert codes == [202, 200]
    assert outbox(services) == ["shopify:wh-dup", "stripe:evt_dup"]


@pytest.mark.parametrize("provider", ["shopify", "stripe"])
def test_unknown_topic_is_recorded_as_ignored_and_not_queued(
    client: FlaskClient, services: Services, provider: str
) -> None:
    if provider == "shopify":
        body, headers = ORDER, shopify_headers(ORDER, topic="products/create", webhook_id="wh-x")
    else:
        body = stripe_event("evt_x", "customer.created")
        headers = stripe_headers(body)
    response = client.post(f"/webhooks/{provider}", data=body, headers=headers)
    assert response.status_code == 202
    assert response.json["status"] == "ignored"
    assert services.events.get(response.json["id"]).status == "ignored"  # type: ignore[union-attr]
    assert outbox(services) == []


def _shopify(**change: str | None) -> tuple[bytes, dict[str, str]]:
    headers = shopify_headers(ORDER)
    for name, value in change.items():
        key = name.replace("_", "-")
        if value is None:
            headers.pop(key)
        else:
            headers[key] = value
    return ORDER, headers


SHOPIFY_REJECTIONS = {
    "missing signature": (_shopify(**{"X-Shopify-Hmac-Sha256": None}), 401, "missing"),
    "wrong signature": (_shopify(**{"X-Shopify-Hmac-Sha256": "AAAA"}), 401, "does not match"),
    "wrong secret": ((ORDER, shopify_headers(ORDER, secret="nope")), 401, "does not match"),
    "wrong content type": (_shopify(**{"Content-Type": "text/plain"}), 415, "application/json"),
    "no content type": (_shopify(**{"Content-Type": None}), 415, "application/json"),
    "malformed json": ((b"{not json", shopify_headers(b"{not json")), 400, "not valid JSON"),
    "json not an object": ((b"[1, 2]", shopify_headers(b"[1, 2]")), 400, "JSON object"),
    "missing topic": (_shopify(**{"X-Shopify-Topic": None}), 400, "X-Shopify-Topic"),
    "missing shop": (_shopify(**{"X-Shopify-Shop-Domain": None}), 400, "X-Shopify-Shop-Domain"),
    "missing ids": (
        _shopify(**{"X-Shopify-Webhook-Id": None, "X-Shopify-Event-Id": None}),
        400,
        "X-Shopify-Webhook-Id",
    ),
    "id with spaces": (_shopify(**{"X-Shopify-Webhook-Id": "a b"}), 400, "provider_id"),
}


@pytest.mark.parametrize("case", SHOPIFY_REJECTIONS, ids=list(SHOPIFY_REJECTIONS))
def test_shopify_rejections_store_nothing(
    client: FlaskClient, redis_client: redis.Redis, case: str
) -> None:
    (body, headers), status, message = SHOPIFY_REJECTIONS[case]
    response = client.post("/webhooks/shopify", data=body, headers=headers)
    assert response.status_code == status
    assert message in response.json["detail"]
    assert_nothing_stored(redis_client)


def _stripe(body: bytes | None = None, **headers: str | None) -> tuple[bytes, dict[str, str]]:
    body = stripe_event() if body is None else body
    changes = {k.replace("_", "-"): v for k, v in headers.items()}
    merged: dict[str, str | None] = {**stripe_headers(body), **changes}
    return body, {k: v for k, v in merged.items() if v is not None}


def _stripe_rejections() -> dict[str, tuple[tuple[bytes, dict[str, str]], int, str]]:
    """Built when a test runs: the signatures carry the time, and a long suite must not
    find them out of tolerance by then."""
    now = int(time.time())
    return {
        "missing signature": (_stripe(Stripe_Signature=None), 401, "missing Stripe-Signature"),
        "malformed signature": (_stripe(Stripe_Signature="v1=abc"), 401, "malformed"),
        "wrong signature": (_stripe(Stripe_Signature=f"t={now},v1={'0' * 64}"), 401, "no v1"),
        "wrong secret": (
            _stripe(Stripe_Signature=stripe_signature(stripe_event(), "whsec_nope")),
            401,
            "no v1",
        ),
        "timestamp too old": (
            _stripe(Stripe_Signature=stripe_signature(stripe_event(), timestamp=now - 600)),
            400,
            "old; the tolerance is 300 s",
        ),
        "timestamp in the future": (
            _stripe(Stripe_Signature=stripe_signature(stripe_event(), timestamp=now + 600)),
            400,
            "in the future",
        ),
        "wrong content type": (_stripe(Content_Type="text/plain"), 415, "application/json"),
        "malformed json": (_stripe(b'{"id": "evt_1",'), 400, "not valid JSON"),
        "not an event": (
            _stripe(b'{"id": "ch_1", "type": "charge.succeeded"}'),
            400,
            "not a Stripe",
        ),
    }


STRIPE_REJECTIONS = list(_stripe_rejections())


@pytest.mark.parametrize("case", STRIPE_REJECTIONS, ids=STRIPE_REJECTIONS)
def test_stripe_rejections_store_nothing(
    client: FlaskClient, redis_client: redis.Redis, case: str
) -> None:
    (body, headers), status, message = _stripe_rejections()[case]
    response = client.post("/webhooks/stripe", data=body, headers=headers)
    assert response.status_code == status
    assert message in response.json["detail"]
    assert_nothing_stored(redis_client)


@pytest.mark.parametrize("provider", ["shopify", "stripe"])
def test_body_over_the_limit_is_413_and_stores_nothing(
    client: FlaskClient, redis_client: redis.Redis, settings: Settings, provider: str
) -> None:
    body = b'{"pad": "' + b"x" * settings.webhook_max_body + b'"}'
    headers = shopify_headers(body) if provider == "shopify" else stripe_headers(body)
    response = client.post(f"/webhooks/{provider}", data=body, headers=headers)
    assert response.status_code == 413
    assert response.json["error"] == "payload_too_large"
    assert_nothing_stored(redis_client)


def test_wrong_method_and_path_answer_json(client: FlaskClient, redis_client: redis.Redis) -> None:
    wrong_method = client.get("/webhooks/stripe")
    assert wrong_method.status_code == 405
    assert wrong_method.headers["Allow"] == "POST"
    assert wrong_method.json["error"] == "method_not_allowed"
    missing = client.post(
        "/webhooks/paypal", data=b"{}", headers={"Content-Type": "application/json"}
    )
    assert missing.status_code == 404
    assert missing.json["error"] == "not_found"
    assert_nothing_stored(redis_client)


def test_no_secret_configured_is_503_and_stores_nothing(
    redis_url: str, redis_client: redis.Redis
) -> None:
    services = build_services(Settings(REDIS_URL=redis_url))
    client = create_app(services=services).test_client()
    body = stripe_event()
    response = client.post("/webhooks/stripe", data=body, headers=stripe_headers(body))
    services.close()
    assert response.status_code == 503
    assert "no Stripe webhook secret" in response.json["detail"]
    assert_nothing_stored(redis_client)


@pytest.fixture
def unreachable_client() -> Iterator[FlaskClient]:
    settings = Settings(
        REDIS_URL=f"redis://127.0.0.1:{free_port()}/0",
        STRIPE_WEBHOOK_SECRET="whsec_test_secret",
        SHOPIFY_WEBHOOK_SECRET="shopify-test-secret",
    )
    services = build_services(settings)
    yield create_app(services=services).test_client()
    services.close()


@pytest.mark.parametrize("provider", ["shopify", "stripe"])
def test_redis_unreachable_is_503_never_2xx(unreachable_client: FlaskClient, provider: str) -> None:
    body = stripe_event() if provider == "stripe" else ORDER
    headers = stripe_headers(body) if provider == "stripe" else shopify_headers(body)
    response = unreachable_client.post(f"/webhooks/{provider}", data=body, headers=headers)
    assert response.status_code == 503
    assert response.json["error"] == "unavailable"
    assert response.headers["Retry-After"] == "5"


def test_a_header_made_by_the_official_stripe_library_is_accepted(client: FlaskClient) -> None:
    import stripe

    body = stripe_event("evt_official")
    header = stripe.WebhookSignature.generate_signature_header(body.decode(), STRIPE_SECRET)
    response = client.post(
        "/webhooks/stripe",
        data=body,
        headers={"Content-Type": "application/json", "Stripe-Signature": header},
    )
    assert response.status_code == 202


def test_deeply_nested_json_is_400_not_500(client: FlaskClient, redis_client: redis.Redis) -> None:
    body = b"[" * 100_000 + b"]" * 100_000
    response = client.post("/webhooks/shopify", data=body, headers=shopify_headers(body))
    assert response.status_code == 400
    assert response.json["error"] == "malformed_json"
    assert_nothing_stored(redis_client)


def test_a_content_length_that_is_not_a_number_is_400(
    app: Flask, redis_client: redis.Redis
) -> None:
    body = stripe_event()
    builder = EnvironBuilder(path="/webhooks/stripe", method="POST", data=body,
                             headers=stripe_headers(body))  # fmt: skip
    environ = builder.get_environ()
    environ["CONTENT_LENGTH"] = "12x"
    response = Response.from_app(app, environ)
    assert response.status_code == 400
    assert json.loads(response.get_data()) == {
        "error": "bad_request",
        "detail": "Content-Length is not a number",
    }
    assert_nothing_stored(redis_client)


def test_other_paths_are_served_by_flask(client: FlaskClient) -> None:
    assert client.get("/healthz").status_code == 200
    assert client.get("/webhooks/").json["error"] == "not_found"


def test_a_bug_is_a_json_500_that_is_logged_and_reported(
    client: FlaskClient,
    services: Services,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    reported: list[BaseException] = []
    monkeypatch.setattr("bridge.web.ingress.report", reported.append)

    def broken(event: object) -> bool:
        raise KeyError("a bug")

    monkeypatch.setattr(services.events, "record", broken)
    body = stripe_event("evt_bug")
    response = client.post("/webhooks/stripe", data=body, headers=stripe_headers(body))
    assert response.status_code == 500
    assert response.json["error"] == "internal_error"
    assert [type(exc) for exc in reported] == [KeyError]
    assert "unhandled error in the webhook ingress" in caplog.text


def test_every_topic_a_handler_acts_on_is_queued_by_the_ingress() -> None:
    from bridge.sync.dispatch import load_handlers, registered
    from connectors.shopify import webhook as shopify_webhook
    from connectors.stripe import webhook as stripe_webhook

    load_handlers()
    topics = {"shopify": shopify_webhook.TOPICS, "stripe": stripe_webhook.TOPICS}
    for provider, topic in registered(internal=False):
        assert topic in topics[provider], f"{provider} {topic} has a handler but is ignored"
    internal = set(registered()) - set(registered(internal=False))
    assert internal == {("shopify", "bridge/mark_paid"), ("shopify", "shopify_payments/payout")}
    for provider, topic in internal:  # recorded by the bridge itself, never by a webhook
        assert topic not in topics[provider]


def test_an_invoice_payment_is_queued(client: FlaskClient, services: Services) -> None:
    body = stripe_event("evt_inpay", "invoice_payment.paid", id="inpay_1", object="invoice_payment")
    response = client.post("/webhooks/stripe", data=body, headers=stripe_headers(body))
    assert response.json == {"id": "stripe:evt_inpay", "status": "queued"}
    assert outbox(services) == ["stripe:evt_inpay"]


@pytest.mark.parametrize("topic", ["invoice.voided", "invoice.marked_uncollectible"])
def test_voided_and_uncollectible_invoices_are_queued(
    client: FlaskClient, services: Services, topic: str
) -> None:
    ident = f"evt_{topic.replace('.', '_')}"
    body = stripe_event(ident, topic, id="in_1", object="invoice")
    response = client.post("/webhooks/stripe", data=body, headers=stripe_headers(body))
    assert response.json == {"id": f"stripe:{ident}", "status": "queued"}
    assert outbox(services) == [f"stripe:{ident}"]
