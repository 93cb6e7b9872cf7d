"""Logging a connection in to Sage from the console: the OAuth code flow against the sandbox
over HTTP, its refresh token stored under that connection's prefix."""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterator

import httpx
import pytest
import redis
from flask.testing import FlaskClient

from bridge.services import build_services
from bridge.web import create_app
from tests.support.connections import KEY, spec
from tests.support.pipeline import sandbox_settings

TOKEN = "admin-test-token"


@pytest.fixture
def console(redis_url: str, sandbox_url: str) -> Iterator[FlaskClient]:
    settings = sandbox_settings(
        redis_url,
        sandbox_url,
        BRIDGE_CONNECTION="default",
        BRIDGE_SECRET_KEY=KEY,
        BRIDGE_ADMIN_TOKEN=TOKEN,
    )
    services = build_services(settings)
    app = create_app(settings, services)
    app.extensions["bridge.connections"].registry.add(spec("alpha"))
    client = app.test_client()
    assert client.post("/console/login", data={"token": TOKEN}).status_code == 302
    yield client
    services.close()


def _query(url: str) -> dict[str, str]:
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))


def test_a_connection_logs_in_from_the_console(
    console: FlaskClient, sandbox_url: str, redis_client: redis.Redis
) -> None:
    start = console.get("/console/connections/alpha/sage-login")
    assert start.status_code == 302
    authorize = start.headers["Location"]
    assert authorize.startswith(f"{sandbox_url}/connect/authorize?")
    asked = _query(authorize)
    assert asked["redirect_uri"] == "http://localhost/console/connections/sage-callback"

    with httpx.Client() as sage:  # the person logs in at Sage, which redirects back
        back = sage.get(authorize, follow_redirects=False)
    assert back.status_code == 302
    answer = _query(back.headers["Location"])
    assert answer["state"] == asked["state"]

    fresh = console.application.test_client()  # no session: Sage's redirect carries none
    done = fresh.get("/console/connections/sage-callback", query_string=answer)
    assert done.status_code == 302
    assert redis_client.get("bridge:alpha:sage:refresh_token")
    assert not redis_client.get("bridge:default:sage:refresh_token")

    replayed = fresh.get("/console/connections/sage-callback", query_string=answer)
    assert replayed.status_code == 302  # the state is one-time: nothing more happens


def test_a_callback_with_a_state_not_issued_here_changes_nothing(
    console: FlaskClient, redis_client: redis.Redis
) -> None:
    before = set(redis_client.keys("*"))
    answer = console.get("/console/connections/sage-callback?state=forged&code=abc")
    assert answer.status_code == 302
    assert set(redis_client.keys("*")) == before
    assert console.get("/console/connections/nobody/sage-login").status_code == 302
