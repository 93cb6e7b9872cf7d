"""Provider webhooks: verify, record and queue (one atomic Redis call), then acknowledge.

Each request is checked in this order, and each rejection has its own answer; none of them
touches Redis: body over the limit 413, not JSON content type 415, signature missing or
wrong 401, Stripe timestamp outside the tolerance 400, body not JSON 400, delivery not
identifiable 400. Then the event is recorded and queued in ONE Lua call
(`EventStore.record`) before any 2xx: 202 for a new event (queued, or recorded as ignored
when the topic is not one we act on), 200 for a duplicate delivery, 503 if Redis is away.
Nothing outside Redis is called inside the request.
"""

from __future__ import annotations

import json
import logging

from flask import Blueprint, Response, jsonify, request

from bridge.observability import log_context
from bridge.store.events import EventStatus, NewEvent
from bridge.web.common import current_services, json_error
from connectors.shopify import webhook as shopify
from connectors.stripe import webhook as stripe_webhook

bp = Blueprint("ingress", __name__, url_prefix="/webhooks")
log = logging.getLogger(__name__)


def _too_large(limit: int) -> Response:
    return json_error(413, "payload_too_large", f"the body is over {limit} bytes")


def _precheck() -> Response | None:
    """Size and content type, before the body is read."""
    limit = current_services().settings.webhook_max_body
    if request.content_length is not None and request.content_length > limit:
        return _too_large(limit)
    if request.mimetype != "application/json":
        return json_error(415, "unsupported_media_type", "Content-Type must be application/json")
    return None


def _read_body() -> bytes | Response:
    """The raw body, or 413 if a body without Content-Length (chunked) runs over the limit."""
    limit = current_services().settings.webhook_max_body
    body = request.get_data(cache=False)  # at most limit + 1 bytes (MAX_CONTENT_LENGTH)
    return _too_large(limit) if len(body) > limit else body


def _json_object(body: bytes) -> dict[str, object] | Response:
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return json_error(400, "malformed_json", f"the body is not valid JSON: {exc}")
    except RecursionError:
        return json_error(400, "malformed_json", "the body's JSON is nested too deeply")
    if not isinstance(data, dict):
        return json_error(400, "malformed_json", "the body must be a JSON object")
    return data


def _accept(event: NewEvent) -> Response:
    """Record and queue `event` (one atomic call) and acknowledge it."""
    with log_context(provider=event.provider, event_id=event.ref):
        new = current_services().events.record(event)
        outcome = event.status.value if new else "duplicate"
        log.info("webhook %s %s: %s", event.provider, event.topic, outcome)
    response = jsonify({"id": event.ref, "status": outcome})
    response.status_code = 202 if new else 200
    return response


def _not_configured(provider: str) -> Response:
    return json_error(
        503, "not_configured", f"no {provider} webhook secret is configured on this bridge"
    )


@bp.post("/shopify")
def shopify_webhook() -> Response:
    """A Shopify webhook delivery."""
    rejected = _precheck()
    if rejected is not None:
        return rejected
    settings = current_services().settings
    if not settings.shopify_secrets:
        return _not_configured("Shopify")
    body = _read_body()
    if isinstance(body, Response):
        return body
    try:
        shopify.verify(
            body, request.headers.get(shopify.SIGNATURE_HEADER), settings.shopify_secrets
        )
    except shopify.SignatureError as exc:
        return json_error(401, "invalid_signature", str(exc))
    data = _json_object(body)
    if isinstance(data, Response):
        return data
    try:
        envelope = shopify.parse_envelope(dict(request.headers))
        headers = {
            **envelope.headers,
            shopify.SIGNATURE_HEADER: request.headers[shopify.SIGNATURE_HEADER],
        }
        event = NewEvent(
            provider="shopify",
            provider_id=envelope.delivery_id,
            topic=envelope.topic,
            body=body.decode("utf-8"),
            headers=headers,
            status=EventStatus.QUEUED if envelope.topic in shopify.TOPICS else EventStatus.IGNORED,
        )
    except ValueError as exc:  # EnvelopeError, pydantic's ValidationError
        return json_error(400, "invalid_delivery", str(exc))
    return _accept(event)


@bp.post("/stripe")
def stripe_webhook_view() -> Response:
    """A Stripe webhook delivery."""
    rejected = _precheck()
    if rejected is not None:
        return rejected
    settings = current_services().settings
    if not settings.stripe_secrets:
        return _not_configured("Stripe")
    body = _read_body()
    if isinstance(body, Response):
        return body
    header = request.headers.get(stripe_webhook.SIGNATURE_HEADER)
    try:
        stripe_webhook.verify(body, header, settings.stripe_secrets, settings.stripe_tolerance)
    except stripe_webhook.SignatureError as exc:
        return json_error(401, "invalid_signature", str(exc))
    except stripe_webhook.TimestampError as exc:
        return json_error(400, "timestamp_out_of_tolerance", str(exc))
    data = _json_object(body)
    if isinstance(data, Response):
        return data
    try:
        envelope = stripe_webhook.parse_envelope(data)
        known = envelope.type in stripe_webhook.TOPICS
        event = NewEvent(
            provider="stripe",
            provider_id=envelope.id,
            topic=envelope.type,
            body=body.decode("utf-8"),
            headers={stripe_webhook.SIGNATURE_HEADER: header or ""},
            status=EventStatus.QUEUED if known else EventStatus.IGNORED,
        )
    except ValueError as exc:
        return json_error(400, "invalid_delivery", str(exc))
    return _accept(event)
