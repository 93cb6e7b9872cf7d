"""Provider webhooks: verify, record and queue (one atomic Redis call), then acknowledge.

`POST /webhooks/shopify` and `POST /webhooks/stripe` are served by `WebhookIngress`, a plain
WSGI callable that `create_app` puts in front of the Flask app; every other path goes on to
Flask. Why not Flask views: the ingress is the bridge's one hot path, and it needs nothing
of Flask's machinery (request context, URL adapter, sessions, Request and Response objects).
Measured with `bench/ingress.py` on 2 cores, that machinery cost more CPU per webhook than
verifying and recording it together; without it the same cores accept about twice as many
webhooks per second. The answers are the same JSON as the rest of the app
(`{"error": <slug>, "detail": ...}`).

Each request is checked in this order, and each rejection has its own answer; none of them
touches Redis: method other than POST 405, body over the limit 413 (the rest of the body read
and discarded first, bounded, and `Connection: close`: see `_too_large`), not JSON content type
415, no secret configured 503, signature missing or wrong 401, Stripe timestamp outside the
tolerance 400, body not JSON 400, delivery not identifiable 400. Then the event is recorded
and queued in ONE Lua call (`EventStore.record`) before any 2xx: 202 for a new event
(queued, or recorded as ignored when the topic is not one we act on), 200 for a duplicate
delivery, 503 if Redis is away. Nothing outside Redis is called inside the request, and an
unexpected error is logged, reported to Sentry and answered 500 in the same JSON shape.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

import redis

from bridge.connections.hub import ServicesHub
from bridge.connections.secrets import SecretKeyError
from bridge.observability import log_context, report
from bridge.services import Services
from bridge.store.events import EventStatus, NewEvent
from connectors.shopify import webhook as shopify
from connectors.stripe import webhook as stripe_webhook

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger(__name__)

PREFIX = "/webhooks/"
REDIS_DOWN = ("unavailable", "the event store is unreachable; retry later")
JSON_TYPE = ("Content-Type", "application/json")
Answer = tuple[int, dict[str, Any], list[tuple[str, str]]]  # status, JSON body, extra headers
# A provider's checks: the event and the connection it is for, or Rejection.
Route = Callable[["WSGIEnvironment"], tuple[Services, NewEvent]]
STRIPE_ENDPOINT = PREFIX + "stripe/"  # + a connection's name
SHOP_HEADER = "X-Shopify-Shop-Domain"
CONNECTION_HEADER = "X-Bridge-Connection"  # kept with a registered connection's events


# How much of an oversized body is read and thrown away so that its sender gets the 413
# (see `_drain`): bounded in bytes and time, so a huge or slow body cannot hold a thread.
DRAIN_MAX_BYTES = 64 * 1024 * 1024
DRAIN_SECONDS = 10.0
DRAIN_CHUNK = 256 * 1024
CLOSE = ("Connection", "close")


class Rejection(Exception):
    """A request the ingress refuses: its status, error slug and human-readable detail."""

    def __init__(self, status: int, error: str, detail: str, close: bool = False) -> None:
        super().__init__(detail)
        self.status, self.error, self.detail = status, error, detail
        self.close = close  # answer `Connection: close` (the rest of the body was not read)


def _too_large(environ: WSGIEnvironment, limit: int, remaining: int | None) -> Rejection:
    """Read and discard the rest of an oversized body, then the 413 to answer with.

    A server that answers while the client is still sending, then closes, makes the kernel
    reset the connection (unread data was left in it): the client sees a reset, often
    before it reads the answer, instead of the 413. So, as mature servers do, the rest of
    the body is read and thrown away, at most `DRAIN_MAX_BYTES` within `DRAIN_SECONDS`
    (`remaining`: bytes still to come, None for a chunked body read to its end), and the
    413 says `Connection: close`: the client opens a new connection for what follows.
    """
    stream = environ["wsgi.input"]
    deadline = time.monotonic() + DRAIN_SECONDS
    budget = DRAIN_MAX_BYTES if remaining is None else min(remaining, DRAIN_MAX_BYTES)
    # A client that went away (any error reading) leaves nothing to answer.
    with contextlib.suppress(Exception):
        while budget > 0 and time.monotonic() < deadline:
            chunk = stream.read(min(DRAIN_CHUNK, budget))
            if not chunk:
                break
            budget -= len(chunk)
    return Rejection(413, "payload_too_large", f"the body is over {limit} bytes", close=True)


def _header(environ: WSGIEnvironment, name: str) -> str | None:
    """The request header `name` (as spelled in the HTTP spec), or None."""
    value = environ.get("HTTP_" + name.upper().replace("-", "_"))
    return str(value) if value is not None else None


def _declared_length(environ: WSGIEnvironment) -> int | None:
    """The request's Content-Length, or None when it has none (a chunked body).

    Raises:
        Rejection: 400 for a Content-Length that is not a number.
    """
    declared = environ.get("CONTENT_LENGTH")
    if not declared:
        return None
    if not str(declared).isdigit():
        raise Rejection(400, "bad_request", "Content-Length is not a number")
    return int(declared)


def _read_body(environ: WSGIEnvironment, length: int | None, limit: int) -> bytes:
    """The raw body, at most `limit` bytes, also when it is chunked (no Content-Length).

    Raises:
        Rejection: 413 for a chunked body over the limit, 400 if the server could not read
            it (the client went away, a malformed chunk).
    """
    stream = environ["wsgi.input"]
    try:
        if length is not None:
            return bytes(stream.read(length)) if length > 0 else b""
        if not environ.get("wsgi.input_terminated"):
            return b""  # WSGI: no Content-Length and no terminated stream means no body
        body = bytes(stream.read(limit + 1))  # chunked: the server ends the stream for us
    except Exception as exc:  # noqa: BLE001 - any failure to read is the request's (below)
        # Only the server's reading of this request can fail here: the client went away, or
        # sent a malformed chunk (werkzeug raises OSError, gunicorn its own ParseException).
        raise Rejection(400, "unreadable_body", f"the body could not be read: {exc}") from None
    if len(body) > limit:
        raise _too_large(environ, limit, None)
    return body


def _json_object(body: bytes) -> dict[str, object]:
    """The body parsed as a JSON object.

    Raises:
        Rejection: 400 if it is not JSON, or not an object.
    """
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise Rejection(400, "malformed_json", f"the body is not valid JSON: {exc}") from None
    except RecursionError:
        raise Rejection(400, "malformed_json", "the body's JSON is nested too deeply") from None
    if not isinstance(data, dict):
        raise Rejection(400, "malformed_json", "the body must be a JSON object")
    return data


class WebhookIngress:
    """WSGI: the provider webhook routes; any other path is passed on to `app`.

    Each delivery is recorded in its connection's ledger (`bridge.connections.hub`):
    Shopify's by `X-Shopify-Shop-Domain`, Stripe's by the event's `account` (Connect) or the
    endpoint `/webhooks/stripe/<connection>`; anything else is the environment's connection.
    """

    def __init__(
        self, services: Services, app: WSGIApplication, hub: ServicesHub | None = None
    ) -> None:
        self._services = services
        self._settings = services.settings
        self._hub = hub or ServicesHub(services)
        self._app = app
        self._routes: dict[str, Route] = {
            PREFIX + "shopify": self._shopify,
            PREFIX + "stripe": self._stripe,
        }

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        route = self._routes.get(path)
        if route is None and path.startswith(STRIPE_ENDPOINT):
            route = self._stripe
        if route is None:
            return self._app(environ, start_response)
        status, payload, headers = self._answer(route, environ)
        body = json.dumps(payload).encode()
        headers += [JSON_TYPE, ("Content-Length", str(len(body)))]
        start_response(f"{status} {HTTPStatus(status).phrase}", headers)
        return [body]

    def _answer(self, route: Route, environ: WSGIEnvironment) -> Answer:
        if environ.get("REQUEST_METHOD") != "POST":
            detail = "webhooks are delivered with POST"
            return 405, {"error": "method_not_allowed", "detail": detail}, [("Allow", "POST")]
        try:
            return self._accept(route(environ))
        except Rejection as rejection:
            headers = [CLOSE] if rejection.close else []
            return rejection.status, {"error": rejection.error, "detail": rejection.detail}, headers
        except redis.RedisError as exc:
            log.warning("Redis unreachable: %s", exc)
            error, detail = REDIS_DOWN
            return 503, {"error": error, "detail": detail}, [("Retry-After", "5")]
        except Exception as exc:  # a bug: no client input should get here
            log.exception("unhandled error in the webhook ingress")
            report(exc)
            detail = "an unexpected error occurred; it was logged"
            return 500, {"error": "internal_error", "detail": detail}, []

    def _accept(self, accepted: tuple[Services, NewEvent]) -> Answer:
        """Record and queue the event in its connection's ledger (one atomic call), then
        acknowledge it."""
        services, event = accepted
        new = services.events.record(event)
        outcome = event.status.value if new else "duplicate"
        # The context is only for this line: skip setting it when the line is not written.
        if log.isEnabledFor(logging.INFO):
            name = services.settings.connection
            with log_context(provider=event.provider, event_id=event.ref, connection=name):
                log.info("webhook %s %s: %s", event.provider, event.topic, outcome)
        return (202 if new else 200), {"id": event.ref, "status": outcome}, []

    def _tag(self, target: Services) -> dict[str, str]:
        """The record's note of its connection (a registered one; none for the env's)."""
        if target is self._services:
            return {}
        return {CONNECTION_HEADER: target.settings.connection}

    def _connection(self, name: str) -> Services:
        """A registered connection's Services.

        Raises:
            Rejection: 503 when its secrets cannot be decrypted (`BRIDGE_SECRET_KEY`).
        """
        try:
            services = self._hub.services(name)
        except SecretKeyError as exc:
            raise Rejection(503, "not_configured", str(exc)) from None
        if services is None:  # removed between the snapshot and now
            raise Rejection(404, "unknown_connection", f"no connection named {name!r}")
        return services

    def _shopify_target(self, environ: WSGIEnvironment) -> Services:
        """The connection of a Shopify delivery, by its shop domain: a registered
        connection's shop, else the environment's (`SHOPIFY_SHOP_DOMAIN`, or learnt from
        its first signed delivery; any shop while it has none).

        Raises:
            Rejection: 404 for a shop no connection serves.
        """
        domain = (_header(environ, SHOP_HEADER) or "").strip().lower()
        snapshot = self._hub.snapshot()
        name = snapshot.by_shop.get(domain) if domain else None
        if name is not None:
            return self._connection(name)
        own = self._hub.env_shop()
        if not domain or not own or domain == own:
            return self._services  # the environment's connection
        raise Rejection(404, "unknown_shop", f"no connection serves the shop {domain}")

    def _stripe_target(self, environ: WSGIEnvironment, body: bytes) -> Services:
        """The connection of a Stripe delivery: its endpoint's, else its event's `account`.

        Raises:
            Rejection: 404 for an unknown endpoint or Connect account.
        """
        path = str(environ.get("PATH_INFO", ""))
        snapshot = self._hub.snapshot()
        if path.startswith(STRIPE_ENDPOINT):
            name = path[len(STRIPE_ENDPOINT) :]
            stored = snapshot.by_name.get(name)
            if name == self._hub.default_name:
                return self._services
            if stored is None or stored.source.value != "stripe":
                raise Rejection(404, "unknown_connection", f"no Stripe connection {name!r}")
            return self._connection(name)
        if snapshot.by_account and b'"account"' in body:
            account = _json_object(body).get("account")
            if isinstance(account, str):
                owner = snapshot.by_account.get(account)
                if owner is None:
                    detail = f"no connection serves the Stripe account {account}"
                    raise Rejection(404, "unknown_account", detail)
                return self._connection(owner)
        return self._services

    def _body(self, environ: WSGIEnvironment, configured: bool, provider: str) -> bytes:
        """The raw body after the checks that need no signature: size, content type, secret."""
        limit = self._settings.webhook_max_body
        length = _declared_length(environ)
        if length is not None and length > limit:
            raise _too_large(environ, limit, length)
        mimetype = str(environ.get("CONTENT_TYPE", "")).partition(";")[0].strip().lower()
        if mimetype != "application/json":
            detail = "Content-Type must be application/json"
            raise Rejection(415, "unsupported_media_type", detail)
        if not configured:
            detail = f"no {provider} webhook secret is configured on this bridge"
            raise Rejection(503, "not_configured", detail)
        return _read_body(environ, length, limit)

    def _shopify(self, environ: WSGIEnvironment) -> tuple[Services, NewEvent]:
        """A Shopify webhook delivery, verified and identified, and its connection."""
        target = self._shopify_target(environ)
        secrets = target.settings.shopify_secrets
        body = self._body(environ, bool(secrets), "Shopify")
        signature = _header(environ, shopify.SIGNATURE_HEADER)
        try:
            shopify.verify(body, signature, secrets)
        except shopify.SignatureError as exc:
            raise Rejection(401, "invalid_signature", str(exc)) from None
        _json_object(body)
        given = {name: _header(environ, name) for name in shopify.KEPT_HEADERS}
        try:
            envelope = shopify.parse_envelope({k: v for k, v in given.items() if v is not None})
            event = NewEvent(
                provider="shopify",
                provider_id=envelope.delivery_id,
                topic=envelope.topic,
                body=body.decode("utf-8"),
                headers={
                    **envelope.headers,
                    shopify.SIGNATURE_HEADER: signature or "",
                    **self._tag(target),
                },
                status=EventStatus.QUEUED
                if envelope.topic in shopify.TOPICS
                else EventStatus.IGNORED,
            )
        except ValueError as exc:  # EnvelopeError, pydantic's ValidationError
            raise Rejection(400, "invalid_delivery", str(exc)) from None
        self._learn(target, environ)
        return target, event

    def _learn(self, target: Services, environ: WSGIEnvironment) -> None:
        """After the environment's first accepted delivery of a shop, keep that shop as its
        own (one Redis call then; a look-up in the cached snapshot after that).

        Raises:
            Rejection: 404 when another shop became the environment's a moment before.
        """
        domain = (_header(environ, SHOP_HEADER) or "").strip().lower()
        if target is self._services and domain:
            kept = self._hub.learn_shop(domain)
            if kept != domain and not self._settings.shopify_shop_domain:
                raise Rejection(404, "unknown_shop", f"no connection serves the shop {domain}")

    def _stripe(self, environ: WSGIEnvironment) -> tuple[Services, NewEvent]:
        """A Stripe webhook delivery, verified and identified, and its connection."""
        body = self._body(environ, True, "Stripe")
        target = self._stripe_target(environ, body)
        settings = target.settings
        if not settings.stripe_secrets:
            detail = "no Stripe webhook secret is configured on this bridge"
            raise Rejection(503, "not_configured", detail)
        header = _header(environ, stripe_webhook.SIGNATURE_HEADER)
        try:
            stripe_webhook.verify(body, header, settings.stripe_secrets, settings.stripe_tolerance)
        except stripe_webhook.SignatureError as exc:
            raise Rejection(401, "invalid_signature", str(exc)) from None
        except stripe_webhook.TimestampError as exc:
            raise Rejection(400, "timestamp_out_of_tolerance", str(exc)) from None
        data = _json_object(body)
        try:
            envelope = stripe_webhook.parse_envelope(data)
            return target, NewEvent(
                provider="stripe",
                provider_id=envelope.id,
                topic=envelope.type,
                body=body.decode("utf-8"),
                headers={stripe_webhook.SIGNATURE_HEADER: header or "", **self._tag(target)},
                status=EventStatus.QUEUED
                if envelope.type in stripe_webhook.TOPICS
                else EventStatus.IGNORED,
            )
        except ValueError as exc:  # EnvelopeError, pydantic's ValidationError
            raise Rejection(400, "invalid_delivery", str(exc)) from None
