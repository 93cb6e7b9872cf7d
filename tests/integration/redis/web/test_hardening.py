"""Hostile input to the web app: each finding of the hardening review, and its fix.

CSRF with a session that has no token yet; JSON nested 100,000 deep on the admin endpoints;
a session cookie replayed after logout; `Secure` cookies outside development; the security
headers on every kind of answer.
"""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from bridge.services import Services, build_services
from bridge.settings import Settings
from bridge.web import create_app
from tests.support.web import ADMIN_TOKEN
from tests.support.webhooks import STRIPE_SECRET, stripe_event, stripe_headers

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
DEEP = b"[" * 100_000 + b"]" * 100_000
DEEP_OBJECT = b'{"a":' * 100_000 + b"1" + b"}" * 100_000


def _login(client: FlaskClient) -> None:
    assert client.post("/console/login", data={"token": ADMIN_TOKEN}).status_code == 302


def _csrf(client: FlaskClient) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', client.get("/console/").get_data(True))
    assert match is not None
    return match.group(1)


def test_a_session_without_a_csrf_token_accepts_no_post(client: FlaskClient) -> None:
    _login(client)  # no page shown yet: the session has no CSRF token
    refused = client.post("/console/logout", data={"csrf": ""})
    assert refused.status_code == 400
    assert client.get("/console/").status_code == 200  # still logged in: nothing happened


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/admin/subscriptions"),
        ("PATCH", "/admin/subscriptions/sub_x"),
        ("POST", "/admin/events/replay"),
        ("POST", "/admin/deliveries/recover"),
    ],
)
@pytest.mark.parametrize("body", [DEEP, DEEP_OBJECT], ids=["array", "object"])
def test_json_nested_100000_deep_is_a_400(
    client: FlaskClient, method: str, path: str, body: bytes
) -> None:
    answer = client.open(
        path, method=method, data=body, headers={**AUTH, "Content-Type": "application/json"}
    )
    assert answer.status_code == 400, answer.get_data(True)[:300]
    assert answer.get_json()["error"]


def test_a_cookie_kept_after_logout_opens_nothing(client: FlaskClient) -> None:
    _login(client)
    kept = client.get_cookie("bridge_console")
    assert kept is not None
    assert client.post("/console/logout", data={"csrf": _csrf(client)}).status_code == 302
    client.set_cookie("bridge_console", kept.value)  # the old cookie, replayed
    answer = client.get("/console/")
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith("/console/login")


def _session_cookie(app: Flask, base_url: str) -> str:
    client = app.test_client()
    answer = client.post(
        "/console/login", data={"token": ADMIN_TOKEN}, base_url=base_url
    )  # fmt: skip
    return str(answer.headers["Set-Cookie"])


def test_cookies_are_secure_outside_development(app: Flask, redis_url: str) -> None:
    assert "; Secure" in _session_cookie(app, "https://bridge.example.com")
    assert "; Secure" not in _session_cookie(app, "http://127.0.0.1:8000")  # bridge dev
    forced = build_services(
        Settings(REDIS_URL=redis_url, BRIDGE_ADMIN_TOKEN=ADMIN_TOKEN, BRIDGE_SECURE_COOKIES=True)
    )
    production = build_services(
        Settings(REDIS_URL=redis_url, BRIDGE_ADMIN_TOKEN=ADMIN_TOKEN, BRIDGE_ENV="sandbox")
    )
    try:
        assert "; Secure" in _session_cookie(create_app(services=forced), "http://localhost")
        assert "; Secure" in _session_cookie(create_app(services=production), "http://127.0.0.1")
    finally:
        forced.close()
        production.close()


def test_every_answer_carries_the_security_headers(client: FlaskClient, services: Services) -> None:
    body = stripe_event("evt_headers")
    answers = [
        client.get("/console/login"),
        client.get("/healthz"),
        client.get("/admin/events"),  # 401 JSON
        client.post("/webhooks/stripe", data=body, headers=stripe_headers(body, STRIPE_SECRET)),
    ]
    for answer in answers:
        assert "frame-ancestors 'none'" in answer.headers["Content-Security-Policy"]
        assert "default-src 'none'" in answer.headers["Content-Security-Policy"]
        assert answer.headers["X-Frame-Options"] == "DENY"
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
