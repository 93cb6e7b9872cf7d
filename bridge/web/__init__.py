"""The bridge's web app: `create_app(settings=None, services=None)`.

Blueprints are listed in `BLUEPRINTS` ("module:attribute"); add yours there, one line. The
provider webhooks (`/webhooks/shopify`, `/webhooks/stripe`) are not a blueprint: they are a
plain WSGI callable in front of Flask, `bridge.web.ingress.WebhookIngress` (why: see there).
Every error is JSON (`{"error", "detail"}`); Redis being unreachable is a 503 wherever it
happens; only a bug reaches the 500 handler, and no client input should.
"""

from __future__ import annotations

import importlib
import logging

import redis
from flask import Flask, Response
from werkzeug.exceptions import HTTPException

from bridge.connections.hub import ServicesHub
from bridge.services import Services, build_services
from bridge.settings import Settings, load_settings
from bridge.web.common import (
    HUB_KEY,
    SERVICES_KEY,
    admin_denial,
    current_services,
    json_error,
    keep_connection_arg,
    require_admin,
    take_connection_arg,
)
from bridge.web.hardening import BridgeRequest, security_headers
from bridge.web.ingress import REDIS_DOWN, WebhookIngress

__all__ = ["admin_denial", "create_app", "current_services", "json_error", "require_admin"]

log = logging.getLogger(__name__)

BLUEPRINTS: list[str] = [
    "bridge.web.health:bp",
    "bridge.web.admin:bp",
    "bridge.web.admin_orders:bp",
    "bridge.web.admin_clearing:bp",
    "bridge.web.subscriptions:bp",
    "bridge.web.console:bp",
    "bridge.web.console_einvoice:bp",
    "bridge.web.admin_einvoice:bp",
    "bridge.web.console_orders:bp",
    "bridge.web.console_report:bp",
    "bridge.connections.admin:bp",
    "bridge.connections.console:bp",
]


def create_app(settings: Settings | None = None, services: Services | None = None) -> Flask:
    """Build the Flask app from `settings` (or the environment) and shared `services`.

    Raises:
        ConfigurationError: a needed setting (e.g. `REDIS_URL`) is missing.
    """
    settings = settings or (services.settings if services else load_settings())
    services = services or build_services(settings)
    app = Flask(__name__)
    app.request_class = BridgeRequest  # deep JSON: a 400, never a RecursionError's 500
    app.after_request(security_headers)  # CSP, X-Frame-Options, nosniff on every answer
    # The admin and console bodies are small: the webhook limit bounds them too (413 above).
    app.config["MAX_CONTENT_LENGTH"] = settings.webhook_max_body
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions[SERVICES_KEY] = services
    for target in BLUEPRINTS:
        module, _, attribute = target.partition(":")
        app.register_blueprint(getattr(importlib.import_module(module), attribute))
    _register_error_handlers(app)
    # The provider webhooks are the hot path: served in front of Flask (see bridge.web.ingress).
    hub = ServicesHub(services)  # every connection's Services (bridge.connections)
    app.extensions[HUB_KEY] = hub
    app.before_request(take_connection_arg)  # `?connection=<name>` on any admin/console URL
    app.url_defaults(keep_connection_arg)  # and the console's links keep it
    app.wsgi_app = WebhookIngress(services, app.wsgi_app, hub)  # type: ignore[method-assign]
    return app


def create_production_app() -> Flask:
    """The app as `bridge web` serves it: settings from the environment, logs, Sentry."""
    from bridge.observability import configure_logging, init_sentry

    settings = load_settings()
    configure_logging(settings)
    init_sentry(settings, "web")
    return create_app(settings)


def _register_error_handlers(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        slug = (exc.name or "error").lower().replace(" ", "_")
        return json_error(exc.code or 500, slug, exc.description)

    @app.errorhandler(redis.RedisError)
    def redis_down(exc: redis.RedisError) -> Response:
        log.warning("Redis unreachable: %s", exc)
        return json_error(503, *REDIS_DOWN, {"Retry-After": "5"})

    @app.errorhandler(Exception)
    def bug(exc: Exception) -> Response:
        log.exception("unhandled error")
        return json_error(500, "internal_error", "an unexpected error occurred; it was logged")
