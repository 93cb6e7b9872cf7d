"""Provider webhooks: verify, record and queue (one atomic Redis call), then acknowledge.

Each request is checked in this order, and each rejection has its own answer; none of them
touches Redis: body over the limit 413, not JSON content type 415, signature missing or
wrong 401, Stripe timestamp outside the tolerance 400, body not JSON 400, delivery not
identifiable 400 (and 503 while no secret is configured). Then the event is recorded and
queued in ONE Lua call (`EventStore.record`) before any 2xx: 202 for a new event (queued,
or recorded as ignored when the topic is not one we act on), 200 for a duplicate delivery,
503 if Redis is away. Nothing outside Redis is called inside the request.
"""

from __future__ import annotations

import json
import logging

from flask import Blueprint, Response, request

from bridge.observability import log_context
from bridge.services import Services
from bridge.store.events import EventStatus, NewEvent
from bridge.web.common import current_services, json_error
from connectors.shopify import webhook as shopify
from connectors.stripe import webhook as stripe_webhook

bp = Blueprint("ingress", __name__, url_prefix="/webhooks")
log = logging.getLogger(__name__)


def _too_large(limit: int) -> Response:
    return json_error(413, "payload_too_large", f"the body is over {limit} bytes")


def _raw_body(configured: bool, provider: str, limit: int) -> bytes | Response:
    """The raw body after the checks that need no body: size, content type, a secret."""
    if request.content_length is not None and request.content_length > limit:
        return _too_large(limit)
    if request.mimetype != "application/json":
        return json_error(415, "unsupported_media_type", "Content-Type must be application/json")
    if not configured:
        return json_error(
            503, "not_configured", f"no {provider} webhook secret is configured on this bridge"
        )
    # At most limit + 1 bytes (MAX_CONTENT_LENGTH): a chunked body over the limit shows here.
    body = request.get_data(cache=False)
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


def _accept(services: Services, event: NewEvent) -> Response:
    """Record and queue `event` (one atomic call) and acknowledge it."""
    new = services.events.record(event)
    outcome = event.status.value if new else "duplicate"
    # The context is only for this line: skip setting it when the line is not written.
    if log.isEnabledFor(logging.INFO):
        with log_context(provider=event.provider, event_id=event.ref):
            log.info("webhook %s %s: %s", event.provider, event.topic, outcome)
    # Built by hand rather than with jsonify: this is the hot path, and the shape is fixed.
    payload = json.dumps({"id": event.ref, "status": outcome})
    return Response(payload, status=202 if new else 200, mimetype="application/json")


@bp.post("/shopify")
def shopify_webhook() -> Response:
    """A Shopify webhook delivery."""
    services = current_services()
    settings = services.settings
    body = _raw_body(bool(settings.shopify_secrets), "Shopify", settings.webhook_max_body)
    if isinstance(body, Response):
        return body
    signature = request.headers.get(shopify.SIGNATURE_HEADER)
    try:
        shopify.verify(body, signature, settings.shopify_secrets)
    except shopify.SignatureError as exc:
        return json_error(401, "invalid_signature", str(exc))
    data = _json_object(body)
    if isinstance(data, Response):
        return data
    try:
        envelope = shopify.parse_envelope(dict(request.headers))
        event = NewEvent(
            provider="shopify",
            provider_id=envelope.delivery_id,
            topic=envelope.topic,
            body=body.decode("utf-8"),
            headers={**envelope.headers, shopify.SIGNATURE_HEADER: signature or ""},
            status=EventStatus.QUEUED if envelope.topic in shopify.TOPICS else EventStatus.IGNORED,
        )
    except ValueError as exc:  # EnvelopeError, pydantic's ValidationError
        return json_error(400, "invalid_delivery", str(exc))
    return _accept(services, event)


@bp.post("/stripe")
def stripe_webhook_view() -> Response:
    """A Stripe webhook delivery."""
    services = current_services()
    settings = services.settings
    body = _raw_body(bool(settings.stripe_secrets), "Stripe", settings.webhook_max_body)
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
    except ValueError as exc:  # EnvelopeError, pydantic's ValidationError
        return json_error(400, "invalid_delivery", str(exc))
    return _accept(services, event)
