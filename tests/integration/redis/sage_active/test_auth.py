"""Token refresh shared through Redis: once for everyone, rotation kept, refusals clear."""

from __future__ import annotations

import threading
import time
from urllib.parse import parse_qs

import httpx
import pytest
import redis

from connectors.sage_active.auth import TokenManager
from connectors.sage_active.errors import SageAuthError, SageTransientError
from tests.support.sage_fakes import FakeSage, make_config


def test_concurrent_refreshes_happen_once(redis_server: str, redis_client: redis.Redis) -> None:
    grants: list[str] = []
    lock = threading.Lock()

    def token_endpoint(request: httpx.Request) -> httpx.Response:
        with lock:
            grants.append(request.content.decode())
        time.sleep(0.2)  # a slow token endpoint makes the other threads wait on the lock
        return httpx.Response(200, json={"access_token": "shared", "expires_in": 3600})

    results: list[str] = []

    def worker() -> None:
        conn = redis.Redis.from_url(redis_server)
        with httpx.Client(transport=httpx.MockTransport(token_endpoint)) as http:
            results.append(TokenManager(make_config(), conn, http).access_token())
        conn.close()

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert results == ["shared"] * 6
    assert len(grants) == 1


def test_rotated_refresh_token_is_stored_and_used(redis_client: redis.Redis) -> None:
    fake = FakeSage(rotate=True, expires_in=3600)
    with httpx.Client(transport=fake.transport()) as http:
        tokens = TokenManager(make_config(), redis_client, http)
        assert tokens.access_token() == "token-1"
        tokens.invalidate("token-1")
        assert tokens.access_token() == "token-2"
    assert [g["refresh_token"] for g in fake.token_grants] == ["refresh-0", "refresh-1"]
    assert redis_client.get("test:sage:refresh_token") == b"refresh-2"


def test_invalidate_keeps_a_token_a_peer_already_replaced(redis_client: redis.Redis) -> None:
    fake = FakeSage()
    with httpx.Client(transport=fake.transport()) as http:
        tokens = TokenManager(make_config(), redis_client, http)
        tokens.access_token()
        tokens.invalidate("some-older-token")
        assert tokens.access_token() == "token-1"
    assert len(fake.token_grants) == 1


def test_token_expires_from_redis_before_sage_refuses_it(redis_client: redis.Redis) -> None:
    fake = FakeSage(expires_in=28800)
    with httpx.Client(transport=fake.transport()) as http:
        TokenManager(make_config(token_refresh_margin=300), redis_client, http).access_token()
    ttl = redis_client.pttl("test:sage:token")
    assert 28400_000 < ttl <= 28500_000


def test_exchange_code_stores_the_refresh_token(redis_client: redis.Redis) -> None:
    fake = FakeSage(rotate=True)
    with httpx.Client(transport=fake.transport()) as http:
        token = TokenManager(make_config(), redis_client, http).exchange_code("abc", "http://cb")
    assert token == "token-1"
    grant = fake.token_grants[0]
    assert (grant["grant_type"], grant["code"], grant["redirect_uri"]) == (
        "authorization_code",
        "abc",
        "http://cb",
    )
    assert redis_client.get("test:sage:refresh_token") == b"refresh-1"


def test_refused_grant_is_an_auth_error(redis_client: redis.Redis) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        assert "scope" not in parse_qs(request.content.decode())
        return httpx.Response(400, json={"error": "invalid_grant"})

    with (
        httpx.Client(transport=httpx.MockTransport(refuse)) as http,
        pytest.raises(SageAuthError, match="invalid_grant"),
    ):
        TokenManager(make_config(), redis_client, http).access_token()
    assert redis_client.get("test:sage:token") is None


def test_token_endpoint_outage_is_transient(redis_client: redis.Redis) -> None:
    def down(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, headers={"Retry-After": "10"})

    with (
        httpx.Client(transport=httpx.MockTransport(down)) as http,
        pytest.raises(SageTransientError) as info,
    ):
        TokenManager(make_config(), redis_client, http).access_token()
    assert info.value.retry_after == 10.0


def _grants(accept: set[str], seen: list[str]) -> httpx.MockTransport:
    """A token endpoint that accepts only the refresh tokens in `accept` (and rotates)."""

    def endpoint(request: httpx.Request) -> httpx.Response:
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        seen.append(form.get("refresh_token", form.get("code", "")))
        if form.get("grant_type") == "authorization_code" or form["refresh_token"] in accept:
            n = len(seen)
            return httpx.Response(
                200, json={"access_token": f"t{n}", "expires_in": 3600, "refresh_token": f"r{n}"}
            )
        return httpx.Response(400, json={"error": "invalid_grant"})

    return httpx.MockTransport(endpoint)


def test_refused_tokens_mark_needs_login_once_and_stop_asking(redis_client: redis.Redis) -> None:
    seen: list[str] = []
    alerts: list[str] = []
    with httpx.Client(transport=_grants(set(), seen)) as http:
        tokens = TokenManager(make_config(), redis_client, http, on_needs_login=alerts.append)
        for _ in range(5):
            with pytest.raises(SageAuthError) as info:
                tokens.access_token()
            assert info.value.needs_login
    assert seen == ["refresh-0"]  # asked once; then the mark answers at once
    assert len(alerts) == 1
    assert "invalid_grant" in alerts[0]
    mark = tokens.needs_login()
    assert mark is not None
    assert "invalid_grant" in mark.reason


def test_probe_and_sage_login_clear_the_mark(redis_client: redis.Redis) -> None:
    seen: list[str] = []
    accept: set[str] = set()
    alerts: list[str] = []
    with httpx.Client(transport=_grants(accept, seen)) as http:
        tokens = TokenManager(make_config(), redis_client, http, on_needs_login=alerts.append)
        with pytest.raises(SageAuthError):
            tokens.access_token()
        assert tokens.probe() is False  # still refused: no second alert
        accept.add("refresh-0")  # the token works again
        assert tokens.probe() is True
        assert tokens.needs_login() is None
        assert tokens.access_token() == "t3"
        # refused again later; `bridge sage-login` (a code exchange) clears the mark
        accept.clear()
        redis_client.delete("test:sage:token")
        with pytest.raises(SageAuthError):
            tokens.access_token()
        tokens.exchange_code("code-1", "http://cb")
        assert tokens.needs_login() is None
    assert len(alerts) == 2  # one per outage


def test_a_refused_stored_token_is_replaced_by_the_configured_one(
    redis_client: redis.Redis,
) -> None:
    redis_client.set("test:sage:refresh_token", "rotated-then-revoked")
    seen: list[str] = []
    with httpx.Client(transport=_grants({"refresh-0"}, seen)) as http:
        tokens = TokenManager(make_config(), redis_client, http)
        assert tokens.access_token() == "t2"
    assert seen == ["rotated-then-revoked", "refresh-0"]
    assert redis_client.get("test:sage:refresh_token") == b"r2"  # replaced, not retried
    assert tokens.needs_login() is None
