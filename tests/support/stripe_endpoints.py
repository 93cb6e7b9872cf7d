"""A fake of Stripe's `POST /v1/webhook_endpoints` on 127.0.0.1, recording each call.

It checks what Stripe checks (Bearer key, form-encoded `url`, `enabled_events[]`, an
optional `api_version`, `description`, `connect`) and answers a `webhook_endpoint` object
in Stripe's documented shape, with its signing secret (returned only at creation).
Unknown parameters are refused with a 400, as Stripe does.

Fixture `fake_stripe_endpoints` yields `(fake, base_url)`.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask, Response, jsonify, request

from tests.support.servers import serve_wsgi

API_KEY = "sk_test_register_webhooks"
KNOWN = {"url", "enabled_events[]", "api_version", "description", "connect", "metadata"}


class FakeStripeEndpoints:
    def __init__(self, api_key: str = API_KEY) -> None:
        self.api_key = api_key
        self.calls: list[dict[str, Any]] = []  # the form of each accepted call
        self.endpoints: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self.app = Flask("fake-stripe-endpoints")
        self.app.post("/v1/webhook_endpoints")(self._create)

    def _error(self, status: int, message: str) -> Response:
        response = jsonify({"error": {"type": "invalid_request_error", "message": message}})
        response.status_code = status
        return response

    def _create(self) -> Response:
        if request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return self._error(401, "Invalid API Key provided")
        form = request.form
        unknown = sorted(set(form) - KNOWN)
        if unknown:
            return self._error(400, f"Received unknown parameter: {unknown[0]}")
        events = form.getlist("enabled_events[]")
        if not form.get("url") or not events:
            return self._error(400, "Missing required param: url or enabled_events")
        endpoint = {
            "id": f"we_{secrets.token_hex(12)}",
            "object": "webhook_endpoint",
            "api_version": form.get("api_version"),
            "application": None,
            "created": int(time.time()),
            "description": form.get("description"),
            "enabled_events": events,
            "livemode": False,
            "metadata": {},
            "secret": f"whsec_{secrets.token_hex(16)}",
            "status": "enabled",
            "url": form["url"],
        }
        with self._lock:
            self.calls.append({"url": form["url"], "enabled_events": events, **{
                k: form[k] for k in ("api_version", "connect", "description") if k in form
            }})  # fmt: skip
            self.endpoints.append(endpoint)
        return jsonify(endpoint)


@pytest.fixture
def fake_stripe_endpoints() -> Iterator[tuple[FakeStripeEndpoints, str]]:
    fake = FakeStripeEndpoints()
    with serve_wsgi(fake.app) as url:
        yield fake, url
