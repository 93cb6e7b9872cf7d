"""`bridge sage-login` against the sandbox's authorization endpoint, over HTTP.

The sandbox approves at once and redirects with a one-time code, so the "person" here is an
HTTP client following the redirect to the bridge's local listener.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import redis

from bridge.embedded_redis import free_port
from bridge.ops.sage_login import Bind, SageLoginError, exchange, wait_for_code
from bridge.services import sage_config
from bridge.settings import Settings
from connectors.sage_active.client import SageClient

pytestmark = pytest.mark.integration


@pytest.fixture
def settings(redis_url: str, sandbox_url: str) -> Settings:
    return Settings(
        REDIS_URL=redis_url,
        SAGE_API_URL=f"{sandbox_url}/graphql",
        SAGE_AUTH_URL=sandbox_url,
        SAGE_REDIRECT_URI=f"http://127.0.0.1:{free_port()}/callback",
        # Not the sandbox's: only the token obtained by the login can work.
        SAGE_REFRESH_TOKEN="not-a-valid-refresh-token",
    )


def test_login_stores_a_working_refresh_token(settings: Settings, redis_url: str) -> None:
    def person(url: str) -> None:
        assert "scope=RDSA%20WDSA%20offline_access" in url
        answer = httpx.get(url, follow_redirects=True, timeout=10)
        assert answer.status_code == 200
        assert "login done" in answer.text

    code = wait_for_code(settings, 10, person)
    key = exchange(settings, code)

    client = redis.Redis.from_url(redis_url)
    try:
        assert client.get(key)
        with SageClient(sage_config(settings), client) as sage:
            assert sage.organization_id()  # an authenticated GraphQL call succeeded
    finally:
        client.close()


def test_a_redirect_with_another_state_is_refused(settings: Settings) -> None:
    def forger(url: str) -> None:
        answer = httpx.get(f"{settings.sage.redirect_uri}?code=stolen&state=forged", timeout=5)
        assert answer.status_code == 400

    with pytest.raises(SageLoginError, match="no answer"):
        wait_for_code(settings, 0.5, forger)


def test_a_reused_code_is_refused(settings: Settings) -> None:
    code = wait_for_code(settings, 10, lambda url: httpx.get(url, follow_redirects=True))
    exchange(settings, code)
    with pytest.raises(SageLoginError, match="refused the authorization code"):
        exchange(settings, code)


def test_a_listener_bound_with_host_and_port_takes_a_redirect_uri_of_another_host(
    settings: Settings,
) -> None:
    """On a server: the redirect URI names the server (reached through a proxy or a tunnel),
    the listener binds `--host`/`--port`; without them such a URI is refused."""
    port = free_port()
    remote = settings.model_copy(
        update={"sage_redirect_uri": "https://bridge.example.test/sage-callback"}
    )
    with pytest.raises(SageLoginError, match="--host/--port"):
        wait_for_code(remote, 0.5, lambda url: None)

    def proxy(url: str) -> None:  # what the proxy in front of the listener forwards
        state = parse_qs(urlsplit(url).query)["state"][0]
        answer = httpx.get(f"http://127.0.0.1:{port}/sage-callback?code=c0de&state={state}")
        assert answer.status_code == 200

    assert wait_for_code(remote, 10, proxy, Bind("127.0.0.1", port)) == "c0de"
